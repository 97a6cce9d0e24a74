#include "listing/list_url.h"

#include "mdb_defaults.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *list_items_field(list_kind kind)
{
  return kind == LIST_CLUSTERS ? "clusters"
       : kind == LIST_CLOUDS ? "clouds"
       : kind == LIST_CLOUD_FOLDERS ? "folders" : "backups";
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
               ? escape(t->filter) : NULL;
  char *url = NULL;
  if (id == NULL || (page_token && *page_token && tok == NULL) ||
      (t->kind == LIST_CLUSTERS && t->filter && *t->filter && filter == NULL))
    goto done;

  const char *prefix = t->engine ? t->engine->prefix : "";
  size_t need = strlen(t->endpoint) + strlen(prefix) +
                strlen(id) + (tok ? strlen(tok) : 0) +
                (filter ? strlen(filter) : 0) + 96;
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
  case LIST_CLOUDS:
    n = snprintf(url, need, "%s/resource-manager/v1/clouds?pageSize=%ld",
                 t->endpoint, page_size);
    break;
  case LIST_CLOUD_FOLDERS:
    n = snprintf(url, need, "%s/resource-manager/v1/folders?cloudId=%s"
                 "&pageSize=%ld", t->endpoint, id, page_size);
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
