-- The flags of the fleet scripts are judged as the user typed them: a bad
-- --folder, --cloud or --cluster id is a usage error naming that flag
-- (never the Lua API's argument, `folders` or `clusters`), before any
-- request; --db with --from is a usage error (the --from file is the
-- history then), where --db used to be ignored.  Through mdblua against
-- the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local SCRIPTS = H.source_dir .. "/scripts/"
local NOW = "2026-11-23T18:00:00Z"

local function run(server, script, args)
   local a = { SCRIPTS .. script }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server.url,
      YC_RESOURCE_MANAGER_ENDPOINT = server.url, YC_FOLDER_ID = false, NO_COLOR = false } })
   H.not_contains(r.stdout .. r.stderr, H.token, script .. ": output")
   H.not_contains(r.stdout .. r.stderr, "traceback", script)
   return r
end

local with = H.with

local LONG = string.rep("b", 51)   -- one more than an id may have
local BASE = {   -- each script's other options, and its exit status for a usage error
   ["audit.lua"] = { {}, 2 },
   ["inventory.lua"] = { {}, 2 },
   ["freshness.lua"] = { {}, 3 },
   ["retention-plan.lua"] = { { "--keep-last", "1" }, 2 },
   ["list-backups.lua"] = { { "--engine", "mysql" }, 2 },
   ["snapshot.lua"] = { { "--db", "DB" }, 2 },
}

