/*
** fetch_next_step: what the fetch engine does after each request, and
** redirect_classify/redirect_refusal, the redirect rules it applies.
*/
#include "check.h"
#include "listing/fetch_step.h"
#include "listing/redirect.h"

#include <curl/curl.h>

static fetch_attempt attempt(long status)
{
  fetch_attempt a = {.curl_code = CURLE_OK,
                     .status = status,
                     .attempts = 1,
                     .retries = 5,
                     .backoff = {.base_ms = 200, .max_ms = 30000},
                     .random = 12345};
  return a;
}

#define STEP(a, want)                                               \
  do {                                                              \
    fetch_attempt a_ = (a);                                         \
    CHECK_CONTEXT("curl %d, HTTP %ld, attempt %d of 1+%d, spec %d", \
                  a_.curl_code, a_.status, a_.attempts, a_.retries, \
                  a_.speculative);                                  \
    CHECK_EQ_INT(fetch_next_step(&a_).kind, (want));                \
    CHECK_CONTEXT_CLEAR();                                          \
  } while (0)

static void test_pages(void)
{
  STEP(attempt(200), FETCH_PAGE);
  STEP(attempt(204), FETCH_PAGE);
  fetch_attempt a = attempt(200);
  a.speculative = 1; /* a prefetch waits for its token's check */
  STEP(a, FETCH_HOLD_PAGE);
  a.attempts = 4; /* however many tries it took */
  STEP(a, FETCH_HOLD_PAGE);
}

static void test_redirects(void)
{
  static const long statuses[] = {301, 302, 303, 307, 308};
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
    fetch_attempt a = attempt(statuses[i]);
    a.location = REDIRECT_SAME_ORIGIN;
    STEP(a, FETCH_REDIRECT);
    a.redirects = REDIRECT_MAX - 1;
    STEP(a, FETCH_REDIRECT);
    a.redirects = REDIRECT_MAX;
    fetch_step s = fetch_next_step(&a);
    CHECK_EQ_INT(s.kind, FETCH_FAIL);
    CHECK_EQ_INT(s.refused, REDIRECT_TOO_MANY);
  }
  fetch_attempt a = attempt(302);
  a.location = REDIRECT_OTHER_ORIGIN;
  fetch_step s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_FAIL);
  CHECK_EQ_INT(s.refused, REDIRECT_OTHER_ORIGIN);
  a.location = REDIRECT_INVALID;
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_FAIL);
  CHECK_EQ_INT(s.refused, REDIRECT_INVALID);
  /* A prefetch's refused redirect waits for its token like any failure. */
  a.speculative = 1;
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_HOLD_FAILURE);
  CHECK_EQ_INT(s.refused, REDIRECT_INVALID);
  /* No Location: a plain HTTP error, nothing refused. */
  a = attempt(301);
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_FAIL);
  CHECK_EQ_INT(s.refused, REDIRECT_NONE);
  /* Not a redirect status: a Location means nothing. */
  a = attempt(300);
  a.location = REDIRECT_SAME_ORIGIN;
  STEP(a, FETCH_FAIL);
  a = attempt(201);
  a.location = REDIRECT_SAME_ORIGIN;
  STEP(a, FETCH_PAGE);
}

static void test_token_refresh(void)
{
  fetch_attempt a = attempt(401);
  a.renewable = 1;
  STEP(a, FETCH_NEW_TOKEN);
  a.attempts = 3; /* after retries too: the token was stale */
  STEP(a, FETCH_NEW_TOKEN);
  a.refreshed = 1; /* once per request: a new token was refused */
  STEP(a, FETCH_FAIL);
  a = attempt(401); /* a fixed token cannot be renewed */
  STEP(a, FETCH_FAIL);
  a.speculative = 1;
  STEP(a, FETCH_HOLD_FAILURE);
  a = attempt(403); /* only 401 says the token is wrong */
  a.renewable = 1;
  STEP(a, FETCH_FAIL);
}

