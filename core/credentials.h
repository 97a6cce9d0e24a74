/*
** Where the bearer token comes from.  Today: the client's `token` option,
** then the YC_IAM_TOKEN environment variable.  The returned copy is the
** caller's to wipe and free with credentials_free().
*/
#ifndef CREDENTIALS_H
#define CREDENTIALS_H

#include <stddef.h>

/*
** The token to use: `option` when non-NULL and non-empty, else
** YC_IAM_TOKEN.  NULL with a sentence in `err` saying how to provide one.
*/
char *credentials_resolve(const char *option, char *err, size_t errlen);

/* Overwrite and free a token returned by credentials_resolve(). */
void credentials_free(char *token);

/* 1 when `token` contains no byte that would break an HTTP header. */
int credentials_token_is_valid(const char *token);

#endif /* CREDENTIALS_H */
