-- The benchmark driver (run by mdblua; see bench/run.sh).  Starts the fake
-- API on loopback with server-side delays, runs mdblua and the baselines
-- (Python standard library, plain C with libcurl + lua-cjson, stock lua5.4),
-- and prints every figure and the ratios against the issue's targets.
-- args: BUILD_DIR [RUNS] [SCENARIOS]  (SCENARIOS: comma-separated names of
-- fleet, deep, cpu, startup, stream, stream10k, scripts, html; default all).
-- MDB_BENCH_SCRIPTS=DIR runs the scripts scenario on the scripts in DIR
-- instead of scripts/; MDB_BENCH_SCRIPTS_BEFORE=DIR also runs DIR's (an
-- older version's), taking turns with the others, for comparison.
local build = assert(arg[1], "usage: mdblua bench/run.lua BUILD_DIR [RUNS] [SCENARIOS]")
local runs = tonumber(arg[2]) or 5
local only = arg[3] and arg[3] ~= "" and {} or nil
for name in (arg[3] or ""):gmatch("[^,]+") do only[name] = true end
local function want(name) return not only or only[name] end
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local MDBLUA = build .. "/mdblua"
local FAKE = build .. "/tests/fakeapi/fakeapi"
local MEASURE = build .. "/bench/bench_measure"
local CCLIENT = build .. "/bench/bench_c_client"
local TOKEN = "bench-token"
local FOLDER = "b1gfakefolder0000001"
local PREFIX = "/managed-mongodb/v1"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function start_fake(args)
   local p = assert(io.popen(q(FAKE) .. " --token " .. TOKEN .. " --lifetime 1800 " .. args .. " 2>/dev/null"))
   local url, pid = p:read("l"):match("^(%S+) (%d+)$")
   return { url = url, stop = function() os.execute("kill " .. pid); p:close() end }
end

-- Run a command under `measure`: returns seconds, peak RSS in MiB, stdout,
-- CPU seconds (user + system).
local function measure(cmd, env)
   local err = os.tmpname()
   local p = assert(io.popen((env or "") .. " " .. q(MEASURE) .. " " .. cmd .. " 2>" .. err))
   local out = p:read("a")
   local ok = p:close()
   local f = io.open(err)
   local text = f:read("a")
   f:close()
   os.remove(err)
   local wall, rss, cpu = text:match("measure: ([%d.]+) (%d+) ([%d.]+)")
   if not ok or not wall then error("failed: " .. cmd .. "\n" .. text) end
   return tonumber(wall), tonumber(rss) / 1024, out, tonumber(cpu)
end

