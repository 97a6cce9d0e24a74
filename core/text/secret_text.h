/*
** Small pieces every token source shares: checking a token before it goes
** into a header, telling an IAM token from an OAuth token, wiping secrets
** from memory, and scrubbing them out of text that may be printed.
*/
#ifndef SECRET_TEXT_H
#define SECRET_TEXT_H

#include <stddef.h>

/* Overwrite and free a NUL-terminated secret (NULL is fine). */
void secret_free(char *token);

/* Overwrite n bytes so a secret does not linger in freed memory. */
void secret_wipe(void *p, size_t n);

/* 1 when `token` contains no byte that would break an HTTP header. */
int secret_token_is_valid(const char *token);

/*
** 1 when `token` has the shape of an IAM token rather than an OAuth token:
** it starts with "t1." and has exactly two dots (the rule the Terraform
** provider uses; the documented regex pins lengths that may change).
*/
int secret_is_iam_token(const char *token);

/*
** A malloc'd copy of `text` fit to print: each of `secrets` (a
** NULL-terminated list, entries may be NULL or short and are then
** skipped) and anything shaped like a bearer header, an IAM token, a JWT
** or a PEM block is replaced by "[REDACTED]".  NULL when out of memory.
*/
char *secret_scrub(const char *text, const char *const *secrets);

/*
** The secrets in use in this process (each client's current token, the
** OAuth token it exchanges), which every scrub below redacts besides its
** own list: text made far from the client that holds them (a trace line,
** the URL of a page a server pointed to) is scrubbed of them too.  `s` is
** kept by pointer, not copied: remove or retire it before it is
** freed.  Strings
** shorter than the scrub's minimum are not kept.  secret_live_add returns
** 0, or -1 when out of memory; adding a pointer twice keeps it once.
** Thread-safe.
*/
int secret_live_add(const char *s);
void secret_live_remove(const char *s);

/* How many retired secrets are kept (secret_text.c says why this many). */
#define SECRET_RETIRED_MAX 32

/*
** Retire `s`: keep a copy of it that every scrub keeps redacting, and take
** `s` off the live secrets (by pointer; it need not be there), so the
** caller may wipe and free it.  For a token that was replaced or whose
** provider is freed: it stays valid at the server for hours, and text made
** later may still hold it (a request already in flight, a page token or a
** redirect's location a server echoed).  Retiring an equal string again
** keeps one copy.  Only the last SECRET_RETIRED_MAX are kept: the oldest
** copy is wiped to make room, and every copy is wiped at exit.  Strings
** shorter than the scrub's minimum are only taken off.  0, or -1 when out
** of memory (then `s` stays live).  Thread-safe.
*/
int secret_live_retire(const char *s);

/* The room secret_scrub_into needs for a text of `len` bytes. */
#define CREDENTIALS_SCRUB_SIZE(len) (3 * (len) + sizeof "[REDACTED]" + 1)

/*
** The same into `out`, which has room for CREDENTIALS_SCRUB_SIZE(len)
** bytes (len = strlen(text)), for callers that own their buffer (the Lua
** binding builds error messages in a luaL_Buffer).  Returns the length
** written, NUL not counted.
*/
size_t secret_scrub_into(const char *text, const char *const *secrets,
                         char *out);

/*
** Like secret_scrub_into but only `secrets` and the live secrets, no
** patterns: for data such as a URL, where a page token that happens to
** look like a JWT must stay intact while a token itself must not.
*/
size_t secret_redact_into(const char *text, const char *const *secrets,
                          char *out);

#endif /* SECRET_TEXT_H */
