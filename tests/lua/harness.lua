--- Test harness for the Lua tests: run by the real `mdblua`, talking to
-- the real fake API server over loopback.  Provides test registration,
-- assertions, fake API start/stop, data files and subprocess runs.
--
-- Environment (set by CTest): MDBLUA (the host binary), MDB_FAKEAPI (the
-- fake API binary), MDB_SOURCE_DIR (repository root), MDB_TEST_TMP (a
-- scratch directory).
local cjson = require "cjson"

local H = {}
local tests = {}
local cleanups = {}

H.mdblua = assert(os.getenv("MDBLUA"), "MDBLUA is not set")
H.fakeapi = assert(os.getenv("MDB_FAKEAPI"), "MDB_FAKEAPI is not set")
H.source_dir = assert(os.getenv("MDB_SOURCE_DIR"), "MDB_SOURCE_DIR is not set")
H.tmp = os.getenv("MDB_TEST_TMP") or "/tmp"
--- Seconds of slack a "promptly" bound allows: a sanitizer build (CMake
-- sets MDB_TEST_SLOW) starts and runs several times slower, and its tests
-- run two at a time.
H.slack = os.getenv("MDB_TEST_SLOW") == "1" and 3 or 1
H.token = "t1.SECRET-test-token-do-not-print-" .. tostring(os.time())

local seq = 0
local run_id = math.random(0, 0xffffff) -- (Lua 5.4 seeds its generator at random)
--- Wall-clock seconds (os.clock is CPU time, os.time whole seconds).
function H.now()
   local p = assert(io.popen("date +%s.%N"))
   local t = tonumber(p:read("l"))
   p:close()
   return t
end

--- A fresh path in the scratch directory.  (A random part besides the
-- second and the sequence: a file run again within the same second, or
-- two copies at once, would otherwise get the same names and find the
-- last run's files, a history with a later scan among them.)
function H.tmpname(suffix)
   seq = seq + 1
   return string.format("%s/%s-%d-%06x-%d%s", H.tmp, arg and arg[0]:match("([^/]+)%.lua$") or "t",
      os.time(), run_id, seq, suffix or "")
end

--- Quote a string for /bin/sh.
function H.sh_quote(s)
   return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- A new empty directory in the scratch directory.
function H.fresh_dir()
   local d = H.tmpname("-dir")
   os.execute("rm -rf " .. H.sh_quote(d) .. " && mkdir -p " .. H.sh_quote(d))
   return d
end

function H.test(name, fn)
   tests[#tests + 1] = { name = name, fn = fn }
end

local function render(v)
   if type(v) == "string" then return string.format("%q", v) end
   if type(v) == "table" and getmetatable(v) == nil then
      local ok, s = pcall(cjson.encode, v)
      if ok then return s end
   end
   return tostring(v)
end

--- Deep equality of plain values and tables.
function H.deep_eq(a, b)
   if a == b then return true end
   if type(a) ~= "table" or type(b) ~= "table" then return false end
   for k, v in pairs(a) do if not H.deep_eq(v, b[k]) then return false end end
   for k in pairs(b) do if a[k] == nil then return false end end
   return true
end

function H.eq(actual, expected, what)
   if not H.deep_eq(actual, expected) then
      error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "",
         render(expected), render(actual)), 2)
   end
end

function H.ok(cond, what)
   if not cond then error("assertion failed: " .. (what or "?"), 2) end
   return cond
end

--- `s` contains `needle` (plain find).
function H.contains(s, needle, what)
   if type(s) ~= "string" or not s:find(needle, 1, true) then
      error(string.format("%sexpected %s to contain %q", what and (what .. ": ") or "",
         render(s), needle), 2)
   end
end

function H.not_contains(s, needle, what)
   if type(s) == "string" and s:find(needle, 1, true) then
      error(string.format("%s%s must not contain %q", what and (what .. ": ") or "",
         render(s), needle), 2)
   end
end

--- Call fn(...) and return the error it raises; fails when it does not
-- raise.  With `kind`, the error must be an mdb.error of that kind.
function H.raises(kind, fn, ...)
   local ok, err = pcall(fn, ...)
   if ok then error("expected an error" .. (kind and (" of kind " .. kind) or "") .. ", none raised", 2) end
   if kind then
      if type(err) ~= "table" or err.kind ~= kind then
         error(string.format("expected an mdb.error of kind %s, got %s", kind, render(err)), 2)
      end
      local mt = getmetatable(err)
      if not mt or mt.__name ~= "mdb.error" then
         error("error object has no mdb.error metatable", 2)
      end
   end
   return err
end

