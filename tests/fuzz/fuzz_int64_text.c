/* libFuzzer target: int64 text parsing agrees with a printf round trip. */
#include "text/int64_text.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int64_t v;
  if (int64_text_parse((const char *)data, size, &v) == 0) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    /* accepted text is digits with an optional '-': strip leading zeros
    ** and compare with the canonical form */
    size_t i = 0, neg = data[0] == '-';
    i = neg;
    while (i + 1 < size && data[i] == '0')
      i++;
    const char *canon = buf + (buf[0] == '-');
    if (strlen(canon) != size - i || memcmp(canon, data + i, size - i) != 0)
      abort();
    if (v != 0 && (buf[0] == '-') != (int)neg)
      abort();
    (void)n;
  }
  return 0;
}
