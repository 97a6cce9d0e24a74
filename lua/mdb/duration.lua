--- Durations as people write them in policies and on the command line.
--
-- Two notations, because the two worlds they come from disagree on `m`:
--
-- * `parse` — exact durations for thresholds, Prometheus-style:
--   `"26h"`, `"1d12h"`, `"90m"`, `"2w"`; units `w` (7 days), `d` (24 h),
--   `h`, `m` (minutes) and `s`, each at most once, in any order.
-- * `parse_calendar` — restic `forget` durations for retention rules:
--   `"1y2m3d4h"`; units `y`, `m` (months), `d` and `h`, applied on the
--   calendar (a month back from 31 March is 3 March, as Go's AddDate does).
--
-- Pure functions; no I/O.  Functions raise on arguments of the wrong type
-- and return `nil, message` for text that is not a valid duration.
-- @module mdb.duration
local M = {}

local format, type, tointeger = string.format, type, math.tointeger
local concat = table.concat

local UNITS = { w = 604800, d = 86400, h = 3600, m = 60, s = 1 }
local UNIT_ORDER = { "w", "d", "h", "m", "s" }
local CAL_FIELD = { y = "years", m = "months", d = "days", h = "hours" }
local MAX_CALENDAR_YEARS = 1000000000

local function check_string(s, fname)
   if type(s) ~= "string" then
      error(format("bad argument #1 to '%s' (string expected, got %s)", fname, type(s)), 3)
   end
end

-- Split "1d12h" into { {n, unit}, ... }; nil, message on bad text.
-- `units` maps allowed unit letters; `hint` lists them for messages.
local function split(s, units, hint)
   if s == "" then return nil, format('bad duration "": empty (use %s)', hint) end
   local parts, seen, pos = {}, {}, 1
   while pos <= #s do
      local digits, unit, nextpos = s:match("^(%d*)(%a?)()", pos)
      if digits == "" then
         local c = s:sub(pos, pos)
         if unit ~= "" then
            return nil, format('bad duration "%s": expected a number before "%s"', s, unit)
         end
         return nil, format('bad duration "%s": unexpected "%s" (use %s)', s, c, hint)
      end
      if unit == "" then
         if nextpos <= #s then
            return nil, format('bad duration "%s": unexpected "%s" (use %s)', s, s:sub(nextpos, nextpos), hint)
         end
         return nil, format('bad duration "%s": missing unit after %s (use %s)', s, digits, hint)
      end
      if not units[unit] then
         return nil, format('bad duration "%s": unknown unit "%s" (use %s)', s, unit, hint)
      end
      if seen[unit] then
         return nil, format('bad duration "%s": unit "%s" given twice', s, unit)
      end
      seen[unit] = true
      local n = tointeger(tonumber(digits))
      if n == nil or #digits > 12 then
         return nil, format('bad duration "%s": number %s is too large', s, digits)
      end
      parts[#parts + 1] = { n, unit }
      pos = nextpos
   end
   return parts
end

--- Parse an exact duration ("26h", "1d12h", "90m", "2w", "45s").
-- @param s string
-- @return seconds (integer), or nil and a message naming the text
-- @raise when `s` is not a string
function M.parse(s)
   check_string(s, "parse")
   local parts, err = split(s, UNITS, "w, d, h, m, s, e.g. 26h or 1d12h")
   if not parts then return nil, err end
   local total = 0
   for _, p in ipairs(parts) do total = total + p[1] * UNITS[p[2]] end
   return total
end

--- Parse a restic-style calendar duration ("1y2m3d4h"; `m` is months).
-- @param s string
-- @return `{years=, months=, days=, hours=}` (integers, absent units 0), or
--   nil and a message
-- @raise when `s` is not a string
function M.parse_calendar(s)
   check_string(s, "parse_calendar")
   local parts, err = split(s, CAL_FIELD, "y, m (months), d, h, e.g. 1y2m3d4h")
   if not parts then return nil, err end
   local d = { years = 0, months = 0, days = 0, hours = 0 }
   for _, p in ipairs(parts) do d[CAL_FIELD[p[2]]] = p[1] end
   -- Far enough back, the instant it names is past what a Lua integer
   -- holds in seconds (the wrapped-around result lay in the future: a rule
   -- "keep within 999999999999y" kept nothing), or past the years a
   -- struct tm holds (os.date, the "local" zone).
   if d.years + d.months / 12 + d.days / 365.2425 + d.hours / 8765.82 > MAX_CALENDAR_YEARS then
      return nil, format('bad duration "%s": longer than %d years', s, MAX_CALENDAR_YEARS)
   end
   return d
end

--- The canonical text of a calendar duration, as restic prints it
-- ("1y2m3d4h"; zero units left out; "0h" when all are zero).
function M.format_calendar(d)
   if type(d) ~= "table" then
      error(format("bad argument #1 to 'format_calendar' (table expected, got %s)", type(d)), 2)
   end
   local out = {}
   if (d.years or 0) ~= 0 then out[#out + 1] = d.years .. "y" end
   if (d.months or 0) ~= 0 then out[#out + 1] = d.months .. "m" end
   if (d.days or 0) ~= 0 then out[#out + 1] = d.days .. "d" end
   if (d.hours or 0) ~= 0 then out[#out + 1] = d.hours .. "h" end
   if #out == 0 then return "0h" end
   return concat(out)
end

--- True when every unit of a calendar duration is zero.
function M.calendar_zero(d)
   return (d.years or 0) == 0 and (d.months or 0) == 0 and (d.days or 0) == 0 and (d.hours or 0) == 0
end

--- A number of seconds in the largest single unit that divides it:
-- 93600 → "26h", 604800 → "7d", 5400 → "90m", 45 → "45s".  Used to show
-- thresholds the way people write them.
function M.format(sec)
   if math.type(sec) == nil then
      error(format("bad argument #1 to 'format' (number expected, got %s)", type(sec)), 2)
   end
   local n = tointeger(sec)
   if n == nil then return format("%gs", sec) end
   if n == 0 then return "0s" end
   for _, u in ipairs(UNIT_ORDER) do
      if u ~= "w" and n % UNITS[u] == 0 then return format("%d%s", n // UNITS[u], u) end
   end
   return format("%ds", n)
end

return M
