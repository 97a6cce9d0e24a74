-- API fidelity, checked against the published protos: what the client
-- makes of fields only some engines have, and a fake API that renders
-- each engine's objects as its proto does.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"

local FOLDER = "b1gfakefolder0000001"

local function first(it) return it() end

H.test("PostgreSQL retainUntil gains a retain_until seconds twin", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=12,start=2026-03-01T00:00:00Z" }
   local c = H.client(s)
   local with, without = {}, 0
   for b in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do
      if b.retainUntil then
         with[#with + 1] = b
      else
         without = without + 1
         H.eq(b.retain_until, nil, b.id)
      end
   end
   H.eq(#with, 1, "one backup kept by a policy")
   local b = with[1]
   H.eq(b.id, "cpostgresql-0000:000009")
   H.eq({ b.retentionPolicyId, b.retentionPolicyName }, { "fakepolicy0000000001", "monthly" })
   H.eq(math.type(b.retain_until), "float")
   H.eq(b.retain_until, b.created + 30 * 86400)
   H.eq(b.retain_until, mdb.parse_time(b.retainUntil))
   H.eq(without, 11)
   -- the fan-out normalises the same way
   local res = c:scan { engine = "postgresql", clusters = { "cpostgresql-0000" } }
   H.eq(res[1].backups[10].retain_until, b.retain_until)
end)

H.test("a retainUntil that is not a timestamp is a 'json' error naming the field", function()
   local b = H.backup("b1", "c1", "2026-01-01T00:00:00Z", { retainUntil = "next month" })
   local s = H.start_fake { "--data", H.data_file { { "backup", "postgresql", "f1", "c1", b } } }
   local err = H.raises("json", first, H.client(s):backups { engine = "postgresql", cluster = "c1" })
   H.contains(err.message, "field 'retainUntil' is not an RFC 3339 timestamp")
   -- a fraction and an offset are fine
   b.retainUntil = "2026-02-01T03:00:00.5+03:00"
   s = H.start_fake { "--data", H.data_file { { "backup", "postgresql", "f1", "c1", b } } }
   local got = first(H.client(s):backups { engine = "postgresql", cluster = "c1" })
   H.eq(got.retain_until, mdb.parse_time("2026-02-01T00:00:00.5Z"))
end)

H.test("the fake renders each engine's cluster config as its proto has it", function()
   local args = {}
   for _, e in ipairs(mdb.engines) do
      args[#args + 1] = "--generate"
      args[#args + 1] = "engine=" .. e .. ",clusters=1,backups=1"
   end
   local s = H.start_fake(args)
   local c = H.client(s)
   -- the generated window opens on the hour its backups start in
   local b1 = first(c:backups { engine = "mysql", cluster = "cmysql-0000" })
   local hour = math.tointeger(math.floor(b1.started) // 3600 % 24)
   for _, e in ipairs(mdb.engines) do
      local cl = first(c:clusters { engine = e, folder = FOLDER })
      local cfg = cl.config
      if e == "opensearch" then
         H.eq(cfg, { snapshotManagement = {
            snapshotSchedule = { dailySnapshotSchedule = { hour = tostring(hour), minute = "0" } },
            snapshotMaxAgeDays = "7" } }, e)
      elseif e == "elasticsearch" then
         H.eq(next(cfg), nil, e .. ": no backup window, no retention")
      elseif e == "sqlserver" then
         H.eq(cfg, { backupWindowStart = { hours = hour, minutes = 0, seconds = 0, nanos = 0 } }, e)
      else
         H.eq(cfg, { backupWindowStart = { hours = hour, minutes = 0, seconds = 0, nanos = 0 },
            backupRetainPeriodDays = "7" }, e)
      end
   end
end)

H.test("help('cluster') names each engine's retention fields as the fake renders them", function()
   local args = {}
   for _, e in ipairs(mdb.engines) do
      args[#args + 1] = "--generate"
      args[#args + 1] = "engine=" .. e .. ",clusters=1,backups=1"
   end
   local c = H.client(H.start_fake(args))
   -- help's table: "  NAME  text" lines, continued by deeper-indented ones
   local rows, last = {}, nil
   for line in require("mdb.help").text(true, "cluster"):gmatch("[^\n]+") do
      local name, text = line:match("^  (%S[^ ]*) +(.*)$")
      if name and name ~= "most" then
         last = name; rows[name] = text
      elseif line:match("^  most engines ") then
         last = "most"; rows.most = line
      elseif last and line:match("^       +") then
         rows[last] = rows[last] .. " " .. line
      else
         last = nil
      end
   end
   for _, e in ipairs(mdb.engines) do
      local cfg = c:clusters { engine = e, folder = FOLDER }().config
      local row = H.ok(rows[e] or rows.most, e .. " in help('cluster')")
      if next(cfg) == nil then H.eq(rows[e], "none", e) end
      for k in pairs(cfg) do H.contains(row, k, e) end
      for _, k in ipairs { "backupWindowStart", "backupRetainPeriodDays" } do
         if cfg[k] == nil and row:find(k, 1, true) then
            H.ok(row:find("no " .. k, 1, true), e .. ": help claims " .. k .. ": " .. row)
         end
      end
      if cfg.snapshotManagement then
         for k in pairs(cfg.snapshotManagement) do H.contains(row, k, e) end
      end
   end
end)

H.test("only PostgreSQL backups carry retention policy fields in the fake", function()
   local args = {}
   for _, e in ipairs(mdb.engines) do
      args[#args + 1] = "--generate"
      args[#args + 1] = "engine=" .. e .. ",clusters=1,backups=10"
   end
   args[#args + 1] = "--demo"
   local s = H.start_fake(args)
   local c = H.client(s)
   for _, e in ipairs(mdb.engines) do
      local n = 0
      for b in c:backups { engine = e, folder = FOLDER } do
         if b.retentionPolicyId or b.retentionPolicyName or b.retainUntil then n = n + 1 end
      end
      H.eq(n, e == "postgresql" and 1 or 0, e)
   end
   -- the demo's manual PostgreSQL backup is kept by a policy
   local manual
   for b in c:backups { engine = "postgresql", cluster = "c9qordersprod0000001" } do
      if b.type == "MANUAL" then manual = b end
   end
   H.eq(manual.retentionPolicyName, "monthly")
   H.eq(manual.retain_until, manual.created + 30 * 86400)
end)

H.run_all()
