-- list-backups.lua: the backups of one cluster, or of every cluster of an
-- engine in a folder, as an aligned table or as JSON.
--
--   mdblua scripts/list-backups.lua --engine postgresql --cluster c9q...
--   mdblua scripts/list-backups.lua --engine mongodb --folder b1g... --json
local mdb = require "mdb"
local cli = require "mdb.cli"
local fmt = require "mdb.fmt"
local cjson = require "cjson"
local report = require "mdb.report"
local backup = require "mdb.backup"

local NAME = "list-backups.lua"
local spec = {
   name = NAME,
   summary = "List the backups of a managed database cluster (--cluster) or of\n"
      .. "every cluster of one engine in a folder (--folder, default $YC_FOLDER_ID).",
   options = {
      { "engine", "ENGINE", "engine: " .. table.concat(mdb.engines, ", "), required = true,
        check = cli.choice(mdb.engines) },
      { "cluster", "ID", "cluster id" },
      { "folder", "ID", "folder id (default $YC_FOLDER_ID)" },
      { "json", nil, "print a JSON array of backup objects instead of a table" },
      { "limit", "N", "stop after N backups", check = cli.integer(0) },
      { "page-size", "N", "backups per API request, 0..1000", check = cli.integer(0, 1000) },
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 listed, 2 usage or API error, or the output could not be written.",
}
local opts = cli.run(arg, spec)
if opts.cluster and opts.folder then cli.usage_error(spec, "give --cluster or --folder, not both") end
if not opts.cluster and not opts.folder then
   opts.folder = os.getenv("YC_FOLDER_ID")
   if not opts.folder or opts.folder == "" then
      cli.usage_error(spec, "give --cluster ID or --folder ID (or set YC_FOLDER_ID)")
   end
end

-- The API's argument names, as the flags that set them.
local FLAG = { cluster = "--cluster", folder = "--folder", engine = "--engine", page_size = "--page-size",
   limit = "--limit" }
local function die(err)
   if mdb.is_error(err) and err.kind == "argument" and FLAG[err.argument] then
      local why = tostring(err.message):gsub("^bad argument '[^']*': ", "")
      cli.usage_error(spec, string.format("option '%s': %s", FLAG[err.argument], why))
   end
   cli.fail(NAME, err, 2)
end

local ok, client = pcall(mdb.client, { page_size = opts.page_size })
if not ok then die(client) end
local it
ok, it = pcall(client.backups, client, {
   engine = opts.engine, cluster = opts.cluster, folder = not opts.cluster and opts.folder or nil,
   limit = opts.limit,
})
if not ok then die(it) end

local out = io.stdout
local function put(...)
   local wrote, werr = out:write(...)
   if not wrote then cli.fail(NAME, "cannot write to stdout: " .. tostring(werr), 2) end
end

if opts.json then
   -- Streamed: one backup at a time, so a deep listing never sits in memory.
   local n = 0
   local listed, err = pcall(function()
      for b in it do
         put(n == 0 and "[\n" or ",\n", cjson.encode(b))
         n = n + 1
      end
   end)
   if not listed then die(err) end
   put(n == 0 and "[]\n" or "\n]\n")
   local flushed, ferr = out:flush()
   if not flushed then cli.fail(NAME, "cannot write to stdout: " .. tostring(ferr), 2) end
   return
end

local now = os.time()
local header = { "ID", "CREATED", "AGE", "SIZE", "TYPE" }
local folder_wide = opts.cluster == nil
if folder_wide then table.insert(header, 2, "CLUSTER") end
local rows = {}
local listed, err = pcall(function()
   for b in it do
      local row = {
         b.id or "?",
         fmt.time(b.created),
         b.created and fmt.age(now - b.created) or "-",
         fmt.size(backup.size_of(b)),
         (b.status == "CREATING" and "CREATING " or "") .. (b.type or "-"),
      }
      if folder_wide then table.insert(row, 2, b.sourceClusterId or "-") end
      rows[#rows + 1] = row
   end
end)
if not listed then die(err) end
put(report.table(header, rows, { right = { [#header - 1] = true } }))   -- SIZE right-aligned
local flushed, ferr = out:flush()
if not flushed then cli.fail(NAME, "cannot write to stdout: " .. tostring(ferr), 2) end
local s = it:stats()
io.stderr:write(string.format("%s, %s\n", fmt.plural(#rows, "backup"), fmt.plural(s.pages, "page")))
