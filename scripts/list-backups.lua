-- list-backups.lua: the backups of one cluster, or of every cluster of an
-- engine in a folder (or in several, or in a cloud's folders), as an
-- aligned table or as JSON.
--
--   mdblua scripts/list-backups.lua --engine postgresql --cluster c9q...
--   mdblua scripts/list-backups.lua --engine mongodb --folder b1g... --json
--   mdblua scripts/list-backups.lua --engine mysql --cloud b1g...
local mdb = require "mdb"
local cli = require "mdb.cli"
local fmt = require "mdb.fmt"
local cjson = require "cjson"
local report = require "mdb.report"
local backup = require "mdb.backup"
local fleet = require "mdb.fleet"

local NAME = "list-backups.lua"
local spec = {
   name = NAME,
   summary = "List the backups of a managed database cluster (--cluster) or of\n"
      .. "every cluster of one engine in a folder (--folder, default $YC_FOLDER_ID).\n"
      .. "With --folder repeated, --cloud or --all-clouds: the backups of every cluster\n"
      .. "Cluster.List finds in those folders, with a FOLDER column.",
   options = {
      { "engine", "ENGINE", "engine: " .. table.concat(mdb.engines, ", "), required = true,
        check = cli.choice(mdb.engines) },
      { "cluster", "ID", "cluster id", check = cli.id() },
      { "json", nil, "print a JSON array of backup objects instead of a table" },
      { "limit", "N", "stop after N backups", check = cli.integer(0) },
      cli.page_size_option(),
      cli.timeout_option(),
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 listed, 2 usage or API error (with several folders: some listing\n"
      .. "failed, the others still listed), or the output could not be written.",
}
for i, o in ipairs(cli.scope_options()) do table.insert(spec.options, 2 + i, o) end
local opts = cli.run(arg, spec)
local scope
if opts.cluster then
   local clash = cli.cluster_scope_clash(opts)
   if clash then cli.usage_error(spec, clash) end
else
   local serr
   scope, serr = cli.scope(opts, os.getenv("YC_FOLDER_ID"))
   if not scope then
      if not serr:find("^no folder") then cli.usage_error(spec, serr) end
      cli.usage_error(spec, "give --cluster ID or --folder ID (or set YC_FOLDER_ID,"
         .. " or give --cloud ID or --all-clouds)")
   end
end
opts.folder = scope and scope.folder

-- The API's argument names, as the flags that set them.
local FLAG = { cluster = "--cluster", folder = "--folder", folders = "--folder", cloud = "--cloud",
   engine = "--engine", page_size = "--page-size", limit = "--limit" }
local function die(err)
   if mdb.is_error(err) and err.kind == "argument" and FLAG[err.argument] then
      local why = tostring(err.message):gsub("^bad argument '[^']*': ", "")
      cli.usage_error(spec, string.format("option '%s': %s", FLAG[err.argument], why))
   end
   cli.fail(NAME, err, 2)
end

local out = io.stdout
local function put(...)
   local wrote, werr = out:write(...)
   if not wrote then cli.fail(NAME, "cannot write to stdout: " .. tostring(werr), 2) end
end
local function flush()
   local flushed, ferr = out:flush()
   if not flushed then cli.fail(NAME, "cannot write to stdout: " .. tostring(ferr), 2) end
end

-- The table: ID, then FOLDER (several folders) and CLUSTER (any folder
-- listing), CREATED, AGE, SIZE, TYPE.
local now = os.time()
local many_folders = cli.many_folders(scope)
local header = { "ID", "CREATED", "AGE", "SIZE", "TYPE" }
if not opts.cluster then table.insert(header, 2, "CLUSTER") end
if many_folders then table.insert(header, 2, "FOLDER") end
local function row(b, folder)
   local r = {
      b.id or "?",
      fmt.time(b.created),
      b.created and fmt.age(now - b.created) or "-",
      fmt.size(backup.size_of(b)),
      (b.status == "CREATING" and "CREATING " or "") .. (b.type or "-"),
   }
   if not opts.cluster then table.insert(r, 2, b.sourceClusterId or "-") end
   if many_folders then table.insert(r, 2, folder or "-") end
   return r
end
local function print_table(rows, pages, failed)
   put(report.table(header, rows, { right = { [#header - 1] = true } }))   -- SIZE right-aligned
   flush()
   io.stderr:write(string.format("%s, %s%s\n", fmt.plural(#rows, "backup"), fmt.plural(pages, "page"),
      (failed or 0) > 0 and (", " .. fmt.plural(failed, "listing") .. " failed") or ""))
end

if many_folders then
   -- Several folders: a streaming scan of their clusters, each cluster's
   -- rows (or JSON texts) kept as its listing completes and sorted into
   -- the scan's order (folders, then Cluster.List order) at the end.  A
   -- failed listing is reported and the others still listed; its partial
   -- backups are dropped, as a failed single listing prints none, so no
   -- row stands for a listing that did not finish.
   local scan = { engine = opts.engine, folders = scope.folders, cloud = scope.cloud, all_clouds = scope.all_clouds,
      limit = opts.limit }   -- per cluster: never more than the whole listing shows
   local key, kept, pages = fleet.order(scan), {}, 0
   cli.stream(NAME, cli.client(NAME, { page_size = opts.page_size }, 2), scan, 2, function(e, n)
      local k = { key = key(e, n), engine = e.engine, id = e.id, folder = e.folder, cloud = e.cloud,
         error = e.error, items = {} }
      pages = pages + (e.stats and e.stats.pages or 0)
      if e.error == nil then
         for i, b in ipairs(e.backups) do k.items[i] = opts.json and cjson.encode(b) or row(b, e.folder) end
      end
      kept[#kept + 1] = k
   end)
   fleet.sort(kept)
   local items, failed = {}, 0
   local note, notes_done = fleet.failure_notes(NAME, scan)
   for _, k in ipairs(kept) do
      if k.error ~= nil then failed = failed + 1 end
      note(k)
      for _, x in ipairs(k.items) do
         if opts.limit and #items >= opts.limit then break end
         items[#items + 1] = x
      end
   end
   notes_done()
   kept = nil
   if opts.json then
      -- A failed listing leaves the array open, as one listing cut mid-way
      -- does: a parser then fails rather than take the rest for the whole.
      if #items > 0 then put("[\n", table.concat(items, ",\n"), failed > 0 and "\n" or "\n]\n")
      elseif failed == 0 then put("[]\n") end
      flush()
   else
      print_table(items, pages, failed)
   end
   os.exit(failed > 0 and 2 or 0)
end

local ok, client = pcall(mdb.client, { page_size = opts.page_size })
if not ok then die(client) end
local it
ok, it = pcall(client.backups, client, {
   engine = opts.engine, cluster = opts.cluster, folder = not opts.cluster and opts.folder or nil,
   limit = opts.limit,
})
if not ok then die(it) end

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
   flush()
   return
end

local rows = {}
local listed, err = pcall(function()
   for b in it do rows[#rows + 1] = row(b) end
end)
if not listed then die(err) end
print_table(rows, it:stats().pages)
