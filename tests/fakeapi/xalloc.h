/* Allocation helpers that abort on out-of-memory: a fake server has no
 * sensible way to degrade, and dying loudly beats serving half a dataset. */
#ifndef FAKEAPI_XALLOC_H
#define FAKEAPI_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
