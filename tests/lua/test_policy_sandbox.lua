-- Policy files run without the power to end the run or run commands: a
-- policy that calls os.exit (at once, or from a function of it that runs
-- later) must not end an audit with status 0 and no report, which a
-- monitoring job would read as "all good".  What a policy tries is named
-- with its file and line, and the script exits 2 as for any bad policy.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local audit = require "mdb.audit"

local NOW = "2026-11-23T18:00:00Z"
local FOLDER = "b1gfakefolder0000001"

local function write_policy(text)
   return H.write_file(H.tmpname(".lua"), text)
end

local function fake()
   return H.fake_with_faults("engine=postgresql,clusters=3,backups=5", {}, { "--now", NOW })
end

local function run(server, script, args)
   return H.run(H.with({ H.script(script), "--folder", FOLDER, "--now", NOW }, table.unpack(args)),
      { env = H.script_env(server, FOLDER, { NO_COLOR = false }) })
end

local REFUSED = {
   { "os.exit(0)\nreturn {}", 1, "os.exit" },
   { "return {}, os.exit(true)", 1, "os.exit" },
   { "local x = 1\n\nos.execute('true')", 3, "os.execute" },
   { "local p = io.popen('id')", 1, "io.popen" },
   { "local f = io.open('/etc/passwd')", 1, "io.open" },
   { "os.remove('x')", 1, "os.remove" },
   { "local os2 = require 'os'", 1, 'require "os"' },
   { "local cli = require 'mdb.cli'", 1, 'require "mdb.cli"' },
   { "return load('return os')()", 1, "load" },
   { "dofile('/etc/x.lua')", 1, "dofile" },
   { "local d = debug.getregistry()", 1, "debug" },
   { "print('hello')", 1, "print" },
   { "math.randomseed(1)", 1, "math.randomseed" },
   { "return pcall(os.exit, 0)", 1, "os.exit" },
   { "local t = setmetatable({}, { __gc = function() end })", 1, "a __gc metamethod" },
}

-- `fn` with the program's own os.exit, os.execute, os.remove and io.popen
-- raising instead: a policy that reached them would end this test run
-- with status 0, or run a command.
local function guarded(fn)
   local swap = { { os, "exit" }, { os, "execute" }, { os, "remove" }, { io, "popen" } }
   for _, s in ipairs(swap) do
      s[3] = rawget(s[1], s[2])
      rawset(s[1], s[2], function() error("the policy reached " .. s[2], 0) end)
   end
   local ok, err = pcall(fn)
   for _, s in ipairs(swap) do rawset(s[1], s[2], s[3]) end
   if not ok then error(err, 0) end
end

H.test("load_policy: os.exit, os.execute, io.*, require, load, __gc... are refused, naming file and line", function()
   for _, c in ipairs(REFUSED) do
      local path = write_policy(c[1])
      local p, err
      guarded(function() p, err = audit.load_policy(path) end)
      H.eq(p, nil, c[1])
      H.eq(err, string.format("%s:%d: %s is not available in a policy file", path, c[2], c[3]), c[1])
   end
end)

