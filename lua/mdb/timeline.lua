--- A cluster's last N days of backups, day by day and backup by backup:
-- the model the HTML timeline strips, the coverage calendar and the
-- terminal strips all draw, so they never disagree.
--
--   local timeline = require "mdb.timeline"
--   local win = timeline.window(now, 30, zone)      -- zone from mdb.tz, nil = UTC
--   local t = timeline.cluster(entry, win)          -- entry: one element of client:scan's result
--   for i, day in ipairs(t.days) do print(day.date, day.state) end
--
-- Days are local days of the zone, oldest first; the last one is today,
-- which is still open.  A day's state is "backup" (a completed backup was
-- created that day), "progress" (only one in progress), "failed" (only
-- backups in an unknown status), "missing" (nothing), "open" (today, no
-- backup yet), "absent" (the cluster did not exist yet), "expired"
-- (before the oldest backup still kept and beyond the cluster's retention:
-- a listing cannot tell whether those days had backups that have since
-- been deleted, so they are not counted as missing) or "unknown" (the
-- listing failed, below).  A mark is one
-- backup created in the window, placed at its time.
--
-- When the cluster's backup listing failed (`entry.error`), what it did
-- not return says nothing: a day with a backup it did return keeps that
-- state ("backup", "progress", "failed"), a day before the cluster
-- existed stays "absent" (that comes from the cluster, not the listing),
-- and every other day is "unknown" (counted in `counts.unknown`, never in
-- `counts.missing`) -- today and the days that would be "expired" too,
-- as both rest on the listing being whole.
-- @module mdb.timeline
local M = {}

local tz = require "mdb.tz"

local type, ipairs, tostring, tonumber, mtype = type, ipairs, tostring, tonumber, math.type
local sort = table.sort

--- The window: `{now, days = N, zone, start, day = { {start, stop, date,
-- y, m, d}, ... } }`, day i covering [start, stop) in Unix seconds.
function M.window(now, days, zone)
   if mtype(now) == nil then
      error(string.format("bad argument #1 to 'window' (number expected, got %s)", type(now)), 2)
   end
   if mtype(days) ~= "integer" or days < 1 or days > 3660 then
      error("bad argument #2 to 'window' (a whole number of days, 1..3660, expected)", 2)
   end
   zone = zone or tz.zone("UTC")
   local today = zone:civil(now)
   local w = { now = now, days = days, zone = zone, day = {} }
   for i = 1, days do
      local y, m, d = tz.civil_from_days(today.days - days + i)
      local start = zone:from_civil(y, m, d, 0, 0, 0)
      local ny, nm, nd = tz.civil_from_days(today.days - days + i + 1)
      w.day[i] = { start = start, stop = zone:from_civil(ny, nm, nd, 0, 0, 0), y = y, m = m, d = d,
         date = tz.date_string(y, m, d) }
   end
   w.start = w.day[1].start
   return w
end

-- The day index of time t in the window, or nil outside it.
local function day_of(w, t)
   if t < w.start or t > w.now then return nil end
   local lo, hi = 1, w.days
   while lo < hi do
      local mid = (lo + hi + 1) // 2
      if w.day[mid].start <= t then lo = mid else hi = mid - 1 end
   end
   return lo
end
M.day_of = day_of

--- Position of time t in the window as days from its start (0..days),
-- each day the same width whatever its length (DST days included).
function M.position(w, t)
   local i = day_of(w, t)
   if not i then return nil end
   local d = w.day[i]
   return i - 1 + (t - d.start) / (d.stop - d.start)
end

local function state_of(b)
   local s = b.status
   if s == nil or s == "DONE" or s == "BACKUP_STATUS_UNSPECIFIED" then return "done" end
   if s == "CREATING" then return "progress" end
   return "failed"
end
M.state_of = state_of

local function kind_of(b)
   if b.type == "AUTOMATED" then return "automated" end
   if b.type == "MANUAL" then return "manual" end
   return "untyped"
end

