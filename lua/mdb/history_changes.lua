--- What changed between two recorded scans, with a verdict on each change,
-- and the `vanished` audit check built on it.
--
--   local changes = require "mdb.history_changes"
--   local list = changes.between(h, from_scan, to_scan)   -- h: mdb.history object
--   io.write(changes.render(list, "table", {from = h:scan(a), to = h:scan(b)}))
--
-- Kinds: `appeared`, `vanished`, `cluster_appeared`, `cluster_vanished`,
-- `reappeared` and `cluster_reappeared` (listed in both scans, but a
-- complete listing in between no longer returned it: a gap, which the two
-- scans' sets alone do not show), `moved` (the cluster's folder differs),
-- `retention` and `window` (settings that changed), `size` (the newest
-- completed backup's size jumped), `listing_failed` (the later scan could
-- not list the cluster: its backups are compared as of its last complete
-- listing, never read as vanished).  Verdicts: `expected`, `unexpected`,
-- `info`.
--
-- A cluster's folder is each scan's own record of it (the folderId of the
-- Cluster object stored for that scan), not the one the clusters table
-- holds, which the latest scan overwrites: what a comparison of older
-- scans says does not change after a later scan.
-- @module mdb.history_changes
local report = require "mdb.report"
local fmt = require "mdb.fmt"
local valid_at = require("mdb.history").valid_at

local M = {}
local format = string.format