H.test("a bad --folder or --cloud id names the flag in every script, before any request", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=1" }
   local db = H.tmpname(".db")
   for script, b in pairs(BASE) do
      local base = {}
      for i, x in ipairs(b[1]) do base[i] = x == "DB" and db or x end
      local cases = {
         { { "--folder=" }, "option '--folder': must not be empty" },
         { { "--folder", "b1gfa", "--folder", "" }, "option '--folder': must not be empty" },
         { { "--folder", "b1gfa", "--folder", LONG }, "option '--folder': must be at most 50 characters, got 51" },
      }
      local many = {}
      for i = 1, 1001 do many[#many + 1] = string.format("--folder=b1g%04d", i) end
      cases[#cases + 1] = { many,
         "option '--folder': at most 1000 folders in one run, got 1001 (--cloud ID scans a whole cloud)",
         "--folder x 1001" }
      cases[#cases + 1] = { { "--cloud=" }, "option '--cloud': must not be empty" }
      cases[#cases + 1] = { { "--cloud", LONG }, "option '--cloud': must be at most 50 characters, got 51" }
      cases[#cases + 1] = { { "--folder", "b1gfa", "--all-clouds" },
         "give --folder, --cloud or --all-clouds, not more than one" }
      for _, c in ipairs(cases) do
         local what = script .. " " .. (c[3] or table.concat(c[1], " "))
         local r = run(s, script, with(base, table.unpack(c[1])))
         H.eq(r.code, b[2], what .. ": " .. r.stderr)
         H.eq(r.stdout, "", what)
         H.ok(r.stderr:find(script .. ": " .. c[2] .. "\ntry 'mdblua ", 1, true) == 1, what .. ": " .. r.stderr)
         H.not_contains(r.stderr, "bad argument", what)
      end
      local nagios = script == "audit.lua" and run(s, script, { "--format", "nagios", "--cloud=" })
      if nagios then H.eq(nagios.code, 3, "audit --format nagios: a usage error is UNKNOWN") end
   end
   H.eq(#H.requests(s), 0, "no request for a bad id")
end)

H.test("a bad --cluster id names the flag too", function()
   local s = H.start_fake {}
   for _, c in ipairs { { "freshness.lua", {}, 3 }, { "retention-plan.lua", { "--keep-last", "1" }, 2 },
      { "list-backups.lua", {}, 2 } } do
      for _, id in ipairs { "", LONG } do
         local r = run(s, c[1], with(c[2], "--engine", "mysql", "--cluster", id))
         H.eq(r.code, c[3], c[1] .. ": " .. r.stderr)
         H.ok(r.stderr:find(c[1] .. ": option '--cluster': must ", 1, true) == 1, c[1] .. ": " .. r.stderr)
      end
   end
   H.eq(#H.requests(s), 0, "no request for a bad id")
end)

H.test("restore-point.lua: a bad --cluster or --folder id names the flag, before any request", function()
   local s = H.start_fake {}
   for _, c in ipairs {
      { { "--cluster", "" }, "option '--cluster': must not be empty" },
      { { "--cluster", LONG }, "option '--cluster': must be at most 50 characters, got 51" },
      { { "--cluster", "c1", "--folder=" }, "option '--folder': must not be empty" },
      { { "--cluster", "c1", "--folder", LONG }, "option '--folder': must be at most 50 characters, got 51" } } do
      local what = table.concat(c[1], " ")
      local r = run(s, "restore-point.lua", with({ "--engine", "mysql" }, table.unpack(c[1])))
      H.eq(r.code, 2, what .. ": " .. r.stderr)
      H.eq(r.stdout, "", what)
      H.ok(r.stderr:find("restore-point.lua: " .. c[2] .. "\ntry 'mdblua ", 1, true) == 1, what .. ": " .. r.stderr)
      H.not_contains(r.stderr, "bad argument", what)
   end
   H.eq(#H.requests(s), 0, "no request for a bad id")
end)

H.test("--cluster with --folder, --cloud or --all-clouds is a usage error naming both flags (it was ignored)", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=2" }
   for _, c in ipairs { { "freshness.lua", {}, 3 }, { "retention-plan.lua", { "--keep-last", "1" }, 2 },
      { "list-backups.lua", {}, 2 } } do
      for _, scope in ipairs { { { "--folder", "b1gother" }, "--folder" }, { { "--cloud", "b1gcloud" }, "--cloud" },
         { { "--all-clouds" }, "--all-clouds" } } do
         local args = with(c[2], "--engine", "mysql", "--cluster", "cmysql-0000", table.unpack(scope[1]))
         local what = c[1] .. " " .. table.concat(args, " ")
         local r = run(s, c[1], args)
         H.eq(r.code, c[3], what .. ": " .. r.stderr)
         H.eq(r.stdout, "", what)
         H.ok(r.stderr:find(c[1] .. ": give --cluster or " .. scope[2] .. ", not both\ntry 'mdblua ", 1, true) == 1,
            what .. ": " .. r.stderr)
      end
      -- --cluster alone is still planned or checked
      local alone = run(s, c[1], with(c[2], "--engine", "mysql", "--cluster", "cmysql-0000"))
      H.eq(alone.code, 0, c[1] .. " --cluster alone: " .. alone.stderr)
      H.contains(alone.stdout, "cmysql-0000", c[1] .. " --cluster alone")
   end
end)

H.test("a one-value option given twice is a usage error (the last one silently won)", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=2" }
   for _, c in ipairs {
      { "list-backups.lua", { "--folder", "b1gfa", "--engine", "mysql", "--engine", "redis" }, "--engine", "ENGINE" },
      { "restore-point.lua", { "--engine", "mysql", "--cluster", "cmysql-0000", "--cluster", "cmysql-0001" },
        "--cluster", "ID" },
      { "audit.lua", { "--folder", "b1gfa", "--format", "json", "--format=csv" }, "--format", "FORMAT" },
   } do
      local r = run(s, c[1], c[2])
      local what = c[1] .. " " .. table.concat(c[2], " ")
      H.eq(r.code, 2, what)
      H.eq(r.stdout, "", what)
      H.contains(r.stderr, c[1] .. ": option '" .. c[3] .. "' given twice: it takes one " .. c[4] .. "\n", what)
   end
   -- options that take many still do
   local r = run(s, "inventory.lua", { "--folder", "b1gfa", "--folder", "b1gother", "--engine", "mysql",
      "--engine", "redis" })
   H.eq(r.code, 0, r.stderr)
end)

H.test("inventory --timeline with a --format other than table is a usage error (it was ignored)", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=1,backups=2" }
   local r = run(s, "inventory.lua", { "--folder", "b1gfa", "--timeline", "--format", "json" })
   H.eq(r.code, 2)
   H.eq(r.stdout, "")
   H.contains(r.stderr, "inventory.lua: --timeline draws text strips: it takes no --format json")
   r = run(s, "inventory.lua", { "--folder", "b1gfa", "--engine", "mysql", "--timeline", "--format", "table" })
   H.eq(r.code, 0, r.stderr)
end)

H.test("an id of exactly the longest length is taken", function()
   local id = string.rep("f", 50)
   local s = H.start_fake { "--generate", "engine=mysql,folder=" .. id .. ",clusters=1,backups=2" }
   local r = run(s, "inventory.lua", { "--engine", "mysql", "--folder", id, "--folder", "b1gother" })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, id)
end)

H.test("--db with --from is a usage error in audit.lua and inventory.lua (it was ignored)", function()
   local s = H.start_fake { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=3", "--now", NOW }
   local file, other = H.tmpname(".db"), H.tmpname(".db")
   for _, f in ipairs { file, other } do
      local rec = run(s, "inventory.lua", { "--engine", "mysql", "--folder", "b1gfa", "--now", NOW, "--record", f })
      H.eq(rec.code, 0, rec.stderr)
   end
   for _, c in ipairs {
      { "audit.lua", { "--check", "count", "--all" }, 2,
        "give --db or --from, not both (with --from, its file is the history)", 1 },
      { "audit.lua", { "--check", "count", "--format", "nagios" }, 3, "give --db or --from, not both", 1 },
      { "inventory.lua", { "--format", "html" }, 2,
        "give --db or --from, not both (with --from, the --from file's history is drawn)", 0 } } do
      local what = c[1] .. " " .. table.concat(c[2], " ")
      local r = run(s, c[1], with(c[2], "--db", other, "--from", file))
      H.eq(r.code, c[3], what .. ": " .. r.stderr)
      H.eq(r.stdout, "", what)
      H.ok(r.stderr:find(c[1] .. ": " .. c[4], 1, true) == 1, what .. ": " .. r.stderr)
      H.contains(r.stderr, "try 'mdblua ", what)
      -- --from alone reports
      local alone = run(s, c[1], with(c[2], "--from", file))
      H.eq(alone.code, c[5], what .. " --from alone: " .. alone.stderr)
      H.contains(alone.stdout, "mysql-0001", what .. " --from alone")
   end
   H.contains(run(s, "inventory.lua", { "--help" }).stdout, "with --from, the --from file is used")
end)

H.test("--concurrency and --page-size beyond mdb.defaults' bounds name the flag in every script, before any request",
   function()
   local s = H.start_fake {}
   local d = require("mdb").defaults
   local db = H.tmpname(".db")
   local HAS = { concurrency = { "audit.lua", "inventory.lua", "freshness.lua", "retention-plan.lua", "snapshot.lua" },
      ["page-size"] = { "audit.lua", "inventory.lua", "list-backups.lua", "snapshot.lua" } }
   local MAX = { concurrency = d.max_concurrency, ["page-size"] = d.max_page_size }
   for flag, scripts in pairs(HAS) do
      for _, script in ipairs(scripts) do
         local base = {}
         for i, x in ipairs(BASE[script][1]) do base[i] = x == "DB" and db or x end
         local what = script .. " --" .. flag .. " " .. (MAX[flag] + 1)
         local r = run(s, script, with(base, "--" .. flag, tostring(MAX[flag] + 1)))
         H.eq(r.code, BASE[script][2], what .. ": " .. r.stderr)
         H.eq(r.stdout, "", what)
         H.ok(r.stderr:find(("%s: option '--%s': must be at most %d\ntry 'mdblua "):format(script, flag, MAX[flag]),
            1, true) == 1, what .. ": " .. r.stderr)
         H.contains(run(s, script, { "--help" }).stdout, "--" .. flag .. " N", script .. " --help")
      end
   end
   H.eq(#H.requests(s), 0, "no request for a bad bound")
end)

H.run_all()
