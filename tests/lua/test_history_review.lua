-- What an independent review of the history found wrong, kept fixed:
-- "at once" judged per scan, audits of the past limited by --engine in
-- the vanished check too, --at without --from, changes.lua's default scan
-- for files that several jobs record into, --output over a file another
-- option reads, and a file marked as a history without its tables.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local HF = require "history_fleet"
local cjson = require "cjson"

local FOLDER = "b1gtestfolder"
local DAY = 86400
local T1 = 1795176000 -- 2026-11-20T12:00:00Z
local function at(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end


local function cluster(engine, id)
   return { "cluster", engine, FOLDER, id, "n-" .. id, { id = id, folderId = FOLDER, name = "n-" .. id,
      createdAt = "2026-01-01T00:00:00Z", environment = "PRODUCTION", health = "ALIVE", status = "RUNNING",
      config = { backupRetainPeriodDays = "7", backupWindowStart = { hours = 22 } } } }
end

local function backup(engine, cid, id, created, typ)
   return { "backup", engine, FOLDER, cid, H.backup(id, cid, at(created),
      { folderId = FOLDER, type = typ or "AUTOMATED", status = "DONE", size = "1073741824" }) }
end

-- The fleet on day s (0..3) after T1:
--   pd: three automated backups, one expiring by its 7-day retention each
--       day, none made: the last one leaves the cluster with none at s=3;
--   pw: two automated backups, both deleted at s=2 (a cluster emptied);
--   pa (postgresql) and mk (mysql): a manual backup deleted at s=1;
--   px: one backup expiring at s=1, then the cluster deleted at s=2.
local function fleet(s)
   local now = T1 + s * DAY
   local out = { cluster("postgresql", "pd"), cluster("postgresql", "pw"), cluster("postgresql", "pa"),
      cluster("mysql", "mk") }
   for i = 0, 2 do
      local created = T1 - (6.5 - i) * DAY
      if created + 7 * DAY > now then out[#out + 1] = backup("postgresql", "pd", "pd:" .. i, created) end
   end
   if s < 2 then
      out[#out + 1] = backup("postgresql", "pw", "pw:1", T1 - DAY)
      out[#out + 1] = backup("postgresql", "pw", "pw:2", T1 - 2 * DAY)
   end
   if s < 2 then
      out[#out + 1] = cluster("postgresql", "px")
      out[#out + 1] = backup("postgresql", "px", "px:new", T1 - DAY)
      if s < 1 then out[#out + 1] = backup("postgresql", "px", "px:old", T1 - 6.5 * DAY) end
   end
   out[#out + 1] = backup("postgresql", "pa", "pa:auto", T1 - DAY)
   out[#out + 1] = backup("mysql", "mk", "mk:auto", T1 - DAY)
   if s < 1 then
      out[#out + 1] = backup("postgresql", "pa", "pa:man", T1 - 3 * DAY, "MANUAL")
      out[#out + 1] = backup("mysql", "mk", "mk:man", T1 - 3 * DAY, "MANUAL")
   end
   return H.data_file(out)
end

local function serve(days)
   local args = {}
   for s = 0, days - 1 do
      if s > 0 then args[#args + 1] = "--step" end
      args[#args + 1] = "--data"
      args[#args + 1] = fleet(s)
   end
   return H.start_fake(args)
end

local function script(name, args, server) return HF.script(H, name, args, server) end

local function snapshot(db, server, s, engines)
   local args = { "--db", db, "--folder", FOLDER, "--now", at(T1 + s * DAY) }
   for _, e in ipairs(engines or { "postgresql", "mysql" }) do
      args[#args + 1] = "--engine"
      args[#args + 1] = e
   end
   local r = script("snapshot.lua", args, server)
   H.eq(r.code, 0, r.stderr)
end

local function changes(db, ...)
   local r = script("changes.lua", H.with({ "--db", db, "--format", "json" }, ...))
   H.ok(r.code == 0 or r.code == 1, r.stderr)
   return cjson.decode(r.stdout), r
end

local function vanished(doc, id)
   for _, c in ipairs(doc.changes) do
      if c.kind == "vanished" and c.backup_id == id then return c end
   end
end

H.test("backups expiring one scan after another are not 'at once', whatever the span", function()
   local server = serve(4)
   local db = H.tmpname(".db")
   for s = 0, 3 do
      if s > 0 then H.step(server) end
      snapshot(db, server, s)
   end
   for _, span in ipairs { { "1", "4" }, { "1", "2" }, { "2", "3" }, { "3", "4" } } do
      local doc = changes(db, "--from", span[1], "--to", span[2])
      local what = table.concat(span, "->")
      local first = tonumber(span[1])
      for i = 0, 1 do
         local c = vanished(doc, "pd:" .. i)
         if i + 1 >= first and i + 2 <= tonumber(span[2]) then
            H.ok(c ~= nil, what .. ": pd:" .. i .. " vanished")
            H.eq(c.verdict, "expected", what .. " pd:" .. i)
            H.contains(c.message, "7-day retention", what)
         end
      end
      local last = vanished(doc, "pd:2")
      if span[2] == "4" then
         H.eq(last.verdict, "unexpected", what)
         H.eq(last.message, "the cluster's only backup vanished, leaving it with none", what)
      end
      -- pw lost both its backups in scan 3: at once, in any span holding it
      if first <= 2 and tonumber(span[2]) >= 3 then
         for _, id in ipairs { "pw:1", "pw:2" } do
            local c = vanished(doc, id)
            H.eq(c.verdict, "unexpected", what .. " " .. id)
            H.eq(c.message, "all 2 backups of the cluster vanished at once", what)
         end
      end
   end
   -- one folder: no FOLDER column
   H.not_contains(script("changes.lua", { "--db", db, "--from", "1" }).stdout, "FOLDER")
   -- px: its old backup expired a scan before the cluster was deleted
   local doc = changes(db, "--from", "1", "--to", "4")
   H.eq(vanished(doc, "px:old").verdict, "expected")
   H.contains(vanished(doc, "px:old").message, "7-day retention")
   H.eq(vanished(doc, "px:new").message, "vanished with its cluster")
   -- the vanished check: the emptied clusters are critical
   local r = script("audit.lua", { "--from", db, "--at", at(T1 + 2 * DAY), "--check", "vanished", "--format",
      "json" })
   H.eq(r.code, 1, r.stderr)
   local by = {}
   for _, f in ipairs(cjson.decode(r.stdout).findings) do by[f.cluster] = f end
   H.eq(by.pw.status, "critical", by.pw.message)
   H.eq(by.pd.status, "ok", by.pd.message)
   r = script("audit.lua", { "--from", db, "--check", "vanished", "--format", "json" })
   by = {}
   for _, f in ipairs(cjson.decode(r.stdout).findings) do by[f.cluster] = f end
   H.eq(by.pd.status, "critical", by.pd.message)
   server.stop()
end)

H.test("a manual backup past the retainUntil its policy set vanishes as expected", function()
   local function day(s)
      local out = { cluster("postgresql", "pp") }
      local function manual(id, until_t)
         local b = backup("postgresql", "pp", id, T1 - 10 * DAY, "MANUAL")
         b[#b].retainUntil = until_t and at(until_t) or nil
         out[#out + 1] = b
      end
      if s == 0 then
         manual("pp:policy-done", T1 + DAY / 2) -- its policy's time is up at the next scan
         manual("pp:policy-early", T1 + 30 * DAY) -- deleted long before its policy's time
         manual("pp:no-policy")
      end
      out[#out + 1] = backup("postgresql", "pp", "pp:auto", T1 - DAY)
      return H.data_file(out)
   end
   local server = H.start_fake { "--data", day(0), "--step", "--data", day(1) }
   local db = H.tmpname(".db")
   snapshot(db, server, 0, { "postgresql" })
   H.step(server)
   snapshot(db, server, 1, { "postgresql" })
   local doc = changes(db)
   local c = vanished(doc, "pp:policy-done")
   H.eq(c.verdict, "expected", c.message)
   H.eq(c.message, "expired by its retainUntil " .. at(T1 + DAY / 2))
   c = vanished(doc, "pp:policy-early")
   H.eq(c.verdict, "unexpected", c.message)
   H.eq(c.message, "a manual backup vanished 29d 0h before its retainUntil " .. at(T1 + 30 * DAY))
   c = vanished(doc, "pp:no-policy")
   H.eq(c.verdict, "unexpected", c.message)
   H.eq(c.message, "a manual backup vanished")
   server.stop()
end)

H.test("audit --from --engine limits the vanished check as the live audit does", function()
   local server = serve(2)
   local db, live_db = H.tmpname(".db"), H.tmpname(".db")
   local base = { "--folder", FOLDER, "--engine", "postgresql", "--engine", "mysql" }
   local r = script("audit.lua", H.with(H.with({ "--record", db, "--now", at(T1) }, table.unpack(base)), "--all"),
      server)
   H.ok(r.code <= 1, r.stderr)
   H.step(server)
   H.write_file(live_db, H.read_file(db))
   local live = script("audit.lua", { "--db", live_db, "--folder", FOLDER, "--engine", "mysql", "--now",
      at(T1 + DAY), "--all" }, server)
   r = script("audit.lua", H.with({ "--record", db, "--now", at(T1 + DAY) }, table.unpack(base)), server)
   H.ok(r.code <= 1, r.stderr)
   local past = script("audit.lua", { "--from", db, "--engine", "mysql", "--all" })
   H.eq(past.stdout, live.stdout)
   H.eq(past.code, live.code)
   H.contains(past.stdout, "mk:man")
   H.not_contains(past.stdout, "postgresql")
   server.stop()
end)

H.test("--at without --from is a usage error, and records nothing", function()
   local server = serve(1)
   local db = H.tmpname(".db")
   local r = script("audit.lua", { "--record", db, "--folder", FOLDER, "--at", "2000-01-01T00:00:00Z" }, server)
   H.eq(r.code, 2)
   H.contains(r.stderr, "--at picks a scan of the history file --from names")
   H.eq(H.read_file(db), nil, "no history file made")
   server.stop()
end)

H.test("history.lua --engine names a known engine", function()
   local r = script("history.lua", { "--db", H.tmpname(".db"), "--engine", "bogus", "cluster", "x" })
   H.eq(r.code, 2)
   H.contains(r.stderr, "history.lua: option '--engine': expected one of mongodb, ")
   H.contains(r.stderr, "got 'bogus'")
end)

H.test("changes.lua by default compares with the last scan of the same scope", function()
   local server = serve(2)
   local db = H.tmpname(".db")
   snapshot(db, server, 0)
   H.step(server)
   snapshot(db, server, 1, { "mysql" }) -- another job: mysql alone
   snapshot(db, server, 1.04)
   local doc, r = changes(db)
   H.eq(r.code, 1, r.stderr)
   H.eq(doc.from.id, 1)
   H.eq(doc.to.id, 3)
   H.eq(vanished(doc, "pa:man").verdict, "unexpected")
   -- the mysql job's own run compares with the last scan listing mysql
   doc = changes(db, "--to", "2")
   H.eq(doc.from.id, 1)
   H.eq(vanished(doc, "mk:man").verdict, "unexpected")
   -- scans of another folder in the same file do not stand in the way
   local r2 = script("snapshot.lua", { "--db", db, "--folder", "b1gotherfolder", "--engine", "mysql",
      "--now", at(T1 + 1.05 * DAY) }, server)
   H.eq(r2.code, 0, r2.stderr)
   doc, r = changes(db, "--to", "3")
   H.eq(doc.from.id, 1, r.stderr)
   server.stop()
end)

H.test("changes over several folders name each change's folder", function()
   local gen = { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=3,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfb,clusters=1,backups=3,prefix=bmysql" }
   local args = {}
   for _, a in ipairs(gen) do args[#args + 1] = a end
   args[#args + 1] = "--step"
   for _, a in ipairs(gen) do args[#args + 1] = a end
   args[#args + 1] = "--without"
   args[#args + 1] = "bmysql-0000"
   local server = H.start_fake(args)
   local db = H.tmpname(".db")
   local scope = { "--db", db, "--folder", "b1gfa", "--folder", "b1gfb", "--engine", "mysql" }
   H.eq(script("snapshot.lua", scope, server).code, 0)
   H.step(server)
   H.eq(script("snapshot.lua", scope, server).code, 0)
   local doc = changes(db)
   H.deep_eq(doc.to.folders, { "b1gfa", "b1gfb" })
   local gone
   for _, c in ipairs(doc.changes) do if c.kind == "cluster_vanished" then gone = c end end
   H.eq(gone.cluster, "bmysql-0000")
   H.eq(gone.folder, "b1gfb")
   local r = script("changes.lua", { "--db", db })
   H.eq(r.code, 1, r.stderr)
   H.ok(r.stdout:match("VERDICT%s+KIND%s+ENGINE%s+FOLDER%s+CLUSTER"), r.stdout)
   H.ok(r.stdout:match("unexpected%s+cluster_vanished%s+mysql%s+b1gfb%s"), r.stdout)
   r = script("changes.lua", { "--db", db, "--format", "markdown" })
   H.contains(r.stdout, "| VERDICT | KIND | ENGINE | FOLDER | CLUSTER |")
   server.stop()
end)

H.test("--output naming a file another option reads is refused before anything runs", function()
   local server = serve(1)
   local db = H.tmpname(".db")
   snapshot(db, server, 0)
   local before = H.read_file(db)
   local link = H.tmpname(".link")
   os.execute("ln -s " .. H.sh_quote(db) .. " " .. H.sh_quote(link))
   local dir, base = db:match("^(.*)/([^/]*)$")
   for _, case in ipairs {
      { "changes.lua", { "--db", db, "--output", db }, "--db" },
      { "changes.lua", { "--db", db, "--output", link }, "--db" },
      { "history.lua", { "--db", db, "--output", dir .. "/./" .. base, "cluster", "pd" }, "--db" },
      { "audit.lua", { "--from", db, "--output", db }, "--from" },
      { "inventory.lua", { "--from", db, "--output", link }, "--from" },
      { "audit.lua", { "--record", db, "--folder", FOLDER, "--output", db }, "--record" },
   } do
      local r = script(case[1], case[2], server)
      local what = case[1] .. " " .. table.concat(case[2], " ")
      H.eq(r.code, 2, what)
      H.contains(r.stderr, "option '--output': ", what)
      H.contains(r.stderr, "is the file " .. case[3] .. " names; the report would replace it", what)
      H.ok(H.read_file(db) == before, what .. ": the history is untouched")
   end
   local policy = H.write_file(H.tmpname(".lua"), "return {}\n")
   local r0 = script("audit.lua", { "--policy", policy, "--output", policy }, server)
   H.eq(r0.code, 2, r0.stderr)
   H.contains(r0.stderr, "is the file --policy names")
   H.eq(H.read_file(policy), "return {}\n")
   -- a file that does not exist yet, named twice
   local new = H.tmpname(".db")
   local r = script("audit.lua", { "--record", new, "--folder", FOLDER, "--output", new }, server)
   H.eq(r.code, 2, r.stderr)
   H.eq(H.read_file(new), nil)
   -- a different file is fine
   local out = H.tmpname(".txt")
   r = script("changes.lua", { "--db", db, "--output", out })
   H.eq(r.code, 0, r.stderr)
   H.contains(H.read_file(out), "0 changes")
   server.stop()
end)

H.test("a file marked as a history without its tables is refused and left as it is", function()
   local db = H.tmpname(".db")
   H.sqlite3(db, "CREATE TABLE x(y); PRAGMA application_id = 1835295340; PRAGMA user_version = 4;")
   local before = H.read_file(db)
   local server = serve(1)
   for _, c in ipairs {
      { "changes.lua", { "--db", db } },
      { "history.lua", { "--db", db, "backup", "x" } },
      { "snapshot.lua", { "--db", db, "--folder", FOLDER } },
      { "audit.lua", { "--from", db } },
   } do
      local r = script(c[1], c[2], server)
      H.eq(r.code, 2, c[1])
      H.eq(r.stderr, c[1] .. ": " .. db .. " is not a whole mdblua history (missing tables: scans, listings, "
         .. "clusters, cluster_states, backup_states)\n", c[1])
      H.ok(H.read_file(db) == before, c[1] .. ": the file is untouched")
      H.eq(H.read_file(db .. "-wal"), nil, c[1])
   end
   server.stop()
end)

H.run_all()
