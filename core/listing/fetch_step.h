/*
** What the fetch engine does once a request has ended: the whole decision
** as a pure function of what happened, so that every path (a page, a
** redirect, a rejected token, a retry, a failed prefetch) is tested
** without a network (tests/unit/test_fetch_step.c).  fetch_engine.c
** gathers the inputs and carries the step out.
*/
#ifndef FETCH_STEP_H
#define FETCH_STEP_H

#include "http/retry_policy.h"
#include "listing/redirect.h"

#include <stdint.h>

typedef enum fetch_step_kind {
  FETCH_PAGE,         /* 2xx: the page is the caller's next */
  FETCH_HOLD_PAGE,    /* 2xx of a prefetch: kept until its token is
                        ** confirmed by the caller's decoding */
  FETCH_REDIRECT,     /* request the Location now (not an attempt) */
  FETCH_NEW_TOKEN,    /* 401: request again now with a fresh token */
  FETCH_RETRY,        /* request again after delay_ms */
  FETCH_HOLD_FAILURE, /* a prefetch failed for good: the failure counts
                        ** only if its token is confirmed */
  FETCH_FAIL          /* the listing fails with this attempt's error */
} fetch_step_kind;

typedef struct fetch_attempt {
  int curl_code;             /* CURLcode of the transfer, 0 when it completed */
  long status;               /* HTTP status, 0 when none */
  int cancelled;             /* ended by Ctrl-C */
  int speculative;           /* a prefetch whose token is not yet confirmed */
  int attempts;              /* of this request, the one that ended included */
  int retries;               /* retries allowed after the first attempt */
  int redirects;             /* already followed for this page */
  redirect_verdict location; /* redirect_classify's, for a 3xx */
  int refreshed;             /* a fresh token was already used for a 401 */
  int renewable;             /* 401: the credentials can make a new token */
  retry_backoff backoff;
  long retry_after_s; /* the server's Retry-After, 0 when none */
  uint32_t random;    /* the jitter's draw */
} fetch_attempt;

typedef struct fetch_step {
  fetch_step_kind kind;
  retry_reason why;         /* FETCH_RETRY: what is retried */
  long delay_ms;            /* FETCH_RETRY: the wait first */
  redirect_verdict refused; /* a refused redirect (OTHER_ORIGIN, INVALID,
                              ** TOO_MANY), else REDIRECT_NONE */
  int retry_after_too_long; /* retrying stopped because the server asked
                              ** to wait longer than backoff.max_ms */
} fetch_step;

fetch_step fetch_next_step(const fetch_attempt *a);

#endif /* FETCH_STEP_H */