H.test("what policies use stays: os.time/date/getenv/clock, string, table, math, utf8, metatables", function()
   local path = write_policy([[
      local days = math.max(3, tonumber(os.getenv("MDB_NO_SUCH_VAR") or "") or 7)
      local stamp = os.date("!%Y", os.time()) .. string.format("%02d", 1) .. ("x"):rep(2)
      assert(os.clock() >= 0 and os.difftime(2, 1) == 1 and utf8.len("é") == 1 and #stamp == 8)
      local engines = { "mysql", "postgresql" }
      table.sort(engines)
      local base = setmetatable({}, { __index = { warn = "26h" } })
      return {
         engines = engines,
         defaults = { coverage = { days = days }, freshness = { warn = base.warn, crit = "50h" } },
         retention = { daily = days },
      }]])
   local p = assert(audit.load_policy(path))
   H.eq(p.engines, { "mysql", "postgresql" })
   H.eq(p.defaults.coverage.days, 7)
   H.eq(p.defaults.freshness.warn, 26 * 3600)
   H.eq(p.retention, { daily = 7 })
   for _, name in ipairs { "production.lua", "minimal.lua" } do
      assert(audit.load_policy(H.source_dir .. "/scripts/policies/" .. name))
   end
   -- the data of mdb modules, copied: no function, nothing the program reads
   path = write_policy([[
      local audit, mdb = require "mdb.audit", require "mdb"
      assert(audit.run == nil and mdb.client == nil and mdb._fs and mdb._fs.link_target == nil)
      audit.CHECKS[1], mdb.engines[1] = "nothing", "nothing"
      return { checks = { audit.CHECKS[2] }, engines = { mdb.engines[2] },
         defaults = { freshness = { warn = require("mdb.policy").DEFAULTS.freshness.warn } } }]])
   p = assert(audit.load_policy(path))
   H.eq(p.enabled, { coverage = true })
   H.eq(p.engines, { require("mdb").engines[2] })
   H.eq({ audit.CHECKS[1], require("mdb").engines[1] }, { "freshness", "mongodb" })
   -- a policy changes its own copy of a library, not the program's
   assert(audit.load_policy(write_policy("string.mark, table.mark = 1, 1; return {}")))
   H.eq({ rawget(string, "mark"), rawget(table, "mark") }, {})
end)

H.test("a function a policy defines is refused os.exit when it runs later, named with the file and line", function()
   local path = write_policy("local f = function() return 1 end\nreturn function()\n   os.exit(0)\nend\n")
   local chunk = assert(load(H.read_file(path), "=policy", "t", require("mdb.policy_sandbox").env(path, "=policy")))
   local later = chunk()
   local ok, err = pcall(later)
   H.eq({ ok, err }, { false, path .. ":3: os.exit is not available in a policy file" })
end)

H.test("audit.lua --policy with os.exit(0) or os.exit(true): exit 2 and the reason, never 0 without a report", function()
   local s = fake()
   for _, text in ipairs { "os.exit(0)\nreturn {}\n", "return { checks = { 'freshness' } }, os.exit(true)\n" } do
      local path = write_policy(text)
      local r = run(s, "audit.lua", { "--policy", path })
      H.eq({ r.code, r.stdout, r.stderr }, { 2, "", "audit.lua: " .. path .. ":1: os.exit is not available in a policy file\n" })
   end
   -- Nagios: UNKNOWN (3), as for any bad policy, not OK (0)
   local path = write_policy("os.exit(0)\nreturn {}\n")
   local r = run(s, "audit.lua", { "--policy", path, "--format", "nagios" })
   H.eq({ r.code, r.stderr }, { 3, "audit.lua: " .. path .. ":1: os.exit is not available in a policy file\n" })
end)

H.test("retention-plan.lua: a policy's rule that calls os.exit when read a second time cannot end the plan", function()
   local s = fake()
   -- its retention table answers the check, then exits when read again
   local path = write_policy([[
      local reads = 0
      local function exit_later(t)
         reads = reads + 1
         if reads > 1 then os.exit(true) end
         return next, t, nil
      end
      return { retention = setmetatable({ daily = 3 }, { __pairs = exit_later }) }]])
   local r = run(s, "retention-plan.lua", { "--policy", path, "--format", "json" })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stderr, "")
   H.contains(r.stdout, '"cpostgresql-0000"')
   H.contains(r.stdout, '"keep"')
end)

H.test("audit.lua --policy with a finalizer: refused at once (it would run at any later moment)", function()
   local s = fake()
   local path = write_policy("setmetatable({}, { __gc = function() os.exit(0) end })\nreturn {}\n")
   local r = run(s, "audit.lua", { "--policy", path })
   H.eq({ r.code, r.stdout, r.stderr },
      { 2, "", "audit.lua: " .. path .. ":1: a __gc metamethod is not available in a policy file\n" })
end)

H.run_all()
