-- Benchmark scenario: client:scan of a folder, then (with a FILE) record
-- it in a history file.  args: ENGINE FOLDER CONCURRENCY [FILE [TIMES
-- [stream]]]; prints the number of backups.  TIMES > 1 scans and records
-- again and again (the unchanged-fleet scenario).  "stream" records each
-- cluster as a streaming scan hands it over (what audit.lua --record
-- does): no transfer progresses while an entry is recorded.
local mdb = require "mdb"
local history = require "mdb.history"
local engine, folder, conc, file = arg[1], arg[2], tonumber(arg[3]), arg[4]
if file == "" then file = nil end
local times = tonumber(arg[5]) or 1
local stream = arg[6] == "stream"
local c = mdb.client { page_size = 1000 }
local n = 0
for t = 1, times do
   local scope = { folder = folder, engines = { engine }, time = 1.8e9 + t * 3600, tool = "bench" }
   n = 0
   if stream then
      local h = file and assert(history.open(file, { write = true }))
      local r = h and h:recorder(scope)
      c:scan { engine = engine, folder = folder, concurrency = conc, each = function(e, pos)
         if e.error then error(e.error) end
         n = n + #e.backups
         if r then r:add(e, pos) end
      end }
      if r then r:finish() h:close() end
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
