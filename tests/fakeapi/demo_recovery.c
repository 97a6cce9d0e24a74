/* --demo, continued: the retention policies and operations of the demo
 * fleet (records.h).  users-prod's last backup attempt failed (an
 * operation with an error); billing-prod's backup operation has been
 * running for 9 h (its backup is still CREATING); orders-prod has a daily
 * policy no backup carries, so it is not honoured; sessions-cache's daily
 * policy is honoured.  Times follow "now" like the rest of the demo; the
 * backup ids match demo_fleet.c's. */
#include <string.h>

#include "buf.h"
#include "records.h"
#include "sources.h"
#include "timefmt.h"

#define DEMO_FOLDER "b1gdemofolder0000001"
#define HOUR        3600
#define DAY         86400

static void put_time_field(struct buf *b, const char *key, int64_t t)
{
  buf_printf(b, ",\"%s\":\"", key);
  time_put_rfc3339(b, t, -1);
  buf_putc(b, '"');
}

static void add_policy(struct dataset *ds, enum engine e, const char *cluster,
                       const char *id, const char *name, const char *dom,
                       const char *dow, int days, int64_t created)
{
  struct buf b;
  buf_init(&b);
  buf_printf(&b,
             "{\"policyId\":\"%s\",\"clusterId\":\"%s\",\"policyName\":\"%s\"",
             id, cluster, name);
  put_time_field(&b, "createdAt", created);
  buf_printf(
      &b,
      ",\"cron\":{\"dayOfMonth\":\"%s\",\"month\":\"*\",\"dayOfWeek\":\"%s\"},"
      "\"retainForDays\":\"%d\",\"description\":\"demo\"}",
      dom, dow, days);
  record_set_add_policy(dataset_records(ds), e, DEMO_FOLDER, cluster, b.data,
                        b.len);
  buf_free(&b);
}

/* A Cluster.Backup operation; error NULL: done with the Cluster as its
 * response, or still running when `done` is false. */
static void add_backup_op(struct dataset *ds, enum engine e, const char *pkg,
                          const char *cluster, const char *op_id,
                          const char *backup_id, int64_t created,
                          int64_t modified, bool done, const char *error)
{
  struct buf b;
  buf_init(&b);
  buf_printf(&b,
             "{\"id\":\"%s\",\"description\":\"Create a backup for cluster\"",
             op_id);
  put_time_field(&b, "createdAt", created);
  buf_puts(&b, ",\"createdBy\":\"ajedemouser000000001\"");
  put_time_field(&b, "modifiedAt", modified);
  buf_printf(&b,
             ",\"done\":%s,\"metadata\":{\"@type\":\"type.googleapis.com/"
             "yandex.cloud.mdb.%s.v1."
             "BackupClusterMetadata\",\"clusterId\":\"%s\"",
             done ? "true" : "false", pkg, cluster);
  if (backup_id)
    buf_printf(&b, ",\"backupId\":\"%s\"", backup_id);
  buf_putc(&b, '}');
  if (error)
    buf_printf(&b, ",\"error\":{\"code\":13,\"message\":\"%s\",\"details\":[]}",
               error);
  else if (done)
    buf_printf(&b,
               ",\"response\":{\"@type\":\"type.googleapis.com/"
               "yandex.cloud.mdb.%s.v1.Cluster\","
               "\"id\":\"%s\"}",
               pkg, cluster);
  buf_putc(&b, '}');
  record_set_add(dataset_records(ds), RECORD_OPERATIONS, e, cluster, b.data,
                 b.len);
  buf_free(&b);
}

static void backup_id(struct buf *b, const char *cluster, const char *kind,
                      int64_t started)
{
  buf_reset(b);
  buf_printf(b, "%s:%s_", cluster, kind);
  time_put_compact(b, started);
}

void demo_recovery_load(struct dataset *ds, int64_t now)
{
  struct buf id;
  buf_init(&id);

  /* orders-prod: newest daily backup 3 h ago; its manual backup 5 days
     * before that succeeded. */
  int64_t orders = now - 3 * HOUR - 7 * 60;
  int64_t manual = orders - 5 * DAY + (5 * 37 % 11) * 60 - 6 * HOUR - 17 * 60;
  backup_id(&id, "c9qordersprod0000001", "manual", manual);
  add_backup_op(ds, ENGINE_POSTGRESQL, "postgresql", "c9qordersprod0000001",
                "mdbdemoop00000000001", id.data, manual, manual + 14 * 60, true,
                NULL);
  add_policy(ds, ENGINE_POSTGRESQL, "c9qordersprod0000001",
             "fakepolicy0000000002", "daily-14d", "*", "*", 14, now - 60 * DAY);

  /* billing-prod: the backup that is still CREATING, started 9 h ago */
  int64_t billing = now - 9 * HOUR - 7 * 60;
  backup_id(&id, "c9qbillingprod000002", "auto", billing);
  add_backup_op(ds, ENGINE_POSTGRESQL, "postgresql", "c9qbillingprod000002",
                "mdbdemoop00000000002", id.data, billing, now - 5 * 60, false,
                NULL);

  /* users-prod: a manual backup an hour ago failed; one a day earlier
     * succeeded */
  add_backup_op(ds, ENGINE_MONGODB, "mongodb", "c9qusersprod00000003",
                "mdbdemoop00000000003", NULL, now - 25 * HOUR,
                now - 24 * HOUR - 40 * 60, true, NULL);
  add_backup_op(
      ds, ENGINE_MONGODB, "mongodb", "c9qusersprod00000003",
      "mdbdemoop00000000004", NULL, now - 1 * HOUR, now - 48 * 60, true,
      "Backup upload to object storage failed: connection reset by peer");

  /* sessions-cache: a daily policy its daily backups honour */
  add_policy(ds, ENGINE_REDIS, "c9qsessionscache0010", "fakepolicy0000000003",
             "daily-7d", "*", "*", 7, now - 60 * DAY);
  buf_free(&id);
}
