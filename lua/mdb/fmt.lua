--- Formatting helpers shared by scripts and reports: human-readable
-- sizes, ages and times.  Pure functions; no I/O.
-- @module mdb.fmt
local M = {}

local floor, format = math.floor, string.format

local UNITS = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" }

--- A byte count as "1.5 GiB" (binary units); "-" for nil.
-- @param n integer or nil
function M.size(n)
   if n == nil then return "-" end
   if math.type(n) == nil then
      error(format("bad argument #1 to 'size' (number expected, got %s)", type(n)), 2)
   end
   local v, u = n + 0.0, 1
   while v >= 1024 and u < #UNITS do
      v, u = v / 1024, u + 1
   end
   if u == 1 then return format("%d B", n) end
   return format(v < 10 and "%.1f %s" or "%.0f %s", v, UNITS[u])
end

--- A duration in seconds as "3d 4h", "5h 12m", "42m", "17s".
-- @param s number of seconds (negative: "in the future")
function M.age(s)
   if s == nil then return "-" end
   if s < 0 then return "in " .. M.age(-s) end
   s = floor(s)
   local d, h, m = floor(s / 86400), floor(s % 86400 / 3600), floor(s % 3600 / 60)
   if d > 0 then return format("%dd %dh", d, h) end
   if h > 0 then return format("%dh %dm", h, m) end
   if m > 0 then return format("%dm", m) end
   return format("%ds", s)
end

-- 1000-01-01T00:00:00Z: before it, strftime's %Y has fewer than four
-- digits ("1-01-01"), which no RFC 3339 reader takes back.
local YEAR_1000 = -30610224000

-- UTC date and time with `sep` between them.
local function utc(t, sep)
   t = floor(t)
   if t >= YEAR_1000 then return os.date("!%Y-%m-%d" .. sep .. "%H:%M:%SZ", t) end
   local d = os.date("!*t", t)
   return format("%04d-%02d-%02d%s%02d:%02d:%02dZ", d.year, d.month, d.day, sep, d.hour, d.min, d.sec)
end

--- Unix seconds as "2026-11-23 17:54:58Z" (UTC); "-" for nil.
function M.time(t)
   if t == nil then return "-" end
   return utc(t, " ")
end

--- Unix seconds as RFC 3339 UTC ("2026-11-23T17:54:58Z").
function M.rfc3339(t)
   return utc(t, "T")
end

--- A count and its noun: "1 cluster", "2 clusters" (`plural` for
-- irregular nouns).
function M.plural(n, word, plural)
   return format("%d %s", n, n == 1 and word or (plural or word .. "s"))
end

return M
