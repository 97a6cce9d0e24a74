-- Benchmark scenario: client:scan of a folder, then (with a FILE) record
-- it in a history file.  args: ENGINE FOLDER CONCURRENCY [FILE [TIMES
-- [stream]]]; prints the number of backups.  TIMES > 1 scans and records
-- again and again (the unchanged-fleet scenario).  "stream" records each
-- cluster as a streaming scan hands it over (what audit.lua --record
-- does): no transfer progresses while an entry is recorded; a file's
-- first recording keeps each backup's text (backup_texts), as the
-- scripts' scans do.  The plain scan
-- keeps none (a library caller's default: the texts would double the
-- memory of a scan kept whole).
local mdb = require "mdb"
local history = require "mdb.history"
local engine, folder, conc, file = arg[1], arg[2], tonumber(arg[3]), arg[4]
if file == "" then file = nil end
local times = tonumber(arg[5]) or 1
local stream = arg[6] == "stream"
local c = mdb.client { page_size = 1000 }
local function wall()
   local p = io.popen("date +%s.%N")
   local t = tonumber(p:read("l"))
   p:close()
   return t
end
local n = 0
for t = 1, times do
   local scope = { folder = folder, engines = { engine }, time = 1.8e9 + t * 3600, tool = "bench" }
   n = 0
   if stream then
      local h = file and assert(history.open(file, { write = true }))
      -- A probe, not a mode of the product: the file in rollback-journal
      -- mode, to show what WAL mode's checkpoint costs a first recording.
      local journal = os.getenv("MDB_BENCH_JOURNAL")
      if h and journal then h.db:exec("PRAGMA journal_mode = " .. journal) end
      local r = h and h:recorder(scope)
      c:scan { engine = engine, folder = folder, concurrency = conc, backup_texts = r ~= nil and r:wants_texts(), each = function(e, pos)
         if e.error then error(e.error) end
         n = n + #e.backups
         if r then r:add(e, pos) end
      end }
      if r then
         -- the commit's wall time (with WAL, its checkpoint copies the
         -- new rows from the log into the file) on stderr
         local t0 = wall()
         r:finish()
         io.stderr:write(string.format("finish: %.3f\n", wall() - t0))
         h:close()
      end
   else
      local results = c:scan { engine = engine, folder = folder, concurrency = conc }
      for _, e in ipairs(results) do
         if e.error then error(e.error) end
         n = n + #e.backups
      end
      if file then assert(history.record(file, results, scope)) end
   end
end
print(n)
os.exit(0)
