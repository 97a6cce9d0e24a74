-- A Resource Manager listing that fails (one cloud's Folder.List, or
-- Cloud.List itself: a token it rejects, an endpoint that refuses) is
-- one row, finding or plan in every report body, naming that listing
-- with the API's message; no engine's Cluster.List ran, so no row per
-- engine is made up.  Exit codes stay those of a failed listing, and
-- Prometheus still gets a `check="listing"` series of value 3 (one per
-- failed listing, told apart by its cloud) that promtool accepts.  End to
-- end through mdblua against the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local SCRIPTS = H.source_dir .. "/scripts/"
local NOW = "2026-11-23T18:00:00Z"   -- the fake's backups are fresh then

local function run(server, rm_url, script, args)
   local a = { SCRIPTS .. script }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server.url,
      YC_RESOURCE_MANAGER_ENDPOINT = rm_url or server.url, YC_FOLDER_ID = false, NO_COLOR = false } })
   H.not_contains(r.stdout .. r.stderr, H.token, script .. ": output")
   H.not_contains(r.stdout .. r.stderr, "traceback", script)
   return r
end

local function count(s, needle)
   local n, i = 0, 1
   while true do
      local j = s:find(needle, i, true)
      if not j then return n end
      n, i = n + 1, j + #needle
   end
end

local with = H.with

-- Every script, every format, and how often each failed listing's text
-- shows in that format's body (junit: the message and the text; html:
-- the failed listings and the findings; prometheus: a label instead;
-- plans in csv and jsonl have rows for backups only).
local FORMATS = {
   ["audit.lua"] = { args = { "--check", "freshness" }, code = 2,
      formats = { table = 1, json = 1, jsonl = 1, csv = 1, markdown = 1, junit = 2, prometheus = 0, nagios = 1,
         html = 2 } },
   ["inventory.lua"] = { args = {}, code = 2,
      formats = { table = 1, json = 1, jsonl = 1, csv = 1, markdown = 1, prometheus = 0, html = 1 } },
   ["freshness.lua"] = { args = {}, code = 3,
      formats = { table = 1, json = 1, jsonl = 1, csv = 1, markdown = 1, prometheus = 0, nagios = 1 } },
   ["retention-plan.lua"] = { args = { "--keep-last", "1" }, code = 2,
      formats = { table = 1, json = 1, jsonl = 0, csv = 0, markdown = 1 } },
}

