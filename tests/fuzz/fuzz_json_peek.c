/* libFuzzer target: the token peek never reads past `len` and, when it
** answers, points inside the input; the array cut hands out elements in
** order, each non-empty, inside the input and not overlapping the last. */
#include "text/json_peek.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct cut {
  size_t size, last_end;
} cut;

static int check_element(void *ud, size_t start, size_t end)
{
  cut *c = ud;
  if (start >= end || end > c->size || start < c->last_end)
    abort();
  c->last_end = end;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *v;
  size_t n;
  const char *s = (const char *)data;
  if (json_peek_string(s, size, "nextPageToken", &v, &n) &&
      (v < s || v + n > s + size))
    abort();
  cut c = {size, 0};
  json_peek_array(s, size, "backups", check_element, &c);
  return 0;
}
