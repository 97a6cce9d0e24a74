--- Reports: audit findings, per-cluster inventories, retention plans and
-- backup lists in the formats people and machines read.
--
-- Formats: `table` (aligned, human sizes and ages, colour only when asked
-- for), `json`, `jsonl`, `csv` (RFC 4180), `markdown`, and for findings
-- also `junit`, `prometheus` (node_exporter textfile format) and `nagios`
-- (one status line).  Every renderer returns the whole text; `M.write`
-- puts it on stdout or into a file, atomically (temporary file + rename),
-- so a reader such as node_exporter never sees half a file.
--
-- Renderers raise on misuse (unknown format, wrong argument types);
-- `M.write` returns nil and a message when the file cannot be written.
-- @module mdb.report
local M = {}

local fmt = require "mdb.fmt"
local json = require "mdb.json"
local backup = require "mdb.backup"
local status = require "mdb.status"
local aligned = require "mdb.aligned"

local format, type, ipairs, pairs, tostring = string.format, type, ipairs, pairs, tostring
local concat, sort, floor = table.concat, table.sort, math.floor
local mtype = math.type

--- Formats each renderer accepts.
M.FORMATS = {
   findings = { "table", "json", "jsonl", "csv", "markdown", "junit", "prometheus", "nagios" },
   inventory = { "table", "json", "jsonl", "csv", "markdown", "prometheus" },
   plans = { "table", "json", "jsonl", "csv", "markdown" },
   backups = { "table", "json", "jsonl", "csv", "markdown" },
}

local RANK = status.RANK
local size_of, completed = backup.size_of, backup.completed

local function check_format(kind, f, fname)
   for _, name in ipairs(M.FORMATS[kind]) do
      if name == f then return end
   end
   error(format("bad argument #2 to '%s' (unknown format %s; use %s)", fname,
      type(f) == "string" and format("%q", f) or tostring(f), concat(M.FORMATS[kind], ", ")), 3)
end

local function check_table(v, n, fname)
   if type(v) ~= "table" then
      error(format("bad argument #%d to '%s' (table expected, got %s)", n, fname, type(v)), 3)
   end
end

-- Options tables: nil or a table with only the known keys; `now` a number.
local function check_opts(opts, n, fname, known)
   if opts == nil then return {} end
   check_table(opts, n, fname)
   for k in pairs(opts) do
      if not known[k] then
         error(format("bad argument #%d to '%s' (unknown option '%s')", n, fname, tostring(k)), 3)
      end
   end
   if opts.now ~= nil and mtype(opts.now) == nil then
      error(format("bad argument #%d to '%s' (option 'now' must be a number, got %s)", n, fname,
         type(opts.now)), 3)
   end
   return opts
end
local FINDINGS_OPTS = { color = true, all = true, now = true, results = true, rows = true, folders = true,
   title = true, max_problems = true }
local INVENTORY_OPTS = { color = true, now = true, folders = true }
local PLANS_OPTS = { color = true, policy_text = true, folders = true }
local BACKUPS_OPTS = { now = true }

local array = json.array

--- JSON writing lives in `mdb.json`; these names stay for callers.
M.number, M.json, M.object, M.ARRAY, M.null = json.number, json.encode, json.object, json.ARRAY, json.null

