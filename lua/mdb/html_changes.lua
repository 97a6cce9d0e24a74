--- The HTML page of changes.lua: what changed between two recorded scans,
-- built from the HTML report's blocks (`mdb.html`: the same head, CSP,
-- style, script, light/dark and print).  A header with the two scans and
-- the changes counted by verdict; every change in one table, unexpected
-- first, then expected, then info; then per cluster its changes.
--
--   local page = require("mdb.html_changes").page(list, { from = scan_row, to = scan_row })
--
-- `list` is what `mdb.history_changes.between` returns.  Every string from
-- the history (names, ids, messages) goes through `mdb.html_escape`.
-- @module mdb.html_changes
local M = {}

local html = require "mdb.html"
local E = require "mdb.html_escape"
local fmt = require "mdb.fmt"

local format, concat, ipairs, tostring, type = string.format, table.concat, ipairs, tostring, type
local text, attr = E.text, E.attr

--- Verdicts from worst to best: the page's order.
M.VERDICTS = { "unexpected", "expected", "info" }
local RANK = { unexpected = 3, expected = 2, info = 1 }

local function rank(v) return RANK[v] or 3 end   -- an unknown verdict sorts as the worst

local function chip(v)
   return format('<span class="st %s">%s</span>', RANK[v] and v or "unexpected", text(v))
end

local function scan_text(s)
   if type(s) ~= "table" then return "?" end
   return format("scan %s (%s)", text(s.id), text(s.time_text))
end

