/* String-keyed hash map to a size_t value, used for every dataset lookup
 * (cluster by id, backup list by cluster, lists by folder).  Keys are
 * copied.  Built once at start-up, then only read, so it needs no lock. */
#ifndef FAKEAPI_STRMAP_H
#define FAKEAPI_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);
bool strmap_get(const struct strmap *m, const char *key, size_t *value);
/* Inserts or replaces. */
void strmap_put(struct strmap *m, const char *key, size_t value);

#endif
