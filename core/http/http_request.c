#include "http/http_request.h"

#include "http/cancel.h"
#include "text/secret_text.h"
#include "mdb_defaults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
** The body grows by doubling, but never past the cap plus its NUL: a body
** that runs over the cap is refused as it arrives, so refusing an endless
** chunked body costs the cap at most, never twice it.
*/
static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
  http_request *req = ud;
  http_response *r = req->resp;
  size_t add = size * n;
  if (add > req->cfg.max_body - r->len) {
    r->over_limit = 1;
    return 0; /* makes libcurl abort: CURLE_WRITE_ERROR */
  }
  size_t want = r->len + add + 1; /* at most max_body + 1 */
  if (want > r->cap) {
    size_t cap = r->cap ? r->cap : 16384;
    while (cap < want)
      cap *= 2;
    if (cap > req->cfg.max_body + 1)
      cap = req->cfg.max_body + 1;
    char *b = realloc(r->body, cap);
    if (b == NULL) {
      req->body_oom = 1; /* reported as CURLE_OUT_OF_MEMORY */
      return 0;
    }
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
  (void)ud;
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  return cancel_requested();
}

int http_request_init(http_request *r, const http_config *cfg, void *private)
{
  memset(r, 0, sizeof *r);
  r->cfg = *cfg;
  r->curl = curl_easy_init();
  if (r->curl == NULL)
    return -1;
  CURL *c = r->curl;
  curl_easy_setopt(c, CURLOPT_PRIVATE, private);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in a library */
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  /* Never libcurl: fetch_engine.c follows same-origin redirects itself,
  ** so the token can never go to another host. */
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "mdblua/" MDB_VERSION);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (cfg->ca_file)
    curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
  if (cfg->no_proxy)
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* "" = never a proxy */
  if (cfg->share)
    curl_easy_setopt(c, CURLOPT_SHARE, cfg->share);
  return 0;
}

/* Overwrite a secret so it does not linger in freed heap memory. */
static void wipe(char *s, size_t n)
{
  secret_wipe(s, n);
}

static void free_headers(http_request *r)
{
  for (struct curl_slist *h = r->headers; h; h = h->next)
    wipe(h->data, strlen(h->data));
  curl_slist_free_all(r->headers);
  r->headers = NULL;
}

void http_request_cleanup(http_request *r)
{
  free_headers(r);
  if (r->curl)
    curl_easy_cleanup(r->curl);
  r->curl = NULL;
}

int http_request_prepare(http_request *r, const char *url, const char *bearer,
                         http_response *resp)
{
  http_call call = {.url = url, .bearer = bearer};
  return http_request_prepare_call(r, &call, resp);
}

static int add_header(http_request *r, const char *line)
{
  struct curl_slist *h = curl_slist_append(r->headers, line);
  if (h == NULL)
    return -1;
  r->headers = h;
  return 0;
}

int http_request_prepare_call(http_request *r, const http_call *call,
                              http_response *resp)
{
  const char *url = call->url;
  const char *bearer = call->bearer;
  resp->curl_code = 0;
  resp->status = 0;
  resp->len = 0;
  if (resp->body)
    resp->body[0] = '\0';
  resp->request_id[0] = '\0';
  resp->retry_after_s = 0;
  resp->over_limit = 0;
  resp->cancelled = 0;
  resp->error[0] = '\0';
  r->resp = resp;
  r->errbuf[0] = '\0';
  r->body_oom = 0;
  free_headers(r);
  if (bearer != NULL) {
    size_t n = strlen(bearer) + sizeof "Authorization: Bearer ";
    char *auth = malloc(n);
    if (auth == NULL)
      return -1;
    snprintf(auth, n, "Authorization: Bearer %s", bearer);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    wipe(auth, n);
    free(auth);
    if (h == NULL)
      return -1;
    r->headers = h;
  }
  if (add_header(r, "Accept: application/json") != 0)
    return -1;
  if (call->header && add_header(r, call->header) != 0)
    return -1;
  if (call->body) {
    if (add_header(r, "Content-Type: application/json") != 0)
      return -1;
    /* Not COPYPOSTFIELDS: libcurl's copy of a JWT would not be wiped. */
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)call->body_len);
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, call->body);
  } else {
    curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(r->curl, CURLOPT_URL, url);
  curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
  /* A silent server may get a progress callback only once a second: a
  ** deadline nearer than the request's own timeout ends it right there. */
  curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS,
                   cancel_cap_ms(r->cfg.timeout_ms));
  return 0;
}

