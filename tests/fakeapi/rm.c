#include "rm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "numparse.h"
#include "tokens.h"
#include "xalloc.h"

#define MAX_ID_LEN        50
#define MAX_PAGE_SIZE     1000
#define DEFAULT_PAGE_SIZE 100

struct cloud {
  char *id;
  struct json_item json;
  struct json_item *folders;
  uint32_t *idx; /* 0..nfolders-1 */
  size_t nfolders;
};

static struct cloud *clouds;
static struct json_item *cloud_items; /* rebuilt as clouds are added */
static uint32_t *cloud_idx;
static size_t nclouds;

static struct json_item render(struct buf *b)
{
  size_t len;
  char *s = buf_steal(b, &len);
  return (struct json_item){s, len};
}

static bool valid_id(const char *s, size_t n)
{
  if (n == 0 || n > MAX_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
          s[i] == '-'))
      return false;
  return true;
}

bool rm_add_cloud(const char *spec)
{
  const char *eq = strchr(spec, '=');
  if (!eq || !valid_id(spec, (size_t)(eq - spec)))
    return false;
  char *id = xstrndup(spec, (size_t)(eq - spec));
  for (size_t i = 0; i < nclouds; i++)
    if (strcmp(clouds[i].id, id) == 0) {
      free(id);
      return false;
    }
  struct cloud c = {.id = id};
  for (const char *p = eq + 1; *p;) {
    size_t n = strcspn(p, ",");
    if (!valid_id(p, n)) {
      for (size_t i = 0; i < c.nfolders; i++)
        free((char *)c.folders[i].json);
      free(c.folders);
      free(id);
      return false;
    }
    struct buf b;
    buf_init(&b);
    buf_printf(
        &b,
        "{\"id\": \"%.*s\", \"cloudId\": \"%s\", \"name\": \"%.*s\", "
        "\"createdAt\": \"2024-01-01T00:00:00Z\", \"status\": \"ACTIVE\"}",
        (int)n, p, id, (int)n, p);
    c.folders = xrealloc(c.folders, (c.nfolders + 1) * sizeof *c.folders);
    c.folders[c.nfolders++] = render(&b);
    p += n;
    if (*p == ',')
      p++;
  }
  c.idx = xmalloc((c.nfolders ? c.nfolders : 1) * sizeof *c.idx);
  for (size_t i = 0; i < c.nfolders; i++)
    c.idx[i] = (uint32_t)i;
  struct buf b;
  buf_init(&b);
  buf_printf(&b,
             "{\"id\": \"%s\", \"name\": \"%s\", \"createdAt\": "
             "\"2024-01-01T00:00:00Z\", "
             "\"organizationId\": \"bpffakeorg\"}",
             id, id);
  c.json = render(&b);
  clouds = xrealloc(clouds, (nclouds + 1) * sizeof *clouds);
  clouds[nclouds++] = c;
  cloud_items = xrealloc(cloud_items, nclouds * sizeof *cloud_items);
  cloud_idx = xrealloc(cloud_idx, nclouds * sizeof *cloud_idx);
  for (size_t i = 0; i < nclouds; i++) {
    cloud_items[i] = clouds[i].json;
    cloud_idx[i] = (uint32_t)i;
  }
  return true;
}

bool rm_path(const struct target *t)
{
  return t->nsegments >= 1 && strcmp(t->segments[0], "resource-manager") == 0;
}

static void fail(struct route_result *r, int status, const char *msg,
                 const char *arg)
{
  struct buf b;
  buf_init(&b);
  buf_printf(&b, msg, arg);
  r->kind = ROUTE_ERROR;
  r->status = status;
  r->message = buf_steal(&b, NULL);
}

void rm_route(const struct target *t, struct route_result *r)
{
  bool v1 = t->nsegments == 3 && strcmp(t->segments[1], "v1") == 0;
  bool is_clouds = v1 && strcmp(t->segments[2], "clouds") == 0;
  bool is_folders = v1 && strcmp(t->segments[2], "folders") == 0;
  if (!is_clouds && !is_folders) {
    fail(r, 404, "Not Found: no method at path %s", "/resource-manager/...");
    return;
  }
  const char *size = target_param(t, "pageSize");
  uint64_t v = 0;
  if (size && !parse_u64(size, MAX_PAGE_SIZE, &v)) {
    fail(r, 400,
         "Request validation error: page_size: must be an integer from 0 to %s",
         "1000");
    return;
  }
  r->page_size = v ? (uint32_t)v : DEFAULT_PAGE_SIZE;
  const char *token = target_param(t, "pageToken");
  struct buf id;
  buf_init(&id);
  if (is_clouds) {
    r->list_key = "clouds";
    r->items = (struct item_list){cloud_items, cloud_idx, nclouds};
    buf_printf(&id, "rm-clouds");
  } else {
    const char *cloud = target_param(t, "cloudId");
    if (!cloud || !*cloud || strlen(cloud) > MAX_ID_LEN) {
      fail(r, 400, "Request validation error: cloud_id: %s",
           "required, at most 50");
      return;
    }
    const struct cloud *c = NULL;
    for (size_t i = 0; i < nclouds && !c; i++)
      if (strcmp(clouds[i].id, cloud) == 0)
        c = &clouds[i];
    if (!c) {
      fail(r, 404, "Cloud \"%s\" not found", cloud);
      return;
    }
    r->list_key = "folders";
    r->items = (struct item_list){c->folders, c->idx, c->nfolders};
    buf_printf(&id, "rm-folders\n%s", cloud);
  }
  r->listing = buf_steal(&id, NULL);
  r->kind = ROUTE_LISTING;
  uint32_t offset = 0;
  if (token && *token && !token_parse(token, r->listing, &offset)) {
    fail(r, 400, "invalid page token%s", "");
    return;
  }
  r->offset = offset > r->items.n ? (uint32_t)r->items.n : offset;
}

void rm_free(void)
{
  for (size_t i = 0; i < nclouds; i++) {
    for (size_t k = 0; k < clouds[i].nfolders; k++)
      free((char *)clouds[i].folders[k].json);
    free(clouds[i].folders);
    free(clouds[i].idx);
    free((char *)clouds[i].json.json);
    free(clouds[i].id);
  }
  free(clouds);
  free(cloud_items);
  free(cloud_idx);
  clouds = NULL;
  cloud_items = NULL;
  cloud_idx = NULL;
  nclouds = 0;
}
