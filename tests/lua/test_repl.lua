-- The interactive prompt.  Its Lua half (mdb.repl, mdb.help) is tested
-- in-process: printed forms, completion candidates, help, collect.  The
-- whole prompt is then driven through a pseudo-terminal by
-- tests/tools/ptydrive, as a person types: line editing, history across
-- sessions (HOME in a scratch directory), Tab, Ctrl-C at the prompt and
-- during a slow listing from the fake API, Ctrl-D.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"
local R = require "mdb.repl"
local help = require "mdb.help"

-- A fresh, empty home directory for one test.
local function fresh_home()
   local dir = H.tmpname("-home")
   assert(os.execute("mkdir -p " .. H.sh_quote(dir)))
   return dir
end

--- Run mdblua on a pseudo-terminal, driven by ptydrive `steps` ("send
-- ...", "expect ...", "sleep MS").  TERM=xterm and an empty HOME unless
-- `opts` says otherwise; YC_* variables are unset unless given.  Returns
-- { code, out = the transcript without \r, stderr, seconds }.
local function session(steps, opts)
   opts = opts or {}
   local env = { TERM = opts.term or "xterm", HOME = opts.home or fresh_home(),
      YC_IAM_TOKEN = false, YC_MDB_ENDPOINT = false, YC_FOLDER_ID = false, YC_TOKEN = false,
      YC_SERVICE_ACCOUNT_KEY_FILE = false, MDBLUA_HISTORY = false }
   for k, v in pairs(opts.env or {}) do env[k] = v end
   local t0 = os.time()
   local r = H.pty(steps, env, opts)
   r.seconds = os.time() - t0
   return r
end

-- ptydrive failed (an expect timed out) or mdblua did not exit 0.
local function check(r, code)
   if r.code ~= (code or 0) then
      error(string.format("exit status %s (expected %s)\n--- ptydrive:\n%s\n--- transcript:\n%s",
         tostring(r.code), tostring(code or 0), r.stderr, r.out), 2)
   end
end

-- A busy loop that first says "looping" (in words its echo does not
-- hold).  Ctrl-C must not be typed before the prompt has read the line
-- it ends: the terminal throws away input not yet read when it sends
-- SIGINT, so a line still waiting there (a loaded machine can keep the
-- prompt from reading it for any fixed time) is lost and never runs.
-- The tests wait for the line's own output instead.
local RUNNING = "n = 0; io.write('loop', 'ing\\\\n'); while true do n = n + 1 end"

-- The backups of cluster cmysql-0000 from a fake API with 2 clusters of 3.
local function fake_backups()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=2,backups=3" }
   local c = H.client(s)
   return s, c, R.collect(c:backups { engine = "mysql", cluster = "cmysql-0000" })
end

---------------------------------------------------------------------------
-- Printed forms (in-process)

H.test("PRETTY: scalars, quoted strings with escapes, tables sorted and on one line when short", function()
   H.eq(R.show(1, 42), "42")
   H.eq(R.show(1, 1.5), "1.5")
   H.eq(R.show(1, 2.0), "2.0")
   H.eq(R.show(1, "a\n\"b\"\0"), [["a\n\"b\"\000"]])
   H.eq(R.show(3, nil, true, "x"), 'nil\ttrue\t"x"')
   H.eq(R.show(1, {}), "{}")
   H.eq(R.show(1, { 3, 2, 1, z = 1, a = "s", [10] = true, ["two words"] = 2, ["end"] = 0 }),
      '{ 3, 2, 1, [10] = true, a = "s", ["end"] = 0, ["two words"] = 2, z = 1 }')
   H.eq(R.show(1, mdb.client), "function: mdb.client")
   H.eq(R.show(1, R.collect), "function: collect")
end)

H.test("PRETTY: long tables break into lines; depth, items and string limits", function()
   local long = {}
   for i = 1, 30 do long[i] = i * 1000 end
   local s = R.show(1, long)
   H.ok(s:match("^{\n  1000, 2000, 3000,"), s)
   for line in s:gmatch("[^\n]+") do H.ok(#line <= R.settings.width, "line within width: " .. line) end
   H.eq(R.pretty({ a = { b = { c = { d = { e = 1 } } } } }), "{ a = { b = { c = { d = {...} } } } }")
   H.eq(R.pretty({ a = { b = 1 } }, { depth = 1 }), "{ a = {...} }")
   local many = {}
   for i = 1, 50 do many[i] = i end
   H.contains(R.pretty(many, { items = 5 }), "1, 2, 3, 4, 5, ... (45 more)")
   local nested = R.pretty({ s = ("x"):rep(500) })
   H.contains(nested, 'xxx"...(500 bytes),')
   H.eq(R.show(1, ("y"):rep(500)), '"' .. ("y"):rep(500) .. '"', "a top-level string is shown whole")
   local keyed = R.show(1, { alpha = ("a"):rep(60), beta = ("b"):rep(60) })
   H.eq(keyed, '{\n  alpha = "' .. ("a"):rep(60) .. '",\n  beta = "' .. ("b"):rep(60) .. '",\n}')
end)

H.test("PRETTY: cycles are marked, shared non-cyclic tables are not", function()
   local t = { name = "root" }
   t.self = t
   H.eq(R.pretty(t), '<1>{ name = "root", self = <cycle 1> }')
   local a, b = {}, {}
   a.b, b.a = b, a
   H.eq(R.pretty({ a }), "{ <1>{ b = { a = <cycle 1> } } }")
   local shared = { 1 }
   H.eq(R.pretty({ shared, shared }), "{ { 1 }, { 1 } }")
end)

H.test("PRETTY: error objects as their message, __tostring objects as their text", function()
   local err = H.raises("argument", function() mdb.client { bogus = 1 } end)
   H.eq(R.show(1, err), tostring(err))
   H.eq(R.show(2, false, err), "false\t" .. tostring(err))
   H.eq(R.pretty({ e = err }, { width = 1000 }), "{ e = " .. tostring(err) .. " }")
   H.eq(R.show(1, setmetatable({}, { __tostring = function() return "custom" end })), "custom")
   H.eq(R.show(1, setmetatable({}, { __tostring = function() error("boom") end })),
      "<table: __tostring failed>")
   H.eq(R.show(1, H.client({ url = "http://127.0.0.1:9" })), "mdb.client (http://127.0.0.1:9)")
end)

H.test("PRETTY: a backup is one compact line; inspect shows every field with notes", function()
   local _, _, bs = fake_backups()
   local b = bs[1]
   local line = R.show(1, b)
   H.ok(line:match("^<backup cmysql%-0000:000000  mysql  %d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%dZ %(.+ ago%)  5%.0 GiB  AUTOMATED>$"),
      line)
   H.eq(R.pretty({ newest = b }, { width = 1000 }), "{ newest = " .. line .. " }")
   local full = R.pretty(b, { compact = false })
   H.contains(full, '  id = "cmysql-0000:000000",\n')
   H.contains(full, "  size = " .. b.size .. ", -- 5.0 GiB\n")
   H.ok(full:match("\n  created = %d+%.0, %-%- %d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%dZ\n"), full)
   H.contains(full, '  sourceClusterId = "cmysql-0000",\n')
end)

H.test("PRETTY: an array of backups is an aligned table; rows are limited", function()
   local _, c, bs = fake_backups()
   local s = R.show(1, bs)
   local lines = {}
   for l in s:gmatch("[^\n]+") do lines[#lines + 1] = l end
   H.eq(#lines, 6, s)
   H.ok(lines[1]:match("^#  ID%s+CREATED%s+AGE%s+SIZE%s+TYPE%s+STATUS$"), lines[1])
   H.ok(lines[2]:match("^1  cmysql%-0000:000000  %d%d%d%d%-%d%d%-%d%d [%d:]+Z  %S+.*  5%.0 GiB  AUTOMATED  DONE$"), lines[2])
   H.eq(#lines[2], #lines[3], "rows are aligned")
   H.eq(lines[2]:find("cmysql"), lines[1]:find("ID"), "the ID column lines up with its header")
   H.ok(lines[5]:match("^last 14 days: [ #.~x-]+  %(# backup"), lines[5])
   H.eq(lines[6], "3 mysql backups of cluster cmysql-0000")
   local folder = R.collect(c:backups { engine = "mysql", folder = "b1gfakefolder0000001" })
   local f = R.show(1, folder)
   H.contains(f, "CLUSTER")
   H.contains(f, "cmysql-0001:000002")
   H.ok(f:match("\n6 mysql backups$"), f)
   local limited = R.backup_table(folder, { rows = 2 })
   H.contains(limited, "... 4 more (6 in all; settings.rows = 2)")
   H.eq(R.show(1, { bs[1], 1 }):sub(1, 1), "{", "a mixed array is a plain table")
end)

H.test("PRETTY: an array of clusters is an aligned table; the iterator triple shows once", function()
   local s = H.start_fake { "--generate", "engine=redis,clusters=2,backups=1" }
   local c = H.client(s)
   local cs = R.collect(c:clusters { engine = "redis", folder = "b1gfakefolder0000001" })
   local t = R.show(1, cs)
   H.ok(t:match("^#  ID%s+NAME%s+ENGINE%s+ENVIRONMENT%s+HEALTH%s+STATUS%s+CREATED\n"), t)
   H.ok(t:match("\n2  credis%-0001  redis%-0001  redis   PRODUCTION   ALIVE   RUNNING  %d%d%d%d%-"), t)
   H.ok(t:match("\n2 clusters$"), t)
   H.eq(R.show(1, cs[1]), "<cluster credis-0000  redis-0000  redis  PRODUCTION  ALIVE  RUNNING>")
   local shown = R.show(4, c:backups { engine = "redis", cluster = "credis-0000" })
   H.eq(shown, "mdb.iterator (redis backups of cluster credis-0000, 0 items, active)\n"
      .. "-- lazy: nothing is fetched until it is used; collect(...) fetches every item")
   H.eq(#H.requests(s), 1, "showing an iterator fetches nothing")
end)

H.test("PRETTY: what client:scan returns is a table per cluster with its newest backup or error", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=2,backups=3" }
   local c = H.client(s)
   local rs = c:scan { engine = "mysql", clusters = { "cmysql-0001", "nope" } }
   local t = R.show(1, rs)
   local lines = {}
   for l in t:gmatch("[^\n]+") do lines[#lines + 1] = l end
   H.ok(lines[1]:match("^#  ENGINE  CLUSTER +NAME  BACKUPS  NEWEST +AGE +SIZE +ERROR$"), lines[1])
   H.ok(lines[2]:match("^1  mysql   cmysql%-0001  %-  +3  %d%d%d%d%-%d%d%-%d%d [%d:]+Z  .+  %d%.%d GiB$"), lines[2])
   H.ok(lines[3]:match("^2  mysql   nope  +%-  +0  %-  +%-  +%-  http: Cluster \"nope\" not found$"), lines[3])
   H.eq(lines[4], "2 clusters, 3 backups, 1 failed")
   local one = R.show(1, c:scan { engine = "mysql", clusters = { "cmysql-0000" }, limit = 1 })
   H.ok(one:match("\n1 cluster, 1 backup, 0 failed$"), one)
   H.eq(R.show(1, rs[2]), '<scan nope  mysql  0 backups  error: http: Cluster "nope" not found>')
   local folder = c:scan { engine = "mysql", folder = "b1gfakefolder0000001" }
   H.ok(R.show(1, folder[1]):match("^<scan cmysql%-0000  mysql%-0000  mysql  3 backups  newest .+ ago>$"),
      R.show(1, folder[1]))
end)

---------------------------------------------------------------------------
-- Completion candidates, collect, help (in-process)

H.test("COMPLETE: globals and keywords, fields after '.', methods after ':', engines in quotes", function()
   rawset(_G, "mdb", mdb)
   rawset(_G, "client", H.client({ url = "http://127.0.0.1:9" }))
   rawset(_G, "b", { id = "x", createdAt = "t", created = 1.0, size = 1 })
   H.eq(R.complete("pri", ""), { "print" })
   H.eq(R.complete("whi", ""), { "while" })
   H.eq(R.complete("mdb.cl", ""), { "mdb.client" })
   local all = R.complete("mdb.", "")
   for _, want in ipairs { "mdb.client", "mdb.engines", "mdb.is_error", "mdb.parse_time", "mdb.version" } do
      H.ok(table.concat(all, " "):find(want, 1, true), want .. " in " .. table.concat(all, " "))
   end
   local methods = R.complete("client:", "")
   for _, want in ipairs { "client:backups", "client:clusters", "client:endpoint" } do
      H.ok(table.concat(methods, " "):find(want, 1, true), want .. " in " .. table.concat(methods, " "))
   end
   H.eq(R.complete("client:ba", "x = "), { "client:backups" })
   H.eq(R.complete("b.cr", ""), { "b.created", "b.createdAt" })
   H.eq(R.complete("b:", ""), {}, "a table without functions has no methods")
   H.eq(R.complete("string.fo", ""), { "string.format" })
   H.eq(R.complete("po", 'client:backups { engine = "'), { "postgresql" })
   H.eq(R.complete("m", "{ engine = '"), { "mongodb", "mysql" })
   H.eq(R.complete("nosuch.x", ""), {})
   H.eq(R.complete("x", 'print("'), {}, "nothing inside other strings")
   rawset(_G, "mdb", nil)
   rawset(_G, "client", nil)
   rawset(_G, "b", nil)
end)

H.test("COMPLETE: never runs __index functions", function()
   local called = false
   rawset(_G, "trap", setmetatable({ real = 1 }, { __index = function() called = true end }))
   H.eq(R.complete("trap.", ""), { "trap.real" })
   H.eq(R.complete("trap.a.", ""), {})
   H.eq(called, false)
   rawset(_G, "trap", nil)
end)

H.test("COLLECT: every item or the first n; bad arguments raise", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=7" }
   local c = H.client(s, { page_size = 3 })
   H.eq(#R.collect(c:backups { engine = "mongodb", cluster = "cmongodb-0000" }), 7)
   local first = R.collect(c:backups { engine = "mongodb", cluster = "cmongodb-0000" }, 2)
   H.eq(H.ids(first), { "cmongodb-0000:000000", "cmongodb-0000:000001" })
   H.eq(R.collect(c:backups { engine = "mongodb", cluster = "cmongodb-0000" }, 0), {})
   local e = H.raises(nil, R.collect, 42)
   H.contains(e, "bad argument #1 to 'collect' (iterator expected, got number)")
   local e2 = H.raises(nil, R.collect, function() end, 1.5)
   H.contains(e2, "bad argument #2 to 'collect' (integer expected, got float)")
end)

H.test("HELP: help() lists the API one line each; help(x) explains functions, objects and topics", function()
   local all = help.text(false)
   for _, want in ipairs { "mdb.client{...}", "client:backups{...}", "client:clusters{...}", "it:token()",
         "client:scan{...}", "mdb.engines", "mdb.parse_time(s)", "mdb.is_error(v)", "collect(it [, n])",
         "inspect(v [, depth])",
         "help 'keys'" } do
      H.contains(all, want)
   end
   for line in all:gmatch("[^\n]+") do H.ok(#line <= 100, "overview line too long: " .. line) end
   local c = H.client({ url = "http://127.0.0.1:9" })
   H.contains(help.text(true, mdb.client), "max_response_bytes")
   H.contains(help.text(true, "mdb.client"), "max_response_bytes")
   H.contains(help.text(true, c), "max_response_bytes")
   H.contains(help.text(true, c.backups), "page_token")
   H.contains(help.text(true, "backups"), "page_token")
   H.contains(help.text(true, c.clusters), "filter")
   H.contains(help.text(true, c.scan), "concurrency")
   local it = c:backups { engine = "mysql", cluster = "x" }
   H.contains(help.text(true, it), "it:token()")
   H.contains(help.text(true, it.stats), "it:stats()")
   H.contains(help.text(true, "errors"), "request_id")
   H.contains(help.text(true, H.raises("argument", mdb.client, { bogus = 1 })), "request_id")
   H.contains(help.text(true, mdb.engines), "postgresql")
   H.contains(help.text(true, R.collect), "collect(it [, n])")
   H.contains(help.text(true, "keys"), "Ctrl-C")
   H.eq(help.text(true, "nosuch"), 'no help for "nosuch"; help() lists what there is\n')
   H.eq(help.text(true, 42), "no help for number; help() lists what there is\n")
end)

H.test("HELP: held against the real surface: every mdb and client function, nothing that raises", function()
   local all = help.text(false)
   local function real_topic(v, what)
      local t = help.text(true, v)
      H.ok(not t:find("^no help") and not t:find("no help text for it yet", 1, true), what .. ": " .. t)
      return t
   end
   for k, v in pairs(mdb) do
      if type(v) == "function" then
         H.contains(all, "mdb." .. k, "help() lists mdb." .. k)
         real_topic(v, "help(mdb." .. k .. ")")
      end
   end
   local c = H.client({ url = "http://127.0.0.1:9" })
   local client_text = help.text(true, mdb.client)
   for k, v in pairs(getmetatable(c).__index) do
      if type(v) == "function" then
         H.contains(all, "client:" .. k, "help() lists client:" .. k)
         H.contains(client_text, "client:" .. k, "help(mdb.client) names client:" .. k)
         real_topic(v, "help(client." .. k .. ")")
      end
   end
   local it = c:backups { engine = "mysql", cluster = "x" }
   for k, v in pairs(getmetatable(it).__index) do
      H.contains(all, "it:" .. k, "help() lists it:" .. k)
      real_topic(v, "help(it." .. k .. ")")
   end
   it:close()
   -- every expression help() shows at the start of a line can be typed as it is
   local env = setmetatable({ mdb = mdb, client = c }, { __index = _G })
   for expr in all:gmatch("\n  (mdb[%w_.]*)") do
      local f = assert(load("return " .. expr, "=help", "t", env))
      local ok, v = pcall(f)
      H.ok(ok and v ~= nil, "help() lists " .. expr .. ", which gives " .. tostring(v))
   end
   H.contains(help.text(true, "settings"), 'require("mdb.repl").settings')
   H.contains(help.text(true, "backup"), "status (DONE/CREATING)")
   H.contains(help.text(true, "cluster"), "snapshotManagement")
end)

H.test("START: the session's globals, and a client only when credentials are in the environment", function()
   local code = [[
      client = rawget(_G, "preset")
      local text = require("mdb.repl").start()
      print(text)
      print(type(mdb), type(help), type(collect), type(inspect), tostring(client))
   ]]
   local r = H.run({ "-e", code }, { env = { YC_IAM_TOKEN = "t", YC_MDB_ENDPOINT = "http://127.0.0.1:9",
      YC_FOLDER_ID = "b1gfolder" } })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "client = mdb.client (http://127.0.0.1:9)\n"
      .. "folder = b1gfolder (YC_FOLDER_ID: the default for folder=)\n"
      .. "table\tfunction\tfunction\tfunction\tmdb.client (http://127.0.0.1:9)\n")
   local r2 = H.run({ "-e", code }, { env = { YC_IAM_TOKEN = false, YC_TOKEN = false,
      YC_SERVICE_ACCOUNT_KEY_FILE = false, YC_FOLDER_ID = false } })
   H.eq(r2.stdout, "no credentials in the environment: set YC_IAM_TOKEN, then client = mdb.client()\n"
      .. "table\tfunction\tfunction\tfunction\tnil\n")
   local r3 = H.run({ "-e", "preset = 'mine'; mdb = 1", "-e", code }, { env = { YC_IAM_TOKEN = "t" } })
   H.eq(r3.stdout, "\nnumber\tfunction\tfunction\tfunction\tmine\n", "nothing a script set is replaced")
   local r4 = H.run({ "-e", code }, { env = { YC_IAM_TOKEN = "t", YC_MDB_ENDPOINT = "http://example.com" } })
   H.contains(r4.stdout, "no client: bad argument 'endpoint'")
end)

---------------------------------------------------------------------------
-- The prompt on a pseudo-terminal

H.test("PROMPT: expressions without return, statements, multi-line chunks, =expr, errors", function()
   local r = session({
      "expect \\n> ",
      "send 1 + 1\\r", "expect \\n2\\n> ",
      "send x = 20\\r", "expect \\n> ",
      "send =x * 2\\r", "expect \\n40\\n> ",
      "send for i = 1, 2 do\\r", "expect >> ",
      "send print('i=' .. i)\\r", "expect >> ",
      "send end\\r", "expect \\ni=1\\ni=2\\n> ",
      "send t = {\\r", "expect >> ",
      "send 1, 2,\\r", "expect >> ",
      "send name = 'x' }\\r", "expect \\n> ",
      "send t\\r", "expect \\n{ 1, 2, name = \"x\" }\\n> ",
      "send mdb.client {\\r", "expect >> ",
      "send bogus = 1 }\\r", "expect bad argument 'bogus'", "expect \\n> ",
      "send error('oops')\\r", "expect stdin:1: oops\\nstack traceback:", "expect \\n> ",
      "send x = = 1\\r", "expect unexpected symbol near '='", "expect \\n> ",
      "send \"ü\" .. 'é'\\r", "expect \\n\"üé\"\\n> ",
      "send \\x04",
   }, { env = { LANG = "C", LC_ALL = false, LC_CTYPE = false } })   -- UTF-8 keys in the C locale too
   check(r)
   H.not_contains(r.out:match("bad argument 'bogus'.-\n> ") or "", "stack traceback",
      "an mdb error object is its message alone")
   H.ok(r.out:match("\n$"), "a newline after Ctrl-D")
end)

H.test("PROMPT: line editing keys (Ctrl-A, Ctrl-E, arrows, Backspace, Ctrl-U, Ctrl-W)", function()
   local r = session {
      "expect \\n> ",
      -- "0 + 5", Ctrl-A, "1" -> "10 + 5"
      "send 0 + 5\\x01", "send 1\\r", "expect \\n15\\n> ",
      -- Left twice over "45", Backspace deletes "+", type "-" -> "9 - 45"
      "send 9 + 45\\e[D\\e[D\\e[D\\x7f-\\r", "expect \\n-36\\n> ",
      -- Ctrl-U throws the line away
      "send error('typed')\\x15", "send 7\\r", "expect \\n7\\n> ",
      -- Ctrl-W deletes a word; Ctrl-E goes to the end
      "send 2 * bogus\\x17", "send 3\\x01\\x05\\r", "expect \\n6\\n> ",
      "send \\x04",
   }
   check(r)
   H.not_contains(r.out, "stdin:1: typed", "the line Ctrl-U cleared never ran")
end)

H.test("PROMPT: history is saved in ~/.mdblua_history (0600) and recalled in the next session", function()
   local home = fresh_home()
   local r = session({
      "expect \\n> ",
      "send answer = 41 + 1\\r", "expect \\n> ",
      "send answer\\r", "expect \\n42\\n> ",
      "send answer\\r", "expect \\n42\\n> ",
      "send for i = 1, 2 do\\r", "expect >> ", "send io.write(i, ';')\\r", "expect >> ", "send end\\r",
      "expect 1;2;> ",
      "send \\x04",
   }, { home = home })
   check(r)
   local file = home .. "/.mdblua_history"
   local text = H.read_file(file)
   H.ok(text, "history file written")
   H.contains(text, "answer\\040=\\04041\\040+\\0401")
   local _, n = text:gsub("\nanswer\n", "")
   H.eq(n, 1, "a repeated entry is kept once")
   local p = io.popen("stat -c %a " .. H.sh_quote(file))
   H.eq(p:read("l"), "600", "the history file is private")
   p:close()
   -- Up recalls the multi-line loop whole; Up Up Up the assignment
   local r2 = session({
      "expect \\n> ",
      "send \\e[A\\r", "expect 1;2;> ",
      "send answer = nil\\r", "expect \\n> ",
      "send \\e[A\\e[A\\e[A\\e[A\\r", "expect \\n> ",
      "send answer\\r", "expect \\n42\\n> ",
      "send \\x04",
   }, { home = home })
   check(r2)
   -- MDBLUA_HISTORY names another file; "" keeps none
   local other = home .. "/other-history"
   check(session({ "expect \\n> ", "send 5\\r", "expect \\n5\\n> ", "send \\x04" },
      { home = home, env = { MDBLUA_HISTORY = other } }))
   H.contains(H.read_file(other) or "", "\n5\n")
   local home2 = fresh_home()
   check(session({ "expect \\n> ", "send 5\\r", "expect \\n5\\n> ", "send \\x04" },
      { home = home2, env = { MDBLUA_HISTORY = "" } }))
   H.eq(H.read_file(home2 .. "/.mdblua_history"), nil, "no history file")
end)

H.test("PROMPT: Tab completes globals, mdb. fields, client: methods, b. fields and engine names", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=2" }
   local r = session({
      "expect \\n> ",
      "send colle\\t", "sleep 200", "send \\r", "expect \\nfunction: collect\\n> ",
      "send mdb.cl\\t", "sleep 200", "send \\r", "expect \\nfunction: mdb.client\\n> ",
      "send mdb.\\t\\t", "expect mdb.parse_time", "send \\x15\\r", "expect \\n> ",
      "send client:\\t\\t", "expect client:clusters", "send \\x15\\r", "expect \\n> ",
      "send client:ba\\t", "sleep 200",
      "send {engine = \"my\\t", "sleep 200", "send \", cluster = \"cmysql-0000\"}\\r", "expect 0 items", "expect \\n> ",
      "send b = collect(client:backups{engine = \"mysql\", cluster = \"cmysql-0000\"})[1]\\r", "expect \\n> ",
      "send b.sourceC\\t", "sleep 200", "send \\r", "expect \\n\"cmysql-0000\"\\n> ",
      "send b.\\t\\t", "expect b.createdAt", "send \\x15\\r", "expect \\n> ",
      -- a fresh prompt for certain before Ctrl-D: one sent while the line
      -- editor still redraws after a listing can be lost (seen once in a test run:
      -- the session never ended)
      "send 6*7\\r", "expect \\n42\\n> ", "sleep 100",
      "send \\x04",
   }, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url } })
   check(r)
   local listing = r.out:match("mdb%.\7?\n(.-)\n> mdb%.") or r.out
   for _, want in ipairs { "mdb.client", "mdb.engines", "mdb.is_error", "mdb.version" } do
      H.contains(listing, want)
   end
   H.contains(r.out, "client:backups")
   H.contains(r.out, "client:endpoint")
   H.contains(r.out, "mdb.iterator (mysql backups of cluster cmysql-0000")
   H.contains(r.out, "b.sourceClusterId")
end)

H.test("PROMPT: a backup is one line, an array of them a table, an error object its message", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=3" }
   local r = session({
      "expect \\n> ",
      "send bs = collect(client:backups { engine = 'postgresql', cluster = 'cpostgresql-0000' })\\r", "expect \\n> ",
      "send bs\\r", "expect 3 postgresql backups of cluster cpostgresql-0000\\n> ",
      "send bs[1]\\r", "expect <backup cpostgresql-0000:000000  postgresql", "expect \\n> ",
      "send #bs, bs[1].size\\r", "expect \\n3\\t", "expect \\n> ",
      "send ok, e = pcall(collect, client:backups { engine = 'mysql', cluster = 'nope' })\\r", "expect \\n> ",
      "send e\\r", "expect http error: Cluster \"nope\" not found (HTTP 404", "expect \\n> ",
      "send collect(client:backups { engine = 'mysql', cluster = 'nope' })\\r",
      "expect \\nhttp error: Cluster \"nope\" not found (HTTP 404", "expect \\n> ",
      "send \\x04",
   }, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url } })
   check(r)
   H.ok(r.out:match("\n#  ID +CREATED +AGE +SIZE +TYPE +STATUS\n1  cpostgresql%-0000:000000  "), r.out)
   H.not_contains(r.out, "stack traceback", "API errors are one line")
   H.not_contains(r.out, H.token)
end)

H.test("PROMPT: Ctrl-C during a slow listing returns to a working prompt within seconds", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=5",
      "--fault", "delay_ms=20000;times=0" }
   local r = session({
      "expect \\n> ",
      "send io.write('list', 'ing\\\\n'); bs = collect(client:backups { engine = 'mongodb', cluster = 'cmongodb-0000' })\\r",
      "expect listing\\n",   -- the line was read (see RUNNING)
      "sleep 1000",   -- the request is in flight: the server holds it 20 s
      "send \\x03",
      "expect interrupted (",
      "expect \\n> ",
      "send 6 * 7\\r", "expect \\n42\\n> ",
      "send bs, client\\r", "expect \\nnil\\tmdb.client (", "expect \\n> ",
      "send \\x04",
   }, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url } })
   check(r)
   H.ok(r.seconds < 10, "the session ended in " .. r.seconds .. " s, not after the server's 20 s delay")
   H.not_contains(r.out, "stack traceback")
end)

H.test("PROMPT: Ctrl-C during a fan-out over 20 slow clusters returns to a working prompt", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=20,backups=2",
      "--fault", "path=/backups;delay_ms=20000;times=0" }
   local r = session({
      "expect \\n> ",
      "send io.write('scann', 'ing\\\\n'); rs = client:scan { engine = 'mongodb', folder = 'b1gfakefolder0000001' }\\r",
      "expect scanning\\n",   -- the line was read (see RUNNING)
      "sleep 1000",
      "send \\x03",
      "expect interrupted", "expect \\n> ",
      "send rs, 6 * 7\\r", "expect \\nnil\\t42\\n> ",
      "send \\x04",
   }, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url } })
   check(r)
   H.ok(r.seconds < 10, "the session ended in " .. r.seconds .. " s")
