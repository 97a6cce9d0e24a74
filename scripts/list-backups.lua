-- list-backups.lua: the backups of one cluster, or of every cluster of an
-- engine in a folder, as an aligned table or as JSON.
--
--   mdblua scripts/list-backups.lua --engine postgresql --cluster c9q...
--   mdblua scripts/list-backups.lua --engine mongodb --folder b1g... --json
local mdb = require "mdb"
local cli = require "mdb.cli"
local fmt = require "mdb.fmt"
local cjson = require "cjson"

local spec = {
   name = "list-backups.lua",
   summary = "List the backups of a managed database cluster (--cluster) or of\n"
      .. "every cluster of one engine in a folder (--folder, default $YC_FOLDER_ID).",
   options = {
      { "engine", "ENGINE", "engine: " .. table.concat(mdb.engines, ", "), required = true },
      { "cluster", "ID", "cluster id" },
      { "folder", "ID", "folder id (default $YC_FOLDER_ID)" },
      { "json", nil, "print a JSON array of backup objects instead of a table" },
      { "limit", "N", "stop after N backups", check = cli.integer(0) },
      { "page-size", "N", "backups per API request, 0..1000", check = cli.integer(0) },
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 listed, 2 usage or API error.",
}
local opts = cli.run(arg, spec)

local client = mdb.client { page_size = opts.page_size }
local it = client:backups {
   engine = opts.engine, cluster = opts.cluster, folder = opts.folder,
   limit = opts.limit,
}

local function size_of(b)
   return b.size or b.sizeBytes
end

if opts.json then
   -- Streamed: one backup at a time, so a deep listing never sits in memory.
   local out = io.stdout
   local n = 0
   for b in it do
      out:write(n == 0 and "[\n" or ",\n", cjson.encode(b))
      n = n + 1
   end
   out:write(n == 0 and "[]\n" or "\n]\n")
   return
end

local now = os.time()
local header = { "ID", "CREATED", "AGE", "SIZE", "TYPE" }
local folder_wide = opts.cluster == nil
if folder_wide then table.insert(header, 2, "CLUSTER") end
local rows = { header }
for b in it do
   local row = {
      b.id or "?",
      fmt.time(b.created),
      b.created and fmt.age(now - b.created) or "-",
      fmt.size(size_of(b)),
      (b.status == "CREATING" and "CREATING " or "") .. (b.type or "-"),
   }
   if folder_wide then table.insert(row, 2, b.sourceClusterId or "-") end
   rows[#rows + 1] = row
end

local widths = {}
for _, r in ipairs(rows) do
   for i, cell in ipairs(r) do
      if #cell > (widths[i] or 0) then widths[i] = #cell end
   end
end
local right = { [#header - 1] = true }   -- SIZE is right-aligned
for _, r in ipairs(rows) do
   local cells = {}
   for i, cell in ipairs(r) do
      local w = widths[i]
      cells[i] = right[i] and string.rep(" ", w - #cell) .. cell
         or (i < #r and cell .. string.rep(" ", w - #cell) or cell)
   end
   io.stdout:write(table.concat(cells, "  "), "\n")
end
local s = it:stats()
io.stdout:flush()
io.stderr:write(string.format("%d backup%s, %d page%s\n", #rows - 1,
   #rows == 2 and "" or "s", s.pages, s.pages == 1 and "" or "s"))
