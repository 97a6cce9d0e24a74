-- The run's deadline: mdb.deadline and the scripts' --timeout.  Whatever a
-- run waits on when it passes (a transfer to a server that never answers,
-- a retry's backoff, the pacer's hold, the IAM exchange, another
-- recorder's lock) ends there, and the script says so in one line naming
-- the option.  Every run is a child under timeout(1), so a deadline that
-- does not fire fails the test instead of hanging the suite.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local NOW = "2026-11-23T18:00:00Z"
local FOLDER = "b1gfakefolder0000001"
local SCRIPTS = H.source_dir .. "/scripts/"
local GUARD = "60"   -- timeout(1)'s seconds: far beyond any deadline here

local now = H.now

local function env(server, extra)
   local e = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server and server.url or "http://127.0.0.1:1",
      YC_FOLDER_ID = FOLDER, NO_COLOR = false, YC_TOKEN = false, YC_SERVICE_ACCOUNT_KEY_FILE = false }
   for k, v in pairs(extra or {}) do e[k] = v end
   return e
end

--- Run a bundled script under timeout(1): { code, stdout, stderr, took }.
local function script(server, name, args, extra_env)
   local a = { GUARD, H.mdblua, SCRIPTS .. name }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local t0 = now()
   local r = H.run(a, { program = "timeout", env = env(server, extra_env) })
   r.took = now() - t0
   H.not_contains(r.stdout .. r.stderr, H.token, "output")
   H.not_contains(r.stdout .. r.stderr, "SECRET", "output")
   return r
end

--- Run Lua code in mdblua under timeout(1); its stdout is the result.
local function lua(server, code)
   local t0 = now()
   local r = H.run({ GUARD, H.mdblua, "-e", code }, { program = "timeout", env = env(server) })
   r.took = now() - t0
   return r
end

