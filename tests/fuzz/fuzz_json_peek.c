/* libFuzzer target: the token peek never reads past `len` and, when it
** answers, points inside the input. */
#include "text/json_peek.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *v;
  size_t n;
  const char *s = (const char *)data;
  if (json_peek_string(s, size, "nextPageToken", &v, &n) &&
      (v < s || v + n > s + size))
    abort();
  return 0;
}
