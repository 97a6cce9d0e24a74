#include "routes.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "numparse.h"
#include "records.h"
#include "rm.h"
#include "target.h"
#include "tokens.h"
#include "xalloc.h"

#define MAX_ID_LEN        50
#define MAX_FILTER_LEN    1000
#define MAX_PAGE_SIZE     1000
#define DEFAULT_PAGE_SIZE 100

enum endpoint {
  EP_NONE,
  EP_CLUSTER_BACKUPS,  /* Cluster.ListBackups */
  EP_FOLDER_BACKUPS,   /* Backup.List */
  EP_CLUSTERS,         /* Cluster.List */
  EP_CLUSTER,          /* Cluster.Get */
  EP_CLUSTER_POLICIES, /* BackupRetentionPolicy.List */
  EP_FOLDER_POLICIES,  /* BackupRetentionPolicy.ListByFolder (not PostgreSQL) */
  EP_CLUSTER_OPERATIONS, /* Cluster.ListOperations */
};

static void fail(struct route_result *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct route_result *r, int status, const char *fmt, ...)
{
  struct buf b;
  buf_init(&b);
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  r->kind = ROUTE_ERROR;
  r->status = status;
  r->message = buf_steal(&b, NULL);
}

static enum endpoint match_endpoint(const struct target *t, enum engine *e,
                                    const char **id)
{
  int used;
  if (!engine_from_path(t->segments, t->nsegments, e, &used))
    return EP_NONE;
  char *const *rest = t->segments + used;
  int n = t->nsegments - used;
  if (n == 1 && strcmp(rest[0], "backups") == 0)
    return EP_FOLDER_BACKUPS;
  if (n == 3 && strcmp(rest[0], "folders") == 0 && rest[1][0] &&
      strcmp(rest[2], "retention_policies") == 0 &&
      engine_has_retention_policies(*e) && *e != ENGINE_POSTGRESQL) {
    *id = rest[1];
    return EP_FOLDER_POLICIES;
  }
  if (n < 1 || strcmp(rest[0], "clusters") != 0)
    return EP_NONE;
  if (n == 1)
    return EP_CLUSTERS;
  if (rest[1][0] == '\0')
    return EP_NONE;
  *id = rest[1];
  if (n == 2)
    return EP_CLUSTER;
  if (n == 3 && strcmp(rest[2], "backups") == 0)
    return EP_CLUSTER_BACKUPS;
  if (n == 3 && strcmp(rest[2], "operations") == 0)
    return EP_CLUSTER_OPERATIONS;
  if (n == 3 && strcmp(rest[2], "retention_policies") == 0 &&
      engine_has_retention_policies(*e))
    return EP_CLUSTER_POLICIES;
  return EP_NONE;
}

/* Only what the docs show for every engine: name="VALUE" (api.md §3). */
static bool parse_name_filter(const char *f, char **name)
{
  while (*f == ' ')
    f++;
  if (strncmp(f, "name", 4) != 0)
    return false;
  f += 4;
  while (*f == ' ')
    f++;
  if (*f++ != '=')
    return false;
  while (*f == ' ')
    f++;
  if (*f++ != '"')
    return false;
  const char *close = strchr(f, '"');
  if (!close || close == f)
    return false;
  const char *end = close + 1;
  while (*end == ' ')
    end++;
  if (*end)
    return false;
  *name = xstrndup(f, (size_t)(close - f));
  return true;
}

static bool check_paging(const struct target *t, struct route_result *r,
                         const char **token)
{
  const char *size = target_param(t, "pageSize");
  uint64_t v = 0;
  if (size && !parse_u64(size, MAX_PAGE_SIZE, &v)) {
    fail(r, 400,
         "Request validation error: page_size: must be an integer from 0 to %d",
         MAX_PAGE_SIZE);
    return false;
  }
  r->page_size = v ? (uint32_t)v : DEFAULT_PAGE_SIZE;
  *token = target_param(t, "pageToken");
  if (*token && strlen(*token) > TOKEN_MAX_LEN) {
    fail(r, 400,
         "Request validation error: page_token: length must be at most %d",
         TOKEN_MAX_LEN);
    return false;
  }
  return true;
}

static bool check_id(struct route_result *r, const char *field,
                     const char *value)
{
  if (!value || !*value) {
    fail(r, 400, "Request validation error: %s: required", field);
    return false;
  }
  if (strlen(value) > MAX_ID_LEN) {
    fail(r, 400, "Request validation error: %s: length must be at most %d",
         field, MAX_ID_LEN);
    return false;
  }
  return true;
}

static char *listing_identity(const char *kind, enum engine e, const char *key,
                              const char *filter_name)
{
  struct buf b;
  buf_init(&b);
  /* Length-prefixed key, so no folder id (which may contain anything,
     * newlines included) can make two listings look the same. */
  buf_printf(&b, "%s\n%s\n%zu:%s\n%s%s", kind, engine_name(e), strlen(key), key,
             filter_name ? "name=" : "", filter_name ? filter_name : "");
  return buf_steal(&b, NULL);
}

static void start_listing(struct route_result *r, const char *token)
{
  r->kind = ROUTE_LISTING;
  uint32_t offset = 0;
  if (token && *token && !token_parse(token, r->listing, &offset)) {
    fail(r, 400, "invalid page token");
    return;
  }
  r->offset = offset > r->items.n ? (uint32_t)r->items.n : offset;
}

