--- The HTML report: one self-contained HTML5 file people look at rather
-- than read.  A header (time, scope, counts by status), the findings
-- worst first, a coverage calendar of the fleet (clusters × days) and, per
-- cluster, a timeline strip of the last N days with every backup a mark.
--
--   local html = require "mdb.html"
--   local page = html.audit(findings, results, { now = now, scope = { folder = folder } })
--   local page = html.inventory(results, { now = now })
--   local page = html.page { title = ..., results = ..., findings = ... }   -- any report
--
-- The file makes no request of any kind: its CSS and its small script are
-- inline and allowed by hash in a Content-Security-Policy that forbids
-- everything else.  It reads the same with scripting off (the script only
-- adds sorting and a filter box), prints, and follows the reader's light or
-- dark preference.  Every string from the API or a policy is escaped for
-- where it goes (`mdb.html_escape`).
--
-- Big fleets: clusters whose every finding is ok (inventory: no missing day
-- and no error) fold into a closed <details> once there are more than
-- `collapse` of them (default 50), and marks lose their own tooltip when
-- the page would carry more than `mark_titles` of them (default 20,000): a
-- 10,000-cluster page stays within about 20 MB.
--
-- History (optional, `opts.history`, what `mdb.history_lives.recent`
-- reads): keyed by "engine/cluster id", each `{ sizes = { {t=, bytes=},
-- ... }, vanished = { {id=, created=, gone=, verdict=, message=}, ... } }`;
-- the page then draws each cluster's total size over 90 days and marks
-- backups that vanished, by verdict.  changes.lua's page is
-- `mdb.html_changes`, built from `M.head`, `M.foot` and the same assets.
-- @module mdb.html
local M = {}

local E = require "mdb.html_escape"
local svg = require "mdb.html_svg"
local assets = require "mdb.html_assets"
local sha256 = require "mdb.sha256"
local timeline = require "mdb.timeline"
local fmt = require "mdb.fmt"

local format, concat, ipairs, pairs, type, tostring = string.format, table.concat, ipairs, pairs, type, tostring
local sort, mtype = table.sort, math.type
local text, attr = E.text, E.attr

local statuses = require "mdb.status"
local RANK = statuses.RANK
local STATUSES = { "error", "critical", "warning", "ok" }

local CSP
--- The page's Content-Security-Policy: nothing but its own style and script.
function M.csp()
   if not CSP then
      CSP = format("default-src 'none'; style-src %s; script-src %s; img-src 'none'; font-src 'none'; "
         .. "connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; "
         .. "form-action 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
         sha256.csp_source(assets.CSS), sha256.csp_source(assets.JS))
   end
   return CSP
end

--- The start of every page: the head (charset, then the CSP before
-- anything else, the style) and the opening body tag.  `title` is escaped.
function M.head(title, now)
   return format('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
      .. '<meta http-equiv="Content-Security-Policy" content="%s">\n'
      .. '<meta name="referrer" content="no-referrer"><meta name="color-scheme" content="light dark">'
      .. '<meta name="viewport" content="width=device-width,initial-scale=1">'
      .. "<meta name=\"generator\" content=\"mdblua\">\n<title>%s — %s</title>\n<style>%s</style></head>\n<body>",
      attr(M.csp()), text(title), fmt.time(now), assets.CSS)
end

--- The end of every page: closes <main>, a footer line (HTML, already
-- escaped), the page's one script.
function M.foot(note_html)
   return format('</main>\n<footer><p class="mute">%s</p></footer>\n<script>%s</script>\n</body></html>\n',
      note_html, assets.JS)
end

-- 12345 as "12,345": counts of big fleets read at a glance.
local function group(n)
   local s = format("%d", n)
   local head, digits = s:match("^(%-?)(%d+)$")
   digits = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
   return head .. digits
end

local function plural(n, word, words)
   return format("%s %s", group(n), n == 1 and word or (words or word .. "s"))
end

local function label_of(entry)
   local c = entry.cluster
   if type(c) == "table" and type(c.name) == "string" and c.name ~= "" then return c.name end
   return tostring(entry.id or (type(c) == "table" and c.id) or "-")
