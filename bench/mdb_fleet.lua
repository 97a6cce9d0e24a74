-- Benchmark scenario: every cluster's backups in a folder with client:scan.
-- args: ENGINE FOLDER PAGE_SIZE CONCURRENCY; prints the number of backups.
local mdb = require "mdb"
local engine, folder, page_size, conc = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
local c = mdb.client { page_size = page_size }
local n = 0
for _, r in ipairs(c:scan { engine = engine, folder = folder, concurrency = conc }) do
   if r.error then error(r.error) end
   n = n + #r.backups
end
print(n)
-- End as the bundled scripts do (os.exit, without closing the state) and as
-- the C baseline does (it never frees its Lua state): the figure is the
-- listing, not freeing every object at exit (tens of ms for a fleet's).
os.exit(0)