static void filter_clusters(const struct dataset *ds, struct route_result *r,
                            const char *name)
{
  uint32_t *keep = xmalloc((r->items.n ? r->items.n : 1) * sizeof *keep);
  size_t n = 0;
  for (size_t i = 0; i < r->items.n; i++) {
    if (strcmp(dataset_cluster_name(ds, r->items.idx[i]), name) == 0)
      keep[n++] = r->items.idx[i];
  }
  r->owned_idx = keep;
  r->items.idx = keep;
  r->items.n = n;
}

static void route_endpoint(const struct dataset *ds, const struct target *t,
                           enum endpoint ep, enum engine e,
                           const char *cluster_id, struct route_result *r)
{
  const char *token = NULL;
  const char *folder = target_param(t, "folderId");

  switch (ep) {
  case EP_CLUSTER:
    if (!check_id(r, "cluster_id", cluster_id))
      return;
    if (!dataset_get_cluster(ds, e, cluster_id, &r->object)) {
      fail(r, 404, "Cluster \"%s\" not found", cluster_id);
      return;
    }
    r->kind = ROUTE_OBJECT;
    return;

  case EP_CLUSTER_BACKUPS:
    if (!check_id(r, "cluster_id", cluster_id) || !check_paging(t, r, &token))
      return;
    if (!dataset_cluster_backups(ds, e, cluster_id, &r->items)) {
      fail(r, 404, "Cluster \"%s\" not found", cluster_id);
      return;
    }
    r->list_key = "backups";
    r->listing = listing_identity("cluster-backups", e, cluster_id, NULL);
    start_listing(r, token);
    return;

  case EP_FOLDER_BACKUPS:
    if (!check_id(r, "folder_id", folder) || !check_paging(t, r, &token))
      return;
    dataset_folder_backups(ds, e, folder, &r->items);
    r->list_key = "backups";
    r->listing = listing_identity("folder-backups", e, folder, NULL);
    start_listing(r, token);
    return;

  case EP_CLUSTERS: {
    if (!check_id(r, "folder_id", folder) || !check_paging(t, r, &token))
      return;
    const char *filter = target_param(t, "filter");
    char *name = NULL;
    if (filter && strlen(filter) > MAX_FILTER_LEN) {
      fail(r, 400,
           "Request validation error: filter: length must be at most %d",
           MAX_FILTER_LEN);
      return;
    }
    if (filter && *filter && !parse_name_filter(filter, &name)) {
      fail(
          r, 400,
          "Request validation error: filter: only name=\"VALUE\" is supported");
      return;
    }
    dataset_folder_clusters(ds, e, folder, &r->items);
    if (name)
      filter_clusters(ds, r, name);
    r->list_key = "clusters";
    r->listing = listing_identity("clusters", e, folder, name);
    free(name);
    start_listing(r, token);
    return;
  }
  case EP_CLUSTER_POLICIES:
  case EP_CLUSTER_OPERATIONS: {
    if (!check_id(r, "cluster_id", cluster_id) || !check_paging(t, r, &token))
      return;
    struct item_list unused;
    if (!dataset_cluster_backups(ds, e, cluster_id, &unused)) {
      fail(r, 404, "Cluster \"%s\" not found", cluster_id);
      return;
    }
    bool ops = ep == EP_CLUSTER_OPERATIONS;
    record_set_list(dataset_records(ds),
                    ops ? RECORD_OPERATIONS : RECORD_CLUSTER_POLICIES, e,
                    cluster_id, &r->items);
    r->list_key = ops ? "operations" : "policies";
    r->listing = listing_identity(
        ops ? "cluster-operations" : "cluster-policies", e, cluster_id, NULL);
    start_listing(r, token);
    return;
  }
  case EP_FOLDER_POLICIES:
    /* the folder is a path segment here, not a query parameter */
    if (!check_id(r, "folder_id", cluster_id) || !check_paging(t, r, &token))
      return;
    record_set_list(dataset_records(ds), RECORD_FOLDER_POLICIES, e, cluster_id,
                    &r->items);
    r->list_key = "policies";
    r->listing = listing_identity("folder-policies", e, cluster_id, NULL);
    start_listing(r, token);
    return;
  case EP_NONE: break;
  }
}

void route_request(const struct dataset *ds, bool authorized,
                   const char *method, const char *raw_target,
                   struct route_result *out)
{
  memset(out, 0, sizeof *out);
  if (strcmp(method, "GET") != 0) {
    fail(out, 405,
         "Method %s is not allowed (this API is read-only here: GET only)",
         method);
    return;
  }
  struct target t;
  target_parse(raw_target, &t);
  enum engine e = ENGINE_MONGODB;
  const char *cluster_id = NULL;
  enum endpoint ep = rm_path(&t) ? EP_NONE
                                 : match_endpoint(&t, &e, &cluster_id);
  if (rm_path(&t) && !authorized)
    fail(out, 401, "Token is invalid or has expired.");
  else if (rm_path(&t))
    rm_route(&t, out);
  else if (ep == EP_NONE)
    fail(out, 404, "Not Found: no method at path %.*s",
         (int)strcspn(raw_target, "?"), raw_target);
  else if (!authorized)
    fail(out, 401, "Token is invalid or has expired.");
  else if (t.has_nul)
    fail(out, 400, "Request validation error: request contains a NUL byte");
  else
    route_endpoint(ds, &t, ep, e, cluster_id, out);
  target_free(&t);
}

void route_result_free(struct route_result *r)
{
  free(r->message);
  free(r->owned_idx);
  free(r->listing);
  memset(r, 0, sizeof *r);
}
