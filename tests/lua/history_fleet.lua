-- A fleet that changes between recorded scans, for the HTML tests of
-- changes.lua and of audit/inventory --db (tests/lua/test_changes_html.lua,
-- test_html.lua, tests/browser/test_browser.lua).  Each scan is a real
-- scripts/snapshot.lua run against the fake API serving that day's fleet.
--
--   local HF = require "history_fleet"
--   local db = HF.record(H, { names = {...} })   -- scans on NOW-3d, NOW-2d, NOW-1d
--   local server = HF.serve(H, NOW)              -- the fleet as of NOW, for a live audit --db
--
-- Cluster A (postgresql, 7-day retention): a backup every day at 01:00,
-- growing 100 MB a day; a manual backup made 5 days ago is deleted after
-- the scan of NOW-2d (unexpected); the automated backup of NOW-2d is gone
-- from the live fleet at NOW (unexpected: well inside its retention); the
-- oldest expire day by day (expected).  Cluster B: the same schedule and
-- sizes, nothing deleted early; its retention shrinks to 3 days at NOW-1d.
local M = {}

local DAY = 86400
M.FOLDER = "b1gdemofolder0000001"
M.NOW_TEXT = "2026-12-05T12:00:00Z"
M.NOW = 1796472000
M.A, M.B = "c9qhistorya000000001", "c9qhistoryb000000002"
M.SCANS = { M.NOW - 3 * DAY, M.NOW - 2 * DAY, M.NOW - DAY }

local function at(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end
M.at = at

local MIDNIGHT = M.NOW - M.NOW % DAY

--- The fake API's records as of time `t`.  `opts.names` = {A's, B's} names,
-- `opts.ids` = a function(cluster, id) giving a backup id (hostile ids).
function M.records(t, opts)
   opts = opts or {}
   local names = opts.names or { "orders-db", "ledger-db" }
   local bid = opts.ids or function(_, id) return id end
   local out = {}
   for i, cid in ipairs { M.A, M.B } do
      local days = (cid == M.B and t >= M.NOW - DAY) and 3 or 7
      out[#out + 1] = { "cluster", "postgresql", M.FOLDER, cid, "h" .. i, { id = cid, folderId = M.FOLDER,
         name = names[i], createdAt = "2026-01-01T00:00:00Z", environment = "PRODUCTION", health = "ALIVE",
         status = "RUNNING", config = { backupRetainPeriodDays = tostring(days),
            backupWindowStart = { hours = 1 } } } }
      -- daily automated backups at 01:00 within the retention the cluster had
      local day0 = t - t % DAY
      for d = 0, 7 do
         local created = day0 - d * DAY + 3600
         local gone_early = cid == M.A and created == MIDNIGHT - 2 * DAY + 3600 and t >= M.NOW
         if created <= t and created > t - 7 * DAY and not gone_early then
            local n = (created - (MIDNIGHT - 40 * DAY)) // DAY
            out[#out + 1] = { "backup", "postgresql", M.FOLDER, cid, { id = bid(cid, cid .. ":auto-" .. at(created)),
               folderId = M.FOLDER, sourceClusterId = cid, createdAt = at(created), startedAt = at(created - 600),
               size = tostring(n * 100000000), type = "AUTOMATED", status = "DONE" } }
         end
      end
      if cid == M.A and t < M.NOW - DAY then
         local created = MIDNIGHT - 5 * DAY + 7200
         out[#out + 1] = { "backup", "postgresql", M.FOLDER, cid, { id = bid(cid, cid .. ":manual-1"),
            folderId = M.FOLDER, sourceClusterId = cid, createdAt = at(created), startedAt = at(created - 600),
            size = "5000000000", type = "MANUAL", status = "DONE" } }
      end
   end
   return out
end

--- The fake API serving the fleet as of `t`.
function M.serve(H, t, opts)
   return H.start_fake { "--data", H.data_file(M.records(t, opts)) }
end

--- The environment for a script against `server`.
function M.env(H, server)
   return { YC_MDB_ENDPOINT = server.url, YC_IAM_TOKEN = H.token, YC_FOLDER_ID = M.FOLDER, NO_COLOR = "1" }
end


--- Run scripts/NAME with `args` against `server` (none: a port nothing
-- listens on, for runs that must not reach an API), no default folder.
function M.script(H, name, args, server)
   local a = { H.source_dir .. "/scripts/" .. name }
   for _, v in ipairs(args) do a[#a + 1] = v end
   return H.run(a, { env = { YC_MDB_ENDPOINT = server and server.url or "http://127.0.0.1:9",
      YC_IAM_TOKEN = H.token, YC_FOLDER_ID = false, NO_COLOR = "1" } })
end

--- A history file with the three scans of M.SCANS (snapshot.lua each).
function M.record(H, opts)
   local db = H.tmpname(".db")
   for i, t in ipairs(M.SCANS) do
      local server = M.serve(H, t, opts)
      local r = H.run({ H.source_dir .. "/scripts/snapshot.lua", "--db", db, "--engine", "postgresql",
         "--now", at(t) }, { env = M.env(H, server) })
      server.stop()
      assert(r.code == 0, "snapshot " .. i .. ": " .. r.stderr)
   end
   return db
end

return M
