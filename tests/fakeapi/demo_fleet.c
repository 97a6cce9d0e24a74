/* --demo: a small, realistic fleet for trying the tool by hand and for
 * screenshots.  Times are relative to "now" so the healthy clusters always
 * look healthy; a few clusters are broken on purpose so every warning the
 * tool can print has something to fire on. */
#include <stdio.h>

#include "buf.h"
#include "render.h"
#include "sources.h"
#include "timefmt.h"

#define DEMO_FOLDER "b1gdemofolder0000001"
#define GIB         1073741824ULL
#define DAY(n)      (1u << (n))

struct demo_cluster {
  const char *name;
  enum engine engine;
  const char *id;
  uint64_t size_gib;    /* newest full backup, roughly */
  int retain_days;      /* backupRetainPeriodDays */
  int days;             /* daily automated backups kept */
  int newest_age_hours; /* how long ago the newest daily backup started */
  unsigned missing;     /* DAY(k): no backup k days before the newest */
  unsigned manual;      /* DAY(k): an extra MANUAL backup that day */
  bool newest_creating; /* newest backup still status CREATING */
  bool newest_tenth;    /* newest backup a tenth of the usual size */
};

/* Deliberately unhealthy: billing-prod (newest backup still CREATING after
 * 9 h), events-archive (stale: newest backup 3 days old), inventory-prod
 * (no backup 2 and 4 days ago), payments-prod (newest backup a tenth of
 * the usual size), metrics-staging (retention of only 3 days, so it cannot
 * be restored to three days ago). */
static const struct demo_cluster fleet[] = {
    /* name             engine              id                       GiB keep days age missing        manual  creating tenth */
    {"orders-prod", ENGINE_POSTGRESQL, "c9qordersprod0000001", 48, 14, 14, 3, 0,
     DAY(5), false, false},
    {"billing-prod", ENGINE_POSTGRESQL, "c9qbillingprod000002", 23, 14, 14, 9,
     0, 0, true, false},
    {"users-prod", ENGINE_MONGODB, "c9qusersprod00000003", 120, 14, 14, 2, 0,
     DAY(9), false, false},
    {"events-archive", ENGINE_MONGODB, "c9qeventsarchive0004", 310, 14, 14, 74,
     0, 0, false, false},
    {"inventory-prod", ENGINE_MYSQL, "c9qinventoryprod0005", 15, 14, 14, 4,
     DAY(2) | DAY(4), 0, false, false},
    {"payments-prod", ENGINE_MYSQL, "c9qpaymentsprod00006", 36, 14, 14, 3, 0,
     DAY(2), false, true},
    {"analytics", ENGINE_CLICKHOUSE, "c9qanalytics00000007", 850, 14, 14, 5, 0,
     DAY(1), false, false},
    {"metrics-staging", ENGINE_CLICKHOUSE, "c9qmetricsstaging008", 64, 3, 3, 6,
     0, 0, false, false},
    {"reporting", ENGINE_SQLSERVER, "c9qreporting00000009", 72, 14, 14, 4, 0, 0,
     false, false},
    {"sessions-cache", ENGINE_REDIS, "c9qsessionscache0010", 2, 14, 14, 1, 0,
     DAY(3), false, false},
};

struct demo_backup {
  int64_t started;
  int64_t created;
  uint64_t size;
  bool manual;
  bool creating;
};

static void add_backup(struct dataset *ds, const struct demo_cluster *c,
                       const struct demo_backup *b, int seq, struct buf *id,
                       struct buf *out)
{
  buf_reset(id);
  buf_puts(id, c->id);
  buf_puts(id, b->manual ? ":manual_" : ":auto_");
  time_put_compact(id, b->started);
  struct backup_spec bs = {
      .engine = c->engine,
      .id = id->data,
      .folder_id = DEMO_FOLDER,
      .cluster_id = c->id,
      .created_at = b->created,
      .started_at = b->started,
      .micros = seq % 3 == 2
                    ? (int)((seq * 271828 + c->size_gib * 4111 + 314159) %
                            1000000)
                    : -1,
      .size = b->size,
      .manual = b->manual,
      .creating = b->creating,
      /* manual PostgreSQL backups are kept by a retention policy */
      .policy_days = b->manual && c->engine == ENGINE_POSTGRESQL ? 30 : 0,
  };
  buf_reset(out);
  render_backup(out, &bs);
  dataset_add_backup(ds, c->engine, DEMO_FOLDER, c->id, out->data, out->len);
}

static bool add_cluster(struct dataset *ds, const struct demo_cluster *c,
                        int64_t now, struct buf *id, struct buf *out)
{
  /* The schedule drifts a few minutes a day, like real backup windows. */
  int64_t newest = now - (int64_t)c->newest_age_hours * 3600 - 7 * 60;
  int seq = 0;
  for (int k = 0; k < c->days; k++) {
    int64_t started = newest - (int64_t)k * 86400 + (k * 37 % 11) * 60;
    uint64_t size = c->size_gib * GIB -
                    c->size_gib * GIB * (uint64_t)k * 3 / 1000;
    if (!(c->missing & DAY(k))) {
      struct demo_backup b = {
          .started = started,
          .created = started + (10 + k * 13 % 20) * 60,
          .size = size,
      };
      if (k == 0 && c->newest_creating) {
        b.creating = true;
        b.created = started;
      }
      if (k == 0 && c->newest_tenth)
        b.size = size / 10;
      add_backup(ds, c, &b, seq++, id, out);
    }
    if (c->manual & DAY(k)) {
      struct demo_backup m = {
          .started = started - 6 * 3600 - 17 * 60,
          .created = started - 6 * 3600 - 17 * 60 + 14 * 60,
          .size = size + size / 50,
          .manual = true,
      };
      add_backup(ds, c, &m, seq++, id, out);
    }
  }

  int64_t window = ((newest % 86400) + 86400) % 86400 / 3600;
  struct cluster_spec cs = {
      .engine = c->engine,
      .id = c->id,
      .folder_id = DEMO_FOLDER,
      .name = c->name,
      .created_at = newest - (int64_t)(c->days + 30) * 86400,
      .retain_days = c->retain_days,
      .window_hour = (int)window,
  };
  buf_reset(out);
  render_cluster(out, &cs);
  if (!dataset_add_cluster(ds, c->engine, DEMO_FOLDER, c->id, c->name,
                           out->data, out->len)) {
    fprintf(stderr, "fakeapi: --demo: %s cluster '%s' already exists\n",
            engine_name(c->engine), c->id);
    return false;
  }
  return true;
}

bool demo_fleet_load(struct dataset *ds, int64_t now)
{
  struct buf id, out;
  buf_init(&id);
  buf_init(&out);
  bool ok = true;
  for (size_t i = 0; ok && i < sizeof fleet / sizeof fleet[0]; i++)
    ok = add_cluster(ds, &fleet[i], now, &id, &out);
  if (ok)
    demo_recovery_load(ds, now);
  buf_free(&id);
  buf_free(&out);
  return ok;
}
