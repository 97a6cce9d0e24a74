-- Benchmark scenario: a folder scan against a request quota.
-- args: ENGINE FOLDER CONCURRENCY PACING(on|off); prints
-- "CLUSTERS FAILED REQUESTS THROTTLED RATE" from the entries' stats.
local mdb = require "mdb"
local engine, folder, conc, pacing = arg[1], arg[2], tonumber(arg[3]), arg[4] ~= "off"
local c = mdb.client { pacing = pacing }
local failed, requests, throttled, rate = 0, 0, 0, 0
local res = c:scan { engine = engine, folder = folder, concurrency = conc }
for _, r in ipairs(res) do
   if r.error then failed = failed + 1 end
   requests = requests + r.stats.requests
   throttled = throttled + r.stats.throttled
   rate = r.stats.rate or rate
end
print(string.format("%d %d %d %d %.1f", #res, failed, requests, throttled, rate))
os.exit(0)
