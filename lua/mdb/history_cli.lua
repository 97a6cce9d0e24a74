--- History options for the fleet scripts (audit.lua, inventory.lua): each
-- hook is one line in the script.
--
--   --record FILE   record this scan in FILE (created when missing)
--   --db FILE       read FILE's history for the `vanished` check without
--                   recording this scan (the scan is compared in a
--                   transaction that is rolled back)
--   --from FILE     no API access: use the scan FILE recorded last (at or
--                   before --at TIME)
-- @module mdb.history_cli
local M = {}

local format = string.format

local function history() return require "mdb.history" end

--- The audit's checks and, last, `vanished`: what audit.lua's --check
-- accepts.  `vanished` judges the history, not a cluster's listing, so it
-- is not one of mdb.audit's checks.
M.CHECKS = {}
for i, c in ipairs(require("mdb.audit").CHECKS) do M.CHECKS[i] = c end
M.CHECKS[#M.CHECKS + 1] = "vanished"

--- The --check names that are mdb.audit checks (for `audit.only`: none
-- when only `vanished` is asked for); `usage(message)` ends the script
-- when `vanished` is asked for without history to judge it by.
function M.scan_checks(opts, usage)
   local out = {}
   for _, c in ipairs(opts.check or {}) do
      if c == "vanished" then
         if not (opts.record or opts.db or opts.from) then
            usage("--check vanished needs a history: give --record FILE, --db FILE or --from FILE")
         end
      else
         out[#out + 1] = c
      end
   end
   return out
end

--- Add the history options to a script's cli spec.
-- @param what `{audit = true}` adds --db, --at and the vanished check's notes
function M.add_options(spec, what)
   local o = spec.options
   o[#o + 1] = { "record", "FILE", "record this scan in a history file (SQLite, created when missing)" }
   if what and what.audit then
      o[#o + 1] = { "db", "FILE", "history file to compare with for the vanished check (not written)" }
   end
   o[#o + 1] = { "from", "FILE", "no API access: the scan a history file recorded last" .. (what and what.audit
      and " (at or before --at)" or "") }
   if what and what.audit then
      o[#o + 1] = { "at", "TIME", "with --from: the last scan at or before TIME (RFC 3339)" }
   end
   return spec
end

--- nil, or the usage error of history options that do not go together:
-- --record with --from (one file read, one written) or with another --db;
-- a scope flag with --from (the scan read is the one recorded, folders and
-- all, so a --folder, --cloud or --all-clouds beside it would be ignored,
-- and a flag typed is never silently ignored).
function M.option_clash(opts)
   if opts.record and opts.from then return "--from reads a history file; it cannot be used with --record" end
   if opts.record and opts.db and opts.record ~= opts.db then
      return "give --record or --db, not both (--record also serves as --db)"
   end
   if not opts.from then return nil end
   for _, flag in ipairs { { opts.folder ~= nil and #opts.folder > 0, "--folder" }, { opts.cloud, "--cloud" },
      { opts.all_clouds, "--all-clouds" } } do
      if flag[1] then
         return flag[2] .. " cannot narrow --from: it reads the scan as it was recorded, in the scope it had"
      end
   end
end

--- The results of the recorded scan `--from` names (with --at), limited to
-- `engines` when given: a function `results(fn)` calling `fn(entry, n)` for
-- each entry, shaped as `client:scan` gives them and made only when its
-- turn comes (`H:each_result`); and the scan (its `time` is the default
-- --now).  Ends the script through `die(message)` on any error reading the
-- file; an error `fn` raises goes through as it is.
function M.load(opts, engines, die)
   local h, err = history().open(opts.from)
   if not h then die(err) end
   local t
   if opts.at then
      t = history().parse_time(opts.at)
      if not t then die("option '--at': not an RFC 3339 time: " .. opts.at) end
   end
   -- A damaged file fails at its first query: one line naming it.
   local read, scan = pcall(function()
      if t then return h:at(t) end
      return h:latest()
   end)
   if not read then die(history().located(opts.from, scan)) end
   if not scan and t then die(format("%s: no scan at or before %s", opts.from, opts.at)) end
   if not scan then die(opts.from .. ": no scans recorded yet") end
   local want
   if engines then
      want = {}
      for _, e in ipairs(engines) do want[e] = true end
   end
   M.loaded = { h = h, scan = scan.id, engines = want, die = die, path = opts.from }
   local function results(fn)
      local n, raised = 0, nil
      local ok, rerr = pcall(h.each_result, h, scan.id, function(e)
         if want and not want[e.engine] then return end
         n = n + 1
         local ok2, ferr = pcall(fn, e, n)
         if not ok2 then
            raised = { ferr }
            error(raised)
         end
      end)
      if ok then return end
      if rerr == raised then error(raised[1], 0) end
      die(history().located(opts.from, rerr))
   end
   return results, scan
end

--- The scope of the recorded scan `--from` read (what `mdb.cli.scope`
-- gives a live run): `{folder=}`, `{folders=}`, `{cloud=}` or
-- `{all_clouds=true}`; and `scan` (the script's scan options) set to it.
function M.scope(recorded, scan)
   local scope = { folder = recorded.folder, folders = recorded.folders, cloud = recorded.cloud,
      all_clouds = recorded.all_clouds }
   if scan then
      scan.folder, scan.folders, scan.cloud, scan.all_clouds = scope.folder, scope.folders, scope.cloud,
         scope.all_clouds
   end
   return scope
end

--- --now for a script: the option's time, else the recorded scan's time
-- (with --from), else now.
function M.now(opts, now, scan)
   if opts.from and not opts.now and scan then return scan.time end
   return now
end

-- What record() saw, for the vanished check.
local recorded

--- A recorder for a streaming scan when --record (or, rolled back, --db)
-- is given, else nil: `r.add(entry, pos)` for each entry as it arrives (as
-- of --now when one is given: `fleet.run`), `r.listed` and `r.backup_texts`
-- as the scan's `listed` and `backup_texts` options, `r.finish()` after the
-- scan
-- (commits, and keeps what the vanished check needs).  `scope` is
-- `{folder=, engines=, time=, tool=}`.  Ends the script through `die`
-- when the file cannot be written.
function M.recorder(opts, scope, die)
   recorded = nil
   if opts.from then return nil end
   local path = opts.record or opts.db
   if not path then return nil end
   -- --db alone is never written: the scan is compared in a transaction
   -- rolled back, on the file when it can be written, else on a copy.
   local h, err = history().open(path, opts.record and { write = true } or { dry = true })
   if not h then die(err) end
   local function fail(e)
      h:close()
      die(format("%s: %s", path, (tostring(e):gsub("^sqlite: ", ""))))
   end
   scope.dry = opts.record == nil
   local ok, rec = pcall(h.recorder, h, scope, function(wait)
      io.stderr:write(format("%s: %s is being recorded by another run: waiting for it (at most %s)\n",
         scope.tool or "mdblua", path, require("mdb.duration").format(wait)))
   end)
   if not ok then fail(rec) end
   local vanished = require "mdb.history_changes"
   return {
      add = function(entry, pos)
         local ok2, e = pcall(rec.add, rec, entry, pos)
         if not ok2 then fail(e) end
      end,
      listed = function(engine, folder) rec:folder_listed(engine, folder) end,
      backup_texts = rec:wants_texts(),
      finish = function()
         local ok3, scan, seen = pcall(rec.finish, rec, function(s)
            -- (the HTML report's history includes this scan, even rolled back)
            return { findings = vanished.vanished_findings(h, s),
               recent = opts.format == "html" and require("mdb.history_lives").recent(h, s) or nil }
         end)
         if not ok3 then fail(scan) end
         h:close()
         recorded = { scan = not scope.dry and scan or nil, findings = seen.findings, recent = seen.recent }
         return recorded.scan
      end,
   }
end

--- Record a whole results array (what `client:scan` returned) when
-- --record or --db is given: `M.recorder` over every entry.
function M.record(opts, results, scope, die)
   local r = M.recorder(opts, scope, die)
   if not r then return nil end
   for _, e in ipairs(results) do r.add(e) end
   return r.finish()
end

-- fn(h, ...) on the file --from read; an error (a damaged file) ends the
-- script through load's `die`, in one line naming the file.
local function from_loaded(fn, ...)
   local l = M.loaded
   local ok, v = pcall(fn, l.h, ...)
   if not ok then l.die(history().located(l.path, v)) end
   return v
end

--- For `--format html`: the history the page draws (sizes over 90 days,
-- vanished backups; `mdb.history_lives.recent`) as of this scan, or nil
-- without --record, --db or --from.
function M.recent(opts)
   if opts.from and M.loaded then return from_loaded(require("mdb.history_lives").recent, M.loaded.scan) end
   return recorded and recorded.recent
end

--- `findings` with the `vanished` check's findings appended, when there
-- is history (--record, --db, --from) and no --check list leaves it out.
function M.vanished(opts, findings)
   if opts.check and #opts.check > 0 then
      local asked = false
      for _, c in ipairs(opts.check) do asked = asked or c == "vanished" end
      if not asked then return findings end
   end
   local extra
   if opts.from and M.loaded then
      extra = from_loaded(require("mdb.history_changes").vanished_findings, M.loaded.scan, M.loaded.engines)
   elseif recorded then
      extra = recorded.findings
   end
   for _, f in ipairs(extra or {}) do findings[#findings + 1] = f end
   return findings
end

return M
