-- audit.lua: audit the backups of every cluster in a folder against a
-- policy (a policy file, or the built-in defaults adjusted by flags) and
-- report the findings in the format asked for.
--
--   mdblua scripts/audit.lua --policy scripts/policies/production.lua
--   mdblua scripts/audit.lua --engine postgresql --max-age 26h --coverage-days 7
--   mdblua scripts/audit.lua --policy p.lua --format prometheus --output /var/lib/node_exporter/mdb.prom
local mdb = require "mdb"
local cli = require "mdb.cli"
local audit = require "mdb.audit"
local report = require "mdb.report"
local FORMATS = require("mdb.html").with_html(report.FORMATS.findings)
local duration = require "mdb.duration"
local history_cli = require "mdb.history_cli"
local fleet = require "mdb.fleet"

local NAME = "audit.lua"
local spec = {
   name = NAME,
   summary = "Audit the backups of every cluster in a folder: freshness, coverage, count, gaps,\n"
      .. "durations, stuck and shrinking backups, automated backups, retention settings\n"
      .. "and shards, with thresholds from a policy file or the built-in defaults.",
   options = {
      { "policy", "FILE", "policy file (a Lua file returning a table; see scripts/policies/)" },
      { "engine", "ENGINE", "engine to audit (default: the policy's engines, else all)", many = true,
        check = cli.choice(mdb.engines) },
      { "max-age", "DURATION", "freshness: critical when the newest backup is older (e.g. 26h)",
        check = cli.duration() },
      { "warn-age", "DURATION", "freshness: warning when the newest backup is older", check = cli.duration() },
      { "coverage-days", "N", "coverage: each of the last N days must have a backup", check = cli.integer(1) },
      { "check", "NAME", "run only this check (" .. table.concat(history_cli.CHECKS, ", ")
        .. "; vanished needs history: --record, --db or --from)", many = true,
        check = cli.choice(history_cli.CHECKS) },
      { "tz", "ZONE", "time zone for day boundaries: UTC, +03:00, Europe/Berlin (default: the policy's, else UTC)" },
      { "format", "FORMAT", table.concat(FORMATS, "|"), default = "table", check = cli.choice(FORMATS) },
      { "days", "N", "html: days each timeline shows (default 30)", check = require("mdb.timeline").days_option },
      { "output", "FILE", "write the report to FILE (atomically) instead of stdout" },
      { "all", nil, "table, markdown and html: list ok findings too, not only problems (json, jsonl,\n"
        .. "csv, junit and prometheus always carry every finding; nagios names problems only)" },
      { "now", "TIME", "evaluate as if it were TIME (RFC 3339), for reproducible reports" },
      cli.concurrency_option(),
      cli.page_size_option(),
      cli.timeout_option(true),
   },
   nagios = "MDB BACKUP AUDIT",
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 every finding ok; 1 a warning or critical finding (or no cluster found);\n"
      .. "2 an error finding (a listing failed), a bad policy, a usage or API error.\n"
      .. "With --format nagios the Nagios codes are used instead: 0 OK, 1 WARNING,\n"
      .. "2 CRITICAL, 3 UNKNOWN.",
}
for i, o in ipairs(cli.scope_options("folder id (default: the policy's folder, else $YC_FOLDER_ID)")) do
   table.insert(spec.options, 2 + i, o)
end
history_cli.add_options(spec, { audit = true })
-- With --format nagios even a usage error must exit 3 (UNKNOWN), not 2.
local nagios = false
for i, a in ipairs(arg) do
   if a == "--format=nagios" or (a == "--format" and arg[i + 1] == "nagios") then nagios = true end
end
local opts = cli.run(arg, spec, nagios and 3 or 2)
nagios = opts.format == "nagios"
opts.engine = cli.unique(opts.engine)

local function die(msg)
   cli.fail(NAME, msg, nagios and 3 or 2)
end
local function usage(msg)
   cli.usage_error(spec, msg, nagios and 3 or 2)
end

local policy, perr
if opts.policy then
   policy, perr = audit.load_policy(opts.policy)
   if not policy then die(perr) end
else
   policy = audit.policy(nil, "built-in defaults")
end

-- Limits from flags are checked against each other here, so that a
-- conflict names the flags the user typed.
local warn_s = opts.warn_age and duration.parse(opts.warn_age)
if warn_s and opts.max_age and warn_s > duration.parse(opts.max_age) then
   usage(string.format("--warn-age %s is longer than --max-age %s", opts.warn_age, opts.max_age))
end
local crit_s = policy.defaults.freshness.crit
if warn_s and not opts.max_age and crit_s and warn_s > crit_s then
   usage(string.format("--warn-age %s is longer than the freshness crit limit %s (%s); give --max-age too",
      opts.warn_age, duration.format(crit_s), opts.policy or "built-in default"))
end
local over = {}
if opts.max_age then over.freshness = { crit = opts.max_age, warn = opts.warn_age or false } end
if opts.warn_age and not opts.max_age then over.freshness = { warn = opts.warn_age } end
if opts.coverage_days then over.coverage = { days = opts.coverage_days } end
local ok, oerr = pcall(audit.override, policy, over, "options")
if not ok then die(oerr) end
if #opts.check > 0 then audit.only(policy, history_cli.scan_checks(opts, usage)) end
if opts.tz then
   local p, zerr = audit.set_tz(policy, opts.tz)
   if not p then usage("option '--tz': " .. zerr) end
end

local now = cli.now(spec, opts.now, nagios and 3 or 2)
-- An audit --from compares with the history of the file it reads.
if opts.db and opts.from then usage("give --db or --from, not both (with --from, its file is the history)") end
if opts.at and not opts.from then usage("--at picks a scan of the history file --from names: give --from FILE too") end
local clash = history_cli.option_clash(opts)
if clash then usage(clash) end
-- A flag typed is never silently ignored: these shape what no other
-- format or source uses.
if opts.days and opts.format ~= "html" then
   usage("--days sets the timelines of --format html; --format " .. opts.format
      .. " has none (the coverage window is --coverage-days)")
