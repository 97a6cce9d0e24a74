-- Bad input to the scripts, and paths that are not what they seem: a
-- clear error naming what was wrong and the documented exit status,
-- never a traceback, a hang, a destroyed file or a silent wrong answer.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local FOLDER = "b1gfakefolder0000001"

local function env(s, extra)
   return H.script_env(s, FOLDER, { NO_COLOR = "1" }, extra)
end

local script = H.script

-- A shell command line, bounded: `timeout` ends what would hang (124).
local function sh(cmd, seconds)
   return H.run({ "-c", "exec timeout " .. (seconds or 20) .. " " .. cmd }, { program = "sh" })
end

-- `env` with `e`'s variables set and `unset`'s names unset, for a command line.
local function env_words(e, unset)
   local words = { "env" }
   for _, k in ipairs(unset or {}) do words[#words + 1] = "-u " .. k end
   for k, v in pairs(e) do words[#words + 1] = k .. "=" .. H.sh_quote(v) end
   return table.concat(words, " ")
end

local fresh_dir = H.fresh_dir

-- A named pipe called `name` in a fresh directory: its path, and the directory.
local function new_fifo(name)
   local d = fresh_dir()
   local path = d .. "/" .. name
   assert(os.execute("mkfifo " .. H.sh_quote(path)), "mkfifo " .. path)
   return path, d
end

-- `test -FLAG path` as a boolean.
local function is(flag, path)
   return os.execute("test " .. flag .. " " .. H.sh_quote(path)) == true
end

local function fake()
   return H.start_fake { "--generate", "engine=redis,clusters=1,backups=5" }
end

-- An inventory table with its AGE column (the newest backup's age, by the
-- clock: "32s", "59m", "1h 0m") blanked and its padding with it: two runs
-- compared may straddle a second.
local function unaged(text)
   return (text:gsub("(%d%d:%d%d:%d%dZ +)%d+[dh] %d+[hm]", "%1-"):gsub("(%d%d:%d%d:%d%dZ +)%d+[smhd]", "%1-")
      :gsub(" +", " "))
end

H.test("--output a named pipe: the report goes through it and the pipe stays a pipe", function()
   local s = fake()
   local fifo, d = new_fifo("report.pipe")
   local got = d .. "/got"
   local plain = H.run({ script("inventory.lua") }, { env = env(s) })
   H.eq(plain.code, 0, plain.stderr)
   -- the reader first, bounded: with the pipe replaced by a file it would
   -- wait for a writer for ever
   local cmd = string.format("(timeout 10 cat %s > %s &) ; %s %s %s --output %s", H.sh_quote(fifo),
      H.sh_quote(got), env_words(env(s)), H.sh_quote(H.mdblua), H.sh_quote(script("inventory.lua")),
      H.sh_quote(fifo))
   local r = H.run({ "-c", cmd }, { program = "sh" })
   H.eq(r.code, 0, r.stderr)
   H.ok(is("-p", fifo), "the pipe is still a named pipe")
   for _ = 1, 50 do
      local f = io.open(got, "rb")
      local text = f and f:read("a")
      if f then f:close() end
      if text and unaged(text) == unaged(plain.stdout) then break end
      os.execute("sleep 0.1")
   end
   local f = assert(io.open(got, "rb"))
   H.eq(unaged(f:read("a")), unaged(plain.stdout), "what the reader of the pipe got")
   f:close()
end)

H.test("--output a full device: exit 2 naming it, the device node left as it was", function()
   local s = fake()
   local d = fresh_dir()
   local full = d .. "/full"
   -- a node of our own like /dev/full (char 1 7): the real one is shared
   if not os.execute("mknod " .. H.sh_quote(full) .. " c 1 7 2>/dev/null") then
      print("  (skipped: mknod needs root)")
      return
   end
   for _, name in ipairs { "inventory.lua", "audit.lua", "freshness.lua" } do
      local r = H.run({ script(name), "--output", full }, { env = env(s) })
      H.eq(r.code, name == "freshness.lua" and 3 or 2, name .. ": " .. r.stderr)
      H.contains(r.stderr, name .. ": cannot write " .. full .. ": No space left on device", name)
      H.ok(is("-c", full), name .. ": the device node is still a character device")
   end
end)

H.test("--output /dev/fd/1, /proc/self/fd/1, /dev/fd/2: the stream itself, as the shell has it", function()
   local s = fake()
   local plain = H.run({ script("inventory.lua") }, { env = env(s) })
   H.eq(plain.code, 0, plain.stderr)
   for _, path in ipairs { "/dev/fd/1", "/proc/self/fd/1" } do
      local r = H.run({ script("inventory.lua"), "--output", path }, { env = env(s) })
      H.eq(r.code, 0, path .. ": " .. r.stderr)
      H.eq(unaged(r.stdout), unaged(plain.stdout), path)
   end
   local r = H.run({ script("inventory.lua"), "--output", "/dev/fd/2" }, { env = env(s) })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "")
   H.eq(unaged(r.stderr), unaged(plain.stdout))
   -- stdout appending to a log: the log keeps what it had
   local log = H.write_file(H.tmpname(".log"), "earlier line\n")
   r = H.run({ "-c", string.format("%s %s %s --output /dev/fd/1 >> %s", env_words(env(s)), H.sh_quote(H.mdblua),
      H.sh_quote(script("inventory.lua")), H.sh_quote(log)) }, { program = "sh" })
   H.eq(r.code, 0, r.stderr)
   local f = assert(io.open(log, "rb"))
   H.eq(unaged(f:read("a")), "earlier line\n" .. unaged(plain.stdout))
   f:close()
   -- a stream redirected to /dev/null is written like any other
   r = H.run({ "-c", string.format("%s %s %s --output /dev/fd/2 2>/dev/null; echo $?", env_words(env(s)),
      H.sh_quote(H.mdblua), H.sh_quote(script("inventory.lua"))) }, { program = "sh" })
   H.eq(r.stdout, "0\n", "stderr to /dev/null is written")
end)

H.test("report.write to a directory: the directory named, and left", function()
   local report = require "mdb.report"
   local d = fresh_dir()
   local ok, err = report.write("x", d)
   H.eq(ok, nil)
   H.eq(err, "cannot write " .. d .. ": it names a directory")
   H.ok(is("-d", d), "the directory is left")
end)

H.test("--policy that is a directory: one line and the usage status, no traceback", function()
   local s = fake()
   local d = fresh_dir()
   for _, case in ipairs {
      { "audit.lua", {}, 2 }, { "audit.lua", { "--format", "nagios" }, 3 },
      { "retention-plan.lua", { "--keep-last", "3" }, 2 } } do
      local args = H.with({ script(case[1]), "--policy", d }, table.unpack(case[2]))
      local r = H.run(args, { env = env(s) })
      local what = case[1] .. " " .. table.concat(case[2], " ")
      H.eq(r.code, case[3], what .. ": " .. r.stderr)
      H.eq(r.stderr, case[1] .. ": cannot read " .. d .. ": Is a directory\n", what)
   end
end)

H.test("a service-account key file that is a named pipe: refused at once, not waited on", function()
   local s = fake()
   local fifo = new_fifo("key.json")
   local e = env(s, { YC_SERVICE_ACCOUNT_KEY_FILE = fifo })
   e.YC_IAM_TOKEN = nil
   local started = H.now()
   local r = sh(string.format("%s %s %s", env_words(e, { "YC_IAM_TOKEN", "YC_TOKEN" }),
      H.sh_quote(H.mdblua), H.sh_quote(script("inventory.lua"))), 10)
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "inventory.lua: bad argument 'sa_key_file': YC_SERVICE_ACCOUNT_KEY_FILE: '"
      .. fifo .. "' is not a regular file")
   H.ok(H.now() - started < 5, "answered at once")
end)

