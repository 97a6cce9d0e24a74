-- inventory.lua: per cluster, how many backups there are (automated and
-- manual), their total size, and the newest and oldest one.
--
--   mdblua scripts/inventory.lua
--   mdblua scripts/inventory.lua --engine postgresql --engine mysql --format csv
--   mdblua scripts/inventory.lua --format prometheus --output /var/lib/node_exporter/mdb_inventory.prom
local mdb = require "mdb"
local cli = require "mdb.cli"
local report = require "mdb.report"

local NAME = "inventory.lua"
local spec = {
   name = NAME,
   summary = "Per cluster in a folder: completed backups (automated and manual), total size,\n"
      .. "newest and oldest backup.",
   options = {
      { "engine", "ENGINE", "engine (default: all)", many = true, check = cli.choice(mdb.engines) },
      { "folder", "ID", "folder id (default $YC_FOLDER_ID)" },
      { "format", "FORMAT", table.concat(report.FORMATS.inventory, "|"), default = "table",
        check = cli.choice(report.FORMATS.inventory) },
      { "output", "FILE", "write the report to FILE (atomically) instead of stdout" },
      { "now", "TIME", "ages as if it were TIME (RFC 3339)" },
      { "concurrency", "N", "clusters listed at once (default 16, at most 256)", check = cli.integer(1, 256) },
      { "page-size", "N", "backups per API request, 0..1000", check = cli.integer(0, 1000) },
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 listed; 2 usage or API error, or a listing failed (the other\n"
      .. "clusters are still reported).",
}
local opts = cli.run(arg, spec)
opts.engine = cli.unique(opts.engine)

local function die(msg)
   cli.fail(NAME, msg, 2)
end

local now = cli.now(spec, opts.now)
local folder = opts.folder or os.getenv("YC_FOLDER_ID")
if not folder or folder == "" then die("no folder: give --folder ID or set YC_FOLDER_ID") end

local results = cli.as_of(cli.scan(NAME, { page_size = opts.page_size }, {
   engines = #opts.engine > 0 and opts.engine or mdb.engines, folder = folder,
   concurrency = opts.concurrency,
}), now)

local failed = false
for _, e in ipairs(results) do
   if e.error ~= nil then
      failed = true
      io.stderr:write(NAME, ": ", e.engine or "?", " ", e.id or "clusters", ": ", tostring(e.error), "\n")
   end
end

local rows = report.inventory_rows(results)
local text = report.inventory(rows, opts.format, { now = now })
local written, werr = report.write(text, opts.output)
if not written then die(werr) end
os.exit(failed and 2 or 0)