--- A fake API of three PostgreSQL clusters (5 backups each) with faults.
local function fake(faults, extra)
   local args = { "--now", NOW }
   for _, a in ipairs(extra or {}) do args[#args + 1] = a end
   return H.fake_with_faults("engine=postgresql,clusters=3,backups=5", faults, args)
end

local HANG = "hang=1;times=0"

--- `r` ended by its deadline of `seconds`: promptly (not before it, and
-- well before anything else could have ended it), with exactly `line` on
-- stderr and exit status `code`.
local function timed_out(r, name, seconds, code)
   H.eq({ r.code, r.stderr }, { code, string.format("%s: no result within %s s (--timeout %s)\n", name, seconds,
      seconds) }, r.stdout)
   H.ok(r.took >= tonumber(seconds) - 0.05, string.format("not before the deadline: %.3f s", r.took))
   H.ok(r.took < tonumber(seconds) + H.slack, string.format("promptly at the deadline: %.3f s", r.took))
end

-- Nagios ----------------------------------------------------------------------

H.test("freshness.lua --format nagios, server hangs, --timeout 2: UNKNOWN on stdout and exit 3 at 2 s", function()
   local s = fake { HANG }
   local r = script(s, "freshness.lua", { "--format", "nagios", "--folder", FOLDER, "--timeout", "2" })
   H.eq(r.stdout, "MDB BACKUP FRESHNESS UNKNOWN - no result within 2 s (--timeout 2)\n")
   timed_out(r, "freshness.lua", "2", 3)
   H.ok(#H.requests(s) > 0, "the requests reached the server, which held them")
end)

H.test("audit.lua --format nagios too: its own title, exit 3", function()
   local s = fake { HANG }
   local r = script(s, "audit.lua", { "--format", "nagios", "--folder", FOLDER, "--timeout", "1.5" })
   H.eq(r.stdout, "MDB BACKUP AUDIT UNKNOWN - no result within 1.5 s (--timeout 1.5)\n")
   timed_out(r, "audit.lua", "1.5", 3)
end)

H.test("--format nagios without --timeout gets 50 s, under Nagios' 60; other formats no deadline", function()
   -- what cli.run hands mdb.deadline, seen through a wrapper -e installs
   local spy = [[local mdb = require "mdb"; local set = mdb.deadline
      mdb.deadline = function(s, ...) io.stderr:write("deadline ", tostring(s), "\n"); return set(s, ...) end]]
   local s = fake()
   local function deadline_of(name, args)
      local a = { GUARD, H.mdblua, "-e", spy, SCRIPTS .. name }
      for _, x in ipairs(args) do a[#a + 1] = x end
      local r = H.run(a, { program = "timeout", env = env(s) })
      return r.stderr:match("deadline (%S+)") or "none", r
   end
   local base = { "--folder", FOLDER, "--now", NOW }
   local d, r = deadline_of("freshness.lua", H.with(base, "--format", "nagios"))
   H.eq(d, "50", r.stderr)
   H.contains(r.stdout, "MDB BACKUP FRESHNESS OK - 3 clusters")
   H.eq(r.code, 0, r.stderr)
   H.eq((deadline_of("audit.lua", H.with(base, "--format", "nagios"))), "50")
   H.eq((deadline_of("freshness.lua", H.with(base, "--format", "nagios", "--timeout", "20"))), "20")
   H.eq((deadline_of("freshness.lua", H.with(base, "--format", "table"))), "none")
   H.eq((deadline_of("audit.lua", base)), "none")
   H.eq((deadline_of("inventory.lua", base)), "none")
   -- and the help says so
   local help = script(nil, "freshness.lua", { "--help" })
   H.contains(help.stdout, "--timeout SECONDS")
   H.contains(help.stdout, "(default: none; 50 with --format nagios)")
end)

-- Every script that calls the API -------------------------------------------

-- name, arguments besides --timeout, exit status when the deadline passes
local NETWORK_SCRIPTS = {
   { "list-backups.lua", { "--engine", "postgresql", "--cluster", "cpostgresql-0000" }, 2 },
   { "list-backups.lua", { "--engine", "postgresql", "--folder", FOLDER, "--folder", "b1gotherfolder0000001" }, 2 },
   { "audit.lua", { "--folder", FOLDER }, 2 },
   { "freshness.lua", { "--folder", FOLDER }, 3 },   -- its exit status is always a Nagios code
   { "inventory.lua", { "--folder", FOLDER }, 2 },
   { "retention-plan.lua", { "--folder", FOLDER, "--keep-last", "3" }, 2 },
   { "restore-point.lua", { "--engine", "postgresql", "--cluster", "cpostgresql-0000" }, 2 },
   { "snapshot.lua", { "--folder", FOLDER, "--db", ":db:" }, 2 },
}

H.test("every script that calls the API ends at --timeout against a server that never answers, exit 2", function()
   local s = fake { HANG }
   for _, c in ipairs(NETWORK_SCRIPTS) do
      local args = {}
      for i, a in ipairs(c[2]) do args[i] = a == ":db:" and H.tmpname(".db") or a end
      local r = script(s, c[1], H.with(args, "--timeout", "1"))
      H.eq(r.stdout, "", c[1])
      timed_out(r, c[1], "1", c[3])
   end
end)

H.test("a run that ends well inside its --timeout is unaffected: the same output as without", function()
   local s = fake()
   for _, c in ipairs {
      { "audit.lua", { "--folder", FOLDER, "--now", NOW, "--all" } },
      { "freshness.lua", { "--folder", FOLDER, "--now", NOW, "--format", "nagios" } },
      { "list-backups.lua", { "--engine", "postgresql", "--cluster", "cpostgresql-0001" } },
      { "inventory.lua", { "--folder", FOLDER, "--now", NOW, "--format", "csv" } },
   } do
      local plain = script(s, c[1], c[2])
      local bounded = script(s, c[1], H.with(c[2], "--timeout", "30"))
      H.eq({ bounded.code, bounded.stdout, bounded.stderr }, { plain.code, plain.stdout, plain.stderr }, c[1])
      H.ok(#plain.stdout > 0, c[1] .. " printed something")
   end
end)

-- Whatever the run waits on ---------------------------------------------------

H.test("a deadline during a retry's backoff ends the wait there (Retry-After 20 s)", function()
   local s = fake { "status=503;retry_after=20;times=0" }
   local r = script(s, "list-backups.lua", { "--engine", "postgresql", "--cluster", "cpostgresql-0000",
      "--timeout", "1.5" })
   timed_out(r, "list-backups.lua", "1.5", 2)
   H.eq(#H.requests(s), 1, "the retry never went out")
end)

H.test("a deadline during the pacer's hold (429 with Retry-After) ends the scan there", function()
   local s = fake { "status=429;retry_after=20;times=0" }
   local r = script(s, "freshness.lua", { "--folder", FOLDER, "--format", "nagios", "--timeout", "1.5" })
   H.eq(r.stdout, "MDB BACKUP FRESHNESS UNKNOWN - no result within 1.5 s (--timeout 1.5)\n")
   timed_out(r, "freshness.lua", "1.5", 3)
end)

H.test("a deadline during the IAM token exchange ends it, and no secret is shown", function()
   local oauth = "y0_SECRET-oauth-" .. tostring(os.time())
   local s = fake({ "path=/iam/v1/tokens;" .. HANG }, { "--oauth-token", oauth })
   local r = script(s, "list-backups.lua", { "--engine", "postgresql", "--cluster", "cpostgresql-0000",
      "--timeout", "1.5" }, { YC_IAM_TOKEN = false, YC_TOKEN = oauth, YC_IAM_ENDPOINT = s.url })
   timed_out(r, "list-backups.lua", "1.5", 2)
   local reqs = H.requests(s)
   H.eq(#reqs, 1, "one token request, held")
   H.eq(reqs[1].target, "/iam/v1/tokens")
end)

H.test("a deadline while another recorder holds the history file ends the wait for its lock", function()
   local s = fake()
   local db = H.tmpname(".db")
   local args = { "--folder", FOLDER, "--db", db, "--now", NOW }
   H.eq(script(s, "snapshot.lua", args).code, 0, "the file is made")
   -- Another writer takes the write lock (waiting for it if need be) and
   -- says so by a file, then holds it until told to let go (at most 30 s).
   -- The test waits for that file rather than probing the lock itself: a
   -- probe's own brief hold could make the holder's BEGIN fail.
   local held, release = H.tmpname(".held"), H.tmpname(".release")
   local q = H.sh_quote
   os.execute("( (echo '.timeout 20000'; echo 'BEGIN IMMEDIATE;'; echo '.shell touch \"" .. held .. "\"';"
      .. " n=0; while [ ! -e " .. q(release) .. " ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done;"
      .. " echo 'ROLLBACK;') | sqlite3 " .. q(db) .. " ) >/dev/null 2>&1 &")
   local locked = false
   for _ = 1, 200 do
      if H.exists(held) then
         locked = true
         break
      end
      os.execute("sleep 0.1")
   end
   H.ok(locked, "the other writer holds the lock within 20 s")
   H.ok(not os.execute("sqlite3 " .. q(db) .. " 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1"),
      "a second writer is refused while it holds it")
   local r = script(s, "snapshot.lua", H.with(args, "--timeout", "1.5"))
   H.write_file(release, "")
   H.contains(r.stderr, "is being recorded by another run: waiting for it")
   H.eq(r.code, 2, r.stderr)
   H.ok(r.stderr:find("snapshot.lua: no result within 1.5 s (--timeout 1.5)\n", 1, true) ~= nil, r.stderr)
   H.ok(r.took < 3, string.format("promptly at the deadline: %.3f s", r.took))
end)

H.test("a recording the deadline stopped: the file stays at its last scan, no -wal or -shm left beside it", function()
   local db = H.tmpname(".db")
   H.eq(script(fake(), "snapshot.lua", { "--folder", FOLDER, "--db", db, "--now", NOW }).code, 0, "the first scan")
   -- the clusters come, their backups never: the second recording is under way when the deadline passes
   local r = script(fake { "path=/backups;" .. HANG }, "snapshot.lua",
      { "--folder", FOLDER, "--db", db, "--now", "2026-11-23T19:00:00Z", "--timeout", "1" })
   timed_out(r, "snapshot.lua", "1", 2)
   H.ok(not H.exists(db .. "-wal") and not H.exists(db .. "-shm"), "no -wal or -shm left")
   H.eq(H.sqlite3(db, "PRAGMA integrity_check; SELECT count(*) FROM scans;"), "ok\n1")
end)

-- Ctrl-C and the deadline ----------------------------------------------------

--- Run mdblua with `args` and the env of `server`, in the background; once
-- `server` holds its first request, stop it (SIGSTOP), wait `past`
-- seconds (beyond its deadline), send SIGINT and let it go on (SIGCONT):
-- when it runs again, the deadline has passed and Ctrl-C is pending, in
-- whatever order it looks.  Bounded: killed 20 s after that.
-- @return { code, stdout, stderr }
local function interrupted_after_deadline(server, args, past)
   local out, err, rc = H.tmpname(".out"), H.tmpname(".err"), H.tmpname(".rc")
   local unset, set = {}, {}
   for k, v in pairs(env(server)) do
      if v == false then unset[#unset + 1] = "-u " .. k else set[#set + 1] = k .. "=" .. H.sh_quote(v) end
   end
   local cmd = { "env", table.concat(unset, " "), table.concat(set, " "), H.sh_quote(H.mdblua) }
   for _, a in ipairs(args) do cmd[#cmd + 1] = H.sh_quote(a) end
   local q = H.sh_quote
   assert(os.execute(table.concat({
      table.concat(cmd, " ") .. " </dev/null >" .. q(out) .. " 2>" .. q(err) .. " &",
      "p=$!",
      "n=0; while [ ! -s " .. q(server.log) .. " ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done",
      "kill -STOP $p; sleep " .. past .. "; kill -INT $p; sleep 0.2; kill -CONT $p",
      "n=0; while kill -0 $p 2>/dev/null && [ $n -lt 400 ]; do sleep 0.05; n=$((n+1)); done",
      "kill -KILL $p 2>/dev/null; wait $p; echo $? >" .. q(rc),
   }, "\n")))
   local r = { code = tonumber(H.read_file(rc)), stdout = H.read_file(out) or "", stderr = H.read_file(err) or "" }
   os.remove(out); os.remove(err); os.remove(rc)
   H.not_contains(r.stdout .. r.stderr, H.token, "output")
   return r
end

H.test("Ctrl-C after the deadline passed, both pending: the binding's error is the interruption, not a timeout", function()
   -- In a coroutine, which the host's stop hook (set on the main thread)
   -- does not reach: what the script sees is the binding's word alone.
   local s = fake { HANG }
   local r = interrupted_after_deadline(s, { "-e", [[
      local mdb = require "mdb"
      local c = mdb.client()
      mdb.deadline(1)
      coroutine.wrap(function()
         local ok, e = pcall(c.scan, c, { engine = "postgresql", folder = "]] .. FOLDER .. [[" })
         local left, set, by_deadline = mdb.deadline()
         io.write(string.format("%s %s %s %s %s %s\n", tostring(ok), e.kind, tostring(e.deadline), left, set,
            tostring(by_deadline)))
         io.stdout:flush()
      end)()]] }, 1.5)
   H.eq({ r.code, r.stdout, r.stderr }, { 130, "false interrupted nil 0 1 false\n", "mdblua: interrupted\n" })
end)

H.test("Ctrl-C after the deadline passed, both pending: a script on mdb.cli exits 130, no timeout line", function()
   local s = fake { HANG }
   local script_file = H.write_file(H.tmpname(".lua"), [[
      local cli = require "mdb.cli"
      local spec = { name = "stuck.lua", options = { cli.timeout_option() } }
      cli.run(arg, spec)
      coroutine.wrap(function()
         local c = cli.client("stuck.lua", {}, 2)
         cli.scan("stuck.lua", c, { engine = "postgresql", folder = "]] .. FOLDER .. [[" }, 2)
         print("scanned")
      end)()]])
   local r = interrupted_after_deadline(s, { script_file, "--timeout", "1" }, 1.5)
   H.eq({ r.code, r.stdout, r.stderr }, { 130, "", "mdblua: interrupted\n" })
end)

H.test("Ctrl-C after the deadline passed, both pending: freshness.lua --format nagios, snapshot.lua exit 130", function()
   -- (the whole flow; in the main thread the host's stop hook, raising at
   -- the next Lua instruction, also stands between the error and cli.fail)
   local s = fake { HANG }
   local r = interrupted_after_deadline(s, { SCRIPTS .. "freshness.lua", "--format", "nagios", "--folder", FOLDER,
      "--timeout", "1" }, 1.5)
   H.eq({ r.code, r.stdout, r.stderr }, { 130, "", "mdblua: interrupted\n" })
   local a = interrupted_after_deadline(fake { HANG }, { SCRIPTS .. "snapshot.lua", "--folder", FOLDER,
      "--db", H.tmpname(".db"), "--timeout", "1" }, 1.5)
   H.eq({ a.code, a.stdout, a.stderr }, { 130, "", "mdblua: interrupted\n" })
end)

-- An error the deadline did not cause ------------------------------------------

--- -e code making every error reach cli.fail only once the deadline has
-- passed: an error that came in its last moment.
local LATE_FAIL = [[
   local mdb, cli = require "mdb", require "mdb.cli"
   local fail = cli.fail
   cli.fail = function(...)
      while (mdb.deadline() or 0) > 0 do os.execute("sleep 0.05") end
      return fail(...)
   end]]

--- `args` of script `name` run twice: plain, and with --timeout `seconds`
-- and its errors late; both results, request ids made alike.
local function plain_and_late(server, name, args, seconds, extra_env)
   local function run(a)
      local r = H.run(a, { program = "timeout", env = env(server, extra_env) })
      r.stderr = r.stderr:gsub("fake%-req%-%d+", "fake-req-N")
      H.not_contains(r.stdout .. r.stderr, H.token, "output")
      return r
   end
   local plain = run(H.with({ GUARD, H.mdblua, SCRIPTS .. name }, table.unpack(args)))
   local t0 = now()
   local late = run(H.with({ GUARD, H.mdblua, "-e", LATE_FAIL, SCRIPTS .. name }, table.unpack(
      H.with(args, "--timeout", seconds))))
   late.took = now() - t0
   H.ok(late.took >= tonumber(seconds) - 0.05, string.format("the error came after the deadline: %.3f s", late.took))
   return plain, late
end

H.test("an error the deadline did not cause, after it passed, is printed as itself with the script's status", function()
   -- a rejected token
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=3,backups=5", "--token", "t1.other-token" }
   local plain, late = plain_and_late(s, "list-backups.lua", { "--engine", "postgresql", "--cluster",
      "cpostgresql-0000" }, "0.5")
   H.contains(plain.stderr, "list-backups.lua: http error: Token is invalid or has expired. (HTTP 401")
   H.eq({ late.code, late.stdout, late.stderr }, { plain.code, plain.stdout, plain.stderr })
   H.eq(plain.code, 2)
   -- a history file that is not ours
   local other = H.tmpname(".db")
   H.sqlite3(other, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
   plain, late = plain_and_late(fake(), "snapshot.lua", { "--folder", FOLDER, "--db", other }, "0.5")
   H.eq(plain.stderr, "snapshot.lua: " .. other .. " is not an mdblua history (an SQLite file of another "
      .. "application)\n")
   H.eq({ late.code, late.stdout, late.stderr }, { plain.code, plain.stdout, plain.stderr })
end)

H.test("--format nagios: an error the deadline did not cause prints as without it, no UNKNOWN timeout", function()
   -- (a bad endpoint: stderr and UNKNOWN's exit status 3, as ever)
   for _, name in ipairs { "freshness.lua", "audit.lua" } do
      local plain, late = plain_and_late(nil, name, { "--format", "nagios", "--folder", FOLDER }, "0.5",
         { YC_MDB_ENDPOINT = "ftp://mdb.example" })
      H.eq({ plain.code, plain.stdout, plain.stderr }, { 3, "", name .. ": bad argument 'endpoint': "
         .. "YC_MDB_ENDPOINT: endpoint scheme 'ftp' is not https\n" })
      H.eq({ late.code, late.stdout, late.stderr }, { plain.code, plain.stdout, plain.stderr }, name)
   end
end)

H.test("the deadline's own error, late or as a history file's text, is still the timeout line", function()
   -- what cli.fail makes of errors once the deadline passed: the
   -- deadline's error (also as text inside another message), SQLite's
   -- interrupt, and anything else
   local function fail_with(msg, nagios)
      local r = lua(nil, [[
         local mdb, cli = require "mdb", require "mdb.cli"
         cli.start_deadline(0.2, ]] .. (nagios and "'CHECK'" or "nil") .. [[)
         while mdb.deadline() > 0 do os.execute("sleep 0.05") end
         cli.fail("x.lua", ]] .. msg .. [[, 2)]])
      return { r.code, r.stdout, r.stderr }
   end
   local line = "x.lua: no result within 0.2 s (--timeout 0.2)\n"
   H.eq(fail_with([[(select(2, pcall(mdb.client().scan, mdb.client(), { engine = "mysql", folder = "f" })))]]),
      { 2, "", line })
   H.eq(fail_with([["h.db: timeout error: deadline of 0.2 s passed"]]), { 2, "", line })
   H.eq(fail_with([["h.db: interrupted"]]), { 2, "", line })
   H.eq(fail_with([["sqlite: interrupted"]]), { 2, "", line })
   H.eq(fail_with([["h.db: interrupted"]], true), { 3, "CHECK UNKNOWN - no result within 0.2 s (--timeout 0.2)\n",
      line })
   -- not the deadline's
   H.eq(fail_with([["h.db: disk I/O error"]]), { 2, "", "x.lua: h.db: disk I/O error\n" })
   H.eq(fail_with([["h.db: disk I/O error"]], true), { 2, "", "x.lua: h.db: disk I/O error\n" })
   H.eq(fail_with([["a timeout error: deadline of 7 s passed, long ago"]]), { 2, "",
      "x.lua: a timeout error: deadline of 7 s passed, long ago\n" })
   -- (a request's own timeout: an mdb.error of kind timeout without `deadline`)
   H.eq(fail_with([[setmetatable({ kind = "timeout", message = "m" }, getmetatable(select(2, pcall(mdb.deadline, 0))))]]),
      { 2, "", "x.lua: timeout error: m\n" })
end)

-- Bad values --------------------------------------------------------------------

H.test("--timeout must be a number of seconds above 0, at most a day: else a usage error naming it", function()
   local s = fake()
   for _, c in ipairs {
      { "0", "must be more than 0 seconds" },
      { "0.0", "must be more than 0 seconds" },
      { "0.0000001", "must be at least 0.001 seconds" },   -- (was printed back as 1e-07)
      { "0.0009", "must be at least 0.001 seconds" },
      { "-1", "not a number of seconds: -1" },
      { "abc", "not a number of seconds: abc" },
      { "", "not a number of seconds: " },
      { "1e3", "not a number of seconds: 1e3" },
      { "inf", "not a number of seconds: inf" },
      { "nan", "not a number of seconds: nan" },
      { "0x10", "not a number of seconds: 0x10" },
      { "86401", "must be at most 86400 seconds" },
   } do
      for _, sc in ipairs { { "audit.lua", 2 }, { "list-backups.lua", 2, { "--engine", "mysql" } },
         { "freshness.lua", 3 } } do   -- (freshness: every usage error is UNKNOWN)
         local r = script(s, sc[1], H.with(sc[3] or {}, "--timeout=" .. c[1]))
         H.eq(r.code, sc[2], sc[1] .. " " .. c[1])
         H.contains(r.stderr, sc[1] .. ": option '--timeout': " .. c[2] .. "\n", c[1])
      end
   end
   local twice = script(s, "inventory.lua", { "--timeout", "1", "--timeout", "2" })
   H.eq(twice.code, 2)
   H.contains(twice.stderr, "option '--timeout' given twice")
   local missing = script(s, "audit.lua", { "--timeout" })
   H.eq(missing.code, 2)
   H.contains(missing.stderr, "option '--timeout' needs a value (SECONDS)")
   H.eq(#H.requests(s), 0, "no request")
   -- the bounds themselves are fine
   for _, v in ipairs { "86400", "0.5", ".5", "30" } do
      local r = script(s, "list-backups.lua", { "--engine", "postgresql", "--cluster", "cpostgresql-0000",
         "--timeout", v })
      H.eq(r.code, 0, v .. ": " .. r.stderr)
   end
   -- the smallest: taken (a listing may or may not finish within it)
   local r = script(s, "list-backups.lua", { "--engine", "postgresql", "--cluster", "cpostgresql-0000",
      "--timeout", "0.001" })
   H.not_contains(r.stderr, "option '--timeout'")
   H.ok(r.code == 0 or r.stderr == "list-backups.lua: no result within 0.001 s (--timeout 0.001)\n", r.stderr)
end)

-- The Lua API -----------------------------------------------------------------

H.test("mdb.deadline: set, read, removed; bad values are argument errors", function()
   local r = lua(nil, [[
      local mdb = require "mdb"
      local out = {}
      local function add(...) out[#out + 1] = table.concat({ ... }, " ") end
      add(tostring(mdb.deadline()))
      mdb.deadline(20)
      local left, set = mdb.deadline()
      add(tostring(left > 19.5 and left <= 20), math.type(set), tostring(set), tostring(select(3, mdb.deadline())))
      mdb.deadline(2.5)
      add((select(2, mdb.deadline())))
      mdb.deadline(false)
      add(tostring(mdb.deadline()))
      for _, v in ipairs { 0, -1, 86401, 0 / 0, "5", true } do
         local ok, e = pcall(mdb.deadline, v)
         add(tostring(ok), e.kind, e.argument, e.message)
      end
      add(tostring(mdb.deadline()), tostring(mdb.defaults.max_deadline))
      io.write(table.concat(out, "\n"), "\n")]])
   H.eq(r.code, 0, r.stderr)
   local want = {
      "nil",
      "true integer 20 false",
      "2.5",
      "nil",
      "false argument deadline bad argument 'deadline': expected a number of seconds above 0 and at most 86400, got 0",
      "false argument deadline bad argument 'deadline': expected a number of seconds above 0 and at most 86400, got -1",
      "false argument deadline bad argument 'deadline': expected a number of seconds above 0 and at most 86400, "
         .. "got 86401",
      "false argument deadline bad argument 'deadline': expected a number of seconds above 0 and at most 86400, "
         .. "got -nan",
      "false argument deadline bad argument 'deadline': expected a number of seconds, or false to remove it, got "
         .. "string",
      "false argument deadline bad argument 'deadline': expected a number of seconds, or false to remove it, got "
         .. "boolean",
      "nil 86400",
   }
   local got = {}
   for l in r.stdout:gmatch("[^\n]+") do got[#got + 1] = l end
   -- (printf's NaN may be "nan" or "-nan")
   got[8] = got[8] and got[8]:gsub("got %-?nan$", "got -nan")
   H.eq(got, want)
end)

H.test("mdb.deadline ends a listing and a scan against a hanging server: kind timeout, its seconds", function()
   local s = fake { HANG }
   local r = lua(s, [[
      local mdb = require "mdb"
      local c = mdb.client { backoff_base = 0.01 }
      local function clock() local p = io.popen("date +%s.%N"); local t = tonumber(p:read("l")); p:close(); return t end
      local out = {}
      -- (the clock before the deadline: popen's time then counts as late,
      -- never as early)
      local t0 = clock()
      mdb.deadline(0.5)
      local ok, e = pcall(function() for _ in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do end end)
      out[#out + 1] = string.format("%s %s %s %s %s %s", tostring(ok), e.kind, tostring(e.deadline), e.message,
         tostring(mdb.deadline()), tostring(clock() - t0 < 1.2))
      -- once passed, every wait fails at once, until the deadline moves
      t0 = clock()
      ok, e = pcall(c.scan, c, { engine = "postgresql", folder = "]] .. FOLDER .. [[" })
      out[#out + 1] = string.format("%s %s %s", tostring(ok), e.kind, tostring(clock() - t0 < 1))
      t0 = clock()
      mdb.deadline(0.5)
      ok, e = pcall(c.scan, c, { engine = "postgresql", folder = "]] .. FOLDER .. [[" })
      local took = clock() - t0
      out[#out + 1] = string.format("%s %s %s %s", tostring(ok), e.kind, tostring(took > 0.45), tostring(took < 1.2))
      out[#out + 1] = tostring(e)
      io.write(table.concat(out, "\n"), "\n")]])
   H.eq(r.code, 0, r.stderr)
   local got = {}
   for l in r.stdout:gmatch("[^\n]+") do got[#got + 1] = l end
   H.eq(got, { "false timeout 0.5 deadline of 0.5 s passed 0 true", "false timeout true", "false timeout true true",
      "timeout error: deadline of 0.5 s passed" })
end)

H.test("mdb.deadline ends a token exchange the server never answers at the deadline itself", function()
   -- (libcurl calls a silent transfer's progress callback only about once
   -- a second: the transfer's own timeout must end at the deadline)
   local oauth = "y0_SECRET-oauth-" .. tostring(os.time())
   local s = fake({ "path=/iam/v1/tokens;" .. HANG }, { "--oauth-token", oauth })
   local r = H.run({ GUARD, H.mdblua, "-e", [[
      local mdb = require "mdb"
      local function clock() local p = io.popen("date +%s.%N"); local t = tonumber(p:read("l")); p:close(); return t end
      local c = mdb.client { iam_endpoint = os.getenv("YC_MDB_ENDPOINT") }
      local out = {}
      for _, d in ipairs { 0.3, 0.6 } do
         -- (the clock before the deadline: popen's time then counts as
         -- late, never as early; mdb.deadline() says it was not early)
         local t0 = clock()
         mdb.deadline(d)
         local ok, e = pcall(function() for _ in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do end end)
         local passed = mdb.deadline() == 0
         local late = clock() - t0 - d
         out[#out + 1] = string.format("%s %s %s %s", tostring(ok), e.kind, tostring(e.deadline),
            passed and late < 0.25 and "on time" or string.format("%.3f s late", late))
      end
      io.write(table.concat(out, "\n"), "\n")]] }, { program = "timeout",
      env = env(s, { YC_IAM_TOKEN = false, YC_TOKEN = oauth }) })
   H.eq({ r.code, r.stdout }, { 0, "false timeout 0.3 on time\nfalse timeout 0.6 on time\n" }, r.stderr)
   H.not_contains(r.stdout .. r.stderr, "SECRET")
end)

H.test("mdb.deadline removed after it passed: the next listing completes", function()
   local s = fake { "path=cpostgresql-0000;" .. HANG }
   local r = lua(s, [[
      local mdb = require "mdb"
      local c = mdb.client()
      mdb.deadline(0.3)
      local ok, e = pcall(function() for _ in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do end end)
      mdb.deadline(false)
      local n = 0
      for _ in c:backups { engine = "postgresql", cluster = "cpostgresql-0001" } do n = n + 1 end
      print(ok, e.kind, n)]])
   H.eq({ r.code, r.stdout }, { 0, "false\ttimeout\t5\n" }, r.stderr)
end)

-- The backstop: what the deadline cannot end ------------------------------------

local GRACE = 5   -- cli.BACKSTOP_GRACE

--- A policy file whose loading never ends (Lua code that waits on nothing).
local function looping_policy()
   return H.write_file(H.tmpname(".lua"), "while true do end\n")
end

--- `r` ended by the backstop `GRACE` s after a deadline of `seconds`.
local function stopped(r, name, seconds, code)
   H.eq({ r.code, r.stderr }, { code, string.format(
      "%s: no result within %s s (--timeout %s); ended %d s later, still running\n", name, seconds, seconds,
      GRACE) }, r.stdout)
   H.ok(r.took >= tonumber(seconds) + GRACE - 0.05, string.format("not before the backstop: %.3f s", r.took))
   H.ok(r.took < tonumber(seconds) + GRACE + H.slack, string.format("promptly at the backstop: %.3f s", r.took))
end

H.test("a policy that loops forever: --timeout 1 still ends the run, 5 s later, exit 2 and the timeout line", function()
   local r = script(nil, "audit.lua", { "--policy", looping_policy(), "--timeout", "1" })
   stopped(r, "audit.lua", "1", 2)
   H.eq(r.stdout, "")
end)

H.test("the same as a Nagios check: the UNKNOWN line on stdout, exit 3", function()
   local r = script(nil, "audit.lua", { "--policy", looping_policy(), "--format", "nagios", "--timeout", "1" })
   H.eq(r.stdout, "MDB BACKUP AUDIT UNKNOWN - no result within 1 s (--timeout 1)\n")
   stopped(r, "audit.lua", "1", 3)
end)

--- The names in `dir` (hidden ones too), sorted.
local function listing(dir)
   local p = assert(io.popen("ls -A " .. H.sh_quote(dir)))
   local names = {}
   for name in p:lines() do names[#names + 1] = name end
   p:close()
   return names
end

--- Run `name` in mdblua after `pre` (Lua, -e) under timeout(1).
local function script_after(server, pre, name, args)
   local a = { GUARD, H.mdblua, "-e", pre, SCRIPTS .. name }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local t0 = now()
   local r = H.run(a, { program = "timeout", env = env(server) })
   r.took = now() - t0
   return r
end

-- A run stuck while its report's temporary file exists: as the file is
-- made, the run starts looping (what a finalizer or a hook could do, or a
-- write to a file system that stopped answering).
local STUCK_WRITING = [[
   local open = io.open
   io.open = function(name, mode)
      local f, err = open(name, mode)
      if f and mode == "wb" and name:find("/%.out%.json%.tmp%-") then
         f:write("partial"); f:flush()
         while true do end
      end
      return f, err
   end]]

H.test("the backstop removes the report's temporary file: --output keeps the previous report, no debris", function()
   local s = fake()
   for _, previous in ipairs { "previous report\n", false } do
      local dir = H.fresh_dir()
      if previous then H.write_file(dir .. "/out.json", previous) end
      local r = script_after(s, STUCK_WRITING, "audit.lua", { "--folder", FOLDER, "--now", NOW, "--format", "json",
         "--output", dir .. "/out.json", "--timeout", "1" })
      stopped(r, "audit.lua", "1", 2)
      H.eq(r.stdout, "")
      H.eq(listing(dir), previous and { "out.json" } or {}, "what the run left in the output's directory")
      if previous then H.eq(H.read_file(dir .. "/out.json"), previous) end
   end
end)

H.test("a looping policy with --output: ended by the backstop, nothing written beside the report", function()
   local s = fake()
   local dir = H.fresh_dir()
   H.write_file(dir .. "/out.json", "previous report\n")
   local r = script(s, "audit.lua", { "--policy", looping_policy(), "--format", "json", "--output", dir .. "/out.json",
      "--timeout", "1" })
   stopped(r, "audit.lua", "1", 2)
   H.eq(listing(dir), { "out.json" })
   H.eq(H.read_file(dir .. "/out.json"), "previous report\n")
end)

H.test("mdb.backstop{remove = path}: removed as it fires, not once cleared; bad options named", function()
   local dir = H.fresh_dir()
   local kept, gone = dir .. "/kept", dir .. "/gone"
   H.write_file(kept, "x")
   H.write_file(gone, "x")
   local r = lua(nil, string.format([[
      local mdb = require "mdb"
      mdb.backstop { remove = %q }
      mdb.backstop { remove = false }
      mdb.backstop { remove = %q }
      mdb.backstop(0.2, 4, "gone\n")
      while true do end]], kept, gone))
   H.eq({ r.code, r.stderr }, { 4, "gone\n" })
   H.eq(listing(dir), { "kept" })
   r = lua(nil, [[
      local mdb = require "mdb"
      for _, o in ipairs { { remove = 1 }, { remove = "" }, { remove = "a\0b" }, { rm = "x" }, {} } do
         local ok, e = pcall(mdb.backstop, o)
         print(tostring(ok) .. " " .. e.kind .. " " .. e.message)
      end
      mdb.backstop { remove = "/nonexistent/dir/file" }
      mdb.backstop(0.1, 5)
      while true do end]])
   H.eq({ r.code, r.stderr }, { 5, "" })
   H.eq(r.stdout, table.concat({
      "false argument bad argument 'backstop': option 'remove': expected a path, or false for none, got number",
      "false argument bad argument 'backstop': option 'remove': expected a path, got an empty text or one with a NUL byte",
      "false argument bad argument 'backstop': option 'remove': expected a path, got an empty text or one with a NUL byte",
      "false argument bad argument 'backstop': unknown option 'rm' (known: remove)",
      "false argument bad argument 'backstop': option 'remove': expected a path, or false for none, got nil",
   }, "\n") .. "\n")
end)

H.test("a run that ends at its deadline is not touched by the backstop (one line, no 'ended ... later')", function()
   local s = fake { HANG }
   local r = script(s, "list-backups.lua", { "--engine", "postgresql", "--cluster", "cpostgresql-0000",
      "--timeout", "1" })
   timed_out(r, "list-backups.lua", "1", 2)
end)

H.test("mdb.backstop: the last words and the status once due; disarmed, nothing; bad arguments named", function()
   local r = lua(nil, [[
      local mdb = require "mdb"
      io.write(tostring(mdb.backstop()), " ")
      mdb.backstop(0.3, 7, "err words\n", "out words\n")
      io.write(tostring(mdb.backstop() > 0), "\n")
      io.stdout:flush()
      io.write("buffered, never flushed")
      while true do end]])
   H.eq({ r.code, r.stdout, r.stderr }, { 7, "nil true\nout words\n", "err words\n" })
   H.ok(r.took < 0.3 + H.slack, string.format("promptly: %.3f s", r.took))
   r = lua(nil, [[
      local mdb = require "mdb"
      mdb.backstop(0.2, 7, "too late\n")
      mdb.backstop(86400, 9, "re-armed\n")   -- later: the earlier time is gone
      mdb.backstop(false)
      local t = os.clock()
      while os.clock() - t < 0.5 do end
      print(mdb.backstop())
      local errs = {}
      for _, a in ipairs { { 0, 1 }, { -1, 1 }, { 0 / 0, 1 }, { 172801, 1 }, { "5", 1 }, { 1, 256 }, { 1, -1 },
         { 1, 1.5 }, { 1, nil } } do
         local ok, e = pcall(mdb.backstop, a[1], a[2])
         errs[#errs + 1] = tostring(ok) .. " " .. tostring(e.kind) .. " " .. e.message:match("expected [%w ]+")
      end
      print(table.concat(errs, "\n"))]])
   local seconds, status = "false argument expected a number of seconds above 0 and at most 172800",
      "false argument expected an exit status from 0 to 255"
   H.eq({ r.code, r.stdout, r.stderr }, { 0, "nil\n" .. table.concat({ seconds, seconds, seconds, seconds, seconds,
      status, status, status, status }, "\n") .. "\n", "" })
end)

H.test("a zone file that is a named pipe: refused at once, never waited on", function()
   local dir = H.fresh_dir()
   assert(os.execute("mkdir -p " .. H.sh_quote(dir .. "/Europe") .. " && mkfifo " .. H.sh_quote(dir .. "/Europe/Berlin")))
   local r = script(nil, "audit.lua", { "--tz", "Europe/Berlin" }, { TZDIR = dir })
   H.eq({ r.code, r.stdout }, { 2, "" })
   H.contains(r.stderr, string.format('audit.lua: option \'--tz\': time zone "Europe/Berlin": %s/Europe/Berlin is not a regular file\n', dir))
   H.ok(r.took < H.slack, string.format("at once: %.3f s", r.took))
end)

H.run_all()
