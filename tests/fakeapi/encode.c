#include "encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "buf.h"
#include "xalloc.h"

#define BOMB_CHUNK (1u << 20) /* inflated bytes per repeated chunk */

/* One backup whose description is a long run of one letter: the run
 * compresses about 1000:1, the most deflate can do. */
static const char bomb_head[] =
    "{\"backups\":[{\"id\":\"bomb\",\"folderId\":\"b1gbombfolder\","
    "\"createdAt\":\"2026-01-01T00:00:00Z\",\"description\":\"";
static const char bomb_last[] = "\"}]}";

struct bomb {
  struct buf head;  /* gzip header + the compressed head */
  struct buf chunk; /* one compressed chunk, served `repeat` times */
  uint64_t repeat;
  struct buf tail; /* the compressed tail + CRC-32 + ISIZE */
};

/* A q value of zero ("0", "0.", "0.000") refuses the coding. */
static bool q_is_zero(const char *v, size_t n)
{
  if (n == 0 || v[0] != '0')
    return false;
  if (n > 1 && v[1] != '.')
    return false;
  for (size_t i = 2; i < n; i++) {
    if (v[i] != '0')
      return false;
  }
  return true;
}

/* One element of a comma-separated list: its name and whether q=0. */
static const char *next_coding(const char *p, const char **name, size_t *len,
                               bool *zero)
{
  while (*p == ' ' || *p == '\t' || *p == ',')
    p++;
  *name = p;
  p += strcspn(p, ",; \t");
  *len = (size_t)(p - *name);
  *zero = false;
  while (*p && *p != ',') {
    if (*p++ != ';')
      continue;
    p += strspn(p, " \t");
    if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      p += 2;
      size_t n = strcspn(p, ",; \t");
      *zero = q_is_zero(p, n);
      p += n;
    }
  }
  return p;
}

bool encode_accepted(const char *accept_encoding, const char *coding)
{
  if (!accept_encoding)
    return false;
  bool star = false;
  size_t want = strlen(coding);
  for (const char *p = accept_encoding; *p;) {
    const char *name;
    size_t len;
    bool zero;
    p = next_coding(p, &name, &len, &zero);
    if (len == want && strncasecmp(name, coding, len) == 0)
      return !zero; /* named explicitly: that decides */
    if (len == 1 && name[0] == '*')
      star = !zero;
  }
  return star;
}

/* Runs deflate over all of `data`, ending with `flush`, appending to out. */
static void deflate_into(z_stream *z, const char *data, size_t len, int flush,
                         struct buf *out)
{
  unsigned char tmp[16384];
  z->next_in = (unsigned char *)data;
  z->avail_in = (uInt)len;
  int rc;
  do {
    z->next_out = tmp;
    z->avail_out = sizeof tmp;
    rc = deflate(z, flush);
    if (rc == Z_STREAM_ERROR) {
      fprintf(stderr, "fakeapi: deflate failed\n");
      abort();
    }
    buf_put(out, tmp, sizeof tmp - z->avail_out);
  } while (z->avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
}

/* windowBits: 15 zlib, 31 gzip, -15 raw deflate. */
static void compress_piece(const char *data, size_t len, int window_bits,
                           int flush, struct buf *out)
{
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    fprintf(stderr, "fakeapi: deflateInit2 failed\n");
    abort();
  }
  deflate_into(&z, data, len, flush, out);
  deflateEnd(&z);
}

char *encode_compress(const char *data, size_t len, bool gzip, size_t *out_len)
{
  struct buf out;
  buf_init(&out);
  compress_piece(data, len, gzip ? 31 : 15, Z_FINISH, &out);
  return buf_steal(&out, out_len);
}

/* CRC-32 of `count` copies of a piece whose CRC is `crc` and length `len`
 * (binary powers, so a million chunks cost twenty combines). */
static uLong crc_repeat(uLong crc, uint64_t len, uint64_t count)
{
  uLong result = crc32(0L, Z_NULL, 0);
  while (count) {
    if (count & 1)
      result = crc32_combine(result, crc, (z_off_t)len);
    count >>= 1;
    if (count) {
      crc = crc32_combine(crc, crc, (z_off_t)len);
      len *= 2;
    }
  }
  return result;
}

