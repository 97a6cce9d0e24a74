/*
** Many paginated listings fetched at once on one curl multi handle, all
** from the calling thread (decoding needs the Lua state, so no threads).
**
** A job is one listing.  Its pages come strictly one after another (each
** needs the previous token), but the engine keeps the network busy:
**   - up to `concurrency` transfers of different jobs are in flight;
**   - when a page arrives, the engine peeks its nextPageToken (json_peek.h)
**     and requests the next page at once, before the caller decodes this
**     one ("speculation"); the caller's decoded token is authoritative and
**     a mismatch only cancels and re-requests;
**   - 429/5xx/connection failures/timeouts are retried with the same URL
**     after a backoff (retry_policy.h), other jobs going on meanwhile;
**   - one pacer (http/pacer.h) decides when each request may start: the
**     fixed rate limit if any, and once the API answers 429 an adaptive
**     rate for all the engine's jobs, and Retry-After pauses for all.
** Every wait is bounded: transfers by their timeouts, backoffs by
** backoff_max, and each poll by 100 ms so Ctrl-C (cancel.h) is seen.
*/
#ifndef FETCH_ENGINE_H
#define FETCH_ENGINE_H

#include "auth/cred_provider.h"
#include "http/http_request.h"
#include "listing/list_url.h"
#include "mdb_errors.h"
#include "listing/page_cursor.h"
#include "http/pacer.h"
#include "http/retry_policy.h"

typedef struct fetch_policy {
  int retries; /* retries after the first attempt */
  retry_backoff backoff;
} fetch_policy;

typedef struct fetch_stats {
  long pages;    /* pages accepted */
  long requests; /* HTTP requests made, retries included */
  long retries;
  long long bytes; /* body bytes of successful responses */
  long throttled;  /* requests answered 429 */
  long paced;      /* requests that waited for the pacer */
  double rate;     /* the engine's adaptive rate (requests/s)
                            ** after this job's latest response; 0 while
                            ** no 429 has engaged it */
} fetch_stats;

typedef struct fetch_error {
  mdb_error_kind kind;
  long status; /* last HTTP status, 0 when none */
  int attempts;
  char message[320];
  char note[160]; /* why retrying stopped early, "" if it didn't */
} fetch_error;

/* The response a page came in: what an error about the page's content
** (a body that is not JSON, an item of the wrong shape, a repeated
** token) reports, so that it can be traced at the server. */
typedef struct fetch_origin {
  long status;          /* its HTTP status */
  int attempts;         /* requests made for the page */
  char request_id[128]; /* its x-request-id, "" when none */
} fetch_origin;

/* Called before each retry wait (for tracing); may be NULL. */
typedef void (*fetch_retry_hook)(void *ud, const char *url, retry_reason why,
                                 long status, long delay_ms, int retries_left);

typedef struct fetch_engine_config {
  http_config http;
  fetch_policy policy;
  int concurrency;      /* transfers in flight at most, >= 1 */
  double rate;          /* request starts per second, 0 = no limit;
                            ** a cap on the adaptive rate too */
  int adaptive_pacing;  /* slow all jobs down on 429 (http/pacer.h) */
  cred_provider *creds; /* borrowed; must outlive the engine */
  fetch_retry_hook on_retry;
  void *hook_ud;
} fetch_engine_config;

typedef struct fetch_engine fetch_engine;
typedef struct fetch_job fetch_job;

fetch_engine *fetch_engine_new(const fetch_engine_config *cfg);
/* Frees the engine and every job still attached to it. */
void fetch_engine_free(fetch_engine *e);

/*
** A new listing of `t` (strings copied).  Nothing is requested until
** fetch_job_request().  NULL when out of memory.
*/
fetch_job *fetch_job_new(fetch_engine *e, const list_target *t, long page_size,
                         long limit, const char *start_token, void *ud);
/* Detach and free a job, aborting its transfer if one is in flight. */
void fetch_job_free(fetch_job *j);

/*
** Ask for the job's next page, unless one is already requested (by
** speculation) or the listing is over.  0, or -1 when out of memory.
*/
int fetch_job_request(fetch_job *j);

/*
** Drive transfers until a job has news: a page ready (returns the job,
** *failed = 0) or a final failure (*failed = 1, fetch_job_error()).  With
** `want` non-NULL, only that job's news ends the wait (others keep
** theirs).  Returns NULL when nothing is pending, or when cancelled: then
** every pending job has failed with kind "interrupted" and *failed = -1.
*/
fetch_job *fetch_engine_next(fetch_engine *e, fetch_job *want, int *failed);

/* The ready page's response (valid until fetch_job_accept/free). */
const http_response *fetch_job_page(const fetch_job *j);

/*
** Take the ready page's body out of the job, before fetch_job_accept: the
** caller owns the buffer (NUL-terminated, *len bytes, *cap allocated; NULL
** for an empty body) and hands it back with fetch_job_give_body once read,
** or free()s it.  The job's later responses get other buffers.  A page
** kept for later then costs no copy of its text.
*/
char *fetch_job_take_page_body(fetch_job *j, size_t *len, size_t *cap);
/* A buffer from fetch_job_take_page_body, for a later response of the
** job's engine to reuse (or freed). */
void fetch_job_give_body(fetch_job *j, char *body, size_t cap);

/*
** The caller decoded the ready page: it held `items` items (after any cut
** to the limit), `first` (first_len bytes, or NULL) is its first item's
** raw text and `next` (len bytes, NULL/0 = last page) is its
** authoritative nextPageToken.  Returns page_cursor_advance's
** PAGE_CURSOR_OK, PAGE_CURSOR_CYCLE (token seen before in this listing:
** the job is done), PAGE_CURSOR_STALE_RUN (too many pages in a row that
** brought nothing new: the job is done) or PAGE_CURSOR_NO_MEMORY.  Does
** not request the next page: call fetch_job_request() when it is wanted.
*/
int fetch_job_accept(fetch_job *j, size_t items, const char *first,
                     size_t first_len, const char *next, size_t len);

const fetch_error *fetch_job_error(const fetch_job *j);
/* The response of the latest request (an error body after a failure). */
const http_response *fetch_job_last_response(const fetch_job *j);
const fetch_stats *fetch_job_stats(const fetch_job *j);
const page_cursor *fetch_job_cursor(const fetch_job *j);
const char *fetch_job_url(const fetch_job *j); /* latest request */
/* The request the latest page came from (not a prefetch made since). */
const char *fetch_job_page_url(const fetch_job *j);
/* The response the latest page came in (zeros before any). */
const fetch_origin *fetch_job_page_origin(const fetch_job *j);
/*
** The URL and response of the page fetch_job_accept took last: after a
** page is accepted the next one may be ready already (a prefetch it
** confirmed), so an error about the accepted page's items names this
** one.  NULL and zeros before any page is accepted.
*/
const char *fetch_job_taken_url(const fetch_job *j);
const fetch_origin *fetch_job_taken_origin(const fetch_job *j);
void *fetch_job_ud(const fetch_job *j);
/* 1 once the listing has no more pages to fetch. */
int fetch_job_done(const fetch_job *j);

#endif /* FETCH_ENGINE_H */