end

local function id_of(entry)
   local id = entry.id
   if id == nil and type(entry.cluster) == "table" then id = entry.cluster.id end
   return id
end

local function key(engine, id)
   return tostring(engine) .. "/" .. tostring(id)
end

local OPTS = { title = true, now = true, days = true, zone = true, results = true, findings = true,
   scope = true, history = true, all = true, collapse = true, mark_titles = true, kind = true, folders = true }

-- " · folder F" after a cluster's engine when the page spans several
-- folders (opts.folders): same-named clusters of two folders stay apart.
local function folder_note(folders, folder, html_code)
   if not folders or folder == nil then return "" end
   return html_code and format(" · folder <code>%s</code>", text(folder)) or (" · " .. text(folder))
end

local function check_opts(opts, fname)
   if type(opts) ~= "table" then
      error(format("bad argument to '%s' (table expected, got %s)", fname, type(opts)), 3)
   end
   for k in pairs(opts) do
      if not OPTS[k] then error(format("bad argument to '%s' (unknown option '%s')", fname, tostring(k)), 3) end
   end
   if opts.now ~= nil and mtype(opts.now) == nil then
      error(format("bad argument to '%s' (option 'now' must be a number)", fname), 3)
   end
   if type(opts.results) ~= "table" then
      error(format("bad argument to '%s' (option 'results' must be the array client:scan returns)", fname), 3)
   end
end

-- What a header shows about the scope, in this order.
local SCOPE = { { "folder", "Folder" }, { "engines", "Engines" }, { "policy", "Policy" } }

