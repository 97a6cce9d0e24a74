/*
** When to retry a request and how long to wait first.  Pure functions of
** their inputs (the random draw is passed in), so they are unit-tested
** without a network.
*/
#ifndef RETRY_POLICY_H
#define RETRY_POLICY_H

#include <stdint.h>

typedef enum retry_reason {
  RETRY_NO = 0,    /* success, or a failure that retrying can't fix */
  RETRY_THROTTLED, /* HTTP 429 */
  RETRY_SERVER,    /* HTTP 500, 502, 503, 504 */
  RETRY_TIMEOUT,   /* the request or the connect timed out */
  RETRY_CONNECTION /* refused, reset, cut short, DNS, TLS handshake */
} retry_reason;

typedef struct retry_backoff {
  long base_ms; /* first delay before jitter */
  long max_ms;  /* cap on any single wait, Retry-After included */
} retry_backoff;

/*
** Classify one finished attempt: `curl_code` is its CURLcode (0 when the
** transfer completed), `http_status` the response status (0 when none).
*/
retry_reason retry_classify(int curl_code, long http_status);

/* A short lowercase name for logs and error messages ("throttled", …). */
const char *retry_reason_name(retry_reason r);

/*
** The wait in milliseconds before retry number `retry` (0 for the first
** retry).  With `retry_after_s` > 0 the server's word is honoured exactly;
** when it asks for more than max_ms the result is -1: give up rather than
** wait longer than the client allows.  Otherwise the delay is exponential,
** min(max, base * 2^retry), with "equal jitter": half fixed, half drawn
** from `random`, so concurrent clients spread out but never retry at once.
*/
long retry_delay_ms(const retry_backoff *b, int retry, long retry_after_s,
                    uint32_t random);

#endif /* RETRY_POLICY_H */
