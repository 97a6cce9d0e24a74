/*
** One reusable HTTP connection for GET requests, on a libcurl easy handle:
** timeouts on the whole request and on connecting, a cap on the body
** size (checked against Content-Length up front and while receiving),
** cancellation through cancel.h, and the response headers the API
** contract needs (x-request-id, Retry-After).  Keeping one handle per
** listing lets libcurl reuse the connection from page to page.
*/
#ifndef HTTP_TRANSPORT_H
#define HTTP_TRANSPORT_H

#include <stddef.h>

typedef struct http_config {
  long timeout_ms;          /* whole request, connect included */
  long connect_timeout_ms;
  size_t max_body;          /* bytes of decoded body accepted */
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

typedef struct http_transport http_transport;

/* NULL when out of memory or libcurl cannot make a handle. */
http_transport *http_transport_new(const http_config *cfg);
void http_transport_free(http_transport *t);

/*
** GET `url` with "Authorization: Bearer <bearer>" (no header when NULL).
** Fills *r (previous content discarded, its buffer reused) and returns its
** curl_code.  The bearer value is wiped from memory after the request.
*/
int http_transport_get(http_transport *t, const char *url,
                       const char *bearer, http_response *r);

void http_response_free(http_response *r);

#endif /* HTTP_TRANSPORT_H */
