-- Benchmark scenario: every cluster's backups in a folder with a streaming
-- client:scan{each=}, counting them and keeping nothing.
-- args: ENGINE FOLDER PAGE_SIZE CONCURRENCY; prints the number of backups.
local mdb = require "mdb"
local engine, folder, page_size, conc = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
local c = mdb.client { page_size = page_size }
local n = 0
c:scan { engine = engine, folder = folder, concurrency = conc, each = function(r)
   if r.error then error(r.error) end
   n = n + #r.backups
end }
print(n)
os.exit(0)   -- as mdb_fleet.lua does
