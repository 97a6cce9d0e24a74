-- The fake API's retention policies and operations (tests/fakeapi/records.c):
-- paths and engines as api-recovery.md §4-5 has them, paging like every
-- listing, --data records, and the demo fleet's broken clusters.  Real HTTP
-- over loopback (curl), real JSON (lua-cjson).
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"
local mdb = require "mdb"

-- GET path on the fake: status and decoded body.
local function get(s, path)
   local r = H.run({ "-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer " .. H.token, s.url .. path },
      { program = "curl" })
   H.eq(r.code, 0, "curl " .. path .. ": " .. r.stderr)
   local body, status = r.stdout:match("^(.*)\n(%d+)$")
   return tonumber(status), cjson.decode(body)
end

-- Every item of a listing, one page of `size` at a time; and the pages.
local function all_pages(s, path, key, size)
   local items, pages, token = {}, 0, nil
   repeat
      local sep = path:find("?", 1, true) and "&" or "?"
      local status, body = get(s, path .. sep .. "pageSize=" .. size .. (token and "&pageToken=" .. token or ""))
      H.eq(status, 200, path)
      pages = pages + 1
      for _, x in ipairs(body[key]) do items[#items + 1] = x end
      token = body.nextPageToken
      H.ok(pages < 100, "paging ends")
   until token == nil or token == ""
   return items, pages
end

local function ids(list, field)
   local out = {}
   for i, x in ipairs(list) do out[i] = x[field or "id"] end
   return out
end

local function policy(id, cluster)
   return { policyId = id, clusterId = cluster, policyName = id, createdAt = "2026-01-01T00:00:00Z",
      cron = { dayOfMonth = "*", month = "*", dayOfWeek = "*" }, retainForDays = "7" }
end

local function op(id, cluster, extra)
   local o = { id = id, createdAt = "2026-11-01T22:00:00Z", modifiedAt = "2026-11-01T22:30:00Z", done = true,
      metadata = { ["@type"] = "type.googleapis.com/yandex.cloud.mdb.mysql.v1.BackupClusterMetadata",
         clusterId = cluster } }
   for k, v in pairs(extra or {}) do o[k] = v end
   return o
end

H.test("--data policy and operation records: listed per cluster and per folder, paged, in order", function()
   local recs = {
      { "cluster", "mysql", "f1", "c1", "one", { id = "c1", folderId = "f1", name = "one" } },
      { "cluster", "mysql", "f1", "c2", "two", { id = "c2", folderId = "f1", name = "two" } },
      { "cluster", "postgresql", "f1", "p1", "pg", { id = "p1", folderId = "f1", name = "pg" } },
   }
   for i = 1, 5 do recs[#recs + 1] = { "policy", "mysql", "f1", "c1", policy("pol" .. i, "c1") } end
   recs[#recs + 1] = { "policy", "mysql", "f1", "c2", policy("pol6", "c2") }
   recs[#recs + 1] = { "policy", "postgresql", "f1", "p1", policy("ppol", "p1") }
   for i = 1, 7 do recs[#recs + 1] = { "operation", "mysql", "f1", "c1", op("op" .. i, "c1") } end
   recs[#recs + 1] = { "operation", "mysql", "f1", "c1",
      op("op8", "c1", { error = { code = 13, message = "backup failed: disk full", details = {} } }) }
   local s = H.start_fake { "--data", H.data_file(recs) }

   local pols, pages = all_pages(s, "/managed-mysql/v1/clusters/c1/retention_policies", "policies", 2)
   H.eq(ids(pols, "policyId"), { "pol1", "pol2", "pol3", "pol4", "pol5" })
   H.eq(pages, 3)
   H.eq(pols[1].cron, { dayOfMonth = "*", month = "*", dayOfWeek = "*" })
   H.eq(pols[1].retainForDays, "7", "int64 as a JSON string, served verbatim")
   local folder = all_pages(s, "/managed-mysql/v1/folders/f1/retention_policies", "policies", 4)
   H.eq(ids(folder, "policyId"), { "pol1", "pol2", "pol3", "pol4", "pol5", "pol6" })
   H.eq(ids(all_pages(s, "/managed-postgresql/v1/clusters/p1/retention_policies", "policies", 10), "policyId"),
      { "ppol" })

   local ops = all_pages(s, "/managed-mysql/v1/clusters/c1/operations", "operations", 3)
   H.eq(ids(ops), { "op1", "op2", "op3", "op4", "op5", "op6", "op7", "op8" })
   H.eq(ops[8].error.message, "backup failed: disk full")
   -- a cluster with none: an empty list, not an error
   local status, body = get(s, "/managed-mysql/v1/clusters/c2/operations")
   H.eq({ status, #body.operations, body.nextPageToken }, { 200, 0, nil })
end)

H.test("retention policies only where the API has them; unknown clusters 404; bad paging 400", function()
   local s = H.start_fake { "--generate", "engine=clickhouse,clusters=1,backups=1",
      "--generate", "engine=postgresql,clusters=1,backups=1", "--generate", "engine=sqlserver,clusters=1,backups=1" }
   local st, body = get(s, "/managed-clickhouse/v1/clusters/cclickhouse-0000/retention_policies")
   H.eq(st, 404, "no BackupRetentionPolicyService for ClickHouse")
   H.contains(body.message, "no method at path")
   st = get(s, "/managed-postgresql/v1/folders/b1gfakefolder0000001/retention_policies")
   H.eq(st, 404, "PostgreSQL has no ListByFolder")
   st, body = get(s, "/managed-postgresql/v1/clusters/cpostgresql-0000/retention_policies")
   H.eq({ st, #body.policies }, { 200, 0 })
   st, body = get(s, "/managed-postgresql/v1/clusters/nosuch/operations")
   H.eq({ st, body.message }, { 404, 'Cluster "nosuch" not found' })
   -- SQL Server's path prefix differs (api.md)
   st, body = get(s, "/mdb/sqlserver/v1/clusters/csqlserver-0000/operations")
   H.eq({ st, #body.operations }, { 200, 0 })
   st, body = get(s, "/managed-clickhouse/v1/clusters/cclickhouse-0000/operations?pageSize=1001")
   H.eq(st, 400)
   H.contains(body.message, "page_size")
   st = get(s, "/managed-clickhouse/v1/clusters/cclickhouse-0000/operations?pageToken=bogus")
   H.eq(st, 400)
end)

H.test("a --data file with an unknown record type names the types there are", function()
   local path = H.write_file(H.tmpname(".data"), "policies mysql f1 c1 {}\n")
   local r = H.run({ "--port", "0", "--token", "x", "--data", path }, { program = H.fakeapi })
   H.eq(r.code ~= 0, true)
   H.contains(r.stderr, ":1: unknown record type 'policies' (want 'cluster', 'backup', 'policy' or 'operation')")
end)

H.test("the demo fleet: a failed backup attempt, a backup running 9 h, a policy nobody honours", function()
   local NOW = "2026-11-23T18:00:00Z"
   local s = H.start_fake { "--demo", "--now", NOW }
   local users = all_pages(s, "/managed-mongodb/v1/clusters/c9qusersprod00000003/operations", "operations", 1)
   local last = users[#users]
   H.eq({ last.done, last.error.code, last.createdAt },
      { true, 13, "2026-11-23T17:00:00Z" })
   H.contains(last.error.message, "object storage failed")
   H.eq(users[1].error, nil, "the attempt a day earlier succeeded")
   H.ok(users[1].response, "with a response")
   local billing = all_pages(s, "/managed-postgresql/v1/clusters/c9qbillingprod000002/operations", "operations", 10)
   H.eq({ billing[1].done, billing[1].createdAt }, { false, "2026-11-23T08:53:00Z" })
   -- its backup is the one still CREATING
   local c = H.client(s)
   local creating
   for b in c:backups { engine = "postgresql", cluster = "c9qbillingprod000002" } do
      if b.status == "CREATING" then creating = b.id end
   end
   H.eq(billing[1].metadata.backupId, creating)
   H.eq(billing[1].metadata["@type"], "type.googleapis.com/yandex.cloud.mdb.postgresql.v1.BackupClusterMetadata")
   -- orders-prod's daily policy: no backup carries it
   local pol = all_pages(s, "/managed-postgresql/v1/clusters/c9qordersprod0000001/retention_policies", "policies", 10)
   H.eq(ids(pol, "policyId"), { "fakepolicy0000000002" })
   for b in c:backups { engine = "postgresql", cluster = "c9qordersprod0000001" } do
      H.ok(b.retentionPolicyId ~= "fakepolicy0000000002", b.id)
   end
   H.eq(ids(all_pages(s, "/managed-redis/v1/folders/b1gdemofolder0000001/retention_policies", "policies", 10),
      "policyId"), { "fakepolicy0000000003" })
   -- metrics-staging keeps 3 days: its oldest backup is younger than 3 days
   local oldest = math.huge
   for b in c:backups { engine = "clickhouse", cluster = "c9qmetricsstaging008" } do
      oldest = math.min(oldest, b.created)
   end
   H.ok(oldest > mdb.parse_time(NOW) - 3 * 86400, "oldest backup " .. oldest)
end)

H.test("the demo fleet through the audit: the checks fire on the clusters made to fail them", function()
   local NOW = "2026-11-23T18:00:00Z"
   local s = H.start_fake { "--demo", "--now", NOW }
   local c = H.client(s)
   local audit = require "mdb.audit"
   local PREFIX = { postgresql = "/managed-postgresql/v1", mongodb = "/managed-mongodb/v1",
      redis = "/managed-redis/v1", clickhouse = "/managed-clickhouse/v1" }
   local entries = {}
   for engine, prefix in pairs(PREFIX) do
      for cl in c:clusters { engine = engine, folder = "b1gdemofolder0000001" } do
         local e = { engine = engine, id = cl.id, cluster = cl, backups = H.collect(c:backups {
            engine = engine, cluster = cl.id }) }
         e.operations = all_pages(s, prefix .. "/clusters/" .. cl.id .. "/operations", "operations", 1)
         if engine ~= "clickhouse" then
            e.policies = all_pages(s, prefix .. "/clusters/" .. cl.id .. "/retention_policies", "policies", 1)
         end
         entries[#entries + 1] = e
      end
   end
   local got = {}
   for _, f in ipairs(audit.run(entries, nil, { now = mdb.parse_time(NOW) })) do
      if f.check == "failed_backups" or f.check == "retention_policy" or f.check == "recoverability" then
         got[f.cluster_name .. " " .. f.check] = f.status
      end
   end
   H.eq(got["users-prod failed_backups"], "critical")
   H.eq(got["billing-prod failed_backups"], "warning")
   H.eq(got["orders-prod failed_backups"], "ok")
   H.eq(got["orders-prod retention_policy"], "warning")
   H.eq(got["sessions-cache retention_policy"], "ok")
   H.eq(got["metrics-staging recoverability"], "critical")
   H.eq(got["analytics recoverability"], "ok")
   H.eq(got["analytics retention_policy"], nil, "ClickHouse has no retention policies")
end)

H.run_all()
