/*
** list_url_build and list_items_field.
*/
#include "check.h"
#include "engines.h"
#include "listing/list_url.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API "https://mdb.api.cloud.yandex.net"

/* Builds the URL and compares it with `want`; frees it. */
#define URL_IS(target, size, token, want)                 \
  do {                                                    \
    char *u_ = list_url_build((target), (size), (token)); \
    CHECK_EQ_STR(u_, (want));                             \
    free(u_);                                             \
  } while (0)

static const engine_info *engine(const char *name)
{
  const engine_info *e = engines_find(name);
  if (e == NULL) {
    fprintf(stderr, "engine %s missing\n", name);
    exit(2);
  }
  return e;
}

static void test_kinds(void)
{
  list_target t = {API, engine("mongodb"), LIST_CLUSTER_BACKUPS, "c9q8p7",
                   NULL};
  URL_IS(&t, 100, NULL,
         API "/managed-mongodb/v1/clusters/c9q8p7/backups?pageSize=100");
  URL_IS(&t, 100, "",
         API "/managed-mongodb/v1/clusters/c9q8p7/backups?pageSize=100");
  URL_IS(&t, 100, "tok1",
         API "/managed-mongodb/v1/clusters/c9q8p7/backups?pageSize=100"
             "&pageToken=tok1");

  t.kind = LIST_FOLDER_BACKUPS;
  t.id = "b1gfolder";
  URL_IS(&t, 1000, NULL,
         API "/managed-mongodb/v1/backups?folderId=b1gfolder&pageSize=1000");
  URL_IS(&t, 1000, "next",
         API "/managed-mongodb/v1/backups?folderId=b1gfolder&pageSize=1000"
             "&pageToken=next");

  t.kind = LIST_CLUSTERS;
  URL_IS(&t, 50, NULL,
         API "/managed-mongodb/v1/clusters?folderId=b1gfolder&pageSize=50");
  URL_IS(&t, 50, "p2",
         API "/managed-mongodb/v1/clusters?folderId=b1gfolder&pageSize=50"
             "&pageToken=p2");
  t.filter = "";
  URL_IS(&t, 50, NULL,
         API "/managed-mongodb/v1/clusters?folderId=b1gfolder&pageSize=50");
  t.filter = "name = \"prod\"";
  URL_IS(&t, 50, NULL,
         API "/managed-mongodb/v1/clusters?folderId=b1gfolder&pageSize=50"
             "&filter=name%20%3D%20%22prod%22");
  URL_IS(&t, 50, "p2",
         API "/managed-mongodb/v1/clusters?folderId=b1gfolder&pageSize=50"
             "&pageToken=p2&filter=name%20%3D%20%22prod%22");

  /* A filter is only for Cluster.List: the backup lists have none. */
  t.kind = LIST_FOLDER_BACKUPS;
  URL_IS(&t, 50, NULL,
         API "/managed-mongodb/v1/backups?folderId=b1gfolder&pageSize=50");
  t.kind = LIST_CLUSTER_BACKUPS;
  t.id = "c1";
  URL_IS(&t, 50, "x",
         API "/managed-mongodb/v1/clusters/c1/backups?pageSize=50"
             "&pageToken=x");
}

static void test_items_field(void)
{
  CHECK_EQ_STR(list_items_field(LIST_CLUSTER_BACKUPS), "backups");
  CHECK_EQ_STR(list_items_field(LIST_FOLDER_BACKUPS), "backups");
  CHECK_EQ_STR(list_items_field(LIST_CLUSTERS), "clusters");
  CHECK_EQ_STR(list_items_field(LIST_CLOUDS), "clouds");
  CHECK_EQ_STR(list_items_field(LIST_CLOUD_FOLDERS), "folders");
  CHECK_EQ_STR(list_items_field(LIST_CLUSTER_POLICIES), "policies");
  CHECK_EQ_STR(list_items_field(LIST_FOLDER_POLICIES), "policies");
  CHECK_EQ_STR(list_items_field(LIST_OPERATIONS), "operations");
  CHECK_EQ_STR(list_id_field(LIST_CLUSTER_POLICIES), "policyId");
  CHECK_EQ_STR(list_id_field(LIST_FOLDER_POLICIES), "policyId");
  CHECK_EQ_STR(list_id_field(LIST_OPERATIONS), "id");
  CHECK_EQ_STR(list_id_field(LIST_CLUSTER_BACKUPS), "id");
}