H.test("--keep-within beyond what the calendar holds: a usage error, not a plan that expires all", function()
   local s = fake()
   local r = H.run({ script("retention-plan.lua"), "--keep-within", "999999999999y" }, { env = env(s) })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "retention-plan.lua: option '--keep-within': bad duration \"999999999999y\": "
      .. "longer than 1000000000 years")
   H.eq(r.stdout, "")
   -- the same in a policy file
   local policy = H.write_file(H.tmpname(".lua"), 'return { retention = { within_daily = "999999999999y" } }\n')
   r = H.run({ script("retention-plan.lua"), "--policy", policy }, { env = env(s) })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "within_daily': bad duration \"999999999999y\": longer than 1000000000 years")
   -- in days, in the "local" zone: os.date could not represent the year
   r = H.run({ script("retention-plan.lua"), "--keep-within", "999999999999d", "--tz", "local" }, { env = env(s) })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "option '--keep-within': bad duration \"999999999999d\": longer than 1000000000 years")
   -- the longest it takes keeps every backup within it
   r = H.run({ script("retention-plan.lua"), "--keep-within", "999999999y", "--format", "json", "--tz", "local" },
      { env = env(s) })
   H.eq(r.code, 0, r.stderr)
   local plan = require("cjson").decode(r.stdout)[1]
   H.eq({ #plan.keep, #plan.expire }, { 5, 0 }, "kept and expired")
   local duration = require "mdb.duration"
   H.eq(select(2, duration.parse_calendar("600000000y6000000000m")),
      'bad duration "600000000y6000000000m": longer than 1000000000 years')
   H.eq(duration.parse_calendar("999999999y").years, 999999999)
end)

H.test("times before the year 1000 keep four digits, as RFC 3339 has them", function()
   local fmt = require "mdb.fmt"
   local mdb = require "mdb"
   for _, text in ipairs { "0001-01-01T00:00:00Z", "0999-12-31T23:59:59Z", "0026-12-07T10:00:00Z",
      "1000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2026-12-07T10:00:00Z" } do
      local t = assert(mdb.parse_time(text), text)
      H.eq(fmt.rfc3339(t), text)
      H.eq(fmt.time(t), (text:gsub("T", " ")))
   end
   local s = fake()
   local r = H.run({ script("restore-point.lua"), "--engine", "redis", "--cluster", "credis-0000",
      "--at", "0026-12-07T10:00:00Z", "--format", "json" }, { env = env(s) })
   H.eq(r.code, 1, r.stderr)
   local j = require("cjson").decode(r.stdout)
   H.eq(j.at, "0026-12-07T10:00:00Z")
end)

H.test("a malformed YC_MDB_ENDPOINT or YC_RESOURCE_MANAGER_ENDPOINT: the variable is named", function()
   local s = fake()
   local r = H.run({ script("inventory.lua") }, { env = env(s, { YC_MDB_ENDPOINT = "localhost:8080" }) })
   H.eq(r.code, 2, r.stderr)
   H.eq(r.stderr, "inventory.lua: bad argument 'endpoint': YC_MDB_ENDPOINT: endpoint is not a URL with a scheme "
      .. "and a host (e.g. https://mdb.api.cloud.yandex.net)\n")
   r = H.run({ script("audit.lua"), "--cloud", "b1gcloud" },
      { env = env(s, { YC_RESOURCE_MANAGER_ENDPOINT = "http://example.com" }) })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "audit.lua: bad argument 'resource_manager_endpoint': YC_RESOURCE_MANAGER_ENDPOINT: "
      .. "endpoint uses plain http to 'example.com'")
   -- given in Lua, the option is the argument itself
   local ok, err = pcall(require("mdb").client, { endpoint = "localhost:8080", token = H.token })
   H.eq(ok, false)
   H.not_contains(tostring(err), "YC_MDB_ENDPOINT")
end)

