-- client:scan{all_clouds=} and {cloud=} over many clouds and folders:
-- every Resource Manager and Cluster.List listing is bounded by the
-- scan's concurrency (requests in flight, and listings open at once), the
-- folders come across pages, and a failing folder listing is an error
-- entry that never stops the rest.  Real HTTP to the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

-- The most requests the fake answered at once (it says so as it stops).
local function max_in_flight(s)
   s.stop()
   return tonumber((H.read_file(s.stderr) or ""):match("at most (%d+) requests in flight at once"))
end

-- The most listings open at once in the request log: a listing (named by
-- `key(target)`, nil for other requests) is open from its first logged
-- request to its last.  A bounded scan starts the next listing only after
-- one has ended, so its intervals never overlap more than the bound.
local function max_open(s, key)
   local first, last, reqs = {}, {}, H.requests(s)
   for i, q in ipairs(reqs) do
      local k = key(q.target)
      if k then
         first[k] = first[k] or i
         last[k] = i
      end
   end
   local events = {}
   for k, i in pairs(first) do
      events[#events + 1] = { i, 1 }
      events[#events + 1] = { last[k], -1 }
   end
   table.sort(events, function(a, b)
      if a[1] ~= b[1] then return a[1] < b[1] end
      return a[2] > b[2]   -- a one-request listing is open at its request
   end)
   local open, most = 0, 0
   for _, e in ipairs(events) do
      open = open + e[2]
      if open > most then most = open end
   end
   return most
end

local function folder_list(t)
   return t:match("^/resource%-manager/v1/folders%?cloudId=([%w-]+)")
end

local function cluster_list(t)
   local engine, folder = t:match("^/managed%-(%w+)/v1/clusters%?folderId=([%w-]+)")
   return engine and (engine .. "/" .. folder)
end

-- 40 clouds of 8 folders; clusters in three of them; cloud 7's folders
-- cannot be listed.  Every request is a little slow, so listings overlap.
local function org()
   local args = { "--fault", "path=cloudId=cl7&;status=403;times=0", "--fault", "delay_ms=3;times=0" }
   for c = 1, 40 do
      local f = {}
      for k = 1, 8 do f[k] = string.format("f%d-%d", c, k) end
      args[#args + 1] = "--cloud"
      args[#args + 1] = string.format("cl%d=%s", c, table.concat(f, ","))
   end
   for _, g in ipairs { "engine=mysql,folder=f1-1,clusters=3,backups=2,prefix=a",
      "engine=redis,folder=f20-8,clusters=2,backups=1,prefix=b", "engine=mysql,folder=f40-5,clusters=1,backups=4,prefix=c" } do
      args[#args + 1] = "--generate"
      args[#args + 1] = g
   end
   return H.start_fake(args)
end

H.test("all_clouds, 40 clouds x 8 folders in pages of 3: at most `concurrency` requests and listings at once", function()
   for _, conc in ipairs { 1, 3 } do
      local s = org()
      local got, errors = {}, {}
      H.client(s):scan { all_clouds = true, engines = { "mysql", "redis" }, concurrency = conc, page_size = 3,
         resource_manager_endpoint = s.url, each = function(e)
            if e.error then
               errors[#errors + 1] = string.format("%s %s %s %d", e.cloud, tostring(e.folder), e.engine,
                  e.error.status)
            else
               got[#got + 1] = string.format("%s %s %s %d", e.folder, e.engine, e.id, #e.backups)
            end
         end }
      table.sort(got)
      table.sort(errors)
      H.eq(got, { "f1-1 mysql a-0000 2", "f1-1 mysql a-0001 2", "f1-1 mysql a-0002 2", "f20-8 redis b-0000 1",
         "f20-8 redis b-0001 1", "f40-5 mysql c-0000 4" }, "concurrency " .. conc)
      H.eq(errors, { "cl7 nil mysql 403", "cl7 nil redis 403" }, "the failed cloud, per engine")
      local lists, folders = 0, {}
      for _, q in ipairs(H.requests(s)) do
         local k = cluster_list(q.target)
         if k then
            lists = lists + 1
            H.eq(folders[k], nil, "each folder listed once: " .. k)
            folders[k] = true
         end
      end
      H.eq(lists, 39 * 8 * 2, "every folder of the 39 other clouds, per engine")
      local clouds = max_open(s, folder_list)
      local clusters = max_open(s, cluster_list)
      H.ok(clouds <= conc, string.format("concurrency %d: %d Folder.List listings open at once", conc, clouds))
      H.ok(clusters <= conc, string.format("concurrency %d: %d Cluster.List listings open at once", conc, clusters))
      local most = max_in_flight(s)
      H.ok(most and most <= conc, string.format("concurrency %d: %s requests in flight at once", conc, most))
   end
end)

H.test("cloud= with 300 folders over pages: every folder once, Cluster.List bounded, a failing folder an error", function()
   local f = {}
   for k = 1, 300 do f[k] = string.format("g%03d", k) end
   local s = H.start_fake { "--cloud", "big=" .. table.concat(f, ","),
      "--generate", "engine=mysql,folder=g150,clusters=2,backups=3",
      "--fault", "path=folderId=g007&;status=403;times=0", "--fault", "delay_ms=2;times=0" }
   local listed = {}
   local res = H.client(s):scan { cloud = "big", engine = "mysql", concurrency = 4, page_size = 7,
      resource_manager_endpoint = s.url, listed = function(engine, folder, cloud)
         H.eq({ engine, cloud }, { "mysql", "big" })
         H.eq(listed[folder], nil, "each folder told once: " .. folder)
         listed[folder] = true
      end }
   local got = {}
   for _, e in ipairs(res) do
      got[#got + 1] = e.folder .. " " .. (e.id or ("error " .. e.error.status))
   end
   H.eq(got, { "g007 error 403", "g150 cmysql-0000", "g150 cmysql-0001" })
   local n = 0
   for _ in pairs(listed) do n = n + 1 end
   H.eq({ n, listed.g007, listed.g001, listed.g150 }, { 299, nil, true, true },
      "listed: every folder whose Cluster.List completed, empty or not; never the failed one")
   H.raises("argument", function() H.client(s):scan { cloud = "big", engine = "mysql", listed = 1 } end)
   local pages = 0
   for _, q in ipairs(H.requests(s)) do
      if folder_list(q.target) then pages = pages + 1 end
   end
   H.eq(pages, 43, "300 folders in pages of 7")
   H.ok(max_open(s, cluster_list) <= 4, "Cluster.List listings open at once")
   local most = max_in_flight(s)
   H.ok(most and most <= 4, "requests in flight: " .. tostring(most))
end)

H.test("3,000 clouds: Folder.List jobs wait for the window, so memory does not grow by a job per cloud", function()
   -- Each started listing holds a curl handle and its buffers (about 8 KiB):
   -- starting every cloud's Folder.List at once grew the peak by 26 MiB
   -- for 3,000 clouds here; in the window, by about 3 MiB.
   if os.getenv("ASAN_OPTIONS") then return end   -- ASan's quarantine holds freed memory
   local child = H.write_file(H.tmpname(".lua"), [[
local url = os.getenv("FAKE_URL")
local n = 0
require("mdb").client { endpoint = url, token = os.getenv("FAKE_TOKEN") }:scan { all_clouds = true,
   engines = { "mysql", "postgresql" }, concurrency = 4, resource_manager_endpoint = url,
   each = function() n = n + 1 end }
io.write(n, " ", io.open("/proc/self/status"):read("a"):match("VmHWM:%s*(%d+)"), "\n")
]])
   local function peak(nclouds)
      local args = { "--generate", "engine=mysql,folder=f1,clusters=3,backups=1" }
      for c = 1, nclouds do
         args[#args + 1] = "--cloud"
         args[#args + 1] = string.format("cl%d=f%d", c, c)
      end
      local s = H.start_fake(args)
      local r = H.run({ child }, { env = { FAKE_URL = s.url, FAKE_TOKEN = H.token } })
      s.stop()
      H.eq(r.code, 0, r.stderr)
      local n, kib = r.stdout:match("^(%d+) (%d+)\n$")
      H.eq(tonumber(n), 3, "the clusters of folder f1")
      return tonumber(kib)
   end
   local one, many = peak(1), peak(3000)
   H.ok(many - one < 10 * 1024, string.format("peak RSS %d KiB with 1 cloud, %d KiB with 3,000", one, many))
end)

H.test("a cloud or folder Resource Manager sends twice is scanned once: each backup handed over once", function()
   local s = H.start_fake { "--cloud", "c1=fa,fb", "--cloud", "c2=fd",
      "--generate", "engine=mysql,folder=fa,clusters=2,backups=3,prefix=ma",
      "--generate", "engine=mysql,folder=fb,clusters=1,backups=3,prefix=mb",
      "--generate", "engine=mysql,folder=fd,clusters=1,backups=3,prefix=md",
      -- fa twice in c1's list and again in c2's; c1 twice in Cloud.List
      "--fault", 'path=folders?cloudId=c1;body={"folders":[{"id":"fa"},{"id":"fb"},{"id":"fa"}]};times=0',
      "--fault", 'path=folders?cloudId=c2;body={"folders":[{"id":"fd"},{"id":"fa"}]};times=0',
      "--fault", 'path=/clouds;body={"clouds":[{"id":"c1"},{"id":"c2"},{"id":"c1"}]};times=0' }
   for _, o in ipairs { { all_clouds = true }, { cloud = "c1" } } do
      o.engine, o.resource_manager_endpoint = "mysql", s.url
      local got, backups, listed = {}, 0, {}
      -- (fa, sent by both clouds, belongs to the one whose list came first)
      o.listed = function(_, folder) listed[#listed + 1] = folder end
      for _, e in ipairs(H.client(s):scan(o)) do
         H.eq(e.error, nil)
         got[#got + 1] = e.folder .. " " .. e.id
         backups = backups + #e.backups
      end
      table.sort(listed)
      table.sort(got) -- folders complete in any order
      if o.all_clouds then
         H.eq(got, { "fa ma-0000", "fa ma-0001", "fb mb-0000", "fd md-0000" })
         H.eq({ backups, listed }, { 12, { "fa", "fb", "fd" } })
      else
         H.eq(got, { "fa ma-0000", "fa ma-0001", "fb mb-0000" })
         H.eq({ backups, listed }, { 9, { "fa", "fb" } })
      end
   end
   -- a recording of it is whole (a cluster met twice would end it)
   local db = H.tmpname(".db")
   local r = H.run({ H.source_dir .. "/scripts/snapshot.lua", "--db", db, "--engine", "mysql", "--all-clouds" },
      { env = { YC_MDB_ENDPOINT = s.url, YC_RESOURCE_MANAGER_ENDPOINT = s.url, YC_IAM_TOKEN = H.token } })
   H.eq(r.code, 0, r.stderr)
   H.eq(H.sqlite3(db, "SELECT count(*) FROM backup_states"), "12")
   s.stop()
end)

H.test("Resource Manager's endpoint defaults to Yandex Cloud's when neither the option nor the variable is set", function()
   -- Offline: a proxy on a refused port fails every request at once, and
   -- the error names the URL the scan aimed at.
   local code = [[
      local c = require "mdb".client { endpoint = "http://127.0.0.1:1", token = "x", retries = 0 }
      for _, o in ipairs { { all_clouds = true }, { cloud = "b1gc" } } do
         o.engine = "mysql"
         for _, e in ipairs(c:scan(o)) do print(e.error.kind, e.error.url) end
      end]]
   local DEFAULT = "https://resource-manager.api.cloud.yandex.net/resource-manager/v1/"
   local want = "network\t" .. DEFAULT .. "clouds?pageSize=1000\n"
      .. "network\t" .. DEFAULT .. "folders?cloudId=b1gc&pageSize=1000\n"
   for _, rm in ipairs { false, "" } do
      local r = H.run({ "-e", code }, { env = { YC_RESOURCE_MANAGER_ENDPOINT = rm, HTTPS_PROXY = "http://127.0.0.1:1",
         https_proxy = "http://127.0.0.1:1", NO_PROXY = false, no_proxy = false } })
      H.eq({ r.code, r.stdout }, { 0, want }, "YC_RESOURCE_MANAGER_ENDPOINT " .. tostring(rm) .. ": " .. r.stderr)
   end
end)

H.run_all()
