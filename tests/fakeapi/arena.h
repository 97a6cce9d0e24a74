/* Append-only storage for pre-rendered JSON.  Chunked so that stored
 * pointers stay valid as it grows (pages point straight into it), and so a
 * million small items cost a handful of mallocs instead of a million. */
#ifndef FAKEAPI_ARENA_H
#define FAKEAPI_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);
/* Copies n bytes in and returns the stable copy. */
const char *arena_copy(struct arena *a, const char *p, size_t n);

#endif
