/*
** Validation of the API endpoint a client is given.  Only https is
** accepted, except plain http to a loopback host (the fake API in tests):
** the bearer token must never cross a network in clear text.
*/
#ifndef ENDPOINT_URL_H
#define ENDPOINT_URL_H

#include <stddef.h>

/*
** Check `url` and return a malloc'd normalised copy (scheme://host[:port]
** plus any base path, without a trailing slash), or NULL with a sentence
** naming the problem in `err` (`errlen` bytes).
*/
char *endpoint_normalize(const char *url, char *err, size_t errlen);

/* 1 when `host` (as CURLU returns it, IPv6 in brackets) is loopback. */
int endpoint_host_is_loopback(const char *host);

#endif /* ENDPOINT_URL_H */
