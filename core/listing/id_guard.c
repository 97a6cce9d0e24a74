#include "listing/id_guard.h"

#include <stdlib.h>
#include <string.h>

void id_guard_init(id_guard *g)
{
  memset(g, 0, sizeof *g);
}

void id_guard_free(id_guard *g)
{
  for (int i = 0; i < 2; i++) {
    free(g->page[i].bytes);
    free(g->page[i].ends);
  }
  id_guard_init(g);
}

void id_guard_next_page(id_guard *g)
{
  g->cur ^= 1;
  g->page[g->cur].len = 0; /* buffers kept for the next page */
  g->page[g->cur].n = 0;
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

int id_guard_add(id_guard *g, const char *id, size_t len)
{
  id_page *p = &g->page[g->cur];
  if (grow((void **)&p->bytes, &p->cap, p->len + len, 1) != 0 ||
      grow((void **)&p->ends, &p->ncap, p->n + 1, sizeof *p->ends) != 0)
    return -1;
  if (len > 0)
    memcpy(p->bytes + p->len, id, len);
  p->len += len;
  p->ends[p->n++] = p->len;
  return 0;
}

int id_guard_seen(const id_guard *g, const char *id, size_t len)
{
  const id_page *p = &g->page[g->cur ^ 1];
  /* From the end: repeats are the previous page's last items. */
  for (size_t i = p->n; i > 0; i--) {
    size_t start = i > 1 ? p->ends[i - 2] : 0;
    if (p->ends[i - 1] - start == len &&
        (len == 0 || memcmp(p->bytes + start, id, len) == 0))
      return 1;
  }
  return 0;
}