/* Retention policies (cluster and folder) and operations, paged like the
** backups; SQL Server's operations under its own prefix. */
static void test_policies_and_operations(void)
{
  list_target t = {API, engine("mysql"), LIST_CLUSTER_POLICIES, "c/1", NULL};
  URL_IS(&t, 100, NULL,
         API
         "/managed-mysql/v1/clusters/c%2F1/retention_policies?pageSize=100");
  URL_IS(&t, 100, "p 2",
         API "/managed-mysql/v1/clusters/c%2F1/retention_policies?pageSize=100"
             "&pageToken=p%202");
  t.kind = LIST_FOLDER_POLICIES;
  t.id = "b1gf";
  URL_IS(&t, 5000, NULL,
         API "/managed-mysql/v1/folders/b1gf/retention_policies?pageSize=1000");
  t.kind = LIST_OPERATIONS;
  t.id = "c1";
  t.filter = "ignored";
  URL_IS(&t, 7, "t",
         API "/managed-mysql/v1/clusters/c1/operations?pageSize=7&pageToken=t");
  t.engine = engine("sqlserver");
  URL_IS(&t, 7, NULL,
         API "/mdb/sqlserver/v1/clusters/c1/operations?pageSize=7");

  /* Which engines have which call (api-recovery.md §4, §5). */
  static const struct {
    const char *e;
    int cluster, folder;
  } pol[] = {{"postgresql", 1, 0},   {"mysql", 1, 1},      {"mongodb", 1, 1},
             {"redis", 1, 1},        {"clickhouse", 0, 0}, {"sqlserver", 0, 0},
             {"greenplum", 0, 0},    {"opensearch", 0, 0}, {"spqr", 0, 0},
             {"elasticsearch", 0, 0}};
  for (size_t i = 0; i < sizeof pol / sizeof *pol; i++) {
    CHECK_CONTEXT("%s", pol[i].e);
    CHECK_EQ_INT(list_kind_supported(LIST_CLUSTER_POLICIES, engine(pol[i].e)),
                 pol[i].cluster);
    CHECK_EQ_INT(list_kind_supported(LIST_FOLDER_POLICIES, engine(pol[i].e)),
                 pol[i].folder);
  }
  CHECK_CONTEXT_CLEAR();
  for (size_t i = 0; i < engines_count(); i++) {
    CHECK_EQ_INT(list_kind_supported(LIST_OPERATIONS, engines_at(i)), 1);
    CHECK_EQ_INT(list_kind_supported(LIST_CLUSTER_BACKUPS, engines_at(i)), 1);
  }
}

/* Resource Manager: its own host, no engine prefix. */
static void test_resource_manager(void)
{
#define RM "https://resource-manager.api.cloud.yandex.net"
  list_target t = {RM, NULL, LIST_CLOUDS, "", NULL};
  URL_IS(&t, 100, NULL, RM "/resource-manager/v1/clouds?pageSize=100");
  URL_IS(&t, 100, "a b",
         RM "/resource-manager/v1/clouds?pageSize=100"
            "&pageToken=a%20b");
  t.kind = LIST_CLOUD_FOLDERS;
  t.id = "b1g/cloud";
  URL_IS(&t, 1000, NULL,
         RM "/resource-manager/v1/folders?cloudId=b1g%2Fcloud"
            "&pageSize=1000");
#undef RM
}

