#include "dataset.h"
#include "steps.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "records.h"
#include "strmap.h"
#include "xalloc.h"

struct index_list {
  uint32_t *idx;
  size_t n;
  size_t cap;
};

/* Lookups are per engine so that the same id can exist under two engines
 * without composite keys. */
struct engine_maps {
  struct strmap *cluster_by_id;      /* -> cluster position */
  struct strmap *backups_by_cluster; /* -> list position */
  struct strmap *backups_by_folder;  /* -> list position */
  struct strmap *clusters_by_folder; /* -> list position */
};

struct dataset {
  struct arena *arena;

  struct json_item *backups;
  size_t nbackups, backups_cap;

  struct json_item *clusters;
  const char **cluster_names;
  size_t nclusters, clusters_cap;

  struct index_list *lists;
  size_t nlists, lists_cap;

  struct engine_maps maps[ENGINE_COUNT];

  struct record_set *records;

  /* Generated data adds long runs of backups to the same cluster and
     * folder; remembering the last lists saves two hash lookups each. */
  int memo_engine;
  char *memo_cluster, *memo_folder;
  size_t memo_cluster_list, memo_folder_list;
};

static const uint32_t no_items[1];

struct dataset *dataset_new(void)
{
  struct dataset *ds = xcalloc(1, sizeof *ds);
  ds->arena = arena_new();
  for (int e = 0; e < ENGINE_COUNT; e++) {
    ds->maps[e].cluster_by_id = strmap_new();
    ds->maps[e].backups_by_cluster = strmap_new();
    ds->maps[e].backups_by_folder = strmap_new();
    ds->maps[e].clusters_by_folder = strmap_new();
  }
  ds->memo_engine = -1;
  ds->records = record_set_new();
  return ds;
}

void dataset_free(struct dataset *ds)
{
  if (!ds)
    return;
  for (int e = 0; e < ENGINE_COUNT; e++) {
    strmap_free(ds->maps[e].cluster_by_id);
    strmap_free(ds->maps[e].backups_by_cluster);
    strmap_free(ds->maps[e].backups_by_folder);
    strmap_free(ds->maps[e].clusters_by_folder);
  }
  for (size_t i = 0; i < ds->nlists; i++)
    free(ds->lists[i].idx);
  free(ds->lists);
  free(ds->backups);
  free(ds->clusters);
  free(ds->cluster_names);
  free(ds->memo_cluster);
  free(ds->memo_folder);
  arena_free(ds->arena);
  record_set_free(ds->records);
  free(ds);
}

static size_t list_for(struct dataset *ds, struct strmap *map, const char *key)
{
  size_t pos;
  if (strmap_get(map, key, &pos))
    return pos;
  if (ds->nlists == ds->lists_cap) {
    ds->lists_cap = ds->lists_cap ? ds->lists_cap * 2 : 16;
    ds->lists = xrealloc(ds->lists, ds->lists_cap * sizeof *ds->lists);
  }
  pos = ds->nlists++;
  ds->lists[pos] = (struct index_list){0};
  strmap_put(map, key, pos);
  return pos;
}

static void list_append(struct index_list *l, uint32_t v)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 8;
    l->idx = xrealloc(l->idx, l->cap * sizeof *l->idx);
  }
  l->idx[l->n++] = v;
}

static const char *arena_string(struct arena *a, const char *s)
{
  return arena_copy(a, s, strlen(s) + 1);
}

bool dataset_add_cluster(struct dataset *ds, enum engine e,
                         const char *folder_id, const char *cluster_id,
                         const char *name, const char *json, size_t len)
{
  if (steps_excluded(cluster_id, json, len))
    return true; /* --without */
  size_t existing;
  if (strmap_get(ds->maps[e].cluster_by_id, cluster_id, &existing))
    return false;
  if (ds->nclusters == ds->clusters_cap) {
    ds->clusters_cap = ds->clusters_cap ? ds->clusters_cap * 2 : 16;
    ds->clusters = xrealloc(ds->clusters,
                            ds->clusters_cap * sizeof *ds->clusters);
    ds->cluster_names = xrealloc(ds->cluster_names,
                                 ds->clusters_cap * sizeof *ds->cluster_names);
  }
  size_t pos = ds->nclusters++;
  ds->clusters[pos].json = arena_copy(ds->arena, json, len);
  ds->clusters[pos].len = len;
  ds->cluster_names[pos] = arena_string(ds->arena, name);
  strmap_put(ds->maps[e].cluster_by_id, cluster_id, pos);
  size_t l = list_for(ds, ds->maps[e].clusters_by_folder, folder_id);
  list_append(&ds->lists[l], (uint32_t)pos);
  return true;
}

