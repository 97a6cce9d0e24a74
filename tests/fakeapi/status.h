/* google.rpc.Status error bodies, the way the real API sends them
 * (api.md §4): the gRPC code, a message, and a RequestInfo detail that
 * repeats the x-request-id header. */
#ifndef FAKEAPI_STATUS_H
#define FAKEAPI_STATUS_H

#include <stddef.h>

int status_grpc_code(int http_status);
/* A message like the real API's for a bare status (used by faults). */
const char *status_default_message(int http_status);
/* malloc'ed body; *len receives its length. */
char *status_body(int http_status, const char *message, const char *request_id,
                  size_t *len);

#endif
