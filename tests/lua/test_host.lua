-- The mdblua host as a subprocess: arguments and `arg`, -e, stdin, exit
-- statuses, the "mdblua:" error prefix with traceback, error objects via
-- __tostring, usage errors, modules found without LUA_PATH, Ctrl-C.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

-- The version, as CMakeLists.txt's project() says.
local VERSION = assert(H.read_file(H.source_dir .. "/CMakeLists.txt"):match("project%(mdblua VERSION ([%d.]+)"))

local function script(text)
   return H.write_file(H.tmpname(".lua"), text)
end

H.test("SCRIPT ARGS: arg table and ... as in lua", function()
   local f = script('print(arg[0], arg[1], arg[2], #arg, select("#", ...), ...)')
   local r = H.run { f, "a b", "c" }
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, f .. "\ta b\tc\t2\t2\ta b\tc\n")
end)

H.test("-e CODE runs in order, before the script", function()
   local f = script('print("script", x)')
   local r = H.run { "-e", "x = 1", "-e", "x = x + 1; print('e', x)", f }
   H.eq(r.stdout, "e\t2\nscript\t2\n")
   H.eq(r.code, 0)
end)

H.test("- reads the script from stdin; a piped stdin with no script runs too", function()
   local r = H.run({ "-", "one" }, { stdin = "print('stdin', ...)" })
   H.eq(r.stdout, "stdin\tone\n")
   local r2 = H.run({}, { stdin = "print('piped')" })
   H.eq(r2.stdout, "piped\n")
   H.eq(r2.code, 0)
end)

H.test("exit statuses: os.exit(n), normal end 0, uncaught error 2", function()
   H.eq(H.run({ "-e", "os.exit(7)" }).code, 7)
   H.eq(H.run({ "-e", "os.exit(true)" }).code, 0)
   H.eq(H.run({ "-e", "os.exit(false)" }).code, 1)
   H.eq(H.run({ "-e", "local x = 1" }).code, 0)
   local r = H.run { "-e", "error('boom')" }
   H.eq(r.code, 2)
   H.contains(r.stderr, "mdblua: (command line):1: boom")
   H.contains(r.stderr, "stack traceback:")
   local f = script("local function f() error('deep') end\nf()\n")
   local r2 = H.run { f }
   H.eq(r2.code, 2)
   -- Lua shortens long chunk names with "...", so match the file's tail
   H.ok(r2.stderr:match("^mdblua: [^\n]*" .. f:match("[^/]+$"):gsub("%p", "%%%0") .. ":1: deep\n"), r2.stderr)
end)

H.test("error objects are rendered through __tostring; others named by type", function()
   local r = H.run { "-e", "error(setmetatable({}, {__tostring = function() return 'custom text' end}))" }
   H.eq(r.code, 2)
   H.contains(r.stderr, "mdblua: custom text")
   local r2 = H.run { "-e", "error({})" }
   H.contains(r2.stderr, "mdblua: (error object is a table value)")
   local r3 = H.run { "-e", "require('mdb').client{token='x'}:backups{engine='nosuch', cluster='c'}" }
   H.eq(r3.code, 2)
   H.contains(r3.stderr, "mdblua: bad argument 'engine': unknown engine \"nosuch\"")
end)

H.test("a script that does not parse or does not exist: status 2 with a message", function()
   local r = H.run { script("x = = 1") }
   H.eq(r.code, 2)
   H.contains(r.stderr, "mdblua: ")
   H.contains(r.stderr, "unexpected symbol")
   local r2 = H.run { "/nonexistent/script.lua" }
   H.eq(r2.code, 2)
   H.contains(r2.stderr, "cannot open /nonexistent/script.lua")
end)

H.test("usage errors exit 2; -h and -v exit 0", function()
   local r = H.run { "-x" }
   H.eq(r.code, 2)
   H.eq(r.stderr, "mdblua: unrecognized option '-x'\ntry 'mdblua --help'\n", "one line and a pointer")
   local r2 = H.run { "-e" }
   H.eq(r2.code, 2)
   H.eq(r2.stderr, "mdblua: '-e' needs an argument\ntry 'mdblua --help'\n")
   local h = H.run { "--help" }
   H.eq(h.code, 0)
   H.contains(h.stdout, "usage: mdblua")
   H.contains(h.stdout, "YC_IAM_TOKEN")
   local v = H.run { "-v" }
   H.eq(v.code, 0)
   H.ok(v.stdout:match("^mdblua %d+%.%d+%.%d+ %(Lua 5%.4"), v.stdout)
end)

