#include "auth/metadata_token.h"

#include "text/secret_text.h"
#include "http/endpoint_url.h"
#include "http/url_parts.h"
#include "text/json_member.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *metadata_token_url(const char *addr, char *err, size_t errlen)
{
  if (addr == NULL || *addr == '\0')
    addr = METADATA_DEFAULT_ADDR;
  char buf[512];
  if (strstr(addr, "://") == NULL)
    snprintf(buf, sizeof buf, "http://%s", addr);
  else
    snprintf(buf, sizeof buf, "%s", addr);
  url_parts u;
  char *out = NULL;
  int rc = url_parts_parse(buf, &u);
  if (rc == URL_PARTS_NO_MEMORY) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  if (rc != URL_PARTS_OK || u.scheme == NULL || u.host == NULL) {
    snprintf(err, errlen,
             "YC_METADATA_ADDR '%s' is not host[:port] or a "
             "URL",
             addr);
    goto done;
  }
  if (u.user || u.query || (u.path && strcmp(u.path, "/") != 0)) {
    snprintf(err, errlen,
             "YC_METADATA_ADDR '%s' must be host[:port] "
             "(no path, query or user)",
             addr);
    goto done;
  }
  if (strcmp(u.scheme, "https") != 0) {
    if (strcmp(u.scheme, "http") != 0) {
      snprintf(err, errlen,
               "YC_METADATA_ADDR scheme '%s' is not http or "
               "https",
               u.scheme);
      goto done;
    }
    /* The link-local address never leaves the host's hypervisor link. */
    if (strcmp(u.host, METADATA_DEFAULT_ADDR) != 0 &&
        !endpoint_host_is_loopback(u.host)) {
      snprintf(err, errlen,
               "YC_METADATA_ADDR uses plain http to '%s': "
               "only %s and loopback hosts may be reached without TLS",
               u.host, METADATA_DEFAULT_ADDR);
      goto done;
    }
  }
  size_t n = strlen(u.scheme) + strlen(u.host) + (u.port ? strlen(u.port) : 0) +
             sizeof METADATA_TOKEN_PATH + 8;
  out = malloc(n);
  if (out == NULL) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  snprintf(out, n, "%s://%s%s%s%s", u.scheme, u.host, u.port ? ":" : "",
           u.port ? u.port : "", METADATA_TOKEN_PATH);
done:
  url_parts_free(&u);
  return out;
}

int metadata_token_fetch(const auth_http *a, const char *url, cred_token *out,
                         char *err, size_t errlen)
{
  http_call call = {.url = url, .header = "Metadata-Flavor: Google"};
  http_response resp = {0};
  out->value = NULL;
  out->lifetime_ms = -1;
  int rc = auth_http_run(a, "the metadata service", &call, &resp, NULL, err,
                         errlen);
  if (rc == AUTH_HTTP_OK) {
    char *tok = NULL;
    double expires_in = -1;
    if (json_member_string(resp.body, resp.len, "access_token", &tok) != 1 ||
        !*tok || !secret_token_is_valid(tok)) {
      snprintf(err, errlen,
               "the metadata service (%s) answered without a "
               "usable \"access_token\"",
               url);
      secret_free(tok);
      rc = AUTH_HTTP_FAILED;
    } else {
      if (json_member_number(resp.body, resp.len, "expires_in", &expires_in) ==
              1 &&
          expires_in >= 0 && expires_in < 86400.0 * 7)
        /* GO SDK practice: count a second less than the service says. */
        out->lifetime_ms = expires_in >= 1 ? (long long)(expires_in - 1) * 1000
                                           : 0;
      out->value = tok;
    }
  }
  auth_http_response_free(&resp);
  return rc;
}
