/* The fake IAM side: the token exchange (POST /iam/v1/tokens) that
 * verifies a service account's JWT for real (PS256 signature against the
 * public key of --iam-sa-key, header, claims and their time limits) or
 * accepts the --oauth-token, the VM metadata service's token route, and
 * the store of tokens they issued, which the API accepts until they
 * expire (--iam-token-ttl) or are revoked (--iam-token-revoke-after). */
#ifndef FAKEAPI_IAM_H
#define FAKEAPI_IAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IAM_TOKENS_PATH "/iam/v1/tokens"
#define METADATA_TOKEN_PATH \
  "/computeMetadata/v1/instance/service-accounts/default/token"
#define IAM_AUDIENCE "https://iam.api.cloud.yandex.net/iam/v1/tokens"

struct iam_config {
  const char *sa_key_file; /* authorized key JSON; only public_key, id and
                                 service_account_id are read */
  const char *oauth_token; /* accepted OAuth token, or NULL */
  bool metadata;           /* serve the metadata token route */
  uint64_t ttl;            /* lifetime of issued tokens, seconds */
  uint64_t revoke_after;   /* 0, or seconds after which an issued token
                                 is refused although not expired */
};

struct iam;

/* NULL after a message on stderr (unreadable key file, bad key). */
struct iam *iam_new(const struct iam_config *cfg);
void iam_free(struct iam *iam);

/* true when `authorization` ("Bearer X") carries `static_token` or a token
 * this fake issued that is still valid. */
bool iam_authorized(struct iam *iam, const char *static_token,
                    const char *authorization);

/* true when the path is one of the routes above (so the caller routes the
 * request here). */
bool iam_handles(const char *path);

/* Answer a request to one of those routes: *status and a malloc'ed JSON
 * body (a google.rpc.Status message for errors in *message instead, with
 * *body NULL). */
void iam_respond(struct iam *iam, const char *method, const char *path,
                 const char *body, size_t body_len, const char *metadata_flavor,
                 int *status, char **out_body, size_t *out_len, char **message);

#endif
