/*
** retry_classify, retry_reason_name and retry_delay_ms.
*/
#include "check.h"
#include "http/retry_policy.h"

#include <curl/curl.h>
#include <limits.h>
#include <stdint.h>

#define CLASSIFY(code, status, want)                                   \
  do {                                                                 \
    CHECK_CONTEXT("curl %d (%s), HTTP %ld", (int)(code), #code,        \
                  (long)(status));                                     \
    CHECK_EQ_INT(retry_classify((int)(code), (long)(status)), (want)); \
    CHECK_CONTEXT_CLEAR();                                             \
  } while (0)

static void test_classify_http(void)
{
  /* Completed transfers: the status decides. */
  CLASSIFY(CURLE_OK, 200, RETRY_NO);
  CLASSIFY(CURLE_OK, 204, RETRY_NO);
  CLASSIFY(CURLE_OK, 0, RETRY_NO);
  CLASSIFY(CURLE_OK, 301, RETRY_NO);
  CLASSIFY(CURLE_OK, 304, RETRY_NO);
  CLASSIFY(CURLE_OK, 429, RETRY_THROTTLED);
  CLASSIFY(CURLE_OK, 500, RETRY_SERVER);
  CLASSIFY(CURLE_OK, 502, RETRY_SERVER);
  CLASSIFY(CURLE_OK, 503, RETRY_SERVER);
  CLASSIFY(CURLE_OK, 504, RETRY_SERVER);
  CLASSIFY(CURLE_OK, 400, RETRY_NO);
  CLASSIFY(CURLE_OK, 401, RETRY_NO);
  CLASSIFY(CURLE_OK, 403, RETRY_NO);
  CLASSIFY(CURLE_OK, 404, RETRY_NO);
  CLASSIFY(CURLE_OK, 409, RETRY_NO);
  CLASSIFY(CURLE_OK, 428, RETRY_NO);
  CLASSIFY(CURLE_OK, 430, RETRY_NO);
  CLASSIFY(CURLE_OK, 501, RETRY_NO);
  CLASSIFY(CURLE_OK, 505, RETRY_NO);
  CLASSIFY(CURLE_OK, 599, RETRY_NO);

  /* No other status in 100..599 is retried. */
  int others = 0;
  for (long s = 100; s <= 599; s++) {
    retry_reason r = retry_classify(CURLE_OK, s);
    if (s == 429) {
      CHECK_EQ_INT(r, RETRY_THROTTLED);
    } else if (s == 500 || s == 502 || s == 503 || s == 504) {
      CHECK_EQ_INT(r, RETRY_SERVER);
    } else if (r != RETRY_NO) {
      fprintf(stderr, "HTTP %ld classified as %d\n", s, (int)r);
      others++;
    }
  }
  CHECK_EQ_INT(others, 0);
}

