-- Scans over several folders (--folder repeated, --cloud, --all-clouds):
-- every fleet script names each cluster's folder in every report format,
-- and names none with one folder; a Resource Manager that refuses the
-- token, cannot be reached or cannot list one cloud's folders is one
-- clear line naming what failed, with the documented exit status.  End to
-- end through mdblua against the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local NOW = "2026-11-25T18:00:00Z"   -- the newest backups are 2 days old: freshness warns, shows rows
local SCRIPTS = H.source_dir .. "/scripts/"

local function run(server, script, args, env)
   local e = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server.url, YC_RESOURCE_MANAGER_ENDPOINT = server.url,
      YC_FOLDER_ID = false, NO_COLOR = false }
   for k, v in pairs(env or {}) do e[k] = v end
   local a = { SCRIPTS .. script }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = e })
   H.not_contains(r.stdout .. r.stderr, H.token, script .. ": output")
   H.not_contains(r.stdout .. r.stderr, "traceback", script)
   return r
end

local with = H.with

local function folders_fake()
   return H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=10,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfb,clusters=1,backups=10,prefix=bmysql",
      "--cloud", "b1gcloud1=b1gfa,b1gfb", "--cloud", "b1gcloud2=", "--now", "2026-11-23T18:00:00Z" }
end

-- What shows the folder b1gfb in each format (the folder id is in no
-- other field of these reports).
local SHAPE = {
   csv = function(out) return out:match("^folder,") and out:find("\r\nb1gfb,", 1, true) end,
   json = function(out) return out:find('"folder":"b1gfb"', 1, true) end,
   jsonl = function(out) return out:find('"folder":"b1gfb"', 1, true) end,
   prometheus = function(out) return out:find('{folder="b1gfb",', 1, true) end,
}
local TABLE_SHAPE = {   -- table and markdown: a column, or (plans) the cluster's title
   ["audit.lua"] = { table = "FOLDER", markdown = "| Status | Folder |" },
   ["freshness.lua"] = { table = "FOLDER", markdown = "| Status | Folder |" },
   ["inventory.lua"] = { table = "FOLDER", markdown = "| FOLDER | ENGINE |" },
   ["retention-plan.lua"] = { table = "mysql mysql-0000 (bmysql-0000) in folder b1gfb: keep 1, expire 9",
      markdown = "### mysql mysql-0000 (bmysql-0000) in folder b1gfb: keep 1, expire 9" },
}
local SCRIPT_ARGS = {
   ["audit.lua"] = { "--check", "count", "--all" },
   ["inventory.lua"] = {},
   ["freshness.lua"] = {},
   ["retention-plan.lua"] = { "--keep-last", "1" },
}

H.test("every script and format names the folder with several folders, and none with one", function()
   local s = folders_fake()
   local report = require "mdb.report"
   for script, extra in pairs(SCRIPT_ARGS) do
      local formats = script == "retention-plan.lua" and report.FORMATS.plans or report.FORMATS.inventory
      for _, f in ipairs(formats) do
         local base = with({ "--engine", "mysql", "--now", NOW, "--format", f }, table.unpack(extra))
         for _, scope in ipairs { { "--folder", "b1gfa", "--folder", "b1gfb" }, { "--cloud", "b1gcloud1" },
            { "--all-clouds" } } do
            local what = script .. " --format " .. f .. " " .. table.concat(scope, " ")
            local r = run(s, script, with(base, table.unpack(scope)))
            H.ok(r.code == 0 or script == "freshness.lua" and r.code == 1, what .. ": exit " .. r.code .. r.stderr)
            H.contains(r.stdout, "mysql-0000", what)
            local shape = SHAPE[f]
            if shape then
               H.ok(shape(r.stdout), what .. ": the folder in its place:\n" .. r.stdout)
            else
               H.contains(r.stdout, TABLE_SHAPE[script][f], what)
               H.contains(r.stdout, "b1gfb", what)
            end
         end
         local one = run(s, script, with(base, "--folder", "b1gfb"))
         H.contains(one.stdout, "mysql-0000", script .. " " .. f .. " one folder")
         H.not_contains(one.stdout:lower(), "folder", script .. " " .. f .. " one folder")
         H.not_contains(one.stdout, "b1gfb", script .. " " .. f .. " one folder")
      end
   end
end)

H.test("freshness --format nagios: perfdata labels name the folder, so same-named clusters stay apart", function()
   local s = folders_fake()
   local r = run(s, "freshness.lua", { "--engine", "mysql", "--now", NOW, "--format", "nagios", "--all-clouds" })
   H.eq(r.code, 1, r.stderr)
   H.contains(r.stdout, "'b1gfa/mysql/mysql-0000'=172800s")
   H.contains(r.stdout, "'b1gfb/mysql/mysql-0000'=172800s")
   local one = run(s, "freshness.lua", { "--engine", "mysql", "--now", NOW, "--format", "nagios", "--folder", "b1gfa" })
   H.contains(one.stdout, "'mysql/mysql-0000'=172800s")
end)

