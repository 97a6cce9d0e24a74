-- History over several folders and clouds, and --db that never writes:
-- through the real mdblua against the fake API whose demo fleet loses a
-- cluster at its second step.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"
local mdb_engines = require("mdb").engines

local NOW = "2026-11-23T18:38:38Z"
local FOLDER = "b1gdemofolder0000001"
local GONE = "c9qmetricsstaging008"

local function env(server)
   return { YC_MDB_ENDPOINT = server.url, YC_IAM_TOKEN = H.token, YC_FOLDER_ID = FOLDER, NO_COLOR = "1",
      YC_RESOURCE_MANAGER_ENDPOINT = server.url }
end

local function script(name, args, server)
   local a = { H.source_dir .. "/scripts/" .. name }
   for _, v in ipairs(args) do a[#a + 1] = v end
   return H.run(a, server and { env = env(server) } or { env = { YC_MDB_ENDPOINT = "http://127.0.0.1:9",
      YC_IAM_TOKEN = "none", YC_FOLDER_ID = false } })
end

local step = H.step

local sqlite3 = H.sqlite3

local function vanished_of(doc, cluster)
   for _, f in ipairs(doc.findings) do
      if f.check == "vanished" and f.cluster == cluster then return f end
   end
end

local function changes_of(db, kind, cluster)
   local r = script("changes.lua", { "--db", db, "--format", "json" })
   local n = 0
   for _, c in ipairs(cjson.decode(r.stdout).changes) do
      if c.kind == kind and c.cluster == cluster then n = n + 1 end
   end
   return n, r
end

H.test("a cluster deleted between scans of several folders or a cloud is seen gone", function()
   local scopes = {
      { "--folder", FOLDER, "--folder", "b1gother" },
      { "--cloud", "cloud1" },
      { "--all-clouds" },
   }
   for _, scope in ipairs(scopes) do
      local what = table.concat(scope, " ")
      local server = H.start_fake({ "--demo", "--now", NOW, "--step", "--demo", "--without", GONE,
         "--cloud", "cloud1=" .. FOLDER .. ",b1gother" })
      local db = H.tmpname(".db")
      local args = { "--record", db, "--now", NOW, "--format", "json", "--check", "vanished" }
      for _, v in ipairs(scope) do args[#args + 1] = v end
      local r = script("audit.lua", args, server)
      H.eq(r.code, 0, what .. ": " .. r.stderr)
      step(server)
      r = script("audit.lua", args, server)
      H.eq(r.code, 1, what .. ": " .. r.stderr)
      local f = vanished_of(cjson.decode(r.stdout), GONE)
      H.ok(f ~= nil, what .. ": a vanished finding for the deleted cluster")
      H.eq(f.status, "critical", what)
      H.contains(f.message, "the cluster is gone", what)
      H.eq(f.folder, FOLDER, what)
      -- every vanished finding names its folder (a multi-folder report's column)
      for _, g in ipairs(cjson.decode(r.stdout).findings) do H.eq(g.folder, FOLDER, what .. " " .. g.cluster) end
      local n, c = changes_of(db, "cluster_vanished", GONE)
      H.eq(n, 1, what .. ": changes.lua " .. c.stdout)
      H.eq(c.code, 1, what)
      server.stop()
   end
end)

H.test("a folder whose last clusters of an engine were deleted is seen emptied, in every scope", function()
   -- No entry names such a folder any more: only the scan's word that its
   -- Cluster.List completed tells it from a folder never listed.
   local scopes = {
      { "--folder", FOLDER, "--folder", "b1gother" },
      { "--cloud", "cloud1" },
      { "--all-clouds" },
   }
   for _, scope in ipairs(scopes) do
      for _, name in ipairs({ "audit.lua", "inventory.lua" }) do
         local what = name .. " " .. table.concat(scope, " ")
         local server = H.start_fake({ "--demo", "--now", NOW, "--step", "--demo", "--without", GONE,
            "--without", "c9qanalytics00000007", "--cloud", "cloud1=" .. FOLDER .. ",b1gother" })
         local db = H.tmpname(".db")
         local args = H.with({ "--record", db, "--now", NOW, "--engine", "clickhouse", "--format", "json" },
            table.unpack(scope))
         local first = script(name, args, server)
         H.ok(first.code <= 1, what .. ": " .. first.stderr)
         step(server)
         local r = script(name, args, server)
         H.ok(r.code <= 2, what .. ": " .. r.stderr)
         H.eq(changes_of(db, "cluster_vanished", GONE), 1, what)
         H.eq(changes_of(db, "cluster_vanished", "c9qanalytics00000007"), 1, what)
         server.stop()
      end
   end
end)

H.test("a folder whose Cluster.List failed, or that a failed Folder.List hid, loses no cluster", function()
   local cases = {
      { scope = { "--folder", FOLDER, "--folder", "b1gother" },
        fault = "path=clusters?folderId=" .. FOLDER .. ";status=403;times=0" },
      { scope = { "--all-clouds" }, fault = "path=/resource-manager/v1/folders?cloudId=cloud1;status=403;times=0" },
   }
   for _, case in ipairs(cases) do
      local what = table.concat(case.scope, " ")
      local db = H.tmpname(".db")
      local args = { "--record", db, "--now", NOW, "--format", "json", "--engine", "postgresql" }
      for _, v in ipairs(case.scope) do args[#args + 1] = v end
      local server = H.start_fake({ "--demo", "--now", NOW, "--cloud", "cloud1=" .. FOLDER .. ",b1gother",
         "--cloud", "cloud2=b1gcloudtwo" })
      H.eq(script("audit.lua", args, server).code, 1, what)
      server.stop()
      server = H.start_fake({ "--demo", "--now", NOW, "--cloud", "cloud1=" .. FOLDER .. ",b1gother",
         "--cloud", "cloud2=b1gcloudtwo", "--fault", case.fault })
      local r = script("audit.lua", args, server)
      H.eq(r.code, 2, what .. ": " .. r.stderr)
      server.stop()
      H.eq(sqlite3(db, "SELECT count(*) FROM cluster_states WHERE until_scan IS NOT NULL"), "0", what)
      local n = changes_of(db, "cluster_vanished", "c9qordersprod0000001")
      H.eq(n, 0, what)
   end
end)

H.test("vanished findings name their folder in a multi-folder csv report", function()
   local server = H.start_fake({ "--demo", "--now", NOW, "--step", "--demo", "--without", GONE })
   local db = H.tmpname(".db")
   local args = { "--record", db, "--now", NOW, "--format", "csv", "--check", "vanished", "--folder", FOLDER,
      "--folder", "b1gother" }
   H.eq(script("audit.lua", args, server).code, 0)
   step(server)
   local r = script("audit.lua", args, server)
   H.eq(r.code, 1, r.stderr)
   local lines = {}
   for l in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = l end
   H.eq(#lines, 11, r.stdout)
   H.contains(lines[1], "folder")
   for i = 2, #lines do H.contains(lines[i], FOLDER) end
end)

-- A copy of `db` at schema version `v` (1 or 2): made by mdb.history's
-- own migrations up to v, then filled with the recorded rows, version 1's
-- columns only.
local function old_copy(db, path, v)
   local h = assert(require("mdb.history").open(path, { write = true }))
   h:migrate(1)
   h:close()
   H.eq(sqlite3(path, string.format([[ATTACH %s AS cur;
      INSERT INTO scans SELECT id, time, time_text, folder, engines, tool FROM cur.scans;
      INSERT INTO listings SELECT scan, pos, engine, cluster_id, status, items, error_kind, error FROM cur.listings;
      INSERT INTO clusters SELECT id, engine, cluster_id, folder FROM cur.clusters;
      INSERT INTO cluster_states SELECT cluster, from_scan, last_scan, until_scan, name, retention_days,
        backup_window, digest, data FROM cur.cluster_states;
      INSERT INTO backup_states SELECT id, cluster, backup_id, from_scan, last_scan, until_scan, created, type,
        status, size, digest, data FROM cur.backup_states;
      PRAGMA user_version]], "'" .. db:gsub("'", "''") .. "'")), "1")
   if v > 1 then
      h = assert(require("mdb.history").open(path, { write = true }))
      h:migrate(v)
      h:close()
   end
   H.eq(sqlite3(path, "PRAGMA user_version"), tostring(v))
end

-- A script run against `server` by a user who cannot write read-only files.
local function as_reader(name, args, server)
   return H.run(H.with({ H.source_dir .. "/scripts/" .. name }, table.unpack(args)), { reader = true, env = env(server) })
end

H.test("--db never writes the file: older schemas, current ones, read-only ones", function()
   local server = H.start_fake({ "--demo", "--now", NOW, "--step", "--demo", "--without", GONE })
   local dir = H.tmpname(".dir")
   os.execute("mkdir -p " .. H.sh_quote(dir))
   os.execute("chmod 755 " .. H.sh_quote(dir))
   local db = dir .. "/current.db"
   H.eq(script("snapshot.lua", { "--db", db, "--now", NOW }, server).code, 0)
   step(server)
   local files = { current = db, v1 = dir .. "/v1.db", v2 = dir .. "/v2.db" }
   old_copy(db, files.v1, 1)
   old_copy(db, files.v2, 2)
   local asks = {
      { "audit.lua", { "--now", NOW, "--format", "json", "--check", "vanished" } },
      { "inventory.lua", { "--now", NOW, "--format", "html" } },
   }
   local function ask(run, a, path)
      local args = { "--db", path }
      for _, v in ipairs(a[2]) do args[#args + 1] = v end
      return run(a[1], args, server)
   end
   -- (the vanished findings follow the order the scan's entries arrived in)
   local function normal(a, out)
      if a[1] ~= "audit.lua" then return out end
      local doc = cjson.decode(out)
      table.sort(doc.findings, function(x, y) return x.engine .. x.cluster < y.engine .. y.cluster end)
      return doc
   end
   local want = {}
   for i, a in ipairs(asks) do
      want[i] = ask(script, a, db)
      H.ok(want[i].code <= 1 and #want[i].stdout > 0, a[1] .. ": " .. want[i].stderr)
   end
   H.contains(want[1].stdout, "the cluster is gone")
   local bytes, version = {}, {}
   for name, path in pairs(files) do
      bytes[name], version[name] = H.read_file(path), sqlite3(path, "PRAGMA user_version")
   end
   local function same(name, what)
      H.eq(H.read_file(files[name]) == bytes[name], true, what .. ": the file's bytes are unchanged")
      H.eq(sqlite3(files[name], "PRAGMA user_version"), version[name], what)
      H.eq(sqlite3(files[name], "SELECT count(*) FROM scans"), "1", what)
   end
   for _, mode in ipairs({ "writable", "read-only" }) do
      if mode == "read-only" then
         for _, path in pairs(files) do os.execute("chmod 444 " .. H.sh_quote(path)) end
         os.execute("chmod 555 " .. H.sh_quote(dir))
      end
      for name, path in pairs(files) do
         for i, a in ipairs(asks) do
            local what = mode .. " " .. name .. ", " .. a[1]
            local r = ask(mode == "writable" and script or as_reader, a, path)
            H.eq(r.code, want[i].code, what .. ": " .. r.stderr)
            H.eq(normal(a, r.stdout), normal(a, want[i].stdout), what)
            same(name, what)
         end
      end
   end
   os.execute("chmod 755 " .. H.sh_quote(dir))
   for _, path in pairs(files) do os.execute("chmod 644 " .. H.sh_quote(path)) end
end)

H.test("a recording refused after opening an older file leaves it byte for byte; a valid one migrates it", function()
   local history = require "mdb.history"
   local server = H.start_fake({ "--demo", "--now", NOW })
   local db = H.tmpname(".db")
   H.eq(script("snapshot.lua", { "--db", db, "--now", NOW }, server).code, 0)
   local earlier, later = "2026-11-23T17:38:38Z", "2026-11-23T19:38:38Z"
   for v = 1, history.SCHEMA_VERSION - 1 do
      local old = H.tmpname(".db")
      old_copy(db, old, v)
      local bytes = H.read_file(old)
      local function same(what)
         H.ok(H.read_file(old) == bytes, string.format("version %d, %s: the file's bytes are unchanged", v, what))
         H.eq(sqlite3(old, "PRAGMA user_version"), tostring(v), what)
         H.ok(not H.exists(old .. "-wal") and not H.exists(old .. "-shm"), what .. ": nothing left beside it")
      end
      for _, run in ipairs { { "snapshot.lua", "--db" }, { "audit.lua", "--record" }, { "inventory.lua", "--record" } } do
         local r = script(run[1], { run[2], old, "--now", earlier }, server)
         H.eq(r.code, 2, run[1] .. ": " .. r.stderr)
         H.contains(r.stderr, "cannot record a scan taken at " .. earlier)
         H.contains(r.stderr, "nothing was recorded")
         same(run[1] .. " at an earlier time")
      end
      -- refused in Lua: for its order, and for a cluster listed twice
      local h = assert(history.open(old, { write = true }))
      H.eq(pcall(h.record, h, {}, { time = 1000, engines = { "mysql" } }), false)
      local twice = { engine = "mysql", id = "c1", cluster = { id = "c1" }, backups = {} }
      local ok, err = pcall(h.record, h, { twice, twice }, { time = 2 ^ 40, engines = { "mysql" } })
      H.eq({ ok, err }, { false, "mysql cluster c1 is twice in one scan" })
      h:close()
      same("h:record refused")
      local r = script("snapshot.lua", { "--db", old, "--now", later }, server)
      H.eq(r.code, 0, r.stderr)
      H.eq(sqlite3(old, "PRAGMA user_version; SELECT count(*) FROM scans; PRAGMA integrity_check"),
         history.SCHEMA_VERSION .. "\n2\nok", "version " .. v .. ": migrated and recorded")
   end
end)

H.test("audit and inventory --from a cloud or multi-folder recording equal the live run", function()
   local scopes = {
      { "--all-clouds" },
      { "--cloud", "cloud2" },
      { "--folder", FOLDER, "--folder", "b1gother" },
   }
   for _, scope in ipairs(scopes) do
      local server = H.start_fake({ "--demo", "--now", NOW, "--cloud", "cloud1=" .. FOLDER .. ",b1gother",
         "--cloud", "cloud2=b1gbadfolder", "--fault", "path=/resource-manager/v1/folders?cloudId=cloud2;status=403;times=0",
         "--fault", "path=clusters?folderId=b1gother;status=403;times=0" })
      for _, run in ipairs({ { "audit.lua", "json" }, { "audit.lua", "csv" }, { "audit.lua", "table" },
         { "inventory.lua", "json" }, { "inventory.lua", "csv" } }) do
         local what = table.concat(scope, " ") .. ": " .. run[1] .. " " .. run[2]
         local db = H.tmpname(".db")
         local args = { "--now", NOW, "--format", run[2] }
         local live_args = { "--record", db }
         for _, v in ipairs(args) do live_args[#live_args + 1] = v end
         for _, v in ipairs(scope) do live_args[#live_args + 1] = v end
         local live = script(run[1], live_args, server)
         H.eq(live.code, 2, what .. ": " .. live.stderr)
         local from_args = { "--from", db }
         for _, v in ipairs(args) do from_args[#from_args + 1] = v end
         local from = script(run[1], from_args)
         H.eq(from.code, live.code, what .. ": " .. from.stderr)
         H.eq(from.stdout, live.stdout, what)
         H.eq(from.stderr, live.stderr, what)
         if scope[1] ~= "--folder" and run[1] == "audit.lua" then
            local _, n = live.stderr:gsub("the folders of cloud cloud2 %(Resource Manager%)", "")
            H.eq(n, 1, what .. ": one note for the failed Folder.List")
         end
      end
      server.stop()
   end
end)

H.test("a backup id the listing sends twice, in one page or pages apart, counts once live and --from alike", function()
   -- Pages of 3: [b0 b1 b0'] [b2 b3 b4] [b5 b1' b6] [b7]; the later copies
   -- have another size.  A recording keeps an id's first copy, so the live
   -- run must see that one only, or --from would not equal it.
   local folder = "b1gdupfolder"
   local recs = { { "cluster", "postgresql", folder, "dup", "n-dup", { id = "dup", folderId = folder, name = "n-dup",
      createdAt = "2026-01-01T00:00:00Z", environment = "PRODUCTION", health = "ALIVE", status = "RUNNING",
      config = { backupRetainPeriodDays = "7", backupWindowStart = { hours = 22 } } } } }
   for _, b in ipairs { { 0, "10737418240" }, { 1, "10737418240" }, { 0, "1073741824" }, { 2 }, { 3 }, { 4 }, { 5 },
      { 1, "1024" }, { 6 }, { 7 } } do
      local day = string.format("2026-11-%02dT11:00:00Z", 20 - b[1])
      recs[#recs + 1] = { "backup", "postgresql", folder, "dup", H.backup("dup:b" .. b[1], "dup", day,
         { size = b[2] or "10737418240", method = "BASE", status = "DONE", folderId = folder }) }
   end
   local server = H.start_fake { "--data", H.data_file(recs) }
   local scope = { "--folder", folder, "--engine", "postgresql", "--page-size", "3" }
   for _, run in ipairs { { "audit.lua", "--check", "count", "--all" }, { "inventory.lua", "--format", "json" } } do
      local db = H.tmpname(".db")
      local args = H.with({ "--now", NOW }, table.unpack(run, 2))
      local live = script(run[1], H.with(H.with({ "--record", db }, table.unpack(args)), table.unpack(scope)), server)
      H.eq(live.code, 0, run[1] .. ": " .. live.stderr)
      local from = script(run[1], H.with({ "--from", db }, table.unpack(args)))
      H.eq(from.code, 0, run[1] .. " --from: " .. from.stderr)
      H.eq(from.stdout, live.stdout, run[1])
      if run[1] == "audit.lua" then
         H.contains(live.stdout, "count  8 completed backups")
      else
         local c = cjson.decode(live.stdout)[1]
         H.eq({ c.count, c.total_size }, { 8, 8 * 10737418240 }, "inventory: the first copies")
      end
   end
   server.stop()
end)

H.test("snapshot.lua takes --folder repeated, --cloud and --all-clouds, and records what audit --record does", function()
   local scopes = {
      { "--all-clouds" },
      { "--cloud", "cloud2" },
      { "--folder", FOLDER, "--folder", "b1gother" },
   }
   for _, scope in ipairs(scopes) do
      local what = table.concat(scope, " ")
      local server = H.start_fake({ "--demo", "--now", NOW, "--cloud", "cloud1=b1gother",
         "--cloud", "cloud2=" .. FOLDER .. ",b1gbadfolder",
         "--fault", "path=clusters?folderId=b1gbadfolder;status=403;times=0" })
      local snap, rec = H.tmpname(".db"), H.tmpname(".db")
      local s = script("snapshot.lua", H.with({ "--db", snap, "--now", NOW }, table.unpack(scope)), server)
      H.eq(s.code, scope[1] == "--folder" and 0 or 2, what .. ": " .. s.stderr)
      H.contains(s.stderr, "snapshot.lua: scan 1 recorded in " .. snap .. ": ", what)
      if scope[1] ~= "--folder" then
         -- one failed Cluster.List per engine, the same 403 each: one line naming them all
         local _, named = ("\n" .. s.stderr):gsub("\nsnapshot%.lua: clusters of every engine %(" .. #mdb_engines
            .. "%) in folder b1gbadfolder: [^\n]*403", "")
         H.eq(named, 1, what .. ": " .. s.stderr)
         H.contains(s.stderr, string.format(", %d failed listings\n", #mdb_engines), what)
      end
      local a = script("audit.lua", H.with({ "--record", rec, "--now", NOW, "--format", "json" }, table.unpack(scope)),
         server)
      H.eq(a.code, scope[1] == "--folder" and 1 or 2, what .. ": " .. a.stderr)
      server.stop()
      for _, q in ipairs { "SELECT folder, engines, folders, cloud, all_clouds FROM scans",
         "SELECT engine, cluster_id, status, items, error_kind FROM listings ORDER BY engine, cluster_id",
         "SELECT c.engine, c.cluster_id, c.folder, count(b.id) FROM clusters c LEFT JOIN backup_states b"
            .. " ON b.cluster = c.id GROUP BY c.id ORDER BY c.engine, c.cluster_id",
         "SELECT count(*) FROM policy_states", "SELECT count(*) FROM operation_states" } do
         H.eq(sqlite3(snap, q), sqlite3(rec, q), what .. ": " .. q)
      end
      H.ok(tonumber(sqlite3(snap, "SELECT count(*) FROM backup_states")) > 0, what)
      local from = function(db)
         return script("audit.lua", { "--from", db, "--now", NOW, "--format", "json" })
      end
      -- (the two live runs met the failure under different request ids;
      -- the vanished findings follow the order entries arrived in)
      local function findings(r)
         local out = {}
         for _, f in ipairs(cjson.decode(r.stdout).findings) do
            out[#out + 1] = table.concat({ f.check, f.engine, tostring(f.cluster), tostring(f.folder), f.status,
               (f.message:gsub("request id fake%-req%-%d+", "request id R")) }, " | ")
         end
         table.sort(out)
         return out
      end
      local fs, fr = from(snap), from(rec)
      H.eq(fs.code, fr.code, what)
      H.eq(findings(fs), findings(fr), what .. ": the audits of the past agree")
   end
end)

-- A script run in the background against `server`: returns a table whose
-- `pid()`, `code()` (nil while it runs), `stderr()` tell how it goes.
local function background(name, args, server)
   local err, pidfile, codefile = H.tmpname(".err"), H.tmpname(".pid"), H.tmpname(".code")
   local assign = {}
   for k, v in pairs(env(server)) do assign[#assign + 1] = k .. "=" .. H.sh_quote(v) end
   local words = { H.sh_quote(H.mdblua), H.sh_quote(H.source_dir .. "/scripts/" .. name) }
   for _, a in ipairs(args) do words[#words + 1] = H.sh_quote(a) end
   os.execute(string.format("(%s sh -c 'echo $$ >%s; exec \"$@\"' sh %s </dev/null >/dev/null 2>%s; echo $? >%s) &",
      table.concat(assign, " "), H.sh_quote(pidfile), table.concat(words, " "), H.sh_quote(err), H.sh_quote(codefile)))
   local b = {}
   function b.pid() return (H.read_file(pidfile) or ""):match("%d+") end
   function b.code() return tonumber((H.read_file(codefile) or ""):match("%d+")) end
   function b.stderr() return H.read_file(err) or "" end
   -- poll until `ok()` (at most `seconds`)
   function b.until_(ok, seconds)
      for _ = 1, seconds * 10 do
         if ok() then return true end
         os.execute("sleep 0.1")
      end
      return ok()
   end
   return b
end

H.test("a second recorder waits for the first one's scan, then records; Ctrl-C ends the wait", function()
   -- every request takes 300 ms: the first recorder's scan holds the file
   -- for about 2 s
   local server = H.start_fake { "--generate", "engine=mysql,clusters=4,backups=5",
      "--fault", "delay_ms=300;times=0" }
   local db = H.tmpname(".db")
   local args = { "--engine", "mysql", "--folder", "b1gfakefolder0000001", "--concurrency", "1", "--now", NOW }
   local first = background("inventory.lua", H.with({ "--record", db, "--format", "csv" }, table.unpack(args)), server)
   H.ok(first.until_(function() return io.open(db) ~= nil end, 5), "the first recorder began")
   os.execute("sleep 0.3")
   local second = background("snapshot.lua", H.with({ "--db", db }, table.unpack(args)), server)
   H.ok(second.until_(function() return second.code() ~= nil end, 30), "the second recorder ended")
   H.ok(first.code() ~= nil, "the first one before it")
   H.eq(first.code(), 0, first.stderr())
   H.eq(second.code(), 0, second.stderr())
   H.contains(second.stderr(), "snapshot.lua: " .. db .. " is being recorded by another run: waiting for it "
      .. "(at most 10m)\n")
   H.not_contains(first.stderr(), "waiting")
   H.eq(sqlite3(db, "SELECT group_concat(tool) FROM scans ORDER BY id; PRAGMA integrity_check"),
      "inventory.lua,snapshot.lua\nok")
   -- Ctrl-C while waiting: interrupted at once, nothing recorded
   first = background("inventory.lua", H.with({ "--record", db, "--format", "csv" }, table.unpack(args)), server)
   os.execute("sleep 0.5")
   second = background("snapshot.lua", H.with({ "--db", db }, table.unpack(args)), server)
   H.ok(second.until_(function() return second.stderr():find("waiting", 1, true) ~= nil end, 10),
      "the second one waits: " .. second.stderr())
   local t0 = os.time()
   os.execute("kill -INT " .. second.pid())
   H.ok(second.until_(function() return second.code() ~= nil end, 5), "it ended within 5 s of SIGINT")
   H.ok(os.time() - t0 <= 2, "at once")
   H.eq(second.code(), 130, second.stderr())
   H.contains(second.stderr(), "interrupted")
   H.not_contains(second.stderr(), "locked")
   H.ok(first.until_(function() return first.code() ~= nil end, 30), "the first one ended")
   H.eq(first.code(), 0, first.stderr())
   H.eq(sqlite3(db, "SELECT count(*) FROM scans; PRAGMA integrity_check"), "3\nok")
end)

H.test("--db while a recorder holds the file reads the last recorded scan at once, holding nobody up", function()
   local fleet = "engine=mysql,clusters=20,backups=5"
   local args = { "--engine", "mysql", "--folder", "b1gfakefolder0000001", "--concurrency", "1", "--now", NOW }
   local quick = H.start_fake { "--generate", fleet }
   local db = H.tmpname(".db")
   H.eq(script("snapshot.lua", H.with({ "--db", db }, table.unpack(args)), quick).code, 0)
   local function findings(r)
      local doc = cjson.decode(r.stdout)
      table.sort(doc.findings, function(x, y) return x.check .. x.cluster < y.check .. y.cluster end)
      return doc.findings
   end
   local ask = H.with({ "--db", db, "--format", "json" }, table.unpack(args))
   local want = script("audit.lua", ask, quick)
   H.ok(want.code <= 1 and #want.stdout > 0, want.stderr)
   -- 300 ms a request, one at a time: the recorder holds the file for
   -- about 7 s
   local slow = H.start_fake { "--generate", fleet, "--fault", "delay_ms=300;times=0" }
   local rec = background("inventory.lua", H.with({ "--record", db, "--format", "csv" }, table.unpack(args)), slow)
   os.execute("sleep 1")
   local r = script("audit.lua", ask, quick)
   H.eq(rec.code(), nil, "the recorder still records when the --db run has ended: " .. r.stderr)
   H.eq(r.code, want.code, r.stderr)
   H.eq(findings(r), findings(want))
   H.ok(rec.until_(function() return rec.code() ~= nil end, 30), "the recorder ended")
   H.eq(rec.code(), 0, rec.stderr())
   H.not_contains(rec.stderr(), "waiting")
   H.eq(sqlite3(db, "SELECT group_concat(tool) FROM scans ORDER BY id; PRAGMA integrity_check"),
      "snapshot.lua,inventory.lua\nok")
end)

H.test("a bad endpoint ends a recording run before it creates the history file", function()
   for _, run in ipairs {
      { "snapshot.lua", { "--db" } },
      { "audit.lua", { "--record" } },
      { "inventory.lua", { "--record" } },
   } do
      local path = H.tmpname(".db")
      local r = H.run(H.with({ H.source_dir .. "/scripts/" .. run[1] }, run[2][1], path, "--folder", FOLDER),
         { env = { YC_MDB_ENDPOINT = "http://x", YC_IAM_TOKEN = "none", YC_FOLDER_ID = false } })
      H.eq(r.code, 2, run[1] .. ": " .. r.stderr)
      H.contains(r.stderr, run[1] .. ": bad argument 'endpoint': ")
      for _, suffix in ipairs { "", "-wal", "-shm" } do
         local f = io.open(path .. suffix, "rb")
         if f then f:close() end
         H.eq(f, nil, run[1] .. ": no " .. path .. suffix)
      end
   end
end)

H.test("a history path that is a directory or a named pipe is named as one, at once", function()
   local dir = H.tmpname(".dir")
   os.execute("mkdir -p " .. H.sh_quote(dir))
   local fifo = H.tmpname(".fifo")
   os.execute("mkfifo " .. H.sh_quote(fifo))
   -- (opening a pipe waits for a writer: under `timeout`, so a regression
   -- fails here instead of hanging the suite)
   for _, case in ipairs { { dir, " is a directory, not a history file" },
      { fifo, " is not a regular file (a pipe, socket or device), not a history file" } } do
      local path = case[1]
      local runs = {
         { "changes.lua", { "--db", path } },
         { "history.lua", { "--db", path, "backup", "x" } },
         { "audit.lua", { "--from", path } },
         { "inventory.lua", { "--from", path } },
         { "snapshot.lua", { "--db", path, "--folder", FOLDER } },
         { "audit.lua", { "--record", path, "--folder", FOLDER } },
         { "audit.lua", { "--db", path, "--folder", FOLDER } },
      }
      for _, run in ipairs(runs) do
         local r = H.run(H.with({ "20", H.mdblua, H.source_dir .. "/scripts/" .. run[1] }, table.unpack(run[2])),
            { program = "timeout", env = { YC_MDB_ENDPOINT = "http://127.0.0.1:9", YC_IAM_TOKEN = "none",
               YC_FOLDER_ID = false } })
         local what = run[1] .. " " .. run[2][1] .. " " .. path
         H.eq(r.code, 2, what .. ": " .. r.stderr)
         H.contains(r.stderr, path .. case[2], what)
         H.not_contains(r.stderr, "I/O error", what)
         H.not_contains(r.stderr, "traceback", what)
      end
   end
end)

H.test("a history file the user may not read is said so, not 'no such file'", function()
   local path = H.tmpname(".db")
   H.eq(H.run({ H.write_file(H.tmpname(".lua"), string.format(
      "assert(require('mdb.history').record(%q, {}, { engines = { 'mysql' } }))", path)) }).code, 0)
   os.execute("chmod 000 " .. H.sh_quote(path))
   local r = H.run({ H.source_dir .. "/scripts/changes.lua", "--db", path }, { reader = true })
   os.execute("chmod 644 " .. H.sh_quote(path))
   H.eq(r.code, 2, r.stderr)
   H.eq(r.stderr, "changes.lua: " .. path .. ": cannot open it (Permission denied)\n")
end)

H.test("a time a hair before a scan's second does not find that scan (no rounding into the next second)", function()
   local server = H.start_fake({ "--demo", "--now", NOW })
   local db = H.tmpname(".db")
   local r = script("snapshot.lua", { "--db", db, "--folder", FOLDER, "--now", NOW }, server)
   H.eq(r.code, 0, r.stderr)
   -- 18:38:37.99999999 as one double is 18:38:38: the scan's own second
   local before = "2026-11-23T18:38:37.99999999Z"
   r = script("changes.lua", { "--db", db, "--to", before })
   H.eq(r.code, 2, r.stdout)
   H.contains(r.stderr, "no scan at or before " .. before)
   r = script("audit.lua", { "--from", db, "--at", before, "--format", "json" })
   H.eq(r.code, 2, r.stdout)
   H.contains(r.stderr, "no scan")
   r = script("inventory.lua", { "--from", db, "--at", "2026-11-23T21:38:37.9999999+03:00", "--format", "json" })
   H.eq(r.code, 2, r.stdout)
   -- and the scan's own second, with any fraction, finds it
   for _, t in ipairs({ NOW, "2026-11-23T18:38:38.99999999Z", "2026-11-23T21:38:38.5+03:00" }) do
      r = script("changes.lua", { "--db", db, "--to", t, "--format", "json" })
      H.eq(r.code, 0, t .. ": " .. r.stderr)
      H.eq(cjson.decode(r.stdout).to.id, 1, t)
   end
end)

H.run_all()
