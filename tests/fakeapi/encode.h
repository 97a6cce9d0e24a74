/* Content encodings for the gzip=, deflate= and bomb= fault actions
 * (zlib): compressing a response body, deciding whether the request's
 * Accept-Encoding allows a coding, and a decompression bomb whose
 * compressed form is served piece by piece without ever holding its
 * inflated size in memory. */
#ifndef FAKEAPI_ENCODE_H
#define FAKEAPI_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Smallest and largest inflated size of a bomb. */
#define BOMB_MIN_SIZE 1024
#define BOMB_MAX_SIZE 1000000000000ULL

/* `coding` ("gzip", "deflate") is acceptable under this Accept-Encoding
 * header value (RFC 9110 §12.5.3: named or "*", and not with q=0).  No
 * header: false (we never compress for a client that did not ask). */
bool encode_accepted(const char *accept_encoding, const char *coding);

/* The body compressed: gzip format, or zlib format for "deflate" (what
 * HTTP's deflate coding means).  Returns a malloc'd buffer. */
char *encode_compress(const char *data, size_t len, bool gzip, size_t *out_len);

/* A gzip body that inflates to exactly `size` bytes of JSON: one backup
 * whose "description" is a run of 'A' as long as it takes.  Built at start-up from three small
 * compressed pieces: a head, one chunk repeated as often as needed, and a
 * tail with the gzip trailer. */
struct bomb;

struct bomb *bomb_new(uint64_t size);
void bomb_free(struct bomb *b);
/* Compressed length, i.e. the Content-Length it is served with. */
uint64_t bomb_length(const struct bomb *b);
/* Copies up to `max` compressed bytes from `pos`; returns how many. */
size_t bomb_read(const struct bomb *b, uint64_t pos, char *out, size_t max);

/* The bomb's JSON itself, `size` bytes of it (BOMB_MIN_SIZE..BOMB_MAX_SIZE),
 * uncompressed: copies up to `max` bytes from `pos`; returns how many. */
size_t filler_read(uint64_t size, uint64_t pos, char *out, size_t max);

#endif