H.test("audit --format junit: test case classes name the folder, so same-named clusters stay apart", function()
   local s = folders_fake()
   local args = { "--engine", "mysql", "--now", NOW, "--format", "junit", "--check", "count" }
   local r = run(s, "audit.lua", with(args, "--cloud", "b1gcloud1"))
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, '<testcase classname="b1gfa.mysql.mysql-0000" name="count"')
   H.contains(r.stdout, '<testcase classname="b1gfb.mysql.mysql-0000" name="count"')
   local one = run(s, "audit.lua", with(args, "--folder", "b1gfb"))
   H.contains(one.stdout, '<testcase classname="mysql.mysql-0000" name="count"')
end)

H.test("list-backups: several folders, a cloud, all clouds: every cluster's backups with a FOLDER column", function()
   local s = folders_fake()
   for _, scope in ipairs { { "--folder", "b1gfa", "--folder", "b1gfb" }, { "--cloud", "b1gcloud1" },
      { "--all-clouds" } } do
      local what = table.concat(scope, " ")
      local r = run(s, "list-backups.lua", with({ "--engine", "mysql" }, table.unpack(scope)))
      H.eq(r.code, 0, r.stderr)
      local lines = {}
      for l in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = l end
      H.eq(#lines, 31, what .. ": a header and 30 backups")
      H.ok(lines[1]:match("^ID%s+FOLDER%s+CLUSTER%s+CREATED%s+AGE%s+SIZE%s+TYPE$"), lines[1])
      H.ok(lines[2]:match("^amysql%-0000:000000%s+b1gfa%s+amysql%-0000%s"), lines[2])
      H.ok(lines[31]:match("^bmysql%-0000:000009%s+b1gfb%s+bmysql%-0000%s"), lines[31])
      H.contains(r.stderr, "30 backups, 3 pages", what)
      local j = run(s, "list-backups.lua", with({ "--engine", "mysql", "--json", "--limit", "12" }, table.unpack(scope)))
      H.eq(j.code, 0, j.stderr)
      local list = cjson.decode(j.stdout)
      local got = {}
      for i, b in ipairs(list) do got[i] = b.folderId .. "/" .. b.id end
      H.eq(#got, 12, what .. ": --limit over the whole listing")
      H.eq({ got[1], got[10], got[11], got[12] }, { "b1gfa/amysql-0000:000000", "b1gfa/amysql-0000:000009",
         "b1gfa/amysql-0001:000000", "b1gfa/amysql-0001:000001" }, what .. ": in scan order")
      H.eq(j.stderr, "", "nothing on stderr for JSON")
   end
   local one = run(s, "list-backups.lua", { "--engine", "mysql", "--folder", "b1gfb" })
   H.ok(one.stdout:match("^ID%s+CLUSTER%s+CREATED"), one.stdout)
end)

H.test("list-backups over several folders: a failed listing is one line and exit 2, the rest listed", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=3,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfb,clusters=1,backups=3,prefix=bmysql",
      "--fault", "path=amysql-0001/backups;status=403;times=0" }
   local r = run(s, "list-backups.lua", { "--engine", "mysql", "--folder", "b1gfa", "--folder", "b1gfb", "--json" })
   H.eq(r.code, 2)
   H.eq(#cjson.decode(r.stdout .. "]"), 6, "the rest listed, the array left open")
   H.ok(r.stderr:match("^list%-backups%.lua: mysql amysql%-0001: http error: Permission denied [^\n]*\n$"), r.stderr)
end)

H.test("list-backups over several folders: a listing failing mid-way shows none of its backups; the count says so",
   function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=5,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfb,clusters=2,backups=5,prefix=bmysql",
      "--cloud", "b1gcloud1=b1gfa,b1gfb",
      "--fault", "path=bmysql-0001/backups;offset=2;status=403;times=0" }   -- its second page
   local args = { "--engine", "mysql", "--cloud", "b1gcloud1", "--page-size", "2" }
   local t = run(s, "list-backups.lua", args)
   H.eq(t.code, 2, t.stderr)
   H.not_contains(t.stdout, "bmysql-0001", "no row of the failed listing")
   local rows = 0
   for _ in t.stdout:gmatch("\n") do rows = rows + 1 end
   H.eq(rows, 1 + 15, "a header and the three finished listings: " .. t.stdout)
   H.ok(t.stderr:match("^list%-backups%.lua: mysql bmysql%-0001: http error: Permission denied [^\n]*\n"
      .. "15 backups, %d+ pages, 1 listing failed\n$"), t.stderr)
   local j = run(s, "list-backups.lua", with(args, "--json"))
   H.eq(j.code, 2, j.stderr)
   local list = cjson.decode(j.stdout .. "]")   -- left open: a listing failed
   H.eq(#list, 15)
   for _, b in ipairs(list) do H.ok(b.sourceClusterId ~= "bmysql-0001", b.id) end
   H.ok(j.stderr:match("^list%-backups%.lua: mysql bmysql%-0001: http error: [^\n]*\n$"), j.stderr)
end)

H.test("a folder whose clusters cannot be listed is named in the line, with several folders", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=3,prefix=amysql",
      "--fault", "path=folderId=b1gfb;status=403;times=0" }
   local r = run(s, "inventory.lua", { "--engine", "mysql", "--folder", "b1gfa", "--folder", "b1gfb" })
   H.eq(r.code, 2)
   H.ok(r.stderr:match("^inventory%.lua: mysql clusters in folder b1gfb: http error: Permission denied [^\n]*\n$"),
      r.stderr)
   local one = run(s, "inventory.lua", { "--engine", "mysql", "--folder", "b1gfb" })
   H.ok(one.stderr:match("^inventory%.lua: mysql clusters: http error: Permission denied [^\n]*\n$"), one.stderr)
end)

H.test("inventory's footer names the folder of each failed Cluster.List, with several folders", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=3,prefix=amysql",
      "--fault", "path=folderId=b1gfb;status=403;times=0", "--fault", "path=folderId=b1gfc;status=403;times=0" }
   local args = { "--engine", "mysql", "--folder", "b1gfa", "--folder", "b1gfb", "--folder", "b1gfc" }
   local t = run(s, "inventory.lua", args)
   H.eq(t.code, 2, t.stderr)
   H.ok(t.stdout:find("; 2 listings failed:\n  mysql clusters in folder b1gfb: http error: Permission denied ", 1, true),
      t.stdout)
   H.ok(t.stdout:find("\n  mysql clusters in folder b1gfc: http error: Permission denied ", 1, true), t.stdout)
   local md = run(s, "inventory.lua", with(args, "--format", "markdown"))
   H.eq(md.code, 2, md.stderr)
   H.ok(md.stdout:find("\n- mysql clusters in folder b1gfb: http error: ", 1, true), md.stdout)
   H.ok(md.stdout:find("\n- mysql clusters in folder b1gfc: http error: ", 1, true), md.stdout)
   -- one folder: the folder is the report's, not named per line
   local one = run(s, "inventory.lua", { "--engine", "mysql", "--folder", "b1gfb" })
   H.ok(one.stdout:find("; 1 listing failed:\n  mysql clusters: http error: Permission denied ", 1, true), one.stdout)
end)

