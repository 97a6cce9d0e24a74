/*
** Where each request's bearer token comes from: the one place tokens are
** made.  A provider wraps one source (cred_chain.h picks it): a fixed
** token, an OAuth token or a service-account key exchanged at the IAM
** endpoint, a token command, or the VM metadata service.  Tokens of
** sources that can make new ones are cached with their lifetime and
** refreshed ahead of expiry: after min(1 h, lifetime - min(5 min,
** lifetime/5)), so 12-hour IAM tokens are renewed hourly as the docs
** advise and a 10-second token after 8 s.  When a refresh fails while the
** cached token is still valid, the cached one is used and the refresh is
** tried again shortly.  A 401 marks the token it rejected as stale.
**
** Every token is wiped from memory when it is replaced or freed, after it
** is retired (text/secret_text.h): it stays redacted, as it stays valid.
*/
#ifndef CRED_PROVIDER_H
#define CRED_PROVIDER_H

#include "http/trace.h"

#include <stddef.h>

typedef struct cred_provider cred_provider;
/* Opaque here (auth/sa_key.h): OpenSSL's headers stay out of the binding. */
typedef struct sa_key sa_key;

/* What the network-facing sources share (strings are copied). */
typedef struct cred_net {
  const char *ca_file;       /* CA bundle for https, NULL = the system's */
  const char *iam_token_url; /* {iam_endpoint}/iam/v1/tokens */
  const char *metadata_url;  /* the metadata service's token URL */
  int trace;                 /* log requests and token events to stderr */
  int probe;                 /* metadata: short timeouts, no retries */
} cred_net;

/* A provider that always returns `token` (copied), named `source`.  NULL
** on OOM. */
cred_provider *cred_provider_new_static_named(const char *token,
                                              const char *source,
                                              const cred_net *net);

/* An OAuth token exchanged at the IAM endpoint (copied). */
cred_provider *cred_provider_new_oauth(const char *oauth, const char *source,
                                       const cred_net *net);

/* A service-account key (taken over: freed with the provider). */
cred_provider *cred_provider_new_sa_key(sa_key *key, const char *source,
                                        const cred_net *net);

/* A command's output; argv (NULL-terminated) is copied. */
cred_provider *cred_provider_new_command(char *const argv[], long timeout_ms,
                                         const cred_net *net);

/* The VM metadata service at net->metadata_url. */
cred_provider *cred_provider_new_metadata(const cred_net *net);

void cred_provider_free(cred_provider *p);

/*
** Get a token now (the metadata probe does this at client creation).
** 0, or an AUTH_HTTP_* code (auth_http.h) with a sentence in `err`.
*/
int cred_provider_prime(cred_provider *p, char *err, size_t errlen);

/*
** A malloc'd copy of the token to send now, refreshed first when due, or
** NULL with a sentence in `err` (naming the source, never a secret).  Free
** it with secret_free() (it wipes the bytes).  *gen (may be NULL)
** receives the token's generation, to pass to cred_provider_invalidate.
*/
char *cred_provider_token(cred_provider *p, unsigned *gen, char *err,
                          size_t errlen);

/*
** The server rejected the token of generation `gen` (HTTP 401).  Returns
** 1 when a retry with a new token may succeed (the source can make one;
** the rejected token is not used again), 0 when not (a fixed token).
** Several requests rejected with the same token cause one refresh.
*/
int cred_provider_invalidate(cred_provider *p, unsigned gen);

/* The current token (NULL before the first), for scrubbing messages. */
const char *cred_provider_secret(const cred_provider *p);

/* Which source it is: "token", "YC_IAM_TOKEN", "YC_TOKEN", "sa_key_file",
** "YC_SERVICE_ACCOUNT_KEY_FILE", "token_command" or "metadata". */
const char *cred_provider_source(const cred_provider *p);

/* A line about the source for people, e.g. "service account ajexxx (key
** ajeyyy) from sa_key_file"; never a secret. */
const char *cred_provider_describe(const cred_provider *p);

/* The transport settings shared with listing requests. */
const char *cred_provider_ca_file(const cred_provider *p);
const mdb_trace *cred_provider_trace(const cred_provider *p);

#endif /* CRED_PROVIDER_H */