end
if opts.from and (opts.concurrency or opts.page_size) then
   usage((opts.concurrency and "--concurrency" or "--page-size")
      .. " shapes the API's listings; --from reads a recorded scan and lists nothing")
end

local engines = #opts.engine > 0 and opts.engine or policy.engines or mdb.engines
local scope, serr = cli.scope(opts, policy.folder or os.getenv("YC_FOLDER_ID"))
if not scope and not opts.from then
   if not serr:find("^no folder") then usage(serr) end
   die("no folder: give --folder ID, set folder in the policy, or set YC_FOLDER_ID"
      .. " (or give --cloud ID or --all-clouds)")
end
scope = scope or {}
local folder = scope.folder

-- retention_policy and failed_backups judge each cluster's retention
-- policies and operations: list them only when a check may run.
local function may_run(c)
   if policy.enabled[c] then return true end
   if policy.only and not policy.only[c] then return false end
   for _, m in pairs(policy.per_engine) do if m[c] then return true end end
   for _, o in ipairs(policy.per_cluster) do if o.checks[c] then return true end end
   return false
end
local with = {}
if may_run("retention_policy") then with[#with + 1] = "retention_policies" end
if may_run("failed_backups") then with[#with + 1] = "operations" end

-- The scan: what a cluster's checks read.
local scan = { engines = engines, concurrency = opts.concurrency, folder = scope.folder, folders = scope.folders,
   cloud = scope.cloud, all_clouds = scope.all_clouds, with = with }

local results, recorded
if opts.from then
   results, recorded = history_cli.load(opts, engines, die)
   now = history_cli.now(opts, now, recorded)
   scope = history_cli.scope(recorded, scan)
   folder = scope.folder
end

-- Per cluster, only what the report needs: its findings (for json, jsonl
-- and csv already rendered, with just what the summary counts), and for
-- prometheus its inventory row, for html its timeline's backups; sorted
-- into scan order at the end.
local key = fleet.order(scan)
local many_folders = cli.many_folders(scope)
local records = ({ json = true, jsonl = true, csv = true })[opts.format]
local html_start = opts.format == "html"
   and require("mdb.timeline").window(now, opts.days or 30, policy.zone).start
local kept, clusters, failed, counts = {}, 0, false, nil
fleet.run(NAME, { opts = opts, scan = scan, client = { page_size = opts.page_size }, now = now, die = die,
   code = nagios and 3 or 2, results = results,
   scope = { folder = folder, folders = scope.folders, cloud = scope.cloud, all_clouds = scope.all_clouds,
      engines = engines, time = opts.now and now, tool = NAME } }, function(e, n)
   local item = { key = key(e, n), findings = audit.entry(e, policy, { now = now }) }
   if records then
      item.part = report.findings_part(item.findings, opts.format, { folders = many_folders })
      counts = report.summary_add(counts, item.findings)
      item.findings = nil
   end
   if e.error ~= nil then item.error = tostring(e.error) end
   if e.id then clusters = clusters + 1 elseif e.error ~= nil then failed = true end
   if opts.format == "prometheus" then item.row = report.inventory_rows({ e })[1] end
   if html_start then item.entry = fleet.window_entry(e, html_start) end
   item.engine, item.id, item.folder, item.cloud = e.engine, e.id, e.folder, e.cloud
   kept[#kept + 1] = item
end)
fleet.sort(kept)

local findings, rows, entries, parts = {}, {}, {}, {}
local note, notes_done = fleet.failure_notes(NAME, scan)
for _, item in ipairs(kept) do
   note(item)
   for _, f in ipairs(item.findings or {}) do findings[#findings + 1] = f end
   rows[#rows + 1] = item.row
   entries[#entries + 1] = item.entry
   parts[#parts + 1] = item.part
end
notes_done()
kept = nil

-- An empty folder (a wrong id, a typo) must not pass as "all ok".
local empty = clusters == 0 and not failed
local empty_note = string.format("no clusters of %s in %s", table.concat(engines, ", "), cli.scope_text(scope))

-- The vanished check's findings (history), after the scan's.
local vanished = history_cli.vanished(opts, {})
for _, f in ipairs(vanished) do findings[#findings + 1] = f end
if records then
   parts[#parts + 1] = report.findings_part(vanished, opts.format, { folders = many_folders })
   counts = report.summary_add(counts, vanished)
end
local text
if empty and nagios then
   text = "MDB BACKUP AUDIT UNKNOWN - " .. empty_note .. "\n"
elseif opts.format == "html" then
   text = require("mdb.html").audit(findings, entries, { now = now, days = opts.days, zone = policy.zone,
      all = opts.all, history = history_cli.recent(opts), scope = { folder = folder or cli.scope_text(scope),
         engines = engines, policy = policy.source }, folders = many_folders })
elseif records then
   counts = counts or report.summary_add(nil, {})
   text = report.findings_parts(parts, counts, opts.format,
      { now = now, folders = many_folders })
else
   text = report.findings(findings, opts.format, {
      color = opts.format == "table" and require("mdb.strip").color_wanted(opts.output),
      all = opts.all, now = now, rows = rows, folders = many_folders,
   })
end
local written, werr = report.write(text, opts.output)
if not written then die(werr) end

if empty then
   io.stderr:write(NAME, ": ", empty_note, "\n")
   os.exit(nagios and 3 or 1)
end
if nagios then os.exit((report.nagios_state(findings))) end
os.exit(audit.exit_status(records and counts or findings))
