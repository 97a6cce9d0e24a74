/*
** A URL taken apart by libcurl's parser: the one place core parses URLs,
** so the endpoint, the metadata address and a redirect's target are all
** read the way libcurl will read them when it connects.
*/
#ifndef URL_PARTS_H
#define URL_PARTS_H

/* Each part is NULL when the URL has none. */
typedef struct url_parts {
  char *scheme, *host, *port, *path, *user, *query, *fragment;
  char *origin_port; /* port, or the scheme's default when absent */
} url_parts;

enum {
  URL_PARTS_OK = 0,
  URL_PARTS_INVALID = -1, /* not a URL with a scheme (none is guessed) */
  URL_PARTS_NO_MEMORY = -2
};

/* Fill `p` from `url` (NULL is invalid); release with url_parts_free,
** also after a failure. */
int url_parts_parse(const char *url, url_parts *p);
void url_parts_free(url_parts *p);

/* 1 when both parsed URLs have the same scheme, host and port (a missing
** port taken as the scheme's default), as an origin is compared. */
int url_parts_same_origin(const url_parts *a, const url_parts *b);

#endif /* URL_PARTS_H */
