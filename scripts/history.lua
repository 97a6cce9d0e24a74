-- history.lua: the life of one backup, or a cluster over time, from a
-- history file (see snapshot.lua and --record).
--
--   mdblua scripts/history.lua --db fleet.db backup c9q...:auto_20261123T093138Z
--   mdblua scripts/history.lua --db fleet.db cluster c9q... --format json
local cli = require "mdb.cli"
local fmt = require "mdb.fmt"
local history = require "mdb.history"
local lives = require "mdb.history_lives"
local report = require "mdb.report"

local NAME = "history.lua"
local FORMATS = { "table", "json" }
local spec = {
   name = NAME,
   words = "--db FILE (backup ID | cluster ID)",
   summary = "backup ID: when it was first and last seen, when it vanished and whether that\n"
      .. "was expected.  cluster ID: its backups and total size per scan and per day, and\n"
      .. "how long each backup took.",
   options = {
      { "db", "FILE", "the history file", required = true },
      { "engine", "ENGINE", "with cluster: the engine, when the id is known under several",
        check = cli.choice(require("mdb").engines) },
      { "format", "FORMAT", table.concat(FORMATS, "|"), default = "table", check = cli.choice(FORMATS) },
      { "output", "FILE", "write the report to FILE (atomically) instead of stdout" },
   },
   footer = "Exit status: 0 found; 1 not in the history; 2 usage error or unreadable file.",
}

