/*
** A token as a source hands it over: the value and how long it lives.
** Shared by the sources (iam_exchange, token_command, metadata_token) and
** the cache in cred_provider.c.
*/
#ifndef CRED_TOKEN_H
#define CRED_TOKEN_H

typedef struct cred_token {
  char *value;           /* malloc'd; wipe with secret_free */
  long long lifetime_ms; /* from now, -1 when not known */
} cred_token;

#endif /* CRED_TOKEN_H */
