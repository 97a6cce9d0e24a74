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
local history_cli = require "mdb.history_cli"
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
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 recorded; 2 usage error, the history file could not be written,\n"
      .. "or a listing failed (the scan is still recorded, the failed listing as failed).",
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

-- The client first (a bad endpoint creates no file), then the file opened
-- (a bad one refused) before the scan spends any request.
local client = cli.client(NAME, { page_size = opts.page_size }, 2)
local rec = history_cli.recorder({ record = opts.db }, { folder = scope.folder, folders = scope.folders,
   cloud = scope.cloud, all_clouds = scope.all_clouds, engines = engines, time = now, tool = NAME }, die)
scan.listed = rec.listed

local by_cloud = scope.cloud ~= nil or scope.all_clouds == true
local note = fleet.failure_notes(NAME, scan)
local failed, seen, clusters, backups = 0, {}, 0, 0
cli.stream(NAME, client, scan, 2, function(e, n)
   rec.add(e, n)
   if e.error ~= nil then
      -- A failed Resource Manager listing comes once per engine: one failure.
      local rm = by_cloud and e.id == nil and e.folder == nil
      local key = rm and ("rm " .. tostring(e.cloud)) or n
      if not seen[key] then
         seen[key] = true
         failed = failed + 1
      end
      note(e)
   end
   if e.id then clusters = clusters + 1 end
   backups = backups + #(e.backups or {})
end)
local id = rec.finish()
io.stderr:write(string.format("%s: scan %d recorded in %s: %s, %s, %s\n", NAME, id, opts.db,
   plural(clusters, "cluster"), plural(backups, "backup"), plural(failed, "failed listing")))
os.exit(failed > 0 and 2 or 0)
