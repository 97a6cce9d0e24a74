--- GFS retention plans with the semantics of restic's `forget`: which
-- backups a keep-N-daily/weekly/monthly... policy keeps, which it would
-- expire, and why.  Read-only: nothing here deletes anything.
--
--   local retention = require "mdb.retention"
--   local plan = retention.plan(backups, { daily = 7, weekly = 4, monthly = 12 }, { tz = "+03:00" })
--   for _, e in ipairs(plan.expire) do print(e.backup.id) end
--
-- Semantics (restic `forget`): backups are taken newest first; each rule
-- keeps the newest backup of each period (hour, day, ISO week, month,
-- year) while it has count left, and periods without a backup do not
-- count; rules are ORed; `within*` durations are measured back from the
-- newest backup (ignoring backups in the future); when a count rule runs
-- out of backups before its count is used up, the oldest backup is kept
-- for it too ("oldest daily snapshot").  An empty policy keeps everything.
--
-- Beyond restic: backups still in status CREATING are kept ("in progress")
-- and backups without a creation time are kept ("no creation time"); both
-- take no part in the rules.
-- @module mdb.retention
local M = {}

local duration = require "mdb.duration"
local tz = require "mdb.tz"

local format, type, ipairs, pairs = string.format, type, ipairs, pairs
local sort, concat, tointeger = table.sort, table.concat, math.tointeger

--- Count rules in evaluation order, with restic's reason texts.
M.COUNT_RULES = { "last", "hourly", "daily", "weekly", "monthly", "yearly" }
--- Duration rules.
M.WITHIN_RULES = { "within", "within_hourly", "within_daily", "within_weekly",
   "within_monthly", "within_yearly" }

local KNOWN = {}
for _, k in ipairs(M.COUNT_RULES) do KNOWN[k] = "count" end
for _, k in ipairs(M.WITHIN_RULES) do KNOWN[k] = "within" end

local function known_list()
   return concat(M.COUNT_RULES, ", ") .. ", " .. concat(M.WITHIN_RULES, ", ")
end

--- Check and normalise a policy table.
-- Counts are whole numbers >= 0 or "unlimited" (-1 internally); durations
-- are restic durations ("1y2m3d4h").
-- @return normalised policy `{last=, ..., within = {years=...}|nil, ...}`,
--   or nil and a message naming the key
function M.check_policy(policy)
   if type(policy) ~= "table" then
      return nil, format("policy must be a table, got %s", type(policy))
   end
   local out = {}
   for k, v in pairs(policy) do
      local kind = KNOWN[k]
      if not kind then
         return nil, format("unknown retention key '%s' (known: %s)", tostring(k), known_list())
      end
      if kind == "count" then
         if v == "unlimited" then
            out[k] = -1
         else
            local n = math.type(v) and tointeger(v)
            if n == nil or n < 0 then
               return nil, format("retention key '%s': expected a whole number >= 0 or \"unlimited\", got %s",
                  k, type(v) == "string" and format("%q", v) or tostring(v))
            end
            out[k] = n
         end
      else
         if type(v) ~= "string" then
            return nil, format("retention key '%s': expected a duration like \"7d\" or \"1y2m\", got %s",
               k, tostring(v))
         end
         local d, err = duration.parse_calendar(v)
         if not d then return nil, format("retention key '%s': %s", k, err) end
         if not duration.calendar_zero(d) then out[k] = d end
      end
   end
   return out
end

--- True when a normalised policy keeps nothing by rule (restic: empty).
function M.is_empty(p)
   for _, k in ipairs(M.COUNT_RULES) do
      if (p[k] or 0) ~= 0 then return false end
   end
   for _, k in ipairs(M.WITHIN_RULES) do
      if p[k] then return false end
   end
   return true
end

