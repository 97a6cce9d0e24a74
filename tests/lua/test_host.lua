-- The mdblua host as a subprocess: arguments and `arg`, -e, stdin, exit
-- statuses, the "mdblua:" error prefix with traceback, error objects via
-- __tostring, usage errors, modules found without LUA_PATH, Ctrl-C.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

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
   H.contains(r.stderr, "unrecognized option '-x'")
   H.contains(r.stderr, "usage: mdblua")
   local r2 = H.run { "-e" }
   H.eq(r2.code, 2)
   H.contains(r2.stderr, "'-e' needs an argument")
   local h = H.run { "--help" }
   H.eq(h.code, 0)
   H.contains(h.stdout, "usage: mdblua")
   H.contains(h.stdout, "YC_IAM_TOKEN")
   local v = H.run { "-v" }
   H.eq(v.code, 0)
   H.ok(v.stdout:match("^mdblua %d+%.%d+%.%d+ %(Lua 5%.4"), v.stdout)
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
   H.eq(r.stdout, "0.1.0\t{}\t1m\n")
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
   H.contains(out, "mdblua 0.1.0")
   H.contains(out, "> 2\n")
   H.contains(out, "> 10\n")
   H.contains(out, ">> i=1\ni=2\n")
   H.contains(out, "oops")
   H.contains(out, "still here")
end)

H.test("Ctrl-C interrupts a script in the middle of a page fetch: status 130, quickly", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=5",
      "--fault", "delay_ms=20000;times=0" }
   local f = script(string.format([[
      local c = require("mdb").client { endpoint = %q, token = %q, timeout = 60 }
      io.stdout:write("started\n"); io.stdout:flush()
      for b in c:backups { engine = "mongodb", cluster = "cmongodb-0000" } do end
      print("not reached")
   ]], s.url, H.token))
   local out, err = H.tmpname(".out"), H.tmpname(".err")
   local pidfile, codefile = H.tmpname(".pid"), H.tmpname(".code")
   -- Start in the background (exec keeps the pid), wait until the request
   -- is in flight, send SIGINT, and collect the exit status.
   os.execute(string.format("(sh -c 'echo $$ >%s; exec \"$0\" \"$1\"' %s %s >%s 2>%s; echo $? >%s) &",
      pidfile, H.sh_quote(H.mdblua), H.sh_quote(f), H.sh_quote(out), H.sh_quote(err), H.sh_quote(codefile)))
   local pid
   for _ = 1, 100 do
      pid = H.read_file(pidfile)
      if pid and pid:match("%d") and (H.read_file(out) or ""):find("started") then break end
      os.execute("sleep 0.1")
   end
   pid = assert(pid and pid:match("%d+"), "mdblua started")
   os.execute("sleep 0.5")   -- the request is now in flight (the server delays 20 s)
   local t0 = os.time()
   os.execute("kill -INT " .. pid)
   local code
   for _ = 1, 50 do
      code = H.read_file(codefile)
      if code and code:match("%d") then break end
      os.execute("sleep 0.1")
   end
   H.ok(code and code:match("%d"), "mdblua exited within 5 s of SIGINT")
   H.ok(os.time() - t0 < 6, "quickly")
   H.eq(tonumber(code:match("%d+")), 130, "exit status")
   local stderr = H.read_file(err) or ""
   H.contains(stderr, "mdblua: interrupted (")
   H.not_contains(H.read_file(out) or "", "not reached")
   H.not_contains(stderr, H.token)
end)

H.run_all()
