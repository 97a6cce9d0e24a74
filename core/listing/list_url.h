/*
** Request URLs of the list calls: Cluster.ListBackups, Backup.List (by
** folder), Cluster.List, BackupRetentionPolicy.List (by cluster and by
** folder), Cluster.ListOperations and Resource Manager's.  Ids, tokens and filters are
** percent-encoded (RFC 3986 unreserved characters stay as they are).
*/
#ifndef LIST_URL_H
#define LIST_URL_H

#include "engines.h"

typedef enum list_kind {
  LIST_CLUSTER_BACKUPS,  /* GET {prefix}/clusters/{id}/backups */
  LIST_FOLDER_BACKUPS,   /* GET {prefix}/backups?folderId={id} */
  LIST_CLUSTERS,         /* GET {prefix}/clusters?folderId={id} */
  LIST_CLUSTER_POLICIES, /* GET {prefix}/clusters/{id}/retention_policies */
  LIST_FOLDER_POLICIES,  /* GET {prefix}/folders/{id}/retention_policies */
  LIST_OPERATIONS,       /* GET {prefix}/clusters/{id}/operations */
  /* Resource Manager (endpoint: its own host; engine NULL, id as noted) */
  LIST_CLOUDS,       /* GET /resource-manager/v1/clouds (id unused) */
  LIST_CLOUD_FOLDERS /* GET /resource-manager/v1/folders?cloudId={id} */
} list_kind;

typedef struct list_target {
  const char *endpoint; /* normalised by endpoint_normalize() */
  const engine_info *engine;
  list_kind kind;
  const char *id;     /* cluster id or folder id */
  const char *filter; /* LIST_CLUSTERS only; NULL or "" for none */
} list_target;

/*
** The URL for one page: pageSize is always sent (0..1000, clamped), and
** pageToken only when `page_token` is non-empty.  malloc'd; NULL when out
** of memory.
*/
char *list_url_build(const list_target *t, long page_size,
                     const char *page_token);

/* The JSON array field holding the items of a `kind` response. */
const char *list_items_field(list_kind kind);

/* The field naming an item of `kind` (the repeat guard compares it):
** "policyId" for retention policies, "id" for the rest. */
const char *list_id_field(list_kind kind);

/*
** Whether the API has the `kind` call for `engine` (api-recovery.md §4):
** retention policies exist for postgresql, mysql, mongodb and redis, and
** PostgreSQL has no ListByFolder; the other calls exist for every engine.
*/
int list_kind_supported(list_kind kind, const engine_info *engine);

#endif /* LIST_URL_H */
