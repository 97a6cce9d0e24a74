/* Page tokens: opaque, URL-safe, at most 100 characters.  A token names
 * one listing (by a hash of its identity string) and the offset the next
 * page starts at, plus a nonce.  The same listing, offset and nonce always
 * give the byte-identical token, which is what lets a fault rule hand the
 * client a repeated token.  A keyed checksum makes the server reject
 * tokens it did not issue, or issued for another listing. */
#ifndef FAKEAPI_TOKENS_H
#define FAKEAPI_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX_LEN 100

void token_make(char out[TOKEN_MAX_LEN + 1], const char *listing,
                uint32_t offset, uint32_t nonce);
bool token_parse(const char *token, const char *listing, uint32_t *offset);

/* `n` bytes as unpadded base64url in `out` (room for 4 * (n + 2) / 3 + 1
 * bytes, NUL-terminated); returns its length.  The IAM's tokens use it too. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);

#endif
