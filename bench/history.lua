-- The history benchmark (on demand): recording a 1M-backup scan against the
-- scan alone; an unchanged re-scan of 100,000 backups; 100 scans of an
-- unchanged 100,000-backup fleet and the file they leave.
--   mdblua bench/history.lua BUILD_DIR [RUNS [PARTS]]   (sh bench/run.sh history)
-- PARTS: a comma-separated choice of 1m, fleet, 100k (default all).
local build = assert(arg[1], "usage: mdblua bench/history.lua BUILD_DIR [RUNS [PARTS]]")
local runs = tonumber(arg[2]) or 3
local only
if arg[3] and arg[3] ~= "" then
   only = {}
   for p in arg[3]:gmatch("[^,]+") do only[p] = true end
end
local function want(part) return not only or only[part] end
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local MDBLUA, FAKE, MEASURE = build .. "/mdblua", build .. "/tests/fakeapi/fakeapi", build .. "/bench/bench_measure"
local TOKEN, FOLDER = "bench-token", "b1gfakefolder0000001"
local SCRIPT = here .. "/mdb_scan_record.lua"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function start_fake(args)
   local p = assert(io.popen(q(FAKE) .. " --token " .. TOKEN .. " --lifetime 3600 " .. args .. " 2>/dev/null"))
   local url, pid = p:read("l"):match("^(%S+) (%d+)$")
   return { url = url, stop = function() os.execute("kill " .. pid); p:close() end }
end

local function measure(cmd, env)
   -- Every run starts with the files of the runs before it written out:
   -- their writeback (hundreds of MiB each) would otherwise take the CPU
   -- and disk of the run measured next.
   os.execute("sync")
   local err = os.tmpname()
   local p = assert(io.popen(env .. " " .. q(MEASURE) .. " " .. cmd .. " 2>" .. err))
   local out = p:read("a")
   local ok = p:close()
   local f = io.open(err)
   local text = f:read("a")
   f:close()
   os.remove(err)
   local wall, rss, cpu = text:match("measure: ([%d.]+) (%d+) ([%d.]+)")
   if not ok or not wall then error("failed: " .. cmd .. "\n" .. text) end
   return tonumber(wall), tonumber(rss) / 1024, out, tonumber(cpu), tonumber(text:match("finish: ([%d.]+)"))
end