--- One line describing a policy, as restic prints it:
-- "keep 7 daily, 4 weekly snapshots, all snapshots within 3d of the newest".
-- @raise on a bad policy, naming the key
function M.describe(policy)
   local p, err = M.check_policy(policy)
   if not p then error(err, 2) end
   local keeps, within = {}, {}
   local names = { last = "latest", hourly = "hourly", daily = "daily", weekly = "weekly",
      monthly = "monthly", yearly = "yearly" }
   for _, k in ipairs(M.COUNT_RULES) do
      local n = p[k] or 0
      if n > 0 then keeps[#keeps + 1] = format("%d %s", n, names[k])
      elseif n == -1 then keeps[#keeps + 1] = "all " .. names[k] end
   end
   for _, k in ipairs(M.WITHIN_RULES) do
      if k ~= "within" and p[k] then
         within[#within + 1] = format("%s snapshots within %s", k:sub(8), duration.format_calendar(p[k]))
      end
   end
   local s = ""
   if #keeps > 0 then s = concat(keeps, ", ") .. " snapshots" end
   if #within > 0 then s = s .. (s ~= "" and ", " or "") .. concat(within, ", ") end
   if p.within then
      s = s .. (s ~= "" and " and " or "") ..
         format("all snapshots within %s of the newest", duration.format_calendar(p.within))
   end
   if s == "" then return "keep everything (empty policy)" end
   return "keep " .. s
end

-- Bucket functions: a number identifying the period of a local time.
local BUCKET = {
   last = function(_, nr) return nr end,
   hourly = function(c) return ((c.year * 100 + c.month) * 100 + c.day) * 100 + c.hour end,
   daily = function(c) return (c.year * 100 + c.month) * 100 + c.day end,
   weekly = function(c)
      local y, w = tz.iso_week(c.year, c.month, c.day)
      return y * 100 + w
   end,
   monthly = function(c) return c.year * 100 + c.month end,
   yearly = function(c) return c.year end,
}

local function is_pending(b)
   return b.status == "CREATING"
end

--- Plan a policy over a list of backups.
-- @param backups array of backup tables (`created` in Unix seconds, as the
--   iterator yields them); not modified
-- @param policy table: `last, hourly, daily, weekly, monthly, yearly`
--   (counts or "unlimited"), `within, within_hourly, ..., within_yearly`
--   (durations like "1y2m3d4h")
-- @param opts optional `{ tz = "UTC" | "+03:00" | "Europe/Berlin" | zone,
--   now = Unix seconds (default os.time(); only to ignore backups in the
--   future when finding the newest) }`
-- @return `{ keep = {{backup=, reasons={...}}, ...}, expire = {...},
--   policy = normalised policy, tz = zone name }`, both lists newest first
-- @raise on a bad argument, an unknown policy key, a bad count or
--   duration, or a bad time zone
function M.plan(backups, policy, opts)
   if type(backups) ~= "table" then
      error(format("bad argument #1 to 'plan' (table expected, got %s)", type(backups)), 2)
   end
   if type(policy) ~= "table" then
      error(format("bad argument #2 to 'plan' (table expected, got %s)", type(policy)), 2)
   end
   if opts ~= nil and type(opts) ~= "table" then
      error(format("bad argument #3 to 'plan' (table expected, got %s)", type(opts)), 2)
   end
   opts = opts or {}
   for k in pairs(opts) do
      if k ~= "tz" and k ~= "now" then
         error(format("bad argument #3 to 'plan' (unknown option '%s')", tostring(k)), 2)
      end
   end
   local p, perr = M.check_policy(policy)
   if not p then error(perr, 2) end
   local zone = opts.tz
   if type(zone) ~= "table" then
      local z, zerr = tz.zone(opts.tz)
      if not z then error(zerr, 2) end
      zone = z
   end
   local now = opts.now or os.time()
   if math.type(now) == nil then
      error(format("bad option 'now' to 'plan' (number expected, got %s)", type(now)), 2)
   end

   local result = { keep = {}, expire = {}, policy = p, tz = zone.name }
   local list, aside = {}, {}
   for i, b in ipairs(backups) do
      if type(b) ~= "table" then
         error(format("bad argument #1 to 'plan' (backup #%d is a %s, not a table)", i, type(b)), 2)
      end
      if b.created == nil then
         aside[#aside + 1] = { backup = b, reasons = { "no creation time" }, i = i }
      elseif math.type(b.created) == nil then
         error(format("bad argument #1 to 'plan' (backup #%d: 'created' is a %s, not a number)",
            i, type(b.created)), 2)
      elseif is_pending(b) then
         aside[#aside + 1] = { backup = b, reasons = { "in progress" }, i = i, t = b.created }
      else
         list[#list + 1] = { backup = b, t = b.created, i = i }
      end
   end
   -- Newest first; equal times keep their input order (restic sorts stably).
   sort(list, function(a, b)
      if a.t ~= b.t then return a.t > b.t end
      return a.i < b.i
   end)

   local kept = {}
   if M.is_empty(p) then
      for _, e in ipairs(list) do kept[#kept + 1] = { backup = e.backup, reasons = { "policy is empty" }, t = e.t } end
      list = {}
   end

   local n = #list
   local latest
   for _, e in ipairs(list) do
      if e.t <= now and (latest == nil or e.t > latest) then latest = e.t end
   end
   local function cutoff(d)
      if latest == nil then return -math.huge end
      return tz.sub_calendar(zone, latest, d)
   end

   local counts, last = {}, {}
   for _, k in ipairs(M.COUNT_RULES) do counts[k] = p[k] or 0; last[k] = nil end
   local wlast, wcut = {}, {}
   for _, k in ipairs(M.WITHIN_RULES) do
      if p[k] then wcut[k] = cutoff(p[k]) end
   end

   for nr, e in ipairs(list) do
      local reasons = {}
      local c = zone:civil(e.t)
      if p.within and e.t > wcut.within then
         reasons[#reasons + 1] = "within " .. duration.format_calendar(p.within)
      end
      for _, k in ipairs(M.COUNT_RULES) do
         if counts[k] > 0 or counts[k] == -1 then
            local val = BUCKET[k](c, nr)
            if val ~= last[k] or nr == n then
               local reason = k == "last" and "last snapshot" or (k .. " snapshot")
               if val == last[k] and nr == n then reason = "oldest " .. reason end
               last[k] = val
               if counts[k] > 0 then counts[k] = counts[k] - 1 end
               reasons[#reasons + 1] = reason
            end
         end
      end
      for _, k in ipairs(M.WITHIN_RULES) do
         if k ~= "within" and p[k] and e.t > wcut[k] then
            local period = k:sub(8)
            local val = BUCKET[period](c, nr)
            if val ~= wlast[k] or nr == n then
               local reason = period .. " within"
               if val == wlast[k] and nr == n then reason = "oldest " .. reason end
               wlast[k] = val
               reasons[#reasons + 1] = reason .. " " .. duration.format_calendar(p[k])
            end
         end
      end
      if #reasons > 0 then
         kept[#kept + 1] = { backup = e.backup, reasons = reasons, t = e.t }
      else
         result.expire[#result.expire + 1] = { backup = e.backup, reasons = {} }
      end
   end

   -- Merge the backups set aside (in progress, no time) into `keep`,
   -- newest first; those without a time go first.
   for _, a in ipairs(aside) do kept[#kept + 1] = a end
   local order = {}
   for i, e in ipairs(kept) do order[e] = i end
   sort(kept, function(a, b)
      local ta, tb = a.t or math.huge, b.t or math.huge
      if ta ~= tb then return ta > tb end
      return order[a] < order[b]
   end)
   for i, e in ipairs(kept) do result.keep[i] = { backup = e.backup, reasons = e.reasons } end
   return result
end

return M
