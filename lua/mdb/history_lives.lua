--- Lives and trends from a history file: when a backup was first and last
-- seen, when it vanished and whether that was expected; a cluster's
-- backups over time, its total size per day and its backup durations.
--
--   local lives = require "mdb.history_lives"
--   local life = lives.backup(h, "c9q...:auto_2026...")    -- h: mdb.history object
--   local trend = lives.cluster(h, "c9q...")
-- @module mdb.history_lives
local changes = require "mdb.history_changes"

-- How many backups a cluster had at a scan, and their total size, those
-- still being created left out.
local SIZES_AT = require("mdb.history").valid_at("backup_states", "count(*), sum(size)",
   "AND (status IS NULL OR status <> 'CREATING')")

local M = {}

local function when(h, scan)
   local s = scan and h:scan(scan)
   return s and s.time_text or nil, s and s.time or nil
end

--- The life of a backup: an array (one per cluster holding that id, in
-- practice one) of `{engine, cluster, backup_id, type, created, size,
-- first_seen, last_seen, vanished_at, verdict, message, states = {...}}`;
-- times as RFC 3339; `vanished_at` nil while it is still there;
-- `states` each `{from, to, status, size}`.
function M.backup(h, id)
   local by_cluster, order = {}, {}
   for _, s in ipairs(h:backup_states(id)) do
      local key = s.engine .. "/" .. s.cluster
      local life = by_cluster[key]
      if not life then
         life = { engine = s.engine, cluster = s.cluster, backup_id = id, states = {}, ref = s.ref }
         by_cluster[key] = life
         order[#order + 1] = life
         life.first_seen = when(h, s.from_scan)
      end
      local b = s.backup
      life.type, life.size, life.status = b.type, b.size or b.sizeBytes, b.status
      life.created = b.createdAt
      life.states[#life.states + 1] = { from = when(h, s.from_scan), to = when(h, s.last_scan),
         status = b.status, size = b.size or b.sizeBytes }
      life.last = s
   end
   for _, life in ipairs(order) do
      local s = life.last
      if s.until_scan == nil then
         local last = h:last_complete(life.engine, life.cluster)
         life.last_seen = when(h, last)
         life.verdict, life.message = "present", "still there at the last complete listing"
      else
         life.last_seen = when(h, s.last_scan)
         life.vanished_at = when(h, s.until_scan)
         -- The verdict changes.lua gives for the scans around the vanishing.
         local from = s.last_scan or s.from_scan
         for _, c in ipairs(changes.of_cluster(h, life.engine, life.cluster, from, s.until_scan)) do
            if c.kind == "vanished" and c.backup_id == id then
               life.verdict, life.message = c.verdict, c.message
            end
         end
      end
      life.last, life.ref = nil, nil
   end
   return order
end

--- A cluster over time: `{engine, cluster, name, scans = {{scan, time,
-- status, backups, total_size}...}, days = {{day, total_size, backups}...},
-- durations = {{backup_id, created, seconds}...}}` (days: the last complete
-- listing of each UTC day; durations: createdAt - startedAt of every
-- backup ever seen, newest first).  nil when the history does not know it;
-- nil and a message when `engine` is nil and it knows the id under several.
function M.cluster(h, cluster_id, engine)
   local ref, eng = h:cluster_ref(cluster_id, engine)
   if not ref then return nil, eng end
   local out = { engine = eng, cluster = cluster_id, scans = {}, days = {}, durations = {} }
   local rows = {}
   for r in h:rows([[SELECT l.scan, s.time, s.time_text, l.status FROM listings l JOIN scans s ON s.id = l.scan
      WHERE l.engine = ? AND l.cluster_id = ? ORDER BY l.scan]], eng, cluster_id) do
      rows[#rows + 1] = r
   end
   -- A scan in the cluster's lifetime whose Cluster.List of its engine
   -- failed (its folder's, or one whose folder is unknown: a Resource
   -- Manager listing) has no row of the cluster: it did not see it, and is
   -- shown failed, not left out as if the cluster had not been looked for.
   if #rows > 0 then
      local folder = h:one("SELECT folder FROM clusters WHERE id = ?", ref)
      -- (its lifetime ends with the scan that saw it gone, if one did)
      local gone = h:one("SELECT until_scan FROM cluster_states WHERE cluster = ? ORDER BY from_scan DESC LIMIT 1",
         ref)
      for r in h:rows([[SELECT s.id, s.time, s.time_text FROM scans s WHERE s.id > ? AND s.id < ?
         AND NOT EXISTS (SELECT 1 FROM listings x WHERE x.scan = s.id AND x.engine = ? AND x.cluster_id = ?)]],
         rows[1][1], gone or math.maxinteger, eng, cluster_id) do
         if h:hidden_by(r[1], eng, folder) then rows[#rows + 1] = { r[1], r[2], r[3], "failed" } end
      end
      table.sort(rows, function(a, b) return a[1] < b[1] end)
   end
   for _, r in ipairs(rows) do
      local n, total = h:one(SIZES_AT, ref, r[1], r[1])
      local row = { scan = r[1], time = r[3], status = r[4], backups = r[4] == "complete" and n or nil,
         total_size = r[4] == "complete" and (total or 0) or nil }
      out.scans[#out.scans + 1] = row
      if row.status == "complete" then
         local day = os.date("!%Y-%m-%d", math.floor(r[2]))
         local last = out.days[#out.days]
         if last and last.day == day then
            last.total_size, last.backups = row.total_size, row.backups
         else
            out.days[#out.days + 1] = { day = day, total_size = row.total_size, backups = row.backups }
         end
      end
   end
   out.name = h:one("SELECT name FROM cluster_states WHERE cluster = ? ORDER BY from_scan DESC LIMIT 1", ref)
   local seen = {}
   for r in h:rows([[SELECT backup_id, data FROM backup_states WHERE cluster = ?
      ORDER BY created DESC, from_scan DESC]], ref) do
      if not seen[r[1]] then
         seen[r[1]] = true
         local b = require("mdb.history").restore("backup", eng, r[2])
         if b.created and b.started then
            out.durations[#out.durations + 1] = { backup_id = r[1], created = b.createdAt,
               seconds = b.created - b.started }
         end
      end
   end
   return out
end

--- What the HTML report draws from a history, as of scan `scan`, for every
-- cluster that scan listed: keyed "engine/cluster id", `{sizes = {{t=,
-- bytes=}...}, vanished = {{id=, created=, gone=, verdict=, message=}...}}`
-- over the `days` (default 90) before the scan.  `sizes`: the total size of
-- the backups present (in progress left out) at the last complete listing
-- of each UTC day; `vanished`: backups that vanished in that time, `gone`
-- the time of the first scan that missed them, with changes.lua's verdict.
-- Times as Unix seconds.
function M.recent(h, scan, days)
   local s = h:scan(scan)
   if not s then return {} end
   local since = s.time - (days or 90) * 86400
   local out = {}
   for r in h:rows([[SELECT l.engine, l.cluster_id, c.id FROM listings l
      JOIN clusters c ON c.engine = l.engine AND c.cluster_id = l.cluster_id
      WHERE l.scan = ? AND l.cluster_id <> '' ORDER BY l.pos]], scan) do
      local engine, cid, ref = r[1], r[2], r[3]
      local sizes = {}
      for p in h:rows([[SELECT s.time, (SELECT ifnull(sum(b.size), 0) FROM backup_states b WHERE b.cluster = ?
         AND b.from_scan <= l.scan AND (b.until_scan IS NULL OR b.until_scan > l.scan)
         AND (b.status IS NULL OR b.status <> 'CREATING'))
         FROM listings l JOIN scans s ON s.id = l.scan WHERE l.engine = ? AND l.cluster_id = ?
         AND l.status = 'complete' AND l.scan <= ? AND s.time >= ? ORDER BY l.scan]], ref, engine, cid, scan, since) do
         local t, last = math.floor(p[1]), sizes[#sizes]
         if last and last.t // 86400 == t // 86400 then
            last.t, last.bytes = t, p[2]
         else
            sizes[#sizes + 1] = { t = t, bytes = p[2] }
         end
      end
      -- Vanished: a state closed with no later state of the same backup.
      local vanished, pairs_seen = {}, {}
      for v in h:rows([[SELECT b.backup_id, b.created, b.last_scan, b.from_scan, b.until_scan, s.time
         FROM backup_states b JOIN scans s ON s.id = b.until_scan
         WHERE b.cluster = ? AND b.until_scan <= ? AND s.time >= ? AND NOT EXISTS (SELECT 1 FROM backup_states n
         WHERE n.cluster = b.cluster AND n.backup_id = b.backup_id AND n.from_scan = b.until_scan)
         ORDER BY b.created, b.backup_id]], ref, scan, since) do
         local from, to = v[3] or v[4], v[5]
         local key = from .. ":" .. to
         -- changes.lua's verdicts, once per pair of scans
         if not pairs_seen[key] then
            local by_id = {}
            for _, c in ipairs(changes.of_cluster(h, engine, cid, from, to)) do
               if c.kind == "vanished" then by_id[c.backup_id] = c end
            end
            pairs_seen[key] = by_id
         end
         local c = pairs_seen[key][v[1]]
         vanished[#vanished + 1] = { id = v[1], created = v[2] and math.floor(v[2]), gone = math.floor(v[6]),
            verdict = c and c.verdict or "unexpected", message = c and c.message }
      end
      out[engine .. "/" .. cid] = { sizes = sizes, vanished = vanished }
   end
   return out
end

return M
