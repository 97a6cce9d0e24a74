#include "listing/fetch_step.h"

fetch_step fetch_next_step(const fetch_attempt *a)
{
  fetch_step s = {.kind = FETCH_FAIL,
                  .why = RETRY_NO,
                  .delay_ms = -1,
                  .refused = REDIRECT_NONE};
  int completed = a->curl_code == 0;
  if (completed && a->status >= 200 && a->status < 300) {
    s.kind = a->speculative ? FETCH_HOLD_PAGE : FETCH_PAGE;
    return s;
  }
  if (completed && redirect_status(a->status) && a->location != REDIRECT_NONE) {
    if (a->location == REDIRECT_SAME_ORIGIN && a->redirects < REDIRECT_MAX) {
      s.kind = FETCH_REDIRECT;
      return s;
    }
    s.refused = a->location == REDIRECT_SAME_ORIGIN ? REDIRECT_TOO_MANY
                                                    : a->location;
  }
  if (a->status == 401 && !a->refreshed && a->renewable) {
    s.kind = FETCH_NEW_TOKEN; /* one fresh token, right away */
    return s;
  }
  retry_reason why = retry_classify(a->curl_code, a->status);
  if (why != RETRY_NO && !a->cancelled && a->attempts <= a->retries) {
    long delay = retry_delay_ms(&a->backoff, a->attempts - 1, a->retry_after_s,
                                a->random);
    if (delay >= 0) {
      s.kind = FETCH_RETRY;
      s.why = why;
      s.delay_ms = delay;
      return s;
    }
    s.retry_after_too_long = 1;
  }
  s.kind = a->speculative ? FETCH_HOLD_FAILURE : FETCH_FAIL;
  return s;
}
