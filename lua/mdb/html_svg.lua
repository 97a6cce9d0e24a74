--- The pictures of the HTML report: a cluster's timeline strip (inline
-- SVG), the fleet's coverage calendar (an HTML table, so it is its own
-- text equivalent), and the 90-day size line drawn from a history.
-- Everything from the API goes through `mdb.html_escape`.
--
-- A strip is 24 units per day (one unit an hour), 24 units high; its
-- geometry that never varies (mark sizes) lives in the page's CSS so a
-- mark costs about 30 bytes, which keeps a 10,000-cluster page small.
-- @module mdb.html_svg
local M = {}

local E = require "mdb.html_escape"
local fmt = require "mdb.fmt"
local timeline = require "mdb.timeline"

local format, concat, ipairs, type, tostring = string.format, table.concat, ipairs, type, tostring
local mtype, huge = math.type, math.huge

local DAY = 24

--- Mark classes: the state wins over the kind.
local MARK_CLASS = { automated = "a", manual = "m", untyped = "u" }
local STATE_CLASS = { progress = "p", failed = "f" }
M.MARK_CLASS, M.STATE_CLASS = MARK_CLASS, STATE_CLASS

local KIND_TEXT = { automated = "automated", manual = "manual", untyped = "backup" }

local DAY_TEXT = { missing = "no backup", progress = "only a backup in progress",
   failed = "only a failed backup", open = "today, no backup yet", absent = "before the cluster existed",
   expired = "before the oldest backup kept, beyond retention",
   unknown = "unknown: the backup listing failed" }
M.DAY_TEXT = DAY_TEXT

local function num(x)
   local s = format("%.1f", x)
   return (s:gsub("%.0$", ""))
end

--- The shared definitions every strip uses (`<use href="#g">` draws the
-- day grid), once per page: a hidden SVG.
function M.defs(days)
   local d = {}
   for i = 1, days - 1 do d[i] = format("M%d 0v24", i * DAY) end
   return format('<svg class="defs" aria-hidden="true" width="0" height="0"><defs>'
      .. '<path id="g" class="grid" d="%s"/></defs></svg>', concat(d))
end

