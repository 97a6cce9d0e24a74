-- mdb.recovery and scripts/restore-point.lua: restorable windows to the
-- second (the docs' worked examples), the backup that serves a moment,
-- the restore command per engine family, and the script end to end
-- against the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"
local cjson = require "cjson"
local recovery = require "mdb.recovery"

local T = mdb.parse_time
local function b(id, created, extra)
   local t = { id = id, created = T(created), createdAt = created }
   for k, v in pairs(extra or {}) do t[k] = v end
   return t
end

H.test("PostgreSQL: the docs' worked example, edges to the second", function()
   -- backup done 10 Aug 2020 12:00:00; now 15 Aug 19:00 (api-recovery.md §2)
   local backups = { b("full1", "2020-08-10T12:00:00Z", { type = "AUTOMATED", status = "DONE" }) }
   local now = T "2020-08-15T19:00:00Z"
   local w = recovery.window("postgresql", backups, { now = now })
   H.eq({ w.pitr, w.from, w.to }, { "time", T "2020-08-10T12:00:01Z", now })
   local at_backup = recovery.restore_point("postgresql", backups, { at = T "2020-08-10T12:00:00Z", now = now })
   H.eq(at_backup.restorable, true, "the backup's own state is restorable")
   H.eq({ at_backup.time, at_backup.data_loss_seconds }, { nil, 0 }, "as a backup state, not a point in time")
   local before = recovery.restore_point("postgresql", backups, { at = T "2020-08-10T11:59:59Z", now = now })
   H.eq(before.restorable, false)
   H.contains(before.reason, "before the oldest restorable moment 2020-08-10T12:00:01Z")
   local first = recovery.restore_point("postgresql", backups, { at = T "2020-08-10T12:00:01Z", now = now,
      cluster_id = "cpg" })
   H.eq({ first.restorable, first.backup_id, first.time, first.data_loss_seconds },
      { true, "full1", T "2020-08-10T12:00:01Z", 0 })
   H.eq(first.rest, { method = "POST", path = "/managed-postgresql/v1/clusters:restore", body = {
      backupId = "full1", time = "2020-08-10T12:00:01Z", timeInclusive = true, name = "<name>",
      environment = "<environment>", configSpec = "<configSpec>", networkId = "<networkId>",
      hostSpecs = "<hostSpecs>" } })
   H.eq(first.yc, "yc managed-postgresql cluster restore --backup-id full1 --time 2020-08-10T12:00:01Z "
      .. "--name <NEW_CLUSTER_NAME>")
   local last = recovery.restore_point("postgresql", backups, { at = T "2020-08-15T18:50:00Z", now = now })
   H.eq({ last.restorable, last.backup_id }, { true, "full1" })
   local future = recovery.restore_point("postgresql", backups, { at = now + 1, now = now })
   H.eq(future.restorable, false)
   H.contains(future.reason, "in the future")
end)

H.test("PostgreSQL: manual backups serve only their own state; CREATING backups serve nothing", function()
   local now = T "2026-12-05T00:00:00Z"
   local backups = {
      b("man1", "2026-12-01T10:00:00Z", { type = "MANUAL", status = "DONE" }),
      b("auto1", "2026-12-02T22:10:00Z", { type = "AUTOMATED", status = "DONE" }),
      b("auto2", "2026-12-03T22:10:00Z", { type = "AUTOMATED", status = "CREATING" }),
      b("auto3", "2026-12-04T22:10:00Z", { type = "AUTOMATED", status = "DONE" }),
   }
   local w = recovery.window("postgresql", backups, { now = now })
   H.eq(w.from, T "2026-12-02T22:10:01Z", "the manual backup does not open the window")
   local p = recovery.restore_point("postgresql", backups, { at = T "2026-12-01T12:00:00Z", now = now })
   H.eq({ p.restorable, p.backup_id, p.time, p.data_loss_seconds }, { true, "man1", nil, 2 * 3600 },
      "before the window: the manual backup's state, 2 h lost")
   -- between auto3 and the CREATING backup: auto1 serves (auto2 not done)
   local q = recovery.restore_point("postgresql", backups, { at = T "2026-12-04T12:00:00Z", now = now })
   H.eq({ q.restorable, q.backup_id, q.time }, { true, "auto1", T "2026-12-04T12:00:00Z" })
   local none = recovery.restore_point("postgresql", { backups[1] }, { at = T "2026-12-04T00:00:00Z", now = now })
   H.eq({ none.restorable, none.backup_id, none.time }, { true, "man1", nil })
   H.contains(none.reason, "manual PostgreSQL backups restore only to their own state")
end)

H.test("MongoDB: Unix-seconds target; a sharded cluster gets backup states only", function()
   local now = T "2020-08-15T19:00:00Z"
   local backups = { b("m1", "2020-08-10T12:00:00Z", { type = "AUTOMATED" }) }
   local p = recovery.restore_point("mongodb", backups, { at = T "2020-08-10T12:00:10Z", now = now,
      cluster = { id = "cm", sharded = false } })
   H.eq(p.rest.body.recoveryTargetSpec, { timestamp = "1597060810" }, "the docs' CLI example")
   H.contains(p.yc, "--recovery-target-timestamp 1597060810")
   local s = recovery.restore_point("mongodb", backups, { at = T "2020-08-10T12:00:10Z", now = now,
      cluster = { id = "cm", sharded = true } })
   H.eq({ s.restorable, s.pitr, s.data_loss_seconds, s.rest.body.recoveryTargetSpec }, { true, nil, 10, nil })
   local unknown = recovery.restore_point("mongodb", backups, { at = T "2020-08-10T12:00:10Z", now = now })
   H.contains(table.concat(unknown.caveats, "\n"), "sharded is unknown")
end)

H.test("SQL Server: the last 20 minutes are not assured; the newest assured moment serves them", function()
   local now = T "2020-08-15T19:00:00Z"
   local backups = { b("s1", "2020-08-10T12:00:00Z"), b("s2", "2020-08-15T18:30:00Z") }
   local w = recovery.window("sqlserver", backups, { now = now })
   H.eq({ w.from, w.to }, { T "2020-08-10T12:00:01Z", T "2020-08-15T18:40:00Z" })
   local inside = recovery.restore_point("sqlserver", backups, { at = T "2020-08-15T18:40:00Z", now = now })
   H.eq({ inside.restorable, inside.backup_id, inside.rest.body.time }, { true, "s2", "2020-08-15T18:40:00Z" })
   local late = recovery.restore_point("sqlserver", backups, { at = T "2020-08-15T18:45:00Z", now = now })
   H.eq({ late.restorable, late.backup_id, late.time, late.data_loss_seconds },
      { true, "s2", T "2020-08-15T18:40:00Z", 5 * 60 })
   H.contains(late.reason, "the newest moment sure to be archived")
end)

H.test("Greenplum: hourly recovery points, the docs' example", function()
   -- backup 10 Nov 2022 12:00; now 15 Nov 19:00; newest point 18:00; 17:30 gives 17:00
   local backups = { b("g1", "2022-11-10T12:00:00Z", { type = "AUTOMATED" }) }
   local now = T "2022-11-15T19:00:00Z"
   local w = recovery.window("greenplum", backups, { now = now })
   H.eq({ w.pitr, w.from, w.to }, { "points", T "2022-11-10T12:00:01Z", T "2022-11-15T18:00:00Z" })
   local p = recovery.restore_point("greenplum", backups, { at = T "2022-11-15T17:30:00Z", now = now })
   H.eq({ p.restorable, p.time, p.data_loss_seconds }, { true, T "2022-11-15T17:00:00Z", 1800 })
   local q = recovery.restore_point("greenplum", backups, { at = T "2022-11-15T18:59:59Z", now = now })
   H.eq(q.time, T "2022-11-15T18:00:00Z", "nothing newer than the newest point")
   local r = recovery.restore_point("greenplum", backups, { at = T "2022-11-10T12:30:00Z", now = now })
   H.eq({ r.restorable, r.time, r.data_loss_seconds }, { true, nil, 1800 }, "no point after the backup yet")
end)

H.test("ClickHouse, Redis, OpenSearch: the newest backup state at or before the moment", function()
   local now = T "2026-12-05T00:00:00Z"
   local ch = {
      b("ch-a1", "2026-12-03T22:05:00Z", { sourceShardNames = { "shard1" } }),
      b("ch-b1", "2026-12-03T22:06:00Z", { sourceShardNames = { "shard2" } }),
      b("ch-a2", "2026-12-04T22:05:00Z", { sourceShardNames = { "shard1" } }),
      b("ch-b2", "2026-12-04T22:07:00Z", { sourceShardNames = { "shard2" } }),
   }
   local p = recovery.restore_point("clickhouse", ch, { at = T "2026-12-04T23:00:00Z", now = now })
   H.eq({ p.restorable, p.backup_ids, p.rest.body.backupId, p.rest.body.additionalBackupIds },
      { true, { "ch-a2", "ch-b2" }, "ch-a2", { "ch-b2" } })
   H.eq(p.data_loss_seconds, 55 * 60, "from the oldest of the shard backups restored")
   H.contains(p.yc, "--backup-id ch-a2,ch-b2")
   local early = recovery.restore_point("clickhouse", ch, { at = T "2026-12-04T22:06:00Z", now = now })
   H.eq(early.backup_ids, { "ch-a2", "ch-b1" }, "each shard's newest at that moment")
   local r = recovery.restore_point("redis", { b("r1", "2026-12-04T22:00:00Z") },
      { at = T "2026-12-04T21:00:00Z", now = now })
   H.eq(r.restorable, false)
   H.contains(r.reason, "no completed backup at or before 2026-12-04T21:00:00Z")
   local o = recovery.restore_point("opensearch", { b("o1", "2026-12-04T22:00:00Z") }, { now = now })
   H.eq({ o.restorable, o.data_loss_seconds, o.rest.path }, { true, 7200,
      "/managed-opensearch/v1/clusters:restore" })
   local spqr = recovery.restore_point("spqr", { b("q1", "2026-12-04T22:00:00Z") },
      { at = T "2026-12-04T23:00:00Z", now = now })
   H.contains(spqr.yc, "yc managed-sharded-postgresql cluster restore")
   H.raises(nil, recovery.window, "kafka", {}, {})
end)

H.test("PostgreSQL: the window opens at the oldest full (BASE) backup, not an older incremental", function()
   -- api-recovery.md §2: "from the creation of the oldest full backup"
   local now = T "2026-12-05T00:00:00Z"
   local backups = {
      b("inc0", "2026-11-28T22:10:00Z", { type = "AUTOMATED", status = "DONE", method = "INCREMENTAL" }),
      b("base1", "2026-11-29T22:10:00Z", { type = "AUTOMATED", status = "DONE", method = "BASE" }),
      b("inc2", "2026-11-30T22:10:00Z", { type = "AUTOMATED", status = "DONE", method = "INCREMENTAL" }),
   }
   local w = recovery.window("postgresql", backups, { now = now })
   H.eq(w.from, T "2026-11-29T22:10:01Z")
   local p = recovery.restore_point("postgresql", backups, { at = T "2026-11-29T06:00:00Z", now = now })
   H.eq(p.time, nil, "not a point in time before the oldest full backup")
   H.contains(p.reason, "before the oldest restorable moment 2026-11-29T22:10:01Z")
   local q = recovery.restore_point("postgresql", backups, { at = T "2026-12-01T06:00:00Z", now = now })
   H.eq({ q.restorable, q.backup_id, q.time }, { true, "inc2", T "2026-12-01T06:00:00Z" },
      "an incremental backup after the full one serves")
end)

H.test("SQL Server: time is required, so every answer names one; after the assured end, that end", function()
   -- api-recovery.md §1.1: SQL Server's Restore requires `time`
   local now = T "2020-08-15T19:00:00Z"
   local backups = { b("s1", "2020-08-10T12:00:00Z"), b("s2", "2020-08-15T12:00:00Z") }
   local at_now = recovery.restore_point("sqlserver", backups, { now = now })
   H.eq({ at_now.restorable, at_now.backup_id, at_now.time, at_now.data_loss_seconds },
      { true, "s2", T "2020-08-15T18:40:00Z", 20 * 60 }, "the last assured moment, not last noon's backup")
   H.eq(at_now.rest.body.time, "2020-08-15T18:40:00Z")
   H.contains(at_now.yc, "--time 2020-08-15T18:40:00Z")
   H.contains(table.concat(at_now.caveats, "\n"), "no CLI reference page for it is stored (not verified)")
   H.contains(at_now.reason, "the newest moment sure to be archived")
   local edge = recovery.restore_point("sqlserver", backups, { at = T "2020-08-10T12:00:00Z", now = now })
   H.eq({ edge.restorable, edge.rest }, { false, nil }, "no restore request without a time")
   H.contains(edge.reason, "before the oldest restorable moment 2020-08-10T12:00:01Z")
   local spqr = recovery.restore_point("spqr", backups, { now = now })
   H.eq({ spqr.time, spqr.data_loss_seconds }, { T "2020-08-15T18:55:00Z", 5 * 60 })
end)

H.test("the log's lag is said as the docs give it: archived at most 20 / 5 min behind now", function()
   -- api-recovery.md §2: SQL Server's log is archived every 20 min, SPQR's
   -- metadata every 5: the last archive is at most that old
   local now = T "2020-08-15T19:00:00Z"
   for engine, min in pairs { sqlserver = 20, spqr = 5 } do
      local _, caveats = recovery.window(engine, { b("x", "2020-08-10T12:00:00Z") }, { now = now })
      local all = table.concat(caveats, "\n")
      H.not_contains(all, "at least", engine)
      H.contains(all, ("at most %d min behind now, so the newest %d min are not assured"):format(min, min), engine)
   end
end)

H.test("a backup newer than the assured end of the log is named, not denied", function()
   -- SQL Server's only backup 10 min old: its log is archived every 20 min,
   -- so no moment after it is sure yet; the backup exists all the same
   local now = T "2020-08-15T19:00:00Z"
   local backups = { b("s1", "2020-08-15T18:50:00Z", { status = "DONE" }) }
   local p = recovery.restore_point("sqlserver", backups, { now = now })
   H.eq(p.restorable, false)
   H.not_contains(p.reason, "no completed backup")
   H.contains(p.reason, "no moment after backup s1 (2020-08-15T18:50:00Z) is sure to be archived yet "
      .. "(the transaction log's newest assured moment is 2020-08-15T18:40:00Z)")
   -- SPQR falls back on the backup's state, without denying it first
   local s = recovery.restore_point("spqr", { b("q1", "2020-08-15T18:58:00Z") }, { now = now })
   H.eq({ s.restorable, s.backup_id }, { true, "q1" })
   H.not_contains(s.reason, "no completed backup")
   H.contains(s.reason, "no moment after backup q1")
end)

H.test("ClickHouse: the data loss is that of the oldest shard backup restored", function()
   local now = T "2026-12-05T00:00:00Z"
   local ch = {
      b("a1", "2026-12-03T22:05:00Z", { sourceShardNames = { "shard1" } }),
      b("b1", "2026-12-03T22:06:00Z", { sourceShardNames = { "shard2" } }),
      b("a2", "2026-12-04T22:05:00Z", { sourceShardNames = { "shard1" } }),
   }
   local p = recovery.restore_point("clickhouse", ch, { at = T "2026-12-04T23:00:00Z", now = now })
   H.eq({ p.backup_ids, p.data_loss_seconds }, { { "a2", "b1" }, 24 * 3600 + 54 * 60 },
      "shard2 comes back as of 3 Dec")
   H.contains(p.reason, "b1")
end)

H.test("data_loss_seconds is whole seconds when createdAt has a fraction", function()
   local now = T "2026-12-05T00:00:00Z"
   local r = recovery.restore_point("redis", { b("r1", "2026-12-04T22:00:00.866Z") }, { now = now })
   H.eq(math.type(r.data_loss_seconds), "integer")
   H.eq(r.data_loss_seconds, 7199)
end)

H.test("what the docs do not settle is said: MongoDB PITR preview, timeInclusive without a yc flag", function()
   local now = T "2020-08-15T19:00:00Z"
   local m = recovery.restore_point("mongodb", { b("m1", "2020-08-10T12:00:00Z") },
      { at = T "2020-08-10T12:00:10Z", now = now, cluster = { sharded = false, config = { version = "6.0" } } })
   local mc = table.concat(m.caveats, "\n")
   H.contains(mc, "MongoDB 4.2")
   H.contains(mc, "only through the CLI")
   H.contains(mc, "not verified")
   local old = recovery.restore_point("mongodb", { b("m1", "2020-08-10T12:00:00Z") },
      { at = T "2020-08-10T12:00:10Z", now = now, cluster = { sharded = false, config = { version = "4.0" } } })
   H.eq({ old.pitr, old.data_loss_seconds }, { nil, 10 }, "MongoDB 4.0: backup states only")
   local pg = recovery.restore_point("postgresql", { b("p1", "2020-08-10T12:00:00Z", { type = "AUTOMATED" }) },
      { at = T "2020-08-11T00:00:00Z", now = now })
   local pc = table.concat(pg.caveats, "\n")
   H.contains(pc, "timeInclusive")
   H.contains(pc, "not verified")
   H.eq(pg.rest.body.timeInclusive, true)
end)

H.test("MySQL and SPQR: the docs' worked example to the second; MySQL without time is said to be unsettled", function()
   -- backup done 10 Aug 12:00:00; window from 12:00:01 (api-recovery.md §2)
   local now = T "2020-08-15T19:00:00Z"
   local backups = { b("y1", "2020-08-10T12:00:00Z", { type = "AUTOMATED", status = "DONE" }) }
   for _, engine in ipairs { "mysql", "spqr" } do
      local w = recovery.window(engine, backups, { now = now })
      H.eq(w.from, T "2020-08-10T12:00:01Z", engine)
      local first = recovery.restore_point(engine, backups, { at = T "2020-08-10T12:00:01Z", now = now })
      H.eq({ first.restorable, first.time, first.data_loss_seconds }, { true, T "2020-08-10T12:00:01Z", 0 }, engine)
      local late = recovery.restore_point(engine, backups, { at = T "2020-08-15T18:50:00Z", now = now })
      H.eq({ late.restorable, late.time }, { true, T "2020-08-15T18:50:00Z" }, engine)
   end
   -- at the backup's own second: its state, and no `time` in the request
   local own = recovery.restore_point("mysql", backups, { at = T "2020-08-10T12:00:00Z", now = now })
   H.eq({ own.restorable, own.time, own.rest.body.time }, { true, nil, nil })
   local c = table.concat(own.caveats, "\n")
   H.contains(c, "without `time`")
   H.contains(c, "not verified")
end)

H.test("backup states: edges to the second", function()
   local now = T "2026-12-05T00:00:00Z"
   local backups = { b("r1", "2026-12-04T22:00:00Z") }
   for _, engine in ipairs { "redis", "clickhouse", "opensearch", "elasticsearch" } do
      local at = recovery.restore_point(engine, backups, { at = T "2026-12-04T22:00:00Z", now = now })
      H.eq({ at.restorable, at.backup_id, at.data_loss_seconds, at.time }, { true, "r1", 0, nil }, engine)
      local before = recovery.restore_point(engine, backups, { at = T "2026-12-04T21:59:59Z", now = now })
      H.eq({ before.restorable, before.rest }, { false, nil }, engine)
      local after = recovery.restore_point(engine, backups, { at = T "2026-12-04T22:00:01Z", now = now })
      H.eq(after.data_loss_seconds, 1, engine)
   end
end)

H.test("restore-point.lua end to end: table, json, exit codes, bad input", function()
   local data = H.data_file {
      { "cluster", "postgresql", "b1gfolder", "cpg1", "orders", { id = "cpg1", name = "orders",
         folderId = "b1gfolder", config = {} } },
      { "backup", "postgresql", "b1gfolder", "cpg1", H.backup("cpg1:b1", "cpg1", "2026-12-01T22:10:00Z",
         { status = "DONE" }) },
      { "backup", "postgresql", "b1gfolder", "cpg1", H.backup("cpg1:b2", "cpg1", "2026-12-04T22:10:00Z",
         { status = "DONE" }) },
   }
   local s = H.start_fake { "--data", data }
   local env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url, YC_FOLDER_ID = "b1gfolder" }
   local script = H.source_dir .. "/scripts/restore-point.lua"
   local r = H.run({ script, "--engine", "postgresql", "--cluster", "cpg1", "--at", "2026-12-03T06:00:00Z",
      "--now", "2026-12-05T00:00:00Z" }, { env = env })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "restorable  yes")
   H.contains(r.stdout, "orders")
   H.contains(r.stdout, "--backup-id cpg1:b1 --time 2026-12-03T06:00:00Z")
   local j = H.run({ script, "--engine", "postgresql", "--cluster", "cpg1", "--at", "2026-11-30T00:00:00Z",
      "--now", "2026-12-05T00:00:00Z", "--format", "json" }, { env = env })
   H.eq(j.code, 1, "not restorable: exit 1")
   local doc = cjson.decode(j.stdout)
   H.eq({ doc.engine, doc.cluster, doc.at, doc.restorable, doc.backup_id, doc.window.from },
      { "postgresql", "cpg1", "2026-11-30T00:00:00Z", false, cjson.null, "2026-12-01T22:10:01Z" })
   H.eq(doc.rest, cjson.null)
   -- --now before the second backup: it does not exist yet
   local n = H.run({ script, "--engine", "postgresql", "--cluster", "cpg1", "--now", "2026-12-02T00:00:00Z",
      "--format", "json" }, { env = env })
   H.eq(cjson.decode(n.stdout).backup_id, "cpg1:b1")
   local bad = H.run({ script, "--engine", "postgresql", "--cluster", "cpg1", "--at", "yesterday" }, { env = env })
   H.eq(bad.code, 2)
   H.contains(bad.stderr, "--at")
   H.not_contains(bad.stderr, "traceback")
   local denied = H.run({ script, "--engine", "postgresql", "--cluster", "cpg1" },
      { env = { YC_IAM_TOKEN = "wrong-token", YC_MDB_ENDPOINT = s.url, YC_FOLDER_ID = false } })
   H.eq(denied.code, 2)
   H.not_contains(denied.stderr, "wrong-token", "no secret in the error")
   H.not_contains(denied.stderr, "stack traceback")
   -- it prints a restore, it never sends one: only GETs, none to :restore
   local reqs = H.requests(s)
   H.ok(#reqs > 0)
   for _, q in ipairs(reqs) do
      H.eq(q.method, "GET", q.target)
      H.not_contains(q.target, ":restore")
   end
end)

