#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void buf_init(struct buf *b)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void buf_free(struct buf *b)
{
  free(b->data);
  buf_init(b);
}

void buf_reset(struct buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void buf_reserve(struct buf *b, size_t extra)
{
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
  buf_reserve(b, n);
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
  buf_put(b, s, strlen(s));
}

void buf_put_u64_padded(struct buf *b, uint64_t v, int width)
{
  char tmp[24];
  int n = 0;
  do {
    tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n < width && n < (int)sizeof tmp)
    tmp[sizeof tmp - 1 - n++] = '0';
  buf_put(b, tmp + sizeof tmp - n, (size_t)n);
}

void buf_put_u64(struct buf *b, uint64_t v)
{
  buf_put_u64_padded(b, v, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  if (n > 0) {
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    b->len += (size_t)n;
  }
  va_end(again);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void buf_put_json_string(struct buf *b, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  /* Ids are almost always plain; copy those in one go. */
  size_t plain = 0;
  while (s[plain] && s[plain] != '"' && s[plain] != '\\' &&
         (unsigned char)s[plain] >= 0x20)
    plain++;
  buf_reserve(b, plain + 2);
  b->data[b->len++] = '"';
  memcpy(b->data + b->len, s, plain);
  b->len += plain;
  b->data[b->len] = '\0';
  for (const unsigned char *p = (const unsigned char *)s + plain; *p; p++) {
    switch (*p) {
    case '"': buf_puts(b, "\\\""); break;
    case '\\': buf_puts(b, "\\\\"); break;
    case '\n': buf_puts(b, "\\n"); break;
    case '\r': buf_puts(b, "\\r"); break;
    case '\t': buf_puts(b, "\\t"); break;
    default:
      if (*p < 0x20) {
        char esc[7] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0};
        buf_puts(b, esc);
      } else {
        buf_putc(b, (char)*p);
      }
    }
  }
  buf_putc(b, '"');
}

char *buf_steal(struct buf *b, size_t *len)
{
  if (!b->data) {
    buf_reserve(b, 0);
    b->data[0] = '\0';
  }
  char *p = b->data;
  if (len)
    *len = b->len;
  buf_init(b);
  return p;
}