-- What each format must show of the failed listings `what` (texts such as
-- "the folders of cloud C (Resource Manager)") with cloud label values
-- `clouds`, and never: a row per engine.
local function check_body(script, f, body, what, clouds, times)
   local label = script .. " --format " .. f
   for _, w in ipairs(what) do
      H.eq(count(body, w), times, label .. ": " .. w .. " in\n" .. body)
   end
   -- every engine is scanned: a row per engine would name these
   for _, e in ipairs { "mongodb", "spqr", "greenplum" } do
      H.not_contains(body, e .. " clusters", label)
      H.not_contains(body, 'engine="' .. e .. '"', label)
      H.not_contains(body, '"engine":"' .. e .. '"', label)
      H.not_contains(body, '<testsuite name="' .. e .. '"', label)
   end
   H.not_contains(body, "listing mysql clusters", label)
   if f == "prometheus" then
      local metric = script == "inventory.lua" and "mdb_backup_listing_success" or "mdb_audit_status"
      for _, c in ipairs(clouds) do
         local line = script == "inventory.lua"
            and string.format('mdb_backup_listing_success{folder="",engine="",cluster_id="",cluster_name="",'
               .. 'cloud="%s"} 0\n', c)
            or string.format('mdb_audit_status{folder="",engine="",cluster_id="",cluster_name="",check="listing",'
               .. 'cloud="%s"} 3\n', c)
         H.eq(count(body, line), 1, label .. ": " .. line .. body)
      end
      H.eq(count(body, metric .. '{folder="",'), #clouds, label .. ": one series per failed listing")
      local r = H.run({ "check", "metrics" }, { program = "promtool", stdin = body })
      H.eq(r.code, 0, label .. ": promtool: " .. r.stdout .. r.stderr)
      H.eq(r.stdout .. r.stderr, "", label .. ": no lint warning")
   elseif f == "json" and script ~= "retention-plan.lua" then
      local doc = cjson.decode(body)
      local list = doc.findings or doc
      local n = 0
      for _, x in ipairs(list) do
         if x.check == "listing" or (x.error and x.error ~= cjson.null) then
            n = n + 1
            H.eq(x.engine, cjson.null, label .. ": no engine")
         end
      end
      H.eq(n, #what, label .. ": one record per failed listing")
   end
end

H.test("one cloud's Folder.List fails (two clouds): each is one row in every script's every format", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=3,prefix=amysql",
      "--cloud", "b1gcloud1=b1gfa", "--cloud", "b1gcloud2=b1gfz", "--cloud", "b1gcloud3=b1gfy", "--now", NOW,
      "--fault", "path=cloudId=b1gcloud2&;status=403;times=0", "--fault", "path=cloudId=b1gcloud3&;status=403;times=0" }
   local what = { "the folders of cloud b1gcloud2 (Resource Manager)", "the folders of cloud b1gcloud3 (Resource Manager)" }
   for script, c in pairs(FORMATS) do
      for f, times in pairs(c.formats) do
         local r = run(s, nil, script, with(c.args, "--all-clouds", "--now", NOW, "--format", f))
         local code = f == "nagios" and 3 or c.code
         H.eq(r.code, code, script .. " " .. f .. ": " .. r.stderr)
         check_body(script, f, r.stdout, what, { "b1gcloud2", "b1gcloud3" }, times)
         -- (markdown and nagios findings name problems only, audit's table too)
         local problems_only = (script == "audit.lua" or script == "freshness.lua")
            and (f == "markdown" or f == "nagios" or script == "audit.lua" and f == "table")
         if not problems_only then
            H.contains(r.stdout, "mysql-0001", script .. " " .. f .. ": the other cloud's clusters")
         end
         -- the stderr line stays one per failed listing
         H.eq(count(r.stderr, "\n"), 2, script .. " " .. f .. ": " .. r.stderr)
      end
   end
end)

H.test("the text and table bodies read: listing <the cloud's folders> failed, with the API's message", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=3,prefix=amysql",
      "--cloud", "b1gcloud1=b1gfa", "--cloud", "b1gcloud2=b1gfz", "--now", NOW,
      "--fault", "path=cloudId=b1gcloud2&;status=403;times=0" }
   local msg = "the folders of cloud b1gcloud2 (Resource Manager) failed: http error: Permission denied (HTTP 403"
   local a = run(s, nil, "audit.lua", { "--cloud", "b1gcloud2", "--now", NOW, "--check", "freshness" })
   H.eq(a.code, 2, a.stderr)
   H.ok(a.stdout:match("\nERROR%s+%-%s+%-%s+%-%s+listing%s+listing " .. msg:gsub("%p", "%%%0")), a.stdout)
   H.contains(a.stdout, "0 clusters, 1 check: 0 ok, 0 warning, 0 critical, 1 error")
   local n = run(s, nil, "audit.lua", { "--all-clouds", "--now", NOW, "--check", "freshness", "--format", "nagios" })
   H.eq(n.code, 3, n.stderr)
   H.ok(n.stdout:find("^MDB BACKUP AUDIT UNKNOWN %- 1 error: the folders of cloud b1gcloud2 %(Resource Manager%) "
      .. "listing error | ok=1 warning=0 critical=0 error=1\n$"), n.stdout)
   local j = run(s, nil, "audit.lua", { "--all-clouds", "--now", NOW, "--check", "freshness", "--format", "junit" })
   H.contains(j.stdout, '<testsuite name="Resource Manager" tests="1" failures="0" errors="1"')
   H.contains(j.stdout, '<testcase classname="Resource Manager.b1gcloud2" name="listing"')
   local i = run(s, nil, "inventory.lua", { "--all-clouds", "--now", NOW })
   H.contains(i.stdout, "1 cluster, 3 backups, 16 GiB in total; 1 listing failed:\n"
      .. "  the folders of cloud b1gcloud2 (Resource Manager): http error: Permission denied (HTTP 403")
   local t = run(s, nil, "inventory.lua", { "--all-clouds", "--now", NOW, "--timeline" })
   -- (the FOLDER column first: a cloud's clusters are in several folders)
   H.ok(t.stdout:match("\n%-%s+%-%s+%(clusters%)%s+listing " .. msg:gsub("%p", "%%%0")), t.stdout)
   local f = run(s, nil, "freshness.lua", { "--all-clouds", "--now", NOW, "--format", "nagios" })
   H.eq(f.code, 3, f.stderr)
   H.ok(f.stdout:find("^MDB BACKUP FRESHNESS UNKNOWN %- the folders of cloud b1gcloud2 %(Resource Manager%) "
      .. "listing failed | 'b1gfa/mysql/mysql%-0000'=0s;"), f.stdout)
   local p = run(s, nil, "retention-plan.lua", { "--all-clouds", "--now", NOW, "--keep-last", "1" })
   H.contains(p.stdout, "\nthe folders of cloud b1gcloud2 (Resource Manager): listing failed: http error: "
      .. "Permission denied (HTTP 403")
   H.contains(p.stdout, "1 cluster: keep 1, expire 2, 1 listing failed")
   local pj = cjson.decode(run(s, nil, "retention-plan.lua",
      { "--all-clouds", "--now", NOW, "--keep-last", "1", "--format", "json" }).stdout)
   H.eq(#pj, 2)
   H.eq(pj[2].engine, cjson.null)
   H.ok(pj[2].error:find("^the folders of cloud b1gcloud2 %(Resource Manager%): http error: Permission denied"),
      pj[2].error)
end)

H.test("Cloud.List fails (a token Resource Manager rejects, an endpoint that refuses): one row, the clouds", function()
   local api = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=3", "--now", NOW }
   local rejects = H.start_fake { "--cloud", "b1gcloud1=b1gfa", "--token", "another-token" }
   -- (a refused connection is retried for seconds: one format each)
   for _, case in ipairs { { rejects.url, "Token is invalid or has expired. (HTTP 401" },
      { "http://127.0.0.1:9", "network error: ", only = "table" } } do
      for script, c in pairs(FORMATS) do
         for f, times in pairs(c.formats) do
            if case.only and f ~= case.only then goto next end
            local what = script .. " " .. f .. " " .. case[1]
            local r = run(api, case[1], script, with(c.args, "--all-clouds", "--now", NOW, "--format", f))
            H.eq(r.code, (f == "nagios" or script == "freshness.lua") and 3 or 2, what .. ": " .. r.stderr)
            check_body(script, f, r.stdout, { "the clouds (Resource Manager)" }, { "" }, times)
            if times > 0 and f ~= "nagios" then H.contains(r.stdout, case[2], what) end
            H.eq(count(r.stderr, "\n"), 1, what .. ": " .. r.stderr)
            ::next::
         end
      end
   end
end)

H.run_all()
