-- The HTML reports (audit and inventory --format html) and inventory's
-- terminal strips (--timeline) over several folders name each cluster's
-- folder, as the text reports do: two folders each hold a cluster named
-- mysql-0000, and only the folder tells them apart.  With one folder they
-- are as they were.  End to end through mdblua against the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local NOW = "2026-11-25T18:00:00Z"
local SCRIPTS = H.source_dir .. "/scripts/"

local function run(server, script, args)
   local a = { SCRIPTS .. script }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server.url,
      YC_RESOURCE_MANAGER_ENDPOINT = server.url, YC_FOLDER_ID = false, NO_COLOR = false } })
   H.not_contains(r.stdout .. r.stderr, H.token, script .. ": output")
   H.not_contains(r.stdout .. r.stderr, "traceback", script)
   return r
end

local function folders_fake(extra)
   local args = { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=10,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfb,clusters=1,backups=10,prefix=bmysql",
      "--cloud", "b1gcloud1=b1gfa,b1gfb", "--now", "2026-11-23T18:00:00Z" }
   for _, x in ipairs(extra or {}) do args[#args + 1] = x end
   return H.start_fake(args)
end

local SCOPES = { { "--folder", "b1gfa", "--folder", "b1gfb" }, { "--cloud", "b1gcloud1" }, { "--all-clouds" } }

H.test("audit and inventory --format html name each cluster's folder with several folders, none with one", function()
   local s = folders_fake()
   for _, script in ipairs { "audit.lua", "inventory.lua" } do
      local base = { "--engine", "mysql", "--now", NOW, "--format", "html" }
      if script == "audit.lua" then base = H.with(base, "--check", "count", "--all") end
      for _, scope in ipairs(SCOPES) do
         local what = script .. " " .. table.concat(scope, " ")
         local r = run(s, script, H.with(base, table.unpack(scope)))
         H.ok(r.code == 0 or r.code == 1, what .. ": exit " .. r.code .. " " .. r.stderr)
         -- the cluster's card and its row of the coverage calendar
         H.contains(r.stdout, "mysql · <code>amysql-0000</code> · folder <code>b1gfa</code></small></h3>", what)
         H.contains(r.stdout, "mysql · <code>bmysql-0000</code> · folder <code>b1gfb</code></small></h3>", what)
         H.contains(r.stdout, "mysql-0000 <small>mysql · b1gfb</small>", what)
         if script == "audit.lua" then
            H.contains(r.stdout, '<th scope="col">Status</th><th scope="col">Folder</th><th scope="col">Engine</th>',
               what)
            H.contains(r.stdout, "</td><td>b1gfb</td><td>mysql</td>", what)
         end
      end
      local one = run(s, script, H.with(base, "--folder", "b1gfb"))
      H.contains(one.stdout, "mysql · <code>bmysql-0000</code></small></h3>", script .. " one folder")
      H.not_contains(one.stdout, "folder <code>", script .. " one folder")
      H.not_contains(one.stdout, '<th scope="col">Folder</th>', script .. " one folder")
   end
end)

H.test("a failed Cluster.List of one of several folders names its folder in the HTML report", function()
   local s = folders_fake { "--fault", "path=/managed-mysql/v1/clusters?folderId=b1gfb;status=403;times=0" }
   local r = run(s, "inventory.lua", { "--engine", "mysql", "--now", NOW, "--format", "html",
      "--folder", "b1gfa", "--folder", "b1gfb" })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stdout, "listing mysql clusters in folder b1gfb failed")
   H.contains(r.stdout, "<code>amysql-0000</code> · folder <code>b1gfa</code>")
end)

H.test("inventory --timeline has a FOLDER column with several folders, none with one", function()
   local s = folders_fake()
   for _, scope in ipairs(SCOPES) do
      local what = table.concat(scope, " ")
      local r = run(s, "inventory.lua", H.with({ "--engine", "mysql", "--now", NOW, "--timeline" }, table.unpack(scope)))
      H.eq(r.code, 0, what .. ": " .. r.stderr)
      local lines = {}
      for l in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = l end
      H.ok(lines[1]:match("^FOLDER%s+ENGINE%s+CLUSTER%s+14 DAYS%s+NEWEST$") ~= nil, what .. ": " .. lines[1])
      H.ok(lines[2]:match("^b1gfa%s+mysql%s+mysql%-0000 ") ~= nil, what .. ": " .. lines[2])
      H.ok(lines[4]:match("^b1gfb%s+mysql%s+mysql%-0000 ") ~= nil, what .. ": " .. lines[4])
   end
   local one = run(s, "inventory.lua", { "--engine", "mysql", "--now", NOW, "--timeline", "--folder", "b1gfb" })
   H.ok(one.stdout:match("^ENGINE%s+CLUSTER%s+14 DAYS") ~= nil, one.stdout)
   H.not_contains(one.stdout, "b1gfb")
end)

H.run_all()
