-- The quota scenario (sh bench/run.sh quota): 2,000 clusters scanned
-- against the fake API's --quota rate=50 (50 requests a second, 429
-- beyond), 20 ms per request, concurrency 16, with adaptive pacing and
-- without it (today's behaviour: each 429 retried on its own).  Targets:
-- zero failed clusters, wall <= 1.2 x 2,000 / R, under 10% of the
-- requests answered 429 (counted in the fake's request log).
-- args: BUILD_DIR [RUNS]
local build = assert(arg[1], "usage: mdblua bench/quota.lua BUILD_DIR [RUNS]")
local runs = tonumber(arg[2]) or 1
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local FAKE = build .. "/tests/fakeapi/fakeapi"
local MEASURE = build .. "/bench/bench_measure"
local TOKEN = "bench-token"
local FOLDER = "b1gfakefolder0000001"
local R, N = 50, 2000

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function run(pacing)
   local log = os.tmpname()
   local p = assert(io.popen(q(FAKE) .. " --token " .. TOKEN .. " --lifetime 1800 --log " .. q(log) ..
      " --generate engine=mongodb,clusters=" .. N .. ",backups=10 --quota rate=" .. R ..
      " --fault 'delay_ms=20;times=0' 2>/dev/null"))
   local url, pid = p:read("l"):match("^(%S+) (%d+)$")
   local err = os.tmpname()
   local cmd = "YC_IAM_TOKEN=" .. TOKEN .. " YC_MDB_ENDPOINT=" .. url .. " " .. q(MEASURE) .. " " ..
      q(build .. "/mdblua") .. " " .. q(here .. "/mdb_quota_scan.lua") .. " mongodb " .. FOLDER ..
      " 16 " .. pacing .. " 2>" .. q(err)
   local out = io.popen(cmd):read("a")
   os.execute("kill " .. pid)
   p:close()
   local ef = io.open(err)
   local wall = tonumber(ef:read("a"):match("measure: ([%d.]+)"))
   ef:close()
   local sent, refused = 0, 0
   for line in io.lines(log) do
      sent = sent + 1
      if line:match(" 429$") then refused = refused + 1 end
   end
   os.remove(log)
   os.remove(err)
   local clusters, failed, _, _, rate = out:match("^(%d+) (%d+) (%d+) (%d+) ([%d.]+)")
   assert(clusters, "unexpected output: " .. out)
   return { wall = wall, clusters = tonumber(clusters), failed = tonumber(failed), sent = sent,
      refused = refused, rate = tonumber(rate) }
end

local bound = 1.2 * N / R
print(string.format("quota: %d clusters, --quota rate=%d, 20 ms per request, concurrency 16; " ..
   "targets: 0 failed, wall <= %.0f s, < 10%% of requests 429", N, R, bound))
print("")
print("| pacing | run | clusters | failed | wall s | wall / (N/R) | requests | 429s | 429 share | final rate/s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for i = 1, runs do
   for _, pacing in ipairs { "on", "off" } do
      io.stderr:write(string.format("  quota: pacing %s, run %d ...\n", pacing, i))
      local r = run(pacing)
      print(string.format("| %s | %d | %d | %d | %.1f | %.2f | %d | %d | %.1f%% | %s |", pacing, i,
         r.clusters, r.failed, r.wall, r.wall / (N / R), r.sent, r.refused,
         100 * r.refused / r.sent, pacing == "on" and string.format("%.1f", r.rate) or "-"))
   end
end
