#include "http/retry_policy.h"

#include <curl/curl.h>

retry_reason retry_classify(int curl_code, long http_status)
{
  switch (curl_code) {
  case CURLE_OK: break;
  case CURLE_OPERATION_TIMEDOUT: return RETRY_TIMEOUT;
  case CURLE_COULDNT_RESOLVE_HOST: /* resolvers fail transiently */
  case CURLE_COULDNT_CONNECT:      /* refused: a restarting server */
  case CURLE_SSL_CONNECT_ERROR:    /* handshake cut short, not a bad cert */
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:   /* reset mid-transfer */
  case CURLE_PARTIAL_FILE: /* body shorter than Content-Length */
  case CURLE_GOT_NOTHING:  /* connection closed with no response */
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM: return RETRY_CONNECTION;
  default: return RETRY_NO; /* aborted, size cap, bad cert, ... */
  }
  switch (http_status) {
  case 429: return RETRY_THROTTLED; /* RESOURCE_EXHAUSTED */
  case 500:                         /* INTERNAL / UNKNOWN */
  case 502:                         /* a proxy lost the backend */
  case 503: /* UNAVAILABLE: "try again in a few seconds" */
  case 504: /* DEADLINE_EXCEEDED at a gateway */ return RETRY_SERVER;
  default: return RETRY_NO;
  }
}

const char *retry_reason_name(retry_reason r)
{
  switch (r) {
  case RETRY_THROTTLED: return "throttled";
  case RETRY_SERVER: return "server error";
  case RETRY_TIMEOUT: return "timeout";
  case RETRY_CONNECTION: return "connection failure";
  default: return "not retryable";
  }
}

long retry_delay_ms(const retry_backoff *b, int retry, long retry_after_s,
                    uint32_t random)
{
  if (retry_after_s > 0) {
    if (retry_after_s > b->max_ms / 1000)
      return -1;
    return retry_after_s * 1000;
  }
  long d = b->base_ms > 0 ? b->base_ms : 0;
  for (int i = 0; i < retry && d < b->max_ms; i++)
    d *= 2;
  if (d > b->max_ms)
    d = b->max_ms;
  long half = d / 2;
  return d - half + (long)(random % (uint32_t)(half + 1));
}
