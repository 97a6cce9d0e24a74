/*
** The engine table against shared/api.md sections 2 and 2.4.
*/
#include "check.h"
#include "engines.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name, *prefix;
  const char *int64[6]; /* NULL-terminated */
} want[] = {
    {"mongodb", "/managed-mongodb/v1", {"size", "journalSize", NULL}},
    {"sqlserver", "/mdb/sqlserver/v1", {NULL}},
    {"postgresql", "/managed-postgresql/v1", {"size", "journalSize", NULL}},
    {"mysql", "/managed-mysql/v1", {"size", "journalSize", NULL}},
    {"clickhouse", "/managed-clickhouse/v1", {"size", NULL}},
    {"redis", "/managed-redis/v1", {NULL}},
    {"greenplum", "/managed-greenplum/v1", {"size", "journalSize", NULL}},
    {"opensearch",
     "/managed-opensearch/v1",
     {"sizeBytes", "indicesTotal", "incrementalSizeBytes", "totalSizeBytes",
      "freeSpaceRequiredBytes", NULL}},
    {"elasticsearch",
     "/managed-elasticsearch/v1",
     {"sizeBytes", "indicesTotal", NULL}},
    {"spqr", "/managed-spqr/v1", {"size", NULL}},
};

#define NWANT (sizeof want / sizeof want[0])

static void check_fields(const engine_info *e, size_t i)
{
  if (!CHECK_NOT_NULL(e->int64_fields))
    return;
  size_t n = 0;
  while (want[i].int64[n] != NULL) {
    if (!CHECK_NOT_NULL(e->int64_fields[n]))
      return;
    CHECK_EQ_STR(e->int64_fields[n], want[i].int64[n]);
    n++;
  }
  CHECK_NULL(e->int64_fields[n]);
}

static void test_table_in_order(void)
{
  CHECK_EQ_INT(engines_count(), 10);
  CHECK_EQ_INT(NWANT, 10);
  for (size_t i = 0; i < NWANT; i++) {
    CHECK_CONTEXT("engine %zu (%s)", i, want[i].name);
    const engine_info *e = engines_at(i);
    if (!CHECK_NOT_NULL(e))
      continue;
    CHECK_EQ_STR(e->name, want[i].name);
    CHECK_EQ_STR(e->prefix, want[i].prefix);
    check_fields(e, i);
    /* engines_find gives back the very same entry. */
    CHECK(engines_find(want[i].name) == e);
  }
  CHECK_CONTEXT_CLEAR();
  CHECK_NULL(engines_at(10));
  CHECK_NULL(engines_at(11));
  CHECK_NULL(engines_at((size_t)-1));
}

static void test_find(void)
{
  const engine_info *e = engines_find("sqlserver");
  if (CHECK_NOT_NULL(e)) {
    CHECK_EQ_STR(e->prefix, "/mdb/sqlserver/v1");
    CHECK_NULL(e->int64_fields[0]);
  }
  e = engines_find("redis");
  if (CHECK_NOT_NULL(e))
    CHECK_NULL(e->int64_fields[0]);
  e = engines_find("opensearch");
  if (CHECK_NOT_NULL(e))
    CHECK_EQ_STR(e->int64_fields[4], "freeSpaceRequiredBytes");

  CHECK_NULL(engines_find(NULL));
  CHECK_NULL(engines_find(""));
  CHECK_NULL(engines_find("kafka")); /* no backups */
  CHECK_NULL(engines_find("mongo"));
  CHECK_NULL(engines_find("mongodb "));
  CHECK_NULL(engines_find(" mongodb"));
  CHECK_NULL(engines_find("mongodbx"));
  CHECK_NULL(engines_find("MongoDB"));
  CHECK_NULL(engines_find("managed-mongodb"));
  CHECK_NULL(engines_find("/managed-mongodb/v1"));
  CHECK_NULL(engines_find("postgres"));
  CHECK_NULL(engines_find("ydb"));
}

/* Structural sanity: distinct names, prefixes of the form /x/v1. */
static void test_shape(void)
{
  for (size_t i = 0; i < engines_count(); i++) {
    const engine_info *e = engines_at(i);
    if (!CHECK_NOT_NULL(e))
      continue;
    CHECK_CONTEXT("%s", e->name);
    CHECK(e->prefix[0] == '/');
    size_t n = strlen(e->prefix);
    CHECK(n > 4 && strcmp(e->prefix + n - 3, "/v1") == 0);
    for (size_t j = i + 1; j < engines_count(); j++) {
      CHECK(strcmp(e->name, engines_at(j)->name) != 0);
      CHECK(strcmp(e->prefix, engines_at(j)->prefix) != 0);
    }
  }
  CHECK_CONTEXT_CLEAR();
}

int main(void)
{
  test_table_in_order();
  test_find();
  test_shape();
  return check_summary();
}
