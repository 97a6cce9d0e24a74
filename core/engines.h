/*
** The engine table: which managed database engines have backups, where
** their REST API lives, and which Backup fields the API sends as int64
** strings.  This is the one place that knows the API's per-engine shape.
*/
#ifndef ENGINES_H
#define ENGINES_H

#include <stddef.h>

typedef struct engine_info {
  const char *name;               /* "mongodb" */
  const char *prefix;             /* "/managed-mongodb/v1" */
  const char *const *int64_fields; /* NULL-terminated Backup int64 fields */
} engine_info;

/* Number of engines and the i-th one, in a stable documented order. */
size_t engines_count(void);
const engine_info *engines_at(size_t i);

/* The engine called `name`, or NULL when there is none. */
const engine_info *engines_find(const char *name);

#endif /* ENGINES_H */