end)

H.test("PROMPT: Ctrl-C abandons a line or a continuation and stops a busy loop; Ctrl-D exits 0", function()
   local r = session {
      "expect \\n> ",
      "send abandoned = 1", "sleep 100", "send \\x03", "expect ^C\\n> ",
      "send for i = 1, 3 do\\r", "expect >> ", "send \\x03", "expect ^C\\n> ",
      "send " .. RUNNING .. "\\r", "expect looping\\n", "sleep 300", "send \\x03",
      "expect interrupted!", "expect \\n> ",
      "send n > 0, abandoned\\r", "expect \\ntrue\\tnil\\n> ",
      "send \\x04",
   }
   check(r)
end)

H.test("PROMPT: a ready client with credentials, a hint without; -i keeps a script's globals", function()
   local r = session({ "expect \\n> ", "send client\\r", "expect \\nmdb.client (http://127.0.0.1:9)\\n> ",
      "send help()\\r", "expect client:backups{...}", "expect \\n> ",
      "send help(mdb.client)\\r", "expect max_response_bytes", "expect \\n> ",
      "send \\x04" },
      { env = { YC_IAM_TOKEN = "t", YC_MDB_ENDPOINT = "http://127.0.0.1:9" } })
   check(r)
   H.contains(r.out, "help() for help, Ctrl-D to exit\nclient = mdb.client (http://127.0.0.1:9)\n> ")
   local r2 = session { "expect \\n> ", "send client\\r", "expect \\nnil\\n> ", "send \\x04" }
   check(r2)
   H.contains(r2.out, "no credentials in the environment: set YC_IAM_TOKEN")
   local f = H.write_file(H.tmpname(".lua"), "client = 'from the script'\nanswer = 42\n")
   local r3 = session({ "expect \\n> ", "send client, answer, type(collect)\\r",
      "expect \\n\"from the script\"\\t42\\t\"function\"\\n> ", "send \\x04" },
      { args = { "-i", f }, env = { YC_IAM_TOKEN = "t" } })
   check(r3)
end)

