-- client:retention_policies{} and client:operations{}: the paging, limit,
-- retries, errors, repeat guard and normalisation of client:backups, for
-- BackupRetentionPolicy.List / ListByFolder and Cluster.ListOperations
-- (api-recovery.md §4, §5), against the fake API.
local H = dofile(os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/harness.lua")
local mdb_is_error = require("mdb").is_error
local cjson = require "cjson"

local function policy(id, cluster, extra)
   local p = { policyId = id, clusterId = cluster, policyName = "p-" .. id, createdAt = "2026-01-02T03:04:05Z",
      cron = { dayOfMonth = "1", month = "*", dayOfWeek = "*" }, retainForDays = "365" }
   for k, v in pairs(extra or {}) do p[k] = v end
   return p
end

local function operation(id, cluster, extra)
   local o = { id = id, description = "Backup cluster", createdAt = "2026-01-02T03:04:05Z",
      modifiedAt = "2026-01-02T03:10:05Z", done = true, createdBy = "sa1",
      metadata = { ["@type"] = "type.googleapis.com/yandex.cloud.mdb.mysql.v1.BackupClusterMetadata",
         clusterId = cluster } }
   for k, v in pairs(extra or {}) do o[k] = v end
   return o
end

-- The cluster records a listing needs (the fake answers 404 otherwise).
local function with_clusters(recs)
   local seen = {}
   for i = 1, #recs do
      local r = recs[i]
      local key = r[2] .. " " .. r[4]
      if not seen[key] then
         seen[key] = true
         recs[#recs + 1] = { "cluster", r[2], r[3], r[4], "n-" .. r[4],
            { id = r[4], folderId = r[3], name = "n-" .. r[4], createdAt = "2025-01-01T00:00:00Z" } }
      end
   end
   return recs
end

-- A fake with n policies and n operations of mysql cluster c1 (folder f1),
-- ids p01.. and o01..
local function fleet(n, args, engine)
   engine = engine or "mysql"
   local recs = {}
   for i = 1, n do
      recs[#recs + 1] = { "policy", engine, "f1", "c1", policy(string.format("p%02d", i), "c1") }
      recs[#recs + 1] = { "operation", engine, "f1", "c1", operation(string.format("o%02d", i), "c1") }
   end
   local words = { "--data", H.data_file(with_clusters(recs)) }
   for _, a in ipairs(args or {}) do words[#words + 1] = a end
   return H.start_fake(words)
end

local function policy_ids(list)
   local out = {}
   for i, p in ipairs(list) do out[i] = p.policyId end
   return out
end

local function seq(prefix, a, b)
   local out = {}
   for i = a, b do out[#out + 1] = string.format("%s%02d", prefix, i) end
   return out
end

H.test("retention_policies: paged across pages, normalised", function()
   local s = fleet(12)
   local c = H.client(s, { page_size = 5 })
   local it = c:retention_policies { engine = "mysql", cluster = "c1" }
   local got = H.collect(it)
   H.eq(policy_ids(got), seq("p", 1, 12))
   H.eq({ it:stats().pages, it:stats().items }, { 3, 12 })
   local p = got[1]
   H.eq(math.type(p.retainForDays), "integer", "retainForDays (an int64 string) becomes an integer")
   H.eq(p.retainForDays, 365)
   H.eq(p.created, 1767323045.0, "createdAt's seconds twin")
   H.eq(p.createdAt, "2026-01-02T03:04:05Z", "the original kept")
   H.eq(p.engine, "mysql")
   H.eq(p.cron.dayOfMonth, "1", "other fields pass through")
   local paths = {}
   for _, r in ipairs(H.requests(s)) do paths[#paths + 1] = r.target:match("^[^?]*") end
   H.eq(paths[1], "/managed-mysql/v1/clusters/c1/retention_policies")
end)

H.test("retention_policies by folder (ListByFolder), and limit", function()
   local s = fleet(12)
   local c = H.client(s, { page_size = 5 })
   local got = H.collect(c:retention_policies { engine = "mysql", folder = "f1", limit = 7 })
   H.eq(policy_ids(got), seq("p", 1, 7))
   local reqs = H.requests(s)
   H.eq(#reqs, 2, "a limit of 7 in pages of 5: two requests")
   H.ok(reqs[1].target:find("/managed-mysql/v1/folders/f1/retention_policies?", 1, true), reqs[1].target)
end)

H.test("operations: paged, limit, normalised", function()
   local s = fleet(12)
   local c = H.client(s, { page_size = 5 })
   local it = c:operations { engine = "mysql", cluster = "c1" }
   local got = H.collect(it)
   H.eq(H.ids(got), seq("o", 1, 12))
   H.eq(it:stats().pages, 3)
   local o = got[1]
   H.eq({ o.created, o.modified, o.engine }, { 1767323045.0, 1767323405.0, "mysql" })
   H.eq(o.metadata.clusterId, "c1")
   H.eq(H.ids(H.collect(c:operations { engine = "mysql", cluster = "c1", limit = 3 })), seq("o", 1, 3))
   -- page_token resumes where a token says
   local it2 = c:operations { engine = "mysql", cluster = "c1", limit = 5 }
   H.collect(it2)
   H.eq(H.ids(H.collect(c:operations { engine = "mysql", cluster = "c1", page_token = it2:token() })),
      seq("o", 6, 12))
end)

H.test("operations of SQL Server use its prefix /mdb/sqlserver/v1", function()
   local s = H.start_fake { "--data", H.data_file(with_clusters { { "operation", "sqlserver", "f1", "c1",
      operation("o1", "c1") } }) }
   local c = H.client(s)
   H.eq(H.ids(H.collect(c:operations { engine = "sqlserver", cluster = "c1" })), { "o1" })
   H.ok(H.requests(s)[1].target:find("^/mdb/sqlserver/v1/clusters/c1/operations%?"), H.requests(s)[1].target)
end)

H.test("a 500 is retried with the same page token", function()
   local s = fleet(12, { "--fault", "path=retention_policies;offset=5;status=500",
      "--fault", "path=operations;offset=5;status=500" })
   local c = H.client(s, { page_size = 5 })
   local it = c:retention_policies { engine = "mysql", cluster = "c1" }
   H.eq(policy_ids(H.collect(it)), seq("p", 1, 12))
   H.eq(it:stats().retries, 1)
   local ot = c:operations { engine = "mysql", cluster = "c1" }
   H.eq(H.ids(H.collect(ot)), seq("o", 1, 12))
   H.eq(ot:stats().retries, 1)
end)

H.test("a 403 is raised with the API's message, not retried", function()
   local body = '{"code":7,"message":"Permission denied to cluster c1"}'
   local s = fleet(3, { "--fault", "path=retention_policies;status=403;body=" .. body,
      "--fault", "path=operations;status=403;body=" .. body })
   local c = H.client(s)
   for _, list in ipairs { "retention_policies", "operations" } do
      local it = c[list](c, { engine = "mysql", cluster = "c1" })
      local err = H.raises("http", H.collect, it)
      H.eq(err.status, 403, list)
      H.eq(err.code, 7, list)
      H.contains(err.message, "Permission denied to cluster c1")
      H.contains(err.url, list == "operations" and "/clusters/c1/operations" or "/clusters/c1/retention_policies")
      H.eq(err.attempts, 1, "a 403 is final")
      -- the failed iterator keeps raising the same error
      H.eq(H.raises("http", it).message, err.message)
   end
end)

H.test("argument errors before any request", function()
   local s = fleet(1)
   local c = H.client(s)
   local function arg_error(name, fn)
      local err = H.raises("argument", fn)
      H.eq(err.argument, name, err.message)
      return err
   end
   local e = arg_error("folder", function() c:retention_policies { engine = "postgresql", folder = "f1" } end)
   H.contains(e.message, "ListByFolder")
   e = arg_error("engine", function() c:retention_policies { engine = "clickhouse", cluster = "c1" } end)
   H.contains(e.message, "postgresql, mysql, mongodb and redis")
   arg_error("engine", function() c:retention_policies { engine = "nosuch", cluster = "c1" } end)
   arg_error("cluster", function() c:retention_policies { engine = "mysql", cluster = "c1", folder = "f1" } end)
   arg_error("cluster", function() c:operations { engine = "mysql" } end)
   arg_error("folder", function() c:operations { engine = "mysql", folder = "f1" } end)
   arg_error("page_size", function() c:operations { engine = "mysql", cluster = "c1", page_size = 1001 } end)
   arg_error("limit", function() c:retention_policies { engine = "redis", cluster = "c1", limit = -1 } end)
   arg_error("page_token", function() c:operations { engine = "mysql", cluster = "c1", page_token = 5 } end)
   H.eq(#H.requests(s), 0, "no request was sent")
end)

H.test("repeat guard: items repeated at the head of the next page are yielded once", function()
   -- [a b] [b c] [c d]: a listing that shifted while paged
   local recs = {}
   for _, id in ipairs { "a", "b", "b", "c", "c", "d" } do
      recs[#recs + 1] = { "policy", "redis", "f1", "c1", policy(id, "c1") }
      recs[#recs + 1] = { "operation", "redis", "f1", "c1", operation(id, "c1") }
   end
   local s = H.start_fake { "--data", H.data_file(with_clusters(recs)) }
   local c = H.client(s, { page_size = 2 })
   local it = c:retention_policies { engine = "redis", cluster = "c1" }
   H.eq(policy_ids(H.collect(it)), { "a", "b", "c", "d" }, "policies compared by policyId")
   H.eq(it:stats().duplicates, 2)
   local ot = c:operations { engine = "redis", cluster = "c1" }
   H.eq(H.ids(H.collect(ot)), { "a", "b", "c", "d" })
   H.eq(ot:stats().duplicates, 2)
end)

H.test("a repeated page token raises kind 'cycle'", function()
   local s = fleet(12, { "--fault", "path=operations;offset=10;cycle_to=5" })
   local c = H.client(s, { page_size = 5 })
   local n = 0
   local err = H.raises("cycle", function()
      for _ in c:operations { engine = "mysql", cluster = "c1" } do n = n + 1 end
   end)
   H.contains(err.message, "repeated page token")
   H.eq(n, 10)
end)

H.test("a malformed item is an error naming the field, never a silent value", function()
   local s = H.start_fake { "--data", H.data_file(with_clusters {
      { "policy", "mongodb", "f1", "c1", policy("p1", "c1", { retainForDays = "many" }) },
      { "policy", "mongodb", "f1", "c2", '{"policyName":"no id"}' },
      { "operation", "mongodb", "f1", "c1", operation("o1", "c1", { modifiedAt = "yesterday" }) } }) }
   local c = H.client(s)
   local err = H.raises("json", H.collect, c:retention_policies { engine = "mongodb", cluster = "c1" })
   H.contains(err.message, "p1: field 'retainForDays' is not an int64 string")
   err = H.raises("json", H.collect, c:retention_policies { engine = "mongodb", cluster = "c2" })
   H.contains(err.message, "field 'policyId'")
   err = H.raises("json", H.collect, c:operations { engine = "mongodb", cluster = "c1" })
   H.contains(err.message, "o1: field 'modifiedAt' is not an RFC 3339 timestamp")
end)

H.test("tostring names the listing", function()
   local s = fleet(1)
   local c = H.client(s)
   H.contains(tostring(c:retention_policies { engine = "mysql", folder = "f1" }),
      "mysql retention policies of folder f1")
   H.contains(tostring(c:operations { engine = "mysql", cluster = "c1" }), "mysql operations of cluster c1")
end)

---------------------------------------------------------------------------
-- client:scan{with = {...}}

-- Two mysql clusters (c1: 7 policies, 7 operations; c2: 1 and 1), two
-- postgresql ones alike (p1, p2), a clickhouse cluster (no policies in the
-- API; 2 operations), 3 backups each, all in folder f1.  MySQL lists a
-- folder's policies at once (ListByFolder), PostgreSQL only per cluster.
local function scan_fleet(args)
   local recs = {}
   local function add(engine, cluster, np, no)
      for i = 1, 3 do
         recs[#recs + 1] = { "backup", engine, "f1", cluster,
            H.backup(cluster .. "-b" .. i, cluster, "2026-01-0" .. i .. "T00:00:00Z") }
      end
      for i = 1, np do recs[#recs + 1] = { "policy", engine, "f1", cluster, policy(cluster .. "-p" .. i, cluster) } end
      for i = 1, no do recs[#recs + 1] = { "operation", engine, "f1", cluster, operation(cluster .. "-o" .. i, cluster) } end
   end
   add("mysql", "c1", 7, 7)
   add("mysql", "c2", 1, 1)
   add("postgresql", "p1", 7, 7)
   add("postgresql", "p2", 1, 1)
   add("clickhouse", "k1", 0, 2)
   local words = { "--data", H.data_file(with_clusters(recs)) }
   for _, a in ipairs(args or {}) do words[#words + 1] = a end
   return H.start_fake(words)
end

local by_id = H.by_id

H.test("scan with= puts complete policies and operations on each entry", function()
   local s = scan_fleet()
   local c = H.client(s, { page_size = 3 })
   local rs = by_id(c:scan { engines = { "mysql", "clickhouse" }, folder = "f1",
      with = { "retention_policies", "operations" } })
   H.eq(policy_ids(rs.c1.policies), { "c1-p1", "c1-p2", "c1-p3", "c1-p4", "c1-p5", "c1-p6", "c1-p7" })
   H.eq(H.ids(rs.c1.operations), { "c1-o1", "c1-o2", "c1-o3", "c1-o4", "c1-o5", "c1-o6", "c1-o7" })
   H.eq(rs.c1.policies[1].retainForDays, 365, "normalised as the iterator does")
   H.eq(rs.c1.operations[1].modified, 1767323405.0)
   H.eq(#rs.c1.backups, 3)
   H.eq(rs.c1.stats.items, 3, "stats are the backups'")
   H.eq({ #rs.c2.policies, #rs.c2.operations }, { 1, 1 })
   H.eq(rs.k1.policies, nil, "clickhouse has no retention policies: not asked for")
   H.eq(rs.k1.policies_error, nil)
   H.eq(H.ids(rs.k1.operations), { "k1-o1", "k1-o2" })
   for _, r in ipairs(H.requests(s)) do
      H.ok(not r.target:find("clickhouse/v1/clusters/k1/retention_policies", 1, true), r.target)
   end
end)

H.test("scan without with= lists no policies or operations; with= asks only for what it names", function()
   local s = scan_fleet()
   local c = H.client(s)
   local rs = by_id(c:scan { engine = "mysql", folder = "f1" })
   H.eq({ rs.c1.policies, rs.c1.operations }, {})
   for _, r in ipairs(H.requests(s)) do
      H.ok(not r.target:find("retention_policies", 1, true) and not r.target:find("operations", 1, true), r.target)
   end
   rs = by_id(c:scan { engine = "mysql", clusters = { "c1" }, with = { "operations" } })
   H.eq({ rs.c1.policies, #rs.c1.operations }, { nil, 7 })
end)

H.test("scan: a failed policies listing leaves policies nil with policies_error, never a partial list", function()
   -- p1's policies fail on their second page (after 3 were read), 403: final
   local s = scan_fleet { "--fault", "path=clusters/p1/retention_policies;offset=3;status=403" ,
      "--fault", "path=clusters/p2/operations;status=500;times=0" }
   local c = H.client(s, { page_size = 3, retries = 1 })
   local rs = by_id(c:scan { engine = "postgresql", folder = "f1", with = { "retention_policies", "operations" } })
   H.eq(rs.p1.policies, nil, "no partial list")
   H.ok(mdb_is_error(rs.p1.policies_error), "the error is kept")
   H.eq(rs.p1.policies_error.status, 403)
   H.contains(rs.p1.policies_error.url, "/clusters/p1/retention_policies")
   H.eq(#rs.p1.operations, 7, "the operations are still listed")
   H.eq({ rs.p1.error, #rs.p1.backups }, { nil, 3 }, "the backups are not affected")
   H.eq(rs.p2.operations, nil)
   H.eq(rs.p2.operations_error.status, 500)
   H.eq(rs.p2.operations_error.attempts, 2, "retried as a backups page is")
   H.eq(#rs.p2.policies, 1)
end)

H.test("scan: MySQL's policies come from one listing of the folder, PostgreSQL's per cluster", function()
   local s = scan_fleet()
   local c = H.client(s, { page_size = 3 })
   for _, streaming in ipairs { false, true } do
      local before = #H.requests(s)
      local rs = {}
      local scan = { engines = { "mysql", "postgresql", "clickhouse" }, folder = "f1",
         with = { "retention_policies", "operations" } }
      if streaming then
         scan.each = function(e) rs[e.id] = e end
         c:scan(scan)
      else
         rs = by_id(c:scan(scan))
      end
      for _, id in ipairs { "c1", "p1" } do
         H.eq(policy_ids(rs[id].policies), { id .. "-p1", id .. "-p2", id .. "-p3", id .. "-p4", id .. "-p5",
            id .. "-p6", id .. "-p7" }, id)
         H.eq(rs[id].policies[1].retainForDays, 365, "normalised as the iterator does")
         H.eq(#rs[id].operations, 7, id)
         H.eq(#rs[id].backups, 3, id)
      end
      H.eq(policy_ids(rs.c2.policies), { "c2-p1" })
      H.eq(policy_ids(rs.p2.policies), { "p2-p1" })
      H.eq(rs.k1.policies, nil, "clickhouse has none")
      local folder_pages, per_cluster = 0, {}
      for i, q in ipairs(H.requests(s)) do
         if i > before and q.target:find("/managed-mysql/v1/folders/f1/retention_policies", 1, true) then
            folder_pages = folder_pages + 1
         end
         local who = i > before and q.target:match("/clusters/(%w+)/retention_policies")
         if who then per_cluster[who] = true end
      end
      H.eq(folder_pages, 3, "8 policies in pages of 3, once for the folder")
      H.eq(per_cluster, { p1 = true, p2 = true }, "PostgreSQL's per cluster, MySQL's never")
      -- what each entry got is what the iterator lists for its cluster
      for _, id in ipairs { "c1", "c2", "p1", "p2" } do
         local want = {}
         for p in c:retention_policies { engine = rs[id].engine, cluster = id } do want[#want + 1] = p end
         H.eq(rs[id].policies, want, id)
      end
   end
end)

H.test("scan: a failed listing of a folder's policies is every cluster's policies_error, the rest goes on", function()
   -- the folder's policies fail on their second page, 403: final
   local s = scan_fleet { "--fault", "path=/managed-mysql/v1/folders/f1/retention_policies;offset=3;status=403" }
   local c = H.client(s, { page_size = 3, retries = 1 })
   local rs = by_id(c:scan { engines = { "mysql", "postgresql" }, folder = "f1",
      with = { "retention_policies", "operations" } })
   for _, id in ipairs { "c1", "c2" } do
      H.eq(rs[id].policies, nil, id .. ": no partial list")
      H.ok(mdb_is_error(rs[id].policies_error), id)
      H.eq(rs[id].policies_error.status, 403)
      H.contains(rs[id].policies_error.url, "/folders/f1/retention_policies")
      H.eq({ rs[id].error, #rs[id].backups, #rs[id].operations }, { nil, 3, id == "c1" and 7 or 1 }, id)
   end
   H.eq(#rs.p1.policies, 7, "PostgreSQL's own listings are not affected")
   -- a policy without a clusterId cannot be filed: the listing fails, named
   local bad = H.start_fake { "--data", H.data_file(with_clusters {
      { "policy", "redis", "f1", "r1", policy("x1", "r1", { clusterId = cjson.null }) } }) }
   rs = by_id(H.client(bad):scan { engine = "redis", folder = "f1", with = { "retention_policies" } })
   H.eq(rs.r1.policies, nil)
   H.contains(tostring(rs.r1.policies_error), "policies[] item has no clusterId")
end)

H.test("scan: a failed backups listing ends that cluster's listings", function()
   local s = scan_fleet { "--fault", "path=clusters/c1/backups;status=403" }
   local c = H.client(s)
   local rs = by_id(c:scan { engine = "mysql", folder = "f1", with = { "retention_policies", "operations" } })
   H.eq(rs.c1.error.status, 403)
   H.eq({ rs.c1.policies, rs.c1.operations }, {})
   for _, r in ipairs(H.requests(s)) do H.ok(not r.target:find("clusters/c1/[ro]"), r.target) end
   H.eq(#rs.c2.policies, 1)
end)

H.test("scan with= streaming: a slow listing of the folder's policies holds no more backups than the window", function()
   -- 100 MySQL clusters of 200 backups; each page of the folder's policies
   -- takes 1 s.  The clusters wait for them before their backups are
   -- listed, not after (when all 100 would be held with 20,000 backups).
   local FOLDER = "b1gfakefolder0000001"
   local function peak(with, fault)
      local args = { "--generate", "engine=mysql,clusters=100,backups=200" }
      if fault then args[#args + 1] = "--fault"; args[#args + 1] = fault end
      local c = H.client(H.start_fake(args), { page_size = 100 })
      collectgarbage()
      local base, top, seen, n = collectgarbage("count"), 0, {}, 0
      c:scan { engine = "mysql", folder = FOLDER, concurrency = 4, with = with,
         each = function(e)
            n = n + 1
            H.eq(seen[e.id], nil, "delivered once: " .. tostring(e.id))
            seen[e.id] = true
            H.eq({ e.error, #e.backups }, { nil, 200 }, e.id)
            if with then H.eq(e.policies, {}, e.id) end
            top = math.max(top, collectgarbage("count") - base)
         end }
      H.eq(n, 100)
      return top
   end
   local plain = peak(nil)
   local slow = peak({ "retention_policies" }, "path=folders/" .. FOLDER .. "/retention_policies;delay_ms=1000")
   H.ok(slow < 3 * plain, string.format("memory stays flat: %.0f KiB at most, %.0f KiB without policies", slow, plain))
end)

H.test("scan with= streams (each=) complete entries, and shares the concurrency window", function()
   local s = scan_fleet()
   local c = H.client(s, { page_size = 3 })
   local seen = {}
   local r = c:scan { engine = "postgresql", folder = "f1", concurrency = 1,
      with = { "retention_policies", "operations" },
      each = function(e) seen[#seen + 1] = { e.id, #e.backups, #e.policies, #e.operations } end }
   H.eq(r, nil)
   table.sort(seen, function(a, b) return a[1] < b[1] end)
   H.eq(seen, { { "p1", 3, 7, 7 }, { "p2", 3, 1, 1 } })
   -- concurrency 1: one listing at a time, each cluster's three in turn
   local order = {}
   for _, q in ipairs(H.requests(s)) do
      local cl, what = q.target:match("/clusters/(p%d)/(%a+)")
      if cl and order[#order] ~= cl .. " " .. what then order[#order + 1] = cl .. " " .. what end
   end
   H.eq(#order, 6, table.concat(order, ", "))
   H.eq({ order[1]:match("%a+$"), order[2]:match("%a+$"), order[3]:match("%a+$") },
      { "backups", "retention", "operations" })
   H.eq(order[1]:sub(1, 2), order[3]:sub(1, 2), "the same cluster's")
end)

H.test("scan with= is checked before any request", function()
   local s = scan_fleet()
   local c = H.client(s)
   for _, bad in ipairs { "operations", { "operation" }, { 5 }, { operations = true } } do
      local err = H.raises("argument", c.scan, c, { engine = "mysql", folder = "f1", with = bad })
      H.eq(err.argument, "with", err.message)
   end
   H.eq(#H.requests(s), 0)
end)

---------------------------------------------------------------------------
-- the prompt: completion and printing

H.test("REPL: Tab completes the new methods; policies and operations print as tables and lines", function()
   local repl = require "mdb.repl"
   local s = scan_fleet { "--fault", "path=clusters/c2/operations;status=403" }
   local c = H.client(s)
   _G.client = c
   local ok, got = pcall(repl.complete, "client:", "")
   _G.client = nil
   H.ok(ok, got)
   local names = {}
   for _, n in ipairs(got) do names[n] = true end
   H.ok(names["client:retention_policies"] and names["client:operations"], table.concat(got, " "))

   local ps = repl.collect(c:retention_policies { engine = "mysql", cluster = "c1" })
   local t = repl.show(1, ps)
   H.contains(t, "POLICY")
   H.contains(t, "CRON")
   H.ok(t:find("\n7%s+c1%-p7%s+p%-c1%-p7%s+c1%s+mysql%s+1 %* %*%s+365%s"), t)
   H.contains(t, "\n7 retention policies")
   H.eq(repl.pretty(ps[1], { compact = true }), "<policy c1-p1  p-c1-p1  mysql  cron 1 * *  keep 365 days>")

   local failed = operation("f1", "k1", { error = { code = 13, message = "upload failed" } })
   local running = operation("r1", "k1", { done = cjson.null })
   running.done = nil
   local os_ = repl.collect(c:operations { engine = "mysql", cluster = "c1" })
   t = repl.show(1, os_)
   H.contains(t, "DESCRIPTION")
   H.contains(t, "\n7 operations, 0 failed")
   H.ok(t:find("\n1%s+c1%-o1%s+mysql%s+Backup cluster%s+2026%-01%-02 03:04:05Z%s+%S+%s+%S*%s*done"), t)
   failed.engine, running.engine = "clickhouse", "clickhouse"
   t = repl.show(1, { failed, running })
   H.contains(t, "failed: upload failed")
   H.contains(t, "running")
   H.contains(t, "2 operations, 1 failed")
   H.contains(repl.pretty({ x = os_[1] }), "<operation c1-o1  mysql  Backup cluster  2026-01-02 03:04:05Z (")

   local rs = c:scan { engine = "mysql", folder = "f1", with = { "retention_policies", "operations" } }
   t = repl.show(1, rs)
   H.contains(t, "POLICIES")
   H.contains(t, "OPERATIONS")
   H.ok(t:find("c1%s+n%-c1%s+3%s+.-%s7%s+7"), t)
   H.ok(t:find("c2%s+n%-c2%s+3%s+.-%s1%s+error%s+http: "), t)
   H.contains(t, "2 clusters, 6 backups, 1 failed")
   t = repl.show(1, c:scan { engine = "mysql", folder = "f1" })
   H.not_contains(t, "POLICIES", "no columns when with= was not given")
   -- help(x) of a policy or an operation explains its fields
   local help = require "mdb.help"
   H.contains(help.text(true, ps[1]), "retainForDays (an integer)")
   H.contains(help.text(true, os_[1]), "BackupClusterMetadata")
end)

---------------------------------------------------------------------------
-- scripts/audit.lua asks for them when its checks need them

local DEMO_NOW = "2026-11-23T18:38:38Z"
local POLICY = H.source_dir .. "/scripts/policies/production.lua"

local function audit(server, args)
   local a = { H.source_dir .. "/scripts/audit.lua", "--now", DEMO_NOW, "--format", "json" }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server.url,
      YC_FOLDER_ID = "b1gdemofolder0000001", NO_COLOR = false } })
   H.not_contains(r.stdout .. r.stderr, H.token, "output")
   local ok, doc = pcall(cjson.decode, r.stdout)
   H.ok(ok, r.stdout .. r.stderr)
   local by = {}
   for _, f in ipairs(doc.findings) do by[f.cluster_name .. " " .. f.check] = f end
   return r, by
end

H.test("audit.lua on fakeapi --demo: the failed backup attempt and the unhonoured policy are findings", function()
   local s = H.start_fake { "--demo", "--now", DEMO_NOW }
   local r, by = audit(s, { "--policy", POLICY })
   H.eq(r.code, 1, r.stderr)
   local f = by["users-prod failed_backups"]
   H.eq(f.status, "critical")
   H.contains(f.message, "operation mdbdemoop00000000004")
   H.contains(f.message, "Backup upload to object storage failed: connection reset by peer (code 13)")
   f = by["orders-prod retention_policy"]
   H.eq(f.status, "warning")
   H.contains(f.message, "policy daily-14d (fakepolicy0000000002")
   H.eq(by["sessions-cache retention_policy"].status, "ok", "the honoured policy")
   H.eq(by["billing-prod failed_backups"].status, "warning", "the backup operation running too long")
   H.eq(by["analytics retention_policy"], nil, "clickhouse has no retention policies")
end)

H.test("audit.lua: a failed policies or operations listing is an error finding of that check", function()
   local s = H.start_fake { "--demo", "--now", DEMO_NOW,
      "--fault", "path=c9qordersprod0000001/retention_policies;status=403;times=0",
      "--fault", "path=c9qusersprod00000003/operations;status=503;times=0" }
   local r, by = audit(s, { "--policy", POLICY, "--check", "retention_policy", "--check", "failed_backups" })
   H.eq(r.code, 2, "an error finding: exit 2")
   local f = by["orders-prod retention_policy"]
   H.eq(f.status, "error")
   H.contains(f.message, "listing retention policies failed: ")
   H.contains(f.message, "HTTP 403")
   f = by["users-prod failed_backups"]
   H.eq(f.status, "error")
   H.contains(f.message, "listing operations failed: ")
   H.eq(by["orders-prod failed_backups"].status, "ok", "the same cluster's operations were listed")
   H.eq(by["users-prod retention_policy"].status, "ok", "and the other cluster's policies")
end)

H.test("audit.lua lists policies and operations only when a check needs them", function()
   local s = H.start_fake { "--demo", "--now", DEMO_NOW }
   local r = audit(s, { "--policy", POLICY, "--check", "freshness" })
   H.eq(r.code, 1, r.stderr)
   for _, q in ipairs(H.requests(s)) do
      H.ok(not q.target:find("/retention_policies", 1, true) and not q.target:find("/operations", 1, true), q.target)
   end
   local _, by = audit(s, { "--policy", POLICY, "--check", "failed_backups" })
   H.eq(by["users-prod failed_backups"].status, "critical")
   local pol = 0
   for _, q in ipairs(H.requests(s)) do if q.target:find("/retention_policies", 1, true) then pol = pol + 1 end end
   H.eq(pol, 0, "failed_backups alone needs no policies")
end)

H.run_all()
