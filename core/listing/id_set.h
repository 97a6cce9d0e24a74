/*
** Every id a listing has given so far, for a scan that keeps a cluster's
** whole list: an id the server sends again anywhere in the listing (the
** same page, or a page that is not the next one) is found here, where the
** repeat guard (id_guard.h) sees only the previous page.  The ids are kept
** as C bytes (no Lua table for the collector to walk) in an
** open-addressing table; they are compared in full, never by a hash alone,
** so an id is never taken for a repeat it is not.  Memory: the ids of one
** listing, and a table of 8 bytes per slot at most half full.  The page
** cursor keeps its tokens (and its pages' first items' hashes) in one too.
*/
#ifndef ID_SET_H
#define ID_SET_H

#include "listing/id_list.h"

#include <stddef.h>
#include <stdint.h>

typedef struct id_set_slot {
  uint32_t hash;
  uint32_t id; /* 1 + the id's index in ids; 0 = empty */
} id_set_slot;

typedef struct id_set {
  id_list ids;
  id_set_slot *slots;
  size_t nslots; /* a power of two; 0 before the first id */
} id_set;

void id_set_init(id_set *s);
/* Let go of the ids; the set is empty again (and may be used again). */
void id_set_free(id_set *s);
/* Add `id` when it is new: 1 added, 0 already in the set, -1 out of memory
** (the set is unchanged). */
int id_set_add(id_set *s, const char *id, size_t len);
/* The hash the table is placed by (for the tests). */
uint32_t id_set_hash(const char *id, size_t len);

#endif /* ID_SET_H */
