/* The clusters and backups the server answers with.  Filled once at
 * start-up (from --data, --generate, --demo), then read concurrently by
 * request threads without locking, so nothing may change it after load. */
#ifndef FAKEAPI_DATASET_H
#define FAKEAPI_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engines.h"

/* A pre-rendered JSON object, served verbatim. */
struct json_item {
  const char *json;
  size_t len;
};

/* What a listing serves, in order: items[idx[0]], items[idx[1]], ... */
struct item_list {
  const struct json_item *items;
  const uint32_t *idx;
  size_t n;
};

struct dataset;

struct dataset *dataset_new(void);
void dataset_free(struct dataset *ds);

/* Returns false (adding nothing) if this engine already has that cluster id. */
bool dataset_add_cluster(struct dataset *ds, enum engine e,
                         const char *folder_id, const char *cluster_id,
                         const char *name, const char *json, size_t len);
/* Returns false once the dataset is full (2^32-1 backups). */
bool dataset_add_backup(struct dataset *ds, enum engine e,
                        const char *folder_id, const char *cluster_id,
                        const char *json, size_t len);

/* Makes room for n more backups up front, to skip regrowing a big array. */
void dataset_reserve_backups(struct dataset *ds, size_t n);

size_t dataset_backup_count(const struct dataset *ds);
size_t dataset_cluster_count(const struct dataset *ds);

/* False for a cluster that has neither a Cluster object nor any backup. */
bool dataset_cluster_backups(const struct dataset *ds, enum engine e,
                             const char *cluster_id, struct item_list *out);
/* Unknown folders simply give empty lists. */
void dataset_folder_backups(const struct dataset *ds, enum engine e,
                            const char *folder_id, struct item_list *out);
void dataset_folder_clusters(const struct dataset *ds, enum engine e,
                             const char *folder_id, struct item_list *out);
bool dataset_get_cluster(const struct dataset *ds, enum engine e,
                         const char *cluster_id, struct json_item *out);
/* Name of the cluster at position idx of a dataset_folder_clusters list. */
const char *dataset_cluster_name(const struct dataset *ds, uint32_t idx);

/* Retention policies and operations (records.h), loaded with the rest. */
struct record_set *dataset_records(const struct dataset *ds);

#endif
