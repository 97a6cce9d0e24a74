#include "text/int64_text.h"

int int64_text_parse(const char *s, size_t len, int64_t *out)
{
  if (s == NULL || len == 0)
    return -1;
  int neg = s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (len == i || len - i > 19)
    return -1;
  /* Up to 18 digits cannot overflow: no check per digit (every int64 a
  ** listing sends, sizes and counts, is this short). */
  if (len - i <= 18) {
    uint64_t u = 0;
    for (; i < len; i++) {
      unsigned d = (unsigned)(unsigned char)s[i] - '0';
      if (d > 9)
        return -1;
      u = u * 10 + d;
    }
    *out = neg ? -(int64_t)u : (int64_t)u;
    return 0;
  }
  /* Accumulate as a negative number: -2^63 has no positive twin. */
  int64_t v = 0;
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    int d = s[i] - '0';
    if (v < (INT64_MIN + d) / 10)
      return -1;
    v = v * 10 - d;
  }
  if (!neg) {
    if (v == INT64_MIN)
      return -1;
    v = -v;
  }
  *out = v;
  return 0;
}
