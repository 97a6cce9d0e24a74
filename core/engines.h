/*
** The engine table: which managed database engines have backups, where
** their REST API lives, which Backup fields the API sends as int64
** strings, and what their Backup and Cluster objects carry (the Lua side
** reads that as mdb.capabilities).  This is the one place that knows the
** API's per-engine shape.
*/
#ifndef ENGINES_H
#define ENGINES_H

#include <stddef.h>

typedef struct engine_info {
  const char *name;                /* "mongodb" */
  const char *prefix;              /* "/managed-mongodb/v1" */
  const char *const *int64_fields; /* NULL-terminated Backup int64 fields */
  const char *size_field;          /* the Backup's size, NULL when none */
  unsigned char has_type;          /* Backup.type: AUTOMATED or MANUAL */
  unsigned char has_status;        /* Backup.status: DONE or CREATING */
  unsigned char has_shards;        /* Backup.sourceShardNames */
  const char *const *retention;    /* path of the retention setting in
                                  ** Cluster.config (NULL-terminated), or
                                  ** NULL when the engine has none */
} engine_info;

/* Number of engines and the i-th one, in a stable documented order. */
size_t engines_count(void);
const engine_info *engines_at(size_t i);

/* The engine called `name`, or NULL when there is none. */
const engine_info *engines_find(const char *name);

#endif /* ENGINES_H */