H.test("Resource Manager's endpoint: checked when a scan asks it, whole in the message, typed always", function()
   local s = fake()
   -- a scan of a folder does not ask Resource Manager: its variable is not read
   local r = H.run({ script("inventory.lua") }, { env = env(s, { YC_RESOURCE_MANAGER_ENDPOINT = "localhost:1" }) })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "redis-0000")
   -- a long host is named whole, as the API endpoint's is
   local host = table.concat({ string.rep("a", 60), string.rep("b", 60), string.rep("c", 60), string.rep("d", 60),
      "example" }, ".")
   for _, case in ipairs { { "YC_RESOURCE_MANAGER_ENDPOINT", "resource_manager_endpoint", { "--cloud", "b1gc" } },
      { "YC_MDB_ENDPOINT", "endpoint", {} } } do
      r = H.run(H.with({ script("audit.lua") }, table.unpack(case[3])),
         { env = env(s, { [case[1]] = "http://" .. host .. "/" }) })
      H.eq(r.code, 2, r.stderr)
      H.eq(r.stderr, "audit.lua: bad argument '" .. case[2] .. "': " .. case[1] .. ": endpoint uses plain http to '"
         .. host .. "': only https is allowed, except to a loopback host\n", case[1])
   end
   -- the option of the wrong type is a mistake even where it would not be used
   local c = require("mdb").client { endpoint = s.url, token = H.token }
   local ok, err = pcall(c.scan, c, { engine = "redis", folder = FOLDER, resource_manager_endpoint = 5 })
   H.eq(ok, false)
   H.contains(tostring(err), "bad argument 'resource_manager_endpoint': expected a string, got number")