--- Default retention when a cluster states none (MDB's default, 7 days).
M.DEFAULT_RETENTION_DAYS = 7
--- The newest size "jumps" when it is this factor above or below the
-- previous newest.
M.SIZE_FACTOR = 1.5

M.KEYS = { "kind", "verdict", "engine", "cluster", "cluster_name", "backup_id", "message", "type",
   "created", "size", "scan", "time", "last_seen", "old", "new", "folder" }

local function parse_time(s)
   if type(s) ~= "string" then return nil end
   return (require("mdb").parse_time(s))
end

local STATES_AT = valid_at("backup_states", "backup_id, created, type, status, size, retain_until, from_scan")
local OPEN_COUNT = valid_at("backup_states", "count(*)")
-- The folder a Cluster state records (NULL when its data does not say).
local FOLDER_OF_STATE = "CASE WHEN json_valid(data) THEN json_extract(data, '$.folderId') END"
local CLUSTER_STATE_AT = valid_at("cluster_states", "from_scan, name, retention_days, backup_window, until_scan, "
   .. FOLDER_OF_STATE)
local FOLDER_AT = valid_at("cluster_states", FOLDER_OF_STATE)
local NAME_AT = valid_at("cluster_states", "name")

-- Backup states valid at a scan: backup_id -> row.
local function states_at(h, ref, scan)
   local out, n = {}, 0
   for r in h:rows(STATES_AT, ref, scan, scan) do
      out[r[1]] = { id = r[1], created = r[2], type = r[3], status = r[4], size = r[5], retain_until = r[6],
         from_scan = r[7] }
      n = n + 1
   end
   return out, n
end

-- How many backup states were valid at a scan.
local function open_count(h, ref, scan)
   return h:one(OPEN_COUNT, ref, scan, scan)
end

local function cluster_state_at(h, ref, scan)
   local from, name, days, window, until_scan, folder = h:one(CLUSTER_STATE_AT, ref, scan, scan)
   if not from then return nil end
   local f = type(folder) == "string" and folder or nil
   return { from_scan = from, name = name, days = days, window = window, until_scan = until_scan, folder = f }
end

-- The folder a cluster was in at a scan, as that scan recorded it (nil
-- when no Cluster state of it is valid then, or its data names none).
local function folder_at(h, ref, scan)
   local f = h:one(FOLDER_AT, ref, scan, scan)
   return type(f) == "string" and f or nil
end

local function newest(set)
   local best
   for _, b in pairs(set) do
      if b.status ~= "CREATING" and b.created and (not best or b.created > best.created
         or b.created == best.created and b.id > best.id) then
         best = b
      end
   end
   return best
end

local scan_cache_mt = { __mode = "k" }
local scan_times = setmetatable({}, scan_cache_mt)
local function scan_row(h, id)
   local cache = scan_times[h]
   if not cache then cache = {} scan_times[h] = cache end
   if cache[id] == nil then cache[id] = h:scan(id) or false end
   return cache[id] or nil
end

-- The scan in which a backup (valid at `a`) was first seen missing, and the
-- last scan that saw it, looking no further than `b`.
local function vanish_of(h, ref, id, b)
   local until_scan, last = h:one([[SELECT until_scan, last_scan FROM backup_states
      WHERE cluster = ? AND backup_id = ? AND from_scan <= ? ORDER BY from_scan DESC LIMIT 1]], ref, id, b)
   return until_scan, last
end

-- The verdict on a vanished backup `s` (a state row) of a cluster whose
-- retention was `days`, seen missing at time `t`.
local function vanish_verdict(s, days, t, why)
   if why then return "unexpected", why end
   local deadline, basis
   local ru = parse_time(s.retain_until)
   -- A manual backup is deleted by hand, unless a retention policy gave it
   -- a retainUntil (PostgreSQL): then the API said when it would go.
   if s.type == "MANUAL" and not (ru and ru <= t) then
      return "unexpected", ru and format("a manual backup vanished %s before its retainUntil %s",
         fmt.age(ru - t), s.retain_until) or "a manual backup vanished"
   end
   if ru then
      deadline, basis = ru, "retainUntil " .. s.retain_until
   elseif s.created then
      local d = days or M.DEFAULT_RETENTION_DAYS
      deadline = s.created + d * 86400
      basis = format("%d-day retention%s", d, days and "" or " (assumed: the cluster states none)")
   end
   if not deadline then return "unexpected", "vanished; its creation time is unknown" end
   if deadline <= t then return "expected", "expired by its " .. basis end
   return "unexpected", format("vanished %s before its %s ended", fmt.age(deadline - t), basis)
end

-- The changes of one cluster (`c` = {ref, engine, cluster_id}) from scan a to b.
-- Why a cluster is gone in scan `scan`: its folder's Cluster.List no
-- longer returned it, or (a cloud scan that listed nothing of its folder)
-- the cloud's folder listing no longer returned the folder.
local function gone_reason(h, folder, scan)
   local folder_gone = folder and h:one([[SELECT (cloud IS NOT NULL OR all_clouds IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM listings WHERE scan = ?1 AND folder = ?2) FROM scans WHERE id = ?1]], scan, folder)
   if folder_gone == 1 then
      return format("its folder %s is no longer in its cloud's folder listing", folder)
   end
   return "its engine's cluster listing no longer returns it"
end

-- A change in percent, whole unless that would read as all (-100%) or
-- nothing (0%) when it is neither: then with as many decimals as it takes.
local function percent(p)
   local s = format("%.0f", p)
   local d = 0
   while d < 6 and p ~= 0 and p > -100 and (tonumber(s) == -100 or tonumber(s) == 0) do
      d = d + 1
      s = format("%." .. d .. "f", p)
   end
   return s
end

-- Gaps, found from the states that begin after scan `a` (the few that
-- changed, read from the index alone): one whose previous state of the
-- same id was closed before it began, after `a` (by a complete listing
-- that no longer returned the backup, or the cluster), is an id listed
-- again; the previous state tells the scan it was first missing from and
-- the last that saw it.  A failed listing closes nothing: never a gap.
local BACKUP_GAPS = [[SELECT n.backup_id, n.from_scan, p.last_scan, p.until_scan
   FROM backup_states n JOIN backup_states p ON p.cluster = n.cluster AND p.backup_id = n.backup_id
   AND p.from_scan = (SELECT max(q.from_scan) FROM backup_states q WHERE q.cluster = n.cluster
      AND q.backup_id = n.backup_id AND q.from_scan < n.from_scan)
   WHERE n.cluster = ?1 AND n.from_scan > ?2 AND n.from_scan <= ?3 AND p.until_scan < n.from_scan
   AND p.until_scan > ?2
   ORDER BY n.backup_id, n.from_scan]]
local CLUSTER_GAPS = [[SELECT p.last_scan, p.until_scan, n.from_scan,
   CASE WHEN json_valid(p.data) THEN json_extract(p.data, '$.folderId') END
   FROM cluster_states n JOIN cluster_states p ON p.cluster = n.cluster
   AND p.from_scan = (SELECT max(q.from_scan) FROM cluster_states q WHERE q.cluster = n.cluster
      AND q.from_scan < n.from_scan)
   WHERE n.cluster = ?1 AND n.from_scan > ?2 AND n.from_scan <= ?3 AND p.until_scan < n.from_scan
   AND p.until_scan > ?2
   ORDER BY n.from_scan]]

-- "scan N (TIME)"
local function scan_text(h, id)
   local s = scan_row(h, id)
   return format("scan %s (%s)", tostring(id), s and s.time_text or "?")
end

-- One gap as words: "missing from scan 2 (T) and listed again in scan 3
-- (T)"; `upto`, when a later scan than `gone` also listed the cluster
-- without it, makes it "scans 2 (T) to 4 (T)".
local function gap_text(h, gone, upto, back)
   local missing
   if upto and upto > gone then
      local s1, s2 = scan_row(h, gone), scan_row(h, upto)
      missing = format("scans %d (%s) to %d (%s)", gone, s1 and s1.time_text or "?", upto,
         s2 and s2.time_text or "?")
   else
      missing = scan_text(h, gone)
   end
   return format("missing from %s and listed again in %s", missing, scan_text(h, back))
end

-- Whether scan `scan` listed folder `folder` (a cloud's scan: any folder).
local function scan_listed_folder(h, scan, folder)
   local s = scan_row(h, scan)
   if not s or s.cloud or s.all_clouds then return true end
   if s.folder == folder then return true end
   for _, f in ipairs(s.folders or {}) do if f == folder then return true end end
   return false
end

-- The cluster's gaps from scan a to b: `{[until_scan] = {back = scan,
-- out_of_view = folder or nil}}` and their list in order.  A gap is out of
-- view when the cluster came back in another folder than it left from and
-- the scan that missed it did not list that folder: it had moved, not gone.
local function cluster_gaps(h, ref, engine, a, b)
   local by_gone, list = {}, {}
   if b - a < 2 then return by_gone, list end
   for r in h:rows(CLUSTER_GAPS, ref, a, b) do
      local gone, back, left_from = r[2], r[3], r[4]
      local came_to = folder_at(h, ref, back)
      local out_of_view = came_to and came_to ~= left_from and not scan_listed_folder(h, gone, came_to)
         and came_to or nil
      -- the last scan before it came back whose complete Cluster.List,
      -- of the folder it had left, no longer returned it either
      local upto
      for s in h:rows([[SELECT scan FROM listings WHERE engine = ? AND cluster_id = '' AND status = 'complete'
         AND scan > ? AND scan < ? ORDER BY scan]], engine, gone, back) do
         if not left_from or scan_listed_folder(h, s[1], left_from) then upto = s[1] end
      end
      local g = { last = r[1], gone = gone, upto = upto, back = back, out_of_view = out_of_view }
      by_gone[gone] = g
      list[#list + 1] = g
   end
   return by_gone, list
end

local function cluster_changes(h, c, a, b, out)
   local ref, engine, cid = c.ref, c.engine, c.cluster_id
   local ca, cb = cluster_state_at(h, ref, a), cluster_state_at(h, ref, b)
   local passing -- the scan a cluster made and deleted between a and b first appeared in
   if not ca and not cb then
      -- A cluster first seen after scan a and gone by scan b is gone all
      -- the same: judged by its last state.
      local from, cname, days, window, until_scan, folder = h:one([[SELECT from_scan, name, retention_days,
         backup_window, until_scan, ]] .. FOLDER_OF_STATE .. [[ FROM cluster_states WHERE cluster = ?
         AND from_scan > ? AND from_scan <= ? AND until_scan IS NOT NULL AND until_scan <= ?
         ORDER BY from_scan DESC LIMIT 1]], ref, a, b, b)
      if from then
         ca = { from_scan = from, name = cname, days = days, window = window, until_scan = until_scan,
            folder = type(folder) == "string" and folder or nil }
         passing = h:one("SELECT min(from_scan) FROM cluster_states WHERE cluster = ? AND from_scan > ?", ref, a)
      else
         -- Maybe no Cluster object was recorded (scans of named clusters):
         -- backups alone still tell.
         local any = h:one("SELECT 1 FROM backup_states WHERE cluster = ? AND from_scan <= ? LIMIT 1", ref, b)
         if not any then return end
      end
   end
   local name = (cb and cb.name) or (ca and ca.name)
   -- Its folder as the scans recorded it: the later's, else the earlier's
   -- (the clusters table's, where no Cluster object was recorded).
   local folder = (cb and cb.folder) or (ca and ca.folder) or c.folder
   local tb = scan_row(h, b)
   local function add(t)
      t.engine, t.cluster, t.cluster_name, t.folder = engine, cid, name, folder
      out[#out + 1] = t
   end
   local gaps_by_gone = {}
   local cluster_gone
   if ca == nil and cb ~= nil then
      local first = h:one("SELECT min(from_scan) FROM cluster_states WHERE cluster = ?", ref)
      if first and first > a then
         local ts = scan_row(h, cb.from_scan)
         add { kind = "cluster_appeared", verdict = "info", message = "the cluster appeared",
            scan = cb.from_scan, time = ts and ts.time_text }
      else
         -- Listed before scan a, missing from it, listed again by b: not
         -- new, and not to pass in silence.
         local gone, last, back = h:one([[SELECT o.until_scan, o.last_scan,
            (SELECT min(n.from_scan) FROM cluster_states n WHERE n.cluster = o.cluster AND n.from_scan > ?2)
            FROM cluster_states o WHERE o.cluster = ?1 AND o.until_scan <= ?2 ORDER BY o.from_scan DESC LIMIT 1]],
            ref, a)
         if gone and back then
            local ts, ls = scan_row(h, back), last and scan_row(h, last)
            add { kind = "cluster_appeared", verdict = "info", scan = back, time = ts and ts.time_text,
               last_seen = ls and ls.time_text,
               message = format("the cluster is listed again: missing since %s, last listed in %s",
                  scan_text(h, gone), last and scan_text(h, last) or "no scan") }
         end
      end
   elseif ca ~= nil and cb == nil then
      local ts = ca.until_scan and scan_row(h, ca.until_scan)
      cluster_gone = true
      add { kind = "cluster_vanished", verdict = "unexpected",
         message = "the cluster is gone: " .. gone_reason(h, ca.folder or c.folder, ca.until_scan)
            .. (passing and format(" (it appeared in scan %s, after scan %d)", tostring(passing), a) or ""),
         scan = ca.until_scan, time = ts and ts.time_text }
   elseif ca and cb then
      if ca.folder and cb.folder and ca.folder ~= cb.folder then
         -- the scan it moved in: the last state after a to change folder
         local moved_at, prev = cb.from_scan, ca.folder
         for r in h:rows("SELECT from_scan, " .. FOLDER_OF_STATE .. [[ FROM cluster_states WHERE cluster = ?
            AND from_scan > ? AND from_scan <= ? ORDER BY from_scan]], ref, a, b) do
            local f = type(r[2]) == "string" and r[2] or nil
            if f and f ~= prev then moved_at, prev = r[1], f end
         end
         local ts = scan_row(h, moved_at)
         add { kind = "moved", verdict = "info", old = ca.folder, new = cb.folder, scan = moved_at,
            time = ts and ts.time_text, message = format("moved from folder %s to folder %s", ca.folder, cb.folder) }
      end
      -- Listed in both, but missing from a complete listing in between.
      local list
      gaps_by_gone, list = cluster_gaps(h, ref, engine, a, b)
      if #list > 0 then
         local parts, unexpected = {}, false
         for i, g in ipairs(list) do
            parts[i] = gap_text(h, g.gone, g.upto, g.back)
            if g.out_of_view then
               parts[i] = format("%s: scan %d did not list folder %s, which it had moved to", parts[i], g.gone,
                  g.out_of_view)
            else
               unexpected = true
            end
         end
         local last_gap = list[#list]
         local ts, ls = scan_row(h, last_gap.back), list[1].last and scan_row(h, list[1].last)
         add { kind = "cluster_reappeared", verdict = unexpected and "unexpected" or "info", scan = last_gap.back,
            time = ts and ts.time_text, last_seen = ls and ls.time_text,
            message = "the cluster was " .. table.concat(parts, "; ") }
      end
      if ca.days ~= cb.days then
         local shrank = ca.days and cb.days and cb.days < ca.days
         add { kind = "retention", verdict = shrank and "unexpected" or "info",
            message = format("backup retention changed from %s to %s days", tostring(ca.days or "-"),
               tostring(cb.days or "-")), old = ca.days, new = cb.days, scan = cb.from_scan,
            time = scan_row(h, cb.from_scan) and scan_row(h, cb.from_scan).time_text }
      end
      if ca.window ~= cb.window then
         add { kind = "window", verdict = "info",
            message = format("backup window changed from %s to %s", tostring(ca.window or "-"),
               tostring(cb.window or "-")), old = ca.window, new = cb.window, scan = cb.from_scan,
            time = scan_row(h, cb.from_scan) and scan_row(h, cb.from_scan).time_text }
      end
   end
   local sa = states_at(h, ref, a)
   local sb, nb = states_at(h, ref, b)
   local status, err = h:one("SELECT status, error FROM listings WHERE scan = ? AND engine = ? AND cluster_id = ?",
      b, engine, cid)
   if status == nil and (cb or nb > 0) then
      -- Not listed in scan b though still there as far as the file knows:
      -- the engine's Cluster.List that would have returned it failed (of
      -- its folder, or a Resource Manager listing that hid the folder).
      status, err = h:hidden_by(b, engine, c.folder)
   end
   if status == "failed" then
      local as_of = h:last_complete(engine, cid, b)
      add { kind = "listing_failed", verdict = "info", scan = b, time = tb and tb.time_text,
         message = format("the listing in scan %d failed (%s); backups compared as of %s", b, tostring(err),
            as_of and ("scan " .. as_of) or "no complete listing") }
   end
   -- "At once" is about the scan a backup vanished in, not the span
   -- compared: backups that expired one scan after another are not a
   -- cluster emptied at once, however many scans --from spans.
   local left_at = {}
   local function at_once(gone, last)
      if not gone or not last then return nil end
      if left_at[gone] == nil then
         left_at[gone] = open_count(h, ref, gone) == 0 and open_count(h, ref, last) or false
      end
      local n = left_at[gone]
      if not n then return nil end
      return n == 1 and "the cluster's only backup vanished, leaving it with none"
         or format("all %d backups of the cluster vanished at once", n)
   end
   local ids = {}
   for id in pairs(sa) do if not sb[id] then ids[#ids + 1] = id end end
   -- A backup first seen after scan a and gone by scan b (a manual backup
   -- made and deleted between hourly scans, compared over a day) is in
   -- neither scan's set, and vanished all the same: its last state.
   local between = {}
   for r in h:rows([[SELECT backup_id, created, type, status, size, retain_until, from_scan FROM backup_states
      WHERE cluster = ? AND from_scan > ? AND from_scan <= ? ORDER BY from_scan]], ref, a, b) do
      if not sa[r[1]] and not sb[r[1]] then
         if not between[r[1]] then ids[#ids + 1] = r[1] end
         between[r[1]] = { id = r[1], created = r[2], type = r[3], status = r[4], size = r[5], retain_until = r[6],
            from_scan = r[7] }
      end
   end
   table.sort(ids)
   for _, id in ipairs(ids) do
      local s = sa[id] or between[id]
      local gone, last = vanish_of(h, ref, id, b)
      local ts = gone and scan_row(h, gone)
      local t = ts and ts.time or (tb and tb.time)
      local with_cluster = cluster_gone and gone ~= nil and gone == ca.until_scan
      local emptied = with_cluster and "vanished with its cluster" or not cluster_gone and at_once(gone, last)
      local verdict, why = vanish_verdict(s, ca and ca.days, t, emptied or nil)
      local ls = last and scan_row(h, last)
      if between[id] then
         local first = h:one("SELECT min(from_scan) FROM backup_states WHERE cluster = ? AND backup_id = ?", ref, id)
         why = format("%s (it appeared in scan %s, after scan %d)", why, tostring(first), a)
      end
      add { kind = "vanished", verdict = verdict, backup_id = id, type = s.type, size = s.size,
         created = s.created and fmt.rfc3339(s.created), scan = gone, time = ts and ts.time_text,
         last_seen = ls and ls.time_text, message = why, emptied = emptied and true or nil }
   end
   ids = {}
   for id in pairs(sb) do if not sa[id] then ids[#ids + 1] = id end end
   table.sort(ids)
   for _, id in ipairs(ids) do
      local s = sb[id]
      -- (after scan a: an id that comes back appeared when it came back;
      -- listed before scan a, it is not new, and is said to be listed again)
      local first, gone, last = h:one([[SELECT min(CASE WHEN from_scan > ?3 THEN from_scan END),
         max(CASE WHEN until_scan <= ?3 THEN until_scan END), max(CASE WHEN until_scan <= ?3 THEN last_scan END)
         FROM backup_states WHERE cluster = ?1 AND backup_id = ?2]], ref, id, a)
      local ts = scan_row(h, first)
      local ls = last and scan_row(h, last)
      add { kind = "appeared", verdict = "info", backup_id = id, type = s.type, size = s.size,
         created = s.created and fmt.rfc3339(s.created), scan = first, time = ts and ts.time_text,
         last_seen = ls and ls.time_text,
         message = gone and format("listed again: missing since %s, last listed in %s", scan_text(h, gone),
            scan_text(h, last))
            or s.type and format("a new %s backup", s.type:lower()) or "a new backup" }
   end
   -- Listed in both scans, but missing from a complete listing in between
   -- (or with its cluster from a complete Cluster.List): one change each,
   -- naming every gap.
   local gaps = {}
   -- (no scan between a and b: no gap)
   if b - a > 1 then
      for r in h:rows(BACKUP_GAPS, ref, a, b) do
         local id, back, last, gone = r[1], r[2], r[3], r[4]
         if sa[id] and sb[id] then
            local g = gaps[id]
            if not g then
               g = { id = id, last = last, parts = {}, unexpected = false }
               gaps[id] = g
               gaps[#gaps + 1] = g
            end
            g.back = back
            local cg = gaps_by_gone[gone]
            local text
            if cg then
               -- (its cluster's scans, when both came back together)
               text = gap_text(h, gone, cg.back == back and cg.upto or nil, back):gsub("^missing from",
                  "missing with its cluster from")
               if cg.out_of_view then
                  text = format("%s: scan %d did not list folder %s, which the cluster had moved to", text, gone,
                     cg.out_of_view)
               else
                  g.unexpected = true
               end
            else
               -- the last scan before it came back that listed the cluster
               -- completely without it
               local upto = h:one([[SELECT max(scan) FROM listings WHERE engine = ? AND cluster_id = ?
                  AND status = 'complete' AND scan >= ? AND scan < ?]], engine, cid, gone, back)
               text = gap_text(h, gone, upto, back)
               g.unexpected = true
            end
            g.parts[#g.parts + 1] = text
         end
      end
   end
   for _, g in ipairs(gaps) do
      local s = sb[g.id]
      local ts, ls = scan_row(h, g.back), g.last and scan_row(h, g.last)
      add { kind = "reappeared", verdict = g.unexpected and "unexpected" or "info", backup_id = g.id, type = s.type,
         size = s.size, created = s.created and fmt.rfc3339(s.created), scan = g.back, time = ts and ts.time_text,
         last_seen = ls and ls.time_text, message = table.concat(g.parts, "; ") }
   end
   local oa, ob = newest(sa), newest(sb)
   if oa and ob and oa.id ~= ob.id and oa.size and ob.size and oa.size > 0 then
      local f = ob.size / oa.size
      if f >= M.SIZE_FACTOR or f <= 1 / M.SIZE_FACTOR then
         local ts = scan_row(h, ob.from_scan)
         add { kind = "size", verdict = f < 1 and "unexpected" or "info", backup_id = ob.id, size = ob.size,
            scan = ob.from_scan, time = ts and ts.time_text,
            type = ob.type, created = ob.created and fmt.rfc3339(ob.created), old = oa.size, new = ob.size,
            message = format("the newest backup is %s, the previous newest %s (%s%%)", fmt.size(ob.size),
               fmt.size(oa.size), percent((f - 1) * 100)) }
      end
   end
end

local function scope_engines(sa, sb)
   local inb = {}
   for _, e in ipairs(sb.engines) do inb[e] = true end
   local out = {}
   for _, e in ipairs(sa.engines) do if inb[e] then out[#out + 1] = e end end
   return out
end

-- The folders a scan listed, as a set and a sorted list, or nil when it
-- listed a cloud's (or every cloud's) folders: any folder.
local function scan_folders(s)
   local list = s.folders or (s.folder and { s.folder }) or nil
   if not list or s.cloud or s.all_clouds then return nil end
   local set, sorted = {}, {}
   for _, f in ipairs(list) do
      if not set[f] then set[f] = true sorted[#sorted + 1] = f end
   end
   table.sort(sorted)
   return set, sorted
end

-- What of list `la` (scan `a`) and list `lb` (scan `b`) is not in the set
-- `both`: `{item = the scan that alone listed it}`, or nil when nothing.
local function only_in_one(la, a, lb, b, both)
   local out
   for _, x in ipairs { { la, a }, { lb, b } } do
      for _, item in ipairs(x[1]) do
         if not both[item] then
            out = out or {}
            out[item] = x[2]
         end
      end
   end
   return out
end

--- Changes from scan `a` to scan `b` (ids; a < b) of every cluster in the
-- scope both scans share: the folders both listed (a cloud scan's are any
-- folder) and the engines both listed.  A folder only one of them listed
-- is left out, not read as clusters appearing or vanishing: the list's
-- `left_out` then names it (`{folder = scan id that alone listed it}`),
-- and `engines_left_out` an engine only one of them listed.  Scans that
-- share no folder, no engine, or are of two different clouds: nil and a
-- message naming what each listed.
-- @return array of change records, or nil and a message
function M.between(h, a, b)
   local sa, sb = h:scan(a), h:scan(b)
   if not sa then return nil, format("no scan %s", tostring(a)) end
   if not sb then return nil, format("no scan %s", tostring(b)) end
   -- (two clouds' folders are not known to overlap: a cloud's folders are
   -- recorded only where a cluster was found)
   if sa.cloud and sb.cloud and sa.cloud ~= sb.cloud then
      return nil, format("scans %d and %d are of different clouds (scan %d listed cloud %s; scan %d cloud %s)", a, b,
         a, sa.cloud, b, sb.cloud)
   end
   local fa, la = scan_folders(sa)
   local fb, lb = scan_folders(sb)
   local common, left_out
   if fa and fb then
      common = {}
      for f in pairs(fa) do if fb[f] then common[f] = true end end
      if next(common) == nil then
         return nil, format("scans %d and %d share no folder (scan %d listed %s; scan %d listed %s)", a, b, a,
            table.concat(la, ", "), b, table.concat(lb, ", "))
      end
      left_out = only_in_one(la, a, lb, b, common)
   else
      common = fa or fb
   end
   local engines = scope_engines(sa, sb)
   if #engines == 0 and a ~= b then
      return nil, format("scans %d and %d share no engine (scan %d listed %s; scan %d listed %s)", a, b, a,
         table.concat(sa.engines, ", "), b, table.concat(sb.engines, ", "))
   end
   -- An engine only one of the scans listed is not compared: said, as a
   -- folder left out is.
   local both = {}
   for _, e in ipairs(engines) do both[e] = true end
   local engines_left_out = only_in_one(sa.engines, a, sb.engines, b, both)
   local out = { left_out = left_out, engines_left_out = engines_left_out }
   if a == b then return out end
   -- A cluster is in the compared scope when its folder, as scan a or
   -- scan b recorded it, is one both listed: one moved from a folder both
   -- listed to one only b listed is compared (and reported moved); one
   -- neither scan recorded a Cluster object of at a or b (made and deleted
   -- in between, or a scan of named clusters), by its last recorded folder.
   local by_folder = h:stmt(format([[SELECT c.id, c.cluster_id, c.folder,
      (SELECT %s FROM cluster_states s WHERE s.cluster = c.id AND s.from_scan <= ?1
         AND (s.until_scan IS NULL OR s.until_scan > ?1)),
      (SELECT %s FROM cluster_states s WHERE s.cluster = c.id AND s.from_scan <= ?2
         AND (s.until_scan IS NULL OR s.until_scan > ?2)),
      (SELECT %s FROM cluster_states s WHERE s.cluster = c.id AND s.from_scan <= ?2
         ORDER BY s.from_scan DESC LIMIT 1)
      FROM clusters c WHERE c.engine = ?3 ORDER BY c.cluster_id]], FOLDER_OF_STATE, FOLDER_OF_STATE,
      FOLDER_OF_STATE))
   local function str(v) return type(v) == "string" and v or nil end
   for _, engine in ipairs(engines) do
      local clusters = {}
      for r in by_folder:rows(a, b, engine) do
         local fa_, fb_ = str(r[4]), str(r[5])
         local inside
         if not common then
            inside = true
         elseif fa_ or fb_ then
            inside = (fa_ and common[fa_]) or (fb_ and common[fb_])
         else
            local f = str(r[6]) or str(r[3])
            inside = f and common[f]
         end
         if inside then
            clusters[#clusters + 1] = { ref = r[1], engine = engine, cluster_id = r[2], folder = fb_ or fa_ or r[3] }
         end
      end
      for _, c in ipairs(clusters) do cluster_changes(h, c, a, b, out) end
   end
   return out
end

--- Changes of one cluster from scan a to b ({} when the history does not
-- know it).  `engine` nil looks the id up under every engine: nil and a
-- message when it is known under several (`h:cluster_ref`).
function M.of_cluster(h, engine, cluster_id, a, b)
   local ref, eng = h:cluster_ref(cluster_id, engine)
   if not ref and eng then return nil, eng end
   local out = {}
   if ref then cluster_changes(h, { ref = ref, engine = eng, cluster_id = cluster_id }, a, b, out) end
   return out
end

--- 1 when any change is unexpected, else 0.
function M.exit_status(list)
   for _, c in ipairs(list) do if c.verdict == "unexpected" then return 1 end end
   return 0
end

local function scan_object(s)
   if not s then return report.null end
   return report.object({ id = s.id, time = s.time_text, folder = s.folder or report.null,
      engines = setmetatable(s.engines, report.ARRAY), tool = s.tool or report.null,
      folders = s.folders and setmetatable(s.folders, report.ARRAY) or report.null, cloud = s.cloud or report.null,
      all_clouds = s.all_clouds == true },
      { "id", "time", "folder", "engines", "tool", "folders", "cloud", "all_clouds" })
end

local function change_object(c)
   local t = {}
   for _, k in ipairs(M.KEYS) do t[k] = c[k] end
   return report.object(t, M.KEYS)
end

M.FORMATS = { "table", "json", "jsonl", "csv", "markdown" }

--- Render changes as `table`, `json`, `jsonl`, `csv` or `markdown`.
-- @param opts `{from = scan row, to = scan row}`
function M.render(list, fmt_name, opts)
   opts = opts or {}
   if fmt_name == "json" then
      local arr = setmetatable({}, report.ARRAY)
      for i, c in ipairs(list) do arr[i] = change_object(c) end
      return report.json(report.object({ from = scan_object(opts.from), to = scan_object(opts.to), changes = arr },
         { "from", "to", "changes" })) .. "\n"
   elseif fmt_name == "jsonl" then
      local out = {}
      for i, c in ipairs(list) do out[i] = report.json(change_object(c)) end
      return table.concat(out, "\n") .. (#out > 0 and "\n" or "")
   elseif fmt_name == "csv" then
      local rows = { M.KEYS }
      for _, c in ipairs(list) do
         local r = { n = #M.KEYS }
         for i, k in ipairs(M.KEYS) do r[i] = c[k] end
         rows[#rows + 1] = r
      end
      return report.csv(rows)
   end
   -- Over several folders one cluster name may be in two of them: the
   -- folder tells which, as in the other reports.
   local folders = {}
   for _, c in ipairs(list) do if c.folder then folders[c.folder] = true end end
   local many = next(folders) ~= nil and next(folders, next(folders)) ~= nil
   for _, s in ipairs { opts.from or {}, opts.to or {} } do
      many = many or (s.folders and #s.folders > 1) or s.cloud ~= nil or s.all_clouds == true
   end
   local header = many and { "VERDICT", "KIND", "ENGINE", "FOLDER", "CLUSTER", "BACKUP", "WHEN", "MESSAGE" }
      or { "VERDICT", "KIND", "ENGINE", "CLUSTER", "BACKUP", "WHEN", "MESSAGE" }
   local rows = {}
   local unexpected = 0
   for i, c in ipairs(list) do
      if c.verdict == "unexpected" then unexpected = unexpected + 1 end
      local r = { c.verdict, c.kind, c.engine or "-", c.cluster_name or c.cluster or "-", c.backup_id or "-",
         c.time or "-", c.message or "" }
      if many then table.insert(r, 4, c.folder or "-") end
      rows[i] = r
   end
   local span = format("scan %s (%s) -> scan %s (%s)", opts.from and opts.from.id or "?",
      opts.from and opts.from.time_text or "?", opts.to and opts.to.id or "?", opts.to and opts.to.time_text or "?")
   local summary = format("%d change%s, %d unexpected, %s", #list, #list == 1 and "" or "s", unexpected, span)
   if fmt_name == "markdown" then
      local out = { "| " .. table.concat(header, " | ") .. " |", "|" .. string.rep("---|", #header) }
      for _, r in ipairs(rows) do
         local cells = {}
         for i = 1, #header do cells[i] = report.md_cell(r[i]) end
         out[#out + 1] = "| " .. table.concat(cells, " | ") .. " |"
      end
      return table.concat(out, "\n") .. "\n\n" .. summary .. "\n"
   end
   if #rows == 0 then return summary .. "\n" end
   return report.table(header, rows) .. summary .. "\n"
end

---------------------------------------------------------------------------
-- The `vanished` audit check

--- Findings of the `vanished` check for a recorded scan: per cluster
-- listed completely in it, the unexpected disappearances since that
-- cluster's previous complete listing (critical for a manual backup or a
-- whole cluster's worth, a warning for automated ones gone early).
-- `engines` (a set), when given, limits them to those engines, as an audit
-- of the past limited by --engine is.
function M.vanished_findings(h, scan, engines)
   local findings = {}
   local folder_of = h:stmt("SELECT folder FROM clusters WHERE engine = ? AND cluster_id = ?")
   -- `pos` orders one folder's clusters of one engine as Cluster.List
   -- did; across engines and folders it follows which listing answered
   -- first, so those come in a fixed order, as the rest of the report's.
   for r in h:rows([[SELECT engine, cluster_id FROM listings WHERE scan = ? AND cluster_id <> ''
      AND status = 'complete' ORDER BY folder, engine, pos]], scan) do
      local engine, cid = r[1], r[2]
      if engines and not engines[engine] then goto next_listing end
      local prev = h:one([[SELECT max(scan) FROM listings WHERE engine = ? AND cluster_id = ?
         AND status = 'complete' AND scan < ?]], engine, cid, scan)
      local ref = h:cluster_ref(cid, engine)
      -- its folder as this scan recorded it (a later scan may have moved it)
      local folder = ref and folder_at(h, ref, scan) or folder_of:one(engine, cid)
      local name = ref and h:one(NAME_AT, ref, scan, scan) or nil
      local f = { check = "vanished", engine = engine, cluster = cid, cluster_name = name, folder = folder,
         unit = "backups",
         expected = 0, observed = 0,
         status = "ok", message = prev and format("no unexpected disappearance since scan %d", prev)
            or "first complete listing recorded: nothing to compare" }
      if prev then
         local bad, critical, first = {}, false, nil
         for _, c in ipairs(M.of_cluster(h, engine, cid, prev, scan)) do
            if c.kind == "vanished" and c.verdict == "unexpected" then
               bad[#bad + 1] = c.backup_id
               first = first or c
               if c.type == "MANUAL" or c.emptied then critical = true end
            end
         end
         if #bad > 0 then
            f.status = critical and "critical" or "warning"
            f.observed = #bad
            f.backup_id = first.backup_id
            f.details = bad
            f.message = format("%d backup%s vanished unexpectedly since scan %d: %s (%s)", #bad,
               #bad == 1 and "" or "s", prev, first.backup_id, first.message)
         end
      end
      findings[#findings + 1] = f
      ::next_listing::
   end
   -- Clusters this scan found gone (a complete Cluster.List of their
   -- folder no longer returned them): critical, with the backups they took.
   -- A state closed because the Cluster object changed (its retention,
   -- its status) is followed by one from this scan: that cluster is there.
   for r in h:rows([[SELECT c.engine, c.cluster_id, coalesce(]] .. FOLDER_OF_STATE:gsub("data", "s.data")
      .. [[, c.folder), s.name, s.last_scan,
      (SELECT count(*) FROM backup_states b WHERE b.cluster = c.id AND b.until_scan = ?)
      FROM cluster_states s JOIN clusters c ON c.id = s.cluster WHERE s.until_scan = ?
      AND NOT EXISTS (SELECT 1 FROM cluster_states n WHERE n.cluster = s.cluster AND n.from_scan = s.until_scan)
      ORDER BY c.engine, c.folder, c.cluster_id]], scan, scan) do
      local n = r[6]
      if engines and not engines[r[1]] then goto next_gone end
      findings[#findings + 1] = { check = "vanished", engine = r[1], cluster = r[2], folder = r[3],
         cluster_name = r[4], unit = "backups", expected = 0, observed = n, status = "critical",
         message = format("the cluster is gone since scan %s: %s (%d backup%s vanished with it)", tostring(r[5]),
            gone_reason(h, r[3], scan), n, n == 1 and "" or "s") }
      ::next_gone::
   end
   return findings
end

return M