-- The bundled scripts' names, sorted: what `mdblua NAME` runs.
-- The names a listing of bundled scripts shows: the indented lines from
-- `from` on, up to the first line that is not indented; each at most 72
-- columns (the host fills lines to that width).
local function listed_names(text, from)
   local names = {}
   local rest = text:sub(from)
   for line in rest:gmatch("([^\n]*)\n") do
      if not line:match("^  %S") then break end
      H.ok(#line <= 72, "listing line within 72 columns: " .. line)
      for n in line:gmatch("%S+") do names[#names + 1] = n end
   end
   return names
end

local function script_names()
   local p = assert(io.popen("ls " .. H.sh_quote(H.source_dir .. "/scripts")))
   local names = {}
   for f in p:read("a"):gmatch("(%S+)%.lua") do names[#names + 1] = f end
   p:close()
   H.ok(#names >= 5, "scripts/ has the bundled scripts")
   return names
end

H.test("a bundled script runs by its name (with or without .lua) from any directory", function()
   for _, name in ipairs(script_names()) do
      for _, word in ipairs { name, name .. ".lua" } do
         local r = H.run({ word, "--help" }, { cwd = "/" })
         H.eq(r.code, 0, word .. ": " .. r.stderr)
         H.ok(r.stdout:match("^usage: mdblua " .. name:gsub("%p", "%%%0") .. "%.lua"), word .. ": " .. r.stdout)
      end
   end
   -- arg[0] is the script's path, so a script can find what lies beside it
   local r = H.run({ "-e", "print(arg[0], arg[1])", "list-backups", "--help" }, { cwd = "/" })
   H.eq(r.code, 0, r.stderr)
   local path = r.stdout:match("^(%S+)\t%-%-help\n")
   H.ok(path and path:match("/list%-backups%.lua$"), r.stdout)
   H.eq(H.read_file(path), H.read_file(H.source_dir .. "/scripts/list-backups.lua"), "arg[0] is the script")
end)

H.test("a file of that name in the current directory is run, not the bundled script", function()
   local dir = H.tmpname("-cwd")
   assert(os.execute("mkdir -p " .. H.sh_quote(dir)))
   H.write_file(dir .. "/audit", "print('the local file', ...)")
   local r = H.run({ "audit", "x" }, { cwd = dir })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "the local file\tx\n")
   -- a path is never looked up among the scripts
   local r2 = H.run({ "./audit.lua" }, { cwd = dir })
   H.eq(r2.code, 2)
   H.contains(r2.stderr, "cannot open ./audit.lua")
   os.execute("rm -rf " .. H.sh_quote(dir))
end)

H.test("a name that is neither a file nor a script: status 2, the error lists the scripts", function()
   local r = H.run({ "audt", "--help" }, { cwd = "/" })
   H.eq(r.code, 2)
   H.eq(r.stdout, "")
   H.ok(r.stderr:match("^mdblua: cannot open audt: no such file, and no bundled script of that name"), r.stderr)
   local _, after = r.stderr:find("the scripts in [^\n]*:\n")
   H.ok(after, r.stderr)
   H.eq(listed_names(r.stderr, after + 1), script_names())
   H.not_contains(r.stderr, "traceback")
end)

H.test("--help lists every bundled script and where they are", function()
   local r = H.run { "--help" }
   H.eq(r.code, 0)
   local real = io.popen("readlink -f " .. H.sh_quote(H.source_dir .. "/scripts")):read("l")
   local dir = r.stdout:match("Bundled scripts, each with %-%-help %(in ([^)]+)%):\n")
   H.ok(dir, r.stdout)
   H.eq(io.popen("readlink -f " .. H.sh_quote(dir)):read("l"), real, "the scripts directory")
   local _, after = r.stdout:find("Bundled scripts, each with %-%-help %([^)]+%):\n")
   H.eq(listed_names(r.stdout, after + 1), script_names())
end)

H.test("require mdb, cjson and mdb.* without LUA_PATH/LUA_CPATH, from another directory", function()
   local code = [[
      local mdb, cjson, fmt, cli = require "mdb", require "cjson", require "mdb.fmt", require "mdb.cli"
      print(type(mdb.client), cjson.encode({1}), fmt.size(2048), type(cli.parse))
   ]]
   local r = H.run({ "-e", code }, { cwd = "/", env = { LUA_PATH = false, LUA_CPATH = false,
      LUA_PATH_5_4 = false, LUA_CPATH_5_4 = false } })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "function\t[1]\t2.0 KiB\tfunction\n")
end)

H.test("after cmake --install, the installed mdblua finds mdb, cjson and mdb.* by itself", function()
   local build = assert(os.getenv("MDB_BUILD_DIR"), "MDB_BUILD_DIR is not set")
   local prefix = H.tmpname("-prefix")
   local ok = os.execute("cmake --install " .. H.sh_quote(build) .. " --prefix " .. H.sh_quote(prefix) .. " >/dev/null")
   H.ok(ok, "cmake --install")
   local r = H.run({ "-e", "print(require('mdb').version, require('cjson').encode({}), require('mdb.fmt').age(90))" },
      { program = prefix .. "/bin/mdblua", cwd = "/", env = { LUA_PATH = false, LUA_CPATH = false } })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, VERSION .. "\t{}\t1m\n")
   H.ok(H.read_file(prefix .. "/share/mdblua/scripts/list-backups.lua"), "scripts installed")
   os.execute("rm -rf " .. H.sh_quote(prefix))
end)

H.test("a terminal on stdin and no script: the prompt evaluates expressions and statements", function()
   -- script(1) gives mdblua a pseudo-terminal and feeds it our stdin.
   local input = table.concat({ "1 + 1", "x = 5", "x * 2", "for i = 1, 2 do", "print('i=' .. i)", "end",
      "error('oops')", "print('still here')", "" }, "\n")
   local r = H.run({ "-qec", H.sh_quote(H.mdblua), "/dev/null" }, { program = "script", stdin = input })
   H.eq(r.code, 0, r.stderr)
   local out = r.stdout:gsub("\r", "")
   H.contains(out, "mdblua " .. VERSION .. " (Lua 5.4")
   H.contains(out, "> 2\n")
   H.contains(out, "> 10\n")
   H.contains(out, ">> i=1\ni=2\n")
   H.contains(out, "oops")
   H.contains(out, "still here")
end)

-- Start mdblua with `args` in the background (exec keeps the pid), wait
-- until `ready(out)` is true of its stdout so far (bounded), send SIGINT and
-- collect its exit status.  Returns { code, stdout, stderr, seconds } where
-- seconds counts from the SIGINT to the exit.
local function interrupt(args, ready, env)
   local out, err = H.tmpname(".out"), H.tmpname(".err")
   local pidfile, codefile = H.tmpname(".pid"), H.tmpname(".code")
   local words = {}
   for i, a in ipairs(args) do words[i] = H.sh_quote(a) end
   local assign = {}
   for k, v in pairs(env or {}) do assign[#assign + 1] = k .. "=" .. H.sh_quote(v) end
   os.execute(string.format("(%s sh -c 'echo $$ >%s; exec \"$@\"' sh %s %s </dev/null >%s 2>%s; echo $? >%s) &",
      table.concat(assign, " "), pidfile, H.sh_quote(H.mdblua), table.concat(words, " "),
      H.sh_quote(out), H.sh_quote(err), H.sh_quote(codefile)))
   local pid
   for _ = 1, 100 do
      pid = H.read_file(pidfile)
      if pid and pid:match("%d") and ready(H.read_file(out) or "") then break end
      os.execute("sleep 0.1")
   end
   pid = assert(pid and pid:match("%d+"), "mdblua started")
   H.ok(ready(H.read_file(out) or ""), "mdblua got ready: " .. (H.read_file(err) or ""))
   os.execute("sleep 0.5")   -- now in the middle of its work
   local t0 = os.time()
   os.execute("kill -INT " .. pid)
   local code
   for _ = 1, 50 do
      code = H.read_file(codefile)
      if code and code:match("%d") then break end
      os.execute("sleep 0.1")
   end
   H.ok(code and code:match("%d"), "mdblua exited within 5 s of SIGINT")
   return { code = tonumber(code:match("%d+")), seconds = os.time() - t0,
      stdout = H.read_file(out) or "", stderr = H.read_file(err) or "" }
end

local function started(out) return out:find("started", 1, true) ~= nil end
-- -e code that says so before the script runs
local STARTED = 'io.stdout:write("started\\n") io.stdout:flush()'


-- A fake API whose every request takes 20 s.
local function slow_fake()
   return H.start_fake { "--generate", "engine=mongodb,clusters=2,backups=5",
      "--fault", "delay_ms=20000;times=0" }
end

local function slow_listing(s)
   return script(string.format([[
      local c = require("mdb").client { endpoint = %q, token = %q, timeout = 60 }
      io.stdout:write("started\n"); io.stdout:flush()
      for b in c:backups { engine = "mongodb", cluster = "cmongodb-0000" } do end
      print("not reached")
   ]], s.url, H.token))
end

H.test("Ctrl-C in the middle of a page fetch: 'mdblua: interrupted', status 130, quickly", function()
   local s = slow_fake()
   local r = interrupt({ slow_listing(s) }, started)
   H.eq(r.code, 130, "exit status")
   H.ok(r.seconds < 6, "quickly")
   H.eq(r.stderr, "mdblua: interrupted\n", "one line, no traceback")
   H.not_contains(r.stdout, "not reached")
end)

H.test("Ctrl-C in a busy Lua loop: 'mdblua: interrupted', status 130", function()
   local f = script('io.stdout:write("started\\n"); io.stdout:flush(); local n = 0; while true do n = n + 1 end')
   local r = interrupt({ f }, started)
   H.eq(r.code, 130, "exit status")
   H.eq(r.stderr, "mdblua: interrupted\n", "one line, no traceback")
   local r2 = interrupt({ "-e", 'print("started") io.stdout:flush() while true do end' }, started)
   H.eq(r2.code, 130, "-e: exit status")
   H.eq(r2.stderr, "mdblua: interrupted\n", "-e: one line, no traceback")
end)

H.test("Ctrl-C in a bundled script's scan: 'mdblua: interrupted', status 130", function()
   local s = slow_fake()
   local r = interrupt({ "-e", STARTED, H.source_dir .. "/scripts/audit.lua" }, started,
      { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url, YC_FOLDER_ID = "b1gfakefolder0000001" })
   H.eq(r.code, 130, "exit status")
   H.eq(r.stderr, "mdblua: interrupted\n", "one line, no traceback")
   H.eq(r.stdout, "started\n")
end)

-- mdblua on a pseudo-terminal (stdin, stdout and stderr), Ctrl-C typed
-- `wait_ms` after it printed "started".  Returns { code, out = the
-- transcript }.
local function ctrl_c_on_terminal(args, wait_ms, env)
   local steps = H.write_file(H.tmpname(".pty"),
      string.format("expect started\\r\\n\nsleep %d\nsend \\x03\nwait\n", wait_ms))
   local transcript = H.tmpname(".transcript")
   local cmd = { "-t", "10", "-s", steps, "-o", transcript, "--", H.mdblua }
   for _, a in ipairs(args) do cmd[#cmd + 1] = a end
   env = env or {}
   env.TERM = "xterm"
   local r = H.run(cmd, { program = assert(os.getenv("MDB_BUILD_DIR")) .. "/tests/tools/ptydrive", env = env })
   r.out = H.read_file(transcript) or ""
   return r
end

H.test("Ctrl-C with stderr a terminal: the message on a line of its own after ^C, status 130", function()
   local r = ctrl_c_on_terminal({ "-e", STARTED .. " while true do end" }, 500)
   H.eq(r.code, 130, "exit status: " .. r.stderr .. r.out)
   H.eq(r.out, "started\r\n^C\r\nmdblua: interrupted\r\n")
   local s = slow_fake()
   r = ctrl_c_on_terminal({ slow_listing(s) }, 500)
   H.eq(r.code, 130, "listing: exit status: " .. r.stderr .. r.out)
   H.eq(r.out, "started\r\n^C\r\nmdblua: interrupted\r\n")
   -- a fleet script draws a progress line on a terminal and clears it
   r = ctrl_c_on_terminal({ "-e", STARTED, H.source_dir .. "/scripts/audit.lua" }, 1000,
      { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url, YC_FOLDER_ID = "b1gfakefolder0000001" })
   H.eq(r.code, 130, "audit: exit status: " .. r.stderr .. r.out)
   H.ok(r.out:match("\nmdblua: interrupted\r\n$"), "audit: " .. r.out)
   H.not_contains(r.out, "traceback")
   H.not_contains(r.out, H.token)
end)

H.run_all()
