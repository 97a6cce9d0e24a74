#include "http/endpoint_url.h"

#include "http/url_parts.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int endpoint_host_is_loopback(const char *host)
{
  if (host == NULL)
    return 0;
  if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
    return 1;
  struct in_addr a;
  if (inet_pton(AF_INET, host, &a) == 1)
    return (ntohl(a.s_addr) >> 24) == 127;
  return 0;
}

char *endpoint_normalize(const char *url, char *err, size_t errlen)
{
  char *out = NULL;
  url_parts u;
  if (url == NULL || *url == '\0') {
    snprintf(err, errlen, "endpoint is empty");
    return NULL;
  }
  int rc = url_parts_parse(url, &u);
  if (rc == URL_PARTS_NO_MEMORY) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  if (rc != URL_PARTS_OK) {
    snprintf(err, errlen,
             "endpoint is not a URL with a scheme and a host "
             "(e.g. https://mdb.api.cloud.yandex.net)");
    goto done;
  }
  if (u.scheme == NULL || u.host == NULL) {
    snprintf(err, errlen, "endpoint has no scheme or host");
    goto done;
  }
  if (u.user != NULL) {
    /* Credentials in a URL end up in logs and error messages. */
    snprintf(err, errlen, "endpoint must not contain user info");
    goto done;
  }
  if (u.query != NULL || u.fragment != NULL) {
    snprintf(err, errlen, "endpoint must not have a query or fragment");
    goto done;
  }
  if (strcmp(u.scheme, "https") != 0) {
    if (strcmp(u.scheme, "http") != 0) {
      snprintf(err, errlen, "endpoint scheme '%s' is not https", u.scheme);
      goto done;
    }
    if (!endpoint_host_is_loopback(u.host)) {
      snprintf(err, errlen,
               "endpoint uses plain http to '%s': only https "
               "is allowed, except to a loopback host",
               u.host);
      goto done;
    }
  }
  size_t plen = u.path ? strlen(u.path) : 0;
  while (plen > 0 && u.path[plen - 1] == '/')
    plen--;
  size_t need = strlen(u.scheme) + strlen(u.host) +
                (u.port ? strlen(u.port) : 0) + plen + 8;
  out = malloc(need);
  if (out == NULL) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  snprintf(out, need, "%s://%s%s%s%.*s", u.scheme, u.host, u.port ? ":" : "",
           u.port ? u.port : "", (int)plen, u.path ? u.path : "");
done:
  url_parts_free(&u);
  return out;
}
