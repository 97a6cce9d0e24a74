/*
** jwt_ps256_sign: the header and claims IAM wants, base64url without
** padding, and a signature that verifies as RSA-PSS/SHA-256 with a salt
** of exactly 32 bytes (and not with another salt length).
*/
#include "check.h"
#include "text/json_member.h"
#include "auth/jwt_ps256.h"
#include "text/secret_text.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

static int b64val(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

static size_t unb64(const char *s, size_t n, unsigned char *out)
{
  unsigned acc = 0;
  int bits = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64val(s[i]);
    if (v < 0)
      return (size_t)-1;
    acc = acc << 6 | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (unsigned char)(acc >> bits);
    }
  }
  out[k] = 0;
  return k;
}

static int verify(EVP_PKEY *key, const char *jwt, int saltlen)
{
  const char *d2 = strrchr(jwt, '.');
  unsigned char sig[1024];
  size_t sl = unb64(d2 + 1, strlen(d2 + 1), sig);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  int ok = EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
           EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
           EVP_DigestVerify(md, sig, sl, (const unsigned char *)jwt,
                            (size_t)(d2 - jwt)) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

static void test_base64url(void)
{
  char out[16];
  CHECK_EQ_INT(jwt_base64url((const unsigned char *)"", 0, out), 0);
  jwt_base64url((const unsigned char *)"f", 1, out);
  CHECK_EQ_STR(out, "Zg");
  jwt_base64url((const unsigned char *)"fo", 2, out);
  CHECK_EQ_STR(out, "Zm8");
  jwt_base64url((const unsigned char *)"foo", 3, out);
  CHECK_EQ_STR(out, "Zm9v");
  jwt_base64url((const unsigned char *)"\xfb\xff\xbf", 3, out);
  CHECK_EQ_STR(out, "-_-_"); /* url-safe alphabet */
}

static void test_sign(EVP_PKEY *key)
{
  char err[256] = "";
  char *jwt = jwt_ps256_sign(key, "ajekey\"1", "ajesa1", JWT_AUDIENCE,
                             1700000000LL, 7200, err, sizeof err);
  if (!CHECK_NOT_NULL(jwt)) {
    fprintf(stderr, "  %s\n", err);
    return;
  }
  CHECK(strchr(jwt, '=') == NULL);
  const char *d1 = strchr(jwt, '.'), *d2 = strrchr(jwt, '.');
  CHECK(d1 != NULL && d2 != NULL && d1 < d2);
  unsigned char hdr[512], pl[512];
  size_t hl = unb64(jwt, (size_t)(d1 - jwt), hdr);
  size_t pll = unb64(d1 + 1, (size_t)(d2 - d1 - 1), pl);
  char *v = NULL;
  double n = 0;
  CHECK_EQ_INT(json_member_string((char *)hdr, hl, "alg", &v), 1);
  CHECK_EQ_STR(v, "PS256");
  free(v);
  CHECK_EQ_INT(json_member_string((char *)hdr, hl, "typ", &v), 1);
  CHECK_EQ_STR(v, "JWT");
  free(v);
  CHECK_EQ_INT(json_member_string((char *)hdr, hl, "kid", &v), 1);
  CHECK_EQ_STR(v, "ajekey\"1"); /* escaped in, decoded out */
  free(v);
  CHECK_EQ_INT(json_member_string((char *)pl, pll, "iss", &v), 1);
  CHECK_EQ_STR(v, "ajesa1");
  free(v);
  CHECK_EQ_INT(json_member_string((char *)pl, pll, "aud", &v), 1);
  CHECK_EQ_STR(v, "https://iam.api.cloud.yandex.net/iam/v1/tokens");
  free(v);
  CHECK_EQ_INT(json_member_number((char *)pl, pll, "iat", &n), 1);
  CHECK(n == 1700000000.0);
  CHECK_EQ_INT(json_member_number((char *)pl, pll, "exp", &n), 1);
  CHECK(n == 1700000000.0 + 3600); /* 7200 clamped to the 1 h limit */
  CHECK_EQ_INT(verify(key, jwt, 32), 1);
  CHECK_EQ_INT(verify(key, jwt, 20), 0); /* exactly 32, not "any" */
  /* PSS is randomised: two signatures differ, both verify */
  char *jwt2 = jwt_ps256_sign(key, "ajekey\"1", "ajesa1", JWT_AUDIENCE,
                              1700000000LL, 7200, err, sizeof err);
  CHECK(jwt2 && strcmp(jwt, jwt2) != 0);
  CHECK_EQ_INT(verify(key, jwt2, 32), 1);
  secret_free(jwt);
  secret_free(jwt2);
}

static void test_not_rsa(void)
{
  EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  char err[256] = "";
  CHECK_NULL(
      jwt_ps256_sign(ec, "k", "s", JWT_AUDIENCE, 1, 60, err, sizeof err));
  CHECK_CONTAINS(err, "not an RSA key");
  EVP_PKEY_free(ec);
}

int main(void)
{
  EVP_PKEY *key = EVP_RSA_gen(2048);
  if (key == NULL) {
    fprintf(stderr, "cannot generate an RSA key\n");
    return 2;
  }
  test_base64url();
  test_sign(key);
  test_not_rsa();
  EVP_PKEY_free(key);
  return check_summary();
}
