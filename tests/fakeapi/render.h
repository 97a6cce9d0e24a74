/* Renders Backup and Cluster JSON for the built-in datasets (--generate and
 * --demo), with exactly the fields each engine has (api.md §2.4, §3, and
 * the cloudapi protos: cluster config per engine, PostgreSQL's retention
 * policy fields).
 * int64 fields are JSON strings, as the gRPC-JSON transcoder emits them. */
#ifndef FAKEAPI_RENDER_H
#define FAKEAPI_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "engines.h"

struct backup_spec {
  enum engine engine;
  const char *id;
  const char *folder_id;
  const char *cluster_id;
  int64_t created_at; /* seconds since the epoch */
  int64_t started_at;
  int micros;      /* fraction for both timestamps; -1 = none */
  uint64_t size;   /* bytes; other size fields are derived from it */
  bool manual;     /* type MANUAL instead of AUTOMATED */
  bool creating;   /* status CREATING instead of DONE */
  int policy_days; /* PostgreSQL: >0 = kept by a retention policy for
                         * that many days (retentionPolicyId, retentionPolicyName,
                         * retainUntil = createdAt + days) */
};

struct cluster_spec {
  enum engine engine;
  const char *id;
  const char *folder_id;
  const char *name;
  int64_t created_at;
  int retain_days; /* backupRetainPeriodDays, or OpenSearch's
                         * snapshotMaxAgeDays; unused for sqlserver and
                         * elasticsearch */
  int window_hour; /* backupWindowStart.hours, or the hour of
                         * OpenSearch's daily snapshot; not elasticsearch */
};

void render_backup(struct buf *b, const struct backup_spec *s);
void render_cluster(struct buf *b, const struct cluster_spec *s);

#endif
