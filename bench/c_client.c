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
**   c_client fleet-hold BASE TOKEN PREFIX FOLDER PAGE_SIZE CONCURRENCY
**       fleet listing backups, under the streaming contract of
**       client:scan{each=}: a cluster's backups are handed over together,
**       all live at once.  A cluster's pages are held undecoded (the
**       transfer's buffer is taken over, not copied) and the next one is
**       asked for on the nextPageToken read from the raw text; when its
**       last page is in, the transfer moves on to the next cluster, and
**       once the finished transfers' next requests are on the wire, all
**       of the cluster's pages are decoded into ONE Lua table of its
**       backups, which is dropped (one cluster at a time, the transfers
**       seen to between; a transfer starts no cluster while an earlier
**       complete one of its own waits).  Prints the number of backups.
*/
#define _GNU_SOURCE /* memmem */
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

/* A page of a running listing held undecoded (fleet-hold), with the
** nextPageToken read from its text. */
typedef struct held {
  buf b;
  char tok[256];
} held;

typedef struct xfer {
  CURL *c;
  buf b;
  char path[256];
  char tok[256];
  long cluster; /* index in ids */
  int list;     /* index in lists */
  held *held;   /* fleet-hold: the cluster's pages so far, in order */
  int nheld, capheld;
  int waiting; /* fleet-hold: its complete clusters not yet decoded */
  int stalled; /* fleet-hold: waits for one of those to start the next */
} xfer;

/* fleet-hold: response buffers no longer held, kept for the next pages so
** that a transfer does not grow a new one from nothing. */
static buf *pool;
static int npool, cappool;

static buf pool_take(void)
{
  return npool > 0 ? pool[--npool] : (buf){0};
}

static void pool_put(buf b)
{
  if (npool == cappool) {
    cappool = cappool ? cappool * 2 : 64;
    pool = realloc(pool, (size_t)cappool * sizeof *pool);
    if (pool == NULL)
      fprintf(stderr, "out of memory\n"), exit(1);
  }
  b.len = 0;
  pool[npool++] = b;
}

/* The nextPageToken of a raw page, without decoding it: the text after the
** last "nextPageToken":" up to the next quote ("" when there is none).  A
** baseline's shortcut, not a JSON parser (a backup's string holding that
** text would fool it; escapes are not undone): each held page's decoded
** token is checked against it.  The member follows the items in this
** API's pages, so the tail is searched first; a page without it (the
** last) is searched whole, by memmem. */
static void peek_token(const buf *b, char *tok, size_t toklen)
{
  static const char key[] = "\"nextPageToken\":\"";
  const size_t klen = sizeof key - 1;
  const char *k = NULL, *end = b->p + b->len;
  *tok = '\0';
  if (b->len < klen)
    return;
  size_t from = b->len > 4096 ? b->len - 4096 : 0;
  for (const char *p = b->p + from;
       (p = memmem(p, (size_t)(end - p), key, klen)) != NULL; p++)
    k = p;
  if (k == NULL && from > 0)
    k = memmem(b->p, b->len, key, klen);
  if (k == NULL)
    return;
  const char *v = k + klen, *q = memchr(v, '"', (size_t)(end - v));
  if (q == NULL || (size_t)(q - v) >= toklen)
    fprintf(stderr, "nextPageToken unreadable\n"), exit(1);
  memcpy(tok, v, (size_t)(q - v));
  tok[q - v] = '\0';
}

/* Hold t's finished page: its buffer goes to t->held with the token read
** from it (also into t->tok, for the next request); t gets a spare one. */
static void hold_page(xfer *t)
{
  if (t->nheld == t->capheld) {
    t->capheld = t->capheld ? t->capheld * 2 : 4;
    t->held = realloc(t->held, (size_t)t->capheld * sizeof *t->held);
    if (t->held == NULL)
      fprintf(stderr, "out of memory\n"), exit(1);
  }
  held *h = &t->held[t->nheld++];
  h->b = t->b;
  peek_token(&h->b, h->tok, sizeof h->tok);
  memcpy(t->tok, h->tok, sizeof t->tok);
  t->b = pool_take();
}

/* fleet-hold: clusters whose last page is in, their pages waiting to be
** decoded (oldest first), while their transfers go on with other ones. */
typedef struct complete {
  held *pages;
  int n;
  long cluster; /* index in ids */
  xfer *owner;
} complete;

static complete *cq;
static int cq_head, cq_n, cq_cap;

/* t's cluster is complete: its held pages join the queue.  Returns how
** many of t's complete clusters wait now. */
static int queue_cluster(xfer *t)
{
  if (cq_n == cq_cap && cq_head > 0) { /* the decoded ones make room */
    memmove(cq, cq + cq_head, (size_t)(cq_n - cq_head) * sizeof *cq);
    cq_n -= cq_head;
    cq_head = 0;
  }
  if (cq_n == cq_cap) {
    cq_cap = cq_cap ? cq_cap * 2 : 16;
    cq = realloc(cq, (size_t)cq_cap * sizeof *cq);
    if (cq == NULL)
      fprintf(stderr, "out of memory\n"), exit(1);
  }
  cq[cq_n++] = (complete){t->held, t->nheld, t->cluster, t};
  t->held = NULL;
  t->nheld = t->capheld = 0;
  return ++t->waiting;
}

