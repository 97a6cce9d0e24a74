--- Time zones and calendar arithmetic for retention buckets and day
-- boundaries, without depending on the process's TZ setting.
--
-- A zone is one of:
--
-- * `"UTC"` or `"Z"` (the default everywhere);
-- * a fixed offset: `"+03:00"`, `"-05:30"`, `"+0300"`, `"+03"`;
-- * an IANA name such as `"Europe/Berlin"`, read from the system's TZif
--   files (`$TZDIR`, else `/usr/share/zoneinfo`; Debian package `tzdata`),
--   daylight saving time included;
-- * a POSIX TZ rule such as `"CET-1CEST,M3.5.0,M10.5.0/3"`;
-- * `"local"`: the process's own zone, through `os.date`.
--
-- `M.zone(spec)` returns a zone object (or nil and a message); zones have
-- `zone:offset(t)` (seconds east of UTC at Unix time t), `zone:civil(t)`
-- (local date and time fields) and `zone:from_civil(...)` (the reverse).
-- @module mdb.tz
local M = {}

local floor, format, type = math.floor, string.format, type
local unpack, osdate, getenv = string.unpack, os.date, os.getenv

-- Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
-- days_from_civil); months and days out of range are normalised.
local function days_from_civil(y, m, d)
   y = y + (m - 1) // 12
   m = (m - 1) % 12 + 1
   if m <= 2 then y = y - 1 end
   local era = y // 400
   local yoe = y - era * 400
   local mp = (m + 9) % 12
   local doy = (153 * mp + 2) // 5
   local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
   return era * 146097 + doe - 719468 + (d - 1)
end
M.days_from_civil = days_from_civil

--- The date of a day number: year, month, day.
local function civil_from_days(z)
   z = z + 719468
   local era = z // 146097
   local doe = z - era * 146097
   local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
   local y = yoe + era * 400
   local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
   local mp = (5 * doy + 2) // 153
   local d = doy - (153 * mp + 2) // 5 + 1
   local m = mp < 10 and mp + 3 or mp - 9
   if m <= 2 then y = y + 1 end
   return y, m, d
end
M.civil_from_days = civil_from_days

--- ISO weekday of a day number: 1 = Monday .. 7 = Sunday.
local function iso_wday(days)
   return (days + 3) % 7 + 1           -- 1970-01-01 was a Thursday
end
M.iso_wday = iso_wday

--- ISO 8601 week of a date: iso_year, week (1..53).
function M.iso_week(y, m, d)
   local days = days_from_civil(y, m, d)
   local thursday = days - iso_wday(days) + 4       -- the Thursday of that week
   local ty = civil_from_days(thursday)
   return ty, (thursday - days_from_civil(ty, 1, 1)) // 7 + 1
end

local function is_leap(y)
   return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)
end

-- Civil fields of `t` shifted by `off` seconds.
local function fields(t, off)
   local s = floor(t) + off
   local days = s // 86400
   local rem = s - days * 86400
   local y, m, d = civil_from_days(days)
   return {
      year = y, month = m, day = d,
      hour = rem // 3600, min = rem % 3600 // 60, sec = rem % 60,
      wday = iso_wday(days), days = days, offset = off,
   }
end

local Zone = {}
Zone.__index = Zone
Zone.__name = "mdb.tz.zone"
function Zone:__tostring() return "zone " .. self.name end

--- Local date and time at Unix time `t`: `{year, month, day, hour, min,
-- sec, wday (1 = Monday), days (day number), offset}`.
function Zone:civil(t)
   return fields(t, self:offset(t))
end

--- The Unix time of a local date and time (fields may be out of range and
-- are normalised).  In a DST gap or overlap one of the candidate instants
-- is chosen, as Go's time.Date does.
function Zone:from_civil(y, mo, d, h, mi, s)
   local l = days_from_civil(y, mo, d) * 86400 + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0)
   local off = self:offset(l)
   local t = l - off
   local off2 = self:offset(t)
   if off2 ~= off then t = l - off2 end
   return t
end

local function fixed(name, off)
   return setmetatable({ name = name, offset = function() return off end, fixed = off }, Zone)
end

