-- snapshot.lua: list the backups of every cluster in scope and record the
-- scan in a history file, nothing else (for cron; see changes.lua and
-- history.lua to read it back).  Each cluster is recorded as its listings
-- complete and then let go, so memory stays flat however large the fleet,
-- and the recording overlaps the scan.
--
--   mdblua scripts/snapshot.lua --db /var/lib/mdblua/fleet.db
--   mdblua scripts/snapshot.lua --db fleet.db --engine postgresql --folder b1g...
--   mdblua scripts/snapshot.lua --db fleet.db --cloud b1gcloud...
local mdb = require "mdb"
local cli = require "mdb.cli"
local fleet = require "mdb.fleet"
local plural = require("mdb.fmt").plural

local NAME = "snapshot.lua"
local spec = {
   name = NAME,
   summary = "List the backups of every cluster in scope and record the scan in a\n"
      .. "history file (SQLite; created when missing).",
   options = {
      { "db", "FILE", "the history file", required = true },
      { "engine", "ENGINE", "engine (default: all)", many = true, check = cli.choice(mdb.engines) },
      { "now", "TIME", "record the scan as taken at TIME (RFC 3339)" },
      cli.concurrency_option(),
      cli.page_size_option(),
      cli.timeout_option(),
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 recorded; 2 usage error, the history file could not be written\n"
      .. "(or holds a scan taken after this one: nothing is recorded), or a listing failed\n"
      .. "(the scan is still recorded, the failed listing as failed).",
}
for i, o in ipairs(cli.scope_options()) do table.insert(spec.options, 2 + i, o) end
local opts = cli.run(arg, spec)
opts.engine = cli.unique(opts.engine)
local function die(msg) cli.fail(NAME, msg, 2) end

local now = cli.now(spec, opts.now)
local scope, serr = cli.scope(opts, os.getenv("YC_FOLDER_ID"))
if not scope then
   if not serr:find("^no folder") then cli.usage_error(spec, serr, 2) end
   die("no folder: give --folder ID or set YC_FOLDER_ID (or give --cloud ID or --all-clouds)")
end
local engines = #opts.engine > 0 and opts.engine or mdb.engines
local scan = { engines = engines, concurrency = opts.concurrency, folder = scope.folder, folders = scope.folders,
   cloud = scope.cloud, all_clouds = scope.all_clouds,
   -- what audit.lua --from needs for retention_policy and failed_backups
   with = { "retention_policies", "operations" } }

-- fleet.run makes the client first (a bad endpoint creates no file), then
-- opens the file (a bad one refused) before the scan spends any request,
-- and hands over a failed Resource Manager listing once.
-- Failures are told after the scan, in the scan's order: written during
-- it they would land on a terminal's progress line.
local note, notes_done = fleet.failure_notes(NAME, scan)
local key = fleet.order(scan)
local failures = {}
local clusters, backups = 0, 0
local id = fleet.run(NAME, { opts = { record = opts.db, now = opts.now }, scan = scan,
   client = { page_size = opts.page_size }, now = now, die = die, code = 2,
   scope = { folder = scope.folder, folders = scope.folders, cloud = scope.cloud, all_clouds = scope.all_clouds,
      engines = engines, time = opts.now and now, tool = NAME } }, function(e, n)
   -- a cluster's retention policies and operations are listings too: the
   -- scan records them as failed, and so must the run's status
   for _, part in ipairs { { e.error }, { e.policies_error, "retention policies: " },
      { e.operations_error, "operations: " } } do
      if part[1] ~= nil then
         failures[#failures + 1] = { key = key(e, n) .. string.format("\0%06d", #failures),
            engine = e.engine, id = e.id, folder = e.folder, cloud = e.cloud,
            error = (part[2] or "") .. tostring(part[1]) }
      end
   end
   if e.id then clusters = clusters + 1 end
   backups = backups + #(e.backups or {})
end)
for _, f in ipairs(fleet.sort(failures)) do note(f) end
notes_done()
io.stderr:write(string.format("%s: scan %d recorded in %s: %s, %s, %s\n", NAME, id, opts.db,
   plural(clusters, "cluster"), plural(backups, "backup"), plural(#failures, "failed listing")))
os.exit(#failures > 0 and 2 or 0)
