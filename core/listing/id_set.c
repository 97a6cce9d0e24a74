#include "listing/id_set.h"

#include <stdlib.h>
#include <string.h>

void id_set_init(id_set *s)
{
  memset(s, 0, sizeof *s);
}

void id_set_free(id_set *s)
{
  id_list_free(&s->ids);
  free(s->slots);
  id_set_init(s);
}

/* Bytes as a little-endian number, so the hash is the same on every host
** (the eight-byte one compiles to one load where that is the order). */
static uint64_t load8_le(const char *id)
{
  const unsigned char *p = (const unsigned char *)id;
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
         (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
         (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static uint64_t load_le(const char *id, size_t n)
{
  uint64_t w = 0;
  for (size_t i = 0; i < n; i++)
    w |= (uint64_t)(unsigned char)id[i] << (8 * i);
  return w;
}

uint32_t id_set_hash(const char *id, size_t len)
{
  /* eight bytes a step (an id is some 20), each mixed in by a
  ** multiplication; then splitmix64's finaliser, so that the low bits,
  ** which place an id, depend on every bit of every byte */
  uint64_t h = 0x9e3779b97f4a7c15u ^ len;
  for (; len >= 8; id += 8, len -= 8) {
    h = (h ^ load8_le(id)) * 0xff51afd7ed558ccdu;
    h ^= h >> 32;
  }
  if (len > 0)
    h = (h ^ load_le(id, len)) * 0xff51afd7ed558ccdu;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9u;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebu;
  h ^= h >> 31;
  return (uint32_t)h;
}

/* A table of `nslots` (a power of two) holding the set's ids. */
static int rehash(id_set *s, size_t nslots)
{
  id_set_slot *t = calloc(nslots, sizeof *t);
  if (t == NULL)
    return -1;
  size_t mask = nslots - 1;
  for (size_t i = 0; i < s->nslots; i++) {
    if (s->slots[i].id == 0)
      continue;
    size_t k = s->slots[i].hash & mask;
    while (t[k].id != 0)
      k = (k + 1) & mask;
    t[k] = s->slots[i];
  }
  free(s->slots);
  s->slots = t;
  s->nslots = nslots;
  return 0;
}

int id_set_add(id_set *s, const char *id, size_t len)
{
  uint32_t h = id_set_hash(id, len);
  size_t mask = s->nslots - 1, k = 0;
  if (s->nslots > 0) {
    for (k = h & mask; s->slots[k].id != 0; k = (k + 1) & mask) {
      if (s->slots[k].hash != h)
        continue;
      if (id_list_is(&s->ids, s->slots[k].id - 1, id, len))
        return 0;
    }
  }
  if (s->ids.n >= UINT32_MAX - 1)
    return -1;
  /* at most half full; a new table places the id anew */
  if (2 * (s->ids.n + 1) > s->nslots) {
    if (rehash(s, s->nslots ? 2 * s->nslots : 64) != 0)
      return -1;
    mask = s->nslots - 1;
    for (k = h & mask; s->slots[k].id != 0; k = (k + 1) & mask)
      ;
  }
  if (id_list_push(&s->ids, id, len) != 0)
    return -1;
  s->slots[k].hash = h;
  s->slots[k].id = (uint32_t)s->ids.n;
  return 1;
}