--- Collect every item of an iterator into an array.
function H.collect(it)
   local out = {}
   for item in it do out[#out + 1] = item end
   return out
end

--- Ids of a list of objects.
function H.ids(list)
   local out = {}
   for i, o in ipairs(list) do out[i] = o.id end
   return out
end

--- A list of objects (scan entries, backups) keyed by their id.
function H.by_id(list)
   local out = {}
   for _, o in ipairs(list) do out[o.id] = o end
   return out
end

local function read_file(path)
   local f = io.open(path, "rb")
   if not f then return nil end
   local s = f:read("a")
   f:close()
   return s
end
H.read_file = read_file

-- Whether `path` can be opened for reading.
function H.exists(path)
   local f = io.open(path, "rb")
   if f then f:close() end
   return f ~= nil
end

function H.write_file(path, s)
   local f = assert(io.open(path, "wb"))
   f:write(s)
   f:close()
   return path
end

--- Write a fake API --data file.  Records:
--   { "cluster", engine, folder, id, name, obj }  and
--   { "backup", engine, folder, cluster, obj }   (obj a table or raw JSON text)
function H.data_file(records)
   local lines = {}
   for _, r in ipairs(records) do
      local obj = r[#r]
      local json = type(obj) == "string" and obj or cjson.encode(obj)
      local head = {}
      for i = 1, #r - 1 do head[i] = r[i] end
      lines[#lines + 1] = table.concat(head, " ") .. " " .. json
   end
   return H.write_file(H.tmpname(".data"), table.concat(lines, "\n") .. "\n")
end

--- A Backup object of `engine` with sensible fields; `extra` overrides.
function H.backup(id, cluster, created, extra)
   local b = {
      id = id, folderId = "b1gtestfolder", sourceClusterId = cluster,
      createdAt = created, startedAt = created, size = "1024", type = "AUTOMATED",
   }
   for k, v in pairs(extra or {}) do b[k] = v end
   return b
end

--- Start a test server (the fake API, connect_proxy) from shell-quoted
-- `words`; it prints "URL PID" on its first line.  `what` names it in
-- errors.  Returns { url, pid, port, stderr, stop = function }; the caller
-- registers stop with its cleanups.
function H.spawn(words, what)
   local errlog = H.tmpname(".stderr")
   local p = assert(io.popen("exec " .. table.concat(words, " ") .. " 2>" .. H.sh_quote(errlog), "r"))
   local line = p:read("l")
   if not line then
      p:close()
      error(what .. " did not start: " .. (read_file(errlog) or "?"), 3)
   end
   local url, pid = line:match("^(https?://%S+) (%d+)$")
   assert(url, "unexpected first line from " .. what .. ": " .. line)
   local s = { url = url, pid = pid, port = url:match(":(%d+)$"), stderr = errlog }
   function s.stop()
      if s.stopped then return end
      s.stopped = true
      os.execute("kill " .. pid .. " 2>/dev/null")
      p:close()
   end
   return s
end

--- The fake API's command line: `args` are extra words; logs to `log`.
function H.fake_words(log, args)
   local words = { H.sh_quote(H.fakeapi), "--port", "0", "--token", H.sh_quote(H.token),
      "--log", H.sh_quote(log), "--lifetime", "300" }
   for _, a in ipairs(args or {}) do words[#words + 1] = H.sh_quote(a) end
   return words
end

--- Start the fake API.  `args` is an array of extra command-line words.
-- Returns { url, pid, log, stop = function }.
function H.start_fake(args)
   local log = H.tmpname(".log")
   local server = H.spawn(H.fake_words(log, args), "the fake API")
   server.log = log
   cleanups[#cleanups + 1] = server.stop
   return server
end

--- The requests the fake API logged: { {method=, target=, status=}, ... }.
--- A fake API generating `generate` (a --generate SPEC) with `faults`
-- (--fault rules) and `extra` arguments, its request log emptied (scratch
-- names repeat across runs in the same second).
function H.fake_with_faults(generate, faults, extra)
   local args = { "--generate", generate }
   for _, f in ipairs(faults or {}) do args[#args + 1] = "--fault"; args[#args + 1] = f end
   for _, a in ipairs(extra or {}) do args[#args + 1] = a end
   local s = H.start_fake(args)
   H.write_file(s.log, "")
   return s
end

function H.requests(server)
   local out = {}
   for line in (read_file(server.log) or ""):gmatch("[^\n]+") do
      local m, t, s = line:match("^(%S+) (%S+) (%d+)$")
      if m then out[#out + 1] = { method = m, target = t, status = tonumber(s) } end
   end
   return out
end

--- A query parameter of a logged request target (still percent-encoded).
function H.query_param(target, name)
   return target:match("[?&]" .. name .. "=([^&]*)")
end

--- An mdb client for a fake server; `opts` are extra client options.
function H.client(server, opts)
   local mdb = require "mdb"
   local o = { endpoint = server.url, token = H.token, backoff_base = 0.01, backoff_max = 5 }
   for k, v in pairs(opts or {}) do o[k] = v end
   return mdb.client(o)
end

-- Whether the tests run as root, who ignores file modes.
local is_root
local function root()
   if is_root == nil then
      local p = io.popen("id -u")
      is_root = p:read("l") == "0"
      p:close()
   end
   return is_root
end

--- Run the mdblua binary with `args` (array); opts: env (a table; value
-- false unsets), stdin text, cwd, program.  Returns { code, stdout, stderr }.
-- opts.reader: as a user bound by file modes.  As root that is root
-- without the two capabilities that override them, not another uid, so
-- the checkout and the test files need not be readable by anyone else
-- (a clone into a mode-0700 directory).
-- The capabilities are dropped from the inheritable set too: a root
-- whose inheritable set holds them (some container runtimes give it the
-- default set) would get them back at exec from it, bounding set or not.
local READER = { "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search" }

-- Once per process: the reader really cannot write a write-protected
-- file, else every test of read-only behaviour would pass without any.
local reader_checked
local function check_reader()
   if reader_checked then return end
   local f = H.write_file(H.tmpname(".ro"), "")
   os.execute("chmod 444 " .. H.sh_quote(f))
   local sh = { "sh", "-c", "echo x >> " .. H.sh_quote(f) .. " 2>/dev/null" }
   local cmd = root() and H.with(H.with({ "setpriv" }, table.unpack(READER)), table.unpack(sh)) or sh
   for i, a in ipairs(cmd) do cmd[i] = H.sh_quote(a) end
   local wrote = os.execute(table.concat(cmd, " ") .. " 2>/dev/null")
   os.remove(f)
   if wrote then error("H.run{reader=true}: the reader can still write a write-protected file", 0) end
   reader_checked = true
end

function H.run(args, opts)
   opts = opts or {}
   if opts.reader then check_reader() end
   if opts.reader and root() then
      args = H.with(H.with(READER, opts.program or H.mdblua), table.unpack(args))
      opts = setmetatable({ program = "setpriv" }, { __index = opts })
   end
   local out, err = H.tmpname(".out"), H.tmpname(".err")
   local cmd = {}
   if opts.env then
      -- env takes its -u options before any assignment
      local unset, set = {}, {}
      for k, v in pairs(opts.env) do
         if v == false then unset[#unset + 1] = "-u " .. k
         else set[#set + 1] = k .. "=" .. H.sh_quote(v) end
      end
      cmd[#cmd + 1] = "env " .. table.concat(unset, " ") .. " " .. table.concat(set, " ")
   end
   cmd[#cmd + 1] = H.sh_quote(opts.program or H.mdblua)
   for _, a in ipairs(args) do cmd[#cmd + 1] = H.sh_quote(a) end
   local stdin = "/dev/null"
   if opts.stdin then stdin = H.write_file(H.tmpname(".in"), opts.stdin) end
   local line = table.concat(cmd, " ") .. " <" .. H.sh_quote(stdin) ..
      " >" .. H.sh_quote(out) .. " 2>" .. H.sh_quote(err)
   if opts.cwd then line = "cd " .. H.sh_quote(opts.cwd) .. " && " .. line end
   local _, how, code = os.execute(line)
   local r = { code = how == "exit" and code or 128 + code,
      stdout = read_file(out) or "", stderr = read_file(err) or "" }
   os.remove(out); os.remove(err)
   return r
end

--- The path of scripts/NAME in the source tree.
function H.script(name)
   return H.source_dir .. "/scripts/" .. name
end

--- The environment of a script run against the fake API `server`: its URL,
-- the test token and `folder` as YC_FOLDER_ID, then the variables of each
-- table after it, in order (false unsets one, as in H.run).
function H.script_env(server, folder, ...)
   local env = { YC_MDB_ENDPOINT = server.url, YC_IAM_TOKEN = H.token, YC_FOLDER_ID = folder }
   for i = 1, select("#", ...) do
      for k, v in pairs(select(i, ...) or {}) do env[k] = v end
   end
   return env
end

-- `list`'s items followed by the extra arguments, in a new list.
function H.with(list, ...)
   local out = {}
   for _, x in ipairs(list) do out[#out + 1] = x end
   for _, x in ipairs { ... } do out[#out + 1] = x end
   return out
end

--- mdblua on a pseudo-terminal (tests/tools/ptydrive) driven by `steps`
-- ("send ...", "expect ...", "sleep MS"; an expect's "\\n" matches the
-- terminal's "\\r\\n"), with `env`, `opts.args` after H.mdblua and
-- `opts.timeout` seconds (10).  Returns H.run's result with `out`, the
-- transcript without "\\r" (removed once read: it echoes what was typed).
function H.pty(steps, env, opts)
   opts = opts or {}
   local lines = {}
   for i, step in ipairs(steps) do
      lines[i] = step:match("^expect ") and step:gsub("\\n", "\\r\\n") or step
   end
   local script = H.write_file(H.tmpname(".pty"), table.concat(lines, "\n") .. "\n")
   local transcript = H.tmpname(".transcript")
   local args = { "-t", tostring(opts.timeout or 10), "-s", script, "-o", transcript, "--", H.mdblua }
   for _, a in ipairs(opts.args or {}) do args[#args + 1] = a end
   local ptydrive = assert(os.getenv("MDB_BUILD_DIR"), "MDB_BUILD_DIR is not set") .. "/tests/tools/ptydrive"
   local r = H.run(args, { program = ptydrive, env = env })
   r.out = (read_file(transcript) or ""):gsub("\r", "")
   os.remove(transcript)
   os.remove(script)
   return r
end

--- Run shell commands all at once, each twice: with stderr a file, and
-- with stdin and stderr a terminal (tests/tools/ptydrive, which keeps what
-- the terminal was sent).  stdout goes to a file either way.
-- @param commands list of `{name, command}`: a shell command line, or a
--   function of the mode ("file" or "tty") that returns one
-- @param timeout seconds ptydrive lets each terminal run last
-- @return per "name/file" and "name/tty": `{code, stdout, raw}` (`raw`:
--   stderr, or the terminal's transcript), and the wall seconds it took
function H.run_file_and_tty(commands, timeout)
   local build = assert(os.getenv("MDB_BUILD_DIR"), "MDB_BUILD_DIR is not set")
   local ptydrive = build .. "/tests/tools/ptydrive"
   local steps = H.write_file(H.tmpname(".steps"), "wait\n")
   local sh, files = {}, {}
   for _, mode in ipairs({ "file", "tty" }) do
      for _, c in ipairs(commands) do
         local f = { out = H.tmpname(".out"), err = H.tmpname(".err"), rc = H.tmpname(".rc") }
         local cmd = (type(c[2]) == "function" and c[2](mode) or c[2]) .. " >" .. H.sh_quote(f.out)
         if mode == "file" then
            cmd = cmd .. " 2>" .. H.sh_quote(f.err) .. " </dev/null"
         else
            cmd = H.sh_quote(ptydrive) .. " -t " .. timeout .. " -c 200 -o " .. H.sh_quote(f.err) .. " -s "
               .. H.sh_quote(steps) .. " -- sh -c " .. H.sh_quote("exec " .. cmd) .. " </dev/null >/dev/null"
         end
         sh[#sh + 1] = "( " .. cmd .. "; echo $? >" .. H.sh_quote(f.rc) .. " ) &"
         files[c[1] .. "/" .. mode] = f
      end
   end
   sh[#sh + 1] = "wait"
   local started = os.time()
   assert(os.execute(table.concat(sh, "\n")))
   local took = os.time() - started
   local results = {}
   for key, f in pairs(files) do
      results[key] = { code = tonumber(read_file(f.rc)), stdout = read_file(f.out) or "",
         raw = read_file(f.err) or "" }
   end
   return results, took
end

-- Advance a fake API started with --step to its next fleet; returns its answer.
function H.step(server)
   local p = assert(io.popen("curl -s -X POST " .. H.sh_quote(server.url .. "/fake/v1/step")))
   local out = p:read("a")
   p:close()
   return out
end

-- What Debian's sqlite3 shell prints for `sql` on the file at `path`
-- (stderr too), without the last newline.
function H.sqlite3(path, sql)
   local p = assert(io.popen("sqlite3 " .. H.sh_quote(path) .. " " .. H.sh_quote(sql) .. " 2>&1"))
   local out = p:read("a")
   p:close()
   return (out:gsub("\n$", ""))
end

-- Run every registered test; print one line each and the summary line
-- "N passed, N failed"; exit 0 only when all passed.
function H.run_all()
   local passed, failed = 0, 0
   local only = os.getenv("MDB_TEST_ONLY")
   for _, t in ipairs(tests) do
      if not only or t.name:find(only, 1, true) then
         local ok, err = xpcall(t.fn, function(e)
            return debug.traceback(tostring(e), 2)
         end)
         if ok then
            passed = passed + 1
            print("ok     " .. t.name)
         else
            failed = failed + 1
            print("FAILED " .. t.name .. "\n  " .. tostring(err):gsub("\n", "\n  "))
         end
         for i = #cleanups, 1, -1 do pcall(cleanups[i]); cleanups[i] = nil end
      end
   end
   print(string.format("%d passed, %d failed", passed, failed))
   os.exit(failed == 0 and passed > 0 and 0 or 1, true)   -- close the state: __gc runs, leaks show
end

return H