-- "+03:00", "-0530", "+03" → seconds east, or nil.
local function parse_offset(s)
   local sign, hh, mm = s:match("^([+-])(%d%d):?(%d%d)$")
   if not sign then sign, hh = s:match("^([+-])(%d%d)$"); mm = "00" end
   if not sign then return nil end
   hh, mm = tonumber(hh), tonumber(mm)
   if hh > 23 or mm > 59 then return nil end
   local off = hh * 3600 + mm * 60
   return sign == "-" and -off or off
end

-- Seconds east of UTC as "UTC+07:00" / "UTC-05:30".
local function offset_text(off)
   local a = off < 0 and -off or off
   return format("UTC%s%02d:%02d", off < 0 and "-" or "+", a // 3600, a % 3600 // 60)
end

---------------------------------------------------------------------------
-- POSIX TZ rules ("CET-1CEST,M3.5.0,M10.5.0/3"), as in TZif footers.

-- Parse "[+-]hh[:mm[:ss]]" at pos; returns seconds and the next position.
local function posix_time(s, pos, allow_sign)
   local sign, h, rest, nextpos = s:match("^([+-]?)(%d%d?%d?)([:%d]*)()", pos)
   if not sign or (sign ~= "" and not allow_sign) then return nil end
   local v = tonumber(h) * 3600
   local mm, ss = rest:match("^:(%d%d)"), rest:match("^:%d%d:(%d%d)$")
   if rest ~= "" and not (mm and (rest == ":" .. mm or ss)) then return nil end
   if mm then v = v + tonumber(mm) * 60 end
   if ss then v = v + tonumber(ss) end
   return sign == "-" and -v or v, nextpos
end

local function posix_name(s, pos)
   local q, nextpos = s:match("^<([%w+-]+)>()", pos)
   if q then return q, nextpos end
   local n, np = s:match("^(%a%a%a+)()", pos)
   return n, np
end

-- One transition rule: "Jn", "n" or "Mm.w.d", with an optional "/time".
local function posix_rule(s, pos)
   local r = {}
   local np
   local m, w, d, p = s:match("^M(%d%d?)%.(%d)%.(%d)()", pos)
   if m then
      r.kind, r.m, r.w, r.d, np = "M", tonumber(m), tonumber(w), tonumber(d), p
      if r.m < 1 or r.m > 12 or r.w < 1 or r.w > 5 or r.d > 6 then return nil end
   else
      local j, p2 = s:match("^J(%d+)()", pos)
      if j then
         r.kind, r.n, np = "J", tonumber(j), p2
         if r.n < 1 or r.n > 365 then return nil end
      else
         local n, p3 = s:match("^(%d+)()", pos)
         if not n then return nil end
         r.kind, r.n, np = "N", tonumber(n), p3
         if r.n > 365 then return nil end
      end
   end
   r.time = 7200
   if s:sub(np, np) == "/" then
      local t, p4 = posix_time(s, np + 1, true)
      if not t then return nil end
      r.time, np = t, p4
   end
   return r, np
end

-- Day number (since the epoch) on which a rule falls in year y.
local function rule_day(r, y)
   if r.kind == "J" then
      local n = r.n
      if is_leap(y) and n >= 60 then n = n + 1 end
      return days_from_civil(y, 1, 1) + n - 1
   elseif r.kind == "N" then
      return days_from_civil(y, 1, 1) + r.n
   end
   local first = days_from_civil(y, r.m, 1)
   local wd = (first + 4) % 7                        -- 0 = Sunday
   local day = first + (r.d - wd) % 7 + (r.w - 1) * 7
   local next_month = days_from_civil(y, r.m + 1, 1)
   while day >= next_month do day = day - 7 end
   return day
end

local function parse_posix(spec)
   local std, pos = posix_name(spec, 1)
   if not std then return nil end
   local stdoff, p = posix_time(spec, pos, true)
   if not stdoff then return nil end
   local z = { std = std, stdoff = -stdoff }          -- POSIX offsets are west-positive
   pos = p
   if pos > #spec then return z end
   local dst, p2 = posix_name(spec, pos)
   if not dst then return nil end
   pos = p2
   z.dst, z.dstoff = dst, z.stdoff + 3600
   local c = spec:sub(pos, pos)
   if c ~= "," and c ~= "" then
      local o, p3 = posix_time(spec, pos, true)
      if not o then return nil end
      z.dstoff, pos = -o, p3
   end
   if spec:sub(pos, pos) == "" then
      spec, pos = spec .. ",M3.2.0,M11.1.0", #spec + 1   -- POSIX's (US) default rule
   end
   if spec:sub(pos, pos) ~= "," then return nil end
   local r1, p4 = posix_rule(spec, pos + 1)
   if not r1 or spec:sub(p4, p4) ~= "," then return nil end
   local r2, p5 = posix_rule(spec, p4 + 1)
   if not r2 or p5 <= #spec then return nil end
   z.start, z["end"] = r1, r2
   return z
end

-- Offset of a parsed POSIX rule at Unix time t.
local function posix_offset(z, t)
   if not z.dst then return z.stdoff end
   local y = civil_from_days((floor(t) + z.stdoff) // 86400)
   local function dst_in(year)
      local s = rule_day(z.start, year) * 86400 + z.start.time - z.stdoff
      local e = rule_day(z["end"], year) * 86400 + z["end"].time - z.dstoff
      if s < e then return t >= s and t < e end
      return not (t >= e and t < s)
   end
   return dst_in(y) and z.dstoff or z.stdoff
end

---------------------------------------------------------------------------
-- TZif files (RFC 8536), version 1 to 4.

local function parse_tzif(data, name)
   if data:sub(1, 4) ~= "TZif" then return nil, "not a TZif file" end
   local function header(pos)
      if #data < pos + 43 then return nil end
      local isut, isstd, leap, time, typ, char = unpack(">I4I4I4I4I4I4", data, pos + 20)
      return { ver = data:sub(pos + 4, pos + 4), isut = isut, isstd = isstd, leap = leap,
         time = time, typ = typ, char = char }
   end
   local h = header(1)
   if not h then return nil, "truncated TZif header" end
   local pos, tsize = 45, 4
   if h.ver >= "2" then
      pos = pos + h.time * 5 + h.typ * 6 + h.char + h.leap * 8 + h.isstd + h.isut
      h = header(pos)
      if not h then return nil, "truncated TZif v2 header" end
      pos, tsize = pos + 44, 8
   end
   local need = h.time * (tsize + 1) + h.typ * 6 + h.char + h.leap * (tsize + 4) + h.isstd + h.isut
   if #data < pos - 1 + need or h.typ == 0 then return nil, "truncated TZif data" end
   local fmt_t = tsize == 8 and ">i8" or ">i4"
   local trans, idx, types = {}, {}, {}
   for i = 1, h.time do trans[i] = unpack(fmt_t, data, pos + (i - 1) * tsize) end
   pos = pos + h.time * tsize
   for i = 1, h.time do
      idx[i] = data:byte(pos + i - 1) + 1
      if idx[i] > h.typ then return nil, "bad TZif data: a transition to an unknown type" end
   end
   pos = pos + h.time
   for i = 1, h.typ do
      local off = unpack(">i4", data, pos + (i - 1) * 6)
      types[i] = off
   end
   pos = pos + h.typ * 6 + h.char + h.leap * (tsize + 4) + h.isstd + h.isut
   local footer
   if tsize == 8 then
      footer = data:match("^\n([^\n]*)\n", pos)
   end
   local rule
   if footer and footer ~= "" then
      rule = parse_posix(footer)
      if not rule then return nil, "bad TZ rule in footer: " .. footer end
   end
   local z = setmetatable({ name = name }, Zone)
   function z.offset(_, t)
      local n = #trans
      if n == 0 or t < trans[1] then
         if n == 0 and rule then return posix_offset(rule, t) end
         return types[1]
      end
      if t >= trans[n] and rule then return posix_offset(rule, t) end
      local lo, hi = 1, n                 -- the last transition <= t
      while lo < hi do
         local mid = (lo + hi + 1) // 2
         if trans[mid] <= t then lo = mid else hi = mid - 1 end
      end
      return types[idx[lo]]
   end
   return z
end

local cache = {}

--- A zone from its spec (see the module description).
-- @param spec string; nil means "UTC"
-- @return zone, or nil and a message
-- @raise when `spec` is neither nil nor a string
function M.zone(spec)
   if spec == nil then spec = "UTC" end
   if type(spec) ~= "string" then
      error(format("bad argument #1 to 'zone' (string expected, got %s)", type(spec)), 2)
   end
   if cache[spec] then return cache[spec] end
   local z
   if spec == "UTC" or spec == "Z" or spec == "utc" then
      z = fixed("UTC", 0)
   elseif spec:match("^[+-]") then
      local off = parse_offset(spec)
      if not off then
         return nil, format('bad time zone "%s": expected an offset like +03:00 or -05:30', spec)
      end
      z = fixed(spec, off)
   elseif spec == "local" then
      z = setmetatable({ name = "local" }, Zone)
      function z.offset(_, t)
         t = floor(t)
         local l = osdate("*t", t)
         return days_from_civil(l.year, l.month, l.day) * 86400 + l.hour * 3600 + l.min * 60
            + l.sec - t
      end
   elseif spec:match("^%a[%w_+/-]*$") and not spec:find("//", 1, true)
      and not (spec:match("%d") and parse_posix(spec)) then
      local dir = getenv("TZDIR") or "/usr/share/zoneinfo"
      local path = dir .. "/" .. spec
      -- A zone is a regular file: opening a named pipe would wait for a
      -- writer that never comes, a device would feed the parser forever.
      -- (Told by the binding, so only where it is loaded: this module also
      -- runs in a bare Lua, as the parsers' fuzz target runs it.)
      local has_binding, mdb = pcall(require, "mdb")
      local kind = has_binding and mdb._fs.path_kind(path)
      if kind and kind ~= "file" then
         return nil, format('time zone "%s": %s is not a regular file', spec, path)
      end
      local f = io.open(path, "rb")
      if not f then
         return nil, format('unknown time zone "%s" (no %s; use UTC, an offset like +03:00, '
            .. 'or install the tzdata package)', spec, path)
      end
      local data = f:read("a")
      f:close()
      local zz, err = parse_tzif(data or "", spec)
      if not zz then return nil, format('time zone "%s": %s: %s', spec, path, err) end
      z = zz
      -- Etc/GMT+7 is UTC-07:00 (POSIX signs): the label says so.
      if spec:match("GMT[+-]%d+$") then z.name = format("%s, %s", spec, offset_text(z:offset(0))) end
   else
      local rule = parse_posix(spec)
      if not rule then
         return nil, format('bad time zone "%s": expected UTC, an offset like +03:00, '
            .. 'a zone name like Europe/Berlin or a POSIX TZ rule', spec)
      end
      local sign, rest = spec:match("^%a+([+-])(.*)$")
      if sign and not rule.dst and (rule.std:upper() == "UTC" or rule.std:upper() == "GMT") then
         -- POSIX reads "UTC+7" as 7 hours WEST of UTC; people rarely mean that.
         local want = parse_offset(sign .. rest:gsub("^(%d)$", "0%1"):gsub("^(%d):", "0%1:"))
         return nil, format('ambiguous time zone "%s": as a POSIX TZ rule it means %s; '
            .. 'write the offset instead, e.g. %s', spec, offset_text(rule.stdoff),
            want and offset_text(want):sub(4) or "+07:00")
      end
      -- A rule without daylight saving time is a fixed offset: say which.
      local name = rule.dst and spec or format("%s, %s", spec, offset_text(rule.stdoff))
      z = setmetatable({ name = name }, Zone)
      function z.offset(_, t) return posix_offset(rule, t) end
   end
   cache[spec] = z
   return z
end

--- Go's `t.AddDate(-years, -months, -days)` then `Add(-hours)`, in a zone:
-- the instant `d` (a calendar duration) before `t`.
function M.sub_calendar(zone, t, d)
   local c = zone:civil(t)
   local frac = t - floor(t)
   local back = zone:from_civil(c.year - (d.years or 0), c.month - (d.months or 0),
      c.day - (d.days or 0), c.hour, c.min, c.sec)
   return back + frac - (d.hours or 0) * 3600
end

--- A local date as "YYYY-MM-DD".
function M.date_string(y, m, d)
   return format("%04d-%02d-%02d", y, m, d)
end

return M