void http_request_perform(http_request *r)
{
  http_request_complete(r, curl_easy_perform(r->curl));
}

/* A certificate that does not check out deserves more than libcurl's
** terse line: say what to do about it. */
static int is_tls_verify_error(CURLcode rc)
{
  return rc == CURLE_PEER_FAILED_VERIFICATION ||
         rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
         rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

void http_request_complete(http_request *r, CURLcode rc)
{
  http_response *resp = r->resp;
  /* libcurl saw only a write callback refusing the data. */
  if (rc == CURLE_WRITE_ERROR && r->body_oom)
    rc = CURLE_OUT_OF_MEMORY;
  free_headers(r); /* the token is not needed past the transfer */
  curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, NULL);
  resp->curl_code = rc;
  curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &resp->status);
  struct curl_header *h;
  if (curl_easy_header(r->curl, "x-request-id", 0, CURLH_HEADER, -1, &h) ==
      CURLHE_OK)
    snprintf(resp->request_id, sizeof resp->request_id, "%s", h->value);
  curl_off_t ra = 0;
  if (curl_easy_getinfo(r->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
      ra > 0)
    resp->retry_after_s = ra > 86400 * 365 ? 86400 * 365 : (long)ra;
  /* A timeout at the deadline (the cap above) is a cancellation, not a
  ** timeout to retry (whose, the deadline's or a Ctrl-C's meanwhile,
  ** cancel_by_deadline() tells). */
  if (rc == CURLE_ABORTED_BY_CALLBACK ||
      (rc == CURLE_OPERATION_TIMEDOUT && cancel_deadline_passed()))
    resp->cancelled = 1;
  if (rc == CURLE_FILESIZE_EXCEEDED)
    resp->over_limit = 1;
  if (resp->over_limit || r->body_oom) {
    /* A refused body is cut at an arbitrary byte, of no use to anyone:
    ** free it now rather than let a reader decode up to the cap. */
    http_response_free(resp);
  }
  const char *what = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
  if (resp->over_limit)
    snprintf(resp->error, sizeof resp->error,
             "response body larger than "
             "the size cap of %zu bytes%s%s",
             r->cfg.max_body, r->cfg.max_body_option ? "; raise it with " : "",
             r->cfg.max_body_option ? r->cfg.max_body_option : "");
  else if (rc == CURLE_OUT_OF_MEMORY)
    snprintf(resp->error, sizeof resp->error, "out of memory");
  else if (rc == CURLE_SSL_CACERT_BADFILE)
    snprintf(resp->error, sizeof resp->error,
             "TLS: cannot use the CA "
             "file: %.150s (check ca_file= or SSL_CERT_FILE)",
             what);
  else if (is_tls_verify_error(rc))
    snprintf(resp->error, sizeof resp->error,
             "TLS certificate check "
             "failed: %.120s (is the host name right? is ca_file= or "
             "SSL_CERT_FILE the CA that signed it?)",
             what);
  else if (rc != CURLE_OK)
    snprintf(resp->error, sizeof resp->error, "%s", what);
  /* A POST body (JWT, OAuth token) is the caller's to wipe; forget it. */
  curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, NULL);
}

void http_response_free(http_response *resp)
{
  free(resp->body);
  resp->body = NULL;
  resp->len = resp->cap = 0;
}
