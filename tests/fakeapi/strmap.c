#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct slot {
  char *key; /* NULL = empty */
  uint64_t hash;
  size_t value;
};

struct strmap {
  struct slot *slots;
  size_t cap; /* power of two */
  size_t count;
};

static uint64_t hash_key(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

struct strmap *strmap_new(void)
{
  struct strmap *m = xmalloc(sizeof *m);
  m->cap = 16;
  m->count = 0;
  m->slots = xcalloc(m->cap, sizeof *m->slots);
  return m;
}

void strmap_free(struct strmap *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->cap; i++)
    free(m->slots[i].key);
  free(m->slots);
  free(m);
}

static struct slot *find(const struct strmap *m, const char *key, uint64_t h)
{
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    struct slot *s = &m->slots[i];
    if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
      return s;
  }
}

static void grow(struct strmap *m)
{
  struct slot *old = m->slots;
  size_t old_cap = m->cap;
  m->cap *= 2;
  m->slots = xcalloc(m->cap, sizeof *m->slots);
  for (size_t i = 0; i < old_cap; i++) {
    if (old[i].key)
      *find(m, old[i].key, old[i].hash) = old[i];
  }
  free(old);
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
  const struct slot *s = find(m, key, hash_key(key));
  if (!s->key)
    return false;
  *value = s->value;
  return true;
}

void strmap_put(struct strmap *m, const char *key, size_t value)
{
  if ((m->count + 1) * 4 > m->cap * 3)
    grow(m);
  uint64_t h = hash_key(key);
  struct slot *s = find(m, key, h);
  if (!s->key) {
    s->key = xstrdup(key);
    s->hash = h;
    m->count++;
  }
  s->value = value;
}
