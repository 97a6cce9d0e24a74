/* --generate SPEC: synthetic fleets of any size, deterministic for a given
 * spec (and start time), for pagination tests and the benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "numparse.h"
#include "render.h"
#include "sources.h"
#include "timefmt.h"
#include "xalloc.h"

#define MAX_ID_LEN        50
#define MAX_TOTAL_BACKUPS 50000000ULL
#define GIB               1073741824ULL
#define MIB               1048576ULL
#define Y2000             946684800LL

struct gen_spec {
  enum engine engine;
  const char *folder;
  uint64_t clusters;
  uint64_t backups;
  int64_t start;
  uint64_t interval;
  bool interval_given;
  const char *prefix;
  char *default_prefix;
};

static int digits_for(uint64_t max_index, int min_width)
{
  int w = 1;
  while (max_index >= 10) {
    max_index /= 10;
    w++;
  }
  return w < min_width ? min_width : w;
}

static bool parse_pair(struct gen_spec *g, char *key, char *value,
                       bool *have_engine)
{
  if (strcmp(key, "engine") == 0) {
    if (!engine_from_name(value, &g->engine)) {
      fprintf(stderr, "fakeapi: --generate: unknown engine '%s'\n", value);
      return false;
    }
    *have_engine = true;
  } else if (strcmp(key, "folder") == 0) {
    if (!*value || strlen(value) > MAX_ID_LEN) {
      fprintf(stderr, "fakeapi: --generate: folder must be 1..%d characters\n",
              MAX_ID_LEN);
      return false;
    }
    g->folder = value;
  } else if (strcmp(key, "clusters") == 0) {
    if (!parse_u64(value, 1000000, &g->clusters) || g->clusters == 0) {
      fprintf(stderr,
              "fakeapi: --generate: clusters must be an integer 1..1000000\n");
      return false;
    }
  } else if (strcmp(key, "backups") == 0) {
    if (!parse_u64(value, MAX_TOTAL_BACKUPS, &g->backups)) {
      fprintf(stderr,
              "fakeapi: --generate: backups must be an integer 0..%llu\n",
              MAX_TOTAL_BACKUPS);
      return false;
    }
  } else if (strcmp(key, "start") == 0) {
    if (!time_parse_rfc3339(value, &g->start)) {
      fprintf(stderr,
              "fakeapi: --generate: start '%s' is not an RFC 3339 time\n",
              value);
      return false;
    }
  } else if (strcmp(key, "interval") == 0) {
    if (!parse_u64(value, 100ULL * 366 * 86400, &g->interval) ||
        g->interval == 0) {
      fprintf(stderr, "fakeapi: --generate: interval must be a positive number "
                      "of seconds\n");
      return false;
    }
    g->interval_given = true;
  } else if (strcmp(key, "prefix") == 0) {
    if (!*value) {
      fprintf(stderr, "fakeapi: --generate: prefix must not be empty\n");
      return false;
    }
    g->prefix = value;
  } else {
    fprintf(
        stderr,
        "fakeapi: --generate: unknown key '%s' (want engine, folder, clusters, "
        "backups, start, interval, prefix)\n",
        key);
    return false;
  }
  return true;
}

static bool parse_spec(char *text, struct gen_spec *g, int64_t now)
{
  *g = (struct gen_spec){
      .folder = "b1gfakefolder0000001",
      .clusters = 1,
      .backups = 10,
      .start = now - ((now % 3600) + 3600) % 3600,
      .interval = 86400,
  };
  bool have_engine = false;
  for (char *save = NULL, *item = strtok_r(text, ",", &save); item;
       item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    if (!eq) {
      fprintf(stderr, "fakeapi: --generate: '%s' is not key=value\n", item);
      return false;
    }
    *eq = '\0';
    if (!parse_pair(g, item, eq + 1, &have_engine))
      return false;
  }
  if (!have_engine) {
    fprintf(stderr, "fakeapi: --generate: engine=... is required\n");
    return false;
  }
  if (g->clusters * g->backups > MAX_TOTAL_BACKUPS) {
    fprintf(stderr,
            "fakeapi: --generate: clusters*backups must be at most %llu\n",
            MAX_TOTAL_BACKUPS);
    return false;
  }
  if (!g->prefix) {
    g->default_prefix = xmalloc(strlen(engine_name(g->engine)) + 2);
    sprintf(g->default_prefix, "c%s", engine_name(g->engine));
    g->prefix = g->default_prefix;
  }
  /* The default daily interval would push a big dataset back past year 1
     * (1,000,000 days is 2,700 years), which RFC 3339 can't express;
     * squeeze it so the oldest backup stays in this century instead. */
  if (!g->interval_given && g->backups > 0 && g->start > Y2000 &&
      (uint64_t)(g->start - Y2000) / 86400 < g->backups) {
    g->interval = (uint64_t)(g->start - Y2000) / g->backups;
    if (g->interval == 0)
      g->interval = 1;
    fprintf(stderr,
            "fakeapi: --generate: %llu backups: default interval shortened to "
            "%llu s\n",
            (unsigned long long)g->backups, (unsigned long long)g->interval);
  }
  if (g->start > TIME_MAX_SECS ||
      (double)g->start - (double)(g->backups + 1) * (double)g->interval -
              900.0 <
          (double)TIME_MIN_SECS) {
    fprintf(stderr, "fakeapi: --generate: backups would reach before year 1; "
                    "use a smaller interval or fewer backups\n");
    return false;
  }
  int width = digits_for(g->clusters - 1, 4);
  if (strlen(g->prefix) + 1 + (size_t)width > MAX_ID_LEN) {
    fprintf(
        stderr,
        "fakeapi: --generate: prefix '%s' makes cluster ids longer than %d\n",
        g->prefix, MAX_ID_LEN);
    return false;
  }
  return true;
}

