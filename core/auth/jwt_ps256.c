#include "auth/jwt_ps256.h"

#include "text/secret_text.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSS_SALT_LEN 32

size_t jwt_base64url(const unsigned char *in, size_t n, char *out)
{
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0, i = 0;
  for (; i + 2 < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = tab[v >> 6 & 63];
    out[o++] = tab[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
  } else if (n - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = tab[v >> 6 & 63];
  }
  out[o] = '\0';
  return o;
}

/* `s` as a JSON string literal into out (quotes included); 0 if too long. */
static int json_quote(const char *s, char *out, size_t cap)
{
  size_t o = 0;
  if (cap < 3)
    return 0;
  out[o++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    size_t n;
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      n = 2;
    } else if (*p < 0x20) {
      n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
    } else {
      esc[0] = (char)*p;
      n = 1;
    }
    if (o + n + 2 > cap)
      return 0;
    memcpy(out + o, esc, n);
    o += n;
  }
  out[o++] = '"';
  out[o] = '\0';
  return 1;
}

static void openssl_error(char *err, size_t errlen, const char *what)
{
  unsigned long e = ERR_get_error();
  char buf[256] = "";
  if (e)
    ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

char *jwt_ps256_sign(EVP_PKEY *key, const char *kid, const char *iss,
                     const char *aud, long long iat, long lifetime_s, char *err,
                     size_t errlen)
{
  char qkid[256], qiss[256], qaud[512];
  if (!json_quote(kid, qkid, sizeof qkid) ||
      !json_quote(iss, qiss, sizeof qiss) ||
      !json_quote(aud, qaud, sizeof qaud)) {
    snprintf(err, errlen,
             "key id, service account id or audience is too "
             "long");
    return NULL;
  }
  if (lifetime_s < 1)
    lifetime_s = 1;
  if (lifetime_s > JWT_MAX_LIFETIME_S)
    lifetime_s = JWT_MAX_LIFETIME_S;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    snprintf(err, errlen, "the private key is not an RSA key");
    return NULL;
  }
  char header[400], payload[1400];
  int hl = snprintf(header, sizeof header,
                    "{\"typ\":\"JWT\",\"alg\":\"PS256\",\"kid\":%s}", qkid);
  int pl = snprintf(payload, sizeof payload,
                    "{\"iss\":%s,\"aud\":%s,\"iat\":%lld,\"exp\":%lld}", qiss,
                    qaud, iat, iat + lifetime_s);
  size_t siglen_max = (size_t)EVP_PKEY_get_size(key);
  size_t cap = 4 * ((size_t)hl + 2) / 3 + 4 * ((size_t)pl + 2) / 3 +
               4 * (siglen_max + 2) / 3 + 8;
  char *jwt = malloc(cap);
  unsigned char *sig = malloc(siglen_max ? siglen_max : 1);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  char *result = NULL;
  if (jwt == NULL || sig == NULL || md == NULL) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  size_t o = jwt_base64url((unsigned char *)header, (size_t)hl, jwt);
  jwt[o++] = '.';
  o += jwt_base64url((unsigned char *)payload, (size_t)pl, jwt + o);
  EVP_PKEY_CTX *pctx = NULL; /* owned by md */
  size_t siglen = siglen_max;
  if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PSS_SALT_LEN) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
      EVP_DigestSign(md, sig, &siglen, (unsigned char *)jwt, o) != 1) {
    openssl_error(err, errlen, "signing the JWT failed");
    goto done;
  }
  jwt[o++] = '.';
  jwt_base64url(sig, siglen, jwt + o);
  result = jwt;
  jwt = NULL;
done:
  EVP_MD_CTX_free(md);
  free(sig);
  if (jwt)
    secret_wipe(jwt, cap);
  free(jwt);
  return result;
}
