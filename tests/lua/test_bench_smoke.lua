-- The benchmark's mdblua scenarios at a tiny size, so that a change that
-- breaks them shows up in the test run (the benchmark itself, bench/run.sh,
-- is on demand).
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local FOLDER = "b1gfakefolder0000001"
local BENCH = H.source_dir .. "/bench/"

H.test("the fleet, streaming and single-listing scenarios count every backup", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=5,backups=7" }
   local env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url }
   for _, script in ipairs { "mdb_stream.lua", "mdb_fleet.lua" } do
      local r = H.run({ BENCH .. script, "mongodb", FOLDER, "3", "2" }, { env = env })
      H.eq({ r.code, r.stdout, r.stderr }, { 0, "35\n", "" }, script)
   end
   local r = H.run({ BENCH .. "mdb_single.lua", "mongodb", "cmongodb-0000", "3" }, { env = env })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "7\t", "mdb_single.lua")
end)

H.run_all()