static void put_le32(struct buf *b, uint32_t v)
{
  unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                         (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
  buf_put(b, le, sizeof le);
}

/*
 * Each piece is its own raw deflate stream, ended by a sync flush (the
 * tail by the final block), so the pieces line up on byte boundaries and
 * any number of copies of the chunk in a row is still one valid stream:
 * a piece only refers back into itself.
 */
struct bomb *bomb_new(uint64_t size)
{
  size_t head_len = sizeof bomb_head - 1, last_len = sizeof bomb_last - 1;
  if (size < BOMB_MIN_SIZE || size > BOMB_MAX_SIZE)
    return NULL;
  struct bomb *b = xcalloc(1, sizeof *b);
  buf_init(&b->head);
  buf_init(&b->chunk);
  buf_init(&b->tail);

  uint64_t letters = size - head_len - last_len;
  b->repeat = letters / BOMB_CHUNK;
  size_t rest = (size_t)(letters % BOMB_CHUNK);

  static const unsigned char gzip_header[10] = {0x1f, 0x8b, 8, 0, 0,
                                                0,    0,    0, 2, 3};
  buf_put(&b->head, gzip_header, sizeof gzip_header);
  compress_piece(bomb_head, head_len, -15, Z_SYNC_FLUSH, &b->head);
  uLong crc = crc32(0L, (const Bytef *)bomb_head, (uInt)head_len);

  char *text = xmalloc(BOMB_CHUNK + last_len);
  memset(text, 'A', BOMB_CHUNK);
  if (b->repeat) {
    compress_piece(text, BOMB_CHUNK, -15, Z_SYNC_FLUSH, &b->chunk);
    uLong one = crc32(0L, (const Bytef *)text, BOMB_CHUNK);
    crc = crc32_combine(crc, crc_repeat(one, BOMB_CHUNK, b->repeat),
                        (z_off_t)(b->repeat * BOMB_CHUNK));
  }
  memcpy(text + rest, bomb_last, last_len);
  compress_piece(text, rest + last_len, -15, Z_FINISH, &b->tail);
  crc = crc32_combine(crc,
                      crc32(0L, (const Bytef *)text, (uInt)(rest + last_len)),
                      (z_off_t)(rest + last_len));
  put_le32(&b->tail, (uint32_t)crc);
  put_le32(&b->tail, (uint32_t)size); /* ISIZE: the size modulo 2^32 */
  free(text);
  return b;
}

void bomb_free(struct bomb *b)
{
  if (!b)
    return;
  buf_free(&b->head);
  buf_free(&b->chunk);
  buf_free(&b->tail);
  free(b);
}

size_t filler_read(uint64_t size, uint64_t pos, char *out, size_t max)
{
  uint64_t head = sizeof bomb_head - 1, last = sizeof bomb_last - 1;
  size_t done = 0;
  while (done < max && pos < size) {
    size_t n;
    if (pos < head) {
      n = (size_t)(head - pos) < max - done ? (size_t)(head - pos) : max - done;
      memcpy(out + done, bomb_head + pos, n);
    } else if (pos < size - last) {
      uint64_t run = size - last - pos;
      n = run < max - done ? (size_t)run : max - done;
      memset(out + done, 'A', n);
    } else {
      uint64_t in = pos - (size - last);
      n = (size_t)(last - in) < max - done ? (size_t)(last - in) : max - done;
      memcpy(out + done, bomb_last + in, n);
    }
    done += n;
    pos += n;
  }
  return done;
}

uint64_t bomb_length(const struct bomb *b)
{
  return b->head.len + b->repeat * b->chunk.len + b->tail.len;
}

size_t bomb_read(const struct bomb *b, uint64_t pos, char *out, size_t max)
{
  size_t done = 0;
  uint64_t middle = b->repeat * b->chunk.len;
  while (done < max) {
    const char *src;
    uint64_t avail;
    if (pos < b->head.len) {
      src = b->head.data + pos;
      avail = b->head.len - pos;
    } else if (pos - b->head.len < middle) {
      uint64_t in = (pos - b->head.len) % b->chunk.len;
      src = b->chunk.data + in;
      avail = b->chunk.len - in;
    } else if (pos - b->head.len - middle < b->tail.len) {
      uint64_t in = pos - b->head.len - middle;
      src = b->tail.data + in;
      avail = b->tail.len - in;
    } else {
      break;
    }
    size_t n = avail < max - done ? (size_t)avail : max - done;
    memcpy(out + done, src, n);
    done += n;
    pos += n;
  }
  return done;
}
