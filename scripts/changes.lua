-- changes.lua: what changed between two recorded scans of a history file
-- (see snapshot.lua and --record): backups that appeared or vanished, each
-- vanished one judged expected (an automated backup past its retention) or
-- unexpected, clusters that appeared or vanished, retention and window
-- settings that changed, the newest backup's size jumping; a backup (or a
-- cluster) listed in both scans but missing from a complete listing in
-- between (reappeared, cluster_reappeared), a cluster moved between
-- folders (moved).
--
--   mdblua scripts/changes.lua --db fleet.db                 (the last two scans)
--   mdblua scripts/changes.lua --db fleet.db --since 24h --format json
--   mdblua scripts/changes.lua --db fleet.db --format html --output changes.html
local cli = require "mdb.cli"
local history = require "mdb.history"
local changes = require "mdb.history_changes"
local report = require "mdb.report"
local FORMATS = require("mdb.html").with_html(changes.FORMATS)

local NAME = "changes.lua"
local spec = {
   name = NAME,
   summary = "What changed between two scans recorded in a history file, with a verdict\n"
      .. "(expected, unexpected, info) on each change.",
   options = {
      { "db", "FILE", "the history file (written by snapshot.lua or --record)", required = true },
      { "since", "DURATION", "compare with the last scan at least this long before --to (e.g. 24h, 7d)",
        check = cli.duration() },
      { "from", "SCAN", "the earlier scan: its id, or an RFC 3339 time (the last scan at or before it)" },
      { "to", "SCAN", "the later scan: id or time (default: the last scan)" },
      { "format", "FORMAT", table.concat(FORMATS, "|"), default = "table", check = cli.choice(FORMATS) },
      { "output", "FILE", "write the report to FILE (atomically) instead of stdout" },
   },
   footer = "Default: from the last scan before --to of the same scope (folders, at least its engines).\n"
      .. "Exit status: 0 nothing unexpected; 1 an unexpected change; 2 a usage error or an\n"
      .. "unreadable history file.",
}
local opts = cli.run(arg, spec)
local function die(msg) cli.fail(NAME, msg, 2) end
-- what the user typed wrong: one line and where the help is
local function usage(msg) cli.usage_error(spec, msg, 2) end

if opts.since and opts.from then usage("give --since or --from, not both") end
local h, err = history.open(opts.db)
if not h then die(err) end

-- A scan named by id or by time.
local function pick(text, flag)
   if text:match("^%d+$") then
      local s = h:scan(math.tointeger(tonumber(text)))
      if not s then die(string.format("option '--%s': no scan %s in %s", flag, text, opts.db)) end
      return s
   end
   local t = history.parse_time(text)
   if not t then usage(string.format("option '--%s': not a scan id or an RFC 3339 time: %s", flag, text)) end
   local s = h:at(t)
   if not s then die(string.format("option '--%s': no scan at or before %s in %s", flag, text, opts.db)) end
   return s
end

-- A damaged file fails at its first query, wherever that is: one line
-- naming the file, not a traceback.
local late   -- the note that the history starts after --since
local ok, to, from, list = pcall(function()
   local to = opts.to and pick(opts.to, "to") or h:latest()
   if not to then die(opts.db .. ": no scans recorded yet") end
   local from
   if opts.from then
      from = pick(opts.from, "from")
   elseif opts.since then
      local d = require("mdb.duration").parse(opts.since)
      from = h:at(to.time - d)
      if not from then
         -- a comparison over less than the time asked for must say so
         from = h:first()
         local fmt = require "mdb.fmt"
         late = string.format("%s: --since %s asks for a scan at or before %s, but the history in %s starts"
            .. " at %s (scan %d): compared from that first scan\n", NAME, opts.since,
            fmt.rfc3339(math.floor(to.time - d)), opts.db, fmt.rfc3339(math.floor(from.time)), from.id)
      end
   else
      from = h:before_like(to) or to
   end
   if from.id > to.id then
      usage(string.format("--from scan %d is after --to scan %d", from.id, to.id))
   end
   local l, cerr = changes.between(h, from.id, to.id)
   if not l then die(cerr) end
   return to, from, l
end)
if not ok then die(history.located(opts.db, to)) end
if late then io.stderr:write(late) end
-- "0 changes" from a scan compared with itself is no news: said so.
if from.id == to.id and not late then
   io.stderr:write(string.format("%s: scan %d compared with itself: %s\n", NAME, to.id,
      (opts.from or opts.since) and "--from and --to name the same scan"
      or opts.db .. " holds no earlier scan of its scope (record another to see what changed)"))
end
-- Scans of different folders or engines are compared on those both
-- listed: what was left out is said, not read as clusters appearing or
-- vanishing, nor passed over in silence.
for _, what in ipairs { { list.left_out, "folders" }, { list.engines_left_out, "engines" } } do
   if what[1] then
      local by_scan = {}
      for x, id in pairs(what[1]) do
         by_scan[id] = by_scan[id] or {}
         table.insert(by_scan[id], x)
      end
      local parts = {}
      for _, id in ipairs { from.id, to.id } do
         if by_scan[id] then
            table.sort(by_scan[id])
            parts[#parts + 1] = string.format("only scan %d listed %s", id, table.concat(by_scan[id], ", "))
         end
      end
      io.stderr:write(string.format("%s: compared on the %s both scans listed (%s: not compared)\n", NAME,
         what[2], table.concat(parts, "; ")))
   end
end
local text
if opts.format == "html" then
   text = require("mdb.html_changes").page(list, { from = from, to = to })
else
   text = changes.render(list, opts.format, { from = from, to = to })
   -- Names and ids come from the API: in markdown, as in the table, a
   -- control character becomes "?", so none reaches a terminal.
   if opts.format == "markdown" then
      text = text:gsub("[^\n]+", require("mdb.aligned").safe)
   end
end
local written, werr = report.write(text, opts.output)
if not written then die(werr) end
h:close()
os.exit(changes.exit_status(list))