/* Decode the oldest complete cluster's pages in order, appending their
** items to one table of the cluster's backups, all live at once; check
** each decoded token against the one read from the text, drop the table,
** give the buffers back.  Returns the number of backups. */
static long decode_cluster(char **ids, const char *field, long size)
{
  complete *c = &cq[cq_head++];
  c->owner->waiting--;
  long n = 0;
  /* the cluster's backups; pages of `size` items but the last */
  lua_createtable(L, (int)(c->n * size), 0);
  for (int i = 0; i < c->n; i++) {
    held *h = &c->pages[i];
    lua_getglobal(L, "decode");
    lua_pushlstring(L, h->b.p, h->b.len);
    lua_call(L, 1, 1);
    lua_getfield(L, -1, field);
    if (lua_istable(L, -1)) {
      long k = (long)lua_rawlen(L, -1);
      for (long j = 1; j <= k; j++) {
        lua_rawgeti(L, -1, j);
        lua_rawseti(L, -4, ++n);
      }
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "nextPageToken");
    const char *tok = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
    if (strcmp(tok, h->tok) != 0) {
      fprintf(stderr, "%s, page %d: nextPageToken \"%s\", read as \"%s\"\n",
              ids[c->cluster], i + 1, tok, h->tok);
      exit(1);
    }
    lua_pop(L, 2);
    pool_put(h->b);
  }
  lua_pop(L, 1); /* dropped */
  free(c->pages);
  return n;
}

/* The items field of a listing's pages: "retention_policies" pages hold
** "policies". */
static const char *items_field(const char *list)
{
  return strcmp(list, "retention_policies") == 0 ? "policies" : list;
}

/* What the multi loop of fleet needs to start a transfer's next request. */
typedef struct fleet_run {
  CURLM *m;
  const char *base, *prefix;
  long size;
  char **ids, **lists;
  long nclusters, next; /* clusters, the next to start */
  int nlists;
} fleet_run;

/* Put t's next request on the multi handle: its listing's next page (the
** token in t->tok), else its cluster's next listing, else the next
** cluster's first.  0 when there is nothing left for t to do. */
static int start_next(fleet_run *f, xfer *t)
{
  char url[1024];
  if (!*t->tok) {
    if (t->list + 1 < f->nlists) {
      t->list++;
    } else if (f->next < f->nclusters) {
      t->list = 0;
      t->cluster = f->next++;
    } else {
      return 0;
    }
    snprintf(t->path, sizeof t->path, "%s/clusters/%s/%s", f->prefix,
             f->ids[t->cluster], f->lists[t->list]);
  }
  page_url(url, sizeof url, f->base, t->path, f->size, t->tok);
  curl_easy_setopt(t->c, CURLOPT_URL, url);
  curl_multi_add_handle(f->m, t->c);
  return 1;
}

/* hold: fleet-hold (spec must be "backups"). */
static int fleet(const char *base, const char *token, const char *prefix,
                 const char *folder, long size, int conc, const char *spec,
                 int hold)
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
  fleet_run f = {m, base, prefix, size, ids, lists, nclusters, next, nlists};
  for (;;) {
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      xfer *t;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
      if (msg->data.result != CURLE_OK)
        return fprintf(stderr, "request failed: %s\n",
                       curl_easy_strerror(msg->data.result)),
               1;
      curl_multi_remove_handle(m, t->c);
      if (hold) { /* no decoding here: the next request goes out first */
        hold_page(t);
        /* t goes on to its next cluster before this one is decoded, but
        ** not while an earlier one of its own still waits: the raw text
        ** held stays bounded when decoding falls behind the network */
        if (!*t->tok && queue_cluster(t) > 1) {
          t->stalled = 1;
          continue;
        }
      } else {
        long n = decode(&t->b, items_field(lists[t->list]), t->tok,
                        sizeof t->tok);
        if (strcmp(lists[t->list], "backups") == 0)
          total += n;
        t->b.len = 0;
      }
      if (start_next(&f, t))
        running++;
    }
    if (cq_head < cq_n) {
      /* hold: put the requests just added on the wire, then decode one
      ** complete cluster, then see to the transfers again */
      curl_multi_perform(m, &running);
      xfer *o = cq[cq_head].owner;
      total += decode_cluster(ids, items_field(lists[0]), size);
      if (o->stalled) {
        o->stalled = 0;
        if (start_next(&f, o))
          running++;
      }
      continue;
    }
    if (!running)
      break;
    curl_multi_poll(m, NULL, 0, 100, NULL);
  }
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
                 atoi(argv[7]), argc == 9 ? argv[8] : "backups", 0);
  if (argc == 8 && strcmp(argv[1], "fleet-hold") == 0)
    return fleet(argv[2], argv[3], argv[4], argv[5], atol(argv[6]),
                 atoi(argv[7]), "backups", 1);
  fprintf(stderr, "usage: c_client single BASE TOKEN PATH PAGE_SIZE\n"
                  "       c_client fleet BASE TOKEN PREFIX FOLDER PAGE_SIZE "
                  "CONCURRENCY [LISTS]\n"
                  "       c_client fleet-hold BASE TOKEN PREFIX FOLDER "
                  "PAGE_SIZE CONCURRENCY\n");
  return 2;
}
