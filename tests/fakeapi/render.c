#include "render.h"

#include "timefmt.h"

/* Keys are literals, so their lengths are compile-time constants; this
 * runs for every generated backup at start-up. */
#define KEY(b, key) buf_put(b, ",\"" key "\":", sizeof(key) + 3)

/* Values are generated ids (no quotes or backslashes), but escaping keeps
 * --generate prefix=... safe anyway. */
#define field_str(b, key, value) (KEY(b, key), buf_put_json_string(b, value))
#define field_raw(b, key, json)  (KEY(b, key), buf_puts(b, json))

static void put_int64(struct buf *b, uint64_t value)
{
  buf_putc(b, '"');
  buf_put_u64(b, value);
  buf_putc(b, '"');
}

static void put_time(struct buf *b, int64_t secs, int micros)
{
  buf_putc(b, '"');
  time_put_rfc3339(b, secs, micros);
  buf_putc(b, '"');
}

#define field_int64(b, key, value) (KEY(b, key), put_int64(b, value))
#define field_time(b, key, secs, micros) \
  (KEY(b, key), put_time(b, secs, micros))

void render_backup(struct buf *b, const struct backup_spec *s)
{
  const char *type = s->manual ? "MANUAL" : "AUTOMATED";
  const char *status = s->creating ? "CREATING" : "DONE";
  uint64_t journal = s->size / 16 + s->size % 4099;

  buf_puts(b, "{\"id\":");
  buf_put_json_string(b, s->id);
  field_str(b, "folderId", s->folder_id);
  field_time(b, "createdAt", s->created_at, s->micros);
  field_str(b, "sourceClusterId", s->cluster_id);
  field_time(b, "startedAt", s->started_at, s->micros);

  switch (s->engine) {
  case ENGINE_MONGODB:
    field_raw(b, "sourceShardNames", "[\"rs01\"]");
    field_int64(b, "size", s->size);
    field_str(b, "type", type);
    field_int64(b, "journalSize", journal);
    break;
  case ENGINE_SQLSERVER: field_raw(b, "databases", "[\"db1\"]"); break;
  case ENGINE_POSTGRESQL:
    field_int64(b, "size", s->size);
    field_str(b, "type", type);
    field_str(b, "method", "BASE");
    field_int64(b, "journalSize", journal);
    field_str(b, "status", status);
    if (s->policy_days > 0) {
      field_str(b, "retentionPolicyId", "fakepolicy0000000001");
      field_str(b, "retentionPolicyName", "monthly");
      field_time(b, "retainUntil",
                 s->created_at + (int64_t)s->policy_days * 86400, s->micros);
    }
    break;
  case ENGINE_MYSQL:
    field_int64(b, "size", s->size);
    field_str(b, "type", type);
    field_str(b, "status", status);
    field_int64(b, "journalSize", journal);
    break;
  case ENGINE_CLICKHOUSE:
    field_raw(b, "sourceShardNames", "[\"shard1\"]");
    field_int64(b, "size", s->size);
    field_str(b, "type", type);
    break;
  case ENGINE_REDIS:
    /* Redis backups never had a size (api.md §2.4). */
    field_raw(b, "sourceShardNames", "[\"shard1\"]");
    field_str(b, "type", type);
    break;
  case ENGINE_GREENPLUM:
    field_int64(b, "size", s->size);
    field_str(b, "type", type);
    field_str(b, "method", "BASE");
    field_int64(b, "journalSize", journal);
    break;
  case ENGINE_OPENSEARCH:
    field_raw(b, "indices", "[\"logs-app\",\"metrics\"]");
    field_str(b, "opensearchVersion", "2.12.0");
    field_int64(b, "sizeBytes", s->size);
    field_int64(b, "indicesTotal", 2);
    field_int64(b, "incrementalSizeBytes", s->size / 10);
    field_int64(b, "totalSizeBytes", s->size + s->size / 10);
    field_int64(b, "freeSpaceRequiredBytes", s->size);
    break;
  case ENGINE_ELASTICSEARCH:
    field_raw(b, "indices", "[\"logs-app\",\"metrics\"]");
    field_str(b, "elasticsearchVersion", "7.17.9");
    field_int64(b, "sizeBytes", s->size);
    field_int64(b, "indicesTotal", 2);
    break;
  case ENGINE_SPQR:
    field_raw(b, "sourceShardNames", "[\"shard1\"]");
    field_int64(b, "size", s->size);
    field_str(b, "type", type);
    break;
  case ENGINE_COUNT: break;
  }
  buf_putc(b, '}');
}

void render_cluster(struct buf *b, const struct cluster_spec *s)
{
  buf_puts(b, "{\"id\":");
  buf_put_json_string(b, s->id);
  field_str(b, "folderId", s->folder_id);
  field_time(b, "createdAt", s->created_at, -1);
  field_str(b, "name", s->name);
  field_str(b, "environment", "PRODUCTION");
  field_str(b, "health", "ALIVE");
  field_str(b, "status", "RUNNING");
  field_raw(b, "labels", "{}");
  buf_puts(b, ",\"config\":{");
  switch (s->engine) {
  case ENGINE_OPENSEARCH:
    /* SnapshotManagement: a schedule and an Int64Value max age (as
         * every int64, a JSON string); no backupWindowStart. */
    buf_puts(b, "\"snapshotManagement\":{\"snapshotSchedule\":"
                "{\"dailySnapshotSchedule\":{\"hour\":");
    put_int64(b, (uint64_t)s->window_hour);
    buf_puts(b, ",\"minute\":\"0\"}}");
    field_int64(b, "snapshotMaxAgeDays", (uint64_t)s->retain_days);
    buf_putc(b, '}');
    break;
  case ENGINE_ELASTICSEARCH: break; /* no backup window, no retention */
  default:
    buf_puts(b, "\"backupWindowStart\":{\"hours\":");
    buf_put_u64(b, (uint64_t)s->window_hour);
    buf_puts(b, ",\"minutes\":0,\"seconds\":0,\"nanos\":0}");
    if (s->engine != ENGINE_SQLSERVER)
      field_int64(b, "backupRetainPeriodDays", (uint64_t)s->retain_days);
    break;
  }
  buf_puts(b, "}}");
}
