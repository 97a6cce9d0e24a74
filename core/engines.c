/*
** Engine table, from the CAPI backup.proto and cluster.proto files
** summarised in shared/api.md (sections 2, 2.4 and 3).  Kafka is absent:
** it has no backups.
*/
#include "engines.h"

#include <string.h>

static const char *const size_journal[] = {"size", "journalSize", NULL};
static const char *const size_only[] = {"size", NULL};
static const char *const none[] = {NULL};
static const char *const opensearch_sizes[] = {
    "sizeBytes",      "indicesTotal",           "incrementalSizeBytes",
    "totalSizeBytes", "freeSpaceRequiredBytes", NULL};
static const char *const elasticsearch_sizes[] = {"sizeBytes", "indicesTotal",
                                                  NULL};

static const char *const retain_days[] = {"backupRetainPeriodDays", NULL};
static const char *const snapshot_max_age[] = {"snapshotManagement",
                                               "snapshotMaxAgeDays", NULL};

/* Name, REST prefix, int64 fields; size field, type, status, shards;
** retention setting. */
static const engine_info engines[] = {
    {"mongodb", "/managed-mongodb/v1", size_journal, "size", 1, 0, 1,
     retain_days},
    {"sqlserver", "/mdb/sqlserver/v1", none, NULL, 0, 0, 0, NULL},
    {"postgresql", "/managed-postgresql/v1", size_journal, "size", 1, 1, 0,
     retain_days},
    {"mysql", "/managed-mysql/v1", size_journal, "size", 1, 1, 0, retain_days},
    {"clickhouse", "/managed-clickhouse/v1", size_only, "size", 1, 0, 1,
     retain_days},
    {"redis", "/managed-redis/v1", none, NULL, 1, 0, 1, retain_days},
    {"greenplum", "/managed-greenplum/v1", size_journal, "size", 1, 0, 0,
     retain_days},
    {"opensearch", "/managed-opensearch/v1", opensearch_sizes, "sizeBytes", 0,
     0, 0, snapshot_max_age},
    {"elasticsearch", "/managed-elasticsearch/v1", elasticsearch_sizes,
     "sizeBytes", 0, 0, 0, NULL},
    {"spqr", "/managed-spqr/v1", size_only, "size", 1, 0, 1, retain_days},
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
