#include "http_transport.h"

#include "cancel.h"
#include "mdb_defaults.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_transport {
  CURL *curl;
  http_config cfg;
  http_response *cur;       /* response being filled by the callbacks */
  char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
  http_transport *t = ud;
  http_response *r = t->cur;
  size_t add = size * n;
  if (add > t->cfg.max_body - r->len) {
    r->over_limit = 1;
    return 0;                        /* makes libcurl abort: CURLE_WRITE_ERROR */
  }
  if (r->len + add + 1 > r->cap) {
    size_t cap = r->cap ? r->cap : 16384;
    while (cap < r->len + add + 1)
      cap *= 2;
    char *b = realloc(r->body, cap);
    if (b == NULL)
      return 0;
    r->body = b;
    r->cap = cap;
  }
  memcpy(r->body + r->len, data, add);
  r->len += add;
  r->body[r->len] = '\0';
  return add;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  (void)ud; (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
  return cancel_requested();
}

http_transport *http_transport_new(const http_config *cfg)
{
  http_transport *t = calloc(1, sizeof *t);
  if (t == NULL)
    return NULL;
  t->cfg = *cfg;
  t->curl = curl_easy_init();
  if (t->curl == NULL) {
    free(t);
    return NULL;
  }
  CURL *c = t->curl;
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);   /* no SIGALRM in a library */
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  /* never carry the token elsewhere */
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "mdblua/" MDB_VERSION);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  return t;
}

void http_transport_free(http_transport *t)
{
  if (t == NULL)
    return;
  curl_easy_cleanup(t->curl);
  free(t);
}

void http_response_free(http_response *r)
{
  free(r->body);
  r->body = NULL;
  r->len = r->cap = 0;
}

/* Overwrite a secret so it does not linger in freed heap memory. */
static void wipe(char *s, size_t n)
{
  volatile char *p = s;
  while (n--)
    *p++ = 0;
}

int http_transport_get(http_transport *t, const char *url,
                       const char *bearer, http_response *r)
{
  r->curl_code = 0;
  r->status = 0;
  r->len = 0;
  if (r->body)
    r->body[0] = '\0';
  r->request_id[0] = '\0';
  r->retry_after_s = 0;
  r->over_limit = 0;
  r->cancelled = 0;
  r->error[0] = '\0';
  t->errbuf[0] = '\0';
  t->cur = r;

  struct curl_slist *headers = NULL;
  char *auth = NULL;
  size_t auth_len = 0;
  if (bearer != NULL) {
    auth_len = strlen(bearer) + sizeof "Authorization: Bearer ";
    auth = malloc(auth_len);
    if (auth == NULL) {
      r->curl_code = CURLE_OUT_OF_MEMORY;
      snprintf(r->error, sizeof r->error, "out of memory");
      return r->curl_code;
    }
    snprintf(auth, auth_len, "Authorization: Bearer %s", bearer);
    headers = curl_slist_append(headers, auth);
  }
  headers = curl_slist_append(headers, "Accept: application/json");
  curl_easy_setopt(t->curl, CURLOPT_URL, url);
  curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(t->curl);
  curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
  /* The list and the string are ours: wipe the token before freeing. */
  for (struct curl_slist *h = headers; h; h = h->next)
    wipe(h->data, strlen(h->data));
  curl_slist_free_all(headers);
  if (auth) {
    wipe(auth, auth_len);
    free(auth);
  }

  r->curl_code = rc;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &r->status);
  struct curl_header *h;
  if (curl_easy_header(t->curl, "x-request-id", 0, CURLH_HEADER, -1, &h)
      == CURLHE_OK)
    snprintf(r->request_id, sizeof r->request_id, "%s", h->value);
  curl_off_t ra = 0;
  if (curl_easy_getinfo(t->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
      ra > 0)
    r->retry_after_s = ra > 86400 * 365 ? 86400 * 365 : (long)ra;
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    r->cancelled = 1;
  if (rc == CURLE_FILESIZE_EXCEEDED)
    r->over_limit = 1;
  if (rc != CURLE_OK)
    snprintf(r->error, sizeof r->error, "%s",
             t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
  t->cur = NULL;
  return rc;
}