static void test_classify_curl(void)
{
  CLASSIFY(CURLE_OPERATION_TIMEDOUT, 0, RETRY_TIMEOUT);
  CLASSIFY(CURLE_COULDNT_RESOLVE_HOST, 0, RETRY_CONNECTION);
  CLASSIFY(CURLE_COULDNT_CONNECT, 0, RETRY_CONNECTION);
  CLASSIFY(CURLE_SSL_CONNECT_ERROR, 0, RETRY_CONNECTION);
  CLASSIFY(CURLE_SEND_ERROR, 0, RETRY_CONNECTION);
  CLASSIFY(CURLE_RECV_ERROR, 0, RETRY_CONNECTION);
  CLASSIFY(CURLE_PARTIAL_FILE, 200, RETRY_CONNECTION);
  CLASSIFY(CURLE_PARTIAL_FILE, 0, RETRY_CONNECTION);
  CLASSIFY(CURLE_GOT_NOTHING, 0, RETRY_CONNECTION);
  CLASSIFY(CURLE_HTTP2, 0, RETRY_CONNECTION);
  CLASSIFY(CURLE_HTTP2_STREAM, 0, RETRY_CONNECTION);

  /* Failures retrying can't fix. */
  CLASSIFY(CURLE_ABORTED_BY_CALLBACK, 0, RETRY_NO);
  CLASSIFY(CURLE_WRITE_ERROR, 0, RETRY_NO);
  CLASSIFY(CURLE_PEER_FAILED_VERIFICATION, 0, RETRY_NO);
  CLASSIFY(CURLE_FILESIZE_EXCEEDED, 0, RETRY_NO);
  CLASSIFY(CURLE_URL_MALFORMAT, 0, RETRY_NO);
  CLASSIFY(CURLE_UNSUPPORTED_PROTOCOL, 0, RETRY_NO);
  CLASSIFY(CURLE_OUT_OF_MEMORY, 0, RETRY_NO);
  CLASSIFY(CURLE_TOO_MANY_REDIRECTS, 0, RETRY_NO);
  CLASSIFY(CURLE_SSL_CACERT_BADFILE, 0, RETRY_NO);
  CLASSIFY(CURLE_BAD_CONTENT_ENCODING, 0, RETRY_NO);

  /* A transfer error decides over whatever status was seen first. */
  CLASSIFY(CURLE_OPERATION_TIMEDOUT, 200, RETRY_TIMEOUT);
  CLASSIFY(CURLE_OPERATION_TIMEDOUT, 404, RETRY_TIMEOUT);
  CLASSIFY(CURLE_RECV_ERROR, 404, RETRY_CONNECTION);
  CLASSIFY(CURLE_ABORTED_BY_CALLBACK, 503, RETRY_NO);
  CLASSIFY(CURLE_WRITE_ERROR, 503, RETRY_NO);
  CLASSIFY(CURLE_WRITE_ERROR, 429, RETRY_NO);
  CLASSIFY(CURLE_PEER_FAILED_VERIFICATION, 503, RETRY_NO);
}

static void test_reason_names(void)
{
  CHECK_EQ_STR(retry_reason_name(RETRY_NO), "not retryable");
  CHECK_EQ_STR(retry_reason_name(RETRY_THROTTLED), "throttled");
  CHECK_EQ_STR(retry_reason_name(RETRY_SERVER), "server error");
  CHECK_EQ_STR(retry_reason_name(RETRY_TIMEOUT), "timeout");
  CHECK_EQ_STR(retry_reason_name(RETRY_CONNECTION), "connection failure");
  CHECK_EQ_STR(retry_reason_name((retry_reason)99), "not retryable");
}

/* Deterministic xorshift32 draws. */
static uint32_t rng_state = 0x9e3779b9u;
static uint32_t rng(void)
{
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return rng_state = x;
}

