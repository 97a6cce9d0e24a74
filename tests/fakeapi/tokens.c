#include "tokens.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "numparse.h"

/* A fixed key keeps tokens identical across runs (handy for comparing
 * request logs); it is a fake, so forgery resistance is not a goal. */
static const char token_key[] = "fakeapi-page-token-v1";

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint64_t fnv1a(uint64_t h, const char *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static uint64_t listing_hash(const char *listing)
{
  return fnv1a(1469598103934665603ULL, listing, strlen(listing));
}

static uint64_t checksum(const char *text, size_t n)
{
  uint64_t h = fnv1a(1469598103934665603ULL, token_key, sizeof token_key - 1);
  return fnv1a(h, text, n);
}

size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < n)
      v |= in[i + 2];
    out[o++] = b64url[v >> 18 & 63];
    out[o++] = b64url[v >> 12 & 63];
    if (i + 1 < n)
      out[o++] = b64url[v >> 6 & 63];
    if (i + 2 < n)
      out[o++] = b64url[v & 63];
  }
  out[o] = '\0';
  return o;
}

/* Strict: unpadded base64url only; returns the decoded length or -1. */
static int decode(const char *in, unsigned char *out, size_t cap)
{
  size_t n = strlen(in), o = 0;
  if (n % 4 == 1)
    return -1;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    const char *pos = memchr(b64url, in[i], 64);
    if (!pos || in[i] == '\0')
      return -1;
    acc = acc << 6 | (uint32_t)(pos - b64url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap)
        return -1;
      out[o++] = (unsigned char)(acc >> bits);
    }
  }
  return (int)o;
}

void token_make(char out[TOKEN_MAX_LEN + 1], const char *listing,
                uint32_t offset, uint32_t nonce)
{
  char text[80];
  int n = snprintf(text, sizeof text, "v1.%016" PRIx64 ".%" PRIu32 ".%" PRIu32,
                   listing_hash(listing), offset, nonce);
  n += snprintf(text + n, sizeof text - (size_t)n, ".%016" PRIx64,
                checksum(text, (size_t)n));
  /* 3+16+1+10+1+10+1+16 = 58 bytes at most -> 78 base64 characters. */
  b64url_encode((const unsigned char *)text, (size_t)n, out);
}

bool token_parse(const char *token, const char *listing, uint32_t *offset)
{
  if (strlen(token) > TOKEN_MAX_LEN)
    return false;
  char text[80];
  int n = decode(token, (unsigned char *)text, sizeof text - 1);
  if (n < 0)
    return false;
  text[n] = '\0';
  if (strlen(text) != (size_t)n)
    return false;

  /* Only offset and nonce are needed: re-rendering the token from them
     * and comparing checks version, listing hash and checksum at once. */
  char *fields[5];
  int count = 0;
  for (char *save = NULL, *f = strtok_r(text, ".", &save); f && count < 5;
       f = strtok_r(NULL, ".", &save))
    fields[count++] = f;
  uint64_t off, nonce;
  if (count != 5 || !parse_u64(fields[2], UINT32_MAX, &off) ||
      !parse_u64(fields[3], UINT32_MAX, &nonce))
    return false;
  char expect[TOKEN_MAX_LEN + 1];
  token_make(expect, listing, (uint32_t)off, (uint32_t)nonce);
  if (strcmp(expect, token) != 0)
    return false;
  *offset = (uint32_t)off;
  return true;
}