local function scope_rows(scope, w)
   local out = {}
   for _, s in ipairs(SCOPE) do
      local v = scope and scope[s[1]]
      if type(v) == "table" then v = concat(v, ", ") end
      if v ~= nil then out[#out + 1] = format("<dt>%s</dt><dd>%s</dd>", s[2], text(v)) end
   end
   out[#out + 1] = format("<dt>Window</dt><dd>%d days, %s to %s (%s)</dd>", w.days, w.day[1].date,
      w.day[w.days].date, text(w.zone.name))
   return concat(out)
end

local function status_chip(s)
   return format('<span class="st %s">%s</span>', s, s)
end
M.group, M.plural, M.chip = group, plural, status_chip

local worst_first = statuses.worst_first

local function legend(history, unknown)
   local function sample(body)
      return '<svg viewBox="0 0 6 24" aria-hidden="true" preserveAspectRatio="none">' .. body .. "</svg>"
   end
   return '<ul class="legend">'
      .. "<li>" .. sample('<rect class="mk a" x="2.5"/>') .. " automated backup</li>"
      .. "<li>" .. sample('<rect class="mk m" x="2"/>') .. " manual backup</li>"
      .. "<li>" .. sample('<rect class="mk p" x="2"/>') .. " in progress</li>"
      .. "<li>" .. sample('<rect class="mk f" x="2"/>') .. " failed</li>"
      .. "<li>" .. sample('<rect class="d missing" x="0"/>') .. " day without a backup</li>"
      .. "<li>" .. sample('<rect class="d open" x="0"/>') .. " today, none yet</li>"
      .. (unknown and ("<li>" .. sample('<rect class="d unknown" x="0"/>')
         .. " unknown: the cluster's backup listing failed</li>") or "")
      .. "<li>" .. sample('<rect class="d expired" x="0"/>') .. " no record: before the cluster existed "
      .. "or the oldest backup kept (beyond retention)</li>"
      .. "<li>" .. sample('<path class="age" d="M0 12H6"/>') .. " age of the newest backup</li>"
      .. (history and ("<li>" .. sample('<rect class="vx u" x="0.5"/>') .. " vanished unexpectedly</li>"
         .. "<li>" .. sample('<rect class="vx e" x="0.5"/>') .. " vanished as expected (retention)</li>") or "")
      .. "</ul>"
end

local function backups_table(t)
   if #t.marks == 0 then return "" end
   local rows = {}
   for i = #t.marks, 1, -1 do
      local m = t.marks[i]
      local b = m.backup
      rows[#rows + 1] = format("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td><code>%s</code></td></tr>",
         fmt.time(m.t), text(b.type or "-"), text(m.state == "done" and "done" or (b.status or m.state)),
         fmt.size(timeline.size_of(b)), text(b.id))
   end
   return format('<details><summary>%s in the window (table)</summary><table class="bk"><thead><tr>'
      .. '<th scope="col">Created</th><th scope="col">Type</th><th scope="col">Status</th>'
      .. '<th scope="col">Size</th><th scope="col">Id</th></tr></thead><tbody>%s</tbody></table></details>',
      plural(#t.marks, "backup"), concat(rows))
end

local function cluster_section(c, w, opts, i, expanded)
   local e, t = c.entry, c.t
   local hist = opts.history and opts.history[c.key]
   local out = { format('<section class="cl fi %s" id="c-%d" data-cluster="%s" data-engine="%s" '
      .. 'data-status="%s" data-backups="%d"><h3>%s %s <small>%s · <code>%s</code>%s</small></h3>',
      c.status, i, attr(c.id), attr(e.engine), c.status, #t.marks, status_chip(c.status), text(c.label),
      text(e.engine), text(c.id), folder_note(opts.folders, e.folder, true)) }
   -- Of a failed listing: what it returned, and the other days unknown,
   -- never "without a backup" (mdb.timeline).
   local seen = t.error and " seen" or ""
   local facts = { plural(#t.marks, "backup") .. format("%s in %d days", seen, w.days) }
   local cnt = t.counts
   if cnt.automated + cnt.manual > 0 then
      facts[#facts + 1] = format("%d automated, %d manual", cnt.automated, cnt.manual)
   end
   if cnt.progress > 0 then facts[#facts + 1] = format("<strong>%d in progress</strong>", cnt.progress) end
   if cnt.failed > 0 then facts[#facts + 1] = format("<strong>%d failed</strong>", cnt.failed) end
   if cnt.unknown > 0 then
      facts[#facts + 1] = format("<strong>%s unknown</strong> (the listing failed)", plural(cnt.unknown, "day"))
   end
   if cnt.missing > 0 then
      facts[#facts + 1] = format("<strong>%s without a backup</strong>", plural(cnt.missing, "day"))
   elseif not t.error then
      facts[#facts + 1] = "no day without a backup"
   end
   if t.newest then
      facts[#facts + 1] = format('newest%s <strong class="age-text">%s</strong> ago (%s)', seen,
         text(fmt.age(t.age)), fmt.time(t.newest.created))
   else
      facts[#facts + 1] = format("<strong>no completed backup%s</strong>", seen)
   end
   out[#out + 1] = '<p class="facts">' .. concat(facts, " · ") .. "</p>"
   if t.error then
      out[#out + 1] = format('<p class="facts"><strong>Listing failed:</strong> %s</p>', text(t.error))
   end
   out[#out + 1] = svg.strip(t, w, { id = "s-" .. i, titles = opts.titles_all or expanded,
      vanished = hist and hist.vanished })
   if hist then
      local line, line_text = svg.size_line(hist.sizes, w.now, 90, "h-" .. i)
      if line then
         out[#out + 1] = format('<figure class="hs">%s<figcaption>%s</figcaption></figure>', line, text(line_text))
      elseif type(hist.sizes) == "table" and #hist.sizes == 1 and mtype(hist.sizes[1].bytes) then
         local p = hist.sizes[1]
         out[#out + 1] = format('<p class="facts hs-text">Total size of backups: %s on %s '
            .. "(one day of history so far)</p>",
            text(fmt.size(p.bytes)), mtype(p.t) and fmt.time(p.t):sub(1, 10) or "-")
      end
      if type(hist.vanished) == "table" and #hist.vanished > 0 then
         local items, open = {}, ""
         for _, v in ipairs(hist.vanished) do
            local verdict = v.verdict == "expected" and "expected" or "unexpected"
            if verdict == "unexpected" then open = " open" end
            items[#items + 1] = format('<li class="vanished" data-verdict="%s">%s <code>%s</code> created %s%s%s</li>',
               verdict, status_chip(verdict), text(v.id), mtype(v.created) and fmt.time(v.created) or "-",
               mtype(v.gone) and (", gone by " .. fmt.time(v.gone)) or "",
               v.message and (": " .. text(v.message)) or "")
         end
         out[#out + 1] = format('<details class="vl"%s><summary>%s vanished in 90 days</summary><ul class="fl">%s</ul>'
            .. "</details>", open, plural(#hist.vanished, "backup"), concat(items))
      end
   end
   local bad = {}
   for _, f in ipairs(c.findings) do
      if f.status ~= "ok" then
         bad[#bad + 1] = format('<li data-status="%s">%s <strong>%s</strong>: %s</li>', f.status,
            status_chip(f.status), text(f.check), text(f.message))
      end
   end
   if #bad > 0 then out[#out + 1] = '<ul class="fl">' .. concat(bad) .. "</ul>" end
   if expanded then out[#out + 1] = backups_table(t) end
   out[#out + 1] = "</section>"
   return concat(out)
end

--- A page for any report.
-- @param opts `{ title = string, now = Unix seconds, days = N (default 30),
--   zone = mdb.tz zone (days; default UTC), results = scan results,
--   findings = audit findings or nil, scope = {folder=, engines=, policy=},
--   history = see the module, all = bool (list ok findings too),
--   collapse = N (default 50), mark_titles = N (default 20000),
--   kind = "audit"|"inventory" }`
-- @return the page as a string
function M.page(opts)
   check_opts(opts, "page")
   local now = opts.now or os.time()
   local w = timeline.window(now, opts.days or 30, opts.zone)
   local findings = opts.findings
   local by_key = {}
   if findings then
      for _, f in ipairs(findings) do
         if f.cluster ~= nil then
            local k = key(f.engine, f.cluster)
            by_key[k] = by_key[k] or {}
            local list = by_key[k]
            list[#list + 1] = f
         end
      end
   end

   -- Clusters with their model and status; failed Cluster.List entries apart.
   local clusters, failed_lists, marks_total, unknown = {}, {}, 0, false
   for _, e in ipairs(opts.results) do
      local id = id_of(e)
      if id == nil then
         failed_lists[#failed_lists + 1] = e
      else
         local t = timeline.cluster(e, w)
         local k = key(e.engine, id)
         local c = { entry = e, t = t, id = id, key = k, label = label_of(e), findings = by_key[k] or {},
            order = #clusters + 1 }
         local status = "ok"
         if findings then
            for _, f in ipairs(c.findings) do
               if (RANK[f.status] or 3) > RANK[status] then status = f.status end
            end
            if e.error ~= nil then status = "error" end
         elseif e.error ~= nil then
            status = "error"
         elseif t.counts.missing > 0 or not t.newest then
            status = "warning"
         end
         c.status = status
         marks_total = marks_total + #t.marks
         if t.counts.unknown > 0 then unknown = true end
         clusters[#clusters + 1] = c
      end
   end
   sort(clusters, function(a, b)
      if a.status ~= b.status then return RANK[a.status] > RANK[b.status] end
      return a.order < b.order
   end)
   local healthy, problems = {}, {}
   for _, c in ipairs(clusters) do
      if c.status == "ok" then healthy[#healthy + 1] = c else problems[#problems + 1] = c end
   end
   local collapse = #healthy > (opts.collapse or 50)
   local page_opts = { history = opts.history, titles_all = marks_total <= (opts.mark_titles or 20000),
      folders = opts.folders }

   local title = opts.title or (findings and "Backup audit" or "Backup inventory")
   local o = {}
   o[#o + 1] = M.head(title, now)

   -- Header: time, scope, counts.
   o[#o + 1] = format('<header><h1>%s</h1><dl><dt>Generated</dt><dd><time datetime="%s">%s</time></dd>%s</dl>',
      text(title), fmt.rfc3339(now), fmt.time(now), scope_rows(opts.scope, w))
   local by_status = { ok = 0, warning = 0, critical = 0, error = 0 }
   for _, c in ipairs(clusters) do by_status[c.status] = by_status[c.status] + 1 end
   local items = {}
   if not findings then
      for _, s in ipairs(STATUSES) do
         if by_status[s] > 0 then
            items[#items + 1] = format('<li data-clusters="%s" data-n="%d">%s %s</li>', s, by_status[s],
               status_chip(s), plural(by_status[s], "cluster"))
         end
      end
   else
      local fs = { ok = 0, warning = 0, critical = 0, error = 0 }
      for _, f in ipairs(findings) do fs[f.status] = (fs[f.status] or 0) + 1 end
      for _, s in ipairs(STATUSES) do
         items[#items + 1] = format('<li data-count="%s" data-n="%d">%s %s</li>', s, fs[s], status_chip(s),
            plural(fs[s], "finding"))
      end
   end
   o[#o + 1] = '<ul class="counts" aria-label="Counts by status">' .. concat(items) .. "</ul>"
   local backups_n, progress_n = 0, 0
   for _, c in ipairs(clusters) do
      backups_n = backups_n + #c.t.marks
      progress_n = progress_n + c.t.counts.progress
   end
   local cl = {}
   for _, s in ipairs(STATUSES) do
      if by_status[s] > 0 then cl[#cl + 1] = format("%s %s", group(by_status[s]), s) end
   end
   o[#o + 1] = format('<p id="summary">%s (%s); %s in the last %d days%s%s.</p>',
      plural(#clusters, "cluster"), #cl > 0 and concat(cl, ", ") or "none", plural(backups_n, "backup"), w.days,
      progress_n > 0 and format(", %s in progress", group(progress_n)) or "",
      #failed_lists > 0 and format("; <strong>%s failed</strong>", plural(#failed_lists, "listing")) or "")
   o[#o + 1] = '<div id="filter-slot" data-statuses="error critical warning ok"></div></header>\n<main>'

   -- Failed listings: of clusters, or of folders or clouds (Resource Manager).
   if #failed_lists > 0 then
      local li = {}
      for _, e in ipairs(failed_lists) do
         li[#li + 1] = format('<li class="fi" data-status="error">%s listing %s failed: %s</li>',
            status_chip("error"),
            text(e.listing or (tostring(e.engine) .. " clusters"
               .. (opts.folders and e.folder and (" in folder " .. e.folder) or ""))), text(e.error))
      end
      o[#o + 1] = '<h2 id="failed">Failed listings</h2><ul class="fl">' .. concat(li) .. "</ul>"
   end

   -- Findings, worst first.
   if findings then
      local list = worst_first(findings, opts.all)
      local anchor = {}
      for i, c in ipairs(clusters) do anchor[c.key] = "c-" .. i end
      o[#o + 1] = format('<h2 id="findings-h">Findings%s</h2>', opts.all and "" or " that need attention")
      if #list == 0 then
         o[#o + 1] = '<p>Every check passed on every cluster.</p>'
      else
         local rows = {}
         for _, f in ipairs(list) do
            local cluster
            if f.cluster ~= nil then
               local a = anchor[key(f.engine, f.cluster)]
               local name = f.cluster_name or f.cluster
               cluster = a and format('<a href="#%s">%s</a>', a, text(name)) or text(name)
            else
               cluster = "—"
            end
            rows[#rows + 1] = format('<tr class="fi" data-status="%s" data-check="%s" data-cluster="%s">'
               .. '<td data-sort="%d">%s</td>%s<td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>', attr(f.status),
               attr(f.check), attr(f.cluster), RANK[f.status] or 3,
               status_chip(RANK[f.status] and f.status or "error"),
               opts.folders and ("<td>" .. text(f.folder or "—") .. "</td>") or "", text(f.engine), cluster,
               text(f.check), text(f.message))
         end
         o[#o + 1] = '<div class="wide"><table class="findings sortable" id="findings"><caption class="sr">Findings, '
            .. 'worst first</caption><thead><tr><th scope="col">Status</th>'
            .. (opts.folders and '<th scope="col">Folder</th>' or "") .. '<th scope="col">Engine</th>'
            .. '<th scope="col">Cluster</th><th scope="col">Check</th><th scope="col">Message</th></tr></thead><tbody>'
            .. concat(rows, "\n") .. "</tbody></table></div>"
      end
   end

   -- Coverage calendar.
   o[#o + 1] = format('<h2 id="calendar-h">Coverage: a backup every day</h2>')
   local head = svg.calendar_head(w)
   local caption = format('<caption class="sr">Coverage calendar, last %d days (%s): ✓ a backup, ✗ none, '
      .. '◐ only in progress, ! failed, · today with none yet, %sblank: no record</caption>', w.days,
      text(w.zone.name), unknown and "? unknown (the listing failed), " or "")
   local anchor_of = {}
   for i, c in ipairs(clusters) do anchor_of[c] = "c-" .. i end
   local function cal_rows(list)
      local r = {}
      for _, c in ipairs(list) do
         r[#r + 1] = svg.calendar_row(c.t, text(c.label) .. " <small>" .. text(c.entry.engine)
            .. folder_note(opts.folders, c.entry.folder) .. "</small>",
            anchor_of[c], c.status)
      end
      return concat(r, "\n")
   end
   if collapse then
      if #problems > 0 then
         o[#o + 1] = '<div class="wide"><table class="cal" id="calendar">' .. caption .. head .. "<tbody>"
            .. cal_rows(problems) .. "</tbody></table></div>"
      end
      o[#o + 1] = format('<details class="many"><summary>%s with every finding ok</summary><div class="wide">'
         .. '<table class="cal" id="calendar-ok">%s%s<tbody>%s</tbody></table></div></details>',
         plural(#healthy, "cluster"), caption, head, cal_rows(healthy))
   else
      o[#o + 1] = '<div class="wide"><table class="cal" id="calendar">' .. caption .. head .. "<tbody>"
         .. cal_rows(clusters) .. "</tbody></table></div>"
   end

   -- Per cluster.
   o[#o + 1] = format('<h2 id="clusters-h">Clusters: the last %d days</h2>', w.days)
      .. legend(opts.history ~= nil, unknown) .. svg.defs(w.days) .. svg.axis(w)
   for i, c in ipairs(clusters) do
      if collapse and c.status == "ok" and (i == 1 or clusters[i - 1].status ~= "ok") then
         o[#o + 1] = format('<details class="many"><summary>%s with every finding ok</summary>',
            plural(#healthy, "cluster"))
      end
      o[#o + 1] = cluster_section(c, w, page_opts, i, not (collapse and c.status == "ok"))
   end
   if collapse and #healthy > 0 then o[#o + 1] = "</details>" end
   if #clusters == 0 then o[#o + 1] = "<p>No cluster was found.</p>" end
   o[#o + 1] = M.foot(format("Written by mdblua at %s. Times are UTC; days are %s days.", fmt.time(now),
      text(w.zone.name)))
   return concat(o, "\n")
end

--- A script's list of formats with "html" added (for its `--format`).
function M.with_html(formats)
   local out = { table.unpack(formats) }
   out[#out + 1] = "html"
   return out
end

--- An audit's page: findings plus the scan results they came from.
function M.audit(findings, results, opts)
   opts = opts or {}
   local o = {}
   for k, v in pairs(opts) do o[k] = v end
   o.findings, o.results, o.kind = findings, results, "audit"
   if type(findings) ~= "table" then error("bad argument #1 to 'audit' (table expected)", 2) end
   return M.page(o)
end

--- An inventory's page: the scan results alone.
function M.inventory(results, opts)
   opts = opts or {}
   local o = {}
   for k, v in pairs(opts) do o[k] = v end
   o.results, o.kind = results, "inventory"
   return M.page(o)
end

return M
