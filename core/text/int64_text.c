#include "text/int64_text.h"

int int64_text_parse(const char *s, size_t len, int64_t *out)
{
  if (s == NULL || len == 0)
    return -1;
  int neg = s[0] == '-';
  size_t i = neg ? 1 : 0;
  if (len == i || len - i > 19)
    return -1;
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
