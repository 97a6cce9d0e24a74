#include "iam.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokens.h"
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "text/json_member.h"
#include "timefmt.h"
#include "xalloc.h"

#define MAX_ISSUED       100000
#define MAX_JWT_LIFETIME 3600
#define CLOCK_SKEW       60

struct issued {
  char *token;
  double valid_until; /* min(expiry, revocation), Unix seconds */
};

/* Sub-second: a token that lives 1 s must not live 0.01 s by rounding. */
static double now_real(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct iam {
  struct iam_config cfg;
  EVP_PKEY *pub;
  char *key_id;
  char *sa_id;
  pthread_mutex_t mu;
  struct issued *issued;
  size_t nissued;
  uint64_t serial;
};

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  struct buf b;
  buf_init(&b);
  char tmp[4096];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
    buf_put(&b, tmp, n);
  fclose(f);
  return buf_steal(&b, len);
}

struct iam *iam_new(const struct iam_config *cfg)
{
  struct iam *iam = xcalloc(1, sizeof *iam);
  iam->cfg = *cfg;
  pthread_mutex_init(&iam->mu, NULL);
  if (cfg->sa_key_file) {
    size_t len = 0;
    char *text = slurp(cfg->sa_key_file, &len);
    char *pem = NULL;
    if (!text) {
      fprintf(stderr, "fakeapi: --iam-sa-key %s: cannot read it\n",
              cfg->sa_key_file);
      goto fail;
    }
    json_member_string(text, len, "id", &iam->key_id);
    json_member_string(text, len, "service_account_id", &iam->sa_id);
    json_member_string(text, len, "public_key", &pem);
    free(text);
    if (!iam->key_id || !iam->sa_id || !pem) {
      fprintf(stderr,
              "fakeapi: --iam-sa-key %s: needs id, service_account_id and "
              "public_key\n",
              cfg->sa_key_file);
      free(pem);
      goto fail;
    }
    BIO *bio = BIO_new_mem_buf(pem, -1);
    iam->pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    if (!iam->pub) {
      fprintf(stderr,
              "fakeapi: --iam-sa-key %s: public_key is not a PEM public key\n",
              cfg->sa_key_file);
      goto fail;
    }
  }
  return iam;
fail:
  iam_free(iam);
  return NULL;
}

void iam_free(struct iam *iam)
{
  if (!iam)
    return;
  for (size_t i = 0; i < iam->nissued; i++)
    free(iam->issued[i].token);
  free(iam->issued);
  EVP_PKEY_free(iam->pub);
  free(iam->key_id);
  free(iam->sa_id);
  pthread_mutex_destroy(&iam->mu);
  free(iam);
}

/* Strict base64url without padding; returns false on any other byte. */
static bool b64url_decode(const char *in, size_t n, unsigned char **out,
                          size_t *outlen)
{
  if (n % 4 == 1)
    return false;
  unsigned char *o = xmalloc(n * 3 / 4 + 3);
  size_t k = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    char c = in[i];
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0) {
      free(o);
      return false;
    }
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[k++] = (unsigned char)(acc >> bits);
    }
  }
  o[k] = '\0';
  *out = o;
  *outlen = k;
  return true;
}

/* The issued token: IAM-shaped ("t1.<id>.<86 chars>"), with a marker the
 * tests scan their output for. */
static char *issue(struct iam *iam, int64_t *expires)
{
  unsigned char rnd[64];
  char tail[100];
  RAND_bytes(rnd, sizeof rnd);
  b64url_encode(rnd, sizeof rnd, tail);
  double now = now_real();
  pthread_mutex_lock(&iam->mu);
  uint64_t serial = ++iam->serial;
  struct buf b;
  buf_init(&b);
  buf_printf(&b, "t1.FAKEIAMSECRET-%06llu.%s", (unsigned long long)serial,
             tail);
  char *tok = buf_steal(&b, NULL);
  double valid = now + (double)iam->cfg.ttl;
  if (iam->cfg.revoke_after && now + (double)iam->cfg.revoke_after < valid)
    valid = now + (double)iam->cfg.revoke_after;
  if (iam->nissued < MAX_ISSUED) {
    iam->issued = xrealloc(iam->issued,
                           (iam->nissued + 1) * sizeof *iam->issued);
    iam->issued[iam->nissued++] = (struct issued){xstrdup(tok), valid};
  }
  pthread_mutex_unlock(&iam->mu);
  *expires = (int64_t)now +
             (int64_t)iam->cfg.ttl; /* rounded down: never late */
  return tok;
}