--- The records of rows, without what encloses them: csv lines without
-- the header, jsonl lines, or for json the objects joined by commas.
-- `obj(row)` makes the ordered object of one row, `keys` its columns.
-- Reports written a part at a time join these (M.findings_parts).
local function record_lines(fmt_name, rows, keys, obj)
   local out = {}
   for _, r in ipairs(rows) do
      local o = obj(r)
      if fmt_name == "csv" then
         local line = { n = #keys }
         for i, k in ipairs(keys) do line[i] = o[k] end
         out[#out + 1] = line
      else
         out[#out + 1] = M.json(o)
      end
   end
   if fmt_name == "csv" then return M.csv(out) end
   if fmt_name == "jsonl" then return concat(out, "\n") .. (#out > 0 and "\n" or "") end
   return concat(out, ",")
end

--- Rows as json, jsonl or csv (nil for another format): `obj(row)` makes
-- the ordered object of one row, `keys` its columns.
local function records(fmt_name, rows, keys, obj)
   if fmt_name == "json" then
      return "[" .. record_lines(fmt_name, rows, keys, obj) .. "]\n"
   elseif fmt_name == "jsonl" then
      return record_lines(fmt_name, rows, keys, obj)
   elseif fmt_name == "csv" then
      return M.csv({ keys }) .. record_lines(fmt_name, rows, keys, obj)
   end
end

---------------------------------------------------------------------------
-- CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a
-- quote, CR or LF; quotes doubled)
--
-- The text is the data, for programs, with two exceptions that touch only
-- text the Yandex Cloud API never sends (its names are [a-zA-Z0-9_-], its
-- ids start with a letter or digit, the C core blanks C0 controls in
-- error messages, and every message starts with our own words):
-- * a control character other than tab, CR and LF (C0, DEL, C1) is "?",
--   and a byte that is not UTF-8 is U+FFFD, as in json: `cat report.csv`
--   must not drive the terminal, and a UTF-8 reader must not fail;
-- * a string cell a spreadsheet would take for a formula gets a leading
--   "'" (OWASP's advice): one that starts with "=", "+", "@", a tab or
--   CR, or with "-" and then anything but letters, digits, "_", "-", "."
--   and ":".  A cluster name may start with "-" ("-prod_1"): such a name,
--   which can only make a negation or a cell reference and never a call,
--   is written as it is, so that what a program reads back matches the
--   API; numbers (-5) are never quoted.

local REPLACEMENT = "\239\191\189"   -- U+FFFD
local function c1(c) return c >= 0x80 and c < 0xA0 end

--- Whether a spreadsheet would read string `s` as a formula (see above).
local function formula_like(s)
   local c = s:sub(1, 1)
   if c == "=" or c == "+" or c == "@" or c == "\t" or c == "\r" then return true end
   return c == "-" and not s:find("^%-[%w_.:%-]*$")
end

local function csv_field(v)
   if v == nil or v == M.null then return "" end
   if type(v) == "table" then            -- a list (reasons): one field
      local parts = {}
      for i, x in ipairs(v) do parts[i] = tostring(x) end
      return csv_field(concat(parts, "; "))
   end
   if type(v) == "number" then return M.number(v) or "" end
   if type(v) == "boolean" then return v and "true" or "false" end
   local s = tostring(v)
   if s:find("[%z\1-\8\11\12\14-\31\127-\255]") then
      s = s:gsub("[%z\1-\8\11\12\14-\31\127]", "?")
      s = aligned.utf8_clean(aligned.utf8_clean(s, REPLACEMENT), "?", c1)
   end
   if formula_like(s) then s = "'" .. s end
   if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
   return s
end

--- Rows (arrays of values) as CSV text.
function M.csv(rows)
   local out = {}
   for i, r in ipairs(rows) do
      local cells = {}
      for j = 1, r.n or #r do cells[j] = csv_field(r[j]) end
      out[i] = concat(cells, ",")
   end
   return concat(out, "\r\n") .. (#out > 0 and "\r\n" or "")
end

---------------------------------------------------------------------------
-- Human tables

local COLOR = { ok = "\27[32m", warning = "\27[33m", critical = "\27[31;1m", error = "\27[35;1m" }

-- Aligned text table (mdb.aligned).  `right` marks right-aligned columns;
-- `paint(i, r)` may return an ANSI colour for cell i of row r.
local function text_table(header, rows, right, paint, indent)
   local all = { header }
   for _, r in ipairs(rows) do all[#all + 1] = r end
   return aligned.render(all, { right = right, indent = indent,
      paint = paint and function(i, ri) return paint(i, rows[ri]) end }) .. "\n"
end

-- Markdown is rendered with its inline HTML (GitHub, GitLab, editors):
-- text from the API is shown as sent, never as markup.  "<", ">" and "&"
-- are entities (no tag, comment or entity of the API's reaches the
-- page), "\\", "|" and "`" are backslash-escaped (no cell split or code
-- span), and so is the "]" of "](" (no inline link: a link needs it, and
-- a reference link a definition, which a report never has).  Emphasis
-- ("*", "_") is left alone: "_" is in every check name, and emphasis
-- hides no text.
local MD_ESCAPE = { ["\\"] = "\\\\", ["|"] = "\\|", ["`"] = "\\`", ["&"] = "&amp;", ["<"] = "&lt;",
   [">"] = "&gt;" }

local function md_cell(v)
   local s = v == nil and "" or tostring(v)
   s = s:gsub("[\\|`&<>]", MD_ESCAPE):gsub("%]%(", "\\](")
   s = s:gsub("\r?\n", "<br>"):gsub("\t", " ")
   -- then, as in a text table, no control character the API sent: a
   -- markdown report is read on a terminal too
   return aligned.safe(s)
end

--- Any value as the text of a markdown table cell (the rules above; LF
-- is "<br>"), for every markdown writer of API text.
M.md_cell = md_cell

-- An id as a code span when it is a plain id, else as escaped text (a
-- code span shows "&lt;" and "\\`" as they are).
local function md_code(id)
   if tostring(id):find("^[%w_.:%-]+$") then return "`" .. tostring(id) .. "`" end
   return md_cell(id)
end

-- A cell already in markdown (the report's own markup around escaped text).
local function md_raw(s) return { md = s } end

local function md_table(header, rows)
   local out = { "| " .. concat(header, " | ") .. " |" }
   local sep = {}
   for i = 1, #header do sep[i] = "---" end
   out[#out + 1] = "|" .. concat(sep, "|") .. "|"
   for _, r in ipairs(rows) do
      local cells = {}
      for i = 1, #header do
         local c = r[i]
         cells[i] = type(c) == "table" and c.md or md_cell(c)
      end
      out[#out + 1] = "| " .. concat(cells, " | ") .. " |"
   end
   return concat(out, "\n") .. "\n"
end

local plural = fmt.plural

---------------------------------------------------------------------------
-- Findings

local FINDING_KEYS = { "check", "status", "engine", "cluster", "cluster_name", "message",
   "observed", "expected", "unit", "backup_id" }
local FINDING_JSON_KEYS = { "check", "status", "engine", "cluster", "cluster_name", "message",
   "observed", "expected", "unit", "backup_id", "details" }
M.FINDING_COLUMNS = FINDING_KEYS

local summarize = status.summary

local function summary_line(s)
   return format("%s, %s: %d ok, %d warning, %d critical, %d error",
      plural(s.clusters, "cluster"), plural(s.total, "check"), s.ok, s.warning, s.critical, s.error)
end

local function cluster_label(f)
   return f.cluster_name or f.cluster or "-"
end

--- A generic aligned text table (the `table` format's layout).
-- @param header array of column titles
-- @param rows array of arrays of cells (converted with tostring)
-- @param opts `{ right = {[i] = true} (right-aligned columns), color =
--   bool, status_column = i (painted by status when color is on) }`
function M.table(header, rows, opts)
   check_table(header, 1, "table")
   check_table(rows, 2, "table")
   opts = opts or {}
   local paint
   if opts.color and opts.status_column then
      paint = function(i, r)
         if i == opts.status_column then return COLOR[tostring(r[i]):lower()] end
      end
   end
   return text_table(header, rows, opts.right, paint)
end

local by_severity = status.worst_first

local function details_json(d)
   if d == nil then return nil end
   local out = {}
   for k, v in pairs(d) do
      if type(v) == "table" then out[k] = array({ table.unpack(v) }) else out[k] = v end
   end
   return out
end

-- With more than one folder in a report, records and labels name the
-- folder too (first, as it scopes the rest).
local function with_folder(keys)
   local out = { "folder" }
   for i, k in ipairs(keys) do out[i + 1] = k end
   return out
end
local FINDING_KEYS_F, FINDING_JSON_KEYS_F = with_folder(FINDING_KEYS), with_folder(FINDING_JSON_KEYS)

local function finding_object(f, folders)
   local o = {}
   for _, k in ipairs(FINDING_KEYS) do o[k] = f[k] end
   o.details = details_json(f.details)
   if folders then
      o.folder = f.folder
      return M.object(o, FINDING_JSON_KEYS_F)
   end
   return M.object(o, FINDING_JSON_KEYS)
end

local function xml_escape(s, attr)
   s = tostring(s)
   -- XML 1.0 forbids most control characters outright, U+FFFE and U+FFFF,
   -- and in a UTF-8 document any byte that is not UTF-8 (one such byte
   -- and no reader takes the file).
   s = s:gsub("[%z\1-\8\11\12\14-\31]", "?")
   s = aligned.utf8_clean(s, REPLACEMENT, function(c) return c == 0xFFFE or c == 0xFFFF end)
   s = s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
   if attr then s = s:gsub('"', "&quot;"):gsub("\n", "&#10;"):gsub("\r", "&#13;"):gsub("\t", "&#9;") end
   return s
end

local function junit(findings, opts)
   local now = opts.now or os.time()
   local ts = fmt.rfc3339(now):sub(1, -2)   -- (JUnit's timestamp has no zone)
   local suites, order = {}, {}
   for _, f in ipairs(findings) do
      local name = f.engine or (f.listing and "Resource Manager") or "unknown"
      if not suites[name] then
         suites[name] = { tests = 0, failures = 0, errors = 0, cases = {} }
         order[#order + 1] = name
      end
      local s = suites[name]
      s.tests = s.tests + 1
      if f.status == "warning" or f.status == "critical" then s.failures = s.failures + 1
      elseif f.status == "error" then s.errors = s.errors + 1 end
      s.cases[#s.cases + 1] = f
   end
   local tests, failures, errors = 0, 0, 0
   for _, name in ipairs(order) do
      tests = tests + suites[name].tests
      failures = failures + suites[name].failures
      errors = errors + suites[name].errors
   end
   local title = opts.title or "mdb backup audit"
   local out = { '<?xml version="1.0" encoding="UTF-8"?>',
      format('<testsuites name="%s" tests="%d" failures="%d" errors="%d" time="0">', xml_escape(title, true),
         tests, failures, errors) }
   for _, name in ipairs(order) do
      local s = suites[name]
      out[#out + 1] = format('  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="0" '
         .. 'time="0" timestamp="%s">', xml_escape(name, true), s.tests, s.failures, s.errors, ts)
      for _, f in ipairs(s.cases) do
         local classname = f.cluster and (name .. "." .. (f.cluster_name or f.cluster))
            or f.listing and f.cloud and (name .. "." .. f.cloud) or name
         -- cluster names are unique in a folder only
         if opts.folders and f.folder then classname = f.folder .. "." .. classname end
         local case = format('    <testcase classname="%s" name="%s" time="0"', xml_escape(classname, true),
            xml_escape(f.check, true))
         local body = {}
         if f.cluster then
            body[#body + 1] = format("cluster %s%s", f.cluster,
               f.cluster_name and (" (" .. f.cluster_name .. ")") or "")
         end
         body[#body + 1] = f.message or ""
         if f.backup_id then body[#body + 1] = "backup " .. f.backup_id end
         local text = xml_escape(concat(body, "\n"))
         if f.status == "ok" then
            out[#out + 1] = case .. ">"
            out[#out + 1] = "      <system-out>" .. text .. "</system-out>"
            out[#out + 1] = "    </testcase>"
         else
            local tag = f.status == "error" and "error" or "failure"
            out[#out + 1] = case .. ">"
            out[#out + 1] = format('      <%s type="%s" message="%s">%s</%s>', tag, f.status,
               xml_escape(f.message or "", true), text, tag)
            out[#out + 1] = "    </testcase>"
         end
      end
      out[#out + 1] = "  </testsuite>"
   end
   out[#out + 1] = "</testsuites>"
   return concat(out, "\n") .. "\n"
end

--- The Nagios state of a set of findings: code (0 OK, 1 WARNING,
-- 2 CRITICAL, 3 UNKNOWN) and its name.  Critical beats warning beats
-- error (UNKNOWN), as in check_multi.
function M.nagios_state(findings)
   local s = summarize(findings)
   if s.critical > 0 then return 2, "CRITICAL" end
   if s.warning > 0 then return 1, "WARNING" end
   if s.error > 0 then return 3, "UNKNOWN" end
   return 0, "OK"
end

local function nagios(findings, opts)
   local s = summarize(findings)
   local _, state = M.nagios_state(findings)
   local title = opts.title or "MDB BACKUP AUDIT"
   -- The same order as the state: critical, warning, then errors.
   local NAGIOS_RANK = { critical = 3, warning = 2, error = 1, ok = 0 }
   local list = {}
   for i, f in ipairs(findings) do
      if f.status ~= "ok" then list[#list + 1] = { f = f, i = i } end
   end
   sort(list, function(a, b)
      local ra, rb = NAGIOS_RANK[a.f.status] or 1, NAGIOS_RANK[b.f.status] or 1
      if ra ~= rb then return ra > rb end
      return a.i < b.i
   end)
   local problems = {}
   for _, e in ipairs(list) do
      local f = e.f
      problems[#problems + 1] = format("%s %s %s", f.cluster_name or f.cluster or f.engine or f.listing or "-",
         f.check, f.status)
   end
   local text
   if #problems == 0 then
      text = format("%d checks ok on %s", s.ok, plural(s.clusters, "cluster"))
   else
      local max = opts.max_problems or 10
      local shown = {}
      for i = 1, math.min(#problems, max) do shown[i] = problems[i] end
      if #problems > max then shown[#shown + 1] = format("and %d more", #problems - max) end
      local counts = {}
      for _, st in ipairs({ "critical", "warning", "error" }) do
         if s[st] > 0 then counts[#counts + 1] = format("%d %s", s[st], st) end
      end
      text = concat(counts, ", ") .. ": " .. concat(shown, ", ")
   end
   return format("%s %s - %s | ok=%d warning=%d critical=%d error=%d\n", M.nagios_text(title), state,
      M.nagios_text(text), s.ok, s.warning, s.critical, s.error)
end

--- Text for a Nagios status line: one line ("|", CR and LF, which
-- would end the text or the line, are blanks) with no control character
-- ("?", as on a terminal: the line is read on one too).
function M.nagios_text(s)
   return aligned.safe((tostring(s):gsub("[|\r\n]", " ")))
end

--- A Nagios perfdata label, quoted: the plugin guidelines allow any
-- character but "=" and "'"; those, and "|", are "_", and the label is
-- `M.nagios_text`.
function M.nagios_perf_label(s)
   return "'" .. M.nagios_text((tostring(s):gsub("['=|]", "_"))) .. "'"
end

---------------------------------------------------------------------------
-- Prometheus textfile

-- (the text format is UTF-8: one byte that is not, and promtool and
-- node_exporter reject the whole file)
local function label_value(v)
   return (aligned.utf8_clean(tostring(v or ""), REPLACEMENT):gsub("\\", "\\\\"):gsub("\n", "\\n")
      :gsub('"', '\\"'))
end

local function labels(t, keys)
   local parts = {}
   for i, k in ipairs(keys) do parts[i] = format('%s="%s"', k, label_value(t[k])) end
   return "{" .. concat(parts, ",") .. "}"
end

local CLUSTER_LABELS = { "engine", "cluster_id", "cluster_name" }
local CHECK_LABELS = { "engine", "cluster_id", "cluster_name", "check" }
local CLUSTER_LABELS_F = with_folder(CLUSTER_LABELS)
local CHECK_LABELS_F = with_folder(CHECK_LABELS)

-- The label names of a series: `keys`, and for a failed Resource Manager
-- listing (no engine, no cluster) also its cloud, so that two clouds'
-- failures are two series, not one repeated.
local function with_cloud(keys, x)
   if not x.listing then return keys end
   local out = { table.unpack(keys) }
   out[#out + 1] = "cloud"
   return out
end

local function cluster_name_of(entry)
   local c = entry.cluster
   return type(c) == "table" and type(c.name) == "string" and c.name or nil
end

--- Per-cluster summary of scan results: `{engine, cluster, cluster_name,
-- count, automated, manual, in_progress, total_size, newest, newest_id,
-- newest_size, oldest, error, folder}` (times in Unix seconds; counts over
-- completed backups; sizes nil for engines without sizes, automated and
-- manual nil for engines whose backups have no type).  The row of an
-- entry with `listing` (a failed Resource Manager listing, mdb.fleet)
-- has no engine and carries `listing` and `cloud`; its `error` names the
-- listing.
function M.inventory_rows(results)
   check_table(results, 1, "inventory_rows")
   local rows = {}
   for _, e in ipairs(results) do
      local id = e.id or (type(e.cluster) == "table" and e.cluster.id) or nil
      local r = { engine = e.engine, cluster = id, cluster_name = cluster_name_of(e), count = 0,
         automated = 0, manual = 0, in_progress = 0, folder = e.folder }
      if e.error ~= nil then
         -- a failed listing's counts are unknown, not zero (json null)
         r.count, r.automated, r.manual, r.in_progress = nil, nil, nil, nil
      end
      if e.listing then
         r.listing, r.cloud = e.listing, e.cloud
         r.error = e.listing .. ": " .. tostring(e.error)
      elseif e.error ~= nil then
         r.error = tostring(e.error)
      else
         local newest, oldest
         local typed = false
         for _, b in ipairs(e.backups or {}) do
            if completed(b) then
               r.count = r.count + 1
               if b.type ~= nil then typed = true end
               if b.type == "AUTOMATED" then r.automated = r.automated + 1
               elseif b.type == "MANUAL" then r.manual = r.manual + 1 end
               local sz = size_of(b)
               if sz then r.total_size = (r.total_size or 0) + sz end
               if not newest or b.created > newest.created then newest = b end
               if not oldest or b.created < oldest.created then oldest = b end
            elseif b.status == "CREATING" then
               r.in_progress = r.in_progress + 1
            end
         end
         if newest then
            r.newest, r.newest_id, r.newest_size = newest.created, newest.id, size_of(newest)
            r.oldest = oldest.created
         end
         -- Engines whose backups have no type (SQL Server, OpenSearch,
         -- Elasticsearch): unknown, not zero.
         if r.count > 0 and not typed then r.automated, r.manual = nil, nil end
      end
      rows[#rows + 1] = r
   end
   return rows
end

local HELP = {
   mdb_audit_status = "Audit result per cluster and check: 0 ok, 1 warning, 2 critical, 3 error.",
   mdb_audit_last_run_timestamp_seconds = "When the audit that wrote this file ran.",
   mdb_backup_listing_success = "1 if the cluster's backups were listed, 0 if listing failed.",
   mdb_backup_last_created_timestamp_seconds = "createdAt of the newest completed backup.",
   mdb_backup_oldest_created_timestamp_seconds = "createdAt of the oldest completed backup.",
   mdb_backups = "Completed backups of the cluster.",
   mdb_backup_in_progress = "Backups of the cluster in status CREATING.",
   mdb_backup_size_bytes = "Size of the newest completed backup.",
   mdb_backup_total_size_bytes = "Total size of the completed backups.",
}

--- Prometheus text exposition (node_exporter textfile) of findings and/or
-- scan results.  Labels are engine, cluster_id, cluster_name (and check);
-- never backup ids.
-- @param opts `{findings=, results= (scan results) or rows= (from
--   M.inventory_rows), now=}`
function M.prometheus(opts)
   check_table(opts, 1, "prometheus")
   local families, order = {}, {}
   local function add(name, lbl, value)
      if value == nil then return end
      if not families[name] then
         families[name] = {}
         order[#order + 1] = name
      end
      local f = families[name]
      f[#f + 1] = name .. lbl .. " " .. M.number(value)
   end
   if opts.findings then
      for _, f in ipairs(opts.findings) do
         add("mdb_audit_status", labels({ engine = f.engine, cluster_id = f.cluster,
            cluster_name = f.cluster_name, check = f.check, folder = f.folder, cloud = f.cloud },
            with_cloud(opts.folders and CHECK_LABELS_F or CHECK_LABELS, f)), RANK[f.status] or 3)
      end
      add("mdb_audit_last_run_timestamp_seconds", "", floor(opts.now or os.time()))
   end
   local rows = opts.rows or (opts.results and M.inventory_rows(opts.results))
   if rows then
      for _, r in ipairs(rows) do
         local l = labels({ engine = r.engine, cluster_id = r.cluster, cluster_name = r.cluster_name,
            folder = r.folder, cloud = r.cloud }, with_cloud(opts.folders and CLUSTER_LABELS_F or CLUSTER_LABELS, r))
         add("mdb_backup_listing_success", l, r.error and 0 or 1)
         if not r.error and r.cluster then
            add("mdb_backups", l, r.count)
            add("mdb_backup_in_progress", l, r.in_progress)
            add("mdb_backup_last_created_timestamp_seconds", l, r.newest)
            add("mdb_backup_oldest_created_timestamp_seconds", l, r.oldest)
            add("mdb_backup_size_bytes", l, r.newest_size)
            add("mdb_backup_total_size_bytes", l, r.total_size)
         end
      end
   end
   local out = {}
   for _, name in ipairs(order) do
      out[#out + 1] = "# HELP " .. name .. " " .. HELP[name]
      out[#out + 1] = "# TYPE " .. name .. " gauge"
      for _, line in ipairs(families[name]) do out[#out + 1] = line end
   end
   return concat(out, "\n") .. (#out > 0 and "\n" or "")
end

local findings_table

--- Render audit findings.
-- @param findings array from `audit.run`
-- @param fmt_name one of `M.FORMATS.findings`
-- @param opts `{ color = bool (table), all = bool (table, markdown: list ok
--   findings too), now = Unix seconds, results = scan results (prometheus:
--   adds backup metrics), title = string (junit, nagios) }`
-- @raise on a bad argument or an unknown format
function M.findings(findings, fmt_name, opts)
   check_table(findings, 1, "findings")
   check_format("findings", fmt_name, "findings")
   opts = check_opts(opts, 3, "findings", FINDINGS_OPTS)
   local s = summarize(findings)
   if fmt_name == "json" then
      return concat(M.findings_parts({ M.findings_part(findings, "json", opts) }, summarize(findings), "json", opts))
   elseif fmt_name == "jsonl" or fmt_name == "csv" then
      return records(fmt_name, findings, opts.folders and FINDING_KEYS_F or FINDING_KEYS,
         function(f) return finding_object(f, opts.folders) end)
   elseif fmt_name == "junit" then
      return junit(findings, opts)
   elseif fmt_name == "nagios" then
      return nagios(findings, opts)
   elseif fmt_name == "prometheus" then
      return M.prometheus({ findings = findings, results = opts.results, rows = opts.rows, now = opts.now,
         folders = opts.folders })
   end
   return findings_table(findings, fmt_name, opts, s)
end

--- Findings rendered ahead for json, jsonl or csv, a cluster at a time,
-- so that a fleet's audit keeps text, not finding tables: the part of
-- `M.findings(findings, fmt_name, opts)` that `findings` make (opts:
-- `folders`).  Join parts with `M.findings_parts`.
function M.findings_part(findings, fmt_name, opts)
   local folders = opts and opts.folders
   return record_lines(fmt_name, findings, folders and FINDING_KEYS_F or FINDING_KEYS,
      function(f) return finding_object(f, folders) end)
end

--- The counts `M.findings` reports, kept as findings come a cluster at a
-- time: `acc = report.summary_add(acc, findings)` (acc nil at first) is
-- `audit.summary` of every findings array given so far.
function M.summary_add(acc, findings)
   acc = acc or { ok = 0, warning = 0, critical = 0, error = 0, total = 0, clusters = 0, worst = "ok", seen = {} }
   local s = summarize(findings)
   for _, k in ipairs({ "ok", "warning", "critical", "error", "total" }) do acc[k] = acc[k] + s[k] end
   for k, v in pairs(s) do
      if RANK[k] == nil and k ~= "total" and k ~= "clusters" and k ~= "worst" then acc[k] = (acc[k] or 0) + v end
   end
   if (RANK[s.worst] or 3) > (RANK[acc.worst] or 3) then acc.worst = s.worst end
   for _, f in ipairs(findings) do
      local key = tostring(f.engine) .. "/" .. tostring(f.cluster)
      if f.cluster and not acc.seen[key] then acc.seen[key] = true; acc.clusters = acc.clusters + 1 end
   end
   return acc
end

-- The non-empty JSON parts appended to `out` (which holds an opening
-- already), a comma between each two: the elements of one array.
local function comma_parts(out, parts)
   for _, p in ipairs(parts) do
      if p ~= "" then
         if #out > 1 then out[#out + 1] = "," end
         out[#out + 1] = p
      end
   end
end

--- The report `M.findings` gives, as an array of texts to write in
-- order (`M.write` takes it as is), from parts (`M.findings_part`, in
-- order) and the summary of their findings (`M.summary_add`).
function M.findings_parts(parts, s, fmt_name, opts)
   opts = opts or {}
   if fmt_name == "csv" then
      local out = { M.csv({ opts.folders and FINDING_KEYS_F or FINDING_KEYS }) }
      for _, p in ipairs(parts) do out[#out + 1] = p end
      return out
   elseif fmt_name == "jsonl" then
      return parts
   end
   local out = { false }
   comma_parts(out, parts)
   local head = M.json(M.object({
         generated_at = fmt.rfc3339(opts.now or os.time()),
         summary = M.object({ clusters = s.clusters, checks = s.total, ok = s.ok, warning = s.warning,
            critical = s.critical, error = s.error },
            { "clusters", "checks", "ok", "warning", "critical", "error" }),
         findings = array(),
      }, { "generated_at", "summary", "findings" }))
   -- head ends in `"findings":[]}`: the parts go between the brackets.
   out[1] = head:sub(1, -3)
   out[#out + 1] = "]}\n"
   return out
end

-- table and markdown (forward-declared above M.findings)
function findings_table(findings, fmt_name, opts, s)
   local list = by_severity(findings, opts.all)
   local line = summary_line(s)
   if fmt_name == "markdown" then
      local rows = {}
      for i, f in ipairs(list) do
         rows[i] = { f.status == "ok" and "ok" or md_raw("**" .. md_cell(f.status) .. "**"), f.engine or "-",
            f.cluster and md_raw(md_cell(cluster_label(f))
               .. (f.cluster_name and (" (" .. md_code(f.cluster) .. ")") or "")) or "-",
            f.check, f.message }
         if opts.folders then table.insert(rows[i], 2, f.folder or "-") end
      end
      local header = { "Status", "Engine", "Cluster", "Check", "Message" }
      if opts.folders then table.insert(header, 2, "Folder") end
      local out = {}
      if #rows > 0 then out[1] = md_table(header, rows) .. "\n" end
      out[#out + 1] = "**" .. line .. "**\n"
      return concat(out)
   end
   -- table
   local rows = {}
   for i, f in ipairs(list) do
      rows[i] = { f.status:upper(), f.engine or "-", cluster_label(f), f.check, f.message or "" }
      if opts.folders then table.insert(rows[i], 2, f.folder or "-") end
   end
   local out = {}
   if #rows > 0 then
      local paint = opts.color and function(i, r)
         if i == 1 then return COLOR[r[1]:lower()] end
      end or nil
      local header = { "STATUS", "ENGINE", "CLUSTER", "CHECK", "MESSAGE" }
      if opts.folders then table.insert(header, 2, "FOLDER") end
      out[1] = text_table(header, rows, nil, paint) .. "\n"
   end
   out[#out + 1] = line .. "\n"
   return concat(out)
end

---------------------------------------------------------------------------
-- Inventory

local INVENTORY_KEYS = { "engine", "cluster", "cluster_name", "count", "automated", "manual",
   "in_progress", "total_size", "newest", "newest_id", "newest_size", "oldest", "error" }
local INVENTORY_KEYS_F = with_folder(INVENTORY_KEYS)

--- Render per-cluster inventory rows (from `M.inventory_rows`).
-- @param opts `{ color=, now=, folders = true: name each row's folder
--   (a column, a record field, a label) }`
function M.inventory(rows, fmt_name, opts)
   check_table(rows, 1, "inventory")
   check_format("inventory", fmt_name, "inventory")
   opts = check_opts(opts, 3, "inventory", INVENTORY_OPTS)
   local now = opts.now or os.time()
   if fmt_name == "prometheus" then
      return M.prometheus({ rows = rows, now = now, folders = opts.folders })
   end
   local keys = opts.folders and INVENTORY_KEYS_F or INVENTORY_KEYS
   local function obj(r)
      local o = {}
      for _, k in ipairs(keys) do o[k] = r[k] end
      o.newest = r.newest and fmt.rfc3339(r.newest) or nil
      o.oldest = r.oldest and fmt.rfc3339(r.oldest) or nil
      return M.object(o, keys)
   end
   local text = records(fmt_name, rows, keys, obj)
   if text then return text end
   local header = { "ENGINE", "CLUSTER", "ID", "BACKUPS", "AUTO", "MANUAL", "SIZE", "NEWEST", "AGE", "OLDEST" }
   local body, total_n, total_size, clusters, errors = {}, 0, 0, 0, {}
   for i, r in ipairs(rows) do
      if r.cluster then clusters = clusters + 1 end
      if r.error then
         body[i] = { r.engine or "-", r.cluster_name or "-", r.cluster or "-", "error", "-", "-", "-", "-", "-", "-" }
         -- Cluster.List of one folder among several: which folder, in the
         -- words of the scripts' stderr lines (mdb.fleet.failure_notes).
         local what = r.cluster or ("clusters" .. (opts.folders and r.folder and (" in folder " .. r.folder) or ""))
         errors[#errors + 1] = r.listing and r.error or format("%s %s: %s", r.engine or "-", what, r.error)
      else
         total_n = total_n + r.count
         total_size = total_size + (r.total_size or 0)
         body[i] = { r.engine or "-", r.cluster_name or "-", r.cluster or "-", tostring(r.count),
            r.automated and tostring(r.automated) or "-", r.manual and tostring(r.manual) or "-",
            fmt.size(r.total_size), fmt.time(r.newest),
            r.newest and fmt.age(now - r.newest) or "-", fmt.time(r.oldest) }
      end
   end
   local line = format("%s, %s, %s in total", plural(clusters, "cluster"), plural(total_n, "backup"),
      fmt.size(total_size))
   if #errors > 0 then line = line .. format("; %s failed:", plural(#errors, "listing")) end
   local right = { [4] = true, [5] = true, [6] = true, [7] = true, [9] = true }
   if opts.folders then
      table.insert(header, 1, "FOLDER")
      for i, r in ipairs(rows) do table.insert(body[i], 1, r.folder or "-") end
      right = { [5] = true, [6] = true, [7] = true, [8] = true, [10] = true }
   end
   if fmt_name == "markdown" then
      local out = md_table(header, body) .. "\n**" .. line .. "**\n"
      for _, e in ipairs(errors) do out = out .. "- " .. md_cell(e) .. "\n" end
      return out
   end
   local out = (#body > 0 and text_table(header, body, right) or "") .. line .. "\n"
   for _, e in ipairs(errors) do out = out .. "  " .. aligned.safe(e) .. "\n" end   -- (ids from the API)
   return out
end

---------------------------------------------------------------------------
-- Retention plans

local PLAN_KEYS = { "engine", "cluster", "cluster_name", "backup_id", "created", "type", "size",
   "action", "reasons" }
local PLAN_KEYS_F = with_folder(PLAN_KEYS)
local PLAN_JSON_KEYS = { "engine", "cluster", "cluster_name", "error", "keep", "expire" }
local PLAN_JSON_KEYS_F = with_folder(PLAN_JSON_KEYS)

-- A plan's backups as rows, newest first (keep before expire at equal
-- times).
local function plan_rows(p)
   local entries = {}
   for _, e in ipairs(p.plan.keep) do entries[#entries + 1] = { e = e, action = "keep" } end
   for _, e in ipairs(p.plan.expire) do entries[#entries + 1] = { e = e, action = "expire" } end
   sort(entries, function(a, b)
      local ta, tb = a.e.backup.created or math.huge, b.e.backup.created or math.huge
      if ta ~= tb then return ta > tb end
      return a.action < b.action
   end)
   local rows = {}
   for i, x in ipairs(entries) do
      local b = x.e.backup
      rows[i] = { folder = p.folder, engine = p.engine, cluster = p.cluster, cluster_name = p.cluster_name,
         backup_id = b.id, created = b.created, type = b.type, size = size_of(b),
         action = x.action, reasons = x.e.reasons }
   end
   return rows
end

local function plan_record(r, keys)
   local o = {}
   for _, k in ipairs(keys) do o[k] = r[k] end
   o.created = r.created and fmt.rfc3339(r.created) or nil
   o.reasons = array({ table.unpack(r.reasons) })
   return M.object(o, keys)
end

local function plan_json(p, folders)
   local keep, expire = array(), array()
   if p.plan then
      for _, e in ipairs(p.plan.keep) do
         keep[#keep + 1] = M.object({ backup_id = e.backup.id, created = e.backup.created
            and fmt.rfc3339(e.backup.created), reasons = array({ table.unpack(e.reasons) }) },
            { "backup_id", "created", "reasons" })
      end
      for _, e in ipairs(p.plan.expire) do
         expire[#expire + 1] = M.object({ backup_id = e.backup.id, created = e.backup.created
            and fmt.rfc3339(e.backup.created) }, { "backup_id", "created" })
      end
   end
   -- a failed listing that is no engine's has no engine: its error names it
   local err = p.error and ((p.listing and (p.listing .. ": ") or "") .. tostring(p.error)) or nil
   return M.json(M.object({ folder = folders and p.folder or nil, engine = p.engine, cluster = p.cluster,
      cluster_name = p.cluster_name, error = err, keep = keep, expire = expire },
      folders and PLAN_JSON_KEYS_F or PLAN_JSON_KEYS))
end

-- A plan's block of the table and markdown formats: its title line
-- (naming the folder when there are several) and its backups.
local function plan_block(p, fmt_name, opts, out)
   local md = fmt_name == "markdown"
   local title = p.listing or format("%s %s%s", p.engine or "-", p.cluster_name or p.cluster or "clusters",
      p.cluster_name and p.cluster and (" (" .. p.cluster .. ")") or "")
   if opts.folders and p.folder then title = title .. " in folder " .. p.folder end
   -- (names from the API, as in a table's cells)
   local esc = md and md_cell or aligned.safe
   title = esc(title)
   if p.error then
      out[#out + 1] = (md and "### " or "") .. title .. ": listing failed: " .. esc(p.error)
      out[#out + 1] = ""
      return
   end
   out[#out + 1] = format("%s%s: keep %d, expire %d", md and "### " or "", title, #p.plan.keep, #p.plan.expire)
   local rows = {}
   for i, r in ipairs(plan_rows(p)) do
      rows[i] = { r.action, r.backup_id or "-", fmt.time(r.created), r.type or "-",
         fmt.size(r.size), #r.reasons > 0 and concat(r.reasons, ", ") or "-" }
   end
   local header = { "ACTION", "ID", "CREATED", "TYPE", "SIZE", "REASONS" }
   if md then
      out[#out + 1] = ""
      if #rows > 0 then out[#out + 1] = md_table(header, rows) end
   elseif #rows > 0 then
      local paint = opts.color and function(i, r)
         if i == 1 then return r[1] == "keep" and COLOR.ok or COLOR.warning end
      end or nil
      out[#out + 1] = text_table(header, rows, { [5] = true }, paint, "  ")
   else
      out[#out + 1] = ""
   end
end

local function plans_part(plans, fmt_name, opts)
   local out = {}
   if fmt_name == "json" then
      for i, p in ipairs(plans) do out[i] = plan_json(p, opts.folders) end
      return concat(out, ",")
   elseif fmt_name == "jsonl" or fmt_name == "csv" then
      local keys, rows = opts.folders and PLAN_KEYS_F or PLAN_KEYS, {}
      for _, p in ipairs(plans) do
         for _, r in ipairs(p.plan and plan_rows(p) or {}) do rows[#rows + 1] = r end
      end
      return record_lines(fmt_name, rows, keys, function(r) return plan_record(r, keys) end)
   end
   for _, p in ipairs(plans) do plan_block(p, fmt_name, opts, out) end
   return #out > 0 and (concat(out, "\n") .. "\n") or ""
end

local function plans_add(acc, plans)
   acc = acc or { clusters = 0, keep = 0, expire = 0, failed = 0 }
   for _, p in ipairs(plans) do
      if p.cluster then acc.clusters = acc.clusters + 1 end
      if p.error then
         acc.failed = acc.failed + 1
      elseif p.plan then
         acc.keep, acc.expire = acc.keep + #p.plan.keep, acc.expire + #p.plan.expire
      end
   end
   return acc
end

local function plans_parts(parts, s, fmt_name, opts)
   if fmt_name == "jsonl" then return parts end
   local out = {}
   if fmt_name == "csv" then
      out[1] = M.csv({ opts.folders and PLAN_KEYS_F or PLAN_KEYS })
      for _, p in ipairs(parts) do out[#out + 1] = p end
      return out
   elseif fmt_name == "json" then
      out[1] = "["
      comma_parts(out, parts)
      out[#out + 1] = "]\n"
      return out
   end
   for _, p in ipairs(parts) do out[#out + 1] = p end
   local line = format("%s: keep %d, expire %d", plural(s.clusters, "cluster"), s.keep, s.expire)
   if s.failed > 0 then line = line .. format(", %s failed", plural(s.failed, "listing")) end
   if opts.policy_text then line = line .. " (" .. opts.policy_text .. ")" end
   out[#out + 1] = fmt_name == "markdown" and ("**" .. line .. "**\n") or (line .. "\n")
   return out
end

--- Render retention plans.
-- @param plans array of `{engine=, cluster=, cluster_name=, folder=,
--   plan=<result of retention.plan>, error=, listing= (a failed listing
--   that is not an engine's: its text, mdb.fleet)}`
-- @param opts `{ color=, policy_text=, folders = true: name each plan's
--   folder (a column, a record field, in the title) }`
function M.plans(plans, fmt_name, opts)
   check_table(plans, 1, "plans")
   check_format("plans", fmt_name, "plans")
   opts = check_opts(opts, 3, "plans", PLANS_OPTS)
   return concat(plans_parts({ plans_part(plans, fmt_name, opts) }, plans_add(nil, plans), fmt_name, opts))
end

--- Plans rendered ahead, a cluster at a time, so that a fleet's plan
-- keeps text, not every backup: the part of `M.plans(plans, fmt_name,
-- opts)` that `plans` make (opts: `color`, `folders`).  Join parts with
-- `M.plans_parts`.
function M.plans_part(plans, fmt_name, opts)
   check_table(plans, 1, "plans_part")
   check_format("plans", fmt_name, "plans_part")
   return plans_part(plans, fmt_name, check_opts(opts, 3, "plans_part", PLANS_OPTS))
end

--- The counts the plans' summary line reports, kept as plans come:
-- `acc = report.plans_add(acc, plans)` (acc nil at first).
function M.plans_add(acc, plans)
   check_table(plans, 2, "plans_add")
   return plans_add(acc, plans)
end

--- The report `M.plans` gives, as an array of texts to write in order
-- (`M.write` takes it as is), from parts (`M.plans_part`, in order) and
-- their counts (`M.plans_add`); opts: `policy_text`, `folders`.
function M.plans_parts(parts, s, fmt_name, opts)
   check_table(parts, 1, "plans_parts")
   check_table(s, 2, "plans_parts")
   check_format("plans", fmt_name, "plans_parts")
   return plans_parts(parts, s, fmt_name, check_opts(opts, 4, "plans_parts", PLANS_OPTS))
end

---------------------------------------------------------------------------
-- Backups

local BACKUP_KEYS = { "engine", "cluster", "id", "created", "started", "type", "status", "size" }

--- Render a list of backups (as the iterator yields them).
function M.backups(backups, fmt_name, opts)
   check_table(backups, 1, "backups")
   check_format("backups", fmt_name, "backups")
   opts = check_opts(opts, 3, "backups", BACKUPS_OPTS)
   local function obj(b)
      return M.object({ engine = b.engine, cluster = b.sourceClusterId, id = b.id,
         created = b.created and fmt.rfc3339(b.created) or nil,
         started = b.started and fmt.rfc3339(b.started) or nil,
         type = b.type, status = b.status, size = size_of(b) }, BACKUP_KEYS)
   end
   local text = records(fmt_name, backups, BACKUP_KEYS, obj)
   if text then return text end
   local now = opts.now or os.time()
   local header = { "ENGINE", "CLUSTER", "ID", "CREATED", "AGE", "SIZE", "TYPE" }
   local rows = {}
   for i, b in ipairs(backups) do
      rows[i] = { b.engine or "-", b.sourceClusterId or "-", b.id or "-", fmt.time(b.created),
         b.created and fmt.age(now - b.created) or "-", fmt.size(size_of(b)),
         (b.status == "CREATING" and "CREATING " or "") .. (b.type or "-") }
   end
   if fmt_name == "markdown" then return md_table(header, rows) end
   return text_table(header, rows, { [6] = true })
end

---------------------------------------------------------------------------
-- Output

-- The paths that name a standard stream (see `M.write`).
local STREAMS = { ["-"] = io.stdout, ["/dev/stdout"] = io.stdout, ["/dev/fd/1"] = io.stdout,
   ["/proc/self/fd/1"] = io.stdout, ["/dev/stderr"] = io.stderr, ["/dev/fd/2"] = io.stderr,
   ["/proc/self/fd/2"] = io.stderr }

--- Write report text (a string, or an array of strings written in turn)
-- to stdout (path nil, "-" or /dev/stdout; /dev/stderr to stderr), to a
-- device or pipe in place, or to a file, atomically: into a temporary
-- file in the same directory, then renamed over `path`.
-- @return true, or nil and a message naming the file
-- @raise when `text` is not a string
function M.write(text, path)
   if type(text) == "table" then
      for i, t in ipairs(text) do
         if type(t) ~= "string" then
            error(format("bad argument #1 to 'write' (piece %d is a %s, not a string)", i, type(t)), 2)
         end
      end
   elseif type(text) ~= "string" then
      error(format("bad argument #1 to 'write' (string expected, got %s)", type(text)), 2)
   end
   -- An array of texts is written piece by piece (a fleet's report need
   -- not be one string).
   local function put(f)
      if type(text) == "string" then return f:write(text) end
      for _, t in ipairs(text) do
         local ok, err = f:write(t)
         if not ok then return nil, err end
      end
      return true
   end
   if path ~= nil and type(path) ~= "string" then
      error(format("bad argument #2 to 'write' (string expected, got %s)", type(path)), 2)
   end
   -- The names of the standard streams are the streams themselves, as in
   -- the shell: renamed over, /dev/stdout would be replaced by a file (as
   -- root), and reopened, a log stdout appends to would be cut short.
   local stream = STREAMS[path]
   if path == nil or stream then
      stream = stream or io.stdout
      -- The error of a full disk or a closed pipe often shows only on flush.
      local ok, err = put(stream)
      if ok then ok, err = stream:flush() end
      if not ok then
         return nil, format("cannot write to %s: %s", stream == io.stderr and "stderr" or "stdout", tostring(err))
      end
      return true
   end
   if path == "" then return nil, "cannot write to an empty file name" end
   local fs = require("mdb")._fs
   -- A symbolic link is written through (the rename below would replace
   -- the link itself with the report).
   local target, lerr = fs.link_target(path)
   if lerr then return nil, format("cannot write %s: %s", path, lerr) end
   path = target or path
   -- The text into `name`, opened new; true, or nil and the message.
   local function put_file(name)
      local f, err = io.open(name, "wb")
      if not f then
         -- The user named `path`, not our hidden temporary file: say
         -- where it could not be made, without its random name.
         if name ~= path and err:sub(1, #name + 2) == name .. ": " then
            local dir = name:match("^(.*)/[^/]*$")
            err = format("cannot create a file in %s: %s", dir == "" and "/" or dir or ".", err:sub(#name + 3))
         end
         return nil, format("cannot write %s: %s", path, err)
      end
      local ok, werr = put(f)
      if ok then ok, werr = f:flush() end
      local closed, cerr = f:close()
      if not ok or not closed then return nil, format("cannot write %s: %s", path, tostring(werr or cerr)) end
      return true
   end
   -- A device, a named pipe or a socket (/dev/null, a terminal, >(cmd)) is
   -- written in place: a file renamed over it would replace the node
   -- (as root even /dev/full), and no reader would see the report.
   local kind = fs.path_kind(path)
   if kind == "directory" then return nil, format("cannot write %s: it names a directory", path) end
   if kind == "other" then return put_file(path) end
   local dir, base = path:match("^(.*/)([^/]*)$")
   if not dir then dir, base = "", path end
   if base == "" then return nil, format("cannot write %s: it names a directory", path) end
   -- A leading dot and no .prom suffix: node_exporter ignores the
   -- temporary file even while it is being written.
   local tmp = format("%s.%s.tmp-%d-%d", dir, base, os.time(), math.random(1, 1e9))
   -- A run the backstop ends (--timeout) while this file exists leaves
   -- no debris beside `path`: the backstop removes it.
   local backstop = require("mdb").backstop
   backstop { remove = tmp }
   local written, werr = put_file(tmp)
   -- The file replaced keeps its mode (0600, 0640 for a collector's
   -- group): the temporary file was made with the umask's.
   if written and kind == "file" then
      local kept, kerr = fs.keep_mode(path, tmp)
      if not kept then written, werr = nil, format("cannot write %s: %s", path, kerr) end
   end
   local renamed, rerr
   if written then renamed, rerr = os.rename(tmp, path) end
   if not renamed then os.remove(tmp) end
   backstop { remove = false }
   if not written then return nil, werr end
   if not renamed then return nil, format("cannot write %s: %s", path, tostring(rerr)) end
   return true
end

return M
