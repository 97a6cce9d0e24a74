/*
** A token from a command the user names (token_command=, e.g.
** {"yc", "iam", "create-token"}): run directly with posix_spawnp, never
** through a shell, with stdin from /dev/null, in its own process group,
** and killed (the whole group) when it outlives its timeout or the user
** presses Ctrl-C.  Its stdout is the token: one line, or JSON with
** "iamToken"/"expiresAt" or "access_token"/"expires_in".  Its output is
** never quoted in messages; the first line of its stderr is (scrubbed).
*/
#ifndef TOKEN_COMMAND_H
#define TOKEN_COMMAND_H

#include "auth/auth_http.h"
#include "auth/cred_token.h"
#include "http/trace.h"

#include <stddef.h>

#define TOKEN_COMMAND_MAX_OUTPUT (64 * 1024)

/*
** Run argv (NULL-terminated, argv[0] looked up in PATH) for at most
** timeout_ms.  AUTH_HTTP_OK and *out, or AUTH_HTTP_FAILED with a sentence
** in `err`, or AUTH_HTTP_INTERRUPTED (auth_http.h's codes, as every
** token source returns).
*/
int token_command_run(char *const argv[], long timeout_ms,
                      const mdb_trace *trace, cred_token *out, char *err,
                      size_t errlen);

#endif /* TOKEN_COMMAND_H */