local function mark_title(m)
   local b = m.backup
   local parts = { fmt.time(m.t), KIND_TEXT[m.kind] }
   if m.state == "progress" then parts[#parts + 1] = "in progress"
   elseif m.state == "failed" then parts[#parts + 1] = "status " .. tostring(b.status) end
   local size = timeline.size_of(b)
   if size then parts[#parts + 1] = fmt.size(size) end
   if b.id ~= nil then parts[#parts + 1] = tostring(b.id) end
   return concat(parts, ", ")
end

--- A sentence that says what the strip shows (its text equivalent).  Of
-- a failed listing it says what was seen, and that the other days are
-- unknown, never that they had no backup.
function M.summary(t, w)
   local c = t.counts
   local seen = t.error and "seen " or ""
   local parts = { format("%d backup%s %sin the last %d days", #t.marks, #t.marks == 1 and "" or "s", seen,
      w.days) }
   if c.automated + c.manual > 0 then
      parts[#parts + 1] = format("%d automated, %d manual", c.automated, c.manual)
   end
   if c.progress > 0 then parts[#parts + 1] = format("%d in progress", c.progress) end
   if c.failed > 0 then parts[#parts + 1] = format("%d failed", c.failed) end
   local missing = timeline.missing_dates(t)
   if c.unknown > 0 then
      parts[#parts + 1] = format("%d day%s unknown (the listing failed)", c.unknown, c.unknown == 1 and "" or "s")
   end
   if #missing == 0 then
      if not t.error then parts[#parts + 1] = "no day without a backup" end
   elseif #missing <= 5 then
      parts[#parts + 1] = format("%d day%s without a backup: %s", #missing, #missing == 1 and "" or "s",
         concat(missing, ", "))
   else
      parts[#parts + 1] = format("%d days without a backup", #missing)
   end
   if t.newest then
      parts[#parts + 1] = format("newest %s%s ago (%s)", seen, fmt.age(t.age), fmt.time(t.newest.created))
   else
      parts[#parts + 1] = t.error and "no completed backup seen" or "no completed backup"
   end
   if t.error then parts[#parts + 1] = "listing failed: " .. t.error end
   return concat(parts, "; ")
end

--- A cluster's timeline strip as inline SVG.
-- @param t the model from `timeline.cluster`
-- @param w the window
-- @param opts `{id = unique element id, titles = bool (a title per mark),
--   vanished = { {id=, created=, gone=}, ... } (from a history)}`
function M.strip(t, w, opts)
   local width = w.days * DAY
   local out = { format('<svg class="tl" viewBox="0 0 %d 24" preserveAspectRatio="none" role="img" '
      .. 'aria-labelledby="%s"><title id="%s">%s</title>', width, opts.id, opts.id, E.text(M.summary(t, w))) }
   for i, d in ipairs(t.days) do
      if d.state ~= "backup" then
         out[#out + 1] = format('<rect class="d %s" x="%d"><title>%s: %s</title></rect>', d.state,
            (i - 1) * DAY, d.date, DAY_TEXT[d.state])
      end
   end
   out[#out + 1] = '<use href="#g"/>'
   if t.newest and t.newest.created >= w.start then
      local x = timeline.position(w, t.newest.created)
      if x then
         out[#out + 1] = format('<path class="age" d="M%s 23H%d"><title>newest backup %s ago</title></path>',
            num(x * DAY), width, E.text(fmt.age(t.age)))
      end
   end
   for _, v in ipairs(opts.vanished or {}) do
      local x = mtype(v.created) and timeline.position(w, v.created)
      if x then
         out[#out + 1] = format('<rect class="vx %s" x="%s"><title>%s</title></rect>',
            v.verdict == "expected" and "e" or "u", num(x * DAY - 1.5), E.text(M.vanished_text(v)))
      end
   end
   local titles = opts.titles
   for _, m in ipairs(t.marks) do
      local cls = STATE_CLASS[m.state] or MARK_CLASS[m.kind]
      if titles then
         out[#out + 1] = format('<rect class="mk %s" x="%s"><title>%s</title></rect>', cls, num(m.x * DAY),
            E.text(mark_title(m)))
      else
         out[#out + 1] = format('<rect class="mk %s" x="%s"/>', cls, num(m.x * DAY))
      end
   end
   out[#out + 1] = "</svg>"
   return concat(out)
end

--- What a vanished backup's mark says: which, made when, gone by when,
-- and changes.lua's verdict on it.
function M.vanished_text(v)
   return format("vanished: %s, created %s%s; %s%s", tostring(v.id),
      mtype(v.created) and fmt.time(v.created) or "-", mtype(v.gone) and (", gone by " .. fmt.time(v.gone)) or "",
      tostring(v.verdict or "unexpected"), v.message and (": " .. tostring(v.message)) or "")
end

--- The axis above the strips: the first day, month starts, and today.
function M.axis(w)
   local width = w.days * DAY
   local out = { format('<svg class="ax" viewBox="0 0 %d 12" preserveAspectRatio="none" aria-hidden="true">', width) }
   for i, d in ipairs(w.day) do
      if i == w.days then
         out[#out + 1] = format('<text x="%d" y="10" text-anchor="end">today</text>', w.days * DAY - 1)
      elseif (i == 1 or d.d == 1 or (w.days <= 31 and (i - 1) % 7 == 0)) and i < w.days - 2 then
         out[#out + 1] = format('<text x="%d" y="10">%s</text>', (i - 1) * DAY + 1, d.date:sub(6))
      end
   end
   out[#out + 1] = "</svg>"
   return concat(out)
end

-- Calendar cells: class and text (the text is what a screen reader reads
-- and what a black-and-white print shows).
local CELL = {
   backup = "<td>\226\156\147",                           -- ✓ (the default style)
   missing = '<td class="missing">\226\156\151',          -- ✗
   progress = '<td class="progress">\226\151\144',        -- ◐
   failed = '<td class="failed">!',
   open = '<td class="open">\194\183',                    -- ·
   absent = '<td class="absent">',
   expired = '<td class="expired">',
   unknown = '<td class="unknown">?',                     -- the listing failed
}
M.CELL_TEXT = { backup = "\226\156\147", missing = "\226\156\151", progress = "\226\151\144", failed = "!",
   open = "\194\183", absent = "", expired = "", unknown = "?" }

--- The header row of the coverage calendar.
function M.calendar_head(w)
   local out = { '<thead><tr><th scope="col">Cluster</th>' }
   for i, d in ipairs(w.day) do
      out[#out + 1] = format('<th scope="col" title="%s">%s</th>', d.date,
         (i == 1 or d.d == 1) and format("%d/%d", d.m, d.d) or tostring(d.d))
   end
   out[#out + 1] = "</tr></thead>"
   return concat(out)
end

--- One calendar row: the cluster (a link to its section) and a cell per
-- day; `status` (the cluster's) is what the page's status filter reads.
function M.calendar_row(t, label_html, anchor, status)
   local out = { format('<tr class="fi"%s><th scope="row"><a href="#%s">%s</a></th>',
      E.attribute("data-status", status), anchor, label_html) }
   for _, d in ipairs(t.days) do out[#out + 1] = CELL[d.state] end
   out[#out + 1] = "</tr>"
   return concat(out)
end

--- The total size of a cluster's backups over time (from a history):
-- `points` are `{t=, bytes=}`; nil when there are fewer than two.
function M.size_line(points, now, days, id)
   local pts = {}
   for _, p in ipairs(points or {}) do
      if type(p) == "table" and mtype(p.t) and mtype(p.bytes) and p.t <= now and p.t >= now - days * 86400 then
         pts[#pts + 1] = p
      end
   end
   if #pts < 2 then return nil end
   table.sort(pts, function(a, b) return a.t < b.t end)
   local lo, hi = huge, -huge
   for _, p in ipairs(pts) do
      if p.bytes < lo then lo = p.bytes end
      if p.bytes > hi then hi = p.bytes end
   end
   -- Across the days the history covers (a line squeezed into the right
   -- edge of 90 days says nothing), from zero up: a fall shows its size.
   local x0 = pts[1].t
   local span = now > x0 and now - x0 or 1
   local width = days * 10
   local d = {}
   for i, p in ipairs(pts) do
      local x = (p.t - x0) / span * width
      local y = hi > 0 and (38 - p.bytes / hi * 34) or 38
      d[i] = (i == 1 and "M" or "L") .. num(x) .. " " .. num(y)
   end
   local line = concat(d)
   local area = line .. format("L%s 40L0 40Z", num((pts[#pts].t - x0) / span * width))
   local text = format("Total size of backups over %d days: %s on %s, %s on %s (lowest %s, highest %s)",
      days, fmt.size(pts[1].bytes), fmt.time(pts[1].t):sub(1, 10), fmt.size(pts[#pts].bytes),
      fmt.time(pts[#pts].t):sub(1, 10), fmt.size(lo), fmt.size(hi))
   return format('<svg class="hs" viewBox="0 0 %d 40" preserveAspectRatio="none" role="img" '
      .. 'aria-labelledby="%s"><title id="%s">%s</title><path class="area" d="%s"/><path d="%s"/></svg>', width, id,
      id, E.text(text), area, line), text
end

return M
