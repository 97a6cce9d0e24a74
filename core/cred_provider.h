/*
** Where each request's bearer token comes from.  A provider hands out the
** current token (refreshing it when a source can), and is told when the
** server rejected one (HTTP 401) so the next request gets a fresh token.
** Today's only source is a fixed token; service-account keys, OAuth
** exchange, token commands and the metadata service plug in here.
*/
#ifndef CRED_PROVIDER_H
#define CRED_PROVIDER_H

#include <stddef.h>

typedef struct cred_provider cred_provider;

/* A provider that always returns `token` (copied).  NULL on OOM. */
cred_provider *cred_provider_new_static(const char *token);
void cred_provider_free(cred_provider *p);

/*
** A malloc'd copy of the token to send now, or NULL with a sentence in
** `err`.  Free it with credentials_free() (it wipes the bytes).
*/
char *cred_provider_token(cred_provider *p, char *err, size_t errlen);

/*
** The server rejected `token`.  Returns 1 when a retry with a new token
** may succeed (the source can refresh), 0 when not (a fixed token).
*/
int cred_provider_invalidate(cred_provider *p, const char *token);

/* The token itself when it is fixed, for scrubbing from messages. */
const char *cred_provider_secret(const cred_provider *p);

/* A short description of the source ("the token option", ...). */
const char *cred_provider_source(const cred_provider *p);

#endif /* CRED_PROVIDER_H */
