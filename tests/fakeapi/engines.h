/* The ten MDB engines that have backups, and where their REST API lives. */
#ifndef FAKEAPI_ENGINES_H
#define FAKEAPI_ENGINES_H

#include <stdbool.h>

enum engine {
  ENGINE_MONGODB,
  ENGINE_SQLSERVER,
  ENGINE_POSTGRESQL,
  ENGINE_MYSQL,
  ENGINE_CLICKHOUSE,
  ENGINE_REDIS,
  ENGINE_GREENPLUM,
  ENGINE_OPENSEARCH,
  ENGINE_ELASTICSEARCH,
  ENGINE_SPQR,
  ENGINE_COUNT
};

const char *engine_name(enum engine e);
bool engine_from_name(const char *name, enum engine *out);

/* Matches the leading decoded path segments against every engine's prefix
 * ("/managed-ENGINE/v1", or "/mdb/sqlserver/v1").  On success stores the
 * engine and how many segments the prefix used. */
bool engine_from_path(char *const *segments, int count, enum engine *out,
                      int *used);

#endif