-- What a change says beyond its message: when the backup was made, how
-- big, when it was last seen.
local function details(c)
   local d = {}
   if c.type ~= nil then d[#d + 1] = text(tostring(c.type):lower()) end
   if c.created ~= nil then d[#d + 1] = "created " .. text(c.created) end
   if math.type(c.size) then d[#d + 1] = text(fmt.size(c.size)) end
   if c.last_seen ~= nil then d[#d + 1] = "last seen " .. text(c.last_seen) end
   if c.scan ~= nil then d[#d + 1] = "scan " .. text(c.scan) end
   return concat(d, ", ")
end

local function cluster_key(c)
   return tostring(c.engine) .. "/" .. tostring(c.cluster)
end

--- The page.
-- @param list change records (`history_changes.between`)
-- @param opts `{from = scan row, to = scan row, title = string}`
-- @return the page as a string
function M.page(list, opts)
   if type(list) ~= "table" then error("bad argument #1 to 'page' (table expected)", 2) end
   opts = opts or {}
   local from, to = opts.from, opts.to
   local now = (type(to) == "table" and math.type(to.time) and math.floor(to.time)) or os.time()
   local title = opts.title or "Backup changes"

   -- Worst first, stable within a verdict.
   local sorted = {}
   for i, c in ipairs(list) do sorted[i] = { c = c, i = i } end
   table.sort(sorted, function(a, b)
      local ra, rb = rank(a.c.verdict), rank(b.c.verdict)
      if ra ~= rb then return ra > rb end
      return a.i < b.i
   end)
   -- Clusters, the worst first, each with its changes in the same order.
   local clusters, by_key = {}, {}
   for _, s in ipairs(sorted) do
      local k = cluster_key(s.c)
      local cl = by_key[k]
      if not cl then
         cl = { key = k, engine = s.c.engine, id = s.c.cluster, name = s.c.cluster_name, changes = {},
            verdict = s.c.verdict, anchor = "c-" .. (#clusters + 1) }
         by_key[k] = cl
         clusters[#clusters + 1] = cl
      end
      cl.name = cl.name or s.c.cluster_name
      cl.changes[#cl.changes + 1] = s.c
   end

   local counts = { unexpected = 0, expected = 0, info = 0 }
   for _, c in ipairs(list) do
      local v = RANK[c.verdict] and c.verdict or "unexpected"
      counts[v] = counts[v] + 1
   end

   local o = { html.head(title, now) }
   local scope = {}
   if type(to) == "table" then
      if to.folder ~= nil then scope[#scope + 1] = format("<dt>Folder</dt><dd>%s</dd>", text(to.folder)) end
      if type(to.engines) == "table" then
         scope[#scope + 1] = format("<dt>Engines</dt><dd>%s</dd>", text(concat(to.engines, ", ")))
      end
   end
   o[#o + 1] = format('<header><h1>%s</h1><dl><dt>From</dt><dd>%s</dd><dt>To</dt><dd>%s</dd>%s</dl>',
      text(title), scan_text(from), scan_text(to), concat(scope))
   local items = {}
   for _, v in ipairs(M.VERDICTS) do
      items[#items + 1] = format('<li data-count="%s" data-n="%d">%s %s</li>', v, counts[v], chip(v),
         html.plural(counts[v], "change"))
   end
   o[#o + 1] = '<ul class="counts" aria-label="Changes by verdict">' .. concat(items) .. "</ul>"
   o[#o + 1] = format('<p id="summary">%s in %s (%d unexpected, %d expected, %d info); %s to %s.</p>',
      html.plural(#list, "change"), html.plural(#clusters, "cluster"), counts.unexpected, counts.expected,
      counts.info, scan_text(from), scan_text(to))
   o[#o + 1] = '<div id="filter-slot" data-statuses="unexpected expected info"></div></header>\n<main>'

   o[#o + 1] = '<h2 id="changes-h">Changes, unexpected first</h2>'
   if #list == 0 then
      o[#o + 1] = "<p>Nothing changed between the two scans.</p>"
   else
      local rows = {}
      for _, s in ipairs(sorted) do
         local c = s.c
         local cl = by_key[cluster_key(c)]
         rows[#rows + 1] = format('<tr class="fi" data-status="%s" data-kind="%s" data-cluster="%s" data-backup="%s">'
            .. '<td data-sort="%d">%s</td><td>%s</td><td>%s</td><td><a href="#%s">%s</a></td><td><code>%s</code></td>'
            .. '<td class="nw">%s</td><td>%s%s</td></tr>',
            attr(c.verdict), attr(c.kind), attr(c.cluster), attr(c.backup_id), 4 - rank(c.verdict), chip(c.verdict),
            text(c.kind), text(c.engine), cl.anchor, text(c.cluster_name or c.cluster), text(c.backup_id or "—"),
            text(c.time or "—"), text(c.message), (function()
               local d = details(c)
               return d ~= "" and ' <small>(' .. d .. ")</small>" or ""
            end)())
      end
      o[#o + 1] = '<div class="wide"><table class="findings sortable" id="changes"><caption class="sr">Changes, '
         .. 'unexpected first</caption><thead><tr><th scope="col">Verdict</th><th scope="col">Kind</th>'
         .. '<th scope="col">Engine</th><th scope="col">Cluster</th><th scope="col">Backup</th>'
         .. '<th scope="col">When</th><th scope="col">Message</th></tr></thead><tbody>'
         .. concat(rows, "\n") .. "</tbody></table></div>"

      o[#o + 1] = '<h2 id="clusters-h">Per cluster</h2>'
      for _, cl in ipairs(clusters) do
         local li = {}
         for _, c in ipairs(cl.changes) do
            li[#li + 1] = format('<li data-status="%s">%s <strong>%s</strong>%s: %s</li>', attr(c.verdict),
               chip(c.verdict), text(c.kind), c.backup_id ~= nil and (" <code>" .. text(c.backup_id) .. "</code>")
                  or "", text(c.message))
         end
         local v = RANK[cl.verdict] and cl.verdict or "unexpected"
         o[#o + 1] = format('<section class="cl fi %s" id="%s" data-cluster="%s" data-engine="%s" data-status="%s" '
            .. 'data-changes="%d"><h3>%s %s <small>%s · <code>%s</code></small></h3><ul class="fl">%s</ul></section>',
            v, cl.anchor, attr(cl.id), attr(cl.engine), attr(cl.verdict), #cl.changes, chip(cl.verdict),
            text(cl.name or cl.id), text(cl.engine), text(cl.id), concat(li))
      end
   end
   o[#o + 1] = html.foot(format("Written by mdblua from the history of %s and %s. Times are UTC.", scan_text(from),
      scan_text(to)))
   return concat(o, "\n")
end

return M