static void test_page_size_clamp(void)
{
  list_target t = {API, engine("mysql"), LIST_CLUSTER_BACKUPS, "c1", NULL};
  const char *base = API "/managed-mysql/v1/clusters/c1/backups?pageSize=";
  static const struct {
    long in, out;
  } cases[] = {{0, 0},       {1, 1},       {100, 100},   {999, 999},
               {1000, 1000}, {1001, 1000}, {5000, 1000}, {LONG_MAX, 1000},
               {-1, 0},      {-1000, 0},   {LONG_MIN, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char want[256];
    snprintf(want, sizeof want, "%s%ld", base, cases[i].out);
    CHECK_CONTEXT("pageSize %ld", cases[i].in);
    URL_IS(&t, cases[i].in, NULL, want);
  }
  CHECK_CONTEXT_CLEAR();
}

static void test_encoding(void)
{
  list_target t = {API, engine("postgresql"), LIST_CLUSTER_BACKUPS,
                   "a/b?c&d=e f+g%h#i", NULL};
  URL_IS(&t, 10, "t/o?k&e=n +%#",
         API
         "/managed-postgresql/v1/clusters/a%2Fb%3Fc%26d%3De%20f%2Bg%25h"
         "%23i/backups?pageSize=10&pageToken=t%2Fo%3Fk%26e%3Dn%20%2B%25%23");

  /* RFC 3986 unreserved characters stay as they are. */
  t.id = "AZaz09-._~";
  URL_IS(&t, 10, "AZaz09-._~",
         API "/managed-postgresql/v1/clusters/AZaz09-._~/backups"
             "?pageSize=10&pageToken=AZaz09-._~");

  /* Non-ASCII UTF-8: every byte encoded, uppercase hex. */
  t.id = "\xc3\xa9t\xc3\xa9";            /* "été" */
  URL_IS(&t, 10, "\xd0\xb6\xe2\x82\xac", /* "ж€" */
         API "/managed-postgresql/v1/clusters/%C3%A9t%C3%A9/backups"
             "?pageSize=10&pageToken=%D0%B6%E2%82%AC");

  /* A base64-looking token (the API's tokens are opaque). */
  t.id = "c1";
  URL_IS(&t, 10, "eyJvIjoxMH0=+/",
         API "/managed-postgresql/v1/clusters/c1/backups?pageSize=10"
             "&pageToken=eyJvIjoxMH0%3D%2B%2F");

  /* Other reserved and special characters. */
  URL_IS(&t, 10, ":@!$'()*,;[]\"<>\\^`{|}",
         API "/managed-postgresql/v1/clusters/c1/backups?pageSize=10"
             "&pageToken=%3A%40%21%24%27%28%29%2A%2C%3B%5B%5D%22%3C%3E%5C%5E"
             "%60%7B%7C%7D");

  /* Control characters. */
  URL_IS(&t, 10, "a\r\nb\tc",
         API "/managed-postgresql/v1/clusters/c1/backups?pageSize=10"
             "&pageToken=a%0D%0Ab%09c");

  /* Filters on Cluster.List. */
  list_target c = {API, engine("postgresql"), LIST_CLUSTERS, "b1g/x",
                   "name IN (\"a&b\", \"c=d\") AND x != 'é%'"};
  URL_IS(&c, 1000, NULL,
         API "/managed-postgresql/v1/clusters?folderId=b1g%2Fx&pageSize=1000"
             "&filter=name%20IN%20%28%22a%26b%22%2C%20%22c%3Dd%22%29%20AND"
             "%20x%20%21%3D%20%27%C3%A9%25%27");
}

static void test_sqlserver_and_base_path(void)
{
  list_target t = {API, engine("sqlserver"), LIST_CLUSTER_BACKUPS, "mdb1",
                   NULL};
  URL_IS(&t, 10, NULL,
         API "/mdb/sqlserver/v1/clusters/mdb1/backups?pageSize=10");
  t.kind = LIST_FOLDER_BACKUPS;
  URL_IS(&t, 10, "t",
         API "/mdb/sqlserver/v1/backups?folderId=mdb1&pageSize=10&pageToken=t");
  t.kind = LIST_CLUSTERS;
  URL_IS(&t, 10, NULL,
         API "/mdb/sqlserver/v1/clusters?folderId=mdb1&pageSize=10");

  /* An endpoint with a base path (as endpoint_normalize leaves it). */
  list_target f = {"http://127.0.0.1:8080/fake/api", engine("postgresql"),
                   LIST_CLUSTER_BACKUPS, "c1", NULL};
  URL_IS(&f, 5, "n",
         "http://127.0.0.1:8080/fake/api/managed-postgresql/v1/clusters/c1/"
         "backups?pageSize=5&pageToken=n");
  f.kind = LIST_CLUSTERS;
  f.filter = "a=b";
  URL_IS(&f, 5, NULL,
         "http://127.0.0.1:8080/fake/api/managed-postgresql/v1/clusters"
         "?folderId=c1&pageSize=5&filter=a%3Db");
}

/* Every engine and kind: the URL is endpoint + the engine's prefix + path. */
static void test_every_engine(void)
{
  for (size_t i = 0; i < engines_count(); i++) {
    const engine_info *e = engines_at(i);
    for (int k = 0; k < 3; k++) {
      list_target t = {API, e, (list_kind)k, "id1", "f"};
      char want[512];
      if (k == LIST_CLUSTER_BACKUPS)
        snprintf(want, sizeof want,
                 API "%s/clusters/id1/backups?pageSize=7&pageToken=t",
                 e->prefix);
      else if (k == LIST_FOLDER_BACKUPS)
        snprintf(want, sizeof want,
                 API "%s/backups?folderId=id1&pageSize=7&pageToken=t",
                 e->prefix);
      else
        snprintf(want, sizeof want,
                 API "%s/clusters?folderId=id1&pageSize=7&pageToken=t&filter=f",
                 e->prefix);
      CHECK_CONTEXT("%s kind %d", e->name, k);
      URL_IS(&t, 7, "t", want);
    }
  }
  CHECK_CONTEXT_CLEAR();
}

/* An independent encoder for the long cases. */
static void pct(char *out, const char *in)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
        (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
        *p == '~') {
      *out++ = (char)*p;
    } else {
      *out++ = '%';
      *out++ = hex[*p >> 4];
      *out++ = hex[*p & 15];
    }
  }
  *out = '\0';
}