local function median(xs)
   table.sort(xs)
   return xs[(#xs + 1) // 2]
end

local function size_of(path)
   local f = io.open(path, "rb")
   if not f then return 0 end
   local n = f:seek("end")
   f:close()
   return n
end

local function run(_, _, file, times, stream)
   return string.format("%s %s postgresql %s 16 %s %s %s", q(MDBLUA), q(SCRIPT), FOLDER, q(file or ""),
      times or 1, stream and "stream" or "")
end

local tmp = os.tmpname()
os.remove(tmp)
os.execute("mkdir -p " .. q(tmp))
-- A new file's path; the files of earlier runs are removed (one at a
-- time on disk).
local function fresh(name)
   os.execute("rm -f " .. q(tmp) .. "/*.db*")
   return tmp .. "/" .. name
end

print(string.format("%-58s %10s %8s", "history scenario", "value", "target"))

-- 1. 1,000,000 backups (100 clusters x 10,000): scan alone, scan + record.
-- A fake that answers at once: the scan is bound by the Lua thread's CPU,
-- and the fake takes much of the second core the writer thread would use.
if want("1m") then
   local fake = start_fake("--generate engine=postgresql,clusters=100,backups=10000")
   local env = "YC_MDB_ENDPOINT=" .. fake.url .. " YC_IAM_TOKEN=" .. TOKEN
   -- The machine may be shared: CPU time (user+sys, every thread) is
   -- printed beside the wall time, the recording's writer thread included.
   local scan, rec, rss, sscan, srec = {}, {}, 0, {}, {}
   local cscan, crec, csscan, csrec = {}, {}, {}, {}
   local uscan, urec, cuscan, curec = {}, {}, {}, {}
   local commit, jrec = {}, {}
   local size
   local _
   for i = 1, runs do
      scan[i], _, _, cscan[i] = measure(run(env), env)
      local t, r, _, c = measure(run(env, nil, fresh("1m.db")), env)
      rec[i], crec[i] = t, c
      if r > rss then rss = r end
      size = size_of(tmp .. "/1m.db")
      sscan[i], _, _, csscan[i] = measure(run(env, nil, nil, 1, true), env)
      srec[i], _, _, csrec[i], commit[i] = measure(run(env, nil, fresh("1ms.db"), 1, true), env)
      -- An hourly run: the fleet recorded once already, unchanged.  The
      -- second of two scans in one process, less a process with one.
      local uw, uc
      uw, _, _, uc = measure(run(env, nil, nil, 2, true), env)
      uscan[i], cuscan[i] = uw - sscan[i], uc - csscan[i]
      uw, _, _, uc = measure(run(env, nil, fresh("1mu.db"), 2, true), env)
      urec[i], curec[i] = uw - srec[i], uc - csrec[i]
      jrec[i] = measure(run(env, nil, fresh("1mj.db"), 1, true), env .. " MDB_BENCH_JOURNAL=DELETE")
   end
   fresh("none")
   fake.stop()
   local function each(xs)
      local t = {}
      for i, x in ipairs(xs) do t[i] = string.format("%.2f", x) end
      return table.concat(t, " ")
   end
   local function ratios(a, b)
      local t = {}
      for i = 1, #a do t[i] = b[i] / a[i] end
      return t
   end
   local wr, cr, swr, scr = ratios(scan, rec), ratios(cscan, crec), ratios(sscan, srec), ratios(csscan, csrec)
   local s, r = median(scan), median(rec)
   print(string.format("%-58s %9.3fs", "1M backups: client:scan", s))
   print(string.format("%-58s %9.3fs", "1M backups: client:scan + record (new file)", r))
   print(string.format("%-58s %9.2fx %8s", "  recording adds", r / s, "<= 1.50"))
   print(string.format("%-58s %9s", "    each run's ratio (scan, record taken in turns)", each(wr)))
   print(string.format("%-58s %8.2fs / %.2fs = %.2fx", "  CPU user+sys, medians: scan / scan + record", median(cscan),
      median(crec), median(crec) / median(cscan)))
   print(string.format("%-58s %9s", "    each run's CPU ratio", each(cr)))
   print(string.format("%-58s %8.0f MiB", "  peak RSS, scan + record", rss))
   print(string.format("%-58s %8.1f MiB", "  file", size / 1048576))
   -- Recording each entry as a streaming scan hands it over (audit.lua
   -- --record): no transfer progresses while Lua records.
   local ss, sr = median(sscan), median(srec)
   print(string.format("%-58s %9.3fs", "1M backups: streaming scan (each)", ss))
   print(string.format("%-58s %9.3fs", "1M backups: streaming scan, each entry recorded in it", sr))
   print(string.format("%-58s %9.2fx %8s", "  recording adds", sr / ss, "<= 1.50"))
   print(string.format("%-58s %9s", "    each run's ratio", each(swr)))
   print(string.format("%-58s %8.2fs / %.2fs = %.2fx", "  CPU user+sys, medians: scan / scan + record", median(csscan),
      median(csrec), median(csrec) / median(csscan)))
   print(string.format("%-58s %9s", "    each run's CPU ratio", each(scr)))
   print(string.format("%-58s %9.3fs", "  of which the commit (WAL: the log copied into the file)", median(commit)))
   print(string.format("%-58s %9.2fx", "  recording adds, the commit left out", (sr - median(commit)) / ss))
   print(string.format("%-58s %9.2fx", "  recording adds, probe: the file in rollback-journal mode", median(jrec) / ss))
   local us, ur = median(uscan), median(urec)
   print(string.format("%-58s %9.3fs", "1M backups, unchanged since the last record: streaming scan", us))
   print(string.format("%-58s %9.3fs", "  the same, each entry recorded in it", ur))
   print(string.format("%-58s %9.2fx %8s", "  recording adds", ur / us, "<= 1.50"))
   print(string.format("%-58s %9s", "    each run's ratio", each(ratios(uscan, urec))))
   print(string.format("%-58s %8.2fs / %.2fs = %.2fx", "  CPU user+sys, medians: scan / scan + record", median(cuscan),
      median(curec), median(curec) / median(cuscan)))
end

-- 1b. 1,000,000 backups as the fleet benchmarks have them (bench/run.lua's
-- scripts scenario): 10,000 clusters x 100, 20 ms per request, 16 transfers.
if want("fleet") then
   local fake = start_fake("--generate engine=postgresql,clusters=10000,backups=100 --fault 'delay_ms=20;times=0'")
   local env = "YC_MDB_ENDPOINT=" .. fake.url .. " YC_IAM_TOKEN=" .. TOKEN
   local sscan, srec, scan, rec, cs, cr = {}, {}, {}, {}, {}, {}
   local _
   for i = 1, runs do
      sscan[i], _, _, cs[i] = measure(run(env, nil, nil, 1, true), env)
      srec[i], _, _, cr[i] = measure(run(env, nil, fresh("fs.db"), 1, true), env)
      scan[i] = measure(run(env), env)
      rec[i] = measure(run(env, nil, fresh("f.db")), env)
   end
   fake.stop()
   local ss, sr, s, r = median(sscan), median(srec), median(scan), median(rec)
   print(string.format("%-58s %9.3fs", "1M in 10,000 clusters, 20 ms: streaming scan (each)", ss))
   print(string.format("%-58s %9.3fs", "  streaming scan, each entry recorded in it", sr))
   print(string.format("%-58s %9.2fx %8s", "  recording adds", sr / ss, "<= 1.50"))
   print(string.format("%-58s %8.2fs / %.2fs", "  CPU user+sys, medians: scan / scan + record", median(cs), median(cr)))
   print(string.format("%-58s %9.3fs", "1M in 10,000 clusters, 20 ms: client:scan", s))
   print(string.format("%-58s %9.3fs", "  client:scan + record (new file)", r))
   print(string.format("%-58s %9.2fx %8s", "  recording adds", r / s, "<= 1.50"))
end

-- 2. and 3. 100,000 backups (100 clusters x 1,000), unchanged.
if want("100k") then
   local fake = start_fake("--generate engine=postgresql,clusters=100,backups=1000")
   local env = "YC_MDB_ENDPOINT=" .. fake.url .. " YC_IAM_TOKEN=" .. TOKEN
   local db = fresh("100k.db")
   measure(run(env, nil, db), env)
   local scan, rec = {}, {}
   for i = 1, runs do
      scan[i] = measure(run(env), env)
      rec[i] = measure(run(env, nil, db), env)
   end
   local s, r = median(scan), median(rec)
   print(string.format("%-58s %9.3fs", "100k backups: client:scan", s))
   print(string.format("%-58s %9.3fs", "100k backups: client:scan + record, unchanged", r))
   print(string.format("%-58s %9.3fs %8s", "  recording an unchanged re-scan", r - s, "< 2 s"))
   db = fresh("100x.db")
   local t = measure(run(env, nil, db, 100), env)
   fake.stop()
   os.execute("sqlite3 " .. q(db) .. " 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null")
   print(string.format("%-58s %9.1fs", "100 scans + records of an unchanged 100k fleet", t))
   print(string.format("%-58s %8.1f MiB %8s", "  file after 100 scans", size_of(db) / 1048576, "< 100 MB"))
end
os.execute("rm -rf " .. q(tmp))
