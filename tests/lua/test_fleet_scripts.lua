-- The fleet scripts (audit, inventory, freshness, retention-plan) consume
-- the scan cluster by cluster (client:scan{each=}) and keep only what
-- their output needs: peak memory stays flat as the fleet grows, output
-- keeps the plain scan's order, --record streams into the history file,
-- and --folder (repeatable), --cloud and --all-clouds scope the scan, with
-- the folder shown when there is more than one.  End to end through
-- mdblua against the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local NOW = "2026-11-23T18:00:00Z"
local FOLDER = "b1gfakefolder0000001"
local SCRIPTS = H.source_dir .. "/scripts/"

local function run(server, script, args, env)
   local e = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server.url, YC_RESOURCE_MANAGER_ENDPOINT = server.url,
      YC_FOLDER_ID = FOLDER, NO_COLOR = false }
   for k, v in pairs(env or {}) do e[k] = v end
   local a = {}
   for _, x in ipairs((env or {})._pre or {}) do a[#a + 1] = x end
   e._pre = nil
   a[#a + 1] = SCRIPTS .. script
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = e })
   H.not_contains(r.stdout .. r.stderr, H.token, "output")
   return r
end

-- Run with the child's peak RSS (VmHWM, KiB) reported on stderr as the
-- script exits.
local PEAK = [[local exit = os.exit
os.exit = function(...)
   local f = io.open("/proc/self/status")
   io.stderr:write("VmHWM ", f:read("a"):match("VmHWM:%s*(%d+)"), "\n")
   exit(...)
end]]
local function peak_of(server, script, args)
   local r = run(server, script, args, { _pre = { "-e", PEAK } })
   return r, tonumber(r.stderr:match("VmHWM (%d+)"))
end

-- A run over the 2,000-cluster fleet reported every cluster.
local function all_clusters(script, r)
   if script == "inventory.lua" then
      local n = 0
      for _ in r.stdout:gmatch("\n") do n = n + 1 end
      H.eq(n, 2001, "a header and a row per cluster")
   else
      H.eq(cjson.decode(r.stdout).summary.clusters, 2000, script)
   end
end

H.test("audit, inventory and freshness over 2,000 clusters x 200 backups stay under a memory bound", function()
   -- The fleet is 400,000 backups: scripts that kept the whole scan peaked
   -- at 553 MiB (audit --format json), 316 MiB (inventory) and 355 MiB
   -- (freshness --format json) here; streaming, about 30, 20 and 22.
   if os.getenv("ASAN_OPTIONS") then return end   -- ASan's quarantine holds freed memory
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=2000,backups=200", "--now", NOW }
   local cases = {
      { "audit.lua", { "--format", "json", "--now", NOW }, 64 * 1024 },
      { "inventory.lua", { "--format", "csv", "--now", NOW }, 48 * 1024 },
      { "freshness.lua", { "--format", "json", "--now", NOW }, 48 * 1024 },
   }
   for _, c in ipairs(cases) do
      local r, peak = peak_of(s, c[1], c[2])
      H.ok(r.code == 0 or r.code == 1, c[1] .. ": " .. r.stderr)
      H.ok(peak, c[1] .. " reported its peak")
      H.ok(peak < c[3], string.format("%s: peak RSS %d KiB < %d KiB", c[1], peak, c[3]))
      all_clusters(c[1], r)
   end
end)

H.test("audit and inventory --from a recording of 400,000 backups stay under the same bound", function()
   -- --from used to build every recorded entry before the first was judged:
   -- 420 MiB (audit --format json) and 336 MiB (inventory) here.
   if os.getenv("ASAN_OPTIONS") then return end
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=2000,backups=200", "--now", NOW }
   local db = H.tmpname(".db")
   local snap = run(s, "snapshot.lua", { "--db", db, "--now", NOW, "--engine", "postgresql" })
   H.eq(snap.code, 0, snap.stderr)
   s.stop()
   for _, c in ipairs {
      { "audit.lua", { "--from", db, "--format", "json", "--now", NOW }, 64 * 1024 },
      { "inventory.lua", { "--from", db, "--format", "csv", "--now", NOW }, 48 * 1024 },
   } do
      local r, peak = peak_of(s, c[1], c[2])
      H.ok(r.code == 0 or r.code == 1, c[1] .. ": " .. r.stderr)
      H.ok(peak and peak < c[3], string.format("%s --from: peak RSS %s KiB < %d KiB", c[1], tostring(peak), c[3]))
      all_clusters(c[1], r)
   end
end)

