/*
** The requests a token source makes (the IAM token exchange, the metadata
** service), run synchronously on the calling thread: every one bounded by
** its timeouts, by a small number of retries for throttling, server
** errors and connection failures, and by Ctrl-C (cancel.h).  Traced like
** listing requests, never with the body.
*/
#ifndef AUTH_HTTP_H
#define AUTH_HTTP_H

#include "http/http_request.h"
#include "http/retry_policy.h"

#include <stddef.h>

typedef struct auth_http {
  http_config http; /* timeouts, ca_file, proxy use, trace */
  int retries;      /* after the first attempt */
  retry_backoff backoff;
} auth_http;

/* Settings for token requests: short timeouts, 2 retries. */
void auth_http_defaults(auth_http *a, const char *ca_file,
                        const struct mdb_trace *trace);

enum {
  AUTH_HTTP_OK = 0,
  AUTH_HTTP_FAILED = -1,      /* a sentence in err */
  AUTH_HTTP_UNREACHABLE = -2, /* no HTTP answer at all (refused, timeout) */
  AUTH_HTTP_INTERRUPTED = -3
};

/*
** Run `call` (described as `what` in messages, e.g. "the IAM endpoint")
** until a 2xx answer or the retries run out.  *resp holds the last
** response; its body is the caller's to wipe.  Messages are scrubbed of
** `secrets` (NULL-terminated, may be NULL).
*/
int auth_http_run(const auth_http *a, const char *what, const http_call *call,
                  http_response *resp, const char *const *secrets, char *err,
                  size_t errlen);

/* Overwrite the response body (it may hold a token) and free it. */
void auth_http_response_free(http_response *resp);

#endif /* AUTH_HTTP_H */