bool dataset_add_backup(struct dataset *ds, enum engine e,
                        const char *folder_id, const char *cluster_id,
                        const char *json, size_t len)
{
  if (steps_excluded(cluster_id, json, len))
    return true; /* --without */
  if (ds->nbackups >= UINT32_MAX)
    return false;
  if (ds->nbackups == ds->backups_cap) {
    ds->backups_cap = ds->backups_cap ? ds->backups_cap * 2 : 64;
    ds->backups = xrealloc(ds->backups, ds->backups_cap * sizeof *ds->backups);
  }
  size_t pos = ds->nbackups++;
  ds->backups[pos].json = arena_copy(ds->arena, json, len);
  ds->backups[pos].len = len;

  if (ds->memo_engine != (int)e || strcmp(ds->memo_cluster, cluster_id) != 0) {
    free(ds->memo_cluster);
    ds->memo_cluster = xstrdup(cluster_id);
    ds->memo_cluster_list = list_for(ds, ds->maps[e].backups_by_cluster,
                                     cluster_id);
  }
  if (ds->memo_engine != (int)e || strcmp(ds->memo_folder, folder_id) != 0) {
    free(ds->memo_folder);
    ds->memo_folder = xstrdup(folder_id);
    ds->memo_folder_list = list_for(ds, ds->maps[e].backups_by_folder,
                                    folder_id);
  }
  ds->memo_engine = (int)e;
  list_append(&ds->lists[ds->memo_cluster_list], (uint32_t)pos);
  list_append(&ds->lists[ds->memo_folder_list], (uint32_t)pos);
  return true;
}

void dataset_reserve_backups(struct dataset *ds, size_t n)
{
  if (ds->backups_cap - ds->nbackups >= n)
    return;
  ds->backups_cap = ds->nbackups + n;
  ds->backups = xrealloc(ds->backups, ds->backups_cap * sizeof *ds->backups);
}

size_t dataset_backup_count(const struct dataset *ds)
{
  return ds->nbackups;
}

size_t dataset_cluster_count(const struct dataset *ds)
{
  return ds->nclusters;
}

static bool lookup_list(const struct dataset *ds, const struct strmap *map,
                        const char *key, const struct json_item *items,
                        struct item_list *out)
{
  size_t pos;
  out->items = items;
  if (strmap_get(map, key, &pos)) {
    out->idx = ds->lists[pos].idx;
    out->n = ds->lists[pos].n;
    return true;
  }
  out->idx = no_items;
  out->n = 0;
  return false;
}

bool dataset_cluster_backups(const struct dataset *ds, enum engine e,
                             const char *cluster_id, struct item_list *out)
{
  size_t pos;
  if (lookup_list(ds, ds->maps[e].backups_by_cluster, cluster_id, ds->backups,
                  out))
    return true;
  return strmap_get(ds->maps[e].cluster_by_id, cluster_id, &pos);
}

void dataset_folder_backups(const struct dataset *ds, enum engine e,
                            const char *folder_id, struct item_list *out)
{
  lookup_list(ds, ds->maps[e].backups_by_folder, folder_id, ds->backups, out);
}

void dataset_folder_clusters(const struct dataset *ds, enum engine e,
                             const char *folder_id, struct item_list *out)
{
  lookup_list(ds, ds->maps[e].clusters_by_folder, folder_id, ds->clusters, out);
}

bool dataset_get_cluster(const struct dataset *ds, enum engine e,
                         const char *cluster_id, struct json_item *out)
{
  size_t pos;
  if (!strmap_get(ds->maps[e].cluster_by_id, cluster_id, &pos))
    return false;
  *out = ds->clusters[pos];
  return true;
}

const char *dataset_cluster_name(const struct dataset *ds, uint32_t idx)
{
  return ds->cluster_names[idx];
}

struct record_set *dataset_records(const struct dataset *ds)
{
  return ds->records;
}