-- The two words after the options (cli.parse takes options only).
local words, rest = {}, {}
do
   local takes = { ["--db"] = true, ["--engine"] = true, ["--format"] = true, ["--output"] = true }
   local i = 1
   while i <= #arg do
      local a = arg[i]
      if takes[a] then
         rest[#rest + 1], rest[#rest + 2] = a, arg[i + 1]
         i = i + 1
      elseif a:sub(1, 1) == "-" then
         rest[#rest + 1] = a
      else
         words[#words + 1] = a
      end
      i = i + 1
   end
end
local opts = cli.run(rest, spec)
-- A usage error is one line and where the help is, as in every script.
local function usage(msg) cli.usage_error(spec, msg, 2) end
if #words ~= 2 or (words[1] ~= "backup" and words[1] ~= "cluster") then
   usage(#words == 0 and "say what to show: backup ID or cluster ID"
      or "expected 'backup ID' or 'cluster ID', got '" .. table.concat(words, " ") .. "'")
end
local kind, id = words[1], words[2]
if id == "" then usage(kind .. ": the id must not be empty") end
-- a backup is looked up under every engine: --engine would be ignored
if kind == "backup" and opts.engine then usage("--engine applies to 'cluster ID' only, not to 'backup ID'") end

local h, err = history.open(opts.db)
if not h then cli.fail(NAME, err, 2) end

local function out(text)
   -- The table's names and ids come from the API: a control character in
   -- one becomes "?", so no escape sequence reaches the terminal (json
   -- escapes them itself).
   if opts.format == "table" then
      text = text:gsub("[^\n]+", require("mdb.aligned").safe)
   end
   local ok, werr = report.write(text, opts.output)
   if not ok then cli.fail(NAME, werr, 2) end
end

local obj, arr = report.object, function(t) return setmetatable(t, report.ARRAY) end

-- A damaged file fails at its first query: one line naming the file.
local function read(fn, ...)
   local ok, v = pcall(fn, ...)
   if not ok then cli.fail(NAME, history.located(opts.db, v), 2) end
   return v
end

if kind == "backup" then
   local list = read(lives.backup, h, id)
   if #list == 0 then cli.fail(NAME, string.format("backup %s: not in %s", id, opts.db), 1) end
   if opts.format == "json" then
      local keys = { "engine", "cluster", "backup_id", "type", "created", "size", "first_seen", "last_seen",
         "vanished_at", "verdict", "message", "states" }
      local items = arr {}
      for i, l in ipairs(list) do
         local states = arr {}
         for k, s in ipairs(l.states) do
            states[k] = obj({ from = s.from, to = s.to or report.null, status = s.status or report.null,
               size = s.size or report.null }, { "from", "to", "status", "size" })
         end
         l.states = states
         items[i] = obj(l, keys)
      end
      out(report.json(items) .. "\n")
   else
      local lines = {}
      for _, l in ipairs(list) do
         lines[#lines + 1] = string.format("backup %s (%s %s)\n  type %s, created %s, size %s\n"
            .. "  first seen  %s\n  last seen   %s\n  vanished    %s\n  verdict     %s: %s",
            id, l.engine, l.cluster, l.type or "-", l.created or "-", l.size and fmt.size(l.size) or "-",
            l.first_seen or "-", l.last_seen or "-", l.vanished_at or "-", l.verdict or "-", l.message or "")
         if #l.states > 1 then
            lines[#lines + 1] = "  states:"
            for _, s in ipairs(l.states) do
               lines[#lines + 1] = string.format("    %s .. %s  %s  %s", s.from or "-", s.to or "now",
                  s.status or "-", s.size and fmt.size(s.size) or "-")
            end
         end
      end
      out(table.concat(lines, "\n") .. "\n")
   end
else
   local found = read(function() return table.pack(lives.cluster(h, id, opts.engine)) end)
   local t, ambiguous = found[1], found[2]
   if ambiguous then cli.fail(NAME, string.format("%s: %s: give --engine ENGINE", opts.db, ambiguous), 2) end
   if not t then cli.fail(NAME, string.format("cluster %s: not in %s", id, opts.db), 1) end
   if opts.format == "json" then
      local scans, days, durations = arr {}, arr {}, arr {}
      for i, s in ipairs(t.scans) do
         scans[i] = obj({ scan = s.scan, time = s.time, status = s.status, backups = s.backups or report.null,
            total_size = s.total_size or report.null }, { "scan", "time", "status", "backups", "total_size" })
      end
      for i, d in ipairs(t.days) do
         days[i] = obj(d, { "day", "backups", "total_size" })
      end
      for i, d in ipairs(t.durations) do
         durations[i] = obj(d, { "backup_id", "created", "seconds" })
      end
      out(report.json(obj({ engine = t.engine, cluster = t.cluster, name = t.name or report.null, scans = scans,
         days = days, durations = durations }, { "engine", "cluster", "name", "scans", "days", "durations" })) .. "\n")
   else
      local parts = { string.format("cluster %s (%s%s)\n", id, t.engine, t.name and (", " .. t.name) or "") }
      local rows = {}
      for i, d in ipairs(t.days) do rows[i] = { d.day, tostring(d.backups), fmt.size(d.total_size) } end
      parts[#parts + 1] = "per day (last complete listing of the day):\n"
      parts[#parts + 1] = report.table({ "DAY", "BACKUPS", "TOTAL SIZE" }, rows, { right = { [2] = true, [3] = true } })
      rows = {}
      for i, s in ipairs(t.scans) do
         rows[i] = { tostring(s.scan), s.time, s.status, s.backups and tostring(s.backups) or "-",
            s.total_size and fmt.size(s.total_size) or "-" }
      end
      parts[#parts + 1] = "\nper scan:\n"
      parts[#parts + 1] = report.table({ "SCAN", "TIME", "LISTING", "BACKUPS", "TOTAL SIZE" }, rows,
         { right = { [4] = true, [5] = true } })
      rows = {}
      for i, d in ipairs(t.durations) do rows[i] = { d.backup_id, d.created or "-", fmt.age(d.seconds) } end
      parts[#parts + 1] = "\nbackup durations (createdAt - startedAt):\n"
      parts[#parts + 1] = report.table({ "BACKUP", "CREATED", "DURATION" }, rows, { right = { [3] = true } })
      out(table.concat(parts))
   end
end
h:close()
os.exit(0)
