#include "numparse.h"

bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
  if (!s || !*s)
    return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    uint64_t d = (uint64_t)(*s - '0');
    if (v > (max - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}
