/*
** A service account's authorized key, as `yc iam key create -o key.json`
** writes it (api.md §5.2): {"id", "service_account_id", "private_key"
** (PKCS#8 PEM), ...}; the camelCase names of the IAM REST API are
** accepted too.  Given as a path or as the JSON text itself (what
** Terraform accepts in YC_SERVICE_ACCOUNT_KEY_FILE).
*/
#ifndef SA_KEY_H
#define SA_KEY_H

#include <openssl/evp.h>
#include <stddef.h>

#define SA_KEY_MAX_FILE (64 * 1024)

typedef struct sa_key {
  char *key_id;             /* "kid" of the JWT */
  char *service_account_id; /* "iss" of the JWT */
  EVP_PKEY *pkey;           /* the private key; OpenSSL clears it on free */
} sa_key;

/*
** Load the key from `spec`: JSON when it starts with '{' (blanks
** allowed), else a path.  `origin` ("sa_key_file", an environment
** variable's name) is how messages refer to it; they never quote the key.
** When the file can be read by group or others, `warn` gets a sentence
** (else ""), as ssh warns about unprotected keys.  NULL with a sentence in
** `err` on failure.
*/
sa_key *sa_key_load(const char *spec, const char *origin, char *warn,
                    size_t warnlen, char *err, size_t errlen);
void sa_key_free(sa_key *k);

#endif /* SA_KEY_H */
