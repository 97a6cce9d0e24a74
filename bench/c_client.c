/*
** The plain-C baselines of the benchmark: what a careful C program does
** with libcurl and lua-cjson and nothing else, to compare mdblua with.
**
**   c_client single BASE TOKEN PATH PAGE_SIZE
**       one reused easy handle, pages one after another, each decoded
**       with lua-cjson; prints the number of items.
**   c_client bare BASE TOKEN PATH PAGE_SIZE N
**       the median time of N requests for the first page, not decoded.
**   c_client fleet BASE TOKEN PREFIX FOLDER PAGE_SIZE CONCURRENCY [LISTS]
**       Cluster.List of FOLDER (every page), then every cluster's backups
**       with up to CONCURRENCY transfers on one multi handle; prints the
**       number of backups.  LISTS (default "backups"), e.g.
**       "backups,retention_policies,operations": the listings of each
**       cluster, one after another in its transfer slot, as
**       client:scan{with=...} lists them; "folder_policies" lists the
**       folder's retention policies once (ListByFolder), page after page,
**       before the clusters' listings.
*/
#include <curl/curl.h>
#include <lauxlib.h>
#include <lua-cjson.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

static size_t on_body(char *d, size_t s, size_t n, void *ud)
{
  buf *b = ud;
  size_t add = s * n;
  if (b->len + add + 1 > b->cap) {
    b->cap = (b->len + add + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (b->p == NULL)
      return 0;
  }
  memcpy(b->p + b->len, d, add);
  b->len += add;
  b->p[b->len] = '\0';
  return add;
}

static lua_State *L;

/* Decode `b` with cjson; returns the item count of `field`, copies the
** next token into `tok` ("" at the end). */
static long decode(const buf *b, const char *field, char *tok, size_t toklen)
{
  lua_getglobal(L, "decode");
  lua_pushlstring(L, b->p, b->len);
  lua_call(L, 1, 1);
  lua_getfield(L, -1, field);
  long n = lua_istable(L, -1) ? (long)lua_rawlen(L, -1) : 0;
  lua_pop(L, 1);
  lua_getfield(L, -1, "nextPageToken");
  snprintf(tok, toklen, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
  lua_pop(L, 2);
  return n;
}

static struct curl_slist *auth_header(const char *token)
{
  char h[512];
  snprintf(h, sizeof h, "Authorization: Bearer %s", token);
  return curl_slist_append(NULL, h);
}

static void page_url(char *url, size_t n, const char *base, const char *path,
                     long size, const char *tok)
{
  snprintf(url, n, "%s%s%spageSize=%ld%s%s", base, path,
           strchr(path, '?') ? "&" : "?", size, *tok ? "&pageToken=" : "", tok);
}

static int single(const char *base, const char *token, const char *path,
                  long size)
{
  CURL *c = curl_easy_init();
  struct curl_slist *h = auth_header(token);
  buf b = {0};
  char tok[256] = "", url[1024];
  long total = 0;
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  do {
    page_url(url, sizeof url, base, path, size, tok);
    curl_easy_setopt(c, CURLOPT_URL, url);
    b.len = 0;
    if (curl_easy_perform(c) != CURLE_OK)
      return fprintf(stderr, "request failed: %s\n", url), 1;
    total += decode(&b, "backups", tok, sizeof tok);
  } while (*tok);
  printf("%ld\n", total);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(b.p);
  return 0;
}

typedef struct xfer {
  CURL *c;
  buf b;
  char path[256];
  char tok[256];
  long cluster; /* index in ids */
  int list;     /* index in lists */
} xfer;

/* The items field of a listing's pages: "retention_policies" pages hold
** "policies". */
static const char *items_field(const char *list)
{
  return strcmp(list, "retention_policies") == 0 ? "policies" : list;
}

static int fleet(const char *base, const char *token, const char *prefix,
                 const char *folder, long size, int conc, const char *spec)
{
  char *lists[8];
  int nlists = 0, by_folder = 0;
  char *specs = strdup(spec);
  for (char *p = strtok(specs, ","); p && nlists < 8; p = strtok(NULL, ","))
    if (strcmp(p, "folder_policies") == 0)
      by_folder = 1;
    else
      lists[nlists++] = p;
  char path[512], tok[256] = "", url[1024];
  struct curl_slist *h = auth_header(token);
  if (by_folder) {
    CURL *fc = curl_easy_init();
    buf fb = {0};
    curl_easy_setopt(fc, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(fc, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(fc, CURLOPT_WRITEDATA, &fb);
    snprintf(path, sizeof path, "%s/folders/%s/retention_policies", prefix,
             folder);
    do {
      page_url(url, sizeof url, base, path, size, tok);
      curl_easy_setopt(fc, CURLOPT_URL, url);
      fb.len = 0;
      if (curl_easy_perform(fc) != CURLE_OK)
        return fprintf(stderr, "folder policies failed\n"), 1;
      decode(&fb, "policies", tok, sizeof tok);
    } while (*tok);
    curl_easy_cleanup(fc);
    free(fb.p);
  }
  /* Cluster.List, page after page */
  snprintf(path, sizeof path, "%s/clusters?folderId=%s", prefix, folder);
  CURL *c = curl_easy_init();
  buf b = {0};
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  long nclusters = 0, cap = 0;
  char **ids = NULL;
  do {
    page_url(url, sizeof url, base, path, 1000, tok);
    curl_easy_setopt(c, CURLOPT_URL, url);
    b.len = 0;
    if (curl_easy_perform(c) != CURLE_OK)
      return fprintf(stderr, "cluster list failed\n"), 1;
    lua_getglobal(L, "decode");
    lua_pushlstring(L, b.p, b.len);
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "clusters");
    long n = lua_istable(L, -1) ? (long)lua_rawlen(L, -1) : 0;
    if (nclusters + n > cap) {
      cap = (nclusters + n) * 2;
      ids = realloc(ids, (size_t)cap * sizeof *ids);
    }
    for (long i = 0; i < n; i++) {
      lua_rawgeti(L, -1, i + 1);
      lua_getfield(L, -1, "id");
      ids[nclusters++] = strdup(lua_tostring(L, -1));
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "nextPageToken");
    snprintf(tok, sizeof tok, "%s",
             lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 2);
  } while (*tok);
  curl_easy_cleanup(c);
  free(b.p);

  CURLM *m = curl_multi_init();
  xfer *x = calloc((size_t)conc, sizeof *x);
  long next = 0, total = 0;
  int running = 0;
  for (int i = 0; i < conc && next < nclusters; i++, next++) {
    x[i].c = curl_easy_init();
    x[i].cluster = next;
    snprintf(x[i].path, sizeof x[i].path, "%s/clusters/%s/%s", prefix,
             ids[next], lists[0]);
    page_url(url, sizeof url, base, x[i].path, size, "");
    curl_easy_setopt(x[i].c, CURLOPT_URL, url);
    curl_easy_setopt(x[i].c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(x[i].c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x[i].c, CURLOPT_WRITEDATA, &x[i].b);
    curl_easy_setopt(x[i].c, CURLOPT_PRIVATE, &x[i]);
    curl_multi_add_handle(m, x[i].c);
  }
  do {
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
      xfer *t;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
      curl_multi_remove_handle(m, t->c);
      long n = decode(&t->b, items_field(lists[t->list]), t->tok,
                      sizeof t->tok);
      if (strcmp(lists[t->list], "backups") == 0)
        total += n;
      t->b.len = 0;
      if (!*t->tok) {
        if (t->list + 1 < nlists) {
          t->list++;
        } else if (next < nclusters) {
          t->list = 0;
          t->cluster = next++;
        } else {
          continue;
        }
        snprintf(t->path, sizeof t->path, "%s/clusters/%s/%s", prefix,
                 ids[t->cluster], lists[t->list]);
      }
      page_url(url, sizeof url, base, t->path, size, t->tok);
      curl_easy_setopt(t->c, CURLOPT_URL, url);
      curl_multi_add_handle(m, t->c);
      running++;
    }
    if (running)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  } while (running);
  printf("%ld\n", total);
  return 0;
}

/* Median seconds of N requests for the same page (no decoding). */
static int bare(const char *base, const char *token, const char *path,
                long size, int n)
{
  CURL *c = curl_easy_init();
  struct curl_slist *h = auth_header(token);
  buf b = {0};
  char url[1024];
  double *t = calloc((size_t)n, sizeof *t);
  page_url(url, sizeof url, base, path, size, "");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  for (int i = 0; i < n; i++) {
    b.len = 0;
    if (curl_easy_perform(c) != CURLE_OK)
      return fprintf(stderr, "request failed\n"), 1;
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &t[i]);
  }
  for (int i = 1; i < n; i++) /* insertion sort: n is small */
    for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  printf("%.6f\n", t[n / 2]);
  return 0;
}

int main(int argc, char **argv)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
  L = luaL_newstate();
  luaL_openlibs(L);
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  lua_getfield(L, -1, "decode");
  lua_setglobal(L, "decode");
  lua_pop(L, 1);
  if (argc == 6 && strcmp(argv[1], "single") == 0)
    return single(argv[2], argv[3], argv[4], atol(argv[5]));
  if (argc == 7 && strcmp(argv[1], "bare") == 0)
    return bare(argv[2], argv[3], argv[4], atol(argv[5]), atoi(argv[6]));
  if ((argc == 8 || argc == 9) && strcmp(argv[1], "fleet") == 0)
    return fleet(argv[2], argv[3], argv[4], argv[5], atol(argv[6]),
                 atoi(argv[7]), argc == 9 ? argv[8] : "backups");
  fprintf(stderr, "usage: c_client single BASE TOKEN PATH PAGE_SIZE\n"
                  "       c_client fleet BASE TOKEN PREFIX FOLDER PAGE_SIZE "
                  "CONCURRENCY [LISTS]\n");
  return 2;
}