local function median(xs)
   table.sort(xs)
   return xs[(#xs + 1) // 2]
end

-- Median wall time and peak RSS of `n` runs of each command in `cmds`
-- ({cmd, env, expect}); checks the output each time.  The commands take
-- turns (a b c a b c ...), so a machine that slows down or speeds up
-- during the run weighs on all of them alike and the ratios stay fair.
local function bench_each(n, cmds)
   local ts, rss, cpus = {}, {}, {}
   for k = 1, #cmds do ts[k], rss[k], cpus[k] = {}, 0, {} end
   for i = 1, n do
      for k, c in ipairs(cmds) do
         local t, r, out, cpu = measure(c[1], c[2])
         if c[3] and not out:find(c[3], 1, true) then
            error(string.format("unexpected output of %s: %q (wanted %s)", c[1], out, c[3]))
         end
         ts[k][i], cpus[k][i] = t, cpu
         if r > rss[k] then rss[k] = r end
      end
   end
   local res = {}
   for k = 1, #cmds do res[k] = { median(ts[k]), rss[k], median(cpus[k]) } end
   return res
end

local function bench(n, cmd, env, expect)
   local r = bench_each(n, { { cmd, env, expect } })[1]
   return r[1], r[2]
end

local rows = {}
local function row(scenario, what, value, unit, ratio, target)
   rows[#rows + 1] = { scenario, what, value, unit, ratio, target }
   io.stderr:write(string.format("  %-10s %-42s %9.3f %s\n", scenario, what, value, unit))
end

local env = "YC_IAM_TOKEN=" .. TOKEN .. " YC_MDB_ENDPOINT="

-- 1. fleet -----------------------------------------------------------------
if want("fleet") then
io.stderr:write("1. fleet: 200 clusters x 300 backups, pageSize 100, 20 ms per request\n")
local s = start_fake("--generate engine=mongodb,clusters=200,backups=300 --fault 'delay_ms=20;times=0'")
local e = env .. s.url
local floor1 = math.ceil(200 / 16) * 3 * 0.020 + 0.020
local r1 = bench_each(runs, {
   { q(MDBLUA) .. " " .. q(here .. "/mdb_fleet.lua") .. " mongodb " .. FOLDER .. " 100 16", e, "60000" },
   { q(CCLIENT) .. " fleet " .. s.url .. " " .. TOKEN .. " " .. PREFIX .. " " .. FOLDER .. " 100 16", nil, "60000" },
   { "python3 " .. q(here .. "/py_client.py") .. " fleet " .. s.url .. " " .. TOKEN .. " " .. PREFIX .. " " .. FOLDER .. " 100 16", nil, "60000" } })
local mdb1, c1, py16 = r1[1][1], r1[2][1], r1[3][1]
local pyseq = bench(1, "python3 " .. q(here .. "/py_client.py") .. " fleet " .. s.url .. " " .. TOKEN .. " " .. PREFIX .. " " .. FOLDER .. " 100 1", nil, "60000")
s.stop()
row("fleet", "floor (13 rounds x 3 x 20 ms + listing)", floor1, "s")
row("fleet", "mdblua client:scan, concurrency 16", mdb1, "s", mdb1 / floor1, "<= 1.10 x floor")
row("fleet", "plain C, libcurl multi, 16 transfers", c1, "s", mdb1 / c1, "mdblua <= 1.00 x C")
row("fleet", "Python stdlib, 16 threads", py16, "s", mdb1 / py16, "mdblua <= 0.85 x Python")
row("fleet", "Python stdlib, sequential", pyseq, "s", mdb1 / pyseq)
end

-- 2. deep listing ---------------------------------------------------------
local path = PREFIX .. "/clusters/cmongodb-0000/backups"
if want("deep") then
io.stderr:write("2. deep: 200,000 backups, pageSize 1000, 10 ms per request\n")
local s = start_fake("--generate engine=mongodb,clusters=1,backups=200000 --fault 'delay_ms=10;times=0'")
local e = env .. s.url
local _, _, bare_out = measure(q(CCLIENT) .. " bare " .. s.url .. " " .. TOKEN .. " " .. path .. " 1000 21")
local floor2 = 200 * tonumber(bare_out)
local r2 = bench_each(runs, {
   { q(MDBLUA) .. " " .. q(here .. "/mdb_single.lua") .. " mongodb cmongodb-0000 1000", e, "200000" },
   { "python3 " .. q(here .. "/py_client.py") .. " single " .. s.url .. " " .. TOKEN .. " " .. path .. " 1000", nil, "200000" } })
local mdb2, py2 = r2[1][1], r2[2][1]
s.stop()
row("deep", "floor (200 x bare request " .. string.format("%.2f ms", floor2 / 200 * 1000) .. ")", floor2, "s")
row("deep", "mdblua iterator", mdb2, "s", mdb2 / floor2, "<= 1.05 x floor")
row("deep", "Python stdlib", py2, "s", mdb2 / py2)
end

-- 3. CPU --------------------------------------------------------------------
if want("cpu") then
io.stderr:write("3. cpu: 1,000,000 backups, pageSize 1000, no delay\n")
local s = start_fake("--generate engine=mongodb,clusters=1,backups=1000000")
local e = env .. s.url
local r3 = bench_each(runs, {
   { q(MDBLUA) .. " " .. q(here .. "/mdb_single.lua") .. " mongodb cmongodb-0000 1000", e, "1000000" },
   { q(CCLIENT) .. " single " .. s.url .. " " .. TOKEN .. " " .. path .. " 1000", nil, "1000000" } })
local mdb3, mdb3rss, c3, c3rss = r3[1][1], r3[1][2], r3[2][1], r3[2][2]
local mdb3cpu, c3cpu = r3[1][3], r3[2][3]
local py3, py3rss = bench(1, "python3 " .. q(here .. "/py_client.py") .. " sum " .. s.url .. " " .. TOKEN .. " " .. path .. " 1000", nil, "1000000")
s.stop()
row("cpu", "mdblua: count and sum sizes", mdb3, "s", mdb3 / c3, "<= 1.05 x C")
row("cpu", "plain C: one handle, lua-cjson decode only", c3, "s")
row("cpu", "CPU (user+sys): mdblua", mdb3cpu, "s", mdb3cpu / c3cpu, "<= 1.2 x C")
row("cpu", "CPU (user+sys): plain C", c3cpu, "s")
row("cpu", "Python stdlib: count and sum sizes", py3, "s", mdb3 / py3)
row("cpu", "mdblua peak RSS", mdb3rss, "MiB", nil, "<= 16 MiB")
row("cpu", "plain C peak RSS", c3rss, "MiB")
row("cpu", "Python peak RSS", py3rss, "MiB")
end

-- 4. start-up ---------------------------------------------------------------
if want("startup") then
io.stderr:write("4. start-up\n")
local r4 = bench_each(51, { { q(MDBLUA) .. " -e ''" }, { "lua5.4 -e ''" } })
local m4, l4 = r4[1][1], r4[2][1]
row("start-up", "mdblua -e ''", m4 * 1000, "ms", m4 / l4, "<= 2 x lua5.4")
row("start-up", "lua5.4 -e ''", l4 * 1000, "ms")
end

-- 5. streaming scan: 200 clusters x 3,000 backups ------------------------------
-- A streaming scan that counts backups against the plain C client and
-- against today's client:scan (every backup kept), and its CPU per backup
-- against a deep listing's (600,000 backups from a server with no delay).
-- The stream scenario also runs C under the streaming contract (c_client
-- fleet-hold: each cluster's pages held undecoded until its last one is
-- in, then decoded into one table of the cluster's backups, all live at
-- once), for the scan's ratio against a C client doing what it promises.
local function fleet_cmds(url, e, page_size, want_out, hold)
   local args = " mongodb " .. FOLDER .. " " .. page_size .. " 16"
   local c_args = url .. " " .. TOKEN .. " " .. PREFIX .. " " .. FOLDER .. " " .. page_size .. " 16"
   local cmds = {
      { q(MDBLUA) .. " " .. q(here .. "/mdb_stream.lua") .. args, e, want_out },
      { q(MDBLUA) .. " " .. q(here .. "/mdb_fleet.lua") .. args, e, want_out },
      { q(CCLIENT) .. " fleet " .. c_args, nil, want_out } }
   if hold then cmds[4] = { q(CCLIENT) .. " fleet-hold " .. c_args, nil, want_out } end
   return cmds
end

if want("stream") then
io.stderr:write("5. stream: 200 clusters x 3,000 backups, pageSize 1000, 20 ms per request, concurrency 16\n")
local s = start_fake("--generate engine=mongodb,clusters=200,backups=3000 --fault 'delay_ms=20;times=0'")
local r5 = bench_each(runs, fleet_cmds(s.url, env .. s.url, 1000, "600000", true))
s.stop()
s = start_fake("--generate engine=mongodb,clusters=1,backups=600000")
local deep = bench_each(runs, { { q(MDBLUA) .. " " .. q(here .. "/mdb_single.lua") .. " mongodb cmongodb-0000 1000",
   env .. s.url, "600000" } })[1]
s.stop()
local st, pl, c5, ch = r5[1], r5[2], r5[3], r5[4]
local us = function(cpu) return cpu / 600000 * 1e6 end
row("stream", "mdblua streaming scan (each=), count", st[1], "s", st[1] / c5[1], "<= 1.15 x C")
row("stream", "mdblua client:scan, every backup kept", pl[1], "s", pl[1] / c5[1])
row("stream", "plain C, libcurl multi, 16 transfers", c5[1], "s")
row("stream", "C holding each cluster's pages, decoded together (ratio: against plain C)", ch[1], "s", ch[1] / c5[1])
row("stream", "mdblua streaming scan against C holding each cluster's pages (the same contract)", st[1], "s", st[1] / ch[1])
row("stream", "CPU per backup: streaming scan", us(st[3]), "us", st[3] / deep[3], "<= 1.5 x deep")
row("stream", "CPU per backup: client:scan", us(pl[3]), "us", pl[3] / deep[3])
row("stream", "CPU per backup: plain C", us(c5[3]), "us")
row("stream", "CPU per backup: C holding each cluster's pages (ratio: against plain C)", us(ch[3]), "us", ch[3] / c5[3])
row("stream", "CPU: streaming scan against C holding each cluster's pages", st[3], "s", st[3] / ch[3])
row("stream", "CPU per backup: deep listing, 600,000", us(deep[3]), "us")
row("stream", "peak RSS: streaming scan", st[2], "MiB")
row("stream", "peak RSS: client:scan", pl[2], "MiB")
row("stream", "peak RSS: plain C", c5[2], "MiB")
row("stream", "peak RSS: C holding each cluster's pages", ch[2], "MiB")
end

-- 6. streaming scan: 10,000 clusters x 100 backups -----------------------------
if want("stream10k") then
io.stderr:write("6. stream10k: 10,000 clusters x 100 backups, 20 ms per request, concurrency 16\n")
local s = start_fake("--generate engine=mongodb,clusters=10000,backups=100 --fault 'delay_ms=20;times=0'")
local r6 = bench_each(runs, fleet_cmds(s.url, env .. s.url, 1000, "1000000"))
s.stop()
local st, pl, c6 = r6[1], r6[2], r6[3]
row("stream10k", "mdblua streaming scan (each=), count", st[1], "s", st[1] / c6[1])
row("stream10k", "mdblua client:scan, every backup kept", pl[1], "s", pl[1] / c6[1])
row("stream10k", "plain C, libcurl multi, 16 transfers", c6[1], "s")
row("stream10k", "peak RSS: streaming scan", st[2], "MiB", nil, "<= 64 MiB")
row("stream10k", "peak RSS: client:scan", pl[2], "MiB")
row("stream10k", "peak RSS: plain C", c6[2], "MiB")
end

-- 7. the fleet scripts: 10,000 clusters x 100 backups ---------------------------
-- audit.lua --format json and inventory.lua over the whole fleet (they
-- consume the scan cluster by cluster), against the plain C client's
-- listing of the same fleet.  audit.lua lists each cluster's operations
-- too, and the folder's retention policies (MongoDB lists them by folder:
-- 20,000 requests and a few, not 10,000), so its ratio is taken against a
-- plain C client making the same listings.
if want("scripts") then
io.stderr:write("7. scripts: 10,000 clusters x 100 backups, 20 ms per request, concurrency 16\n")
local dir = os.getenv("MDB_BENCH_SCRIPTS") or (here .. "/../scripts")
local s = start_fake("--generate engine=mongodb,clusters=10000,backups=100 --fault 'delay_ms=20;times=0'")
local e = env .. s.url
local scope = " --engine mongodb --folder " .. FOLDER .. " --concurrency 16 --page-size 1000"
local cmds = {
   { q(MDBLUA) .. " " .. q(dir .. "/audit.lua") .. " --format json" .. scope, e, '"clusters":10000,' },
   { q(MDBLUA) .. " " .. q(dir .. "/inventory.lua") .. scope, e, "10000 clusters, 1000000 backups" },
   { q(CCLIENT) .. " fleet " .. s.url .. " " .. TOKEN .. " " .. PREFIX .. " " .. FOLDER .. " 1000 16", nil, "1000000" },
   { q(CCLIENT) .. " fleet " .. s.url .. " " .. TOKEN .. " " .. PREFIX .. " " .. FOLDER
      .. " 1000 16 folder_policies,backups,operations", nil, "1000000" } }
local before = os.getenv("MDB_BENCH_SCRIPTS_BEFORE")
if before then
   cmds[5] = { q(MDBLUA) .. " " .. q(before .. "/audit.lua") .. " --format json" .. scope, e, '"clusters":10000,' }
   cmds[6] = { q(MDBLUA) .. " " .. q(before .. "/inventory.lua") .. scope, e, "10000 clusters, 1000000 backups" }
end
local r7 = bench_each(runs, cmds)
s.stop()
local au, inv, c7, c7all = r7[1], r7[2], r7[3], r7[4]
row("scripts", "audit.lua --format json", au[1], "s", au[1] / c7all[1], "<= 1.15 x C (same lists)")
row("scripts", "audit.lua against C listing backups only", au[1], "s", au[1] / c7[1])
row("scripts", "inventory.lua", inv[1], "s", inv[1] / c7[1])
row("scripts", "plain C, libcurl multi, 16 transfers", c7[1], "s")
row("scripts", "plain C, backups + operations, policies by folder", c7all[1], "s")
row("scripts", "peak RSS: audit.lua --format json", au[2], "MiB", nil, "<= 128 MiB")
row("scripts", "peak RSS: inventory.lua", inv[2], "MiB", nil, "<= 64 MiB")
row("scripts", "peak RSS: plain C", c7[2], "MiB")
row("scripts", "CPU: audit.lua (ratio: against C, same lists)", au[3], "s", au[3] / c7all[3])
row("scripts", "CPU: inventory.lua", inv[3], "s", inv[3] / c7[3])
if before then
   local ba, bi = r7[5], r7[6]
   row("scripts", "before: audit.lua --format json", ba[1], "s", ba[1] / c7all[1])
   row("scripts", "before: inventory.lua", bi[1], "s", bi[1] / c7[1])
   row("scripts", "before: peak RSS audit.lua --format json", ba[2], "MiB")
   row("scripts", "before: peak RSS inventory.lua", bi[2], "MiB")
   row("scripts", "before: CPU audit.lua", ba[3], "s", ba[3] / c7all[3])
   row("scripts", "before: CPU inventory.lua", bi[3], "s", bi[3] / c7[3])
end
end

-- 8. the HTML report of 10,000 clusters in headless chromium -------------------
-- The page tests/browser/big_report.lua writes (the browser test's), loaded
-- and screenshot by Debian's chromium with the network off; beside it,
-- chromium on an empty page (its own start and exit).
if want("html") then
io.stderr:write("8. html: a 10,000-cluster audit page in headless chromium\n")
local chromium = io.popen("command -v chromium || command -v chromium-browser"):read("l")
if not chromium then
   io.stderr:write("  html: skipped, chromium is not installed (apt-get install chromium)\n")
else
   local dir = os.tmpname()
   os.remove(dir)
   assert(os.execute("mkdir -p " .. q(dir)))
   local page, empty = dir .. "/big.html", dir .. "/empty.html"
   local _, _, size = measure(q(MDBLUA) .. " " .. q(here .. "/../tests/browser/big_report.lua") .. " " .. q(page)
      .. " 1796472000")
   local f = assert(io.open(empty, "w"))
   f:write("<!doctype html><title>empty</title>\n")
   f:close()
   local function shot(file)
      return "timeout 90 " .. q(chromium) .. " --headless --no-sandbox --disable-gpu --user-data-dir=" .. q(dir .. "/profile")
         .. " --no-first-run --disable-extensions --disable-background-networking --disable-component-update"
         .. " --proxy-server=127.0.0.1:9 --host-resolver-rules='MAP * ~NOTFOUND' --hide-scrollbars"
         .. " --window-size=1280,1600 --screenshot=" .. q(dir .. "/shot.png") .. " " .. q("file://" .. file)
   end
   local r8 = bench_each(runs, { { shot(page) }, { shot(empty) } })
   os.execute("rm -rf " .. q(dir))
   row("html", "page size, 10,000 clusters", tonumber(size) / 1e6, "MB", nil, "<= 25 MB")
   row("html", "chromium --screenshot of the page", r8[1][1], "s", r8[1][1] / 10, "<= 10 s")
   row("html", "chromium --screenshot of an empty page", r8[2][1], "s")
   row("html", "peak RSS of its largest process, the page", r8[1][2], "MiB")
end
end

-- The table -----------------------------------------------------------------
local cpu = io.open("/proc/cpuinfo") and io.open("/proc/cpuinfo"):read("a"):match("model name%s*:%s*([^\n]+)") or "?"
print(string.format("mdblua benchmark, %s, %s, %d cores, median of %d runs",
   os.date("!%Y-%m-%d"), cpu, tonumber(io.popen("nproc"):read("l")) or 0, runs))
print("")
print("| scenario | measured | value | ratio | target |")
print("|---|---|---|---|---|")
for _, r in ipairs(rows) do
   print(string.format("| %s | %s | %.3f %s | %s | %s |", r[1], r[2], r[3], r[4],
      r[5] and string.format("%.2f", r[5]) or "", r[6] or ""))
end
