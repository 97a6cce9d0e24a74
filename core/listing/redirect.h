/*
** Redirects of listing requests.  libcurl never follows them itself: the
** request carries the token, so only a Location with the request's own
** scheme, host and port is followed, at most REDIRECT_MAX times a page
** (every request here is a GET, so 301/302/303/307/308 all mean the
** same).  A refusal names the refused origin only, never its path or
** query, which may hold secrets.
*/
#ifndef REDIRECT_H
#define REDIRECT_H

#include <stddef.h>

#define REDIRECT_MAX 5

typedef enum redirect_verdict {
  REDIRECT_NONE = 0,     /* not a redirect, or no usable Location */
  REDIRECT_SAME_ORIGIN,  /* may be followed with the token */
  REDIRECT_OTHER_ORIGIN, /* refused: the token would go elsewhere */
  REDIRECT_INVALID,      /* refused: Location is not a URL */
  REDIRECT_TOO_MANY      /* refused: over REDIRECT_MAX for one page */
} redirect_verdict;

/* 1 for the statuses that redirect (with a Location). */
int redirect_status(long status);

/*
** Where `location` (NULL when the response had none) leads from the
** request at `request_url`: NONE, SAME_ORIGIN, OTHER_ORIGIN or INVALID.
** For OTHER_ORIGIN, `origin` receives "scheme://host:port" of the target.
*/
redirect_verdict redirect_classify(const char *request_url,
                                   const char *location, char *origin,
                                   size_t originlen);

/* The error message of a refused redirect (`verdict` OTHER_ORIGIN,
** INVALID or TOO_MANY) answered with HTTP `status`. */
void redirect_refusal(redirect_verdict verdict, long status, const char *origin,
                      char *msg, size_t msglen);

#endif /* REDIRECT_H */
