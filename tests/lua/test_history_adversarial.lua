-- What an adversarial user's review of the history found wrong, kept
-- fixed: scans of different (overlapping) folder sets compared on the
-- folders both listed, a scan taken at a fractional --now found again by
-- the time every report prints for it, a cluster id known under two
-- engines not silently resolved to one of them.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local HF = require "history_fleet"
local cjson = require "cjson"

local T1 = 1795176000 -- 2026-11-20T12:00:00Z
local DAY = 86400
local function at(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end


local function cluster(engine, folder, id)
   return { "cluster", engine, folder, id, "n-" .. id, { id = id, folderId = folder, name = "n-" .. id,
      createdAt = "2026-01-01T00:00:00Z", environment = "PRODUCTION", health = "ALIVE", status = "RUNNING",
      config = { backupRetainPeriodDays = "7", backupWindowStart = { hours = 22 } } } }
end

local function backup(engine, folder, cid, id, created, typ)
   return { "backup", engine, folder, cid, H.backup(id, cid, at(created),
      { folderId = folder, type = typ or "AUTOMATED", status = "DONE", size = "1073741824" }) }
end

-- Folder fa: pg1 with an automated and a manual backup (the manual one
-- deleted on day 1); folder fb: pg2 with one backup, unchanged.
local function fleet(day)
   local out = { cluster("postgresql", "fa", "pg1"), cluster("postgresql", "fb", "pg2"),
      backup("postgresql", "fa", "pg1", "pg1:auto", T1 - DAY),
      backup("postgresql", "fb", "pg2", "pg2:auto", T1 - DAY) }
   if day == 0 then out[#out + 1] = backup("postgresql", "fa", "pg1", "pg1:man", T1 - 3 * DAY, "MANUAL") end
   return H.data_file(out)
end

-- A fake serving, in folder fa, a postgresql cluster `pg` and a mysql
-- cluster `my`, each with one automated backup (`ID:auto`; "dup:pg" and
-- "dup:my" when both are "dup").
local function two_engines(pg, my)
   local bp, bm = pg .. ":auto", my .. ":auto"
   if pg == my then bp, bm = pg .. ":pg", my .. ":my" end
   return H.start_fake { "--data", H.data_file { cluster("postgresql", "fa", pg), cluster("mysql", "fa", my),
      backup("postgresql", "fa", pg, bp, T1 - DAY), backup("mysql", "fa", my, bm, T1 - DAY) } }
end

local function script(name, args, server) return HF.script(H, name, args, server) end

local function snapshot(db, server, now, folders)
   local args = { "--db", db, "--engine", "postgresql", "--now", now }
   for _, f in ipairs(folders) do
      args[#args + 1] = "--folder"
      args[#args + 1] = f
   end
   local r = script("snapshot.lua", args, server)
   H.eq(r.code, 0, r.stderr)
end

local function of(doc, kind, id)
   local out = {}
   for _, c in ipairs(doc.changes) do
      if c.kind == kind and (id == nil or c.backup_id == id or c.cluster == id) then out[#out + 1] = c end
   end
   return out
end

H.test("a scan of one folder, then of that folder and another: compared on the folder both listed", function()
   local server = H.start_fake { "--data", fleet(0), "--step", "--data", fleet(1) }
   local db = H.tmpname(".db")
   snapshot(db, server, at(T1), { "fa" })
   H.step(server)
   snapshot(db, server, at(T1 + DAY), { "fa", "fb" })
   local r = script("changes.lua", { "--db", db, "--from", "1", "--to", "2", "--format", "json" })
   -- the manual backup of fa vanished: unexpected, exit 1, not a refusal
   H.eq(r.code, 1, r.stderr)
   local doc = cjson.decode(r.stdout)
   H.eq(#of(doc, "vanished", "pg1:man"), 1, r.stdout)
   H.eq(of(doc, "vanished", "pg1:man")[1].verdict, "unexpected")
   -- fb was outside scan 1: its cluster did not "appear", it was not looked at
   H.eq(#of(doc, "cluster_appeared"), 0, r.stdout)
   H.eq(#of(doc, "appeared"), 0, r.stdout)
   -- the default comparison (the last scan of another scope) too, and the
   -- note names what was left out
   r = script("changes.lua", { "--db", db })
   H.eq(r.code, 1, r.stderr .. r.stdout)
   H.contains(r.stdout, "pg1:man")
   H.not_contains(r.stdout, "cluster_appeared")
   H.contains(r.stderr, "fb")
   -- and the other way round: two folders, then one of them
   local db2 = H.tmpname(".db")
   local server2 = H.start_fake { "--data", fleet(0), "--step", "--data", fleet(1) }
   snapshot(db2, server2, at(T1), { "fa", "fb" })
   H.step(server2)
   snapshot(db2, server2, at(T1 + DAY), { "fa" })
   r = script("changes.lua", { "--db", db2, "--from", "1", "--to", "2", "--format", "json" })
   H.eq(r.code, 1, r.stderr)
   doc = cjson.decode(r.stdout)
   H.eq(#of(doc, "vanished", "pg1:man"), 1, r.stdout)
   H.eq(#of(doc, "cluster_vanished"), 0, r.stdout)
end)

H.test("scans of folders with none in common: one clear line naming them, exit 2", function()
   local server = H.start_fake { "--data", fleet(0) }
   local db = H.tmpname(".db")
   snapshot(db, server, at(T1), { "fa" })
   snapshot(db, server, at(T1 + 60), { "fb" })
   local r = script("changes.lua", { "--db", db, "--from", "1", "--to", "2" })
   H.eq(r.code, 2, r.stdout)
   H.contains(r.stderr, "fa")
   H.contains(r.stderr, "fb")
   H.not_contains(r.stderr, "nil")
   H.not_contains(r.stderr, "traceback")
end)

H.test("scans of two different clouds are refused, not compared as '0 changes'", function()
   local server = H.start_fake { "--data", fleet(0), "--cloud", "cla=fa,fb", "--cloud", "clb=fc" }
   local db = H.tmpname(".db")
   for i, c in ipairs { "cla", "clb" } do
      local r = H.run({ H.source_dir .. "/scripts/snapshot.lua", "--db", db, "--cloud", c, "--engine", "postgresql",
         "--now", at(T1 + i * 60) }, { env = { YC_MDB_ENDPOINT = server.url, YC_RESOURCE_MANAGER_ENDPOINT = server.url,
         YC_IAM_TOKEN = H.token, YC_FOLDER_ID = false, NO_COLOR = "1" } })
      H.eq(r.code, 0, r.stderr)
   end
   local r = script("changes.lua", { "--db", db, "--from", "1", "--to", "2" })
   H.eq(r.code, 2, r.stdout)
   H.contains(r.stderr, "cla")
   H.contains(r.stderr, "clb")
end)

H.test("scans of different engines: none in common is refused; some in common says what was left out", function()
   local server = two_engines("pg1", "my1")
   local db = H.tmpname(".db")
   for i, engines in ipairs { { "mysql" }, { "postgresql" }, { "postgresql", "mysql" } } do
      local args = { "--db", db, "--folder", "fa", "--now", at(T1 + i * 60) }
      for _, e in ipairs(engines) do args[#args + 1] = "--engine"; args[#args + 1] = e end
      local r = script("snapshot.lua", args, server)
      H.eq(r.code, 0, r.stderr)
   end
   local r = script("changes.lua", { "--db", db, "--from", "1", "--to", "2" })
   H.eq(r.code, 2, r.stdout)
   H.contains(r.stderr, "mysql")
   H.contains(r.stderr, "postgresql")
   -- the default for scan 3 is scan 2, of postgresql only: mysql is not
   -- compared, and the run says so
   r = script("changes.lua", { "--db", db })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "scan 2")
   H.contains(r.stderr, "mysql")
end)

H.test("the newest size falling to a sliver is not printed as -100%", function()
   local function b(id, created, size, typ)
      return { "backup", "postgresql", "fa", "pg1", H.backup(id, "pg1", at(created),
         { folderId = "fa", type = typ or "AUTOMATED", status = "DONE", size = size }) }
   end
   local one = H.data_file { cluster("postgresql", "fa", "pg1"), b("pg1:a", T1 - DAY, "2000") }
   local two = H.data_file { cluster("postgresql", "fa", "pg1"), b("pg1:a", T1 - DAY, "2000"),
      b("pg1:b", T1 - 60, "1") }
   local server = H.start_fake { "--data", one, "--step", "--data", two }
   local db = H.tmpname(".db")
   snapshot(db, server, at(T1), { "fa" })
   H.step(server)
   snapshot(db, server, at(T1 + 60), { "fa" })
   local r = script("changes.lua", { "--db", db, "--format", "json" })
   H.eq(r.code, 1, r.stderr)
   local size = of(cjson.decode(r.stdout), "size")[1]
   H.ok(size ~= nil, r.stdout)
   H.not_contains(size.message, "-100%")
   H.contains(size.message, "-99.95%")
end)

H.test("a manual backup made and deleted between --from and --to is reported vanished", function()
   -- hourly scans, --since 24h: a manual backup made after the first scan
   -- compared and deleted before the last is gone all the same
   local base = { cluster("postgresql", "fa", "pg1"), backup("postgresql", "fa", "pg1", "pg1:auto", T1 - DAY) }
   local with = { cluster("postgresql", "fa", "pg1"), backup("postgresql", "fa", "pg1", "pg1:auto", T1 - DAY),
      backup("postgresql", "fa", "pg1", "pg1:tmp", T1 + 1800, "MANUAL") }
   local server = H.start_fake { "--data", H.data_file(base), "--step", "--data", H.data_file(with), "--step",
      "--data", H.data_file(base) }
   local db = H.tmpname(".db")
   for h = 0, 2 do
      if h > 0 then H.step(server) end
      snapshot(db, server, at(T1 + h * 3600), { "fa" })
   end
   local r = script("changes.lua", { "--db", db, "--since", "2h", "--format", "json" })
   H.eq(r.code, 1, r.stderr .. r.stdout)
   local doc = cjson.decode(r.stdout)
   H.eq(doc.from.id, 1)
   local v = of(doc, "vanished", "pg1:tmp")
   H.eq(#v, 1, r.stdout)
   H.eq(v[1].verdict, "unexpected")
   H.eq(v[1].scan, 3)
   -- the step by step comparisons agree
   r = script("changes.lua", { "--db", db, "--from", "2", "--to", "3", "--format", "json" })
   H.eq(r.code, 1, r.stderr)
   H.eq(#of(cjson.decode(r.stdout), "vanished", "pg1:tmp"), 1)
end)

H.test("a backup id that comes back: it appeared in the scan it came back in, not before --from", function()
   local server = H.start_fake { "--data", fleet(0), "--step", "--data", fleet(1), "--step", "--data", fleet(0) }
   local db = H.tmpname(".db")
   for d = 0, 2 do
      if d > 0 then H.step(server) end
      snapshot(db, server, at(T1 + d * DAY), { "fa" })
   end
   local r = script("changes.lua", { "--db", db, "--from", "2", "--to", "3", "--format", "json" })
   H.eq(r.code, 0, r.stderr)
   local ap = of(cjson.decode(r.stdout), "appeared", "pg1:man")
   H.eq(#ap, 1, r.stdout)
   H.eq(ap[1].scan, 3)
   H.eq(ap[1].time, at(T1 + 2 * DAY))
end)

H.test("a cluster made and deleted between --from and --to is reported gone, with its backups", function()
   local base = { cluster("postgresql", "fa", "pg1"), backup("postgresql", "fa", "pg1", "pg1:auto", T1 - DAY) }
   local with = { cluster("postgresql", "fa", "pg1"), backup("postgresql", "fa", "pg1", "pg1:auto", T1 - DAY),
      cluster("postgresql", "fa", "pgx"), backup("postgresql", "fa", "pgx", "pgx:auto", T1 + 1800) }
   local server = H.start_fake { "--data", H.data_file(base), "--step", "--data", H.data_file(with), "--step",
      "--data", H.data_file(base) }
   local db = H.tmpname(".db")
   for h = 0, 2 do
      if h > 0 then H.step(server) end
      snapshot(db, server, at(T1 + h * 3600), { "fa" })
   end
   local r = script("changes.lua", { "--db", db, "--from", "1", "--to", "3", "--format", "json" })
   H.eq(r.code, 1, r.stderr .. r.stdout)
   local doc = cjson.decode(r.stdout)
   local gone = of(doc, "cluster_vanished", "pgx")
   H.eq(#gone, 1, r.stdout)
   H.eq(gone[1].verdict, "unexpected")
   H.eq(gone[1].scan, 3)
   local v = of(doc, "vanished", "pgx:auto")
   H.eq(#v, 1, r.stdout)
   H.contains(v[1].message, "with its cluster")
end)

H.test("a scan recorded at a fractional --now is found by the time the reports print for it", function()
   local server = H.start_fake { "--data", fleet(0) }
   local db = H.tmpname(".db")
   snapshot(db, server, "2026-11-20T12:00:00.7Z", { "fa" })
   local r = script("changes.lua", { "--db", db, "--format", "json" })
   H.eq(r.code, 0, r.stderr)
   local shown = cjson.decode(r.stdout).to.time
   H.eq(shown, "2026-11-20T12:00:00Z")
   r = script("changes.lua", { "--db", db, "--to", shown, "--format", "json" })
   H.eq(r.code, 0, r.stderr)
   H.eq(cjson.decode(r.stdout).to.id, 1)
   r = script("audit.lua", { "--from", db, "--at", shown, "--format", "json" })
   H.ok(r.code == 0 or r.code == 1, r.stderr)
   -- and a time before that second still finds nothing
   r = script("changes.lua", { "--db", db, "--to", "2026-11-20T11:59:59Z" })
   H.eq(r.code, 2, r.stdout)
   H.contains(r.stderr, "no scan at or before")
end)

H.test("history.lua cluster ID known under two engines asks for --engine instead of picking one", function()
   local server = two_engines("dup", "dup")
   local db = H.tmpname(".db")
   local r = script("snapshot.lua", { "--db", db, "--folder", "fa", "--engine", "postgresql", "--engine", "mysql",
      "--now", at(T1) }, server)
   H.eq(r.code, 0, r.stderr)
   r = script("history.lua", { "--db", db, "cluster", "dup" })
   H.eq(r.code, 2, r.stdout)
   H.contains(r.stderr, "mysql")
   H.contains(r.stderr, "postgresql")
   H.contains(r.stderr, "--engine")
   r = script("history.lua", { "--db", db, "cluster", "dup", "--engine", "mysql", "--format", "json" })
   H.eq(r.code, 0, r.stderr)
   H.eq(cjson.decode(r.stdout).engine, "mysql")
end)

H.test("a scan compared with itself says so on stderr: the file's only scan, or --from = --to", function()
   local server = H.start_fake { "--data", fleet(0) }
   local db = H.tmpname(".db")
   snapshot(db, server, at(T1), { "fa" })
   local r = script("changes.lua", { "--db", db })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stderr, "changes.lua: scan 1 compared with itself: " .. db
      .. " holds no earlier scan of its scope (record another to see what changed)\n")
   r = script("changes.lua", { "--db", db, "--from", "1", "--to", "1", "--format", "json" })
   H.eq(r.code, 0, r.stderr)
   H.eq(#cjson.decode(r.stdout).changes, 0)
   H.eq(r.stderr, "changes.lua: scan 1 compared with itself: --from and --to name the same scan\n")
   -- two scans: the default comparison has something to compare, no note
   snapshot(db, server, at(T1 + 60), { "fa" })
   r = script("changes.lua", { "--db", db })
   H.eq({ r.code, r.stderr }, { 0, "" })
end)

H.run_all()
