/*
** Engine table, from the CAPI backup.proto files summarised in
** shared/api.md (sections 2 and 2.4).  Kafka is absent: it has no backups.
*/
#include "engines.h"

#include <string.h>

static const char *const size_journal[] = {"size", "journalSize", NULL};
static const char *const size_only[] = {"size", NULL};
static const char *const none[] = {NULL};
static const char *const opensearch_sizes[] = {
  "sizeBytes", "indicesTotal", "incrementalSizeBytes", "totalSizeBytes",
  "freeSpaceRequiredBytes", NULL};
static const char *const elasticsearch_sizes[] = {
  "sizeBytes", "indicesTotal", NULL};

static const engine_info engines[] = {
  {"mongodb",       "/managed-mongodb/v1",       size_journal},
  {"sqlserver",     "/mdb/sqlserver/v1",         none},
  {"postgresql",    "/managed-postgresql/v1",    size_journal},
  {"mysql",         "/managed-mysql/v1",         size_journal},
  {"clickhouse",    "/managed-clickhouse/v1",    size_only},
  {"redis",         "/managed-redis/v1",         none},
  {"greenplum",     "/managed-greenplum/v1",     size_journal},
  {"opensearch",    "/managed-opensearch/v1",    opensearch_sizes},
  {"elasticsearch", "/managed-elasticsearch/v1", elasticsearch_sizes},
  {"spqr",          "/managed-spqr/v1",          size_only},
};

size_t engines_count(void)
{
  return sizeof engines / sizeof engines[0];
}

const engine_info *engines_at(size_t i)
{
  return i < engines_count() ? &engines[i] : NULL;
}

const engine_info *engines_find(const char *name)
{
  if (name == NULL)
    return NULL;
  for (size_t i = 0; i < engines_count(); i++)
    if (strcmp(engines[i].name, name) == 0)
      return &engines[i];
  return NULL;
}