end)

H.test("inventory --timeline --format html: the message says which to give", function()
   local s = fake()
   local r = H.run({ script("inventory.lua"), "--timeline", "--format", "html" }, { env = env(s) })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "inventory.lua: --timeline draws text strips: it takes no --format html "
      .. "(the page draws its own timelines: give --format html alone)")
   r = H.run({ script("inventory.lua"), "--timeline", "--format", "json" }, { env = env(s) })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "it takes no --format json (the timelines as a page are --format html)")
end)

H.test("control characters the API sends are '?' in text tables, as in the timeline", function()
   local name = "evil\27]0;title\7\27[2Jname"
   local data = H.data_file {
      { "cluster", "redis", FOLDER, "cesc0000001", "x", { id = "cesc0000001", folderId = FOLDER, name = name,
         createdAt = "2026-11-01T00:00:00Z", config = { backupRetainPeriodDays = "7" } } },
      { "backup", "redis", FOLDER, "cesc0000001", H.backup("cesc0000001:b1\27[8m", "cesc0000001",
         "2026-12-06T00:00:00Z", { folderId = FOLDER }) } }
   local s = H.start_fake { "--data", data }
   local shown = "evil?]0;title??[2Jname"
   for _, case in ipairs {
      { "inventory.lua" }, { "inventory.lua", "--timeline" }, { "audit.lua", "--all" }, { "freshness.lua" },
      { "retention-plan.lua", "--keep-last", "1" },
      { "list-backups.lua", "--engine", "redis", "--cluster", "cesc0000001" } } do
      local args = H.with({ script(case[1]) }, table.unpack(case, 2))
      if case[1] ~= "list-backups.lua" then args = H.with(args, "--engine", "redis") end
      local r = H.run(args, { env = env(s) })
      local what = table.concat(case, " ")
      H.ok(r.code <= 3, what .. ": " .. r.stderr)
      H.not_contains(r.stdout, "\27", what)
      H.not_contains(r.stdout, "\7", what)
      if case[1] == "list-backups.lua" then
         H.contains(r.stdout, "cesc0000001:b1?[8m", what)
      else
         H.contains(r.stdout, shown, what)
      end
   end
end)

H.test("a YC_FOLDER_ID or a policy folder too long to be an id: named, before anything is made", function()
   local s = fake()
   local long = string.rep("b", 60)
   for _, case in ipairs {
      { "audit.lua", {}, 2 }, { "audit.lua", { "--format", "nagios" }, 3 }, { "freshness.lua", {}, 3 },
      { "inventory.lua", {}, 2 }, { "retention-plan.lua", { "--keep-last", "1" }, 2 },
      { "list-backups.lua", { "--engine", "redis" }, 2 } } do
      local r = H.run(H.with({ script(case[1]) }, table.unpack(case[2])), { env = env(s, { YC_FOLDER_ID = long }) })
      local what = case[1] .. " " .. table.concat(case[2], " ")
      H.eq(r.code, case[3], what .. ": " .. r.stderr)
      H.ok(r.stderr:find(case[1] .. ": YC_FOLDER_ID: must be at most 50 characters, got 60\n", 1, true) == 1,
         what .. ": " .. r.stderr)
   end
   -- the history file is not created for a scan that cannot start
   local db = H.tmpname(".db")
   local r = H.run({ script("snapshot.lua"), "--db", db }, { env = env(s, { YC_FOLDER_ID = long }) })
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "snapshot.lua: YC_FOLDER_ID: must be at most 50 characters, got 60")
   H.ok(not H.exists(db), "no history file left")
   -- a --folder given instead is what counts
   r = H.run({ script("inventory.lua"), "--folder", FOLDER }, { env = env(s, { YC_FOLDER_ID = long }) })
   H.eq(r.code, 0, r.stderr)
   -- a policy's folder is checked as the policy is read
   local policy = H.write_file(H.tmpname(".lua"), "return { folder = '" .. long .. "' }\n")
   r = H.run({ script("audit.lua"), "--policy", policy }, { env = env(s) })
   H.eq(r.code, 2, r.stderr)
   H.eq(r.stderr, "audit.lua: " .. policy .. ": folder: a folder id is at most 50 characters, got 60\n")
