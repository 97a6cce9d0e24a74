-- --record, --db and --from on audit.lua and inventory.lua, the vanished
-- check, and history.lua, through the real mdblua against the fake API
-- whose demo fleet loses a manual backup and a cluster at its second step.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local NOW = "2026-11-23T18:38:38Z"
local FOLDER = "b1gdemofolder0000001"
local MANUAL = "c9qpaymentsprod00006:manual_20261121T092238Z"

local function start()
   return H.start_fake({ "--demo", "--now", NOW, "--step", "--demo", "--without", "c9qpaymentsprod00006:manual_*",
      "--without", "c9qmetricsstaging008" })
end

local function env(server)
   return { YC_MDB_ENDPOINT = server.url, YC_IAM_TOKEN = H.token, YC_FOLDER_ID = FOLDER }
end

local function script(name, args, server)
   local a = { H.source_dir .. "/scripts/" .. name }
   for _, v in ipairs(args) do a[#a + 1] = v end
   return H.run(a, server and { env = env(server) } or { env = { YC_MDB_ENDPOINT = "http://127.0.0.1:9",
      YC_IAM_TOKEN = "none", YC_FOLDER_ID = false } })
end

local step = H.step

local function scans(db)
   local p = io.popen("sqlite3 " .. H.sh_quote(db) .. " 'SELECT count(*) FROM scans'")
   local n = tonumber(p:read("l"))
   p:close()
   return n
end

local function vanished(doc)
   local out = {}
   for _, f in ipairs(doc.findings) do
      if f.check == "vanished" then out[#out + 1] = f end
   end
   return out
end

H.test("audit --record twice: the vanished check finds the deleted manual backup", function()
   local server = start()
   local db = H.tmpname(".db")
   local r = script("audit.lua", { "--record", db, "--now", NOW, "--format", "json" }, server)
   H.eq(r.code, 1, r.stderr)
   local v = vanished(cjson.decode(r.stdout))
   H.eq(#v, 10, "one vanished finding per cluster")
   H.eq(v[1].status, "ok")
   H.contains(v[1].message, "first complete listing recorded")
   H.eq(step(server), '{"step":2,"steps":2}')
   r = script("audit.lua", { "--record", db, "--now", NOW, "--format", "json" }, server)
   H.eq(r.code, 1, r.stderr)
   v = vanished(cjson.decode(r.stdout))
   H.eq(#v, 10, "one per cluster still there, and metrics-staging, gone")
   local bad, gone
   for _, f in ipairs(v) do
      if f.cluster == "c9qmetricsstaging008" then
         gone = f
      elseif f.status ~= "ok" then
         H.eq(bad, nil, "one cluster only")
         bad = f
      end
   end
   H.eq(gone.status, "critical")
   H.contains(gone.message, "the cluster is gone since scan 1")
   H.eq(bad.status, "critical")
   H.eq(bad.cluster, "c9qpaymentsprod00006")
   H.eq(bad.backup_id, MANUAL)
   H.eq(bad.observed, 1)
   H.contains(bad.message, "a manual backup vanished")
   H.eq(scans(db), 2)
end)

H.test("without --record or --db there is no vanished check", function()
   local server = start()
   local r = script("audit.lua", { "--now", NOW, "--format", "json" }, server)
   H.eq(r.code, 1)
   H.eq(#vanished(cjson.decode(r.stdout)), 0)
   H.not_contains(script("audit.lua", { "--help" }).stdout, "vanished:")
end)

H.test("audit --db compares without recording", function()
   local server = start()
   local db = H.tmpname(".db")
   H.eq(script("snapshot.lua", { "--db", db, "--now", NOW }, server).code, 0)
   step(server)
   local r = script("audit.lua", { "--db", db, "--now", NOW, "--format", "json" }, server)
   H.eq(r.code, 1, r.stderr)
   local critical = 0
   for _, f in ipairs(vanished(cjson.decode(r.stdout))) do
      if f.status == "critical" then critical = critical + 1 end
   end
   H.eq(critical, 2, "the manual backup, and metrics-staging gone")
   H.eq(scans(db), 1, "--db does not record")
end)

H.test("--check vanished runs only the vanished check; without history it is a usage error", function()
   local server = start()
   local db = H.tmpname(".db")
   H.eq(script("snapshot.lua", { "--db", db, "--now", NOW }, server).code, 0)
   step(server)
   for _, how in ipairs({ "--db", "--record" }) do
      local r = script("audit.lua", { how, db, "--check", "vanished", "--now", NOW, "--format", "json" }, server)
      H.eq(r.code, 1, r.stderr)
      local doc = cjson.decode(r.stdout)
      H.eq(#doc.findings, 10, how .. ": one vanished finding per cluster still there and the one gone, nothing else")
      for _, f in ipairs(doc.findings) do H.eq(f.check, "vanished") end
      H.eq(#vanished(doc), 10)
   end
   -- with another check: both, and only those
   local r = script("audit.lua", { "--from", db, "--check", "vanished", "--check", "count", "--format", "json" })
   H.eq(r.code, 1, r.stderr)
   local kinds = {}
   for _, f in ipairs(cjson.decode(r.stdout).findings) do kinds[f.check] = (kinds[f.check] or 0) + 1 end
   H.eq(kinds, { count = 9, vanished = 10 })
   -- a --check list without vanished leaves it out
   r = script("audit.lua", { "--from", db, "--check", "count", "--format", "json" })
   H.eq(#vanished(cjson.decode(r.stdout)), 0)
   r = script("audit.lua", { "--check", "vanished", "--now", NOW }, server)
   H.eq(r.code, 2)
   H.contains(r.stderr, "--check vanished needs a history: give --record FILE, --db FILE or --from FILE")
   H.not_contains(r.stderr, "traceback")
   H.contains(script("audit.lua", { "--help" }).stdout, "databases, vanished")
end)

H.test("audit --from gives the live audit's findings, offline", function()
   local policy = H.source_dir .. "/scripts/policies/production.lua"
   for _, f in ipairs({ "json", "table", "prometheus", "junit" }) do
      local server = start()
      local db = H.tmpname(".db")
      local live
      for i = 1, 2 do
         live = script("audit.lua", { "--record", db, "--now", NOW, "--format", f, "--policy", policy },
            server)
         H.eq(live.code, 1, live.stderr)
         if i == 1 then step(server) end
      end
      server.stop()
      local r = script("audit.lua", { "--from", db, "--now", NOW, "--format", f, "--policy", policy })
      H.eq(r.code, 1, r.stderr)
      H.eq(r.stdout, live.stdout, "format " .. f)
      H.contains(r.stdout, f == "prometheus" and 'check="vanished"' or "vanished")
   end
end)

H.test("audit --from judges recorded retention policies and operations as the live audit did", function()
   -- sessions-cache's policies (Redis: listed by folder) cannot be listed:
   -- an error finding, live and offline
   local server = H.start_fake({ "--demo", "--now", NOW, "--step", "--demo", "--without",
      "c9qpaymentsprod00006:manual_*", "--fault",
      "path=/managed-redis/v1/folders/b1gdemofolder0000001/retention_policies;status=403;times=0" })
   local db = H.tmpname(".db")
   local live = {}
   for i = 1, 2 do
      live[i] = script("audit.lua", { "--record", db, "--now", NOW, "--format", "json" }, server)
      H.eq(live[i].code, 2, live[i].stderr)
      if i == 1 then step(server) end
   end
   server.stop()
   local want = {}
   for _, f in ipairs(cjson.decode(live[2].stdout).findings) do
      if f.check == "retention_policy" or f.check == "failed_backups" then
         want[f.cluster .. " " .. f.check] = f.status
      end
   end
   H.eq(want["c9qordersprod0000001 retention_policy"], "warning")
   H.eq(want["c9qsessionscache0010 retention_policy"], "error")
   H.eq(want["c9qbillingprod000002 failed_backups"], "warning")
   H.eq(want["c9qusersprod00000003 failed_backups"], "critical")
   local r = script("audit.lua", { "--from", db, "--now", NOW, "--format", "json" })
   H.eq(r.code, 2, r.stderr)
   H.eq(r.stdout, live[2].stdout)
   -- --at the scans' time: the last of them
   r = script("audit.lua", { "--from", db, "--at", NOW, "--now", NOW, "--format", "json" })
   H.eq(r.stdout, live[2].stdout)
   -- a later --now judges the recorded operations at that time
   local later = "2026-11-26T18:38:38Z"
   r = script("audit.lua", { "--from", db, "--now", later, "--format", "json", "--check", "failed_backups" })
   for _, f in ipairs(cjson.decode(r.stdout).findings) do
      if f.cluster == "c9qusersprod00000003" then H.eq(f.status, "ok", "the failure is out of the 2-day window") end
   end
end)

H.test("audit --from --at picks the last scan at or before the time", function()
   local server = start()
   local db = H.tmpname(".db")
   local r1 = script("audit.lua", { "--record", db, "--now", "2026-11-23T18:00:00Z", "--format", "json" },
      server)
   step(server)
   local r2 = script("audit.lua", { "--record", db, "--now", "2026-11-23T19:00:00Z", "--format", "json" },
      server)
   server.stop()
   local f1 = script("audit.lua", { "--from", db, "--at", "2026-11-23T18:30:00Z",
      "--now", "2026-11-23T18:00:00Z", "--format", "json" })
   H.eq(f1.stdout, r1.stdout)
   local f2 = script("audit.lua", { "--from", db, "--now", "2026-11-23T19:00:00Z", "--format", "json" })
   H.eq(f2.stdout, r2.stdout)
   -- without --now, the scan's own time
   local f3 = script("audit.lua", { "--from", db, "--at", "2026-11-23T18:30:00Z", "--format", "json" })
   H.eq(f3.stdout, r1.stdout)
   local bad = script("audit.lua", { "--from", db, "--at", "2026-11-22T00:00:00Z" })
   H.eq(bad.code, 2)
   H.contains(bad.stderr, "no scan at or before 2026-11-22T00:00:00Z")
   -- option clashes are usage errors: one line and the hint, before anything is read or asked
   for _, c in ipairs {
      { "audit.lua", { "--from", db, "--record", db }, "--from reads a history file; it cannot be used with --record" },
      { "inventory.lua", { "--from", db, "--record", db }, "--from reads a history file; it cannot be used with --record" },
      { "audit.lua", { "--record", db, "--db", H.tmpname(".db") }, "give --record or --db, not both (--record also serves as --db)" },
   } do
      bad = script(c[1], c[2])
      H.eq({ bad.code, bad.stdout }, { 2, "" }, c[1])
      H.eq(bad.stderr, string.format("%s: %s\ntry 'mdblua %s --help'\n", c[1], c[3], H.source_dir .. "/scripts/" .. c[1]))
   end
   bad = script("audit.lua", { "--from", H.tmpname(".db") })
   H.eq(bad.code, 2)
   H.contains(bad.stderr, "no such history file")
end)

-- A script run by a user who cannot write read-only files.
local function as_reader(name, args)
   return H.run(H.with({ H.source_dir .. "/scripts/" .. name }, table.unpack(args)), { reader = true,
      env = { YC_MDB_ENDPOINT = "http://127.0.0.1:9", YC_IAM_TOKEN = "none", YC_FOLDER_ID = false } })
end

local sqlite3 = H.sqlite3

-- A version-1 file holding what `db` recorded: made by mdb.history's own
-- version-1 migration, then filled with the recorded rows, version 1's
-- columns only.
local function v1_copy(db, path)
   local h = assert(require("mdb.history").open(path, { write = true }))
   h:migrate(1)
   h:close()
   H.eq(sqlite3(path, "PRAGMA user_version"), "1")
   H.eq(sqlite3(path, string.format([[ATTACH %s AS cur;
      INSERT INTO scans SELECT id, time, time_text, folder, engines, tool FROM cur.scans;
      INSERT INTO listings SELECT scan, pos, engine, cluster_id, status, items, error_kind, error FROM cur.listings;
      INSERT INTO clusters SELECT id, engine, cluster_id, folder FROM cur.clusters;
      INSERT INTO cluster_states SELECT cluster, from_scan, last_scan, until_scan, name, retention_days,
        backup_window, digest, data FROM cur.cluster_states;
      INSERT INTO backup_states SELECT id, cluster, backup_id, from_scan, last_scan, until_scan, created, type,
        status, size, digest, data FROM cur.backup_states;
      PRAGMA user_version]], "'" .. db:gsub("'", "''") .. "'")), "1")
end

H.test("a read-only version-1 file works for changes, history and --from, and is not written", function()
   -- Version 1 recorded no retention policies nor operations: the audits
   -- compared leave out the checks judging them.
   local policy = H.write_file(H.tmpname(".lua"), [[
local keep = {}
for _, c in ipairs(require("mdb.audit").CHECKS) do
   if c ~= "retention_policy" and c ~= "failed_backups" then keep[#keep + 1] = c end
end
return { checks = keep }]])
   local server = start()
   local db = H.tmpname(".db")
   local live = {}
   for i = 1, 2 do
      live[i] = script("audit.lua", { "--record", db, "--now", NOW, "--format", "json", "--policy", policy }, server)
      H.eq(live[i].code, 1, live[i].stderr)
      if i == 1 then step(server) end
   end
   server.stop()
   local dir = H.tmpname(".dir")
   os.execute("mkdir -p " .. H.sh_quote(dir))
   local old = dir .. "/v1.db"
   v1_copy(db, old)
   local bytes = H.read_file(old)
   local function same_file(what)
      H.eq(H.read_file(old) == bytes, true, what .. ": the file's bytes are unchanged")
      H.eq(sqlite3(old, "PRAGMA user_version"), "1", what)
   end
   -- the same questions asked of the current file (the reference)
   local asks = {
      { "changes.lua", { "--format", "json" } },
      { "history.lua", { "backup", MANUAL, "--format", "json" } },
      { "history.lua", { "cluster", "c9qpaymentsprod00006", "--format", "json" } },
   }
   local want = {}
   for i, a in ipairs(asks) do
      local args = { "--db", db }
      for _, v in ipairs(a[2]) do args[#args + 1] = v end
      want[i] = script(a[1], args)
      H.ok(want[i].code <= 1 and #want[i].stdout > 0, a[1] .. ": " .. want[i].stderr)
   end
   os.execute("chmod 444 " .. H.sh_quote(old))
   for _, mode in ipairs({ "read-only file", "read-only directory" }) do
      if mode == "read-only directory" then os.execute("chmod 555 " .. H.sh_quote(dir)) end
      for i, a in ipairs(asks) do
         local args = { "--db", old }
         for _, v in ipairs(a[2]) do args[#args + 1] = v end
         local r = as_reader(a[1], args)
         H.eq(r.code, want[i].code, mode .. ", " .. a[1] .. ": " .. r.stderr)
         H.eq(r.stdout, want[i].stdout, mode .. ", " .. a[1])
         same_file(mode .. ", " .. a[1])
      end
      for _, at in ipairs({ {}, { "--at", NOW } }) do
         local r = as_reader("audit.lua", { "--from", old, "--format", "json", "--policy", policy, table.unpack(at) })
         H.eq(r.code, 1, mode .. ", audit --from: " .. r.stderr)
         H.eq(r.stdout, live[2].stdout, mode .. ", audit --from")
         same_file(mode .. ", audit --from")
      end
      local r = as_reader("inventory.lua", { "--from", old, "--now", NOW, "--format", "json" })
      H.eq(r.code, 0, mode .. ", inventory --from: " .. r.stderr)
      H.eq(r.stdout, script("inventory.lua", { "--from", db, "--now", NOW, "--format", "json" }).stdout)
      same_file(mode .. ", inventory --from")
   end
   os.execute("chmod 755 " .. H.sh_quote(dir) .. "; chmod 644 " .. H.sh_quote(old))
   -- Recording migrates the file itself, once.
   H.eq(sqlite3(old, "PRAGMA integrity_check"), "ok")
   local h = assert(require("mdb.history").open(old, { write = true }))
   H.eq(h:record({}, { time = os.time(), engines = { "mysql" } }), 3)
   h:close()
   H.eq(sqlite3(old, "PRAGMA user_version; PRAGMA integrity_check"),
      require("mdb.history").SCHEMA_VERSION .. "\nok")
end)

H.test("inventory --record and --from: the same report offline", function()
   local server = start()
   local db = H.tmpname(".db")
   for _, f in ipairs({ "table", "json" }) do
      local live = script("inventory.lua", { "--record", db, "--now", NOW, "--format", f }, server)
      H.eq(live.code, 0, live.stderr)
      local from = script("inventory.lua", { "--from", db, "--now", NOW, "--format", f })
      H.eq(from.code, 0, from.stderr)
      H.eq(from.stdout, live.stdout, f)
   end
   H.eq(scans(db), 2)
   local r = script("inventory.lua", { "--from", db, "--engine", "mysql", "--now", NOW, "--format", "json" })
   for _, row in ipairs(cjson.decode(r.stdout)) do H.eq(row.engine, "mysql") end
end)

H.test("history.lua: a backup's life and a cluster over time", function()
   local server = start()
   local db = H.tmpname(".db")
   H.eq(script("snapshot.lua", { "--db", db, "--now", NOW }, server).code, 0)
   step(server)
   H.eq(script("snapshot.lua", { "--db", db, "--now", "2026-11-24T18:38:38Z" }, server).code, 0)
   local r = script("history.lua", { "--db", db, "backup", MANUAL, "--format", "json" })
   H.eq(r.code, 0, r.stderr)
   local life = cjson.decode(r.stdout)[1]
   H.eq(life.first_seen, NOW)
   H.eq(life.last_seen, NOW)
   H.eq(life.vanished_at, "2026-11-24T18:38:38Z")
   H.eq(life.verdict, "unexpected")
   H.eq(life.type, "MANUAL")
   r = script("history.lua", { "--db", db, "backup", MANUAL })
   H.contains(r.stdout, "verdict     unexpected: a manual backup vanished")
   r = script("history.lua", { "--db", db, "cluster", "c9qpaymentsprod00006", "--format", "json" })
   H.eq(r.code, 0, r.stderr)
   local t = cjson.decode(r.stdout)
   H.eq(t.name, "payments-prod")
   H.eq(#t.scans, 2)
   H.eq(t.scans[1].backups - t.scans[2].backups, 1)
   H.eq(#t.days, 2)
   H.ok(#t.durations >= 15)
   H.ok(t.durations[1].seconds > 0)
   r = script("history.lua", { "--db", db, "cluster", "c9qpaymentsprod00006" })
   H.contains(r.stdout, "per day")
   r = script("history.lua", { "--db", db, "backup", "nope" })
   H.eq(r.code, 1)
   H.contains(r.stderr, "backup nope: not in")
   r = script("history.lua", { "--db", db, "frobnicate", "x" })
   H.eq(r.code, 2)
   H.contains(r.stderr, "expected 'backup ID' or 'cluster ID'")
end)

H.test("history.lua cluster: a scan whose Cluster.List of the engine failed is shown failed, not left out", function()
   local db = H.tmpname(".db")
   local ok_server = H.start_fake({ "--demo", "--now", NOW })
   local failing = H.start_fake({ "--demo", "--now", NOW, "--fault", "path=/managed-mysql/v1/clusters?;status=403;times=0" })
   H.eq(script("snapshot.lua", { "--db", db, "--now", NOW }, ok_server).code, 0)
   H.eq(script("snapshot.lua", { "--db", db, "--now", "2026-11-24T18:38:38Z" }, failing).code, 2)
   H.eq(script("snapshot.lua", { "--db", db, "--now", "2026-11-25T18:38:38Z" }, ok_server).code, 0)
   local function statuses(id)
      local r = script("history.lua", { "--db", db, "cluster", id, "--format", "json" })
      H.eq(r.code, 0, r.stderr)
      local out = {}
      for i, sc in ipairs(cjson.decode(r.stdout).scans) do out[i] = string.format("%d %s", sc.scan, sc.status) end
      return out, r
   end
   local got = statuses("c9qpaymentsprod00006")   -- mysql
   H.eq(got, { "1 complete", "2 failed", "3 complete" })
   H.eq((statuses("c9qordersprod0000001")), { "1 complete", "2 complete", "3 complete" }, "postgresql listed")
   local r = script("history.lua", { "--db", db, "cluster", "c9qpaymentsprod00006" })
   H.ok(r.stdout:find("\n2%s+%S+%s+failed%s+%-%s+%-"), r.stdout)
end)

-- The vanished findings of a recorded scan, by cluster id (several per
-- cluster when there are).
local function vanished_by_cluster(stdout)
   local out = {}
   for _, f in ipairs(vanished(cjson.decode(stdout))) do
      out[f.cluster] = out[f.cluster] or {}
      table.insert(out[f.cluster], f)
   end
   return out
end

H.test("the vanished check: warning for an automated backup gone early, critical for a manual one", function()
   local HF = require "history_fleet"
   local db = HF.record(H)                 -- scans at NOW-3d, -2d, -1d: manual-1 deleted after NOW-2d
   local server = HF.serve(H, HF.NOW)      -- live: A's automated backup of 12-03 gone, 4 days early
   local r = H.run({ H.source_dir .. "/scripts/audit.lua", "--db", db, "--check", "vanished", "--now", HF.NOW_TEXT,
      "--engine", "postgresql", "--format", "json" }, { env = HF.env(H, server) })
   server.stop()
   H.eq(r.code, 1, r.stderr)
   local v = vanished_by_cluster(r.stdout)
   H.eq(#v[HF.A], 1)
   H.eq(v[HF.A][1].status, "warning", "an automated backup gone before its retention ended")
   H.eq(v[HF.A][1].observed, 1)
   H.eq(v[HF.A][1].backup_id, HF.A .. ":auto-2026-12-03T01:00:00Z")
   H.contains(v[HF.A][1].message, "before its 7-day retention ended")
   H.eq(v[HF.B][1].status, "ok", "expired backups are expected")
   -- the scan of NOW-1d, offline: the manual backup deleted since NOW-2d
   r = script("audit.lua", { "--from", db, "--check", "vanished", "--format", "json" })
   H.eq(r.code, 1, r.stderr)
   v = vanished_by_cluster(r.stdout)
   H.eq(v[HF.A][1].status, "critical", "a manual backup vanished")
   H.eq(v[HF.A][1].backup_id, HF.A .. ":manual-1")
end)

H.test("a cluster whose settings changed is not reported gone by the vanished check", function()
   -- B's retention shrinks from 7 to 3 days at the scan of NOW-1d: its
   -- Cluster object changed, the cluster is still there.
   local HF = require "history_fleet"
   local db = H.tmpname(".db")
   for i, t in ipairs(HF.SCANS) do
      local server = HF.serve(H, t)
      local r = H.run({ H.source_dir .. "/scripts/audit.lua", "--record", db, "--check", "vanished", "--now", HF.at(t),
         "--engine", "postgresql", "--format", "json" }, { env = HF.env(H, server) })
      server.stop()
      H.ok(r.code <= 1, r.stderr)
      local v = vanished_by_cluster(r.stdout)
      H.eq(#(v[HF.B] or {}), 1, "scan " .. i .. ": one vanished finding for B, not a 'cluster is gone' too: "
         .. r.stdout)
      H.eq(v[HF.B][1].status, "ok", "scan " .. i)
      if i == 3 then
         local off = script("audit.lua", { "--from", db, "--check", "vanished", "--format", "json" })
         H.eq(off.stdout, r.stdout, "the same offline")
      end
   end
   local r = H.run({ H.source_dir .. "/scripts/changes.lua", "--db", db, "--format", "json" })
   local kinds = {}
   for _, c in ipairs(cjson.decode(r.stdout).changes) do
      if c.cluster == HF.B then kinds[c.kind] = true end
   end
   H.eq(kinds.retention, true, "changes.lua sees the retention change")
   H.eq(kinds.cluster_vanished, nil, "and no cluster gone")
end)

H.run_all()
