/* Listings beyond backups and clusters: retention policies (per cluster
 * and per folder) and operations (per cluster), each a list of
 * pre-rendered JSON objects served verbatim, in the order added.  Like the
 * dataset, filled at load time and then only read. */
#ifndef FAKEAPI_RECORDS_H
#define FAKEAPI_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "dataset.h"
#include "engines.h"

enum record_kind {
  RECORD_CLUSTER_POLICIES, /* BackupRetentionPolicyService.List */
  RECORD_FOLDER_POLICIES,  /* BackupRetentionPolicyService.ListByFolder */
  RECORD_OPERATIONS,       /* Cluster.ListOperations */
};

struct record_set;

struct record_set *record_set_new(void);
void record_set_free(struct record_set *rs);
/* Appends json to the list of (kind, engine, key); key is a cluster or
 * folder id.  Returns false once the set is full (2^32-1 items). */
bool record_set_add(struct record_set *rs, enum record_kind kind, enum engine e,
                    const char *key, const char *json, size_t len);
/* A policy of a cluster in a folder: in both of its listings. */
bool record_set_add_policy(struct record_set *rs, enum engine e,
                           const char *folder_id, const char *cluster_id,
                           const char *json, size_t len);
/* Empty (and false) for a list nothing was added to. */
bool record_set_list(const struct record_set *rs, enum record_kind kind,
                     enum engine e, const char *key, struct item_list *out);

/* Engines with BackupRetentionPolicyService (api-recovery.md §4). */
bool engine_has_retention_policies(enum engine e);

#endif
