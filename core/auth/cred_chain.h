/*
** Choosing the token source of a client.  Options given to mdb.client
** select their source outright; otherwise the environment is searched in
** the documented order:
**
**   1. token=                        a fixed IAM token
**   2. YC_IAM_TOKEN                  a fixed IAM token
**   3. YC_TOKEN                      an IAM token when it has the IAM shape
**                                    (secret_is_iam_token), else an
**                                    OAuth token exchanged at the IAM endpoint
**   4. sa_key_file= / YC_SERVICE_ACCOUNT_KEY_FILE
**                                    a service-account key (path or JSON):
**                                    a PS256 JWT exchanged at the IAM endpoint
**   5. token_command=                a command printing a token
**   6. the VM metadata service       probed with short timeouts; skipped
**                                    when the API endpoint is loopback (a
**                                    local test server) unless
**                                    YC_METADATA_ADDR is set
**
** `credentials = NAME` forces one source by the names above ("token",
** "YC_IAM_TOKEN", "YC_TOKEN", "sa_key_file", "token_command",
** "metadata"); "auto" (the default) is the search.
*/
#ifndef CRED_CHAIN_H
#define CRED_CHAIN_H

#include "auth/cred_provider.h"

#include <stddef.h>

/* The values `credentials=` accepts, NULL-terminated. */
extern const char *const cred_chain_names[];

typedef struct cred_options {
  const char *token;    /* token= */
  const char *sa_key;   /* sa_key_file= (path or JSON) */
  char *const *command; /* token_command= argv, NULL-terminated */
  long command_timeout_ms;
  const char *select;       /* credentials=, NULL = "auto" */
  const char *iam_endpoint; /* iam_endpoint=, NULL = YC_IAM_ENDPOINT or
                              ** the default */
  const char *api_endpoint; /* the client's normalised endpoint */
  const char *ca_file;      /* already resolved (ca_file= or
                              ** SSL_CERT_FILE), or NULL */
  int trace;
} cred_options;

typedef struct cred_outcome {
  const char *argument; /* on failure: the option to blame */
  char warning[512];    /* for stderr (a loose key file), or "" */
} cred_outcome;

/*
** The provider for `o`, or NULL with a sentence in `err` (never holding
** a secret) and out->argument set.  May probe the metadata service.
*/
cred_provider *cred_chain_resolve(const cred_options *o, cred_outcome *out,
                                  char *err, size_t errlen);

#endif /* CRED_CHAIN_H */
