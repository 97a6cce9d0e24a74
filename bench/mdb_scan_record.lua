-- Benchmark scenario: client:scan of a folder, then (with a FILE) record
-- it in a history file.  args: ENGINE FOLDER CONCURRENCY [FILE [TIMES]];
-- prints the number of backups.  TIMES > 1 scans and records again and
-- again (the unchanged-fleet scenario).
local mdb = require "mdb"
local engine, folder, conc, file = arg[1], arg[2], tonumber(arg[3]), arg[4]
local times = tonumber(arg[5]) or 1
local c = mdb.client { page_size = 1000 }
local n = 0
for t = 1, times do
   local results = c:scan { engine = engine, folder = folder, concurrency = conc }
   n = 0
   for _, r in ipairs(results) do
      if r.error then error(r.error) end
      n = n + #r.backups
   end
   if file then
      assert(require("mdb.history").record(file, results,
         { folder = folder, engines = { engine }, time = 1.8e9 + t * 3600, tool = "bench" }))
   end
end
print(n)
os.exit(0)