bool iam_authorized(struct iam *iam, const char *static_token,
                    const char *authorization)
{
  if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
    return false;
  const char *tok = authorization + 7;
  while (*tok == ' ')
    tok++;
  if (strcmp(tok, static_token) == 0)
    return true;
  if (!iam)
    return false;
  bool ok = false;
  double now = now_real();
  pthread_mutex_lock(&iam->mu);
  for (size_t i = iam->nissued; i-- > 0;) {
    if (strcmp(iam->issued[i].token, tok) == 0) {
      ok = now < iam->issued[i].valid_until;
      break;
    }
  }
  pthread_mutex_unlock(&iam->mu);
  return ok;
}

bool iam_handles(const char *path)
{
  return strcmp(path, IAM_TOKENS_PATH) == 0 ||
         strcmp(path, METADATA_TOKEN_PATH) == 0;
}

static void fail(int *status, char **message, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(int *status, char **message, int code, const char *fmt, ...)
{
  struct buf b;
  buf_init(&b);
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  *status = code;
  *message = buf_steal(&b, NULL);
  fprintf(stderr, "fakeapi: iam: %d %s\n", code, *message);
}

static bool member_is(const char *json, size_t len, const char *key,
                      const char *want)
{
  char *v = NULL;
  bool ok = json_member_string(json, len, key, &v) == 1 && strcmp(v, want) == 0;
  free(v);
  return ok;
}

/* Checks a JWT the way IAM does; returns NULL when good, else the reason. */
static const char *verify_jwt(struct iam *iam, const char *jwt, int *code)
{
  *code = 400;
  if (!iam->pub)
    return "this fake has no service account key (--iam-sa-key)";
  const char *d1 = strchr(jwt, '.');
  const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  if (!d1 || !d2 || strchr(d2 + 1, '.'))
    return "JWT must have three dot-separated parts";
  unsigned char *hdr = NULL, *pl = NULL, *sig = NULL;
  size_t hl, pll, sl;
  const char *why = NULL;
  if (!b64url_decode(jwt, (size_t)(d1 - jwt), &hdr, &hl) ||
      !b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &pl, &pll) ||
      !b64url_decode(d2 + 1, strlen(d2 + 1), &sig, &sl)) {
    why = "JWT parts must be unpadded base64url";
    goto done;
  }
  const char *h = (const char *)hdr, *p = (const char *)pl;
  if (!member_is(h, hl, "alg", "PS256")) {
    why = "JWT header: alg must be PS256";
    goto done;
  }
  if (!member_is(h, hl, "typ", "JWT")) {
    why = "JWT header: typ must be JWT";
    goto done;
  }
  *code = 401;
  if (!member_is(h, hl, "kid", iam->key_id)) {
    why = "JWT header: kid is not a known key";
    goto done;
  }
  if (!member_is(p, pll, "iss", iam->sa_id)) {
    why = "JWT claims: iss is not the key's service account";
    goto done;
  }
  if (!member_is(p, pll, "aud", IAM_AUDIENCE)) {
    why = "JWT claims: aud must be " IAM_AUDIENCE;
    goto done;
  }
  double iat, exp;
  if (json_member_number(p, pll, "iat", &iat) != 1 ||
      json_member_number(p, pll, "exp", &exp) != 1) {
    why = "JWT claims: iat and exp must be numbers";
    goto done;
  }
  double now = (double)time(NULL);
  if (exp - iat > MAX_JWT_LIFETIME || exp <= iat) {
    why = "JWT claims: exp - iat must be between 1 and 3600 seconds";
    goto done;
  }
  if (iat > now + CLOCK_SKEW) {
    why = "JWT claims: iat is in the future";
    goto done;
  }
  if (exp <= now) {
    why = "JWT has expired";
    goto done;
  }
  /* RSA-PSS with SHA-256 and a salt of exactly 32 bytes (what IAM takes). */
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  int ok = md &&
           EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, iam->pub) == 1 &&
           EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
           EVP_DigestVerify(md, sig, sl, (const unsigned char *)jwt,
                            (size_t)(d2 - jwt)) == 1;
  EVP_MD_CTX_free(md);
  if (!ok)
    why = "JWT signature is not valid (PS256, salt length 32) for the key's "
          "public key";
