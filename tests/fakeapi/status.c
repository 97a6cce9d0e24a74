#include "status.h"

#include "buf.h"

int status_grpc_code(int http_status)
{
  switch (http_status) {
  case 400: return 3;  /* INVALID_ARGUMENT */
  case 401: return 16; /* UNAUTHENTICATED */
  case 403: return 7;  /* PERMISSION_DENIED */
  case 404: return 5;  /* NOT_FOUND */
  case 405: return 12; /* UNIMPLEMENTED: no such method on this path */
  case 409: return 10; /* ABORTED */
  case 429: return 8;  /* RESOURCE_EXHAUSTED */
  case 499: return 1;  /* CANCELLED */
  case 500: return 13; /* INTERNAL */
  case 501: return 12; /* UNIMPLEMENTED */
  case 502: return 14; /* UNAVAILABLE: what a proxy in front would mean */
  case 503: return 14; /* UNAVAILABLE */
  case 504: return 4;  /* DEADLINE_EXCEEDED */
  default:
    if (http_status >= 200 && http_status < 300)
      return 0;
    return 2; /* UNKNOWN */
  }
}

const char *status_default_message(int http_status)
{
  switch (http_status) {
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Invalid argument";
  case 401: return "Token is invalid or has expired.";
  case 403: return "Permission denied";
  case 404: return "Not found";
  case 429: return "The request limit exceeded.";
  case 500: return "Internal error";
  case 501: return "Not implemented";
  case 502: return "Bad gateway";
  case 503:
    return "The service is currently unavailable. Try again in a few seconds.";
  case 504: return "Deadline exceeded";
  default: return "Injected fault";
  }
}

char *status_body(int http_status, const char *message, const char *request_id,
                  size_t *len)
{
  struct buf b;
  buf_init(&b);
  buf_printf(&b, "{\"code\":%d,\"message\":", status_grpc_code(http_status));
  buf_put_json_string(&b, message);
  buf_puts(
      &b,
      ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RequestInfo\","
      "\"requestId\":");
  buf_put_json_string(&b, request_id);
  buf_puts(&b, "}]}");
  return buf_steal(&b, len);
}
