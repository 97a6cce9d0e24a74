#include "listing/list_url.h"

#include "mdb_defaults.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *list_items_field(list_kind kind)
{
  switch (kind) {
  case LIST_CLUSTERS: return "clusters";
  case LIST_CLUSTER_POLICIES:
  case LIST_FOLDER_POLICIES: return "policies";
  case LIST_OPERATIONS: return "operations";
  case LIST_CLOUDS: return "clouds";
  case LIST_CLOUD_FOLDERS: return "folders";
  default: return "backups";
  }
}

const char *list_id_field(list_kind kind)
{
  return kind == LIST_CLUSTER_POLICIES || kind == LIST_FOLDER_POLICIES
             ? "policyId"
             : "id";
}

int list_kind_supported(list_kind kind, const engine_info *engine)
{
  if (kind != LIST_CLUSTER_POLICIES && kind != LIST_FOLDER_POLICIES)
    return 1;
  static const char *const with_policies[] = {"postgresql", "mysql", "mongodb",
                                              "redis"};
  for (size_t i = 0; i < sizeof with_policies / sizeof *with_policies; i++)
    if (strcmp(engine->name, with_policies[i]) == 0)
      return kind == LIST_CLUSTER_POLICIES || i > 0;
  return 0;
}

/* curl_easy_escape with an empty string for NULL; caller curl_free()s. */
static char *escape(const char *s)
{
  return curl_easy_escape(NULL, s ? s : "", 0);
}

char *list_url_build(const list_target *t, long page_size,
                     const char *page_token)
{
  if (page_size < 0)
    page_size = 0;
  if (page_size > MDB_MAX_PAGE_SIZE)
    page_size = MDB_MAX_PAGE_SIZE;
  char *id = escape(t->id);
  char *tok = page_token && *page_token ? escape(page_token) : NULL;
  char *filter = t->kind == LIST_CLUSTERS && t->filter && *t->filter
                     ? escape(t->filter)
                     : NULL;
  char *url = NULL;
  if (id == NULL || (page_token && *page_token && tok == NULL) ||
      (t->kind == LIST_CLUSTERS && t->filter && *t->filter && filter == NULL))
    goto done;

  const char *prefix = t->engine ? t->engine->prefix : "";
  size_t need = strlen(t->endpoint) + strlen(prefix) + strlen(id) +
                (tok ? strlen(tok) : 0) + (filter ? strlen(filter) : 0) + 96;
  url = malloc(need);
  if (url == NULL)
    goto done;
  int n;
  switch (t->kind) {
  case LIST_CLUSTER_BACKUPS:
    n = snprintf(url, need, "%s%s/clusters/%s/backups?pageSize=%ld",
                 t->endpoint, prefix, id, page_size);
    break;
  case LIST_FOLDER_BACKUPS:
    n = snprintf(url, need, "%s%s/backups?folderId=%s&pageSize=%ld",
                 t->endpoint, prefix, id, page_size);
    break;
  case LIST_CLUSTER_POLICIES:
    n = snprintf(url, need, "%s%s/clusters/%s/retention_policies?pageSize=%ld",
                 t->endpoint, prefix, id, page_size);
    break;
  case LIST_FOLDER_POLICIES:
    n = snprintf(url, need, "%s%s/folders/%s/retention_policies?pageSize=%ld",
                 t->endpoint, prefix, id, page_size);
    break;
  case LIST_OPERATIONS:
    n = snprintf(url, need, "%s%s/clusters/%s/operations?pageSize=%ld",
                 t->endpoint, prefix, id, page_size);
    break;
  case LIST_CLOUDS:
    n = snprintf(url, need, "%s/resource-manager/v1/clouds?pageSize=%ld",
                 t->endpoint, page_size);
    break;
  case LIST_CLOUD_FOLDERS:
    n = snprintf(url, need,
                 "%s/resource-manager/v1/folders?cloudId=%s"
                 "&pageSize=%ld",
                 t->endpoint, id, page_size);
    break;
  default:
    n = snprintf(url, need, "%s%s/clusters?folderId=%s&pageSize=%ld",
                 t->endpoint, prefix, id, page_size);
    break;
  }
  if (tok)
    n += snprintf(url + n, need - n, "&pageToken=%s", tok);
  if (filter)
    snprintf(url + n, need - n, "&filter=%s", filter);
done:
  curl_free(id);
  curl_free(tok);
  curl_free(filter);
  return url;
}
