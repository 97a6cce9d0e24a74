-- retention-plan.lua over a fleet: each cluster's part of the report is
-- rendered as its listing completes, so memory holds text, not every
-- backup of the fleet; the report is byte for byte what `report.plans`
-- makes from the whole scan.  End to end through mdblua against the fake
-- API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local NOW = "2026-11-23T18:00:00Z"
local FOLDER = "b1gfakefolder0000001"
local SCRIPT = H.source_dir .. "/scripts/retention-plan.lua"

local function run(server, args, pre)
   local a = {}
   for _, x in ipairs(pre or {}) do a[#a + 1] = x end
   a[#a + 1] = SCRIPT
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server.url, YC_FOLDER_ID = FOLDER,
      NO_COLOR = false } })
   H.not_contains(r.stdout .. r.stderr, H.token, "output")
   return r
end

-- The child's peak RSS (VmHWM, KiB), reported on stderr as it exits.
local PEAK = [[local exit = os.exit
os.exit = function(...)
   local f = io.open("/proc/self/status")
   io.stderr:write("VmHWM ", f:read("a"):match("VmHWM:%s*(%d+)"), "\n")
   exit(...)
end]]

H.test("2,000 clusters x 200 backups: peak memory stays under a bound that keeping the plans breaks", function()
   -- 400,000 backups: the script that kept every cluster's plan (and so
   -- every backup) peaked at 839 MiB here (--format json; 1.2 GiB csv);
   -- rendering each cluster's part as it comes, about 75 MiB, most of it
   -- the 30 MB of report text.
   if os.getenv("ASAN_OPTIONS") then return end   -- ASan's quarantine holds freed memory
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=2000,backups=200", "--now", NOW }
   local r = run(s, { "--engine", "postgresql", "--keep-daily", "7", "--keep-weekly", "4", "--format", "json",
      "--now", NOW }, { "-e", PEAK })
   H.eq(r.code, 0, r.stderr)
   local peak = tonumber(r.stderr:match("VmHWM (%d+)"))
   H.ok(peak, "the script reported its peak")
   H.ok(peak < 160 * 1024, string.format("peak RSS %d KiB < 160 MiB", peak))
   local plans = cjson.decode(r.stdout)
   H.eq(#plans, 2000, "a plan per cluster")
   for i, p in ipairs(plans) do
      H.eq(p.cluster, string.format("cpostgresql-%04d", i - 1), "Cluster.List order")
      H.eq(#p.keep + #p.expire, 200, p.cluster)
   end
end)

H.test("every format is byte for byte report.plans over the whole scan, a failed cluster included", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=4,backups=30,interval=30000", "--now", NOW,
      "--fault", "path=cmysql-0002/backups;status=403;times=0",
      "--fault", "path=cmysql-0000/backups;delay_ms=200;times=0" }   -- finishes last, reported first
   local mdb, retention, report = require "mdb", require "mdb.retention", require "mdb.report"
   local rules = { last = 2, daily = 3, weekly = 2 }
   local results = H.client(s):scan { engine = "mysql", folder = FOLDER }
   local now = mdb.parse_time(NOW)
   local plans = {}
   for i, e in ipairs(results) do
      plans[i] = { engine = e.engine, cluster = e.id, cluster_name = e.cluster and e.cluster.name, error = e.error,
         plan = not e.error and retention.plan(require("mdb.cli").entry_as_of(e, now).backups, rules,
            { tz = "UTC", now = now }) or nil }
   end
   for _, f in ipairs(report.FORMATS.plans) do
      local r = run(s, { "--engine", "mysql", "--keep-last", "2", "--keep-daily", "3", "--keep-weekly", "2",
         "--format", f, "--now", NOW })
      H.eq(r.code, 2, f .. ": a listing failed")
      H.contains(r.stderr, "retention-plan.lua: mysql cmysql-0002: http error: Permission denied", f)
      -- the same but for the failed request's id
      local function same(t) return (t:gsub("fake%-req%-%d+", "fake-req-N")) end
      H.eq(same(r.stdout), same(report.plans(plans, f, { policy_text = retention.describe(rules) })), f)
   end
end)

H.test("report.plans_part and plans_parts: the parts joined are report.plans", function()
   local report = require "mdb.report"
   local function b(id, t) return { id = id, created = t, type = "AUTOMATED", size = "1024" } end
   local plans = {
      { engine = "mysql", cluster = "c1", cluster_name = "one", folder = "f1",
        plan = { keep = { { backup = b("c1:2", 2000), reasons = { "last snapshot" } } },
                 expire = { { backup = b("c1:1", 1000), reasons = {} } } } },
      { engine = "mysql", cluster = "c2", folder = "f2", error = "http error: boom" },
      { engine = "redis", cluster = "c3", folder = "f2", plan = { keep = {}, expire = {} } },
   }
   for _, f in ipairs(report.FORMATS.plans) do
      for _, folders in ipairs { false, true } do
         local o = { folders = folders or nil, policy_text = "keep 1 latest snapshots" }
         local parts, acc = {}, nil
         for i, p in ipairs(plans) do
            parts[i] = report.plans_part({ p }, f, { folders = o.folders })
            acc = report.plans_add(acc, { p })
         end
         H.eq(table.concat(report.plans_parts(parts, acc, f, o)), report.plans(plans, f, o), f)
      end
      H.eq(table.concat(report.plans_parts({}, report.plans_add(nil, {}), f)), report.plans({}, f), f .. " empty")
   end
   H.raises(nil, report.plans_part, plans, "xml")
end)

H.run_all()