end)

H.test("--from with --folder, --cloud or --all-clouds: a usage error, not the whole recorded scan", function()
   local s = fake()
   local db = H.tmpname(".db")
   local rec = H.run({ script("snapshot.lua"), "--db", db }, { env = env(s) })
   H.eq(rec.code, 0, rec.stderr)
   for _, case in ipairs {
      { "audit.lua", { "--folder", "b1gother" }, 2, "--folder" },
      { "audit.lua", { "--cloud", "b1gcloud", "--format", "nagios" }, 3, "--cloud" },
      { "inventory.lua", { "--all-clouds" }, 2, "--all-clouds" },
      { "inventory.lua", { "--folder", FOLDER }, 2, "--folder" } } do
      local r = H.run(H.with({ script(case[1]), "--from", db }, table.unpack(case[2])), { env = env(s) })
      local what = case[1] .. " " .. table.concat(case[2], " ")
      H.eq(r.code, case[3], what .. ": " .. r.stderr)
      H.eq(r.stdout, "", what)
      H.contains(r.stderr, case[1] .. ": " .. case[4] .. " cannot narrow --from: it reads the scan as it was "
         .. "recorded, in the scope it had", what)
   end
   local r = H.run({ script("inventory.lua"), "--from", db, "--engine", "redis" }, { env = env(s) })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "redis-0000")
end)

H.test("the prompt's history file a pipe or a device: not read, not written, the prompt works", function()
   local fifo, d = new_fifo("history.pipe")
   local dev = d .. "/null"
   local steps = { "expect \\n> ", "send 1 + 1\\r", "expect \\n2\\n> ", "send \\x04" }
   local tty_env = { TERM = "xterm", HOME = d, YC_IAM_TOKEN = false, YC_TOKEN = false, YC_FOLDER_ID = false,
      YC_SERVICE_ACCOUNT_KEY_FILE = false }
   -- a pipe: opened to be read, it held the prompt until a writer came
   tty_env.MDBLUA_HISTORY = fifo
   local r = H.pty(steps, tty_env, { timeout = 8 })
   H.eq(r.code, 0, r.stderr .. r.out)
   H.contains(r.out, "mdblua: the history file " .. fifo .. " is not a regular file: the prompt keeps no history")
   H.ok(is("-p", fifo), "the pipe is left")
   -- a device like /dev/null (char 1 3) of our own: libedit made it 0600
   if os.execute("mknod -m 666 " .. H.sh_quote(dev) .. " c 1 3 2>/dev/null") then
      tty_env.MDBLUA_HISTORY = dev
      r = H.pty(steps, tty_env, { timeout = 8 })
      H.eq(r.code, 0, r.stderr .. r.out)
      local p = io.popen("stat -c %a " .. H.sh_quote(dev))
      H.eq(p:read("l"), "666", "the device's mode")
      p:close()
   else
      print("  (the device part skipped: mknod needs root)")
   end
   -- /dev/null itself: no history, and no word about it
   tty_env.MDBLUA_HISTORY = "/dev/null"
   r = H.pty(steps, tty_env, { timeout = 8 })
   H.eq(r.code, 0, r.stderr .. r.out)
   H.not_contains(r.out, "history file")
end)

H.test("SSL_CERT_FILE or ca_file= naming a pipe or a directory: refused as the client is made", function()
   local s = fake()
   local fifo, d = new_fifo("ca.pem")
   for _, path in ipairs { fifo, d } do
      -- (TLS would read a pipe as it connects, and wait there for a writer)
      local r = sh(string.format("%s %s %s", env_words(env(s, { SSL_CERT_FILE = path })), H.sh_quote(H.mdblua),
         H.sh_quote(script("inventory.lua"))), 10)
      H.eq(r.code, 2, path .. ": " .. r.stderr)
      H.eq(r.stderr, "inventory.lua: bad argument 'ca_file': SSL_CERT_FILE names '" .. path
         .. "', which is not a regular file (a PEM bundle is)\n")
   end
   local ok, err = pcall(require("mdb").client, { token = H.token, ca_file = fifo })
   H.eq(ok, false)
   H.contains(tostring(err), "bad argument 'ca_file': ca_file names '" .. fifo .. "', which is not a regular file")
end)

H.run_all()
