/*
** The JSON Web Token a service account signs to get an IAM token
** (api.md §5.2): header {"typ":"JWT","alg":"PS256","kid":<key id>},
** payload {"iss":<service account id>,"aud":<IAM token URL>,"iat":now,
** "exp":now+lifetime}, signed with RSA-PSS, SHA-256, MGF1-SHA-256 and a
** salt of exactly 32 bytes (the IAM service rejects OpenSSL's and Go's
** "auto"/maximum salt), all base64url without padding.
*/
#ifndef JWT_PS256_H
#define JWT_PS256_H

#include <openssl/evp.h>
#include <stddef.h>

#define JWT_MAX_LIFETIME_S 3600 /* the IAM service's limit on exp - iat */
#define JWT_AUDIENCE       "https://iam.api.cloud.yandex.net/iam/v1/tokens"

/*
** A malloc'd signed JWT (wipe it with secret_free), or NULL with a
** sentence in `err`.  `lifetime_s` is clamped to 1..JWT_MAX_LIFETIME_S.
*/
char *jwt_ps256_sign(EVP_PKEY *key, const char *kid, const char *iss,
                     const char *aud, long long iat, long lifetime_s, char *err,
                     size_t errlen);

/* base64url without padding of n bytes into out (4*ceil(n/3)+1 bytes). */
size_t jwt_base64url(const unsigned char *in, size_t n, char *out);

#endif /* JWT_PS256_H */