/* Long values that triple in size when encoded: the buffer must fit. */
static void test_long_values(void)
{
  static char id[201], tok[1001], filter[2001];
  static char eid[700], etok[3100], efilter[6100], want[16384];
  for (size_t i = 0; i < sizeof id - 1; i++)
    id[i] = "/?&= +%\xff"[i % 8];
  for (size_t i = 0; i < sizeof tok - 1; i++)
    tok[i] = "%/"[i % 2];
  for (size_t i = 0; i < sizeof filter - 1; i++)
    filter[i] = "\" =&"[i % 4];
  pct(eid, id);
  pct(etok, tok);
  pct(efilter, filter);
  CHECK_EQ_INT(strlen(eid), 600);
  CHECK_EQ_INT(strlen(etok), 3000);

  list_target t = {API, engine("elasticsearch"), LIST_CLUSTER_BACKUPS, id,
                   NULL};
  snprintf(want, sizeof want,
           API "/managed-elasticsearch/v1/clusters/%s/backups?pageSize=1000"
               "&pageToken=%s",
           eid, etok);
  URL_IS(&t, 1000, tok, want);

  list_target c = {API, engine("elasticsearch"), LIST_CLUSTERS, id, filter};
  snprintf(want, sizeof want,
           API "/managed-elasticsearch/v1/clusters?folderId=%s&pageSize=1000"
               "&pageToken=%s&filter=%s",
           eid, etok, efilter);
  URL_IS(&c, 1000, tok, want);
  /* The longest page size text is 4 digits; a minimal endpoint. */
  list_target m = {"https://h", engine("redis"), LIST_CLUSTERS, "", filter};
  snprintf(want, sizeof want,
           "https://h/managed-redis/v1/clusters?folderId=&pageSize=1000"
           "&pageToken=%s&filter=%s",
           etok, efilter);
  URL_IS(&m, 1000, tok, want);
}

int main(void)
{
  test_kinds();
  test_policies_and_operations();
  test_items_field();
  test_resource_manager();
  test_page_size_clamp();
  test_encoding();
  test_sqlserver_and_base_path();
  test_every_engine();
  test_long_values();
  return check_summary();
}
