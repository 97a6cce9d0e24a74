/* Growable byte buffer used to build every response body and every
 * generated JSON object.  Always NUL-terminated so it can double as a
 * C string. */
#ifndef FAKEAPI_BUF_H
#define FAKEAPI_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
  char *data;
  size_t len;
  size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_put_u64(struct buf *b, uint64_t v);
static inline void buf_putc(struct buf *b, char c)
{
  if (b->len + 2 > b->cap)
    buf_reserve(b, 1);
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
}

/* Zero-padded to at least `width` digits. */
void buf_put_u64_padded(struct buf *b, uint64_t v, int width);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included. */
void buf_put_json_string(struct buf *b, const char *s);
/* Hands the bytes over to the caller (free() them); the buffer is empty after. */
char *buf_steal(struct buf *b, size_t *len);

#endif
