#include "listing/id_list.h"

#include <stdlib.h>
#include <string.h>

void id_list_free(id_list *l)
{
  free(l->bytes);
  free(l->ends);
  memset(l, 0, sizeof *l);
}

void id_list_clear(id_list *l)
{
  l->len = 0;
  l->n = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
  if (need <= *cap)
    return 0;
  size_t n = *cap ? *cap : 64;
  while (n < need)
    n *= 2;
  void *q = realloc(*p, n * size);
  if (q == NULL)
    return -1;
  *p = q;
  *cap = n;
  return 0;
}

int id_list_push(id_list *l, const char *id, size_t len)
{
  if (grow((void **)&l->bytes, &l->cap, l->len + len, 1) != 0 ||
      grow((void **)&l->ends, &l->ncap, l->n + 1, sizeof *l->ends) != 0)
    return -1;
  if (len > 0)
    memcpy(l->bytes + l->len, id, len);
  l->len += len;
  l->ends[l->n++] = l->len;
  return 0;
}

int id_list_is(const id_list *l, size_t i, const char *id, size_t len)
{
  size_t start = i > 0 ? l->ends[i - 1] : 0;
  return l->ends[i] - start == len &&
         (len == 0 || memcmp(l->bytes + start, id, len) == 0);
}