static void test_retries(void)
{
  fetch_attempt a = attempt(503);
  fetch_step s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_RETRY);
  CHECK_EQ_INT(s.why, RETRY_SERVER);
  CHECK_EQ_INT(s.delay_ms, retry_delay_ms(&a.backoff, 0, 0, a.random));
  a.attempts = 5; /* the fifth retry is the last */
  a.random = 99;
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_RETRY);
  CHECK_EQ_INT(s.delay_ms, retry_delay_ms(&a.backoff, 4, 0, 99));
  a.attempts = 6;
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_FAIL);
  CHECK_EQ_INT(s.retry_after_too_long, 0);
  a.speculative = 1;
  STEP(a, FETCH_HOLD_FAILURE);
  a = attempt(500);
  a.retries = 0;
  STEP(a, FETCH_FAIL);

  /* Retry-After is obeyed, unless it is longer than backoff_max. */
  a = attempt(429);
  a.retry_after_s = 2;
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_RETRY);
  CHECK_EQ_INT(s.why, RETRY_THROTTLED);
  CHECK_EQ_INT(s.delay_ms, 2000);
  a.retry_after_s = 31;
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_FAIL);
  CHECK_EQ_INT(s.retry_after_too_long, 1);

  /* Transfers that did not complete. */
  a = attempt(0);
  a.curl_code = CURLE_OPERATION_TIMEDOUT;
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_RETRY);
  CHECK_EQ_INT(s.why, RETRY_TIMEOUT);
  a.curl_code = CURLE_COULDNT_CONNECT;
  s = fetch_next_step(&a);
  CHECK_EQ_INT(s.kind, FETCH_RETRY);
  CHECK_EQ_INT(s.why, RETRY_CONNECTION);
  a.curl_code = CURLE_ABORTED_BY_CALLBACK; /* Ctrl-C is never retried */
  a.cancelled = 1;
  STEP(a, FETCH_FAIL);
  a.curl_code = CURLE_FILESIZE_EXCEEDED; /* over the size cap */
  a.cancelled = 0;
  STEP(a, FETCH_FAIL);
  /* A 200 that did not complete is no page. */
  a = attempt(200);
  a.curl_code = CURLE_PARTIAL_FILE;
  STEP(a, FETCH_RETRY);
  STEP(attempt(404), FETCH_FAIL);
  STEP(attempt(400), FETCH_FAIL);
}

static void test_redirect_classify(void)
{
  char origin[160];
  const char *from = "https://mdb.example/managed-mysql/v1/backups?x=1";
  CHECK_EQ_INT(redirect_classify(from, NULL, origin, sizeof origin),
               REDIRECT_NONE);
  CHECK_EQ_INT(redirect_classify(from, "https://MDB.example:443/p?q=secret",
                                 origin, sizeof origin),
               REDIRECT_SAME_ORIGIN);
  CHECK_EQ_INT(redirect_classify(from, "https://evil.example/p?q=secret",
                                 origin, sizeof origin),
               REDIRECT_OTHER_ORIGIN);
  CHECK_EQ_STR(origin, "https://evil.example:443");
  CHECK_EQ_INT(
      redirect_classify(from, "http://mdb.example/p", origin, sizeof origin),
      REDIRECT_OTHER_ORIGIN);
  CHECK_EQ_STR(origin, "http://mdb.example:80");
  CHECK_EQ_INT(redirect_classify(from, "https://mdb.example:8443/p", origin,
                                 sizeof origin),
               REDIRECT_OTHER_ORIGIN);
  CHECK_EQ_INT(redirect_classify(from, "not a url", origin, sizeof origin),
               REDIRECT_INVALID);

  char msg[320];
  redirect_refusal(REDIRECT_OTHER_ORIGIN, 302, "https://evil.example:443", msg,
                   sizeof msg);
  CHECK_CONTAINS(msg, "HTTP 302: refused to follow a redirect to another "
                      "host, https://evil.example:443");
  redirect_refusal(REDIRECT_INVALID, 301, "", msg, sizeof msg);
  CHECK_CONTAINS(msg, "not a valid URL");
  redirect_refusal(REDIRECT_TOO_MANY, 307, "", msg, sizeof msg);
  CHECK_CONTAINS(msg, "more than 5 redirects");
}

int main(void)
{
  test_pages();
  test_redirects();
  test_token_refresh();
  test_retries();
  test_redirect_classify();
  return check_summary();
}