H.test("PROMPT: without mdb.repl's helpers, results print as in lua, a table as a table", function()
   -- the helpers failed to load: the prompt says so and prints plainly;
   -- no result may be lost or replaced by what lay under it on the stack
   local r = session({
      "expect \\n> ",
      "send 1, {}\\r", "expect \\n1\\ttable: ", "expect \\n> ",
      "send t = {}; return t == t, t\\r", "expect \\ntrue\\ttable: ", "expect \\n> ",
      "send \\x04",
   }, { args = { "-i", "-e", "package.preload['mdb.repl'] = function() error('no helpers') end" } })
   check(r)
   H.contains(r.out, "cannot start the prompt's helpers")
   H.not_contains(r.out, "userdata")
end)

H.test("PROMPT: on a dumb terminal the plain prompt still prints, continues lines and survives Ctrl-C", function()
   local home = fresh_home()
   local r = session({
      "expect \\n> ",
      "send {1, 'two'}\\r", "expect \\n{ 1, \"two\" }\\n> ",
      "send for i = 1, 2 do\\r", "expect >> ", "send io.write(i)\\r", "expect >> ", "send end\\r",
      "expect 12> ",
      "send lost\\x03", "expect \\n> ",
      "send " .. RUNNING .. "\\r", "expect looping\\n", "sleep 300", "send \\x03", "expect interrupted!",
      "expect \\n> ", "send 'alive'\\r", "expect \\n\"alive\"\\n> ",
      "send \\x04",
   }, { term = "dumb", home = home })
   check(r)
   H.eq(H.read_file(home .. "/.mdblua_history"), nil, "no history without line editing")
end)

H.run_all()