done:
  free(hdr);
  free(pl);
  free(sig);
  return why;
}

void iam_respond(struct iam *iam, const char *method, const char *path,
                 const char *body, size_t body_len, const char *metadata_flavor,
                 int *status, char **out_body, size_t *out_len, char **message)
{
  *out_body = NULL;
  *message = NULL;
  struct buf b;
  buf_init(&b);
  int64_t expires;
  if (strcmp(path, METADATA_TOKEN_PATH) == 0) {
    if (!iam || !iam->cfg.metadata) {
      fail(status, message, 404,
           "Not Found: no metadata service here (--metadata)");
      return;
    }
    if (strcmp(method, "GET") != 0) {
      fail(status, message, 405, "Method %s is not allowed", method);
      return;
    }
    if (!metadata_flavor || strcmp(metadata_flavor, "Google") != 0) {
      fail(status, message, 403, "Missing Metadata-Flavor: Google header");
      return;
    }
    char *tok = issue(iam, &expires);
    buf_puts(&b, "{\"access_token\":");
    buf_put_json_string(&b, tok);
    buf_printf(&b, ",\"expires_in\":%llu,\"token_type\":\"Bearer\"}",
               (unsigned long long)iam->cfg.ttl);
    free(tok);
    *status = 200;
    *out_body = buf_steal(&b, out_len);
    return;
  }
  if (strcmp(method, "POST") != 0) {
    fail(status, message, 405, "Method %s is not allowed", method);
    return;
  }
  if (!iam) {
    fail(status, message, 404, "Not Found: no IAM here");
    return;
  }
  char *jwt = NULL, *oauth = NULL;
  if (!json_member_is_object(body, body_len)) {
    fail(status, message, 400, "Request body is not a JSON object");
    return;
  }
  json_member_string(body, body_len, "jwt", &jwt);
  json_member_string(body, body_len, "yandexPassportOauthToken", &oauth);
  if ((jwt != NULL) == (oauth != NULL)) {
    fail(status, message, 400,
         "Exactly one of jwt and yandexPassportOauthToken is required");
  } else if (jwt) {
    int code;
    const char *why = strlen(jwt) > 8000 ? "jwt: length must be at most 8000"
                                         : verify_jwt(iam, jwt, &code);
    if (why)
      fail(status, message, strlen(jwt) > 8000 ? 400 : code, "%s", why);
  } else if (!iam->cfg.oauth_token ||
             strcmp(oauth, iam->cfg.oauth_token) != 0) {
    fail(status, message, 401, "The OAuth token is invalid or has expired.");
  }
  free(jwt);
  free(oauth);
  if (*message)
    return;
  char *tok = issue(iam, &expires);
  buf_puts(&b, "{\"iamToken\":");
  buf_put_json_string(&b, tok);
  buf_puts(&b, ",\"expiresAt\":\"");
  time_put_rfc3339(&b, expires, -1);
  buf_puts(&b, "\"}");
  free(tok);
  *status = 200;
  *out_body = buf_steal(&b, out_len);
}
