#include "steps.h"

#include <fnmatch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define STEP_PATH "/fake/v1/step"

struct fleet_steps {
  struct dataset **ds;
  int n;
  atomic_int cur;
};

struct fleet_steps *steps_new(void)
{
  struct fleet_steps *st = xmalloc(sizeof *st);
  st->ds = NULL;
  st->n = 0;
  atomic_init(&st->cur, 0);
  return st;
}

void steps_add(struct fleet_steps *st, struct dataset *ds)
{
  st->ds = xrealloc(st->ds, (size_t)(st->n + 1) * sizeof *st->ds);
  st->ds[st->n++] = ds;
}

int steps_count(const struct fleet_steps *st)
{
  return st->n;
}

struct dataset *steps_at(const struct fleet_steps *st, int i)
{
  return st->ds[i];
}

const struct dataset *steps_current(const struct fleet_steps *st)
{
  return st->ds[atomic_load(&((struct fleet_steps *)st)->cur)];
}

bool steps_route(struct fleet_steps *st, const char *method, const char *target,
                 struct route_result *r, char **owned)
{
  size_t n = strlen(STEP_PATH);
  if (st == NULL || strncmp(target, STEP_PATH, n) != 0 ||
      (target[n] != '\0' && target[n] != '?'))
    return false;
  memset(r, 0, sizeof *r);
  if (strcmp(method, "POST") != 0) {
    r->kind = ROUTE_ERROR;
    r->status = 405;
    r->message = xstrdup("Use POST to move the fleet to its next step.");
    return true;
  }
  int cur = atomic_load(&st->cur);
  while (cur + 1 < st->n &&
         !atomic_compare_exchange_weak(&st->cur, &cur, cur + 1))
    ;
  if (cur + 1 >= st->n) {
    r->kind = ROUTE_ERROR;
    r->status = 409;
    r->message = xstrdup("The fleet is at its last step.");
    return true;
  }
  char buf[64];
  int len = snprintf(buf, sizeof buf, "{\"step\":%d,\"steps\":%d}", cur + 2,
                     st->n);
  *owned = xstrdup(buf);
  r->kind = ROUTE_OBJECT;
  r->object.json = *owned;
  r->object.len = (size_t)len;
  fprintf(stderr, "fakeapi: fleet step %d of %d\n", cur + 2, st->n);
  return true;
}

void steps_free(struct fleet_steps *st)
{
  if (st == NULL)
    return;
  for (int i = 0; i < st->n; i++)
    dataset_free(st->ds[i]);
  free(st->ds);
  free(st);
}

static const char *const *without;
static int nwithout;

void steps_without(const char *const *globs, int n)
{
  without = globs;
  nwithout = n;
}

static bool matches(const char *id)
{
  for (int i = 0; i < nwithout; i++)
    if (fnmatch(without[i], id, 0) == 0)
      return true;
  return false;
}

bool steps_excluded(const char *cluster_id, const char *json, size_t len)
{
  if (nwithout == 0)
    return false;
  if (cluster_id && matches(cluster_id))
    return true;
  /* The object's own id: the first "id" member (the JSON is verbatim). */
  static const char key[] = "\"id\":\"";
  for (size_t i = 0; i + sizeof key - 1 < len; i++) {
    if (memcmp(json + i, key, sizeof key - 1) == 0) {
      const char *start = json + i + sizeof key - 1;
      const char *end = memchr(start, '"', len - (size_t)(start - json));
      if (end == NULL || end - start >= 256)
        return false;
      char id[256];
      memcpy(id, start, (size_t)(end - start));
      id[end - start] = '\0';
      return matches(id);
    }
  }
  return false;
}
