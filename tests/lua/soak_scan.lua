-- Soak: many rounds of fan-out listings through a fake API that injects
-- faults (throttling, server errors, cut bodies, dropped connections,
-- empty pages, slow responses).  Every listing that completes must be
-- exact; every one that cannot must be reported as failed; memory must
-- stay flat.  Run by CTest under the "soak" label (see tests/CMakeLists.txt).
-- Environment: SOAK_ROUNDS (default 40), SOAK_CLUSTERS (default 120).
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local ROUNDS = tonumber(os.getenv("SOAK_ROUNDS")) or 40
local CLUSTERS = tonumber(os.getenv("SOAK_CLUSTERS")) or 120
local BACKUPS = 57
local FOLDER = "b1gfakefolder0000001"

local function rss_kib()
   local f = io.open("/proc/self/status")
   local kb = f and f:read("a"):match("VmRSS:%s*(%d+)")
   if f then f:close() end
   return tonumber(kb) or 0
end

local function expected(id)
   local out = {}
   for i = 0, BACKUPS - 1 do out[#out + 1] = string.format("%s:%06d", id, i) end
   return out
end

H.test(string.format("%d rounds x %d clusters with injected faults: exact or reported, memory flat",
   ROUNDS, CLUSTERS), function()
   -- Clusters that can never be listed, in different ways.
   local broken = { ["cmongodb-0003"] = "http", ["cmongodb-0017"] = "json", ["cmongodb-0042"] = "cycle" }
   local kinds = { "status=429", "status=500", "status=502", "status=503", "status=504",
      "truncate=50", "empty=1", "delay_ms=30", "status=429;retry_after=1" }
   -- A fresh fake API each round, with faults drawn at random (seeded, so
   -- a failing round can be replayed) that retries can absorb.
   local function start_round(round)
      math.randomseed(round)
      local args = { "--generate", string.format("engine=mongodb,clusters=%d,backups=%d", CLUSTERS, BACKUPS),
         "--fault", "path=cmongodb-0003/;status=500;times=0",
         "--fault", "path=cmongodb-0017/;offset=20;malformed=1;times=0",
         "--fault", "path=cmongodb-0042/;offset=40;cycle_to=20;times=0" }
      for _ = 1, 30 do
         args[#args + 1] = "--fault"
         args[#args + 1] = string.format("offset=%d;skip=%d;times=%d;%s", 20 * math.random(0, 2),
            math.random(0, 200), math.random(1, 4), kinds[math.random(#kinds)])
      end
      return H.start_fake(args)
   end

   local first_rss, first_lua
   for round = 1, ROUNDS do
      local s = start_round(round)
      local c = H.client(s, { page_size = 20, retries = 8, backoff_base = 0.001, backoff_max = 2 })
      local res = c:scan { engine = "mongodb", folder = FOLDER, concurrency = 16 }
      H.eq(#res, CLUSTERS, "round " .. round .. ": one entry per cluster")
      for _, r in ipairs(res) do
         if broken[r.id] then
            H.ok(r.error ~= nil, r.id .. " is reported as failed")
            H.eq(r.error.kind, broken[r.id], r.id)
         else
            H.eq(r.error, nil, "round " .. round .. ": " .. tostring(r.id))
            H.eq(H.ids(r.backups), expected(r.id), "round " .. round .. ": " .. r.id)
         end
      end
      -- and a lazy iterator over a faulty cluster, with early exits
      local n = 0
      for _ in c:backups { engine = "mongodb", cluster = "cmongodb-0001" } do
         n = n + 1
         if round % 2 == 0 and n == 25 then break end
      end
      H.ok(n == (round % 2 == 0 and 25 or BACKUPS), "iterator round " .. round)
      res, c = nil, nil -- luacheck: ignore (let the collector take them now)
      s.stop()
      collectgarbage("collect")
      if round == math.min(5, ROUNDS) then
         first_rss, first_lua = rss_kib(), collectgarbage("count")
      end
   end
   local rss, lua = rss_kib(), collectgarbage("count")
   io.stderr:write(string.format("soak: RSS %d -> %d KiB, Lua heap %.0f -> %.0f KiB\n",
      first_rss, rss, first_lua, lua))
   H.ok(lua < first_lua * 1.5 + 256, "Lua heap flat")
   -- Under AddressSanitizer freed memory sits in its quarantine, so RSS
   -- says nothing there; LeakSanitizer checks the leaks instead.
   if not os.getenv("ASAN_OPTIONS") then
      H.ok(rss < first_rss * 1.3 + 4096, "RSS flat")
   end
end)

H.run_all()
