#include "auth/iam_exchange.h"

#include "text/secret_text.h"
#include "text/json_member.h"
#include "text/rfc3339.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int iam_parse_token_response(const char *body, size_t len, cred_token *out,
                             char *err, size_t errlen)
{
  char *tok = NULL, *exp = NULL;
  out->value = NULL;
  out->lifetime_ms = -1;
  if (json_member_string(body, len, "iamToken", &tok) != 1 || !*tok) {
    snprintf(err, errlen, "the answer has no \"iamToken\"");
    secret_free(tok);
    return -1;
  }
  if (!secret_token_is_valid(tok)) {
    snprintf(err, errlen,
             "the IAM token in the answer contains spaces or "
             "control characters");
    secret_free(tok);
    return -1;
  }
  rfc3339_time t;
  if (json_member_string(body, len, "expiresAt", &exp) == 1 &&
      rfc3339_parse(exp, strlen(exp), &t) == 0) {
    /* Milliseconds: a token living a few seconds must not lose one to
    ** rounding (the tests use such tokens). */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long left = ((long long)t.sec - (long long)now.tv_sec) * 1000LL +
                     ((long long)t.nsec - now.tv_nsec) / 1000000LL;
    long long week = 7LL * 86400 * 1000;
    out->lifetime_ms = left < 0 ? 0 : left > week ? week : left;
  }
  free(exp);
  out->value = tok;
  return 0;
}

int iam_exchange(const auth_http *a, const char *token_url, iam_grant grant,
                 const char *secret, cred_token *out, char *err, size_t errlen)
{
  const char *field = grant == IAM_GRANT_JWT ? "jwt"
                                             : "yandexPassportOauthToken";
  /* The secret is base64url or an OAuth token: no JSON escaping needed,
  ** and secret_token_is_valid() already refused quotes' neighbours
  ** (control bytes); a quote or backslash is refused here. */
  if (strpbrk(secret, "\"\\") != NULL) {
    snprintf(err, errlen, "the %s contains a quote or a backslash",
             grant == IAM_GRANT_JWT ? "JWT" : "OAuth token");
    return AUTH_HTTP_FAILED;
  }
  size_t cap = strlen(secret) + strlen(field) + 16;
  char *body = malloc(cap);
  if (body == NULL) {
    snprintf(err, errlen, "out of memory");
    return AUTH_HTTP_FAILED;
  }
  int blen = snprintf(body, cap, "{\"%s\":\"%s\"}", field, secret);
  http_call call = {.url = token_url, .body = body, .body_len = (size_t)blen};
  http_response resp = {0};
  const char *secrets[] = {secret, NULL};
  int rc = auth_http_run(a, "the IAM token endpoint", &call, &resp, secrets,
                         err, errlen);
  secret_wipe(body, cap);
  free(body);
  if (rc == AUTH_HTTP_OK) {
    char why[160];
    if (iam_parse_token_response(resp.body, resp.len, out, why, sizeof why) !=
        0) {
      snprintf(err, errlen,
               "the IAM token endpoint (%s) answered HTTP %ld "
               "but %s",
               token_url, resp.status, why);
      rc = AUTH_HTTP_FAILED;
    }
  }
  auth_http_response_free(&resp);
  return rc;
}
