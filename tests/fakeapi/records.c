#include "records.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "strmap.h"
#include "xalloc.h"

struct idx_list {
  uint32_t *idx;
  size_t n, cap;
};

struct record_set {
  struct arena *arena;
  struct json_item *items;
  size_t nitems, items_cap;
  struct idx_list *lists;
  size_t nlists, lists_cap;
  struct strmap *by_key; /* "kind engine key" -> list position */
};

static const uint32_t no_items[1];

struct record_set *record_set_new(void)
{
  struct record_set *rs = xcalloc(1, sizeof *rs);
  rs->arena = arena_new();
  rs->by_key = strmap_new();
  return rs;
}

void record_set_free(struct record_set *rs)
{
  if (!rs)
    return;
  for (size_t i = 0; i < rs->nlists; i++)
    free(rs->lists[i].idx);
  free(rs->lists);
  free(rs->items);
  strmap_free(rs->by_key);
  arena_free(rs->arena);
  free(rs);
}

/* Length-prefixed, so no id can make two keys equal. */
static char *list_key(enum record_kind kind, enum engine e, const char *key)
{
  struct buf b;
  buf_init(&b);
  buf_printf(&b, "%d %d %zu:%s", (int)kind, (int)e, strlen(key), key);
  return buf_steal(&b, NULL);
}

static uint32_t store(struct record_set *rs, const char *json, size_t len)
{
  if (rs->nitems == rs->items_cap) {
    rs->items_cap = rs->items_cap ? rs->items_cap * 2 : 16;
    rs->items = xrealloc(rs->items, rs->items_cap * sizeof *rs->items);
  }
  rs->items[rs->nitems].json = arena_copy(rs->arena, json, len);
  rs->items[rs->nitems].len = len;
  return (uint32_t)rs->nitems++;
}

static void append(struct record_set *rs, enum record_kind kind, enum engine e,
                   const char *key, uint32_t item)
{
  char *k = list_key(kind, e, key);
  size_t pos;
  if (!strmap_get(rs->by_key, k, &pos)) {
    if (rs->nlists == rs->lists_cap) {
      rs->lists_cap = rs->lists_cap ? rs->lists_cap * 2 : 16;
      rs->lists = xrealloc(rs->lists, rs->lists_cap * sizeof *rs->lists);
    }
    pos = rs->nlists++;
    rs->lists[pos] = (struct idx_list){0};
    strmap_put(rs->by_key, k, pos);
  }
  free(k);
  struct idx_list *l = &rs->lists[pos];
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 8;
    l->idx = xrealloc(l->idx, l->cap * sizeof *l->idx);
  }
  l->idx[l->n++] = item;
}

bool record_set_add(struct record_set *rs, enum record_kind kind, enum engine e,
                    const char *key, const char *json, size_t len)
{
  if (rs->nitems >= UINT32_MAX)
    return false;
  append(rs, kind, e, key, store(rs, json, len));
  return true;
}

bool record_set_add_policy(struct record_set *rs, enum engine e,
                           const char *folder_id, const char *cluster_id,
                           const char *json, size_t len)
{
  if (rs->nitems >= UINT32_MAX)
    return false;
  uint32_t item = store(rs, json, len);
  append(rs, RECORD_CLUSTER_POLICIES, e, cluster_id, item);
  append(rs, RECORD_FOLDER_POLICIES, e, folder_id, item);
  return true;
}

bool record_set_list(const struct record_set *rs, enum record_kind kind,
                     enum engine e, const char *key, struct item_list *out)
{
  char *k = list_key(kind, e, key);
  size_t pos;
  bool found = strmap_get(rs->by_key, k, &pos);
  free(k);
  out->items = rs->items;
  out->idx = found ? rs->lists[pos].idx : no_items;
  out->n = found ? rs->lists[pos].n : 0;
  return found;
}

bool engine_has_retention_policies(enum engine e)
{
  return e == ENGINE_POSTGRESQL || e == ENGINE_MYSQL || e == ENGINE_MONGODB ||
         e == ENGINE_REDIS;
}