static void test_exponential_and_cap(void)
{
  retry_backoff b = {200, 30000};
  static const long want[] = {200,   400,   800,   1600,  3200, 6400,
                              12800, 25600, 30000, 30000, 30000};
  for (int r = 0; r < (int)(sizeof want / sizeof want[0]); r++) {
    long d = want[r], half = d / 2;
    CHECK_CONTEXT("retry %d", r);
    /* random 0 gives the low end, random == half the high end. */
    CHECK_EQ_INT(retry_delay_ms(&b, r, 0, 0), d - half);
    CHECK_EQ_INT(retry_delay_ms(&b, r, 0, (uint32_t)half), d);
    /* The draw wraps modulo half + 1. */
    CHECK_EQ_INT(retry_delay_ms(&b, r, 0, (uint32_t)half + 1), d - half);
    CHECK_EQ_INT(retry_delay_ms(&b, r, 0, (uint32_t)half + 2), d - half + 1);
  }
  CHECK_CONTEXT_CLEAR();
  /* Far past the cap, including absurd retry numbers. */
  CHECK_EQ_INT(retry_delay_ms(&b, 30, 0, 15000), 30000);
  CHECK_EQ_INT(retry_delay_ms(&b, 100, 0, 15000), 30000);
  CHECK_EQ_INT(retry_delay_ms(&b, 1000000, 0, 15000), 30000);
  CHECK_EQ_INT(retry_delay_ms(&b, INT_MAX, 0, 15000), 30000);
  CHECK_EQ_INT(retry_delay_ms(&b, INT_MAX, 0, 0), 15000);

  /* A cap below the base wins from the first retry. */
  retry_backoff low = {5000, 1000};
  CHECK_EQ_INT(retry_delay_ms(&low, 0, 0, 0), 500);
  CHECK_EQ_INT(retry_delay_ms(&low, 0, 0, 500), 1000);
  CHECK_EQ_INT(retry_delay_ms(&low, 7, 0, 500), 1000);

  /* The largest the binding allows: 3600 s base and cap, 100 retries. */
  retry_backoff big = {3600000, 3600000};
  CHECK_EQ_INT(retry_delay_ms(&big, 100, 0, 0), 1800000);
  CHECK_EQ_INT(retry_delay_ms(&big, 100, 0, 1800000), 3600000);
  retry_backoff small_big = {1, 3600000};
  CHECK_EQ_INT(retry_delay_ms(&small_big, 100, 0, 1800000), 3600000);
  CHECK_EQ_INT(retry_delay_ms(&small_big, 10, 0, 512), 1024);
  CHECK_EQ_INT(retry_delay_ms(&small_big, 10, 0, 0), 512);

  /* Base 1: the smallest wait is still 1 ms, never an immediate retry. */
  retry_backoff one = {1, 30000};
  CHECK_EQ_INT(retry_delay_ms(&one, 0, 0, 0), 1);
  CHECK_EQ_INT(retry_delay_ms(&one, 0, 0, UINT32_MAX), 1);

  /* Odd delay: 201 -> [101, 201]. */
  retry_backoff odd = {201, 30000};
  CHECK_EQ_INT(retry_delay_ms(&odd, 0, 0, 0), 101);
  CHECK_EQ_INT(retry_delay_ms(&odd, 0, 0, 100), 201);
  CHECK_EQ_INT(retry_delay_ms(&odd, 1, 0, 0), 201);
  CHECK_EQ_INT(retry_delay_ms(&odd, 1, 0, 201), 402);
}

static void test_jitter_bounds(void)
{
  static const retry_backoff cfg[] = {
      {200, 30000}, {201, 30000}, {1000, 5000}, {3, 100}, {100, 100}};
  for (size_t k = 0; k < sizeof cfg / sizeof cfg[0]; k++) {
    for (int r = 0; r < 12; r++) {
      long d = cfg[k].base_ms;
      for (int i = 0; i < r && d < cfg[k].max_ms; i++)
        d *= 2;
      if (d > cfg[k].max_ms)
        d = cfg[k].max_ms;
      long lo = LONG_MAX, hi = LONG_MIN;
      int out_of_range = 0;
      /* Every draw 0..d+1, both extremes, then pseudo-random ones. */
      long n = d + 2 + 2 + 20000;
      for (long i = 0; i < n; i++) {
        uint32_t x = i <= d + 1   ? (uint32_t)i
                     : i == d + 2 ? UINT32_MAX
                     : i == d + 3 ? UINT32_MAX - 1
                                  : rng();
        long v = retry_delay_ms(&cfg[k], r, 0, x);
        if (2 * v < d || v > d) {
          if (out_of_range++ < 3)
            fprintf(stderr,
                    "base %ld max %ld retry %d random %u: %ld "
                    "outside [%ld/2, %ld]\n",
                    cfg[k].base_ms, cfg[k].max_ms, r, x, v, d, d);
        }
        if (v < lo)
          lo = v;
        if (v > hi)
          hi = v;
      }
      CHECK_CONTEXT("base %ld max %ld retry %d", cfg[k].base_ms, cfg[k].max_ms,
                    r);
      CHECK_EQ_INT(out_of_range, 0);
      /* Both ends are reached. */
      CHECK_EQ_INT(lo, d - d / 2);
      CHECK_EQ_INT(hi, d);
    }
  }
  CHECK_CONTEXT_CLEAR();
}

