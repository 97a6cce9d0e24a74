#include "page_fetch.h"

#include "cancel.h"

#include <curl/curl.h>
#include <stdio.h>

static uint32_t next_random(page_fetcher *f)
{
  uint32_t x = f->rng ? f->rng : 2463534242u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  f->rng = x;
  return x;
}

/* Describe a failed attempt in *err from the response it left. */
static void describe(const http_response *r, fetch_error *err)
{
  err->status = r->status;
  if (r->cancelled) {
    err->kind = MDB_ERR_INTERRUPTED;
    snprintf(err->message, sizeof err->message, "interrupted");
  } else if (r->over_limit) {
    err->kind = MDB_ERR_LIMIT;
    snprintf(err->message, sizeof err->message,
             "response body larger than the size cap");
  } else if (r->curl_code == CURLE_OPERATION_TIMEDOUT) {
    err->kind = MDB_ERR_TIMEOUT;
    snprintf(err->message, sizeof err->message, "%s", r->error);
  } else if (r->curl_code == CURLE_OUT_OF_MEMORY) {
    err->kind = MDB_ERR_MEMORY;
    snprintf(err->message, sizeof err->message, "out of memory");
  } else if (r->curl_code != CURLE_OK) {
    err->kind = MDB_ERR_NETWORK;
    snprintf(err->message, sizeof err->message, "%s", r->error);
  } else {
    err->kind = MDB_ERR_HTTP;
    snprintf(err->message, sizeof err->message, "HTTP status %ld",
             r->status);
  }
}

int page_fetch(page_fetcher *f, const char *url, const char *bearer,
               http_response *resp, fetch_stats *stats, fetch_error *err)
{
  err->kind = MDB_ERR_NONE;
  err->status = 0;
  err->attempts = 0;
  err->message[0] = '\0';
  err->note[0] = '\0';
  for (int retry = 0;; retry++) {
    http_transport_get(f->transport, url, bearer, resp);
    err->attempts++;
    stats->requests++;
    if (resp->curl_code == CURLE_OK && resp->status >= 200 &&
        resp->status < 300) {
      stats->pages++;
      stats->bytes += (long long)resp->len;
      return 0;
    }
    describe(resp, err);
    retry_reason why = retry_classify(resp->curl_code, resp->status);
    if (why == RETRY_NO || resp->cancelled)
      return -1;
    if (retry >= f->policy.retries)
      return -1;   /* err->attempts tells how hard it tried */
    long delay = retry_delay_ms(&f->policy.backoff, retry,
                                resp->retry_after_s, next_random(f));
    if (delay < 0) {
      snprintf(err->note, sizeof err->note, "the server asked to retry "
               "after %ld s, longer than backoff_max (%ld s)",
               resp->retry_after_s, f->policy.backoff.max_ms / 1000);
      return -1;
    }
    if (f->on_retry)
      f->on_retry(f->hook_ud, url, why, resp->status, delay,
                  f->policy.retries - retry);
    stats->retries++;
    if (cancel_sleep_ms(delay) != 0) {
      err->kind = MDB_ERR_INTERRUPTED;
      snprintf(err->message, sizeof err->message, "interrupted");
      return -1;
    }
  }
}
