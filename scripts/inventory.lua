-- inventory.lua: per cluster, how many backups there are (automated and
-- manual), their total size, and the newest and oldest one.
--
--   mdblua scripts/inventory.lua
--   mdblua scripts/inventory.lua --engine postgresql --engine mysql --format csv
--   mdblua scripts/inventory.lua --format prometheus --output /var/lib/node_exporter/mdb_inventory.prom
local mdb = require "mdb"
local cli = require "mdb.cli"
local report = require "mdb.report"
local FORMATS = require("mdb.html").with_html(report.FORMATS.inventory)
local history_cli = require "mdb.history_cli"
local fleet = require "mdb.fleet"

local NAME = "inventory.lua"
local spec = {
   name = NAME,
   summary = "Per cluster in a folder: completed backups (automated and manual), total size,\n"
      .. "newest and oldest backup.",
   options = {
      { "engine", "ENGINE", "engine (default: all)", many = true, check = cli.choice(mdb.engines) },
      { "format", "FORMAT", table.concat(FORMATS, "|"), default = "table", check = cli.choice(FORMATS) },
      { "timeline", nil, "one row per cluster with a strip of the last --days days" },
      { "days", "N", "days of --timeline (default 14) and of --format html (default 30)",
        check = require("mdb.timeline").days_option },
      { "output", "FILE", "write the report to FILE (atomically) instead of stdout" },
      { "now", "TIME", "ages as if it were TIME (RFC 3339)" },
      cli.concurrency_option(),
      cli.page_size_option(),
      cli.timeout_option(),
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 listed; 2 usage or API error, or a listing failed (the other\n"
      .. "clusters are still reported).",
}
for i, o in ipairs(cli.scope_options()) do table.insert(spec.options, 1 + i, o) end
history_cli.add_options(spec)
table.insert(spec.options,
   { "db", "FILE", "html: history file for each cluster's size and vanished backups (not written;"
      .. " with --from, the --from file is used)" })
local opts = cli.run(arg, spec)
opts.engine = cli.unique(opts.engine)

local function die(msg)
   cli.fail(NAME, msg, 2)
end

local function usage(msg)
   cli.usage_error(spec, msg, 2)
end

if opts.db and opts.format ~= "html" then usage("--db is read by --format html only") end
if opts.timeline and opts.format ~= "table" then
   usage("--timeline draws text strips: it takes no --format " .. opts.format
      .. (opts.format == "html" and " (the page draws its own timelines: give --format html alone)"
         or " (the timelines as a page are --format html)"))
end
-- The page draws the history of the file the scan comes from.
if opts.db and opts.from then
   usage("give --db or --from, not both (with --from, the --from file's history is drawn)")
end
local clash = history_cli.option_clash(opts)
if clash then usage(clash) end
-- A flag typed is never silently ignored.
if opts.days and not opts.timeline and opts.format ~= "html" then
   usage("--days sets the strips of --timeline and of --format html; give one of them, or leave --days out")
end
if opts.from and (opts.concurrency or opts.page_size) then
   usage((opts.concurrency and "--concurrency" or "--page-size")
      .. " shapes the API's listings; --from reads a recorded scan and lists nothing")
end
local now = cli.now(spec, opts.now)
local scope, serr = cli.scope(opts, os.getenv("YC_FOLDER_ID"))
if not scope and not opts.from then
   if not serr:find("^no folder") then usage(serr) end
   die("no folder: give --folder ID or set YC_FOLDER_ID (or give --cloud ID or --all-clouds)")
end
scope = scope or {}
local folder = scope.folder

local engines = #opts.engine > 0 and opts.engine or mdb.engines
local scan = { engines = engines, concurrency = opts.concurrency, folder = scope.folder, folders = scope.folders,
   cloud = scope.cloud, all_clouds = scope.all_clouds }
local results, recorded
if opts.from then
   results, recorded = history_cli.load(opts, engines, die)
   now = history_cli.now(opts, now, recorded)
   scope = history_cli.scope(recorded, scan)
   folder = scope.folder
end

-- Per cluster only its row (and, for the strips and the page, the
-- backups their window shows), sorted into scan order at the end.
local days = opts.days or (opts.timeline and 14 or 30)
local window_start = (opts.timeline or opts.format == "html")
   and require("mdb.timeline").window(now, days).start
local key = fleet.order(scan)
local kept = {}
fleet.run(NAME, { opts = opts, scan = scan, client = { page_size = opts.page_size }, now = now, die = die,
   code = 2, results = results,
   scope = { folder = folder, folders = scope.folders, cloud = scope.cloud, all_clouds = scope.all_clouds,
      engines = engines, time = opts.now and now, tool = NAME } }, function(e, n)
   local item = { key = key(e, n), engine = e.engine, id = e.id, folder = e.folder, cloud = e.cloud }
   if e.error ~= nil then item.error = tostring(e.error) end
   if window_start then item.entry = fleet.window_entry(e, window_start)
   else item.row = report.inventory_rows({ e })[1] end
   kept[#kept + 1] = item
end)
fleet.sort(kept)
local many_folders = cli.many_folders(scope)

local failed = false
local rows, entries = {}, {}
local note, notes_done = fleet.failure_notes(NAME, scan)
for _, item in ipairs(kept) do
   if item.error then failed = true end
   note(item)
   rows[#rows + 1] = item.row
   entries[#entries + 1] = item.entry
end
notes_done()
kept = nil

local text
if opts.timeline then
   text = require("mdb.strip").rows(entries, { now = now, days = days, folders = many_folders,
      color = require("mdb.strip").color_wanted(opts.output) })
elseif opts.format == "html" then
   text = require("mdb.html").inventory(entries, { now = now, days = opts.days, history = history_cli.recent(opts),
      scope = { folder = folder or cli.scope_text(scope) }, folders = many_folders })
else
   text = report.inventory(rows, opts.format, { now = now, folders = many_folders })
end
local written, werr = report.write(text, opts.output)
if not written then die(werr) end
os.exit(failed and 2 or 0)