--- The size of a backup in bytes, or nil (mdb.backup's, for the renderers
-- that read this model).
M.size_of = require("mdb.backup").size_of

-- The cluster's retention in days (backupRetainPeriodDays, or
-- OpenSearch's snapshotMaxAgeDays), or nil when it does not say.
local function retain_days(cluster)
   local cfg = type(cluster) == "table" and cluster.config
   if type(cfg) ~= "table" then return nil end
   local v = cfg.backupRetainPeriodDays
   if v == nil and type(cfg.snapshotManagement) == "table" then v = cfg.snapshotManagement.snapshotMaxAgeDays end
   v = math.tointeger(tonumber(v))
   return v and v > 0 and v or nil
end
M.retain_days = retain_days

--- One cluster's backups in the window.
-- @param entry `{engine=, id=, cluster=, backups=, error=}` (as `client:scan` gives)
-- @param w a window from `M.window`
-- @return `{ marks = { {t, x, kind, state, backup}, ... } (oldest first),
--   days = { {date, state, done, progress, failed, start, stop}, ... },
--   newest = newest completed backup (any time) or nil, age = seconds or nil,
--   counts = {done, progress, failed, automated, manual, missing, unknown} (in the window),
--   error = the listing's error as text or nil }`
function M.cluster(entry, w)
   local created = type(entry.cluster) == "table" and mtype(entry.cluster.created) and entry.cluster.created
   local keep = retain_days(entry.cluster)
   local oldest
   local out = { marks = {}, days = {}, counts = { done = 0, progress = 0, failed = 0, automated = 0,
      manual = 0, missing = 0, unknown = 0 } }
   if entry.error ~= nil then out.error = tostring(entry.error) end
   for i, d in ipairs(w.day) do
      out.days[i] = { date = d.date, start = d.start, stop = d.stop, done = 0, progress = 0, failed = 0 }
   end
   local c = out.counts
   for _, b in ipairs(entry.backups or {}) do
      if type(b) == "table" then
         local t = mtype(b.created) and b.created or mtype(b.started) and b.started or nil
         local state = state_of(b)
         if t and (not oldest or t < oldest) then oldest = t end
         if state == "done" and t and (not out.newest or t > out.newest.created) and mtype(b.created) then
            out.newest = b
         end
         local i = t and day_of(w, t)
         if i then
            local kind = kind_of(b)
            out.marks[#out.marks + 1] = { t = t, x = M.position(w, t), kind = kind, state = state, backup = b }
            local day = out.days[i]
            day[state] = day[state] + 1
            c[state] = c[state] + 1
            if state == "done" and kind ~= "untyped" then c[kind] = c[kind] + 1 end
         end
      end
   end
   sort(out.marks, function(a, b) return a.t < b.t end)
   if out.newest then out.age = w.now - out.newest.created end
   for i, day in ipairs(out.days) do
      if day.done > 0 then day.state = "backup"
      elseif day.progress > 0 then day.state = "progress"
      elseif day.failed > 0 then day.state = "failed"
      elseif created and created >= day.stop then day.state = "absent"
      elseif out.error then day.state = "unknown"; c.unknown = c.unknown + 1
      elseif oldest and day.stop <= oldest and (not keep or day.start < w.now - keep * 86400) then
         day.state = "expired"
      elseif i == #out.days then day.state = "open"
      else day.state = "missing"; c.missing = c.missing + 1 end
   end
   return out
end

--- A `check` for the scripts' `--days N` option (mdb.cli): 1..366.
function M.days_option(s)
   local n = math.tointeger(tonumber(s))
   if n == nil or not s:match("^%d+$") or n < 1 or n > 366 then
      return nil, "expected a whole number of days, 1..366: " .. s
   end
   return n
end

--- Days without a backup among `t.days`, as dates (never a day of a
-- failed listing: those are "unknown").
function M.missing_dates(t)
   local out = {}
   for _, d in ipairs(t.days) do
      if d.state == "missing" then out[#out + 1] = d.date end
   end
   return out
end

return M
