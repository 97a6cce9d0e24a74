/*
** One request on a libcurl easy handle, set up the same way for every
** listing and every token request: timeouts on the whole request and on
** connecting, a cap on the body size (checked against Content-Length up
** front and while receiving; the buffer never grows past it, and a body
** refused for the cap or for memory is freed at once), cancellation through cancel.h, TLS
** verification always on (with the client's CA file when it has one),
** no redirects (the token must not follow them elsewhere), and the
** response headers the API contract needs (x-request-id, Retry-After).
** Listings are driven by a curl multi handle (fetch_engine.c); token
** requests run synchronously with http_request_perform().
**
** Proxies: libcurl reads https_proxy/HTTPS_PROXY, http_proxy, all_proxy
** and no_proxy/NO_PROXY itself; `no_proxy` below turns them off for one
** handle (the metadata service is never reached through a proxy).
*/
#ifndef HTTP_REQUEST_H
#define HTTP_REQUEST_H

#include <curl/curl.h>
#include <stddef.h>

struct mdb_trace;

typedef struct http_config {
  long timeout_ms; /* whole request, connect included */
  long connect_timeout_ms;
  size_t max_body;               /* bytes of decoded body accepted */
  const char *max_body_option;   /* the setting that sets max_body, named
                            ** when a body is refused, or NULL */
  CURLSH *share;                 /* connection/DNS/TLS-session cache, or NULL */
  const char *ca_file;           /* CA bundle to verify with, NULL = system's */
  int no_proxy;                  /* 1: ignore the proxy environment variables */
  const struct mdb_trace *trace; /* request log (trace.h), or NULL */
} http_config;

typedef struct http_response {
  int curl_code; /* CURLcode of the transfer; 0 = completed */
  long status;   /* HTTP status, 0 when no response */
  char *body;    /* NUL-terminated; buffer kept across requests */
  size_t len, cap;
  char request_id[128]; /* x-request-id, "" when absent */
  long retry_after_s;   /* parsed Retry-After, 0 when absent */
  int over_limit;       /* the body exceeded max_body (error says so) */
  int cancelled;        /* aborted by cancel.h: Ctrl-C or the deadline */
  char error[256];      /* what failed: libcurl's description, the
                            ** size cap, or "out of memory" */
} http_response;

typedef struct http_request {
  CURL *curl;
  http_config cfg;
  http_response *resp; /* filled by the callbacks */
  struct curl_slist *headers;
  char errbuf[CURL_ERROR_SIZE];
  int body_oom; /* the body buffer could not grow */
} http_request;

/* Make the easy handle; `private` is stored as CURLOPT_PRIVATE. 0 or -1. */
int http_request_init(http_request *r, const http_config *cfg, void *private);
void http_request_cleanup(http_request *r);

/*
** Point the handle at `url` with "Authorization: Bearer <bearer>" (none
** when NULL), the response going to *resp (emptied, buffer reused).
** 0, or -1 when out of memory.
*/
int http_request_prepare(http_request *r, const char *url, const char *bearer,
                         http_response *resp);

/* A request beyond a plain GET (token requests). */
typedef struct http_call {
  const char *url;
  const char *bearer; /* NULL: no Authorization header */
  const char *header; /* one extra "Name: value" header, or NULL */
  const char *body;   /* POST this JSON body when non-NULL; it must
                            ** stay valid until http_request_complete */
  size_t body_len;
} http_call;

int http_request_prepare_call(http_request *r, const http_call *call,
                              http_response *resp);

/* Run a prepared request to its end on this thread (bounded by the
** handle's timeouts and by cancel.h), then http_request_complete(). */
void http_request_perform(http_request *r);

/* After the transfer ended with `rc`: fill the response, wipe the token. */
void http_request_complete(http_request *r, CURLcode rc);

void http_response_free(http_response *resp);

#endif /* HTTP_REQUEST_H */
