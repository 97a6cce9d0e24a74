#include "listing/redirect.h"

#include "http/url_parts.h"

#include <stdio.h>

int redirect_status(long status)
{
  return status == 301 || status == 302 || status == 303 || status == 307 ||
         status == 308;
}

redirect_verdict redirect_classify(const char *request_url,
                                   const char *location, char *origin,
                                   size_t originlen)
{
  if (originlen > 0)
    origin[0] = '\0';
  if (location == NULL)
    return REDIRECT_NONE; /* no usable Location: a plain HTTP error */
  url_parts to, from = {0};
  redirect_verdict v;
  if (url_parts_parse(location, &to) != URL_PARTS_OK || !to.scheme ||
      !to.host || !to.origin_port)
    v = REDIRECT_INVALID;
  else if (url_parts_parse(request_url, &from) == URL_PARTS_OK &&
           url_parts_same_origin(&to, &from))
    v = REDIRECT_SAME_ORIGIN;
  else {
    v = REDIRECT_OTHER_ORIGIN;
    snprintf(origin, originlen, "%.16s://%.120s:%.8s", to.scheme, to.host,
             to.origin_port);
  }
  url_parts_free(&to);
  url_parts_free(&from);
  return v;
}

void redirect_refusal(redirect_verdict verdict, long status, const char *origin,
                      char *msg, size_t msglen)
{
  if (verdict == REDIRECT_INVALID)
    snprintf(msg, msglen,
             "HTTP %ld: refused to follow a redirect to a "
             "location that is not a valid URL",
             status);
  else if (verdict == REDIRECT_OTHER_ORIGIN)
    snprintf(msg, msglen,
             "HTTP %ld: refused to follow a redirect to "
             "another host, %s (only the same scheme, host and port are "
             "followed: the request carries the token)",
             status, origin);
  else
    snprintf(msg, msglen, "HTTP %ld: more than %d redirects", status,
             REDIRECT_MAX);
}
