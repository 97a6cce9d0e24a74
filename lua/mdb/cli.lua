--- Command-line parsing for the bundled scripts: GNU-style long options
-- (`--name value`, `--name=value`, flags, repeatable options), `--help`,
-- and usage errors that name the bad option and exit with status 2.
-- @module mdb.cli
local M = {}

local format, concat = string.format, table.concat

--- The environment line every bundled script's help ends with.
M.ENVIRONMENT = "Environment: credentials as mdb.client finds them (YC_IAM_TOKEN, YC_TOKEN,\n"
   .. "YC_SERVICE_ACCOUNT_KEY_FILE, ...: see README), YC_MDB_ENDPOINT, YC_FOLDER_ID."

--- Render the help text of a spec.
-- spec = { name = "list-backups.lua", summary = "...", options = {
--   { "engine", "E", "database engine", required = true },
--   { "json", nil, "print JSON" },
--   { "tag", "T", "repeatable", many = true } }, footer = "...",
--   words = "what follows the name besides options, for the usage line" }
function M.help(spec)
   local lines = { format("usage: mdblua %s%s [options]", spec.name, spec.words and (" " .. spec.words) or ""), "" }
   if spec.summary then
      lines[#lines + 1] = spec.summary
      lines[#lines + 1] = ""
   end
   lines[#lines + 1] = "Options:"
   local opts = {}
   for _, o in ipairs(spec.options) do opts[#opts + 1] = o end
   opts[#opts + 1] = { "help", nil, "show this help and exit" }
   local width = 0
   local left = {}
   for i, o in ipairs(opts) do
      left[i] = "--" .. o[1] .. (o[2] and (" " .. o[2]) or "")
      if #left[i] > width then width = #left[i] end
   end
   for i, o in ipairs(opts) do
      local extra = {}
      if o.required then extra[#extra + 1] = "required" end
      if o.many then extra[#extra + 1] = "repeatable" end
      if o.default ~= nil then extra[#extra + 1] = "default " .. tostring(o.default) end
      -- a description's own line breaks continue under its first line
      local text = o[3]:gsub("\n", "\n" .. format("%" .. (width + 4) .. "s", ""))
      lines[#lines + 1] = format("  %-" .. width .. "s  %s%s", left[i], text,
         #extra > 0 and (" (" .. concat(extra, ", ") .. ")") or "")
   end
   if spec.footer then
      lines[#lines + 1] = ""
      lines[#lines + 1] = spec.footer
   end
   return concat(lines, "\n") .. "\n"
end

--- Parse `args` (an `arg`-like array) against `spec`.
-- Returns a table of values keyed by option name with dashes turned into
-- underscores (flags are booleans, `many` options arrays), or nil and a
-- message.  Does not print or exit: see `M.run` for that.
function M.parse(args, spec)
   local by_name = {}
   for _, o in ipairs(spec.options) do by_name[o[1]] = o end
   local out = {}
   for _, o in ipairs(spec.options) do
      local key = o[1]:gsub("-", "_")
      if o.many then out[key] = {} elseif o.default ~= nil then out[key] = o.default end
   end
   local given = {}
   local i = 1
   while i <= #args do
      local a = args[i]
      if a == "--help" or a == "-h" then
         out.help = true
      else
         local name, value = a:match("^%-%-([%w][%w%-]*)=(.*)$")
         if not name then name = a:match("^%-%-([%w][%w%-]*)$") end
         if not name then
            return nil, format("unexpected argument '%s'", a)
         end
         local o = by_name[name]
         if not o then return nil, format("unknown option '--%s'", name) end
         local key = name:gsub("-", "_")
         if o[2] then
            if value == nil then
               i = i + 1
               value = args[i]
               if value == nil then
                  return nil, format("option '--%s' needs a value (%s)", name, o[2])
               end
            end
            -- an empty file name fails only when the file is opened: for
            -- --output, after the whole scan
            if o[2] == "FILE" and value == "" then
               return nil, format("option '--%s': the file name must not be empty", name)
            end
            if o.check then
               local v, err = o.check(value)
               if v == nil then
                  return nil, format("option '--%s': %s", name, err)
               end
               value = v
            end
            if o.many then
               out[key][#out[key] + 1] = value
            else
               -- a second value would silently win: `--engine mysql
               -- --engine redis` listing only redis
               if given[key] then
                  return nil, format("option '--%s' given twice: it takes one %s", name, o[2])
               end
               given[key] = true
               out[key] = value
            end
         else
            if value ~= nil then
               return nil, format("option '--%s' takes no value", name)
            end
            out[key] = true
         end
      end
      i = i + 1
   end
   if not out.help then
      for _, o in ipairs(spec.options) do
         local key = o[1]:gsub("-", "_")
         if o.required and out[key] == nil then
            return nil, format("option '--%s' is required", o[1])
         end
      end
   end
   return out
end

--- The line that tells a user where the help is, naming the script as
-- they ran it.
function M.help_hint(spec)
   local script = type(arg) == "table" and arg[0] or ("scripts/" .. spec.name)
   return format("try 'mdblua %s --help'", script)
end

--- End the program on a usage error: the message and where the help is
-- (not the whole help: the message must stay visible) on stderr, exit
-- `code` (default 2).
function M.usage_error(spec, msg, code)
   io.stderr:write(format("%s: %s\n%s\n", spec.name, msg, M.help_hint(spec)))
   os.exit(code or 2, true)
end

--- Parse or end the program: `--help` prints the help to stdout and exits
-- 0; a usage error prints the message and a hint to stderr and exits
-- `code` (default 2).
function M.run(args, spec, code)
   local opts, err = M.parse(args, spec)
   if opts and opts.help then
      io.stdout:write(M.help(spec))
      os.exit(0)
   end
   if not opts then M.usage_error(spec, err, code) end
   for _, o in ipairs(spec.options or {}) do
      if o.deadline then
         -- started before anything is created or asked: the bound is on
         -- the whole run
         local nagios = spec.nagios and opts.format == "nagios" and spec.nagios or nil
         local seconds = opts[o[1]] or (nagios and M.NAGIOS_TIMEOUT)
         if seconds then M.start_deadline(seconds, nagios, spec.name, nagios and 3 or code) end
      end
   end
   -- The report is written over --output at the end: naming a file another
   -- option reads (a history file, a policy) would replace it, scans and
   -- all, without a word.
   if type(opts.output) == "string" and opts.output ~= "-" then
      local same_file = require("mdb")._fs.same_file
      for _, o in ipairs(spec.options or {}) do
         local v = opts[o[1]]
         if o[1] ~= "output" and o[2] == "FILE" and type(v) == "string" and same_file(opts.output, v) then
            M.usage_error(spec, format("option '--output': %s is the file --%s names; the report would replace it",
               opts.output, o[1]), code)
         end
      end
   end
   return opts
end

--- The time `--now TEXT` names (RFC 3339), or the current time; a bad
-- text ends the program as a usage error.
function M.now(spec, text, code)
   if text == nil then return os.time() end
   local t = require("mdb").parse_time(text)
   if not t then M.usage_error(spec, "option '--now': not an RFC 3339 time: " .. text, code) end
   return t
end

--- One scan entry as it was at `now`: backups created after it did not
-- exist yet, so every report "as if at --now" leaves them out.  The entry
-- itself gets the trimmed array (a streamed entry is the script's own).
function M.entry_as_of(e, now)
   if type(e.backups) == "table" then
      local kept = {}
      for _, b in ipairs(e.backups) do
         if not (math.type(b.created) and b.created > now) then kept[#kept + 1] = b end
      end
      e.backups = kept
      e.backup_texts = nil   -- (no longer beside the backups kept)
   end
   return e
end

--- Scan results as they were at `now` (`M.entry_as_of` for each entry).
-- Entries are copied; the results themselves are not changed.
function M.as_of(results, now)
   local out = {}
   for i, e in ipairs(results) do
      local copy = {}
      for k, v in pairs(e) do copy[k] = v end
      out[i] = M.entry_as_of(copy, now)
   end
   return out
end

--- The run's deadline, once `M.start_deadline` started one.
local run_deadline

--- The `--timeout` of a Nagios check (a spec with `nagios`, run with
-- `--format nagios`) when none is given: under the 60 s after which Nagios
-- kills a check, so the check answers UNKNOWN itself.
M.NAGIOS_TIMEOUT = 50

--- Seconds after the deadline at which a run still going is ended
-- (`mdb.backstop`): what the deadline cannot end, Lua code that loops or
-- an open of a named pipe no one writes, ends there.  The deadline's own
-- end takes milliseconds; under the 60 s at which Nagios kills a check
-- with `M.NAGIOS_TIMEOUT`.
M.BACKSTOP_GRACE = 5

--- The line a script whose `--timeout` passed ends with, and for a Nagios
-- check its UNKNOWN line.
local function timeout_lines(name, d)
   local text = format("no result within %s s (--timeout %s)", d.seconds, d.seconds)
   return format("%s: %s\n", name, text), d.nagios and format("%s UNKNOWN - %s\n", d.nagios, text)
end

--- Start the run's deadline (`mdb.deadline`) of `seconds`, given as
-- `--timeout`; with `nagios` (the title of a Nagios line, e.g. "MDB BACKUP
-- FRESHNESS") the script answers a passed deadline as a Nagios check.
-- With `name` (the script's), a run still going `M.BACKSTOP_GRACE`
-- seconds after the deadline ends with the timeout's lines and `code`
-- (default 2).
function M.start_deadline(seconds, nagios, name, code)
   local mdb = require "mdb"
   mdb.deadline(seconds)
   run_deadline = { seconds = seconds, nagios = nagios }
   if name then
      local err_line, out_line = timeout_lines(name, run_deadline)
      local last_word = err_line:sub(1, -2) .. format("; ended %d s later, still running\n", M.BACKSTOP_GRACE)
      mdb.backstop(seconds + M.BACKSTOP_GRACE, code or 2, last_word, out_line)
   end
end

--- True when `err` ends the run whatever a script would do with another
-- error (best-effort look-ups included): Ctrl-C, or the run's deadline.
function M.stops(err)
   local mdb = require "mdb"
   if mdb.is_error(err) then return err.kind == "interrupted" or err.deadline ~= nil end
   return type(err) == "string" and err:find("interrupted!", 1, true) ~= nil
end

--- End a script whose `--timeout` passed: one line naming the option,
-- exit `code` (default 2); a Nagios check prints its UNKNOWN line on
-- stdout, where Nagios reads it, and exits 3.
function M.timed_out(name, code)
   local err_line, out_line = timeout_lines(name, run_deadline)
   if out_line then
      io.stdout:write(out_line)
      io.stdout:flush()
      code = 3
   end
   io.stderr:write(err_line)
   os.exit(code or 2, true)
end

--- Whether `err` is an error the cancellation flag made of a wait it
-- ended, once the run's deadline (set to `set` seconds) had passed and
-- raised it: the deadline's own error (an mdb.error with `deadline`, or
-- its message inside the text a history file's error becomes), or
-- SQLite's "interrupted" (a statement the flag stopped, "sqlite:
-- interrupted", or "FILE: interrupted" from the history).
local function cancelled_wait(err, set)
   if require("mdb").is_error(err) then return err.deadline ~= nil end
   if type(err) ~= "string" then return false end
   return err:find(format("deadline of %g s passed", set), 1, true) ~= nil
      or err == "interrupted" or err:find(": interrupted$") ~= nil
end

--- What a failure line whose error is a rejected token (HTTP 401) ends
-- with: what to do about it; "" for any other error text.
function M.token_hint(text)
   if not text:find("(HTTP 401", 1, true) then return "" end
   return "; the API rejected the token: get a new one (an IAM token lasts at most 12 h:"
      .. " export YC_IAM_TOKEN=$(yc iam create-token)) or check which credentials mdb.client uses"
      .. " (README, Credentials)"
end

--- End a script on an error: prints "NAME: message" (and `extra`, e.g.
-- the help) on stderr and exits with `code` (default 2).  An interruption
-- is raised on instead, so Ctrl-C stays Ctrl-C (mdblua exits 130).  An
-- error the passed deadline caused (`cancelled_wait`) ends the script
-- through `M.timed_out`, unless Ctrl-C came after the deadline passed:
-- then the user stopped it, and it is raised on too.  Any other error is
-- itself, deadline or not: one that came in the deadline's last moment
-- (a rejected token, a history file that is not ours) is not hidden
-- behind "no result within".
function M.fail(name, msg, code, extra)
   local mdb = require "mdb"
   if mdb.is_error(msg) and msg.kind == "interrupted"
      or type(msg) == "string" and msg:find("interrupted!", 1, true) then
      error(msg, 0)
   end
   if run_deadline then
      local left, set, its_doing = mdb.deadline()
      if left == 0 and cancelled_wait(msg, set) then
         if not its_doing then error(msg, 0) end
         M.timed_out(name, code)
      end
   end
   local text = tostring(msg)
   io.stderr:write(name, ": ", text, M.token_hint(text), "\n", extra or "")
   os.exit(code or 2, true)
end

--- A client from the environment (with `client_opts`), or the end of the
-- script through `M.fail(name, err, code)`: scripts make it before they
-- create or open anything (a history file) a bad endpoint would leave.
function M.client(name, client_opts, code)
   local ok, client = pcall(require("mdb").client, client_opts)
   if not ok then M.fail(name, client, code) end
   return client
end

--- The scan every fleet-wide script starts with: `client:scan(scan_opts)`
-- (`client` from `M.client`) with a progress line when stderr is a
-- terminal.  Any error ends the script through `M.fail(name, err, code)`.
-- @return the scan results
function M.scan(name, client, scan_opts, code)
   local progress, done = M.progress("scanning")
   scan_opts.progress = progress
   local ok2, results = pcall(client.scan, client, scan_opts)
   done()
   if not ok2 then M.fail(name, results, code) end
   return results
end

--- `M.scan` streaming: `client:scan(scan_opts)` with `each = each`, so
-- each cluster's entry is handed over as its listing completes and let go
-- when `each` returns.
function M.stream(name, client, scan_opts, code, each)
   scan_opts.each = each
   M.scan(name, client, scan_opts, code)
end

--- The scan options for a script's `--folder` (repeatable), `--cloud ID`
-- and `--all-clouds`; `default_folder` (the policy's, else
-- $YC_FOLDER_ID) when none is given.  Returns nil and a message naming
-- the flags when they conflict or no folder is known, or naming
-- YC_FOLDER_ID when it is the default and not a folder id.
function M.scope(opts, default_folder)
   local folders = M.unique(opts.folder or {})
   local n = (#folders > 0 and 1 or 0) + (opts.cloud and 1 or 0) + (opts.all_clouds and 1 or 0)
   if n > 1 then return nil, "give --folder, --cloud or --all-clouds, not more than one" end
   if opts.cloud then return { cloud = opts.cloud } end
   if opts.all_clouds then return { all_clouds = true } end
   if #folders == 1 then return { folder = folders[1] } end
   local most = require("mdb").defaults.max_folders
   if #folders > most then
      return nil, format("option '--folder': at most %d folders in one run, got %d (--cloud ID scans a whole cloud)",
         most, #folders)
   end
   if #folders > 1 then return { folders = folders } end
   if default_folder and default_folder ~= "" then
      -- (a policy's folder is checked as the policy is read)
      local _, err = M.id()(default_folder)
      if err then return nil, "YC_FOLDER_ID: " .. err end
      return { folder = default_folder }
   end
   return nil, "no folder: give --folder ID, --cloud ID or --all-clouds, or set YC_FOLDER_ID"
end

--- nil when `--cluster` may be given with `opts`' scope flags, else the
-- usage error naming the clash: a cluster id names its folder, so a
-- --folder, --cloud or --all-clouds beside it would be ignored, and a
-- flag typed is never silently ignored.
function M.cluster_scope_clash(opts)
   for _, flag in ipairs { { opts.folder ~= nil and #opts.folder > 0, "--folder" }, { opts.cloud, "--cloud" },
      { opts.all_clouds, "--all-clouds" } } do
      if flag[1] then return "give --cluster or " .. flag[2] .. ", not both" end
   end
end

--- The scope options every fleet script takes (see `M.scope`).
function M.scope_options(folder_help)
   return {
      { "folder", "ID", folder_help or "folder id (default $YC_FOLDER_ID)", many = true, check = M.id() },
      { "cloud", "ID", "every folder of this cloud (Resource Manager)", check = M.id() },
      { "all-clouds", nil, "every folder of every cloud the credentials can see" },
   }
end

--- A `check` for options that take a folder, cloud or cluster id: what
-- mdb.client accepts (1 to `mdb.defaults.max_id_length` characters), so
-- that a bad id is an error naming the option typed, not the Lua API's
-- argument (`folders`, `clusters`) it becomes.
function M.id()
   return function(s)
      if s == "" then return nil, "must not be empty" end
      local max = require("mdb").defaults.max_id_length
      if #s > max then return nil, format("must be at most %d characters, got %d", max, #s) end
      return s
   end
end

--- True when reports of a scan with `scope` (from `M.scope`) name each
-- cluster's folder: several folders, or a cloud's.
function M.many_folders(scope)
   return scope ~= nil and (scope.folders ~= nil or scope.cloud ~= nil or scope.all_clouds == true)
end

--- A text naming a scope for messages and reports: the folder, "N
-- folders", "cloud ID" or "all clouds".
function M.scope_text(scope)
   if scope.cloud then return "cloud " .. scope.cloud end
   if scope.all_clouds then return "all clouds" end
   if scope.folders then return format("%d folders (%s)", #scope.folders, concat(scope.folders, ", ")) end
   return scope.folder and ("folder " .. scope.folder) or "no folder"
end

--- A `check` for options that take a whole number in min..max (either
-- may be nil).
function M.integer(min, max)
   return function(s)
      local n = math.tointeger(tonumber(s))
      if n == nil or not s:match("^%-?%d+$") then return nil, "not a whole number: " .. s end
      if min and n < min then return nil, format("must be at least %d", min) end
      if max and n > max then return nil, format("must be at most %d", max) end
      return n
   end
end

--- The `--concurrency N` option of the scripts that scan a fleet, its
-- default and bound quoted from mdb.defaults (mdb_defaults.h), so that a
-- value mdb.client would refuse is an error naming the option typed.
function M.concurrency_option()
   local d = require("mdb").defaults
   return { "concurrency", "N", format("clusters listed at once (default %d, at most %d)", d.concurrency,
      d.max_concurrency), check = M.integer(1, d.max_concurrency) }
end

--- The `--page-size N` option of the scripts that list backups, bounded
-- by mdb.defaults.max_page_size.
function M.page_size_option()
   local max = require("mdb").defaults.max_page_size
   return { "page-size", "N", format("backups per API request, 0..%d", max), check = M.integer(0, max) }
end

--- A `check` for options that take seconds: a decimal number above 0
-- and at most `max`.
function M.seconds(max)
   return function(s)
      local n = (s:match("^%d+%.?%d*$") or s:match("^%.%d+$")) and tonumber(s)
      if not n then return nil, "not a number of seconds: " .. s end
      if n <= 0 then return nil, "must be more than 0 seconds" end
      -- (the deadline counts whole milliseconds)
      if n < 0.001 then return nil, "must be at least 0.001 seconds" end
      if n > max then return nil, format("must be at most %d seconds", max) end
      return math.tointeger(n) or n
   end
end

--- The `--timeout SECONDS` option of the scripts that call the API: a
-- deadline on the whole run, started by `M.run` as soon as the options
-- are read (see `M.start_deadline`).  With `nagios` (the script is a
-- Nagios check with --format nagios: its spec has `nagios = TITLE`), the
-- help gives that format's default, `M.NAGIOS_TIMEOUT`.
function M.timeout_option(nagios)
   local max = require("mdb").defaults.max_deadline
   return { "timeout", "SECONDS", format("give up when the whole run takes longer, at most %d (default: none%s)",
      max, nagios and format("; %d with --format nagios", M.NAGIOS_TIMEOUT) or ""),
      check = M.seconds(max), deadline = true }
end

--- A `check` for options that take one of a fixed set of words.
function M.choice(list)
   return function(s)
      for _, w in ipairs(list) do
         if w == s then return s end
      end
      return nil, format("expected one of %s, got '%s'", concat(list, ", "), s)
   end
end

--- A `check` for options that take a duration ("26h", "7d", "90m"); the
-- value becomes the text itself (validated), so policies can merge it.
function M.duration()
   return function(s)
      local v, err = require("mdb.duration").parse(s)
      if not v then return nil, err end
      if v <= 0 then return nil, "duration must be greater than zero" end
      return s
   end
end

--- The values of `list` without repeats, in their first order (for
-- repeatable options such as `--engine`).
function M.unique(list)
   local out, seen = {}, {}
   for _, v in ipairs(list) do
      if not seen[v] then
         seen[v] = true
         out[#out + 1] = v
      end
   end
   return out
end

--- True when file descriptor `fd` (1 stdout, 2 stderr) is a terminal.
function M.isatty(fd)
   return require("mdb").isatty(fd == 1 and io.stdout or io.stderr)
end

--- The text of the progress line for `client:scan`'s progress `p`: the
-- cluster just listed, or for an entry without a cluster (a `Cluster.List`
-- or a Resource Manager listing that failed: no cluster was listed) the
-- engine whose clusters could not be listed, never an engine name where
-- a cluster's would be.
function M.progress_text(label, p)
   local safe = require("mdb.aligned").safe   -- (ids from the API: no escape reaches the terminal)
   local what
   if p.id ~= nil then
      what = format(" %s %s%s", safe(p.engine or "?"), safe(p.id), p.failed and " (failed)" or "")
   elseif p.engine ~= nil then
      what = format(": listing %s clusters failed", safe(p.engine))
   else
      what = ": a listing failed"
   end
   return format("%s %d/%d%s", label, p.done or 0, p.total or 0, what)
end

--- A progress callback for `client:scan` that redraws one line on stderr,
-- or nil when stderr is not a terminal (so logs and pipes stay clean).
-- Call the returned `done()` to clear the line.
-- @return progress function or nil, and a done function
function M.progress(label)
   if not M.isatty(2) then return nil, function() end end
   local err = io.stderr
   local function progress(p)
      err:write("\r\27[K", M.progress_text(label, p))
      err:flush()
   end
   return progress, function()
      err:write("\r\27[K")
      err:flush()
   end
end

return M
