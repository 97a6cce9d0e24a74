-- Writes the HTML audit report of 10,000 PostgreSQL clusters (30 days of
-- daily backups, a day missing in every 97th) to FILE: the page the
-- browser test loads and the benchmark's `html` scenario times.
-- args: FILE NOW (Unix seconds, the report's --now)
local html = require "mdb.html"
local audit = require "mdb.audit"
local path, now = assert(arg[1], "usage: big_report.lua FILE NOW"), assert(tonumber(arg[2]), "NOW: Unix seconds")
local DAY = 86400
local results = {}
for i = 1, 10000 do
   local id = string.format("c9qbig%09d", i)
   local backups = {}
   for d = 0, 29 do
      if not (i % 97 == 0 and d == 4) then
         backups[#backups + 1] = { id = id .. ":" .. d, engine = "postgresql", sourceClusterId = id,
            created = now - 5400 - d * DAY, size = 1 << 33, type = d % 10 == 0 and "MANUAL" or "AUTOMATED",
            status = "DONE" }
      end
   end
   results[i] = { engine = "postgresql", id = id, backups = backups, cluster = { id = id, name = "big-" .. i,
      created = now - 500 * DAY, config = { backupRetainPeriodDays = "30" } } }
end
local page = html.audit(audit.run(results, nil, { now = now }), results, { now = now })
local f = assert(io.open(path, "wb"))
assert(f:write(page))
assert(f:close())
print(#page)
