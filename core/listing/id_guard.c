#include "listing/id_guard.h"

#include <string.h>

void id_guard_init(id_guard *g)
{
  memset(g, 0, sizeof *g);
}

void id_guard_free(id_guard *g)
{
  for (int i = 0; i < 2; i++)
    id_list_free(&g->page[i]);
  id_guard_init(g);
}

void id_guard_next_page(id_guard *g)
{
  g->cur ^= 1;
  id_list_clear(&g->page[g->cur]); /* buffers kept for the next page */
}

int id_guard_add(id_guard *g, const char *id, size_t len)
{
  return id_list_push(&g->page[g->cur], id, len);
}

int id_guard_seen(const id_guard *g, const char *id, size_t len)
{
  const id_list *p = &g->page[g->cur ^ 1];
  /* From the end: repeats are the previous page's last items. */
  for (size_t i = p->n; i > 0; i--)
    if (id_list_is(p, i - 1, id, len))
      return 1;
  return 0;
}
