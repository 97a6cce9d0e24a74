--- Audit checks about recoverability and backup windows, with the
-- signature of every audit check: `check(ctx, settings)` returns
-- `{status, message, observed, expected, unit, backup_id, details}`, where
-- ctx is `{engine, id, cluster, all, done (newest first), now, ...}` and
-- settings are parsed (durations in seconds).
--
-- recoverability: PITR engines can be restored to any moment of the last
--   `window`, others have a restore point at most `rpo` before every
--   moment of it; the newest restore point is at most `rpo` old.
-- window: automated backups start within `late` after the cluster's
--   `config.backupWindowStart` (UTC).
local recovery = require "mdb.recovery"
local fmt = require "mdb.fmt"
local duration = require "mdb.duration"

local M = {}
local format, floor = string.format, math.floor

local function dur(s) return duration.format(s) end
local function t(s) return fmt.time(s) end

function M.recoverability(ctx, s)
   local now, since = ctx.now, ctx.now - s.window
   -- A cluster younger than the window is judged from its creation plus
   -- rpo (time for a first backup), not for moments before it existed.
   local created = type(ctx.cluster) == "table" and math.type(ctx.cluster.created) and ctx.cluster.created
   if created and created + s.rpo > since then
      since = created + s.rpo
      if since > now then
         return { status = "ok", unit = "seconds", expected = s.rpo,
            message = format("cluster created %s, less than the rpo %s ago: nothing to judge yet",
               t(created), dur(s.rpo)) }
      end
   end
   local w, caveats = recovery.window(ctx.engine, ctx.all, { now = now, cluster = ctx.cluster })
   local details = { caveats = caveats, pitr = w.pitr }
   if w.pitr then
      if not w.from then
         return { status = s.status, unit = "seconds", expected = s.window, details = details,
            message = "cannot be restored to any moment: no completed backup to replay from" }
      end
      details.from, details.to = w.from, w.to
      if w.from > since then
         return { status = s.status, unit = "seconds", observed = floor(now - w.from), expected = s.window,
            details = details,
            message = format("restorable only from %s: not to %s (the last %s)", t(w.from), t(since), dur(s.window)) }
      end
      local lag = now - w.to
      if lag > s.rpo then
         return { status = s.status, unit = "seconds", observed = floor(lag), expected = s.rpo, details = details,
            message = format("newest restorable moment %s is %s old (rpo %s)", t(w.to), fmt.age(lag), dur(s.rpo)) }
      end
      return { status = "ok", unit = "seconds", observed = floor(now - w.from), expected = s.window,
         details = details,
         message = format("restorable to any %s from %s (covers the last %s)",
            w.pitr == "points" and "hourly recovery point" or "second", t(w.from), dur(s.window)) }
   end
   -- Backup states: the newest at or before each moment of the window.
   local points = {}
   for i = #ctx.done, 1, -1 do
      local b = ctx.done[i]
      if b.created <= now then points[#points + 1] = b end
   end
   local base
   for _, b in ipairs(points) do
      if b.created <= since then base = b end
   end
   if not base then
      return { status = s.status, unit = "seconds", expected = s.rpo, details = details,
         message = points[1]
            and format("no restore point at or before %s: the oldest is %s", t(since), t(points[1].created))
            or "no completed backup: nothing to restore" }
   end
   local worst, worst_to, prev = 0, nil, base
   for _, b in ipairs(points) do
      if b.created > since then
         -- a moment just before b is served by prev: that far behind
         local g = b.created - prev.created
         if g > worst then worst, worst_to = g, b end
         prev = b
      end
   end
   local tail = now - prev.created
   if tail > worst then worst, worst_to = tail, nil end
   details.newest = prev.id
   if worst > s.rpo then
      local where = worst_to and format("before backup %s at %s", worst_to.id, t(worst_to.created))
         or format("now (newest restore point %s)", t(prev.created))
      return { status = s.status, unit = "seconds", observed = floor(worst), expected = s.rpo, details = details,
         backup_id = worst_to and worst_to.id or prev.id,
         message = format("restore points are up to %s apart in the last %s, %s (rpo %s)",
            fmt.age(worst), dur(s.window), where, dur(s.rpo)) }
   end
   return { status = "ok", unit = "seconds", observed = floor(worst), expected = s.rpo, details = details,
      backup_id = prev.id,
      message = format("a restore point at most %s before every moment of the last %s (rpo %s)",
         fmt.age(worst), dur(s.window), dur(s.rpo)) }
end

--- The cluster's backup window start in seconds after 00:00 UTC, or nil.
function M.window_start(cluster)
   local c = type(cluster) == "table" and cluster.config
   local w = type(c) == "table" and c.backupWindowStart
   if type(w) ~= "table" then return nil end
   local function n(v) return math.tointeger(tonumber(v) or 0) or 0 end
   return n(w.hours) * 3600 + n(w.minutes) * 60 + n(w.seconds)
end

--- Does `window` apply: the cluster has a window and typed backups.
function M.window_applies(ctx)
   return ctx.caps and ctx.caps.type and M.window_start(ctx.cluster) ~= nil or false
end

function M.window(ctx, s)
   local start = M.window_start(ctx.cluster)
   local since = ctx.now - s.window
   local n, late, worst, which = 0, 0, nil, nil
   for _, b in ipairs(ctx.done) do
      if b.type == "AUTOMATED" and math.type(b.started) and b.started >= since then
         n = n + 1
         -- minutes after the window opened, in (-12h, 12h]: a start just
         -- before the window is early, not almost a day late
         local off = (floor(b.started) % 86400 - start) % 86400
         if off > 43200 then off = off - 86400 end
         if off > s.late or off < -60 then
            late = late + 1
            if worst == nil or math.abs(off) > math.abs(worst) then worst, which = off, b end
         end
      end
   end
   local ws = format("%02d:%02d UTC", start // 3600, start % 3600 // 60)
   if n == 0 then
      return { status = "ok", unit = "seconds", expected = s.late,
         message = format("no automated backup started in the last %s (window %s)", dur(s.window), ws) }
   end
   if late == 0 then
      return { status = "ok", unit = "seconds", expected = s.late,
         message = format("all %d automated backups of the last %s started within %s after %s", n,
            dur(s.window), dur(s.late), ws) }
   end
   local how = worst < 0 and format("%s before", fmt.age(-worst)) or format("%s after", fmt.age(worst))
   return { status = s.status, unit = "seconds", observed = floor(worst), expected = s.late,
      backup_id = which.id, details = { late = late, of = n },
      message = format("%d of %d automated backups of the last %s started outside %s .. +%s; "
         .. "worst: %s at %s, %s the window",
         late, n, dur(s.window), ws, dur(s.late), which.id, t(which.started), how) }
end

--- Freshness thresholds for a cluster whose schedule is not daily: an
-- OpenSearch weekly snapshotSchedule stretches them by the six extra days
-- (hourly and daily schedules keep them).  Returns `s` or a copy.
function M.freshness_settings(ctx, s)
   local c = type(ctx.cluster) == "table" and ctx.cluster.config
   local sm = type(c) == "table" and c.snapshotManagement
   local sch = type(sm) == "table" and sm.snapshotSchedule
   if ctx.engine ~= "opensearch" or type(sch) ~= "table" or type(sch.weeklySnapshotSchedule) ~= "table" then
      return s
   end
   local out = {}
   for k, v in pairs(s) do out[k] = v end
   for _, k in ipairs { "warn", "crit" } do
      if out[k] then out[k] = out[k] + 6 * 86400 end
   end
   return out
end

-- The databases a SQL Server backup holds, or nil.
local function databases_of(b)
   local d = b.databases
   if type(d) ~= "table" then return nil end
   local out = {}
   for _, name in ipairs(d) do
      if type(name) == "string" then out[#out + 1] = name end
   end
   return out
end

--- Does `databases` apply: SQL Server, or backups that list databases.
function M.databases_applies(ctx)
   if ctx.failed then return ctx.engine == "sqlserver" end
   for _, b in ipairs(ctx.done) do
      if databases_of(b) then return true end
   end
   return false
end

--- databases: every database seen in backups within `window` of the
-- newest is in the newest backup (a database left out of the backups
-- cannot be restored).
function M.databases(ctx, s)
   local newest = ctx.done[1]
   local have = newest and databases_of(newest)
   if not have then
      return { status = "ok", unit = "databases",
         message = newest and "the newest backup lists no databases" or "no completed backup" }
   end
   local in_newest, last_seen, all = {}, {}, {}
   for _, n in ipairs(have) do in_newest[n] = true end
   for _, b in ipairs(ctx.done) do
      if b.created >= newest.created - s.window then
         for _, n in ipairs(databases_of(b) or {}) do
            if last_seen[n] == nil then all[#all + 1] = n; last_seen[n] = b.created end
         end
      end
   end
   table.sort(all)
   local missing = {}
   for _, n in ipairs(all) do
      if not in_newest[n] then missing[#missing + 1] = n end
   end
   if #missing == 0 then
      return { status = "ok", unit = "databases", observed = #all, expected = #all, backup_id = newest.id,
         details = { databases = all, missing = {} },
         message = format("the newest backup holds all %d databases of the last %s (%s)", #all, dur(s.window),
            table.concat(all, ", ")) }
   end
   local parts = {}
   for i, n in ipairs(missing) do parts[i] = format("%s last %s", n, t(last_seen[n])) end
   return { status = s.status, unit = "databases", observed = #all - #missing, expected = #all,
      backup_id = newest.id, details = { databases = all, missing = missing },
      message = format("the newest backup misses %d of %d databases seen in the last %s: %s", #missing, #all,
         dur(s.window), table.concat(parts, "; ")) }
end

return M
