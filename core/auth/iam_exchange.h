/*
** The IAM token exchange (api.md §5.1): POST {iam_endpoint}/iam/v1/tokens
** with {"jwt": ...} (a service account's signed JWT) or
** {"yandexPassportOauthToken": ...} (an OAuth token), answered with
** {"iamToken": ..., "expiresAt": RFC 3339}.
*/
#ifndef IAM_EXCHANGE_H
#define IAM_EXCHANGE_H

#include "auth/auth_http.h"
#include "auth/cred_token.h"

#include <stddef.h>

#define IAM_DEFAULT_ENDPOINT "https://iam.api.cloud.yandex.net"
#define IAM_TOKENS_PATH      "/iam/v1/tokens"

typedef enum iam_grant { IAM_GRANT_JWT, IAM_GRANT_OAUTH } iam_grant;

/*
** Exchange `secret` (a JWT or an OAuth token) at `token_url`.  Returns 0
** and fills *out, or an AUTH_HTTP_* code with a sentence in `err` that
** never holds the secret.
*/
int iam_exchange(const auth_http *a, const char *token_url, iam_grant grant,
                 const char *secret, cred_token *out, char *err, size_t errlen);

/* Read {"iamToken", "expiresAt"} (also used for token_command output):
** 0, or -1 with a sentence in err. */
int iam_parse_token_response(const char *body, size_t len, cred_token *out,
                             char *err, size_t errlen);

#endif /* IAM_EXCHANGE_H */
