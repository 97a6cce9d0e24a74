#include "http/url_parts.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

int url_parts_parse(const char *url, url_parts *p)
{
  memset(p, 0, sizeof *p);
  if (url == NULL)
    return URL_PARTS_INVALID;
  CURLU *u = curl_url();
  if (u == NULL)
    return URL_PARTS_NO_MEMORY;
  /* No CURLU_GUESS_SCHEME: "mdb.example" must not silently become http. */
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
  if (rc == CURLUE_OK) {
    /* Absent parts leave NULL behind (CURLUE_NO_PORT and the like). */
    curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &p->host, 0);
    curl_url_get(u, CURLUPART_PORT, &p->port, 0);
    curl_url_get(u, CURLUPART_PORT, &p->origin_port, CURLU_DEFAULT_PORT);
    curl_url_get(u, CURLUPART_PATH, &p->path, 0);
    curl_url_get(u, CURLUPART_USER, &p->user, 0);
    curl_url_get(u, CURLUPART_QUERY, &p->query, 0);
    curl_url_get(u, CURLUPART_FRAGMENT, &p->fragment, 0);
  }
  curl_url_cleanup(u);
  if (rc == CURLUE_OUT_OF_MEMORY)
    return URL_PARTS_NO_MEMORY;
  return rc == CURLUE_OK ? URL_PARTS_OK : URL_PARTS_INVALID;
}

void url_parts_free(url_parts *p)
{
  curl_free(p->scheme);
  curl_free(p->host);
  curl_free(p->port);
  curl_free(p->origin_port);
  curl_free(p->path);
  curl_free(p->user);
  curl_free(p->query);
  curl_free(p->fragment);
  memset(p, 0, sizeof *p);
}

int url_parts_same_origin(const url_parts *a, const url_parts *b)
{
  return a->scheme && b->scheme && a->host && b->host && a->origin_port &&
         b->origin_port && strcasecmp(a->scheme, b->scheme) == 0 &&
         strcasecmp(a->host, b->host) == 0 &&
         strcmp(a->origin_port, b->origin_port) == 0;
}
