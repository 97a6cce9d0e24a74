/*
** Ids kept as C bytes, back to back, with the end of each: the storage
** of the repeat guard (the ids of two pages, id_guard.h) and of a scan's
** set of a listing's ids (id_set.h), so that neither leaves the collector
** a Lua string per id to walk.
*/
#ifndef ID_LIST_H
#define ID_LIST_H

#include <stddef.h>

typedef struct id_list {
  char *bytes; /* the ids back to back */
  size_t len, cap;
  size_t *ends; /* end offset of each id in bytes */
  size_t n, ncap;
} id_list;

/* Let go of the memory; the list is empty (all zero) again. */
void id_list_free(id_list *l);
/* Empty the list, keeping its buffers for the next ids. */
void id_list_clear(id_list *l);
/* Append an id: 0, or -1 when out of memory (the list is unchanged). */
int id_list_push(id_list *l, const char *id, size_t len);
/* 1 when id number i (from 0) is `id`, compared in full; else 0. */
int id_list_is(const id_list *l, size_t i, const char *id, size_t len);

#endif /* ID_LIST_H */