-- Resource Manager failures, for every script over --all-clouds.
local FLEET = { "audit.lua", "inventory.lua", "freshness.lua", "retention-plan.lua", "list-backups.lua" }
local function script_args(script)
   if script == "list-backups.lua" then return { "--engine", "mysql", "--all-clouds" } end
   -- every engine: the failure is in each engine's entry, and told once
   local args = { "--all-clouds", "--now", "2026-11-23T18:00:00Z" }
   if script == "retention-plan.lua" then args[#args + 1] = "--keep-last"; args[#args + 1] = "1" end
   return args
end
local function lines_of(s)
   local n = 0
   for _ in s:gmatch("\n") do n = n + 1 end
   return n
end

H.test("--all-clouds with a token Resource Manager rejects, or Resource Manager refused: one line each", function()
   local mdb_api = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=3" }
   local rejects = H.start_fake { "--cloud", "b1gcloud1=b1gfa", "--token", "another-token" }
   for _, script in ipairs(FLEET) do
      for _, case in ipairs {
         { rejects.url, "the clouds (Resource Manager): http error: Token is invalid or has expired. (HTTP 401" },
         { "http://127.0.0.1:9", "the clouds (Resource Manager): network error: " } } do
         local r = run(mdb_api, script, script_args(script), { YC_RESOURCE_MANAGER_ENDPOINT = case[1] })
         local what = script .. " " .. case[1]
         H.eq(r.code, script == "freshness.lua" and 3 or 2, what .. ": " .. r.stderr)
         H.ok(r.stderr:find(script .. ": " .. case[2], 1, true) == 1, what .. ": " .. r.stderr)
         -- list-backups adds its count line to the table
         H.eq(lines_of(r.stderr), script == "list-backups.lua" and 2 or 1, what .. ": " .. r.stderr)
         H.not_contains(r.stderr, "mysql clusters", what)
      end
   end
end)

H.test("--all-clouds where one cloud's folders cannot be listed: one line naming the cloud, the rest reported",
   function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=3,prefix=amysql",
      "--cloud", "b1gcloud1=b1gfa", "--cloud", "b1gcloud2=b1gfz", "--now", "2026-11-23T18:00:00Z",
      "--fault", "path=cloudId=b1gcloud2;status=403;times=0" }
   for _, script in ipairs(FLEET) do
      local r = run(s, script, script_args(script))
      H.eq(r.code, script == "freshness.lua" and 3 or 2, script .. ": " .. r.stderr)
      H.ok(r.stderr:find(script .. ": the folders of cloud b1gcloud2 (Resource Manager): http error: "
         .. "Permission denied (HTTP 403", 1, true) == 1, script .. ": " .. r.stderr)
      H.eq(lines_of(r.stderr), script == "list-backups.lua" and 2 or 1, script .. ": " .. r.stderr)
      H.contains(r.stdout, "mysql-0001", script .. ": the other cloud's clusters")
   end
end)

H.run_all()
