#include "engines.h"

#include <string.h>

static const char *const names[ENGINE_COUNT] = {
    [ENGINE_MONGODB] = "mongodb",
    [ENGINE_SQLSERVER] = "sqlserver",
    [ENGINE_POSTGRESQL] = "postgresql",
    [ENGINE_MYSQL] = "mysql",
    [ENGINE_CLICKHOUSE] = "clickhouse",
    [ENGINE_REDIS] = "redis",
    [ENGINE_GREENPLUM] = "greenplum",
    [ENGINE_OPENSEARCH] = "opensearch",
    [ENGINE_ELASTICSEARCH] = "elasticsearch",
    [ENGINE_SPQR] = "spqr",
};

const char *engine_name(enum engine e)
{
  return names[e];
}

bool engine_from_name(const char *name, enum engine *out)
{
  for (int e = 0; e < ENGINE_COUNT; e++) {
    if (strcmp(names[e], name) == 0) {
      *out = (enum engine)e;
      return true;
    }
  }
  return false;
}

bool engine_from_path(char *const *segments, int count, enum engine *out,
                      int *used)
{
  /* SQL Server is the odd one out: /mdb/sqlserver/v1 (api.md §2). */
  if (count >= 3 && strcmp(segments[0], "mdb") == 0 &&
      strcmp(segments[1], "sqlserver") == 0 && strcmp(segments[2], "v1") == 0) {
    *out = ENGINE_SQLSERVER;
    *used = 3;
    return true;
  }
  if (count < 2 || strncmp(segments[0], "managed-", 8) != 0 ||
      strcmp(segments[1], "v1") != 0)
    return false;
  enum engine e;
  if (!engine_from_name(segments[0] + 8, &e) || e == ENGINE_SQLSERVER)
    return false;
  *out = e;
  *used = 2;
  return true;
}
