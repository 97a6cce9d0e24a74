/*
** A token from the VM metadata service (api.md §5.3): GET
** http://169.254.169.254/computeMetadata/v1/instance/service-accounts/
** default/token with "Metadata-Flavor: Google", answered with
** {"access_token", "expires_in", "token_type"}.  YC_METADATA_ADDR moves
** it (host[:port], or a URL).  Plain http is allowed only to the
** link-local metadata address itself and to loopback; never via a proxy.
*/
#ifndef METADATA_TOKEN_H
#define METADATA_TOKEN_H

#include "auth/auth_http.h"
#include "auth/cred_token.h"

#include <stddef.h>

#define METADATA_DEFAULT_ADDR "169.254.169.254"
#define METADATA_TOKEN_PATH \
  "/computeMetadata/v1/instance/service-accounts/default/token"

/*
** The token URL for `addr` (NULL or "" = the default address); malloc'd,
** or NULL with a sentence in `err` (an http address that is neither
** loopback nor the metadata address, a URL with a path, ...).
*/
char *metadata_token_url(const char *addr, char *err, size_t errlen);

/* Fetch a token: 0 and *out, or an AUTH_HTTP_* code with a sentence. */
int metadata_token_fetch(const auth_http *a, const char *url, cred_token *out,
                         char *err, size_t errlen);

#endif /* METADATA_TOKEN_H */