H.test("restore-point.lua json for ClickHouse: one backup per shard, additionalBackupIds, the issue's keys", function()
   local function chb(id, at, shard)
      return { "backup", "clickhouse", "b1gfolder", "cch1", H.backup(id, "cch1", at,
         { sourceShardNames = { shard }, type = "AUTOMATED" }) }
   end
   local data = H.data_file {
      { "cluster", "clickhouse", "b1gfolder", "cch1", "events", { id = "cch1", name = "events",
         folderId = "b1gfolder", config = {} } },
      chb("cch1:s1a", "2026-12-03T22:05:00Z", "shard1"), chb("cch1:s2a", "2026-12-03T22:06:00Z", "shard2"),
      chb("cch1:s1b", "2026-12-04T22:05:00Z", "shard1"),
   }
   local s = H.start_fake { "--data", data }
   local env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url, YC_FOLDER_ID = "b1gfolder" }
   local r = H.run({ H.source_dir .. "/scripts/restore-point.lua", "--engine", "clickhouse", "--cluster", "cch1",
      "--at", "2026-12-04T23:00:00Z", "--now", "2026-12-05T00:00:00Z", "--format", "json" }, { env = env })
   H.eq(r.code, 0, r.stderr)
   local doc = cjson.decode(r.stdout)
   for _, k in ipairs { "engine", "cluster", "at", "restorable", "reason", "backup_id", "window",
      "data_loss_seconds", "yc", "rest" } do
      H.ok(doc[k] ~= nil, k)
   end
   H.eq({ doc.window.from, doc.window.to }, { "2026-12-03T22:05:00Z", "2026-12-04T22:05:00Z" })
   H.eq({ doc.restorable, doc.backup_id, doc.backup_ids, doc.data_loss_seconds },
      { true, "cch1:s1b", { "cch1:s1b", "cch1:s2a" }, 24 * 3600 + 54 * 60 })
   H.eq({ doc.rest.method, doc.rest.path, doc.rest.body.backupId, doc.rest.body.additionalBackupIds },
      { "POST", "/managed-clickhouse/v1/clusters:restore", "cch1:s1b", { "cch1:s2a" } })
   H.contains(doc.yc, "yc managed-clickhouse cluster restore --backup-id cch1:s1b,cch1:s2a --name")