-- Three clusters listed by Cluster.List out of id order; the first one
-- answers slowly, so the stream hands it over last.
local function shuffled()
   local recs = {}
   for _, c in ipairs { { "c3", "zeta" }, { "c1", "alpha" }, { "c2", "mid" } } do
      recs[#recs + 1] = { "cluster", "mysql", FOLDER, c[1], c[2],
         { id = c[1], name = c[2], folderId = FOLDER, createdAt = "2026-01-01T00:00:00Z" } }
      for d = 1, 3 do
         recs[#recs + 1] = { "backup", "mysql", FOLDER, c[1],
            H.backup(c[1] .. "-b" .. d, c[1], string.format("2026-11-%02dT22:00:00Z", 20 + d),
               { folderId = FOLDER, status = "DONE" }) }
      end
   end
   return H.start_fake { "--data", H.data_file(recs), "--fault", "path=/clusters/c3/;delay_ms=300;times=0" }
end

H.test("output keeps the plain scan's order (Cluster.List order), not completion order", function()
   local s = shuffled()
   local inv = run(s, "inventory.lua", { "--engine", "mysql", "--format", "csv", "--now", NOW })
   H.eq(inv.code, 0, inv.stderr)
   local names = {}
   for name in inv.stdout:gmatch("\nmysql,c%d,(%a+),") do names[#names + 1] = name end
   H.eq(names, { "zeta", "alpha", "mid" })
   local au = run(s, "audit.lua", { "--engine", "mysql", "--format", "json", "--now", NOW, "--check", "count" })
   local order = {}
   for _, f in ipairs(cjson.decode(au.stdout).findings) do order[#order + 1] = f.cluster end
   H.eq(order, { "c3", "c1", "c2" })
   local fr = run(s, "freshness.lua", { "--engine", "mysql", "--format", "csv", "--now", NOW })
   H.eq(fr.code, 0, fr.stdout .. fr.stderr)
   order = {}
   for id in fr.stdout:gmatch("\nfreshness,%a+,mysql,(c%d),") do order[#order + 1] = id end
   H.eq(order, { "c3", "c1", "c2" })
   local rp = run(s, "retention-plan.lua", { "--engine", "mysql", "--keep-last", "1", "--format", "csv",
      "--now", NOW })
   H.eq(rp.code, 0, rp.stderr)
   order = {}
   for id in rp.stdout:gmatch("\nmysql,(c%d),%a+,c%d%-b2,") do order[#order + 1] = id end
   H.eq(order, { "c3", "c1", "c2" })
end)

H.test("--record streams the scan into the history file; --from gives the same report", function()
   local s = shuffled()
   local db = H.tmpname(".db")
   local live = run(s, "inventory.lua", { "--engine", "mysql", "--format", "csv", "--now", NOW, "--record", db })
   H.eq(live.code, 0, live.stderr)
   local offline = run({ url = "http://127.0.0.1:1" }, "inventory.lua",
      { "--engine", "mysql", "--format", "csv", "--from", db })
   H.eq(offline.code, 0, offline.stderr)
   H.eq(offline.stdout, live.stdout)
   local h = assert(require("mdb.history").open(db))
   local ids = {}
   for _, e in ipairs(h:results(h:latest().id)) do ids[#ids + 1] = e.id .. ":" .. #e.backups end
   h:close()
   -- (each cluster's third backup is made after --now: a scan recorded at
   -- --now has not seen it yet)
   H.eq(ids, { "c3:2", "c1:2", "c2:2" }, "every backup there was at --now recorded, in the scan's order")
end)

H.test("the HTML report draws the same page from each cluster's window as from the whole scan", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=3,backups=40", "--now", NOW }
   local r = run(s, "audit.lua", { "--engine", "mysql", "--format", "html", "--days", "7", "--now", NOW })
   H.eq(r.code, 0, r.stderr)
   -- The page a retaining audit draws, from the plain scan.
   local mdb, audit, cli = require "mdb", require "mdb.audit", require "mdb.cli"
   local now = mdb.parse_time(NOW)
   -- as the script scans: with the policies and operations its checks read
   local results = cli.as_of(H.client(s):scan { engine = "mysql", folder = FOLDER,
      with = { "retention_policies", "operations" } }, now)
   local policy = audit.policy(nil, "built-in defaults")
   local page = require("mdb.html").audit(audit.run(results, policy, { now = now }), results,
      { now = now, days = 7, zone = policy.zone,
        scope = { folder = FOLDER, engines = { "mysql" }, policy = policy.source } })
   H.eq(r.stdout, page)
end)

local function folders_fake()
   return H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=10,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfb,clusters=1,backups=10,prefix=bmysql",
      "--cloud", "b1gcloud1=b1gfa,b1gfb", "--cloud", "b1gcloud2=", "--now", NOW }
end

H.test("--folder repeated, --cloud and --all-clouds: findings and rows carry the folder", function()
   local s = folders_fake()
   for _, scope in ipairs { { "--folder", "b1gfa", "--folder", "b1gfb" }, { "--cloud", "b1gcloud1" },
      { "--all-clouds" } } do
      local what = table.concat(scope, " ")
      local args = { "--engine", "mysql", "--format", "json", "--now", NOW, "--check", "count" }
      for _, a in ipairs(scope) do args[#args + 1] = a end
      local au = run(s, "audit.lua", args)
      H.eq(au.code, 0, au.stderr)
      local got = {}
      for _, f in ipairs(cjson.decode(au.stdout).findings) do got[#got + 1] = f.folder .. "/" .. f.cluster end
      H.eq(got, { "b1gfa/amysql-0000", "b1gfa/amysql-0001", "b1gfb/bmysql-0000" }, what)
      args[6] = "csv"
      local inv = run(s, "inventory.lua", { "--engine", "mysql", "--format", "csv", "--now", NOW,
         table.unpack(scope) })
      H.eq(inv.code, 0, inv.stderr)
      H.contains(inv.stdout, "folder,engine,cluster,", what)
      H.contains(inv.stdout, "\r\nb1gfb,mysql,bmysql-0000,", what)
   end
   local tab = run(s, "audit.lua", { "--engine", "mysql", "--all", "--now", NOW, "--check", "count",
      "--folder", "b1gfa", "--folder", "b1gfb" })
   H.contains(tab.stdout, "FOLDER")
   H.contains(tab.stdout, "b1gfb")
   local prom = run(s, "audit.lua", { "--engine", "mysql", "--format", "prometheus", "--now", NOW,
      "--check", "count", "--cloud", "b1gcloud1" })
   H.contains(prom.stdout, 'mdb_audit_status{folder="b1gfb",engine="mysql",cluster_id="bmysql-0000"')
   H.contains(prom.stdout, 'mdb_backups{folder="b1gfa",engine="mysql",cluster_id="amysql-0000"')
   local fr = run(s, "freshness.lua", { "--engine", "mysql", "--format", "jsonl", "--now", NOW,
      "--folder", "b1gfa", "--folder", "b1gfb" })
   H.contains(fr.stdout, '"folder":"b1gfb"')
   -- one folder: the reports are as they were, without a folder
   local one = run(s, "audit.lua", { "--engine", "mysql", "--format", "json", "--now", NOW, "--folder", "b1gfa" })
   H.not_contains(one.stdout, '"folder"')
   local one_inv = run(s, "inventory.lua", { "--engine", "mysql", "--now", NOW, "--folder", "b1gfa" })
   H.not_contains(one_inv.stdout, "FOLDER")
end)

H.test("scope flags that conflict, or no folder at all, are usage errors naming the flags", function()
   local s = folders_fake()
   for _, script in ipairs { "audit.lua", "inventory.lua", "freshness.lua", "retention-plan.lua" } do
      local r = run(s, script, { "--folder", "b1gfa", "--cloud", "b1gcloud1", "--keep-last", "1" })
      if script ~= "retention-plan.lua" then
         r = run(s, script, { "--folder", "b1gfa", "--cloud", "b1gcloud1" })
      end
      H.ok(r.code == 2 or (script == "freshness.lua" and r.code == 3), script .. " exit " .. r.code)
      H.contains(r.stderr, "give --folder, --cloud or --all-clouds, not more than one", script)
      local args = script == "retention-plan.lua" and { "--keep-last", "1" } or {}
      local none = run(s, script, args, { YC_FOLDER_ID = false })
      H.contains(none.stderr, "no folder: give --folder ID", script)
      H.contains(none.stderr, "--cloud ID or --all-clouds", script)
   end
end)

H.test("a cloud whose folders cannot be listed is an error entry; the rest is reported", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=3",
      "--cloud", "b1gcloud1=b1gfa", "--cloud", "b1gcloud2=b1gfz", "--now", NOW,
      "--fault", "path=cloudId=b1gcloud2;status=403;times=0" }
   local r = run(s, "inventory.lua", { "--engine", "mysql", "--all-clouds", "--now", NOW, "--format", "csv" })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stdout, "cmysql-0000")
   H.contains(r.stderr, "inventory.lua: the folders of cloud b1gcloud2 (Resource Manager): http error: ")
end)

H.run_all()
