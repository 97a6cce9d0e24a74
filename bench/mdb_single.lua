-- Benchmark scenario: one deep listing through the lazy iterator, counting
-- backups and summing their sizes.  args: ENGINE CLUSTER PAGE_SIZE
local mdb = require "mdb"
local c = mdb.client { page_size = tonumber(arg[3]) }
local n, total = 0, 0
for b in c:backups { engine = arg[1], cluster = arg[2] } do
   n = n + 1
   total = total + (b.size or 0)
end
print(n, total)
