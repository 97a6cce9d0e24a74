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
-- End as the bundled scripts do (os.exit, without closing the state) and as
-- the C baseline does (it never frees its Lua state): the figure is the
-- listing, not freeing every object at exit (tens of ms for a fleet's).
os.exit(0)
