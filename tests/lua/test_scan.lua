-- client:scan{}: many clusters at once.  Results equal the sequential
-- listings, in a deterministic order; one cluster's failure is reported
-- in its entry without losing the others; retries and faults never make
-- a backup appear twice or go missing.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local FOLDER = "b1gfakefolder0000001"

local function sequential(c, engine, id)
   return H.ids(H.collect(c:backups { engine = engine, cluster = id }))
end

H.test("folder scan over several engines equals the sequential listings, in Cluster.List order", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=12,backups=37",
      "--generate", "engine=redis,clusters=5,backups=3", "--generate", "engine=sqlserver,clusters=2,backups=0" }
   local c = H.client(s, { page_size = 10 })
   local res = c:scan { engines = { "redis", "mysql", "sqlserver" }, folder = FOLDER, concurrency = 4 }
   H.eq(#res, 19, "one entry per cluster")
   local want = {}
   for i = 0, 4 do want[#want + 1] = { "redis", string.format("credis-%04d", i) } end
   for i = 0, 11 do want[#want + 1] = { "mysql", string.format("cmysql-%04d", i) } end
   for i = 0, 1 do want[#want + 1] = { "sqlserver", string.format("csqlserver-%04d", i) } end
   for i, r in ipairs(res) do
      H.eq({ r.engine, r.id }, want[i], "entry " .. i)
      H.eq(r.error, nil, "no error for " .. r.id)
      H.eq(r.cluster.id, r.id, "the Cluster object")
      H.eq(r.cluster.engine, r.engine)
      H.eq(H.ids(r.backups), sequential(c, r.engine, r.id), "backups of " .. r.id)
      H.eq(r.stats.items, #r.backups)
      for _, b in ipairs(r.backups) do
         H.eq(b.engine, r.engine)
         H.ok(math.type(b.created) == "float", "normalised")
      end
   end
   H.eq(res[6].stats.pages, 4, "37 backups at 10 a page")
end)

H.test("clusters= in the given order, bare ids with engine= or {engine=, id=} tables", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=3,backups=5",
      "--generate", "engine=clickhouse,clusters=2,backups=4" }
   local c = H.client(s)
   local res = c:scan { engine = "mongodb", clusters = { "cmongodb-0002", "cmongodb-0000" } }
   H.eq({ res[1].id, res[2].id, #res }, { "cmongodb-0002", "cmongodb-0000", 2 })
   H.eq(res[1].cluster, nil, "no Cluster object when ids are given")
   local mixed = c:scan { clusters = { { engine = "clickhouse", id = "cclickhouse-0001" },
      { engine = "mongodb", id = "cmongodb-0001" } } }
   H.eq({ mixed[1].engine, #mixed[1].backups, mixed[2].engine, #mixed[2].backups },
      { "clickhouse", 4, "mongodb", 5 })
end)

H.test("per-cluster failures are reported and the other clusters are complete", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=6,backups=25",
      "--fault", "path=cpostgresql-0002;status=500;times=0",
      "--fault", "path=cpostgresql-0004;offset=10;malformed=1" }
   local c = H.client(s, { page_size = 10, retries = 1 })
   local res = c:scan { engine = "postgresql", folder = FOLDER, concurrency = 3 }
   H.eq(#res, 6)
   for i, r in ipairs(res) do
      if r.id == "cpostgresql-0002" then
         H.eq({ r.error.kind, r.error.status, r.error.attempts }, { "http", 500, 2 })
         H.eq(#r.backups, 0)
      elseif r.id == "cpostgresql-0004" then
         H.eq(r.error.kind, "json")
         H.eq(#r.backups, 10, "what arrived before the bad page is kept, and flagged by the error")
      else
         H.eq(r.error, nil, r.id)
         H.eq(H.ids(r.backups), sequential(c, "postgresql", r.id), "entry " .. i)
      end
   end
end)

H.test("a failed Cluster.List gives an entry with no id and the error; other engines go on", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=2,backups=2",
      "--generate", "engine=redis,clusters=2,backups=2",
      "--fault", "path=/managed-mysql/v1/clusters?;status=403;times=0" }
   local c = H.client(s)
   local res = c:scan { engines = { "mysql", "redis" }, folder = FOLDER }
   H.eq(#res, 3)
   H.eq({ res[1].engine, res[1].id, res[1].error.status }, { "mysql", nil, 403 })
   H.eq({ res[2].id, res[3].id }, { "credis-0000", "credis-0001" })
end)

H.test("retries, empty pages and 429 storms under fan-out: every backup exactly once", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=20,backups=53",
      "--fault", "status=429;skip=3;times=25",
      "--fault", "offset=20;empty=1;times=10",
      "--fault", "offset=40;status=503;times=8",
      "--fault", "offset=30;truncate=200;times=5" }
   local c = H.client(s, { page_size = 10, retries = 10 })
   local res = c:scan { engine = "mongodb", folder = FOLDER, concurrency = 8 }
   H.eq(#res, 20)
   local clean = H.start_fake { "--generate", "engine=mongodb,clusters=20,backups=53" }
   local cc = H.client(clean, { page_size = 10 })
   local retries = 0
   for _, r in ipairs(res) do
      H.eq(r.error, nil, r.id)
      H.eq(H.ids(r.backups), sequential(cc, "mongodb", r.id), r.id)
      retries = retries + r.stats.retries
   end
   H.ok(retries >= 38, "the faults were met and retried: " .. retries)
end)

H.test("limit and page_size apply per cluster; the last request asks only for what is needed", function()
   local s = H.start_fake { "--generate", "engine=greenplum,clusters=3,backups=40" }
   local c = H.client(s)
   local res = c:scan { engine = "greenplum", folder = FOLDER, page_size = 7, limit = 16 }
   for _, r in ipairs(res) do H.eq(#r.backups, 16, r.id) end
   local sizes = {}
   for _, q in ipairs(H.requests(s)) do
      if q.target:find("/backups") then
         local ps = H.query_param(q.target, "pageSize")
         sizes[ps] = (sizes[ps] or 0) + 1
      end
   end
   H.eq(sizes, { ["7"] = 6, ["2"] = 3 }, "two full pages and one of 2, per cluster")
end)

H.test("progress is called once per cluster on the main thread; its errors end the scan", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=7,backups=3" }
   local c = H.client(s)
   local seen, last = {}, 0
   c:scan { engine = "mysql", folder = FOLDER, progress = function(p)
      H.ok(p.done == last + 1, "done counts up by one")
      last = p.done
      H.ok(p.total >= p.done and p.total <= 7, "total")
      seen[p.id] = (seen[p.id] or 0) + 1
      H.eq(p.engine, "mysql")
      H.eq(p.failed, false)
   end }
   H.eq(last, 7)
   for id, n in pairs(seen) do H.eq(n, 1, id) end
   local err = H.raises(nil, c.scan, c, { engine = "mysql", folder = FOLDER,
      progress = function() error("stop here") end })
   H.contains(tostring(err), "stop here")
end)

H.test("folders= scans each folder's clusters, folders then engines in order; entries carry the folder", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfolderA,clusters=2,backups=3,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfolderB,clusters=3,backups=4,prefix=bmysql",
      "--generate", "engine=redis,folder=b1gfolderB,clusters=1,backups=2,prefix=bredis",
      "--fault", "path=folderId=b1gfolderBAD;status=403;times=0" }
   local c = H.client(s, { page_size = 2 })
   local opts = { engines = { "mysql", "redis" }, folders = { "b1gfolderA", "b1gfolderBAD", "b1gfolderB" },
      concurrency = 2 }
   local res = c:scan(opts)
   local got = {}
   for _, r in ipairs(res) do
      got[#got + 1] = { r.folder, r.engine, r.id or "-", r.error and r.error.status or #r.backups }
   end
   H.eq(got, {
      { "b1gfolderA", "mysql", "amysql-0000", 3 }, { "b1gfolderA", "mysql", "amysql-0001", 3 },
      { "b1gfolderBAD", "mysql", "-", 403 }, { "b1gfolderBAD", "redis", "-", 403 },
      { "b1gfolderB", "mysql", "bmysql-0000", 4 }, { "b1gfolderB", "mysql", "bmysql-0001", 4 },
      { "b1gfolderB", "mysql", "bmysql-0002", 4 }, { "b1gfolderB", "redis", "bredis-0000", 2 },
   }, "a failing folder is an error entry per engine and stops nothing")
   -- streaming gives the same entries
   local stream = {}
   opts.each = function(r)
      stream[#stream + 1] = { r.folder, r.engine, r.id or "-", r.error and r.error.status or #r.backups }
   end
   c:scan(opts)
   table.sort(stream, function(a, b) return table.concat(a, " ", 1, 3) < table.concat(b, " ", 1, 3) end)
   table.sort(got, function(a, b) return table.concat(a, " ", 1, 3) < table.concat(b, " ", 1, 3) end)
   H.eq(stream, got)
   -- folder= entries carry their folder too; clusters= entries have none
   H.eq(c:scan { engine = "redis", folder = "b1gfolderB" }[1].folder, "b1gfolderB")
   H.eq(c:scan { engine = "redis", clusters = { "bredis-0000" } }[1].folder, nil)
end)

H.test("cloud= and all_clouds= learn the folders from Resource Manager, across pages", function()
   local s = H.start_fake { "--cloud", "b1gcloud1=b1gfa,b1gfb,b1gfc", "--cloud", "b1gcloud2=b1gfd",
      "--cloud", "b1gcloud3=",
      "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=2,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfc,clusters=1,backups=3,prefix=cmysql",
      "--generate", "engine=redis,folder=b1gfc,clusters=1,backups=1,prefix=credis",
      "--generate", "engine=mysql,folder=b1gfd,clusters=1,backups=1,prefix=dmysql" }
   local c = H.client(s, { page_size = 1 })
   local function rows(res)
      local out = {}
      for _, r in ipairs(res) do
         out[#out + 1] = table.concat({ r.cloud or "-", r.folder or "-", r.engine, r.id or "-",
            r.error and r.error.kind or #r.backups }, " ")
      end
      return out
   end
   local one = c:scan { engines = { "mysql", "redis" }, cloud = "b1gcloud1", resource_manager_endpoint = s.url }
   H.eq(rows(one), { "b1gcloud1 b1gfa mysql amysql-0000 2", "b1gcloud1 b1gfa mysql amysql-0001 2",
      "b1gcloud1 b1gfc mysql cmysql-0000 3", "b1gcloud1 b1gfc redis credis-0000 1" })
   local pages = 0
   for _, q in ipairs(H.requests(s)) do
      if q.target:find("/resource-manager/v1/folders?cloudId=b1gcloud1", 1, true) then pages = pages + 1 end
   end
   H.eq(pages, 3, "Folder.List followed page after page")
   local all = { engines = { "mysql", "redis" }, all_clouds = true, resource_manager_endpoint = s.url }
   H.eq(rows(c:scan(all)), { "b1gcloud1 b1gfa mysql amysql-0000 2", "b1gcloud1 b1gfa mysql amysql-0001 2",
      "b1gcloud1 b1gfc mysql cmysql-0000 3", "b1gcloud1 b1gfc redis credis-0000 1",
      "b1gcloud2 b1gfd mysql dmysql-0000 1" }, "every cloud, in Cloud.List order")
   local got = {}
   all.each = function(r) got[#got + 1] = r end
   c:scan(all)
   local a, b = rows(got), rows(c:scan { engines = { "mysql", "redis" }, all_clouds = true,
      resource_manager_endpoint = s.url })
   table.sort(a)
   table.sort(b)
   H.eq(a, b, "streaming gives the same entries")
   -- the endpoint from the environment
   local r = H.run({ "-e", [[
      local c = require "mdb".client { endpoint = os.getenv("EP"), token = os.getenv("TK") }
      print(#c:scan { engine = "mysql", all_clouds = true })
   ]] }, { env = { EP = s.url, TK = H.token, YC_RESOURCE_MANAGER_ENDPOINT = s.url } })
   H.eq({ r.code, r.stdout }, { 0, "4\n" }, r.stderr)
end)

H.test("a failing cloud or Cloud.List is an error entry per engine and never stops the rest", function()
   local s = H.start_fake { "--cloud", "b1gcloud1=b1gfa", "--cloud", "b1gcloud2=b1gfd",
      "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=2,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfd,clusters=1,backups=1,prefix=dmysql",
      "--fault", "path=cloudId=b1gcloud1;status=403;times=0" }
   local c = H.client(s, { retries = 0 })
   for _, each in ipairs { false, true } do
      local got = {}
      local res = c:scan { engines = { "mysql", "redis" }, all_clouds = true, resource_manager_endpoint = s.url,
         each = each and function(r) got[#got + 1] = r end or nil }
      if each then res = got end
      local errs, ok = {}, {}
      for _, r in ipairs(res) do
         if r.error then errs[#errs + 1] = { r.cloud, r.engine, r.id, r.error.status, #r.backups }
         else ok[#ok + 1] = r.id end
      end
      table.sort(errs, function(x, y) return x[2] < y[2] end)
      H.eq(errs, { { "b1gcloud1", "mysql", nil, 403, 0 }, { "b1gcloud1", "redis", nil, 403, 0 } })
      H.eq(ok, { "dmysql-0000" })
      if not each then H.eq(res[1].engine, "mysql", "the failed cloud keeps its place, first") end
   end
   local down = H.start_fake { "--fault", "path=/resource-manager/v1/clouds;status=500;times=0" }
   local res = c:scan { engines = { "mysql", "redis" }, all_clouds = true, resource_manager_endpoint = down.url }
   H.eq(#res, 2, "one error entry per engine")
   for _, r in ipairs(res) do
      H.eq({ r.cloud, r.id, r.error.kind, r.error.status }, { nil, nil, "http", 500 }, r.engine)
   end
end)

H.test("bad scan arguments raise before any request", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=1" }
   local c = H.client(s)
   local cases = {
      { { folder = FOLDER }, "engines", "missing" },
      { { engine = "mysql", engines = { "redis" }, folder = FOLDER }, "engines", "not both" },
      { { engines = { "mysql", "nosuch" }, folder = FOLDER }, "engines", "unknown engine" },
      { { engines = { "mysql", "mysql" }, folder = FOLDER }, "engines", "listed twice" },
      { { engines = {}, folder = FOLDER }, "engines", "1 to" },
      { { engine = "mysql", folder = FOLDER, clusters = { "a" } }, "clusters", "not both" },
      { { clusters = { "a" } }, "clusters", "bare id" },
      { { engine = "mysql", clusters = { string.rep("x", 51) } }, "clusters", "1 to 50" },
      { { engine = "mysql", clusters = { "a", "b", "a" } }, "clusters", 'mysql cluster "a" is listed twice' },
      { { engine = "mysql", clusters = { "b", "a\0zzz" } }, "clusters", "clusters[2]: the id must not contain NUL bytes" },
      { { clusters = { { engine = "mysql", id = "a\0" } } }, "clusters", "clusters[1]: the id must not contain NUL" },
      { { clusters = { { engine = "mysql", id = "a" }, { engine = "redis", id = "a" }, { engine = "mysql", id = "a" } } },
         "clusters", 'mysql cluster "a" is listed twice' },
      { { engine = "mysql", folder = FOLDER, concurrency = 0 }, "concurrency", "between 1 and 256" },
      { { engine = "mysql", folder = FOLDER, rate = -1 }, "rate", "expected 0 (no fixed limit) or 0.5 to 100000" },
      -- one start per 30 years, or 1e9 / rate overflowing the pacer's
      -- nanoseconds (the cap then vanished): never a wish
      { { engine = "mysql", folder = FOLDER, rate = 1e-9 }, "rate", "or 0.5 to 100000 requests per second, got 1e-09" },
      { { engine = "mysql", folder = FOLDER, rate = 1e-300 }, "rate", "got 1e-300" },
      { { engine = "mysql", folder = FOLDER, rate = 0.49 }, "rate", "got 0.49" },
      { { engine = "mysql", folder = FOLDER, rate = 0 / 0 }, "rate", "requests per second" },
      { { engine = "mysql", folder = FOLDER, rate = 100001 }, "rate", "got 100001" },
      { { engine = "mysql", folder = FOLDER, rate = "fast" }, "rate", "a number of requests per second" },
      { { engine = "mysql", folder = FOLDER, progress = 5 }, "progress", "function" },
      { { engine = "mysql", folder = FOLDER, colour = 1 }, "colour", "unknown option" },
      { { engine = "mysql", folders = {} }, "folders", "1 to 1000 folder ids" },
      { { engine = "mysql", folders = "b1g" }, "folders", "an array" },
      { { engine = "mysql", folders = { "a", "b", "a" } }, "folders", "\"a\" is listed twice" },
      { { engine = "mysql", folders = { "a", 5 } }, "folders", "folders[2]" },
      { { engine = "mysql", folders = { "a" }, folder = "b" }, "folder", "give folder= or folders=, not both" },
      { { engine = "mysql", cloud = "b1gc", folder = "b" }, "folder", "give folder= or cloud=, not both" },
      { { engine = "mysql", cloud = "b1gc", all_clouds = true }, "cloud", "not both" },
      { { engine = "mysql", all_clouds = 1 }, "all_clouds", "expected true" },
      { { engine = "mysql", cloud = 5 }, "cloud", "expected a string" },
      { { engine = "mysql", cloud = "b1gc", resource_manager_endpoint = "http://example.com" },
         "resource_manager_endpoint", "" },
      { { engine = "mysql", folders = { "a" }, clusters = { "c" } }, "clusters", "not both" },
   }
   for _, case in ipairs(cases) do
      local err = H.raises("argument", c.scan, c, case[1])
      H.eq(err.argument, case[2])
      H.contains(err.message, case[3])
   end
   H.eq(#H.requests(s), 0, "no request was made")
end)

H.test("failed Cluster.List requests become error entries, with or without progress", function()
   -- a refused connection: every Cluster.List fails before any backup job
   local c = require "mdb".client { endpoint = "http://127.0.0.1:1", token = "x", retries = 0 }
   for _, progress in ipairs { false, true } do
      local seen = 0
      local res = c:scan { engines = { "mysql", "redis", "postgresql" }, folder = FOLDER,
         progress = progress and function() seen = seen + 1 end or nil }
      H.eq(#res, 3, "one entry per engine")
      for i, e in ipairs { "mysql", "redis", "postgresql" } do
         H.eq(res[i].engine, e)
         H.eq(res[i].id, nil, "no cluster id")
         H.contains(tostring(res[i].error), "Couldn't connect", "the transport's reason")
         H.eq(res[i].error.kind, "network")
      end
      if progress then H.eq(seen, 3, "progress once per failed engine") end
   end
   -- one engine's Cluster.List rejected, the other engine scanned as usual
   local s = H.start_fake { "--generate", "engine=mysql,clusters=2,backups=3",
      "--generate", "engine=redis,clusters=2,backups=3",
      "--fault", "path=managed-redis/v1/clusters;status=403;times=0" }
   local res = H.client(s):scan { engines = { "redis", "mysql" }, folder = FOLDER,
      progress = function() end }
   H.eq(#res, 3, "one error entry for redis, two mysql clusters")
   H.eq({ res[1].engine, res[1].id, res[1].error.kind, res[1].error.status }, { "redis", nil, "http", 403 })
   H.eq({ res[2].id, #res[2].backups, res[3].id, #res[3].backups },
      { "cmysql-0000", 3, "cmysql-0001", 3 })
end)

H.run_all()
