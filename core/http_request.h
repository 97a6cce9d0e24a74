/*
** One GET request on a libcurl easy handle, set up the same way for every
** listing: timeouts on the whole request and on connecting, a cap on the
** body size (checked against Content-Length up front and while
** receiving), cancellation through cancel.h, TLS verification always on,
** no redirects (the token must not follow them elsewhere), and the
** response headers the API contract needs (x-request-id, Retry-After).
** The handle is driven by a curl multi handle (fetch_engine.c).
*/
#ifndef HTTP_REQUEST_H
#define HTTP_REQUEST_H

#include <curl/curl.h>
#include <stddef.h>

typedef struct http_config {
  long timeout_ms;          /* whole request, connect included */
  long connect_timeout_ms;
  size_t max_body;          /* bytes of decoded body accepted */
  CURLSH *share;            /* connection/DNS/TLS-session cache, or NULL */
} http_config;

typedef struct http_response {
  int curl_code;            /* CURLcode of the transfer; 0 = completed */
  long status;              /* HTTP status, 0 when no response */
  char *body;               /* NUL-terminated; buffer kept across requests */
  size_t len, cap;
  char request_id[128];     /* x-request-id, "" when absent */
  long retry_after_s;       /* parsed Retry-After, 0 when absent */
  int over_limit;           /* the body exceeded max_body */
  int cancelled;            /* aborted by cancel_raise() */
  char error[256];          /* libcurl's description of a failure */
} http_response;

typedef struct http_request {
  CURL *curl;
  http_config cfg;
  http_response *resp;      /* filled by the callbacks */
  struct curl_slist *headers;
  char errbuf[CURL_ERROR_SIZE];
} http_request;

/* Make the easy handle; `private` is stored as CURLOPT_PRIVATE. 0 or -1. */
int http_request_init(http_request *r, const http_config *cfg,
                      void *private);
void http_request_cleanup(http_request *r);

/*
** Point the handle at `url` with "Authorization: Bearer <bearer>" (none
** when NULL), the response going to *resp (emptied, buffer reused).
** 0, or -1 when out of memory.
*/
int http_request_prepare(http_request *r, const char *url,
                         const char *bearer, http_response *resp);

/* After the transfer ended with `rc`: fill the response, wipe the token. */
void http_request_complete(http_request *r, CURLcode rc);

void http_response_free(http_response *resp);

#endif /* HTTP_REQUEST_H */
