/*
** The repeat guard's memory: the ids of a listing's previous page, kept
** as C bytes rather than Lua strings in a table, so the collector has
** nothing more to walk per page.  A listing that shifts while it is paged
** (a backup created meanwhile pushes the last item of one page onto the
** next) shows the repeats as the first items of the next page.  Ids are
** compared in full, never by a hash alone, so an item is never taken for a
** repeat it is not.  Memory: the ids of two pages.
*/
#ifndef ID_GUARD_H
#define ID_GUARD_H

#include "listing/id_list.h"

#include <stddef.h>

typedef struct id_guard {
  id_list page[2];
  int cur; /* the page being collected; the other is the previous one */
} id_guard;

void id_guard_init(id_guard *g);
void id_guard_free(id_guard *g);
/* A new page begins: the one collected so far becomes the previous one. */
void id_guard_next_page(id_guard *g);
/* Record an id of the current page: 0, or -1 when out of memory. */
int id_guard_add(id_guard *g, const char *id, size_t len);
/* 1 when `id` is one of the previous page's ids (0 before a second page). */
int id_guard_seen(const id_guard *g, const char *id, size_t len);

#endif /* ID_GUARD_H */
