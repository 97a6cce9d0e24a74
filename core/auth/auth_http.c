#include "auth/auth_http.h"

#include "http/cancel.h"
#include "http/monotonic_clock.h"
#include "text/secret_text.h"
#include "text/json_member.h"
#include "http/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUTH_TIMEOUT_MS     15000L
#define AUTH_CONNECT_MS     5000L
#define AUTH_MAX_BODY       (64L * 1024)
#define AUTH_RETRIES        2
#define AUTH_BACKOFF_MS     250L
#define AUTH_BACKOFF_MAX_MS 2000L

void auth_http_defaults(auth_http *a, const char *ca_file,
                        const struct mdb_trace *trace)
{
  memset(a, 0, sizeof *a);
  a->http.timeout_ms = AUTH_TIMEOUT_MS;
  a->http.connect_timeout_ms = AUTH_CONNECT_MS;
  a->http.max_body = AUTH_MAX_BODY;
  a->http.ca_file = ca_file;
  a->http.trace = trace;
  a->retries = AUTH_RETRIES;
  a->backoff.base_ms = AUTH_BACKOFF_MS;
  a->backoff.max_ms = AUTH_BACKOFF_MAX_MS;
}

static void scrubbed(char *err, size_t errlen, const char *const *secrets,
                     const char *text)
{
  char *clean = secret_scrub(text, secrets);
  snprintf(err, errlen, "%s", clean ? clean : "(message dropped)");
  free(clean);
}

/* What a failed answer says: the google.rpc.Status message when there is
** one, else the start of the body when it is short text. */
static void describe(const http_response *r, const char *what, const char *url,
                     const char *const *secrets, char *err, size_t errlen)
{
  char text[600];
  if (r->cancelled) {
    snprintf(err, errlen, "interrupted");
    return;
  }
  if (r->curl_code != 0 && r->status == 0) {
    snprintf(text, sizeof text, "%s (%s) could not be reached: %s", what, url,
             r->error);
    scrubbed(err, errlen, secrets, text);
    return;
  }
  char *msg = NULL;
  if (r->body && json_member_string(r->body, r->len, "message", &msg) != 1) {
    free(msg);
    msg = NULL;
  }
  /* Scrubbed before it is cut below: a secret cut in two would match
  ** neither itself nor a pattern. */
  char *clean = msg ? secret_scrub(msg, secrets) : NULL;
  secret_free(msg);
  msg = clean;
  char rid[160] = "";
  if (r->request_id[0])
    snprintf(rid, sizeof rid, ", request id %s", r->request_id);
  if (r->curl_code != 0)
    snprintf(text, sizeof text, "%s (%s) failed: %s", what, url, r->error);
  else if (msg && *msg)
    snprintf(text, sizeof text, "%s (%s) answered HTTP %ld: %.200s%s", what,
             url, r->status, msg, rid);
  else
    snprintf(text, sizeof text, "%s (%s) answered HTTP %ld%s", what, url,
             r->status, rid);
  secret_free(msg);
  scrubbed(err, errlen, secrets, text);
}

int auth_http_run(const auth_http *a, const char *what, const http_call *call,
                  http_response *resp, const char *const *secrets, char *err,
                  size_t errlen)
{
  http_request req;
  if (http_request_init(&req, &a->http, NULL) != 0) {
    snprintf(err, errlen, "out of memory");
    return AUTH_HTTP_FAILED;
  }
  const char *method = call->body ? "POST" : "GET";
  int rc = AUTH_HTTP_FAILED;
  for (int attempt = 0;; attempt++) {
    if (http_request_prepare_call(&req, call, resp) != 0) {
      snprintf(err, errlen, "out of memory");
      break;
    }
    long long t0 = monotonic_ns();
    http_request_perform(&req);
    trace_http(a->http.trace, method, call->url, resp, monotonic_ns() - t0,
               what);
    if (resp->curl_code == 0 && resp->status >= 200 && resp->status < 300) {
      rc = AUTH_HTTP_OK;
      break;
    }
    if (resp->cancelled || cancel_requested()) {
      snprintf(err, errlen, "interrupted");
      rc = AUTH_HTTP_INTERRUPTED;
      break;
    }
    retry_reason why = retry_classify(resp->curl_code, resp->status);
    long delay = -1;
    if (why != RETRY_NO && attempt < a->retries)
      delay = retry_delay_ms(&a->backoff, attempt, resp->retry_after_s,
                             (unsigned)t0);
    if (delay < 0) {
      describe(resp, what, call->url, secrets, err, errlen);
      rc = resp->status == 0 && resp->curl_code != 0 && why != RETRY_NO
               ? AUTH_HTTP_UNREACHABLE
               : AUTH_HTTP_FAILED;
      break;
    }
    trace_retry(a->http.trace, method, call->url, retry_reason_name(why),
                resp->status, delay, a->retries - attempt);
    if (cancel_sleep_ms(delay) != 0) {
      snprintf(err, errlen, "interrupted");
      rc = AUTH_HTTP_INTERRUPTED;
      break;
    }
  }
  http_request_cleanup(&req);
  return rc;
}

void auth_http_response_free(http_response *resp)
{
  if (resp->body)
    secret_wipe(resp->body, resp->cap);
  http_response_free(resp);
}
