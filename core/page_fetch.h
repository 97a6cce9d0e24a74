/*
** Fetching one page with retries: the same URL (so the same page token)
** is requested again after throttling, server errors and connection
** failures, waiting as retry_policy.h decides, until it succeeds, fails
** in a way a retry cannot fix, or the retries run out.
*/
#ifndef PAGE_FETCH_H
#define PAGE_FETCH_H

#include "http_transport.h"
#include "mdb_errors.h"
#include "retry_policy.h"

#include <stdint.h>

typedef struct fetch_policy {
  int retries;              /* retries after the first attempt */
  retry_backoff backoff;
} fetch_policy;

typedef struct fetch_stats {
  long pages;               /* successful page fetches */
  long requests;            /* HTTP requests made, retries included */
  long retries;
  long long bytes;          /* body bytes received on success */
} fetch_stats;

typedef struct fetch_error {
  mdb_error_kind kind;
  long status;              /* last HTTP status, 0 when none */
  int attempts;
  char message[320];
  char note[160];           /* why retrying stopped early, "" if it didn't */
} fetch_error;

/* Called before each retry wait (for tracing); may be NULL. */
typedef void (*fetch_retry_hook)(void *ud, const char *url,
                                 retry_reason why, long status,
                                 long delay_ms, int retries_left);

typedef struct page_fetcher {
  http_transport *transport;
  fetch_policy policy;
  uint32_t rng;             /* xorshift state for backoff jitter */
  fetch_retry_hook on_retry;
  void *hook_ud;
} page_fetcher;

/*
** GET `url` until it succeeds (2xx: returns 0, body in *resp) or fails for
** good (returns -1, *err filled; *resp keeps the last response so the
** caller can read an error body and request id).
*/
int page_fetch(page_fetcher *f, const char *url, const char *bearer,
               http_response *resp, fetch_stats *stats, fetch_error *err);

#endif /* PAGE_FETCH_H */
