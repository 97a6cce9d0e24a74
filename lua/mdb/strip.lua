--- Timeline strips for the terminal: one character per day of the last N
-- days (oldest left, today right), from the same model as the HTML report
-- (`mdb.timeline`).  Plain ASCII unless colour is asked for:
--
--   #  a completed backup that day      .  no backup
--   ~  only a backup in progress        x  only a failed backup
--   -  today, no backup yet             ?  unknown: the cluster's backup listing
--                                          failed and returned none that day
--   (blank) no record: before the cluster existed, or beyond its retention
--
-- A failed listing's days are never drawn as "no backup" (`.`): we do not
-- know (see `mdb.timeline`); the legend names `?` when a strip shows it.
--
-- With `color = true` the same days are drawn as coloured blocks (callers
-- decide: a terminal, no NO_COLOR, TERM not dumb).
-- @module mdb.strip
local M = {}

local timeline = require "mdb.timeline"
local fmt = require "mdb.fmt"
local aligned = require "mdb.aligned"

local format, concat, rep, type, ipairs, tostring = string.format, table.concat, string.rep, type, ipairs,
   tostring

M.PLAIN = { backup = "#", missing = ".", progress = "~", failed = "x", open = "-", absent = " ", expired = " ",
   unknown = "?" }
local RESET = "\27[0m"
M.COLOR = { backup = "\27[32m\226\150\136", missing = "\27[31m\226\150\145", progress = "\27[33m\226\150\146",
   failed = "\27[31mx", open = "\27[2m\194\183", absent = " ", expired = " ", unknown = "\27[35m?" }

M.LEGEND = "# backup  . no backup  ~ in progress  x failed  - today, none yet"
M.LEGEND_COLOR = concat({ M.COLOR.backup .. RESET .. " backup", M.COLOR.missing .. RESET .. " no backup",
   M.COLOR.progress .. RESET .. " in progress", M.COLOR.failed .. RESET .. " failed",
   M.COLOR.open .. RESET .. " today, none yet" }, "  ")
-- Added to the legend when a strip shows an unknown day.
M.LEGEND_UNKNOWN = "? unknown (listing failed)"
M.LEGEND_UNKNOWN_COLOR = M.COLOR.unknown .. RESET .. " unknown (listing failed)"

--- Whether a script's strips (and its tables' statuses: one rule for
-- every script) should be coloured: stdout is a terminal,
-- the report does not go to a file, NO_COLOR is unset or empty and TERM
-- is not "dumb".
function M.color_wanted(output)
   local no_color = os.getenv("NO_COLOR")
   return output == nil and (no_color == nil or no_color == "") and os.getenv("TERM") ~= "dumb"
      and require("mdb").isatty(io.stdout)
end

--- The strip of a cluster model (from `timeline.cluster`).
function M.line(t, color)
   local chars = color and M.COLOR or M.PLAIN
   local out = {}
   for i, d in ipairs(t.days) do out[i] = chars[d.state] end
   return concat(out) .. (color and RESET or "")
end

local function label(entry)
   local c = entry.cluster
   if type(c) == "table" and type(c.name) == "string" then return c.name end
   return tostring(entry.id or (type(c) == "table" and c.id) or "-")
end

local function after(t)
   if t.error then return "listing failed: " .. t.error end
   local parts = {}
   if t.newest then parts[1] = "newest " .. fmt.age(t.age) .. " ago" else parts[1] = "no completed backup" end
   if t.counts.missing > 0 then parts[#parts + 1] = format("%d missing", t.counts.missing) end
   if t.counts.progress > 0 then parts[#parts + 1] = format("%d in progress", t.counts.progress) end
   return concat(parts, ", ")
end

-- Terminal output must not carry the API's control characters.
local safe = aligned.safe

--- One row per cluster of scan results: engine, cluster, the strip, and
-- the newest backup's age (or the listing's error), then a legend.
-- @param results the array `client:scan` returns
-- @param opts `{now = Unix seconds, days = N (default 14), zone = mdb.tz zone, color = bool,
--   folders = bool (a FOLDER column first: the scan spans several folders)}`
function M.rows(results, opts)
   opts = opts or {}
   local w = timeline.window(opts.now or os.time(), opts.days or 14, opts.zone)
   local rows = { { "ENGINE", "CLUSTER", format("%d DAYS", w.days), "NEWEST" } }
   local unknown = false
   for _, e in ipairs(results) do
      local engine, name = safe(e.engine or "-"), safe(label(e))
      if e.id == nil and e.error ~= nil then
         rows[#rows + 1] = { engine, "(clusters)", rep(" ", w.days),
            "listing " .. (e.listing and safe(e.listing) .. " " or "") .. "failed: " .. safe(e.error) }
      else
         local t = timeline.cluster(e, w)
         if t.counts.unknown > 0 then unknown = true end
         rows[#rows + 1] = { engine, name, M.line(t, opts.color), safe(after(t)) }
      end
      if opts.folders then table.insert(rows[#rows], 1, safe(e.folder or "-")) end
   end
   if opts.folders then table.insert(rows[1], 1, "FOLDER") end
   local out = { aligned.render(rows, { coloured = true }) }   -- (cells made safe above)
   out[#out + 1] = format("%d days to %s (%s): %s%s", w.days, w.day[w.days].date, w.zone.name,
      opts.color and M.LEGEND_COLOR or M.LEGEND,
      unknown and "  " .. (opts.color and M.LEGEND_UNKNOWN_COLOR or M.LEGEND_UNKNOWN) or "")
   return concat(out, "\n") .. "\n"
end

--- The strip of a list of backups of one cluster (the prompt shows it
-- under a table of backups): `"last 14 days: ##.#...#  (legend)"`.
function M.of_backups(list, opts)
   opts = opts or {}
   local w = timeline.window(opts.now or os.time(), opts.days or 14, opts.zone)
   local t = timeline.cluster({ backups = list }, w)
   return format("last %d days: %s  (%s)", w.days, M.line(t, opts.color),
      opts.color and M.LEGEND_COLOR or M.LEGEND)
end

return M
