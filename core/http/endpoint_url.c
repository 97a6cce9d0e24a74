#include "http/endpoint_url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
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
  char *out = NULL, *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
  char *user = NULL, *query = NULL, *fragment = NULL;
  CURLU *u = curl_url();
  if (u == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (url == NULL || *url == '\0') {
    snprintf(err, errlen, "endpoint is empty");
    goto done;
  }
  /* No CURLU_GUESS_SCHEME: "mdb.example" must not silently become http. */
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
    snprintf(err, errlen, "endpoint is not a URL with a scheme and a host "
             "(e.g. https://mdb.api.cloud.yandex.net)");
    goto done;
  }
  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u, CURLUPART_HOST, &host, 0);
  curl_url_get(u, CURLUPART_PORT, &port, 0);
  curl_url_get(u, CURLUPART_PATH, &path, 0);
  curl_url_get(u, CURLUPART_USER, &user, 0);
  curl_url_get(u, CURLUPART_QUERY, &query, 0);
  curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0);
  if (scheme == NULL || host == NULL) {
    snprintf(err, errlen, "endpoint has no scheme or host");
    goto done;
  }
  if (user != NULL) {
    /* Credentials in a URL end up in logs and error messages. */
    snprintf(err, errlen, "endpoint must not contain user info");
    goto done;
  }
  if (query != NULL || fragment != NULL) {
    snprintf(err, errlen, "endpoint must not have a query or fragment");
    goto done;
  }
  if (strcmp(scheme, "https") != 0) {
    if (strcmp(scheme, "http") != 0) {
      snprintf(err, errlen, "endpoint scheme '%s' is not https", scheme);
      goto done;
    }
    if (!endpoint_host_is_loopback(host)) {
      snprintf(err, errlen, "endpoint uses plain http to '%s': only https "
               "is allowed, except to a loopback host", host);
      goto done;
    }
  }
  size_t plen = path ? strlen(path) : 0;
  while (plen > 0 && path[plen - 1] == '/')
    plen--;
  size_t need = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) +
                plen + 8;
  out = malloc(need);
  if (out == NULL) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  snprintf(out, need, "%s://%s%s%s%.*s", scheme, host, port ? ":" : "",
           port ? port : "", (int)plen, path ? path : "");
done:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_free(user);
  curl_free(query);
  curl_free(fragment);
  curl_url_cleanup(u);
  return out;
}
