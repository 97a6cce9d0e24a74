-- snapshot.lua: list the backups of every cluster in a folder and record
-- the scan in a history file, nothing else (for cron; see changes.lua and
-- history.lua to read it back).
--
--   mdblua scripts/snapshot.lua --db /var/lib/mdblua/fleet.db
--   mdblua scripts/snapshot.lua --db fleet.db --engine postgresql --folder b1g...
local mdb = require "mdb"
local cli = require "mdb.cli"
local history = require "mdb.history"

local NAME = "snapshot.lua"
local spec = {
   name = NAME,
   summary = "List the backups of every cluster in a folder and record the scan in a\n"
      .. "history file (SQLite; created when missing).",
   options = {
      { "db", "FILE", "the history file", required = true },
      { "engine", "ENGINE", "engine (default: all)", many = true, check = cli.choice(mdb.engines) },
      { "folder", "ID", "folder id (default $YC_FOLDER_ID)", check = cli.id() },
      { "now", "TIME", "record the scan as taken at TIME (RFC 3339)" },
      cli.concurrency_option(),
      cli.page_size_option(),
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 recorded; 2 usage error, the history file could not be written,\n"
      .. "or a listing failed (the scan is still recorded, the failed listing as failed).",
}
local opts = cli.run(arg, spec)
opts.engine = cli.unique(opts.engine)
local function die(msg) cli.fail(NAME, msg, 2) end

local now = os.time()
if opts.now then
   now = mdb.parse_time(opts.now)
   if not now then die("option '--now': not an RFC 3339 time: " .. opts.now) end
end
local folder = opts.folder or os.getenv("YC_FOLDER_ID")
if not folder or folder == "" then die("no folder: give --folder ID or set YC_FOLDER_ID") end
local engines = #opts.engine > 0 and opts.engine or mdb.engines

-- Refuse a bad file before spending a scan on it.
local h, herr = history.open(opts.db, { write = true })
if not h then die(herr) end
h:close()

local results = cli.scan(NAME, { page_size = opts.page_size },
   { engines = engines, folder = folder, concurrency = opts.concurrency,
      -- what audit.lua --from needs for retention_policy and failed_backups
      with = { "retention_policies", "operations" } })

local failed, clusters, backups = 0, 0, 0
for _, e in ipairs(results) do
   if e.error ~= nil then
      failed = failed + 1
      io.stderr:write(NAME, ": ", e.engine or "?", " ", e.id or "clusters", ": ", tostring(e.error), "\n")
   end
   if e.id then clusters = clusters + 1 end
   backups = backups + #(e.backups or {})
end
local scan, err = history.record(opts.db, results, { time = now, folder = folder, engines = engines, tool = NAME })
if not scan then die(err) end
io.stderr:write(string.format("%s: scan %d recorded in %s: %d clusters, %d backups, %d failed listings\n",
   NAME, scan, opts.db, clusters, backups, failed))
os.exit(failed > 0 and 2 or 0)
