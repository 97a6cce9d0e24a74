-- scripts/list-backups.lua end to end through mdblua against the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local SCRIPT = H.source_dir .. "/scripts/list-backups.lua"

local function run(server, args, env)
   local e = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server and server.url or "http://127.0.0.1:1",
      YC_FOLDER_ID = false }
   for k, v in pairs(env or {}) do e[k] = v end
   local a = { SCRIPT }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = e })
   H.not_contains(r.stdout .. r.stderr, H.token, "output")
   return r
end

H.test("table output: one aligned row per backup, newest first, sizes human-readable", function()
   local data = H.data_file {
      { "backup", "postgresql", "f1", "c1", H.backup("c1:new", "c1", "2026-11-20T22:15:00Z", { size = "1610612736" }) },
      { "backup", "postgresql", "f1", "c1", H.backup("c1:old", "c1", "2026-11-19T22:15:00Z", { size = "512", type = "MANUAL" }) },
   }
   local s = H.start_fake { "--data", data }
   local r = run(s, { "--engine", "postgresql", "--cluster", "c1" })
   H.eq(r.code, 0, r.stderr)
   local lines = {}
   for l in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = l end
   H.eq(#lines, 3, r.stdout)
   H.ok(lines[1]:match("^ID%s+CREATED%s+AGE%s+SIZE%s+TYPE$"), lines[1])
   H.ok(lines[2]:match("^c1:new%s+2026%-11%-20 22:15:00Z%s+%d+d %d+h%s+1%.5 GiB%s+AUTOMATED$"), lines[2])
   H.ok(lines[3]:match("^c1:old%s+2026%-11%-19 22:15:00Z%s+%d+d %d+h%s+512 B%s+MANUAL$"), lines[3])
   H.eq(lines[2]:find("2026"), lines[1]:find("CREATED"), "columns aligned")
   H.contains(r.stderr, "2 backups, 1 page")
end)

H.test("--json prints every backup as a JSON array that decodes back", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=2,backups=30" }
   local r = run(s, { "--engine", "mongodb", "--folder", "b1gfakefolder0000001", "--json", "--page-size", "7" })
   H.eq(r.code, 0, r.stderr)
   local list = cjson.decode(r.stdout)
   H.eq(#list, 60)
   H.eq(list[1].id, "cmongodb-0000:000000")
   H.eq(math.type(list[1].size) ~= nil, true)
   H.eq(r.stderr, "", "nothing on stderr for JSON")
   local empty = run(s, { "--engine", "mongodb", "--folder", "b1gemptyfolder", "--json" })
   H.eq(empty.stdout, "[]\n")
end)

H.test("--limit and folder listings show the cluster column", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=2,backups=5" }
   local r = run(s, { "--engine", "mysql", "--limit", "3" }, { YC_FOLDER_ID = "b1gfakefolder0000001" })
   H.eq(r.code, 0, r.stderr)
   local n = 0
   for _ in r.stdout:gmatch("\n") do n = n + 1 end
   H.eq(n, 4, "header + 3 rows")
   H.ok(r.stdout:match("^ID%s+CLUSTER%s+CREATED"), r.stdout)
end)

H.test("--help exits 0; usage errors exit 2 naming the option", function()
   local h = run(nil, { "--help" })
   H.eq(h.code, 0)
   H.contains(h.stdout, "--engine ENGINE")
   H.contains(h.stdout, "YC_IAM_TOKEN")
   local r = run(nil, { "--cluster", "c1" })
   H.eq(r.code, 2)
   H.contains(r.stderr, "option '--engine' is required")
   local r2 = run(nil, { "--engine", "mysql", "--cluster", "c1", "--limit", "ten" })
   H.eq(r2.code, 2)
   H.contains(r2.stderr, "option '--limit': not a whole number: ten")
   local r3 = run(nil, { "--engine", "mysql", "--bogus" })
   H.eq(r3.code, 2)
   H.contains(r3.stderr, "unknown option '--bogus'")
end)

H.test("API errors exit 2 with one clear line", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=5" }
   local r = run(s, { "--engine", "mysql", "--cluster", "missing-cluster" })
   H.eq(r.code, 2)
   H.contains(r.stderr, "list-backups.lua: http error: ")
   H.contains(r.stderr, "HTTP 404 NOT_FOUND")
   H.eq(select(2, r.stderr:gsub("\n", "")), 1, "one line: " .. r.stderr)
   H.not_contains(r.stderr, "traceback")
end)

H.test("the conventions of the other scripts: flags named, one line, no traceback", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=5" }
   local hint = "try 'mdblua " .. SCRIPT .. " --help'\n"
   local cases = {
      { { "--engine", "postgres", "--cluster", "c1" },
        "list-backups.lua: option '--engine': expected one of mongodb, sqlserver, postgresql, mysql, "
        .. "clickhouse, redis, greenplum, opensearch, elasticsearch, spqr, got 'postgres'\n" .. hint },
      { { "--engine", "mysql", "--cluster", "c1", "--folder", "f1" },
        "list-backups.lua: give --cluster or --folder, not both\n" .. hint },
      { { "--engine", "mysql" }, "list-backups.lua: give --cluster ID or --folder ID (or set YC_FOLDER_ID,"
        .. " or give --cloud ID or --all-clouds)\n" .. hint },
      { { "--engine", "mysql", "--cluster", "c1", "--cloud", "b1gc" },
        "list-backups.lua: give --cluster or --cloud, not both\n" .. hint },
      { { "--engine", "mysql", "--folder", "f1", "--all-clouds" },
        "list-backups.lua: give --folder, --cloud or --all-clouds, not more than one\n" .. hint },
      { { "--engine", "mysql", "--cluster", string.rep("x", 60) },
        "list-backups.lua: option '--cluster': must be at most 50 characters, got 60\n" .. hint },
      { { "--engine", "mysql", "--cluster", "c1", "--page-size", "5000" },
        "list-backups.lua: option '--page-size': must be at most 1000\n" .. hint },
   }
   for _, c in ipairs(cases) do
      local r = run(s, c[1])
      H.eq({ r.code, r.stderr, r.stdout }, { 2, c[2], "" }, table.concat(c[1], " "))
   end
   local notoken = run(s, { "--engine", "mysql", "--cluster", "cmysql-0000" }, { YC_IAM_TOKEN = false })
   H.eq(notoken.code, 2)
   H.ok(notoken.stderr:match("^list%-backups%.lua: [^\n]*YC_IAM_TOKEN[^\n]*\n$"), notoken.stderr)
end)

H.test("an unwritable stdout fails, table and --json alike", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=5" }
   for _, json in ipairs({ true, false }) do
      local cmd = string.format("env YC_IAM_TOKEN=%s YC_MDB_ENDPOINT=%s %s %s --engine mysql --cluster cmysql-0000%s "
         .. ">/dev/full", H.sh_quote(H.token), H.sh_quote(s.url), H.sh_quote(H.mdblua), H.sh_quote(SCRIPT),
         json and " --json" or "")
      local r = H.run({ "-c", cmd }, { program = "sh" })
      H.eq(r.code, 2, cmd)
      H.eq(r.stderr, "list-backups.lua: cannot write to stdout: No space left on device\n")
   end
end)

H.run_all()