end)

local checks = require "mdb.recovery_checks"
local function ctx(engine, backups, now, cluster)
   local done = {}
   for _, x in ipairs(backups) do
      if x.status == nil or x.status == "DONE" then done[#done + 1] = x end
   end
   table.sort(done, function(a, c) return a.created > c.created end)
   return { engine = engine, id = "c1", cluster = cluster, all = backups, done = done, now = now,
      caps = require("mdb.audit").ENGINE_CAPS[engine] }
end
local H3, D = 3 * 86400, 86400

H.test("recoverability: PITR covers the window, or says from when it can restore", function()
   local now = T "2026-12-05T00:00:00Z"
   local s = { window = H3, rpo = 26 * 3600, status = "critical" }
   local old = ctx("postgresql", { b("a", "2026-12-01T22:00:00Z", { type = "AUTOMATED" }) }, now)
   local r = checks.recoverability(old, s)
   H.eq(r.status, "ok", r.message)
   local young = ctx("postgresql", { b("a", "2026-12-02T00:00:00Z", { type = "AUTOMATED" }),
      b("m", "2026-11-20T00:00:00Z", { type = "MANUAL" }) }, now)
   local y = checks.recoverability(young, s)
   H.eq(y.status, "critical")
   H.contains(y.message, "restorable only from 2026-12-02 00:00:01Z")
   -- exactly three days: from = created + 1 is one second too late
   local edge = ctx("mysql", { b("e", "2026-12-01T23:59:59Z") }, now)
   H.eq(checks.recoverability(edge, s).status, "ok", "from 2026-12-02T00:00:00Z covers it")
   local edge2 = ctx("mysql", { b("e", "2026-12-02T00:00:00Z") }, now)
   H.eq(checks.recoverability(edge2, s).status, "critical", "one second short")
   H.eq(checks.recoverability(ctx("mysql", {}, now), s).status, "critical")
end)

H.test("recoverability: backup states at most rpo apart across the window", function()
   local now = T "2026-12-05T00:00:00Z"
   local s = { window = H3, rpo = 26 * 3600, status = "critical" }
   local daily = {}
   for i = 0, 5 do daily[#daily + 1] = b("d" .. i, os.date("!%Y-%m-%dT22:00:00Z", now - (i + 1) * D)) end
   H.eq(checks.recoverability(ctx("redis", daily, now), s).status, "ok")
   -- drop the backup of 2 Dec: 2 Dec 22:00 .. 3 Dec 22:00 served by 1 Dec 22:00 (48 h)
   local gap = {}
   for _, x in ipairs(daily) do if x.id ~= "d2" then gap[#gap + 1] = x end end
   local r = checks.recoverability(ctx("redis", gap, now), s)
   H.eq({ r.status, r.observed, r.backup_id }, { "critical", 2 * D, "d1" })
   H.contains(r.message, "up to 2d 0h apart in the last 3d, before backup d1 at 2026-12-03 22:00:00Z")
end)

H.test("recoverability: a cluster younger than the window is judged from its creation plus rpo", function()
   local now = T "2026-12-05T00:00:00Z"
   local s = { window = H3, rpo = 30 * 3600, status = "critical" }
   -- created 2 Dec 12:00: its first backup is due by 3 Dec 18:00
   local cluster = { created = T "2026-12-02T12:00:00Z" }
   local function at(x) return { b("f", x, { type = "AUTOMATED" }) } end
   -- PITR restores from just after the full backup completed
   H.eq(checks.recoverability(ctx("postgresql", at "2026-12-03T17:59:59Z", now, cluster), s).status, "ok")
   local r = checks.recoverability(ctx("postgresql", at "2026-12-03T18:00:00Z", now, cluster), s)
   H.eq(r.status, "critical", "restorable from one second after creation + rpo")
   H.contains(r.message, "not to 2026-12-03 18:00:00Z")
   local first, late = at "2026-12-03T18:00:00Z", at "2026-12-03T18:00:01Z"
   H.eq(checks.recoverability(ctx("redis", first, now, cluster), s).status, "ok", "backup states")
   H.eq(checks.recoverability(ctx("redis", late, now, cluster), s).status, "critical")
   -- younger than rpo with no backup yet: nothing to judge
   local baby = checks.recoverability(ctx("redis", {}, now, { created = now - 3600 }), s)
   H.eq(baby.status, "ok")
   H.contains(baby.message, "nothing to judge yet")
   -- without the clamp (no creation time) the same backups are not enough
   H.eq(checks.recoverability(ctx("redis", first, now), s).status, "critical")
end)

H.test("window: automated backups start within `late` of backupWindowStart", function()
   local now = T "2026-12-05T12:00:00Z"
   local s = { late = 3 * 3600, window = 7 * D, status = "warning" }
   local cluster = { config = { backupWindowStart = { hours = 22 } } }
   local function at(id, started, typ)
      return b(id, started, { started = T(started), type = typ or "AUTOMATED" })
   end
   local ok = ctx("postgresql", { at("a", "2026-12-04T22:10:00Z"), at("b", "2026-12-03T23:59:00Z"),
      at("m", "2026-12-02T09:00:00Z", "MANUAL") }, now, cluster)
   H.ok(checks.window_applies(ok))
   H.eq(checks.window(ok, s).status, "ok", "a manual backup at 09:00 is not judged")
   local late = ctx("postgresql", { at("a", "2026-12-04T22:10:00Z"), at("b", "2026-12-04T03:30:00Z") }, now, cluster)
   local r = checks.window(late, s)
   H.eq({ r.status, r.backup_id, r.observed }, { "warning", "b", 5 * 3600 + 1800 })
   local early = ctx("postgresql", { at("e", "2026-12-04T21:30:00Z") }, now, cluster)
   H.eq(checks.window(early, s).status, "warning", "30 min before the window")
   H.eq(checks.window_applies(ctx("postgresql", {}, now, { config = {} })), false, "no window: does not apply")
   H.eq(checks.window_applies(ctx("sqlserver", {}, now, cluster)), false, "no backup type: does not apply")
end)

H.test("help 'recovery' names the library's functions and its audit checks with their settings", function()
   local help = require "mdb.help"
   local t = help.text(true, "recovery")
   for _, want in ipairs { "restore_point", "recovery.window", "recoverability", "rpo \"30h\"",
      "late \"3h\"" } do
      H.contains(t, want)
   end
   H.contains(help.text(false), "require 'mdb.recovery'")
   -- the text states the built-in values the policy really has
   local d = require("mdb.policy").DEFAULTS
   H.contains(t, string.format('window "%s", rpo "%s", status "%s"', d.recoverability.window,
      d.recoverability.rpo, d.recoverability.status))
   H.contains(t, string.format('late "%s", window "%s", status "%s"', d.window.late, d.window.window,
      d.window.status))
   H.contains(t, string.format('retention_policy  grace "%s", tolerance "%s", status "%s"',
      d.retention_policy.grace, d.retention_policy.tolerance, d.retention_policy.status))
   H.contains(t, string.format('failed_backups  window "%s", stuck "%s"', d.failed_backups.window,
      d.failed_backups.stuck))
   H.contains(t, string.format('databases       window "%s", status "%s"', d.databases.window, d.databases.status))
end)

H.run_all()
