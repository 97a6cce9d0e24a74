-- freshness.lua: the age of the newest completed backup of each cluster,
-- against warning and critical limits.  Nagios-friendly: --format nagios
-- prints one status line with per-cluster performance data, and the exit
-- status is always a Nagios code.
--
--   mdblua scripts/freshness.lua --engine postgresql --warn 26h --crit 50h
--   mdblua scripts/freshness.lua --format nagios
--   mdblua scripts/freshness.lua --engine mysql --cluster c9q... --format nagios
local mdb = require "mdb"
local cli = require "mdb.cli"
local audit = require "mdb.audit"
local report = require "mdb.report"
local fmt = require "mdb.fmt"
local duration = require "mdb.duration"
local fleet = require "mdb.fleet"

local NAME = "freshness.lua"
local FORMATS = { "table", "json", "jsonl", "csv", "markdown", "prometheus", "nagios" }
local spec = {
   name = NAME,
   summary = "The age of the newest completed backup of each cluster in a folder (or of the\n"
      .. "clusters given), against warning and critical limits.",
   options = {
      { "engine", "ENGINE", "engine (default: all)", many = true, check = cli.choice(mdb.engines) },
      { "cluster", "ID", "only this cluster (needs exactly one --engine; not with --folder, --cloud\n"
        .. "or --all-clouds: the cluster names its folder)", many = true, check = cli.id() },
      { "warn", "DURATION", "warning when the newest backup is older", default = "26h", check = cli.duration() },
      { "crit", "DURATION", "critical when the newest backup is older", default = "50h", check = cli.duration() },
      { "format", "FORMAT", table.concat(FORMATS, "|"), default = "table", check = cli.choice(FORMATS) },
      { "output", "FILE", "write the report to FILE (atomically) instead of stdout" },
      { "now", "TIME", "evaluate as if it were TIME (RFC 3339)" },
      cli.concurrency_option(),
      cli.timeout_option(true),
   },
   nagios = "MDB BACKUP FRESHNESS",
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status (Nagios plugin codes): 0 OK, 1 WARNING, 2 CRITICAL (some cluster over\n"
      .. "a limit, or without any completed backup), 3 UNKNOWN (usage or API error, a failed\n"
      .. "listing, no cluster found, no result within --timeout); a cluster over a limit\n"
      .. "outranks a failed listing.",
}

for i, o in ipairs(cli.scope_options()) do table.insert(spec.options, 1 + i, o) end

-- Nagios needs 3 (UNKNOWN) for usage errors too.
local opts = cli.run(arg, spec, 3)
local function die(msg)
   cli.fail(NAME, msg, 3)
end
local function usage(msg)
   cli.usage_error(spec, msg, 3)
end
opts.engine = cli.unique(opts.engine)
if #opts.cluster > 0 and #opts.engine ~= 1 then usage("--cluster needs exactly one --engine") end
if duration.parse(opts.warn) > duration.parse(opts.crit) then
   usage(string.format("--warn %s is longer than --crit %s", opts.warn, opts.crit))
end

local now = cli.now(spec, opts.now, 3)
local engines = #opts.engine > 0 and opts.engine or mdb.engines
local scan = { concurrency = opts.concurrency }
if #opts.cluster > 0 then
   local clash = cli.cluster_scope_clash(opts)
   if clash then usage(clash) end
   scan.engine, scan.clusters = opts.engine[1], cli.unique(opts.cluster)
else
   scan.engines = engines
   local scope, serr = cli.scope(opts, os.getenv("YC_FOLDER_ID"))
   if not scope then
      if not serr:find("^no folder") then usage(serr) end
      usage("no folder: give --folder ID or set YC_FOLDER_ID (or give --cloud ID or --all-clouds)")
   end
   for k, v in pairs(scope) do scan[k] = v end
end

local policy = audit.policy({ checks = { "freshness" },
   defaults = { freshness = { warn = opts.warn, crit = opts.crit } } }, "options")
local warn_s, crit_s = duration.parse(opts.warn), duration.parse(opts.crit)

-- Per cluster only its finding, the time of the backup it names (for the
-- table) and, for prometheus, its inventory row; sorted into scan order.
local key = fleet.order(scan)
local kept = {}
fleet.run(NAME, { opts = opts, scan = scan, now = now, die = die, code = 3 }, function(e, n)
   local item = { key = key(e, n), engine = e.engine, id = e.id, folder = e.folder, cloud = e.cloud,
      findings = audit.entry(e, policy, { now = now }), newest = {} }
   if e.error ~= nil then item.error = tostring(e.error) end
   local wanted = {}
   for _, f in ipairs(item.findings) do
      if f.backup_id ~= nil then wanted[f.backup_id] = true end
   end
   for _, b in ipairs(e.backups or {}) do
      if b.id ~= nil and wanted[b.id] then item.newest[b.id] = b.created end
   end
   if opts.format == "prometheus" then item.row = report.inventory_rows({ e })[1] end
   kept[#kept + 1] = item
end)
fleet.sort(kept)
local many_folders = cli.many_folders(scan)

-- newest completed backup per finding, for the table and perfdata
local findings, newest, inventory_rows = {}, {}, {}
local note, notes_done = fleet.failure_notes(NAME, scan)
for _, item in ipairs(kept) do
   note(item)
   for _, f in ipairs(item.findings) do findings[#findings + 1] = f end
   for id, t in pairs(item.newest) do newest[id] = t end
   inventory_rows[#inventory_rows + 1] = item.row
end
notes_done()
kept = nil

-- The order of problems in the Nagios line: CRITICAL, WARNING, then
-- UNKNOWN (a failed listing).
local SEVERITY = { critical = 1, warning = 2, error = 3 }

local text
if opts.format == "table" or opts.format == "nagios" then
   local counts = audit.summary(findings)
   if opts.format == "table" then
      local rows = {}
      for i, f in ipairs(findings) do
         local t = f.backup_id and newest[f.backup_id]
         rows[i] = { f.status:upper(), f.engine or "-", f.cluster_name or f.cluster or "-",
            t and fmt.time(t) or "-",
            f.observed and fmt.age(f.observed) or (f.status == "error" and f.message or "never") }
         if many_folders then table.insert(rows[i], 2, f.folder or "-") end
      end
      local header = { "STATUS", "ENGINE", "CLUSTER", "NEWEST", "AGE" }
      if many_folders then table.insert(header, 2, "FOLDER") end
      text = (#rows > 0 and report.table(header, rows, {
         color = require("mdb.strip").color_wanted(opts.output), status_column = 1,
      }) or "") .. string.format("%s (warn %s, crit %s): %d ok, %d warning, %d critical, %d error\n",
         fmt.plural(counts.clusters, "cluster"), opts.warn, opts.crit, counts.ok, counts.warning, counts.critical,
         counts.error)
   else
      local _, state = report.nagios_state(findings)
      if #findings == 0 then state = "UNKNOWN" end
      local problems, perf, oldest = {}, {}, nil
      for _, f in ipairs(findings) do
         local label = f.cluster and ((f.engine or "?") .. "/" .. (f.cluster_name or f.cluster))
            or f.engine or f.listing or "?"
         -- names are unique in a folder only: perfdata labels must be unique
         if many_folders and f.folder then label = f.folder .. "/" .. label end
         if f.status ~= "ok" then
            problems[#problems + 1] = { rank = SEVERITY[f.status] or 3, n = #problems + 1,
               text = f.observed and string.format("%s %s old", label, fmt.age(f.observed))
                  or string.format("%s %s", label, f.status == "error" and "listing failed" or "has no backup") }
         end
         if f.observed then
            if not oldest or f.observed > oldest then oldest = f.observed end
            perf[#perf + 1] = string.format("%s=%ds;%d;%d;0", report.nagios_perf_label(label), f.observed, warn_s,
               crit_s)
         end
      end
      local summary
      if #findings == 0 then
         summary = "no cluster found"
      elseif #problems == 0 then
         summary = string.format("%s, newest backups at most %s old", fmt.plural(#findings, "cluster"),
            fmt.age(oldest or 0))
      else
         -- Nagios shows the start of the line: the worst first, each
         -- severity in scan order
         table.sort(problems, function(a, b)
            if a.rank ~= b.rank then return a.rank < b.rank end
            return a.n < b.n
         end)
         local texts = {}
         for i, p in ipairs(problems) do texts[i] = p.text end
         summary = table.concat(texts, ", ")
      end
      text = string.format("MDB BACKUP FRESHNESS %s - %s%s\n", state, report.nagios_text(summary),
         #perf > 0 and (" | " .. table.concat(perf, " ")) or "")
   end
else
   text = report.findings(findings, opts.format, { now = now, rows = inventory_rows, folders = many_folders })
end
local written, werr = report.write(text, opts.output)
if not written then die(werr) end
if #findings == 0 then
   io.stderr:write(NAME, ": no cluster found\n")
   os.exit(3)
end
os.exit((report.nagios_state(findings)))
