-- mdb.audit: every check on crafted backup histories with exact findings,
-- policies (files, defaults, per-engine and per-cluster overrides) and
-- their errors.  No API involved: audit.run works on scan results.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"
local audit = require "mdb.audit"

local function T(s) return assert(mdb.parse_time(s), s) end
local NOW = T("2026-11-23T12:00:00Z")
local GiB = 1073741824

-- A backup created `hours` before NOW that took 10 minutes.
local function bk(id, hours, extra)
   local created = NOW - hours * 3600
   local b = { id = id, created = created, started = created - 600, type = "AUTOMATED", size = 100 * GiB }
   for k, v in pairs(extra or {}) do
      if v == false then b[k] = nil else b[k] = v end
   end
   return b
end

-- `n` daily backups, the newest `first` hours old: ids PREFIX:0, PREFIX:1, ...
local function daily(prefix, n, first, extra)
   local list = {}
   for i = 0, n - 1 do list[#list + 1] = bk(prefix .. ":" .. i, first + 24 * i, extra) end
   return list
end

local function cluster(id, name, extra)
   local c = { id = id, name = name, labels = {}, created = NOW - 100 * 86400,
      config = { backupRetainPeriodDays = "14" } }
   for k, v in pairs(extra or {}) do
      if v == false then c[k] = nil else c[k] = v end
   end
   return c
end

local function entry(engine, id, name, backups, cextra)
   return { engine = engine, id = id, cluster = cluster(id, name, cextra), backups = backups or {} }
end

local function check(name, e, settings, opts)
   opts = opts or {}
   opts.now = opts.now or NOW
   return audit.check(name, e, settings, opts)
end

local function pick(findings, fields)
   local out = {}
   for i, f in ipairs(findings) do
      local r = {}
      for _, k in ipairs(fields) do r[#r + 1] = f[k] == nil and "-" or f[k] end
      out[i] = table.concat(r, " ")
   end
   return out
end

---------------------------------------------------------------------------
-- freshness

H.test("freshness: the newest completed backup's age against warn and crit", function()
   local e = entry("postgresql", "c1", "orders", daily("c1", 10, 3))
   H.eq(check("freshness", e), {
      check = "freshness", status = "ok", engine = "postgresql", cluster = "c1", cluster_name = "orders",
      message = "newest backup is 3h 0m old (warn 26h, crit 50h)", observed = 10800, expected = 93600,
      unit = "seconds", backup_id = "c1:0",
   })
   local w = check("freshness", entry("postgresql", "c1", "orders", daily("c1", 3, 30)))
   H.eq({ w.status, w.observed, w.expected, w.message },
      { "warning", 108000, 93600, "newest backup is 1d 6h old (warn 26h, crit 50h)" })
   local c = check("freshness", entry("postgresql", "c1", "orders", daily("c1", 3, 60)))
   H.eq({ c.status, c.observed, c.expected, c.message },
      { "critical", 216000, 180000, "newest backup is 2d 12h old (warn 26h, crit 50h)" })
end)

H.test("freshness: backups in progress do not count; none at all is critical", function()
   local list = daily("c1", 3, 30)
   table.insert(list, 1, bk("c1:running", 1, { status = "CREATING" }))
   local f = check("freshness", entry("mysql", "c1", "db", list))
   H.eq({ f.status, f.backup_id }, { "warning", "c1:0" })
   H.eq(check("freshness", entry("mysql", "c1", "db", {})), {
      check = "freshness", status = "critical", engine = "mysql", cluster = "c1", cluster_name = "db",
      message = "no completed backup", expected = 180000, unit = "seconds",
   })
   local only = check("freshness", entry("mysql", "c1", "db", { bk("c1:running", 1, { status = "CREATING" }) }))
   H.eq(only.message, "no completed backup (1 in progress)")
   local custom = check("freshness", entry("mysql", "c1", "db", daily("c1", 2, 3)), { warn = "2h", crit = false })
   H.eq({ custom.status, custom.expected, custom.message },
      { "warning", 7200, "newest backup is 3h 0m old (warn 2h)" })
end)

---------------------------------------------------------------------------
-- coverage

-- Backups at 23:30Z on 15..22 November, except the days listed.
local function late_backups(prefix, except)
   local list = {}
   for d = 22, 15, -1 do
      if not except[d] then
         list[#list + 1] = { id = prefix .. ":" .. d, created = T(string.format("2026-11-%02dT23:30:00Z", d)),
            type = "AUTOMATED" }
      end
   end
   return list
end

H.test("coverage: the missing days among the last N complete days are listed", function()
   local list = late_backups("c1", { [19] = true, [17] = true })
   local f = check("coverage", entry("postgresql", "c1", "orders", list))
   H.eq(f, {
      check = "coverage", status = "warning", engine = "postgresql", cluster = "c1", cluster_name = "orders",
      message = "2 of the last 7 days (UTC) have no backup: 2026-11-17, 2026-11-19 (warn at 1 missing)",
      observed = 2, expected = 1, unit = "days",
      details = { missing = { "2026-11-17", "2026-11-19" }, days = 7 },
   })
   local c = check("coverage", entry("postgresql", "c1", "orders", list), { days = 7, warn = 1, crit = 2 })
   H.eq({ c.status, c.expected, c.message }, { "critical", 2,
      "2 of the last 7 days (UTC) have no backup: 2026-11-17, 2026-11-19 (warn at 1, crit at 2 missing)" })
   local ok = check("coverage", entry("postgresql", "c1", "orders", late_backups("c1", {})), { days = 3 })
   H.eq({ ok.status, ok.observed, ok.message },
      { "ok", 0, "every one of the last 3 days (UTC) has a backup (warn at 1 missing)" })
   -- today (23 November) is never required
   local today = check("coverage", entry("postgresql", "c1", "orders",
      { bk("x", 1), bk("y", 20) }), { days = 1 })
   H.eq(today.status, "ok")
end)

H.test("coverage: days are taken in the policy's time zone", function()
   -- 23:30Z on 18 November is 02:30 on the 19th at +03:00: the gap moves a day.
   local list = late_backups("c1", { [18] = true })
   local utc = check("coverage", entry("postgresql", "c1", "orders", list))
   H.eq(utc.message, "1 of the last 7 days (UTC) has no backup: 2026-11-18 (warn at 1 missing)")
   local east = check("coverage", entry("postgresql", "c1", "orders", list), nil, { tz = "+03:00" })
   H.eq(east.message, "1 of the last 7 days (+03:00) has no backup: 2026-11-19 (warn at 1 missing)")
   -- the same through a policy's tz key
   local f = audit.run({ entry("postgresql", "c1", "orders", list) },
      { tz = "+03:00", checks = { "coverage" } }, { now = NOW })
   H.eq(f[1].details.missing, { "2026-11-19" })
end)

H.test("coverage: days before the cluster existed are not required", function()
   local list = late_backups("c1", {})
   local young = entry("postgresql", "c1", "orders", list, { created = T("2026-11-20T10:00:00Z") })
   H.eq(check("coverage", young).message,
      "every one of the 2 days since the cluster was created (UTC) has a backup (warn at 1 missing)")
   local newborn = entry("postgresql", "c1", "orders", {}, { created = T("2026-11-23T01:00:00Z") })
   local f = check("coverage", newborn)
   H.eq({ f.status, f.observed, f.message }, { "ok", 0,
      "no complete day to check since the cluster was created on 2026-11-23 (UTC)" })
end)

---------------------------------------------------------------------------
-- count, gap, duration, stuck

H.test("count: completed backups against minimums", function()
   local list = daily("c1", 4, 3)
   list[#list + 1] = bk("c1:running", 1, { status = "CREATING" })
   H.eq(check("count", entry("mysql", "c1", "db", list)), {
      check = "count", status = "warning", engine = "mysql", cluster = "c1", cluster_name = "db",
      message = "4 completed backups (warn below 7, crit below 1)", observed = 4, expected = 7, unit = "backups",
   })
   local none = check("count", entry("mysql", "c1", "db", {}))
   H.eq({ none.status, none.observed, none.expected, none.message },
      { "critical", 0, 1, "0 completed backups (warn below 7, crit below 1)" })
   local one = check("count", entry("mysql", "c1", "db", daily("c1", 1, 3)), { warn = 1, crit = false })
   H.eq({ one.status, one.message }, { "ok", "1 completed backup (warn below 1)" })
end)

H.test("gap: longest interval between consecutive backups inside the window", function()
   local list = { bk("b2", 2), bk("b26", 26), bk("b74", 74), bk("b98", 98) }
   for h = 122, 794, 24 do list[#list + 1] = bk("old" .. h, h) end
   list[#list + 1] = bk("ancient", 2000)                 -- 794h → 2000h ends outside 30d
   local f = check("gap", entry("mysql", "c1", "db", list))
   H.eq(f, {
      check = "gap", status = "warning", engine = "mysql", cluster = "c1", cluster_name = "db",
      message = "longest gap between backups in the last 30d is 2d 0h, from 2026-11-20 10:00:00Z to "
         .. "2026-11-22 10:00:00Z (warn 30h, crit 50h)",
      observed = 172800, expected = 108000, unit = "seconds", backup_id = "b26",
      details = { from = "b74", to = "b26", over_limit = 1 },
   })
   local whole = check("gap", entry("mysql", "c1", "db", list), { window = false })
   H.eq({ whole.status, whole.observed, whole.backup_id }, { "critical", 1206 * 3600, "old794" })
   H.eq(whole.message:sub(1, 40), "longest gap between backups is 50d 6h, f")
   local few = check("gap", entry("mysql", "c1", "db", { bk("b2", 2) }))
   H.eq({ few.status, few.message }, { "ok", "fewer than 2 completed backups in the last 30d" })
end)

H.test("duration: createdAt - startedAt of the slowest recent backup", function()
   local list = {
      bk("fast", 2),
      bk("slow", 72, { started = NOW - 72 * 3600 - 7 * 3600 }),
      bk("ancient-slow", 240, { started = NOW - 240 * 3600 - 20 * 3600 }),
      bk("nostart", 100, { started = false }),
   }
   H.eq(check("duration", entry("postgresql", "c1", "orders", list)), {
      check = "duration", status = "warning", engine = "postgresql", cluster = "c1", cluster_name = "orders",
      message = "longest backup in the last 7d took 7h 0m (warn 6h, crit 12h)",
      observed = 25200, expected = 21600, unit = "seconds", backup_id = "slow",
   })
   local all = check("duration", entry("postgresql", "c1", "orders", list), { window = "30d" })
   H.eq({ all.status, all.backup_id, all.observed }, { "critical", "ancient-slow", 72000 })
   local ok = check("duration", entry("postgresql", "c1", "orders", { bk("fast", 2) }))
   H.eq({ ok.status, ok.message }, { "ok", "longest backup in the last 7d took 10m (warn 6h, crit 12h)" })
end)

H.test("stuck: a backup in status CREATING for too long", function()
   local running = bk("c1:run", 9, { status = "CREATING" })
   running.started = running.created
   local list = { running, bk("c1:done", 33, { status = "DONE" }) }
   H.eq(check("stuck", entry("postgresql", "c1", "billing", list)), {
      check = "stuck", status = "warning", engine = "postgresql", cluster = "c1", cluster_name = "billing",
      message = "backup c1:run has been in progress for 9h 0m (warn 6h, crit 12h)",
      observed = 32400, expected = 21600, unit = "seconds", backup_id = "c1:run",
      details = { in_progress = 1 },
   })
   local two = { bk("new", 1, { status = "CREATING" }), bk("old", 13, { status = "CREATING", started = NOW - 13 * 3600 }) }
   local c = check("stuck", entry("postgresql", "c1", "billing", two))
   H.eq({ c.status, c.backup_id, c.message }, { "critical", "old",
      "backup old has been in progress for 13h 0m (2 in progress) (warn 6h, crit 12h)" })
   local none = check("stuck", entry("mysql", "c1", "db", daily("c1", 2, 3, { status = "DONE" })))
   H.eq({ none.status, none.observed, none.message }, { "ok", 0, "no backup in progress" })
end)

---------------------------------------------------------------------------
-- size

local function sized(sizes, extra_of)
   local list = {}
   for i, s in ipairs(sizes) do
      local extra = { size = s }
      for k, v in pairs(extra_of and extra_of(i) or {}) do extra[k] = v end
      list[i] = bk("s" .. (i - 1), 3 + 24 * (i - 1), extra)
   end
   return list
end

H.test("size: newest against the median of the previous K", function()
   local hist = { 5 * GiB, 100 * GiB, 101 * GiB, 99 * GiB, 100 * GiB, 102 * GiB, 98 * GiB, 100 * GiB, 1 * GiB }
   H.eq(check("size", entry("postgresql", "c1", "orders", sized(hist))), {
      check = "size", status = "critical", engine = "postgresql", cluster = "c1", cluster_name = "orders",
      message = "newest backup 5.0 GiB is 95.0% smaller than the median 100 GiB of the previous 7 "
         .. "(warn 50%, crit 90%)",
      observed = -95.0, expected = 90, unit = "percent", backup_id = "s0",
      details = { size = 5 * GiB, median = 100 * GiB, samples = 7 },
   })
   hist[1] = 180 * GiB
   local grow = check("size", entry("postgresql", "c1", "orders", sized(hist)))
   H.eq({ grow.status, grow.observed, grow.expected }, { "warning", 80.0, 50 })
   H.contains(grow.message, "newest backup 180 GiB is 80.0% larger than the median 100 GiB of the previous 7")
   hist[1] = 110 * GiB
   H.eq(check("size", entry("postgresql", "c1", "orders", sized(hist))).status, "ok")
   -- samples = 3: median of 100, 101, 99 GiB
   local three = check("size", entry("postgresql", "c1", "orders", sized(hist)), { samples = 3, min_samples = 2 })
   H.eq(three.details, { size = 110 * GiB, median = 100 * GiB, samples = 3 })
end)

H.test("size: a drop to zero is critical; too little history is ok; like compared with like", function()
   local zero = check("size", entry("mysql", "c1", "db", sized({ 0, 10 * GiB, 10 * GiB, 10 * GiB })))
   H.eq({ zero.status, zero.message }, { "critical", "newest backup s0 is empty (0 B)" })
   local short = check("size", entry("mysql", "c1", "db", sized({ 1, 10 * GiB, 10 * GiB })))
   H.eq({ short.status, short.message }, { "ok", "only 2 earlier backups to compare with (need 3)" })
   -- an INCREMENTAL backup is compared with INCREMENTAL ones only
   local mixed = sized({ 2 * GiB, 100 * GiB, 2 * GiB, 100 * GiB, 2 * GiB, 100 * GiB, 2 * GiB },
      function(i) return { method = i % 2 == 1 and "INCREMENTAL" or "BASE" } end)
   local inc = check("size", entry("postgresql", "c1", "orders", mixed))
   H.eq({ inc.status, inc.observed, inc.details.samples }, { "ok", 0, 3 })
   -- OpenSearch sizes are in sizeBytes
   local os_list = sized({ false, false, false, false })
   for i, b in ipairs(os_list) do b.sizeBytes = i == 1 and GiB or 10 * GiB end
   local osf = check("size", entry("opensearch", "c1", "search", os_list))
   H.eq({ osf.status, osf.observed }, { "warning", -90.0 })   -- exactly 90% is not over crit 90
end)

---------------------------------------------------------------------------
-- automated, retention_config, shards

H.test("automated: the newest AUTOMATED backup, whatever the manual ones", function()
   local list = { bk("manual", 1, { type = "MANUAL" }), bk("auto", 60) }
   H.eq(check("automated", entry("mongodb", "c1", "users", list)), {
      check = "automated", status = "critical", engine = "mongodb", cluster = "c1", cluster_name = "users",
      message = "newest automated backup is 2d 12h old (warn 26h, crit 50h)",
      observed = 216000, expected = 180000, unit = "seconds", backup_id = "auto",
   })
   local none = check("automated", entry("mongodb", "c1", "users", { bk("manual", 1, { type = "MANUAL" }) }))
   H.eq({ none.status, none.message }, { "critical", "no completed automated backup" })
end)

H.test("retention_config: backupRetainPeriodDays as string or number, below the minimum", function()
   H.eq(check("retention_config", entry("postgresql", "c1", "orders", {})), {
      check = "retention_config", status = "ok", engine = "postgresql", cluster = "c1", cluster_name = "orders",
      message = "backupRetainPeriodDays is 14 days (warn below 7)", observed = 14, expected = 7, unit = "days",
   })
   local function with(v, settings)
      return check("retention_config", entry("clickhouse", "c1", "metrics", {},
         { config = { backupRetainPeriodDays = v } }), settings)
   end
   local low = with(3)
   H.eq({ low.status, low.observed, low.expected, low.message },
      { "warning", 3, 7, "backupRetainPeriodDays is 3 days (warn below 7)" })
   local crit = with("3", { warn = 14, crit = 7 })
   H.eq({ crit.status, crit.expected, crit.message },
      { "critical", 7, "backupRetainPeriodDays is 3 days (warn below 14, crit below 7)" })
   H.eq(with(1.0, { warn = 1 }).message, "backupRetainPeriodDays is 1 day (warn below 1)")
   local bad = with("abc")
   H.eq({ bad.status, bad.message }, { "error", 'the cluster\'s backupRetainPeriodDays is not a whole number: "abc"' })
   local missing = check("retention_config", entry("mysql", "c1", "db", {}, { config = {} }))
   H.eq({ missing.status, missing.message }, { "error", "the cluster's config has no backupRetainPeriodDays" })
   local nocluster = check("retention_config", { engine = "mysql", id = "c1", backups = {} })
   H.eq({ nocluster.status, nocluster.message },
      { "error", "cluster details are not available, so backupRetainPeriodDays cannot be checked" })
   -- OpenSearch keeps snapshots for snapshotManagement.snapshotMaxAgeDays
   local os_f = check("retention_config", entry("opensearch", "c1", "search", {},
      { config = { snapshotManagement = { snapshotMaxAgeDays = "10" } } }), { warn = 14 })
   H.eq({ os_f.status, os_f.message }, { "warning", "snapshotMaxAgeDays is 10 days (warn below 14)" })
end)

H.test("shards: the newest backups must cover every shard seen in the window", function()
   local list = {}
   for i = 0, 6 do
      list[#list + 1] = bk("rs01:" .. i, 2 + 24 * i, { sourceShardNames = { "rs01" } })
      if i >= 2 then list[#list + 1] = bk("rs02:" .. i, 3 + 24 * i, { sourceShardNames = { "rs02" } }) end
   end
   list[#list + 1] = bk("rs03:old", 24 * 20, { sourceShardNames = { "rs03" } })   -- outside 7d
   H.eq(check("shards", entry("mongodb", "c1", "users", list)), {
      check = "shards", status = "critical", engine = "mongodb", cluster = "c1", cluster_name = "users",
      message = "newest backups miss 1 of 2 shards seen in the last 7d: rs02 last 2026-11-21 09:00:00Z",
      observed = 1, expected = 2, unit = "shards", backup_id = "rs01:0",
      details = { shards = { "rs01", "rs02" }, missing = { "rs02" } },
   })
   local w = check("shards", entry("mongodb", "c1", "users", list), { status = "warning" })
   H.eq(w.status, "warning")
   local both = { bk("a", 2, { sourceShardNames = { "rs02" } }), bk("b", 3, { sourceShardNames = { "rs01" } }),
      bk("c", 26, { sourceShardNames = { "rs01", "rs02" } }) }
   local ok = check("shards", entry("clickhouse", "c1", "ch", both))
   H.eq({ ok.status, ok.message }, { "ok", "newest backups cover all 2 shards (rs01, rs02)" })
   -- not for engines without shards, nor for backups without shard names
   H.eq(check("shards", entry("postgresql", "c1", "pg", list)), nil)
   H.eq(check("shards", entry("mongodb", "c1", "users", daily("c1", 3, 2))), nil)
end)

H.test("checks that do not apply to an engine produce no finding", function()
   local function checks_for(engine, backups)
      local f = audit.run({ entry(engine, "c1", "x", backups) }, nil, { now = NOW })
      local names = {}
      for i, x in ipairs(f) do names[i] = x.check end
      return names
   end
   local plain = daily("c1", 10, 3)
   for _, b in ipairs(plain) do b.size, b.type = nil, nil end
   H.eq(checks_for("sqlserver", plain), { "freshness", "coverage", "count", "gap", "duration", "recoverability" })
   H.eq(checks_for("postgresql", daily("c1", 10, 3, { status = "DONE" })),
      { "freshness", "coverage", "count", "gap", "duration", "stuck", "size", "automated", "retention_config",
        "recoverability" })
   H.eq(checks_for("redis", daily("c1", 10, 3, { size = false, sourceShardNames = { "shard1" } })),
      { "freshness", "coverage", "count", "gap", "duration", "automated", "retention_config", "shards",
        "recoverability" })
   H.eq(checks_for("elasticsearch", daily("c1", 10, 3, { size = false, type = false, sizeBytes = GiB })),
      { "freshness", "coverage", "count", "gap", "duration", "size", "recoverability" })
   -- window: only for a cluster with a backupWindowStart and typed backups
   local f = audit.run({ entry("mysql", "c1", "x", daily("c1", 10, 3),
      { config = { backupWindowStart = { hours = 3 } } }) }, nil, { now = NOW })
   H.eq(f[#f].check, "window")
   -- nor for an engine the tool does not know (no restore facts)
   local names = {}
   for i, x in ipairs(audit.run({ entry("newdb", "c1", "x", daily("c1", 10, 3)) }, nil, { now = NOW })) do
      names[i] = x.check
   end
   H.eq(names, { "freshness", "coverage", "count", "gap", "duration", "size", "automated" })
end)

---------------------------------------------------------------------------
-- failures

H.test("a failed listing gives error findings for that cluster; the audit goes on", function()
   local err = setmetatable({ kind = "http", status = 503 }, { __tostring = function() return "http error: boom (HTTP 503)" end })
   local results = {
      { engine = "redis", error = "network error: connection refused" },
      { engine = "mysql", id = "c2", cluster = cluster("c2", "broken"), backups = {}, error = err },
      entry("mysql", "c3", "fine", daily("c3", 10, 3, { status = "DONE" })),
   }
   local f = audit.run(results, { checks = { "freshness", "stuck", "retention_config" } }, { now = NOW })
   H.eq(pick(f, { "engine", "cluster", "check", "status" }), {
      "redis - listing error",
      "mysql c2 freshness error", "mysql c2 stuck error", "mysql c2 retention_config ok",
      "mysql c3 freshness ok", "mysql c3 stuck ok", "mysql c3 retention_config ok",
   })
   H.eq(f[1].message, "listing redis clusters failed: network error: connection refused")
   H.eq(f[2].message, "listing backups failed: http error: boom (HTTP 503)")
   H.eq(f[2].cluster_name, "broken")
   H.eq(audit.exit_status(f), 2)
end)

---------------------------------------------------------------------------
-- policies

local function write_policy(text)
   return H.write_file(H.tmpname(".lua"), text)
end

local ALL_CHECKS = "automated, count, coverage, databases, duration, failed_backups, freshness, gap, recoverability, "
   .. "retention_config, retention_policy, shards, size, stuck, window"

H.test("policy files: every bad key or value is an error naming the file and the key", function()
   local cases = {
      { "return { defualts = {} }",
        "unknown key 'defualts' in the policy (known: checks, defaults, engines, folder, per_cluster, "
           .. "per_engine, retention, tz)" },
      { "return { defaults = { freshness = { wran = '2h' } } }",
        "defaults.freshness: unknown key 'wran' for check freshness (known: crit, warn)" },
      { "return { defaults = { fresh = {} } }", "defaults: unknown key 'fresh' (known: " .. ALL_CHECKS .. ")" },
      { "return { defaults = { freshness = { warn = '26hh' } } }",
        'defaults.freshness.warn: bad duration "26hh": expected a number before "h"' },
      { "return { defaults = { freshness = { warn = 26 } } }",
        'defaults.freshness.warn: expected a duration like "26h", got number 26' },
      { "return { defaults = { freshness = { warn = '0h' } } }",
        "defaults.freshness.warn: duration must be greater than zero" },
      { "return { defaults = { coverage = { days = '7' } } }",
        'defaults.coverage.days: expected a whole number >= 0, got "7"' },
      { "return { defaults = { coverage = { days = 0 } } }", "defaults.coverage.days: must be at least 1" },
      { "return { defaults = { size = { warn = -5 } } }", "defaults.size.warn: expected a percentage > 0, got -5" },
      { "return { defaults = { shards = { status = 'ok' } } }",
        'defaults.shards.status: expected "warning" or "critical", got "ok"' },
      { "return { defaults = { freshness = 'yes' } }",
        "defaults.freshness: expected a table of settings, true or false, got string" },
      { "return { defaults = { freshness = { warn = '50h', crit = '26h' } } }",
        "defaults.freshness: warn (50h) is greater than crit (26h); set both, or unset one with false" },
      { "return { defaults = { count = { warn = 1, crit = 5 } } }",
        "defaults.count: warn (1) is less than crit (5); set both, or unset one with false" },
      { "return { checks = { 'freshness', 'sizes' } }",
        'checks[2]: unknown check "sizes" (known: freshness, coverage, count, gap, duration, stuck, size, '
           .. 'automated, retention_config, shards, recoverability, window, retention_policy, failed_backups, databases)' },
      { "return { checks = 'freshness' }", "checks: expected a list of check names" },
      { "return { engines = { 'postgres' } }",
        "engines[1]: unknown engine 'postgres' (known: mongodb, sqlserver, postgresql, mysql, clickhouse, "
           .. "redis, greenplum, opensearch, elasticsearch, spqr)" },
      { "return { per_engine = { postgres = {} } }", "per_engine: unknown engine 'postgres' (known: " },
      { "return { per_engine = { mysql = { freshness = { crit = '2h' } } } }",
        "per_engine.mysql.freshness: warn (26h) is greater than crit (2h); set both, or unset one with false" },
      { "return { per_cluster = { { freshness = false } } }",
        "per_cluster[1]: needs at least one of id, name or labels to select clusters" },
      { "return { per_cluster = { { nmae = 'x' } } }",
        "per_cluster[1]: unknown key 'nmae' (known: automated, count, coverage, databases, duration, failed_backups, "
           .. "freshness, gap, id, labels, name, recoverability, retention_config, retention_policy, shards, size, "
           .. "skip, stuck, window)" },
      { "return { per_cluster = { { id = 'c1', skip = 'yes' } } }", "per_cluster[1].skip: expected true or false, got string" },
      { "return { per_cluster = { { labels = { env = 1 } } } }",
        "per_cluster[1].labels: expected string keys and string value patterns" },
      { "return { tz = '+3' }", 'tz: bad time zone "+3": expected an offset like +03:00 or -05:30' },
      { "return { retention = { dayly = 7 } }", "retention: unknown retention key 'dayly'" },
      { "return 'policy'", "a policy must be a table, got string" },
      { "error('computed policy failed', 0)", "computed policy failed" },
   }
   for _, c in ipairs(cases) do
      local path = write_policy(c[1])
      local p, err = audit.load_policy(path)
      H.eq(p, nil, c[1])
      H.contains(err, path .. ": " .. c[2], c[1])
   end
   local path = write_policy("return {")
   local p, err = audit.load_policy(path)
   H.eq(p, nil)
   H.contains(err, path)
   H.contains(err, "expected")
   -- an error of the file's own code while its table is checked (a
   -- metamethod) is located in the file, not in an internal chunk name
   path = write_policy("return { checks = setmetatable({}, { __index = function() error('lazy key') end }) }")
   p, err = audit.load_policy(path)
   H.eq(p, nil)
   H.eq(err, path .. ":1: lazy key")
   p, err = audit.load_policy("/nonexistent/policy.lua")
   H.eq(p, nil)
   H.contains(err, "cannot open /nonexistent/policy.lua")
   H.raises(nil, audit.load_policy, 42)
end)

H.test("policy tables given directly raise at the caller with 'policy:'", function()
   local ok, err = pcall(function() audit.run({}, { defaults = { freshness = { warm = "1h" } } }) end)
   H.eq(ok, false)
   H.contains(err, "test_audit.lua:")
   H.contains(err, "policy: defaults.freshness: unknown key 'warm' for check freshness (known: crit, warn)")
   H.contains(H.raises(nil, audit.run, "x"), "bad argument #1 to 'run' (table expected, got string)")
   H.contains(H.raises(nil, audit.run, { 5 }), "bad argument #1 to 'run' (entry #1 is a number, not a table)")
   H.contains(H.raises(nil, audit.run, {}, nil, { now = "today" }), "bad option 'now' to 'run' (number expected, got string)")
   H.contains(H.raises(nil, audit.check, "fresh", {}), "unknown check \"fresh\"")
   H.contains(H.raises(nil, audit.run, {}, nil, { noww = 1 }), "bad argument #3 to 'run' (unknown option 'noww')")
   H.contains(H.raises(nil, audit.check, "count", {}, nil, { zone = "UTC" }),
      "bad argument #4 to 'check' (unknown option 'zone')")
end)

H.test("per-engine and per-cluster overrides: by id, name pattern and label; false disables; skip", function()
   local path = write_policy([[
      return {
         checks = { "freshness", "count" },
         defaults = { freshness = { warn = "26h", crit = "50h" }, count = { warn = 3, crit = 1 } },
         per_engine = { mysql = { freshness = { warn = "2h" }, count = false } },
         per_cluster = {
            { name = "*-staging", freshness = false, coverage = { days = 3 } },
            { labels = { tier = "gold*" }, freshness = { warn = "2h", crit = "4h" } },
            { id = { "c-skip", "c-other" }, skip = true },
            { name = "pay?ents", count = { warn = 20 } },
         },
      }]])
   local policy = assert(audit.load_policy(path))
   local results = {
      entry("postgresql", "c-a", "orders-prod", daily("a", 5, 3)),
      entry("mysql", "c-b", "shop-prod", daily("b", 5, 3)),
      entry("postgresql", "c-c", "metrics-staging", daily("c", 5, 3)),
      entry("postgresql", "c-d", "gold-db", daily("d", 5, 5), { labels = { tier = "gold-1" } }),
      entry("postgresql", "c-skip", "skipped", {}),
      entry("postgresql", "c-e", "payments", daily("e", 5, 3)),
      entry("postgresql", "c-f", "staging-orders", daily("f", 5, 3)),
   }
   local f = audit.run(results, policy, { now = NOW })
   H.eq(pick(f, { "cluster", "check", "status", "expected" }), {
      "c-a freshness ok 93600", "c-a count ok 3",
      "c-b freshness warning 7200",
      "c-c coverage ok 1", "c-c count ok 3",
      "c-d freshness critical 14400", "c-d count ok 3",
      "c-e freshness ok 93600", "c-e count warning 20",
      "c-f freshness ok 93600", "c-f count ok 3",
   })
   H.eq(audit.settings_for(policy, "postgresql", "c-skip", {}), nil)
   H.eq(audit.settings_for(policy, "mysql", "c-b", { name = "shop-prod" }), { freshness = { warn = 7200, crit = 180000 } })
end)

H.test("no policy: every check with the built-in defaults; override and only adjust a policy", function()
   local p = audit.policy(nil)
   H.eq(audit.settings_for(p, "postgresql", "c1", {}).freshness, { warn = 93600, crit = 180000 })
   H.eq(audit.settings_for(p, "postgresql", "c1", {}).coverage, { days = 7, warn = 1 })
   audit.override(p, { freshness = { crit = "30h", warn = false }, coverage = { days = 3 } })
   H.eq(audit.settings_for(p, "postgresql", "c1", {}).freshness, { crit = 108000 })
   H.eq(audit.settings_for(p, "postgresql", "c1", {}).coverage, { days = 3, warn = 1 })
   H.contains(H.raises(nil, audit.override, p, { freshness = { warn = "1x" } }),
      'override.freshness.warn: bad duration "1x"')
   audit.only(p, { "coverage", "count" })
   local keys = {}
   for k in pairs(audit.settings_for(p, "postgresql", "c1", {})) do keys[#keys + 1] = k end
   table.sort(keys)
   H.eq(keys, { "count", "coverage" })
   H.contains(H.raises(nil, audit.only, p, { "nope" }), 'unknown check "nope"')
end)

H.test("summary and exit status", function()
   local function fs(...)
      local out = {}
      for i, s in ipairs({ ... }) do out[i] = { status = s, check = "c", engine = "e", cluster = "x" .. i } end
      return out
   end
   H.eq(audit.summary(fs("ok", "warning", "critical", "ok")),
      { ok = 2, warning = 1, critical = 1, error = 0, total = 4, clusters = 4, worst = "critical" })
   H.eq(audit.exit_status(fs("ok", "ok")), 0)
   H.eq(audit.exit_status(fs("ok", "warning")), 1)
   H.eq(audit.exit_status(fs("critical")), 1)
   H.eq(audit.exit_status(fs("critical", "error")), 2)
   H.eq(audit.exit_status({}), 0)
end)

H.test("audit.entry audits one scan entry as audit.run does, carrying the folder", function()
   local results = {
      entry("postgresql", "c1", "one", daily("a", 10, 2)),
      entry("mysql", "c2", "two", {}),
      { engine = "redis", error = "network error: connection refused", backups = {} },
   }
   results[1].folder = "b1gfa"
   local policy = audit.policy(nil, "test")
   local want = audit.run(results, policy, { now = NOW })
   local got = {}
   for _, e in ipairs(results) do audit.entry(e, policy, { now = NOW, into = got }) end
   H.eq(got, want)
   H.ok(#got > 3)
   for _, f in ipairs(got) do H.eq(f.folder, f.cluster == "c1" and "b1gfa" or nil, f.check) end
   H.eq(audit.exit_status(audit.summary(got)), audit.exit_status(got), "exit status from a summary")
   H.contains(H.raises(nil, audit.entry, results[1], policy, { now = NOW, bogus = 1 }), "unknown option 'bogus'")
   H.contains(H.raises(nil, audit.entry, "x", policy), "bad argument #1 to 'entry'")
end)

H.run_all()
