-- The policy toolkit scripts (audit, freshness, inventory, retention-plan)
-- and tools/demo.sh, end to end through mdblua against the fake API:
-- outputs, documented exit statuses, and stdout never mixed with logs.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local NOW = "2026-11-23T18:00:00Z"
local DEMO_FOLDER = "b1gdemofolder0000001"
local FOLDER = "b1gtestfolder"
local SCRIPTS = H.source_dir .. "/scripts/"
local POLICY = SCRIPTS .. "policies/production.lua"

local function run(server, script, args, env)
   local e = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server and server.url or "http://127.0.0.1:1",
      YC_FOLDER_ID = DEMO_FOLDER, NO_COLOR = false }
   for k, v in pairs(env or {}) do e[k] = v end
   local a = { SCRIPTS .. script }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = e })
   H.not_contains(r.stdout .. r.stderr, H.token, "output")
   return r
end

local function lines(s)
   local out = {}
   for l in s:gmatch("([^\n]*)\n") do out[#out + 1] = l end
   return out
end

local function demo()
   return H.start_fake { "--demo", "--now", NOW }
end

-- A small healthy fleet: two clusters with ten daily backups each, and a
-- third cluster whose backups cannot be listed when `broken` is set.
local function fleet(opts)
   opts = opts or {}
   local recs = {}
   local function cluster(engine, id, name, retain)
      recs[#recs + 1] = { "cluster", engine, FOLDER, id, name, {
         id = id, folderId = FOLDER, createdAt = "2026-01-01T00:00:00Z", name = name, labels = {},
         environment = "PRODUCTION", config = { backupRetainPeriodDays = retain } } }
   end
   local function backups(engine, id, n, extra)
      for d = 0, n - 1 do
         local day = 23 - d
         local b = H.backup(string.format("%s:auto_%02d", id, day), id, string.format("2026-11-%02dT10:00:00Z", day),
            { startedAt = string.format("2026-11-%02dT09:45:00Z", day), size = "1073741824", status = "DONE" })
         for k, v in pairs(extra or {}) do b[k] = v end
         recs[#recs + 1] = { "backup", engine, FOLDER, id, b }
      end
   end
   cluster("postgresql", "c9qpg1", "pg-prod", "14")
   backups("postgresql", "c9qpg1", 10, { method = "BASE" })
   cluster("mysql", "c9qmy1", "my-prod", 14)             -- a JSON number is accepted too
   backups("mysql", "c9qmy1", 10)
   if opts.manual then
      recs[#recs + 1] = { "backup", "postgresql", FOLDER, "c9qpg1", H.backup("c9qpg1:manual_1", "c9qpg1",
         "2026-11-20T12:00:00Z", { type = "MANUAL", startedAt = "2026-11-20T11:50:00Z", status = "DONE" }) }
   end
   if opts.broken then
      cluster("mysql", "c9qbroken", "broken-prod", "14")
      backups("mysql", "c9qbroken", 3)
   end
   local args = { "--data", H.data_file(recs), "--now", NOW }
   for _, f in ipairs(opts.faults or {}) do args[#args + 1] = "--fault"; args[#args + 1] = f end
   return H.start_fake(args)
end

local FLEET = { "--engine", "postgresql", "--engine", "mysql", "--folder", FOLDER, "--now", NOW }
local with = H.with

-- RFC 4180 records (CRLF-terminated).
local function parse_csv(s)
   local rows, row, field, i, quoted = {}, {}, {}, 1, false
   while i <= #s do
      local c = s:sub(i, i)
      if quoted then
         if c == '"' then
            if s:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1 else quoted = false end
         else field[#field + 1] = c end
      elseif c == '"' then quoted = true
      elseif c == "," then row[#row + 1] = table.concat(field); field = {}
      elseif c == "\r" and s:sub(i + 1, i + 1) == "\n" then
         row[#row + 1] = table.concat(field); field = {}; rows[#rows + 1] = row; row = {}; i = i + 1
      else field[#field + 1] = c end
      i = i + 1
   end
   return rows
end

---------------------------------------------------------------------------
-- audit.lua

H.test("audit.lua --help: options, environment and exit statuses", function()
   local r = run(nil, "audit.lua", { "--help" })
   H.eq(r.code, 0)
   for _, s in ipairs({ "--policy FILE", "--engine ENGINE", "--folder ID", "--max-age DURATION",
      "--coverage-days N", "--format FORMAT", "table|json|jsonl|csv|markdown|junit|prometheus|nagios",
      "--output FILE", "YC_IAM_TOKEN", "Exit status: 0" }) do
      H.contains(r.stdout, s)
   end
   H.eq(r.stderr, "")
end)

H.test("audit.lua on the demo fleet with the example policy: the broken clusters, exit 1", function()
   local s = demo()
   local r = run(s, "audit.lua", { "--policy", POLICY, "--now", NOW })
   H.eq(r.code, 1, r.stderr)
   H.eq(r.stderr, "", "nothing on stderr when stderr is not a terminal")
   local ls = lines(r.stdout)
   H.ok(ls[1]:match("^STATUS%s+ENGINE%s+CLUSTER%s+CHECK%s+MESSAGE$"), ls[1])
   local rows = {}
   for i = 2, #ls do
      local st, eng, cl, chk = ls[i]:match("^(%u+)%s+(%S+)%s+(%S+)%s+(%S+)%s")
      if st then rows[#rows + 1] = table.concat({ st, eng, cl, chk }, " ") end
   end
   H.eq(rows, {
      "CRITICAL postgresql billing-prod stuck",
      "CRITICAL mysql payments-prod size",
      "CRITICAL mongodb users-prod failed_backups",
      "CRITICAL mongodb events-archive freshness",
      "CRITICAL mongodb events-archive automated",
      "CRITICAL clickhouse metrics-staging retention_config",
      "CRITICAL clickhouse metrics-staging recoverability",
      "WARNING postgresql orders-prod retention_policy",
      "WARNING postgresql billing-prod freshness",
      "WARNING postgresql billing-prod automated",
      "WARNING postgresql billing-prod failed_backups",
      "WARNING mysql inventory-prod coverage",
      "WARNING mysql inventory-prod gap",
      "WARNING mongodb events-archive coverage",
      "WARNING clickhouse metrics-staging coverage",
   })
   -- 3 days kept: the oldest is not old enough to restore to 3 days ago
   H.contains(r.stdout, "no restore point at or before 2026-11-20 18:00:00Z: the oldest is 2026-11-21 ")
   H.contains(r.stdout, "has been in progress for 9h 7m (warn 4h, crit 8h)")
   H.contains(r.stdout, "2 of the last 7 days (UTC) have no backup: 2026-11-19, 2026-11-21")
   -- the demo's failed backup attempt and unhonoured retention policy
   H.contains(r.stdout, "1 backup attempt failed in the last 2d: operation mdbdemoop00000000004 at ")
   H.contains(r.stdout, "Backup upload to object storage failed: connection reset by peer (code 13)")
   H.contains(r.stdout, "policy daily-14d (fakepolicy0000000002, cron * * *, 14 days): 13 of 13 selected days")
   H.eq(ls[#ls], "10 clusters, 121 checks: 106 ok, 8 warning, 7 critical, 0 error")
end)

H.test("audit.lua --format json/jsonl/csv/junit: machine output only on stdout", function()
   local s = demo()
   local base = { "--policy", POLICY, "--now", NOW, "--format" }
   local j = run(s, "audit.lua", with(base, "json"))
   H.eq(j.code, 1)
   H.eq(j.stderr, "")
   local doc = cjson.decode(j.stdout)
   H.eq(doc.summary, { clusters = 10, checks = 121, ok = 106, warning = 8, critical = 7, error = 0 })
   -- the policy's recovery checks: every cluster but metrics-staging is
   -- restorable over the last 3 days; every one with a backup window (all
   -- but SQL Server) keeps it
   local recov = {}
   for _, f in ipairs(doc.findings) do
      if f.check == "recoverability" or f.check == "window" then
         recov[f.check] = (recov[f.check] or 0) + (f.status == "ok" and 1 or 0)
      end
   end
   H.eq(recov, { recoverability = 9, window = 9 })
   -- reporting's newest backup holds its database
   local dbs
   for _, f in ipairs(doc.findings) do
      if f.check == "databases" then dbs = f end
   end
   H.eq({ dbs.cluster_name, dbs.status, dbs.details.databases }, { "reporting", "ok", { "db1" } })
   H.eq(doc.generated_at, NOW)
   local stuck
   for _, f in ipairs(doc.findings) do
      if f.check == "stuck" and f.cluster_name == "billing-prod" then stuck = f end
   end
   H.eq({ stuck.status, stuck.cluster, stuck.observed, stuck.expected, stuck.unit },
      { "critical", "c9qbillingprod000002", 32820, 28800, "seconds" })
   local jl = run(s, "audit.lua", with(base, "jsonl"))
   H.eq(#lines(jl.stdout), 121)
   for _, l in ipairs(lines(jl.stdout)) do cjson.decode(l) end
   local c = run(s, "audit.lua", with(base, "csv"))
   H.eq(c.code, 1)
   local rows = parse_csv(c.stdout)
   H.eq(#rows, 122)
   H.eq(rows[1][1], "check")
   local junit = run(s, "audit.lua", with(base, "junit"))
   H.contains(junit.stdout, '<testsuites name="mdb backup audit" tests="121" failures="15" errors="0" time="0">')
   H.eq(junit.stderr, "")
end)

H.test("audit.lua --format prometheus --output FILE: the file, atomically; nothing on stdout", function()
   local s = demo()
   local dir = H.tmpname(".d")
   assert(os.execute("mkdir -p " .. H.sh_quote(dir)))
   local out = dir .. "/mdb.prom"
   local r = run(s, "audit.lua", { "--policy", POLICY, "--now", NOW, "--format", "prometheus", "--output", out })
   H.eq(r.code, 1)
   H.eq(r.stdout, "")
   local text = H.read_file(out)
   H.contains(text, "# TYPE mdb_audit_status gauge\n")
   H.contains(text, 'mdb_audit_status{engine="postgresql",cluster_id="c9qbillingprod000002",'
      .. 'cluster_name="billing-prod",check="stuck"} 2\n')
   H.contains(text, 'mdb_backups{engine="mysql",cluster_id="c9qinventoryprod0005",cluster_name="inventory-prod"} 12\n')
   H.contains(text, "mdb_backup_last_created_timestamp_seconds{")
   H.not_contains(text, ":auto_", "no backup ids in metrics")
   local p = io.popen("ls -A " .. H.sh_quote(dir))
   H.eq(p:read("a"), "mdb.prom\n")
   p:close()
   local bad = run(s, "audit.lua", { "--policy", POLICY, "--output", dir .. "/no/such/dir/x.prom" })
   H.eq(bad.code, 2)
   H.contains(bad.stderr, "audit.lua: cannot write " .. dir .. "/no/such/dir/x.prom")
end)

H.test("audit.lua --format nagios: one line and Nagios exit codes", function()
   local s = demo()
   local r = run(s, "audit.lua", { "--policy", POLICY, "--now", NOW, "--format", "nagios" })
   H.eq(r.code, 2, "CRITICAL")
   H.eq(#lines(r.stdout), 1)
   H.ok(r.stdout:match("^MDB BACKUP AUDIT CRITICAL %- 7 critical, 8 warning: billing%-prod stuck critical, "), r.stdout)
   H.contains(r.stdout, "| ok=106 warning=8 critical=7 error=0\n")
   local w = run(s, "audit.lua", { "--engine", "mysql", "--check", "coverage", "--now", NOW, "--format", "nagios" })
   H.eq(w.code, 1, "WARNING")
   local u = run(s, "audit.lua", { "--format", "nagios", "--bogus" })
   H.eq(u.code, 3, "UNKNOWN for a usage error")
   H.contains(u.stderr, "unknown option '--bogus'")
end)

H.test("audit.lua with flags only: --max-age, --coverage-days, --check; exit 0 when all ok", function()
   local s = fleet()
   local r = run(s, "audit.lua", FLEET)
   H.eq(r.code, 0, r.stdout .. r.stderr)
   H.eq(r.stdout, "2 clusters, 24 checks: 24 ok, 0 warning, 0 critical, 0 error\n")
   local all = run(s, "audit.lua", with(FLEET, "--all", "--check", "freshness", "--check", "retention_config"))
   H.eq(all.code, 0)
   H.eq(lines(all.stdout), {
      "STATUS  ENGINE      CLUSTER  CHECK             MESSAGE",
      "OK      postgresql  pg-prod  freshness         newest backup is 8h 0m old (warn 26h, crit 50h)",
      "OK      postgresql  pg-prod  retention_config  backupRetainPeriodDays is 14 days (warn below 7)",
      "OK      mysql       my-prod  freshness         newest backup is 8h 0m old (warn 26h, crit 50h)",
      "OK      mysql       my-prod  retention_config  backupRetainPeriodDays is 14 days (warn below 7)",
      "",
      "2 clusters, 4 checks: 4 ok, 0 warning, 0 critical, 0 error",
   })
   local stale = run(s, "audit.lua", with(FLEET, "--max-age", "6h", "--check", "freshness", "--format", "csv"))
   H.eq(stale.code, 1)
   local rows = parse_csv(stale.stdout)
   H.eq(rows[2][2], "critical")
   H.eq(rows[2][6], "newest backup is 8h 0m old (crit 6h)")
   local cov = run(s, "audit.lua", with(FLEET, "--coverage-days", "12", "--check", "coverage", "--format", "jsonl"))
   H.eq(cov.code, 1)
   local f = cjson.decode(lines(cov.stdout)[1])
   H.eq(f.details.missing, { "2026-11-11", "2026-11-12", "2026-11-13" })
   local ok = run(s, "audit.lua", with(FLEET, "--format", "nagios"))
   H.eq({ ok.code, ok.stdout }, { 0, "MDB BACKUP AUDIT OK - 24 checks ok on 2 clusters | ok=24 warning=0 critical=0 error=0\n" })
end)

H.test("audit.lua: a cluster that cannot be listed is an error finding, the rest is audited, exit 2", function()
   local s = fleet { broken = true, faults = { "path=c9qbroken/backups;status=404;times=0" } }
   local r = run(s, "audit.lua", with(FLEET, "--check", "freshness", "--format", "csv"))
   H.eq(r.code, 2, r.stderr)
   local rows = parse_csv(r.stdout)
   H.eq(#rows, 4)
   local by = {}
   for i = 2, #rows do by[rows[i][4]] = rows[i] end
   H.eq(by.c9qpg1[2], "ok")
   H.eq(by.c9qmy1[2], "ok")
   H.eq(by.c9qbroken[2], "error")
   H.contains(by.c9qbroken[6], "listing backups failed: http error: ")
   H.contains(r.stderr, "audit.lua: mysql c9qbroken: http error: ")
   -- a bad token: every Cluster.List fails
   local t = run(s, "audit.lua", FLEET, { YC_IAM_TOKEN = "wrong-token" })
   H.eq(t.code, 2)
   H.contains(t.stdout, "listing postgresql clusters failed: http error: Token is invalid or has expired.")
   H.contains(t.stderr, "HTTP 401")
end)

H.test("audit.lua: usage and policy errors exit 2 with a clear message", function()
   local s = fleet()
   local cases = {
      { { "--bogus" }, "audit.lua: unknown option '--bogus'" },
      { { "--max-age", "26x" }, "option '--max-age': bad duration \"26x\": unknown unit \"x\"" },
      { { "--coverage-days", "0" }, "option '--coverage-days': must be at least 1" },
      { { "--format", "xml" }, "option '--format': expected one of table, json, jsonl, csv, markdown, junit, prometheus, nagios, html, got 'xml'" },
      { { "--engine", "postgres" }, "option '--engine': expected one of mongodb, sqlserver, postgresql" },
      { { "--check", "sizes" }, "option '--check': expected one of freshness, coverage" },
      { { "--tz", "+3" }, "audit.lua: option '--tz': bad time zone \"+3\"" },
      { { "--now", "yesterday" }, "audit.lua: option '--now': not an RFC 3339 time: yesterday" },
      { { "--policy", "/nonexistent.lua" }, "audit.lua: cannot open /nonexistent.lua" },
      { { "--warn-age", "60h" }, "audit.lua: --warn-age 60h is longer than the freshness crit limit 50h "
         .. "(built-in default); give --max-age too" },
   }
   for _, c in ipairs(cases) do
      -- (FLEET's own --now would make a second one a usage error of its own)
      local base = c[1][1] == "--now" and { table.unpack(FLEET, 1, #FLEET - 2) } or FLEET
      local r = run(s, "audit.lua", with(base, table.unpack(c[1])))
      H.eq(r.code, 2, table.concat(c[1], " "))
      H.contains(r.stderr, c[2])
      H.eq(r.stdout, "")
   end
   local bad = H.write_file(H.tmpname(".lua"), "return { defaults = { freshness = { wran = '1h' } } }")
   local r = run(s, "audit.lua", { "--policy", bad })
   H.eq(r.code, 2)
   H.eq(r.stderr, "audit.lua: " .. bad .. ": defaults.freshness: unknown key 'wran' for check freshness (known: crit, warn)\n")
   local nofolder = run(s, "audit.lua", { "--engine", "mysql" }, { YC_FOLDER_ID = false })
   H.eq(nofolder.code, 2)
   H.contains(nofolder.stderr, "no folder: give --folder ID, set folder in the policy, or set YC_FOLDER_ID")
   local notoken = run(s, "audit.lua", FLEET, { YC_IAM_TOKEN = false })
   H.eq(notoken.code, 2)
   H.contains(notoken.stderr, "audit.lua: ")
   H.contains(notoken.stderr, "YC_IAM_TOKEN")
end)

H.test("audit.lua: an empty folder is not a silent success", function()
   local s = fleet()
   local r = run(s, "audit.lua", { "--folder", "b1gemptyfolder", "--engine", "mysql" })
   H.eq(r.code, 1)
   H.eq(r.stdout, "0 clusters, 0 checks: 0 ok, 0 warning, 0 critical, 0 error\n")
   H.eq(r.stderr, "audit.lua: no clusters of mysql in folder b1gemptyfolder\n")
   local n = run(s, "audit.lua", { "--folder", "b1gemptyfolder", "--engine", "mysql", "--format", "nagios" })
   H.eq({ n.code, n.stdout }, { 3, "MDB BACKUP AUDIT UNKNOWN - no clusters of mysql in folder b1gemptyfolder\n" })
end)

---------------------------------------------------------------------------
-- freshness.lua

H.test("freshness.lua: table per cluster; Nagios line with perfdata and Nagios exit codes", function()
   local h = run(nil, "freshness.lua", { "--help" })
   H.eq(h.code, 0)
   H.contains(h.stdout, "--warn DURATION")
   H.contains(h.stdout, "0 OK, 1 WARNING, 2 CRITICAL")
   local s = demo()
   local t = run(s, "freshness.lua", { "--engine", "postgresql", "--engine", "mongodb", "--now", NOW })
   H.eq(t.code, 2, t.stderr)
   H.eq(lines(t.stdout), {
      "STATUS    ENGINE      CLUSTER         NEWEST                AGE",
      "OK        postgresql  orders-prod     2026-11-23 15:03:00Z  2h 57m",
      "WARNING   postgresql  billing-prod    2026-11-22 09:20:00Z  1d 8h",
      "OK        mongodb     users-prod      2026-11-23 16:03:00Z  1h 57m",
      "CRITICAL  mongodb     events-archive  2026-11-20 16:03:00Z  3d 1h",
      "4 clusters (warn 26h, crit 50h): 2 ok, 1 warning, 1 critical, 0 error",
   })
   local n = run(s, "freshness.lua", { "--engine", "postgresql", "--now", NOW, "--format", "nagios" })
   H.eq(n.code, 1)
   H.eq(n.stdout, "MDB BACKUP FRESHNESS WARNING - postgresql/billing-prod 1d 8h old | "
      .. "'postgresql/orders-prod'=10620s;93600;180000;0 'postgresql/billing-prod'=117600s;93600;180000;0\n")
   local ok = run(s, "freshness.lua", { "--engine", "postgresql", "--now", NOW, "--format", "nagios",
      "--warn", "2d", "--crit", "3d" })
   H.eq(ok.code, 0)
   H.ok(ok.stdout:match("^MDB BACKUP FRESHNESS OK %- 2 clusters, newest backups at most 1d 8h old | "), ok.stdout)
   local one = run(s, "freshness.lua", { "--engine", "mongodb", "--cluster", "c9qeventsarchive0004", "--now", NOW,
      "--format", "json" }, { YC_FOLDER_ID = false })
   H.eq(one.code, 2)
   local doc = cjson.decode(one.stdout)
   H.eq({ #doc.findings, doc.findings[1].cluster, doc.findings[1].status }, { 1, "c9qeventsarchive0004", "critical" })
   local bad = run(s, "freshness.lua", { "--warn", "3d", "--crit", "1d" })
   H.eq(bad.code, 3)
   H.contains(bad.stderr, "freshness.lua: --warn 3d is longer than --crit 1d")
   local u = run(s, "freshness.lua", { "--cluster", "c1" })
   H.eq(u.code, 3)
   H.contains(u.stderr, "--cluster needs exactly one --engine")
   local api = run(s, "freshness.lua", { "--engine", "mysql", "--format", "nagios" }, { YC_IAM_TOKEN = "nope" })
   H.eq(api.code, 3, "UNKNOWN when the API fails")
   H.eq(api.stdout, "MDB BACKUP FRESHNESS UNKNOWN - mysql listing failed\n")
end)

---------------------------------------------------------------------------
-- inventory.lua

H.test("inventory.lua: per-cluster counts, sizes, newest and oldest in table, csv and json", function()
   local s = fleet { manual = true }
   local r = run(s, "inventory.lua", FLEET)
   H.eq(r.code, 0, r.stderr)
   H.eq(lines(r.stdout), {
      "ENGINE      CLUSTER  ID      BACKUPS  AUTO  MANUAL    SIZE  NEWEST                  AGE  OLDEST",
      "postgresql  pg-prod  c9qpg1       11    10       1  10 GiB  2026-11-23 10:00:00Z  8h 0m  2026-11-14 10:00:00Z",
      "mysql       my-prod  c9qmy1       10    10       0  10 GiB  2026-11-23 10:00:00Z  8h 0m  2026-11-14 10:00:00Z",
      "2 clusters, 21 backups, 20 GiB in total",
   })
   local c = run(s, "inventory.lua", with(FLEET, "--format", "csv"))
   local rows = parse_csv(c.stdout)
   H.eq(rows[2], { "postgresql", "c9qpg1", "pg-prod", "11", "10", "1", "0", "10737419264", "2026-11-23T10:00:00Z",
      "c9qpg1:auto_23", "1073741824", "2026-11-14T10:00:00Z", "" })
   local j = run(s, "inventory.lua", with(FLEET, "--format", "json"))
   H.eq(j.stderr, "")
   H.eq(cjson.decode(j.stdout)[2].count, 10)
   local p = run(s, "inventory.lua", with(FLEET, "--format", "prometheus"))
   H.contains(p.stdout, 'mdb_backups{engine="mysql",cluster_id="c9qmy1",cluster_name="my-prod"} 10\n')
   local broken = fleet { broken = true, faults = { "path=c9qbroken/backups;status=404;times=0" } }
   local b = run(broken, "inventory.lua", with(FLEET, "--format", "jsonl"))
   H.eq(b.code, 2)
   H.eq(#lines(b.stdout), 3)
   H.contains(b.stderr, "inventory.lua: mysql c9qbroken: http error:")
end)

---------------------------------------------------------------------------
-- retention-plan.lua

H.test("retention-plan.lua: keep and expire with reasons; --policy; --type; usage errors", function()
   local s = fleet { manual = true }
   local base = { "--engine", "postgresql", "--folder", FOLDER, "--now", NOW }
   local r = run(s, "retention-plan.lua", with(base, "--keep-last", "2", "--keep-weekly", "2", "--format", "csv"))
   H.eq(r.code, 0, r.stderr)
   local rows = parse_csv(r.stdout)
   local got = {}
   for i = 2, #rows do got[#got + 1] = rows[i][4] .. " " .. rows[i][8] .. " " .. rows[i][9] end
   -- 2026-11-23 is a Monday: the 23rd is a week of its own, 17..22 the week before
   H.eq(got, {
      "c9qpg1:auto_23 keep last snapshot; weekly snapshot",
      "c9qpg1:auto_22 keep last snapshot; weekly snapshot",
      "c9qpg1:auto_21 expire ", "c9qpg1:manual_1 expire ", "c9qpg1:auto_20 expire ",
      "c9qpg1:auto_19 expire ", "c9qpg1:auto_18 expire ", "c9qpg1:auto_17 expire ",
      "c9qpg1:auto_16 expire ", "c9qpg1:auto_15 expire ", "c9qpg1:auto_14 expire ",
   })
   local m = run(s, "retention-plan.lua", with(base, "--keep-daily", "unlimited", "--type", "MANUAL", "--format", "json"))
   H.eq(m.code, 0)
   local doc = cjson.decode(m.stdout)
   H.eq(doc[1].keep, { { backup_id = "c9qpg1:manual_1", created = "2026-11-20T12:00:00Z", reasons = { "daily snapshot" } } })
   H.eq(#doc[1].expire, 0)
   local t = run(s, "retention-plan.lua", with(base, "--keep-daily", "2"))
   H.eq(t.code, 0)
   H.contains(t.stdout, "postgresql pg-prod (c9qpg1): keep 2, expire 9\n")
   H.contains(t.stdout, "1 cluster: keep 2, expire 9 (keep 2 daily snapshots)\n")
   local pol = run(s, "retention-plan.lua", { "--policy", POLICY, "--engine", "mysql", "--folder", FOLDER, "--now", NOW })
   H.eq(pol.code, 0, pol.stderr)
   -- 23..17 daily, 16 weekly (2026-W46), 14 as the oldest weekly and monthly; 15 expires
   H.contains(pol.stdout, "mysql my-prod (c9qmy1): keep 9, expire 1")
   H.contains(pol.stdout, "c9qmy1:auto_14  2026-11-14 10:00:00Z  AUTOMATED  1.0 GiB  oldest weekly snapshot, oldest monthly snapshot\n")
   H.contains(pol.stdout, "(keep 3 latest, 7 daily, 4 weekly, 6 monthly snapshots)")
   local cases = {
      { base, "no retention rule: give --keep-daily N" },
      { with(base, "--keep-daily", "seven"), "option '--keep-daily': not a whole number: seven" },
      { with(base, "--keep-within", "2w"), "option '--keep-within': bad duration \"2w\": unknown unit \"w\"" },
      { with(base, "--keep-daily", "0"), "option '--keep-daily': expected a whole number of at least 1" },
      { with(base, "--keep-daily", "1", "--tz", "Mars/Base"), "unknown time zone \"Mars/Base\"" },
      { { "--cluster", "c9qpg1", "--keep-last", "1" }, "--cluster needs exactly one --engine" },
   }
   for _, c in ipairs(cases) do
      local e = run(s, "retention-plan.lua", c[1])
      H.eq(e.code, 2, table.concat(c[1], " "))
      H.contains(e.stderr, c[2])
   end
end)

---------------------------------------------------------------------------
-- conventions shared by every script

local FLEET_SCRIPTS = { "audit.lua", "inventory.lua", "freshness.lua", "retention-plan.lua", "list-backups.lua" }

H.test("usage errors: the message and where the help is, not the whole help", function()
   for _, script in ipairs(H.with(FLEET_SCRIPTS, "changes.lua", "history.lua", "snapshot.lua", "restore-point.lua")) do
      local r = run(nil, script, { "--bogus" })
      H.eq(r.code, script == "freshness.lua" and 3 or 2, script)
      H.eq(r.stderr, script .. ": unknown option '--bogus'\ntry 'mdblua " .. SCRIPTS .. script .. " --help'\n")
      H.eq(r.stdout, "")
   end
   local n = run(nil, "audit.lua", { "--format", "nagios", "--tz", "Mars/Base" })
   H.eq(n.code, 3, "nagios: UNKNOWN")
   H.eq(select(2, n.stderr:gsub("\n", "")), 2, "two lines: " .. n.stderr)
end)

H.test("messages name the flags the user typed", function()
   local s = fleet()
   local cases = {
      { "audit.lua", { "--warn-age", "30h", "--max-age", "26h" }, "audit.lua: --warn-age 30h is longer than --max-age 26h\n" },
      { "audit.lua", { "--page-size", "5000" }, "audit.lua: option '--page-size': must be at most 1000\n" },
      { "inventory.lua", { "--page-size", "5000" }, "inventory.lua: option '--page-size': must be at most 1000\n" },
      { "audit.lua", { "--concurrency", "1000" }, "audit.lua: option '--concurrency': must be at most 256\n" },
      { "freshness.lua", { "--warn", "3h", "--crit", "2h" }, "freshness.lua: --warn 3h is longer than --crit 2h\n" },
   }
   for _, c in ipairs(cases) do
      local r = run(s, c[1], with(FLEET, table.unpack(c[2])))
      H.eq(r.code, c[1] == "freshness.lua" and 3 or 2, table.concat(c[2], " "))
      H.eq(r.stderr:match("^[^\n]*\n"), c[3])
      H.not_contains(r.stderr, "page_size")
      H.not_contains(r.stderr, "options.freshness")
   end
end)

H.test("--now in the past: backups created after it do not exist yet", function()
   local s = fleet()
   local past = "2026-11-20T12:00:00Z"        -- the fleet's backups run 14..23 Nov at 10:00
   local base = { "--engine", "postgresql", "--folder", FOLDER, "--now", past }
   local a = run(s, "audit.lua", with(base, "--all", "--format", "json"))
   H.eq(a.code, 1, a.stdout)
   local by = {}
   for _, f in ipairs(cjson.decode(a.stdout).findings) do by[f.check] = f end
   H.eq(by.coverage.details.missing, { "2026-11-13" }, "the 7 days before the 20th")
   H.eq({ by.freshness.observed, by.freshness.backup_id }, { 7200, "c9qpg1:auto_20" })
   H.eq(by.count.observed, 7)
   H.eq(by.size.backup_id, "c9qpg1:auto_20")
   H.eq(by.gap.backup_id, "c9qpg1:auto_20")
   local f = run(s, "freshness.lua", base)
   H.eq(f.code, 0, f.stderr)
   H.contains(f.stdout, "OK      postgresql  pg-prod  2026-11-20 10:00:00Z  2h 0m\n")
   local i = run(s, "inventory.lua", with(base, "--format", "json"))
   H.eq(i.code, 0, i.stderr)
   local inv = cjson.decode(i.stdout)[1]
   H.eq({ inv.count, inv.newest, inv.newest_id }, { 7, "2026-11-20T10:00:00Z", "c9qpg1:auto_20" })
   local r = run(s, "retention-plan.lua", with(base, "--keep-last", "1", "--format", "json"))
   H.eq(r.code, 0, r.stderr)
   local plan = cjson.decode(r.stdout)[1]
   H.eq(plan.keep[1].backup_id, "c9qpg1:auto_20")
   H.eq(#plan.expire, 6, "14..19 Nov")
end)

H.test("--tz UTC+7 and GMT-3 are refused with the offset to write; fixed zones say their offset", function()
   local s = fleet()
   local a = run(s, "audit.lua", with(FLEET, "--tz", "UTC+7"))
   H.eq(a.code, 2)
   H.contains(a.stderr, "audit.lua: option '--tz': ambiguous time zone \"UTC+7\": as a POSIX TZ rule it means "
      .. "UTC-07:00; write the offset instead, e.g. +07:00\n")
   local r = run(s, "retention-plan.lua", with(FLEET, "--keep-daily", "1", "--tz", "GMT-3"))
   H.eq(r.code, 2)
   H.contains(r.stderr, "e.g. -03:00\n")
   local e = run(s, "audit.lua", with(FLEET, "--tz", "Etc/GMT+7", "--check", "coverage", "--all"))
   H.eq(e.code, 0, e.stderr)
   H.contains(e.stdout, "(Etc/GMT+7, UTC-07:00) has a backup")
   local p = run(s, "audit.lua", with(FLEET, "--tz", "EST5", "--check", "coverage", "--all"))
   H.contains(p.stdout, "(EST5, UTC-05:00) has a backup")
end)

H.test("counts agree with their nouns: 1 cluster, 1 day", function()
   local s = fleet()
   local one = { "--engine", "postgresql", "--folder", FOLDER, "--now", NOW }
   local f = run(s, "freshness.lua", one)
   H.contains(f.stdout, "\n1 cluster (warn 26h, crit 50h): 1 ok, 0 warning, 0 critical, 0 error\n")
   local n = run(s, "freshness.lua", with(one, "--format", "nagios"))
   H.contains(n.stdout, "MDB BACKUP FRESHNESS OK - 1 cluster, newest backups at most 8h 0m old")
   local c = run(s, "audit.lua", with(one, "--coverage-days", "1", "--check", "coverage", "--all"))
   H.contains(c.stdout, "every one of the last 1 day (UTC) has a backup")
   H.contains(c.stdout, "1 cluster, 1 check: 1 ok")
end)

H.test("retention-plan.lua --cluster names the cluster", function()
   local s = fleet()
   local base = { "--engine", "postgresql", "--cluster", "c9qpg1", "--keep-last", "1", "--now", NOW }
   local j = run(s, "retention-plan.lua", with(base, "--format", "json"), { YC_FOLDER_ID = false })
   H.eq(j.code, 0, j.stderr)
   H.eq(cjson.decode(j.stdout)[1].cluster_name, "pg-prod")
   local t = run(s, "retention-plan.lua", base)
   H.contains(t.stdout, "postgresql pg-prod (c9qpg1): keep 1, expire 9\n")
   -- a cluster typed twice is planned (and checked) once
   local twice = run(s, "retention-plan.lua", with(base, "--cluster", "c9qpg1", "--format", "json"),
      { YC_FOLDER_ID = false })
   H.eq(twice.code, 0, twice.stderr)
   H.eq(#cjson.decode(twice.stdout), 1)
   local f = run(s, "freshness.lua", { "--engine", "postgresql", "--cluster", "c9qpg1", "--cluster", "c9qpg1",
      "--now", NOW }, { YC_FOLDER_ID = false })
   H.ok(f.code <= 2, f.stderr)
   H.eq(select(2, f.stdout:gsub("c9qpg1", "")), 1, f.stdout)
end)

H.test("promtool check metrics accepts audit, inventory and freshness output (lint included)", function()
   local s = demo()
   local broken = fleet { broken = true, faults = { "path=c9qbroken/backups;status=404;times=0",
      "path=/managed-postgresql/v1/clusters?;status=403;times=0" } }
   local cases = {
      { s, "audit.lua", { "--policy", POLICY, "--now", NOW } },
      { s, "inventory.lua", { "--now", NOW } },
      { s, "freshness.lua", { "--now", NOW } },
      { broken, "audit.lua", FLEET },
      { broken, "inventory.lua", FLEET },
      { broken, "freshness.lua", FLEET },
   }
   for _, c in ipairs(cases) do
      local file = H.tmpname(".prom")
      run(c[1], c[2], with(c[3], "--format", "prometheus", "--output", file))
      H.ok(#(H.read_file(file) or "") > 0, c[2] .. " wrote its file")
      local r = H.run({ "check", "metrics" }, { program = "promtool", stdin = H.read_file(file) })
      H.eq(r.code, 0, c[2] .. ": " .. r.stdout .. r.stderr)
      H.eq(r.stdout .. r.stderr, "", "no lint warning")
   end
end)

---------------------------------------------------------------------------
-- the demo

H.test("tools/demo.sh: audits the demo fleet with the example policy and explains the exit status", function()
   local build = os.getenv("MDB_BUILD_DIR")
   if not build then
      print("  (skipped: MDB_BUILD_DIR is not set)")
      return
   end
   local r = H.run({ H.source_dir .. "/tools/demo.sh", build }, { program = "sh", cwd = H.source_dir })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "$ mdblua scripts/audit.lua --policy scripts/policies/production.lua\n")
   -- the fleet's times follow the clock, so only what does not depend on the time of day
   H.ok(r.stdout:match("\nCRITICAL%s+postgresql%s+billing%-prod%s+stuck%s"), r.stdout)
   H.ok(r.stdout:match("\nCRITICAL%s+mongodb%s+events%-archive%s+freshness%s"), r.stdout)
   H.ok(r.stdout:match("\nCRITICAL%s+mysql%s+payments%-prod%s+size%s"), r.stdout)
   H.ok(r.stdout:match("\nCRITICAL%s+clickhouse%s+metrics%-staging%s+retention_config%s"), r.stdout)
   H.ok(r.stdout:match("\nCRITICAL%s+mongodb%s+users%-prod%s+failed_backups%s"), r.stdout)
   H.ok(r.stdout:match("\nWARNING%s+postgresql%s+orders%-prod%s+retention_policy%s"), r.stdout)
   H.ok(r.stdout:match("\n10 clusters, 121 checks: %d+ ok, %d+ warning, %d+ critical, 0 error\n"), r.stdout)
   H.contains(r.stdout, "audit.lua exited with status 1: at least one cluster has a warning or critical finding")
   -- the history part: two scans recorded, the fleet changed in between, the changes printed
   H.ok(r.stderr:match("snapshot%.lua: scan 1 recorded in [^\n]*: 10 clusters"), r.stderr)
   H.ok(r.stderr:match("snapshot%.lua: scan 2 recorded in [^\n]*: 9 clusters"), r.stderr)
   H.ok(r.stdout:match("\nunexpected%s+vanished%s+mysql%s+payments%-prod%s+c9qpaymentsprod00006:manual_%S+%s+%S+%s+"
      .. "a manual backup vanished\n"), r.stdout)
   H.ok(r.stdout:match("\nunexpected%s+cluster_vanished%s+clickhouse%s+metrics%-staging%s"), r.stdout)
   H.ok(r.stdout:match("\n%d+ changes, %d+ unexpected, scan 1 %(%S+%) %-> scan 2 %(%S+%)\n"), r.stdout)
   H.contains(r.stdout, "changes.lua exited with status 1 (0 nothing unexpected, 1 unexpected changes, 2 errors).")
end)

H.run_all()