/* Deterministic but irregular, so size trends and sums are not trivial. */
static uint64_t backup_size(uint64_t cluster, uint64_t i)
{
  return GIB * (5 + cluster % 7) + ((i * 2654435761ULL) % 1024) * MIB +
         (i % 97) * 4096;
}

static bool generate_cluster(struct dataset *ds, const struct gen_spec *g,
                             uint64_t j, struct buf *out)
{
  struct buf id, name, bid;
  buf_init(&id);
  buf_init(&name);
  buf_init(&bid);
  int cwidth = digits_for(g->clusters - 1, 4);
  int bwidth = digits_for(g->backups ? g->backups - 1 : 0, 6);
  bool ok = true;

  buf_puts(&id, g->prefix);
  buf_putc(&id, '-');
  buf_put_u64_padded(&id, j, cwidth);
  buf_puts(&name, engine_name(g->engine));
  buf_putc(&name, '-');
  buf_put_u64_padded(&name, j, cwidth);

  struct cluster_spec cs = {
      .engine = g->engine,
      .id = id.data,
      .folder_id = g->folder,
      .name = name.data,
      .created_at = g->start - (int64_t)(g->backups * g->interval),
      .retain_days = 7,
      /* backups start at :45 of the hour before `start`: the window
         * opens on that hour, as the service starts them inside it */
      .window_hour = (int)((((g->start - 3600) % 86400) + 86400) % 86400 /
                           3600),
  };
  buf_reset(out);
  render_cluster(out, &cs);
  if (!dataset_add_cluster(ds, g->engine, g->folder, id.data, name.data,
                           out->data, out->len)) {
    fprintf(stderr,
            "fakeapi: --generate: duplicate %s cluster '%s' (use prefix=...)\n",
            engine_name(g->engine), id.data);
    ok = false;
  }

  for (uint64_t i = 0; ok && i < g->backups; i++) {
    buf_reset(&bid);
    buf_put(&bid, id.data, id.len);
    buf_putc(&bid, ':');
    buf_put_u64_padded(&bid, i, bwidth);
    int64_t created = g->start - (int64_t)(i * g->interval);
    struct backup_spec bs = {
        .engine = g->engine,
        .id = bid.data,
        .folder_id = g->folder,
        .cluster_id = id.data,
        .created_at = created,
        .started_at = created - 900,
        .micros = i % 3 == 2 ? (int)((i * 104729 + j * 7919 + 123456) % 1000000)
                             : -1,
        .size = backup_size(j, i),
        /* every tenth PostgreSQL backup is kept by a monthly policy */
        .policy_days = g->engine == ENGINE_POSTGRESQL && i % 10 == 9 ? 30 : 0,
    };
    buf_reset(out);
    render_backup(out, &bs);
    if (!dataset_add_backup(ds, g->engine, g->folder, id.data, out->data,
                            out->len)) {
      fprintf(stderr, "fakeapi: --generate: too many backups\n");
      ok = false;
    }
  }
  buf_free(&id);
  buf_free(&name);
  buf_free(&bid);
  return ok;
}

bool generate_load(struct dataset *ds, const char *spec, int64_t now)
{
  char *text = xstrdup(spec);
  struct gen_spec g;
  bool ok = parse_spec(text, &g, now);
  struct buf out;
  buf_init(&out);
  if (ok)
    dataset_reserve_backups(ds, (size_t)(g.clusters * g.backups));
  for (uint64_t j = 0; ok && j < g.clusters; j++)
    ok = generate_cluster(ds, &g, j, &out);
  buf_free(&out);
  free(g.default_prefix);
  free(text);
  return ok;
}