static void test_retry_after(void)
{
  retry_backoff b = {200, 30000};
  /* Honoured exactly: no jitter, whatever the retry number or draw. */
  CHECK_EQ_INT(retry_delay_ms(&b, 0, 1, 0), 1000);
  CHECK_EQ_INT(retry_delay_ms(&b, 0, 1, UINT32_MAX), 1000);
  CHECK_EQ_INT(retry_delay_ms(&b, 7, 1, 12345), 1000);
  CHECK_EQ_INT(retry_delay_ms(&b, 0, 7, 99), 7000);
  CHECK_EQ_INT(retry_delay_ms(&b, 0, 29, 0), 29000);
  CHECK_EQ_INT(retry_delay_ms(&b, 0, 30, 0), 30000); /* == cap */
  /* Over the cap: give up. */
  CHECK_EQ_INT(retry_delay_ms(&b, 0, 31, 0), -1);
  CHECK_EQ_INT(retry_delay_ms(&b, 3, 3600, 0), -1);
  CHECK_EQ_INT(retry_delay_ms(&b, 0, LONG_MAX, 0), -1);
  CHECK_EQ_INT(retry_delay_ms(&b, 0, LONG_MAX / 1000 + 1, 0), -1);

  /* Cap not a whole number of seconds. */
  retry_backoff c = {200, 1500};
  CHECK_EQ_INT(retry_delay_ms(&c, 0, 1, 0), 1000);
  CHECK_EQ_INT(retry_delay_ms(&c, 0, 2, 0), -1);
  retry_backoff c2 = {200, 999};
  CHECK_EQ_INT(retry_delay_ms(&c2, 0, 1, 0), -1);
  retry_backoff c3 = {200, 2000};
  CHECK_EQ_INT(retry_delay_ms(&c3, 0, 2, 0), 2000);
  CHECK_EQ_INT(retry_delay_ms(&c3, 0, 3, 0), -1);
  retry_backoff zero_cap = {200, 0};
  CHECK_EQ_INT(retry_delay_ms(&zero_cap, 0, 1, 0), -1);

  /* Zero or negative Retry-After: the ordinary backoff. */
  CHECK_EQ_INT(retry_delay_ms(&b, 0, 0, 0), 100);
  CHECK_EQ_INT(retry_delay_ms(&b, 0, -1, 0), 100);
  CHECK_EQ_INT(retry_delay_ms(&b, 2, -5, 400), 800);
}

static void test_zero_base(void)
{
  retry_backoff b = {0, 30000};
  for (int r = 0; r < 40; r++) {
    CHECK_CONTEXT("retry %d", r);
    CHECK_EQ_INT(retry_delay_ms(&b, r, 0, 0), 0);
    CHECK_EQ_INT(retry_delay_ms(&b, r, 0, 12345), 0);
    CHECK_EQ_INT(retry_delay_ms(&b, r, 0, UINT32_MAX), 0);
  }
  CHECK_CONTEXT_CLEAR();
  retry_backoff neg = {-100, 30000};
  CHECK_EQ_INT(retry_delay_ms(&neg, 0, 0, 77), 0);
  CHECK_EQ_INT(retry_delay_ms(&neg, 5, 0, 77), 0);
  retry_backoff none = {200, 0};
  CHECK_EQ_INT(retry_delay_ms(&none, 0, 0, 77), 0);
  CHECK_EQ_INT(retry_delay_ms(&none, 9, 0, 77), 0);
  /* Retry-After still counts with a zero base. */
  CHECK_EQ_INT(retry_delay_ms(&b, 0, 2, 0), 2000);
}

int main(void)
{
  test_classify_http();
  test_classify_curl();
  test_reason_names();
  test_exponential_and_cap();
  test_jitter_bounds();
  test_retry_after();
  test_zero_base();
  return check_summary();
}
