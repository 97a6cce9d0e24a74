-- Audit checks over retention policies and operations (mdb.operation_checks),
-- OpenSearch freshness by its snapshot schedule and SQL Server databases
-- (mdb.recovery_checks): the checks alone, then through mdb.audit.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"
local oc = require "mdb.operation_checks"
local rc = require "mdb.recovery_checks"
local audit = require "mdb.audit"
local policy = require "mdb.policy"

local T = mdb.parse_time
local D, HOUR = 86400, 3600

local function b(id, created, extra)
   local x = { id = id, created = T(created), createdAt = created, status = "DONE", type = "AUTOMATED" }
   for k, v in pairs(extra or {}) do x[k] = v end
   return x
end

local function ctx(engine, backups, now, extra)
   local done = {}
   for _, x in ipairs(backups) do done[#done + 1] = x end
   table.sort(done, function(p, q) return p.created > q.created end)
   local c = { engine = engine, id = "c1", all = backups, done = done, now = now, cluster = {} }
   for k, v in pairs(extra or {}) do c[k] = v end
   return c
end

-- daily backups at 22:10 UTC for `n` days before `now`'s day
local function daily(now, n, extra)
   local out = {}
   local day0 = now // D * D
   for i = 1, n do
      out[#out + 1] = b("d" .. i, os.date("!%Y-%m-%dT22:10:00Z", day0 - i * D), extra)
   end
   return out
end

local function pol(id, cron, days, created)
   return { policyId = id, policyName = id, cron = cron, retainForDays = tostring(days),
      createdAt = created or "2026-01-01T00:00:00Z" }
end

local PS = { grace = 6 * HOUR, tolerance = D, status = "warning" }

H.test("cron_days: the three day fields, ranges, steps, lists, Sunday as 0 or 7", function()
   local function days_of(cron, from, to)
      local m = assert(oc.cron_days(cron))
      local out = {}
      for d = T(from) // D, T(to) // D do
         if m(d) then out[#out + 1] = os.date("!%Y-%m-%d", d * D) end
      end
      return out
   end
   H.eq(days_of({ dayOfMonth = "1,15" }, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
      { "2026-11-01", "2026-11-15", "2026-12-01" })
   -- 2026-11-01 is a Sunday
   H.eq(days_of({ dayOfWeek = "7" }, "2026-11-01T00:00:00Z", "2026-11-14T00:00:00Z"), { "2026-11-01", "2026-11-08" })
   H.eq(days_of({ dayOfWeek = "0" }, "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z"), { "2026-11-01", "2026-11-08" })
   H.eq(days_of({ dayOfWeek = "1-5/2" }, "2026-11-01T00:00:00Z", "2026-11-07T00:00:00Z"),
      { "2026-11-02", "2026-11-04", "2026-11-06" })
   H.eq(days_of({ dayOfMonth = "*/10", month = "12" }, "2026-11-25T00:00:00Z", "2026-12-31T00:00:00Z"),
      { "2026-12-01", "2026-12-11", "2026-12-21", "2026-12-31" })
   -- both day fields restricted: only days matching both (fewer demands)
   H.eq(days_of({ dayOfMonth = "1-7", dayOfWeek = "1" }, "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z"),
      { "2026-11-02", "2026-12-07" })
   local m, why = oc.cron_days { dayOfMonth = "32" }
   H.eq(m, nil)
   H.contains(why, 'dayOfMonth cannot read "32"')
   H.eq(select(2, oc.cron_days { dayOfWeek = "mon" }), 'dayOfWeek cannot read "mon"')
end)

H.test("retention_policy: every selected day within retainForDays has a backup", function()
   local now = T "2026-12-05T12:00:00Z"
   local backups = daily(now, 14)
   local ok = oc.retention_policy(ctx("mysql", backups, now, { policies = { pol("p1", {}, 7) } }), PS)
   H.eq(ok.status, "ok", ok.message)
   H.contains(ok.message, "not documented")
   -- drop 2 Dec: the daily policy misses it
   local gap = {}
   for _, x in ipairs(backups) do if x.createdAt:sub(1, 10) ~= "2026-12-02" then gap[#gap + 1] = x end end
   local r = oc.retention_policy(ctx("redis", gap, now, { policies = { pol("p1", {}, 7) } }), PS)
   H.eq({ r.status, r.observed }, { "warning", 1 })
   H.contains(r.message, "policy p1 (p1, cron * * *, 7 days): 1 of 6 selected days have no backup: 2026-12-02")
   H.contains(r.message, "how a schedule selects backups is not documented")
   -- a weekly policy on Wednesdays (2 Dec is one) misses it too; on Thursdays it does not
   H.eq(oc.retention_policy(ctx("mongodb", gap, now, { policies = { pol("w", { dayOfWeek = "3" }, 14) } }),
      PS).status, "warning")
   H.eq(oc.retention_policy(ctx("mongodb", gap, now, { policies = { pol("w", { dayOfWeek = "4" }, 14) } }),
      PS).status, "ok")
   -- only days since the policy was created, and not past retainForDays
   H.eq(oc.retention_policy(ctx("mysql", gap, now,
      { policies = { pol("p1", {}, 7, "2026-12-02T09:00:00Z") } }), PS).status, "ok", "created that day")
   H.eq(oc.retention_policy(ctx("mysql", gap, now, { policies = { pol("p1", {}, 2) } }), PS).status, "ok",
      "2 days back from now - grace: 3 and 4 Dec only")
   -- today is not judged, nor a day that ended less than grace ago
   local early = T "2026-12-05T05:00:00Z"
   local yesterday_missing = {}
   for _, x in ipairs(daily(early, 10)) do if x.id ~= "d1" then yesterday_missing[#yesterday_missing + 1] = x end end
   H.eq(oc.retention_policy(ctx("mysql", yesterday_missing, early, { policies = { pol("p", {}, 7) } }), PS).status,
      "ok", "4 Dec ended 5 h ago, within grace")
   H.eq(oc.retention_policy(ctx("mysql", yesterday_missing, early + 2 * HOUR, { policies = { pol("p", {}, 7) } }),
      PS).status, "warning", "and 7 h after it is judged")
end)

H.test("retention_policy: PostgreSQL backups must carry the policy, with retainUntil = createdAt + days", function()
   local now = T "2026-12-05T12:00:00Z"
   local function carrying(id, keep, off)
      local out = daily(now, 10)
      for _, x in ipairs(out) do
         x.retentionPolicyId = id
         x.retain_until = x.created + keep * D + (off or 0)
      end
      return out
   end
   local p = { pol("pp", {}, 30) }
   H.eq(oc.retention_policy(ctx("postgresql", carrying("pp", 30), now, { policies = p, cluster = {
      created = now - 10 * D } }), PS).status, "ok")
   local other = oc.retention_policy(ctx("postgresql", carrying("other", 30), now, { policies = p,
      cluster = { created = now - 10 * D } }), PS)
   H.eq(other.status, "warning")
   H.contains(other.message, "9 of 9 selected days have no backup carrying it")
   local off = oc.retention_policy(ctx("postgresql", carrying("pp", 30, 2 * D), now, { policies = p,
      cluster = { created = now - 10 * D } }), PS)
   H.eq(off.status, "warning")
   H.contains(off.message, "10 backups carrying it have retainUntil other than createdAt + 30 days")
   H.eq(oc.retention_policy(ctx("postgresql", carrying("pp", 30, 3 * HOUR), now, { policies = p,
      cluster = { created = now - 10 * D } }), PS).status, "ok", "within tolerance")
end)

H.test("retention_policy: no policies is ok; an unreadable rule is reported, not guessed", function()
   local now = T "2026-12-05T12:00:00Z"
   local r = oc.retention_policy(ctx("mysql", {}, now, { policies = {} }), PS)
   H.eq({ r.status, r.message }, { "ok", "no retention policy" })
   local bad = oc.retention_policy(ctx("mysql", daily(now, 3), now,
      { policies = { pol("x", { dayOfMonth = "L" }, 7), pol("y", {}, "forever") } }), PS)
   H.eq(bad.status, "warning")
   H.contains(bad.message, 'policy x (x, cron L * *, 7 days): dayOfMonth cannot read "L", not checked')
   H.contains(bad.message, 'retainForDays "forever" is not a positive whole number')
   H.eq(oc.retention_policy_applies(ctx("mysql", {}, now)), false, "not fetched: does not apply")
   H.eq(oc.retention_policy_applies(ctx("clickhouse", {}, now, { policies = {} })), false, "no such API")
   H.eq(oc.retention_policy_applies(ctx("redis", {}, now, { policies = {} })), true)
end)

local function op(id, created, extra)
   local o = { id = id, createdAt = created, modifiedAt = created, done = true,
      metadata = { ["@type"] = "type.googleapis.com/yandex.cloud.mdb.mysql.v1.BackupClusterMetadata",
         clusterId = "c1", backupId = "b-" .. id } }
   for k, v in pairs(extra or {}) do o[k] = v end
   return o
end

local FS = { window = 2 * D, stuck = 6 * HOUR }

H.test("failed_backups: errors within the window are critical with the id and message", function()
   local now = T "2026-12-05T12:00:00Z"
   local ops = {
      op("ok1", "2026-12-04T22:00:00Z", { response = {} }),
      op("bad1", "2026-12-04T22:00:00Z", { modifiedAt = "2026-12-04T22:40:00Z",
         error = { code = 13, message = "upload failed: connection reset" } }),
      op("old", "2026-12-01T22:00:00Z", { error = { code = 13, message = "long ago" } }),
      -- an error recorded before done turns true is a failure already
      op("bad2", "2026-12-05T10:00:00Z", { done = false, error = { code = 9, message = "disk full" } }),
      -- not a backup: a restore that failed
      op("restore", "2026-12-05T11:00:00Z", { metadata = {
         ["@type"] = "type.googleapis.com/yandex.cloud.mdb.mysql.v1.RestoreClusterMetadata" },
         error = { code = 13, message = "nope" } }),
   }
   local r = oc.failed_backups(ctx("mysql", {}, now, { operations = ops }), FS)
   H.eq({ r.status, r.observed, r.backup_id, r.details.operation }, { "critical", 2, "b-bad2", "bad2" })
   H.eq(r.message, "2 backup attempts failed in the last 2d: operation bad2 at 2026-12-05 10:00:00Z: disk full "
      .. "(code 9); operation bad1 at 2026-12-04 22:40:00Z: upload failed: connection reset (code 13)")
   -- the window edge: ended exactly 2d ago counts, a second earlier does not
   local edge = { op("e", "2026-12-03T12:00:00Z", { error = { code = 13, message = "m" } }) }
   H.eq(oc.failed_backups(ctx("mysql", {}, now, { operations = edge }), FS).status, "critical")
   edge[1].modifiedAt = "2026-12-03T11:59:59Z"
   H.eq(oc.failed_backups(ctx("mysql", {}, now, { operations = edge }), FS).status, "ok")
end)

H.test("failed_backups: a backup operation running longer than stuck is a warning", function()
   local now = T "2026-12-05T12:00:00Z"
   local run = { op("r1", "2026-12-05T05:59:59Z", { done = false }), op("r2", "2026-12-05T11:00:00Z", { done = false }) }
   local r = oc.failed_backups(ctx("postgresql", {}, now, { operations = run }), FS)
   H.eq({ r.status, r.observed, r.expected, r.backup_id }, { "warning", 6 * HOUR + 1, 6 * HOUR, "b-r1" })
   H.eq(r.message, "backup operation r1 has been running for 6h 0m (stuck 6h)")
   run[1].createdAt = "2026-12-05T06:00:00Z"
   local six = oc.failed_backups(ctx("postgresql", {}, now, { operations = run }), FS)
   H.eq(six.status, "ok", "exactly 6h")
   -- ok is about the attempts listed: that scheduled backups are among them is not documented
   H.contains(six.message, "scheduled backups may not appear as operations")
   local none = oc.failed_backups(ctx("postgresql", {}, now, { operations = {} }), FS)
   H.eq(none.status, "ok")
   H.contains(none.message, "scheduled backups may not appear as operations")
   -- normalised times (numbers) are read as well as the strings
   local n = oc.failed_backups(ctx("postgresql", {}, now, { operations = { { id = "x", created = now - 7 * HOUR,
      done = false, metadata = { ["@type"] = "yandex.cloud.mdb.postgresql.v1.BackupClusterMetadata" } } } }), FS)
   H.eq(n.status, "warning")
   H.eq(oc.failed_backups_applies(ctx("mysql", {}, now)), false, "not fetched: does not apply")
end)

H.test("OpenSearch freshness follows a weekly snapshotSchedule; daily keeps 26h/50h", function()
   local s = { warn = 26 * HOUR, crit = 50 * HOUR }
   local weekly = { config = { snapshotManagement = { snapshotSchedule = {
      weeklySnapshotSchedule = { day = "MON", hour = "3", minute = "0" } } } } }
   local daily_ = { config = { snapshotManagement = { snapshotSchedule = {
      dailySnapshotSchedule = { hour = "3", minute = "0" } } } } }
   H.eq(rc.freshness_settings({ engine = "opensearch", cluster = weekly }, s), { warn = 7 * D + 2 * HOUR,
      crit = 8 * D + 2 * HOUR })
   H.eq(rc.freshness_settings({ engine = "opensearch", cluster = daily_ }, s), s)
   H.eq(rc.freshness_settings({ engine = "mysql", cluster = weekly }, s), s)
   -- through the audit: 3 days old on a weekly schedule is ok
   local now = T "2026-12-05T12:00:00Z"
   local entry = { engine = "opensearch", id = "o1", cluster = weekly,
      backups = { b("w", "2026-12-02T03:00:00Z") } }
   local f = audit.check("freshness", entry, { warn = "26h", crit = "50h" }, { now = now })
   H.eq(f.status, "ok", f.message)
   entry.cluster = daily_
   H.eq(audit.check("freshness", entry, { warn = "26h", crit = "50h" }, { now = now }).status, "critical")
end)

H.test("databases: every SQL Server database of the window's backups is in the newest", function()
   local now = T "2026-12-05T12:00:00Z"
   local s = { window = 7 * D, status = "critical" }
   local list = {
      b("n", "2026-12-04T22:00:00Z", { databases = { "sales", "hr" } }),
      b("o", "2026-12-03T22:00:00Z", { databases = { "sales", "hr", "audit" } }),
      b("old", "2026-11-20T22:00:00Z", { databases = { "gone" } }),
   }
   local r = rc.databases(ctx("sqlserver", list, now), s)
   H.eq({ r.status, r.observed, r.expected, r.backup_id }, { "critical", 2, 3, "n" })
   H.eq(r.message, "the newest backup misses 1 of 3 databases seen in the last 7d: audit last 2026-12-03 22:00:00Z")
   list[1].databases[3] = "audit"
   local ok = rc.databases(ctx("sqlserver", list, now), s)
   H.eq(ok.status, "ok")
   H.eq(ok.message, "the newest backup holds all 3 databases of the last 7d (audit, hr, sales)")
   H.eq(rc.databases_applies(ctx("sqlserver", list, now)), true)
   H.eq(rc.databases_applies(ctx("mysql", daily(now, 3), now)), false)
end)

H.test("through mdb.audit: the checks run from scan entries that carry policies and operations", function()
   local now = T "2026-12-05T12:00:00Z"
   local backups = daily(now, 10)
   local entry = { engine = "mysql", id = "c1", cluster = { id = "c1", name = "x" }, backups = backups,
      policies = { pol("p", { dayOfWeek = "*" }, 7) },
      operations = { op("bad", "2026-12-05T02:00:00Z", { error = { code = 13, message = "boom" } }) } }
   local names = {}
   for _, f in ipairs(audit.run({ entry }, nil, { now = now })) do names[f.check] = f.status end
   H.eq({ names.retention_policy, names.failed_backups }, { "ok", "critical" })
   -- without them (not fetched) neither check runs
   entry.policies, entry.operations = nil, nil
   names = {}
   for _, f in ipairs(audit.run({ entry }, nil, { now = now })) do names[f.check] = f.status end
   H.eq({ names.retention_policy, names.failed_backups }, { nil, nil })
   -- the built-in settings
   H.eq(policy.DEFAULTS.retention_policy, { grace = "6h", tolerance = "1d", status = "warning" })
   H.eq(policy.DEFAULTS.failed_backups, { window = "2d", stuck = "6h" })
end)

H.run_all()
