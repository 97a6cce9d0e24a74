-- "Never print a secret", attacked from the outside: the real mdblua
-- against the fake API and its fake IAM, with tokens that only an exact
-- match can redact (not IAM-shaped: no "t1." or "eyJ" pattern saves them),
-- servers and token commands that echo them back where mdblua quotes text
-- (error bodies past the length the message is cut at, page tokens and
-- redirect locations that end up in URLs, a failing command's stderr),
-- mistakes a user may make with a token in hand, the reports and history
-- files a scan writes, and the prompt's history file.  Every run is
-- traced and its whole output searched (credhelp.lua's C.run).
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local C = require "credhelp"
local mdb = require "mdb"

local STAMP = tostring(os.time())
-- Not IAM-shaped: only the token itself, matched exactly, redacts it.
local TOK = "SECRETTOKEN-" .. STAMP .. "-fixed-0123456789abcdef"
local OAUTH = "y0_SECRETTOKEN-oauth-" .. STAMP .. "-0123456789abcdef"
local SECRETS = { TOK, OAUTH, H.token }
local FOLDER = "b1gfakefolder0000001"

local q = function(v) return string.format("%q", v) end

-- A fake taking TOK (and OAUTH at its IAM), with `extra` arguments.
local function fake(extra)
   local args = { "--generate", "engine=mysql,clusters=2,backups=3", "--token", TOK, "--oauth-token", OAUTH }
   for _, a in ipairs(extra or {}) do args[#args + 1] = a end
   return C.start(args)
end

-- Lua code: a client with `opts` (Lua expressions), list cluster
-- cmysql-0000, print "ok N" or the error and its url on stdout.
local function list_code(s, opts)
   local o = { endpoint = q(s.url), iam_endpoint = q(s.url), retries = "0", backoff_base = "0.01" }
   for k, v in pairs(opts or {}) do o[k] = v end
   return "local c = " .. C.client_code(o) .. "\n" .. [[
      local ok, e = pcall(function()
         local n = 0
         for _ in c:backups { engine = "mysql", cluster = "cmysql-0000" } do n = n + 1 end
         return n
      end)
      if ok then print("ok " .. e) else print(tostring(e)); print("url=" .. tostring(e.url)) end
   ]]
end

-- Run `code` traced with `env`; fails on any secret in stdout or stderr.
local function run(code, env)
   return C.run(code, env or {}, SECRETS)
end

C.test("a token command that prints the token, then fails quoting it on stderr", function()
   local s = fake()
   local cases = {
      -- the bare token, then a failure that names it
      string.format("echo %s; echo 'error: token %s was revoked' >&2; exit 1", TOK, TOK),
      -- CR LF and blanks around it
      string.format("printf '  %s\\r\\n'; echo 'token %s: revoked' >&2; exit 1", TOK, TOK),
      -- JSON, as yc --format json prints it
      string.format([[printf '{"iamToken":"%s","expiresAt":"2099-01-01T00:00:00Z"}\n'; ]] ..
         "echo 'cannot refresh %s' >&2; exit 4", TOK, TOK),
   }
   for i, sh in ipairs(cases) do
      local r = run(list_code(s, { token_command = "{ 'sh', '-c', " .. q(sh) .. " }" }))
      H.eq(r.code, 0, r.stderr)
      H.contains(r.stdout, "auth error: no IAM token from token_command: token_command 'sh' exited with status",
         "case " .. i)
      H.contains(r.stdout, "[REDACTED]", "case " .. i .. ": the stderr line is still shown, the token cut out")
   end
end)

C.test("a token command whose stderr quotes the token where its line is cut", function()
   -- the first 200 characters of its stderr are quoted: a token straddling
   -- that cut must be redacted before it, not leave a prefix that no
   -- longer matches the token
   local s = fake()
   for _, pad in ipairs { 170, 180, 190 } do
      local sh = string.format("echo %s; echo 'error: %s %s rejected' >&2; exit 1", TOK, string.rep("x", pad), TOK)
      local r = run(list_code(s, { token_command = "{ 'sh', '-c', " .. q(sh) .. " }" }))
      H.eq(r.code, 0, r.stderr)
      H.contains(r.stdout, "token_command 'sh' exited with status 1: error: xxx", "pad " .. pad)
      H.not_contains(r.stdout .. r.stderr, TOK:sub(1, 12), "pad " .. pad .. ": no prefix of the token")
      H.contains(r.stdout, pad < 190 and "[REDACTED]" or " [R", "pad " .. pad)   -- (itself cut at 190)
   end
end)

-- A message is kept up to a length: a secret straddling that length must
-- not come out as a prefix that no longer matches it.  For each of
-- t.pads, a fake whose fault t.rule answers with a Status body (gRPC code
-- t.code) quoting t.secret after that many x's; the run (client options
-- t.opts, environment t.env) prints each of t.want.
local function quoted_where_cut(t)
   for _, pad in ipairs(t.pads) do
      local body = string.format('{"code":%d,"message":"%s token %s is not accepted"}', t.code, string.rep("x", pad),
         t.secret)
      local s = fake { "--fault", t.rule .. ";times=0;body=" .. body }
      local r = run(list_code(s, t.opts), t.env)
      H.eq(r.code, 0, r.stderr)
      for _, w in ipairs(t.want) do H.contains(r.stdout, w, "pad " .. pad) end
      s.stop()
   end
end

C.test("an API error that quotes the token where its message is cut", function()
   quoted_where_cut { pads = { 150, 290, 300, 310, 390 }, rule = "status=403", code = 7, secret = TOK,
      opts = { token = q(TOK) }, want = { "http error: xxxxxxxxxx", "HTTP 403 PERMISSION_DENIED" } }
end)

C.test("the IAM endpoint quotes the OAuth token where its message is cut", function()
   quoted_where_cut { pads = { 100, 180, 190, 250 }, rule = "path=/iam/;status=401", code = 16, secret = OAUTH,
      env = { YC_TOKEN = OAUTH },
      want = { "auth error: no IAM token from YC_TOKEN: the IAM token endpoint", "answered HTTP 401: xxxxxxxxxx" } }
end)

C.test("the IAM exchange failing in other ways: an echoed request body, HTML, a redirect elsewhere", function()
   local other = C.start { "--log-detail", "--token", "t1.other" }
   local echo = string.format('{"code":3,"message":"bad request {\\"yandexPassportOauthToken\\":\\"%s\\"}"}', OAUTH)
   local faults = {
      { "status=400;body=" .. echo, "answered HTTP 400: bad request {\"yandexPassportOauthToken\":\"[REDACTED]\"}" },
      { "status=502;html=1", "answered HTTP 502" },
      { "redirect=307;location=" .. other.url .. "/iam/v1/tokens", "answered HTTP 307" },
   }
   for _, f in ipairs(faults) do
      local s = fake { "--fault", "path=/iam/;times=0;" .. f[1] }
      local r = run(list_code(s), { YC_TOKEN = OAUTH })
      H.eq(r.code, 0, r.stderr)
      H.contains(r.stdout, f[2], f[1])
      s.stop()
   end
   -- the OAuth token was never posted to the host the redirect named
   H.eq(H.read_file(other.log) or "", "", "the other host got no request")
end)

-- A fake that was made to hand the token back in a URL logs the request
-- that carried it: its log goes, so the suite's sweep (test_trace.lua)
-- looks at what mdblua printed, not at what the server recorded.
local function drop_log(s)
   s.stop()
   os.remove(s.log)
end

C.test("a server that puts the token into a URL: page tokens and redirect locations", function()
   -- the bearer token handed back as nextPageToken: the next URL holds it
   local s = fake { "--fault", "path=/backups;times=1;body={\"backups\":[],\"nextPageToken\":\"" .. TOK .. "\"}" }
   local r = run(list_code(s, { token = q(TOK) }))
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "http error: invalid page token (HTTP 400")
   H.contains(r.stdout, "url=" .. s.url .. "/managed-mysql/v1/clusters/cmysql-0000/backups?pageSize=1000&pageToken=" ..
      "[REDACTED]", "err.url")
   H.contains(r.stderr, "&pageToken=[REDACTED] -> 400", "the trace line")
   drop_log(s)
   -- a same-host redirect whose location carries it: followed, and traced
   s = fake { "--fault", "path=/backups;times=1;redirect=307;location={self}{path}&x=" .. TOK }
   r = run(list_code(s, { token = q(TOK) }))
   H.eq(r.stdout, "ok 3\n", r.stderr)
   H.contains(r.stderr, "following the redirect to the same host: GET " .. s.url ..
      "/managed-mysql/v1/clusters/cmysql-0000/backups?pageSize=1000&x=[REDACTED]")
   drop_log(s)
   -- and a token from a command, in a page of a scan
   s = fake { "--fault", "path=cmysql-0001/backups;times=1;body={\"backups\":[],\"nextPageToken\":\"" .. TOK .. "\"}" }
   local code = "local c = " .. C.client_code { endpoint = q(s.url), retries = "0",
      token_command = "{ 'printf', '%s\\n', " .. q(TOK) .. " }" } .. [[
      local res = c:scan { engines = { "mysql" }, folder = "]] .. FOLDER .. [[" }
      for _, e in ipairs(res) do
         if e.error then print(e.id, tostring(e.error)) end
      end
   ]]
   r = run(code)
   drop_log(s)
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "pageToken=[REDACTED]")
end)

-- A token that was replaced mid-run is still valid at the server for
-- hours, and text made after the refresh may still hold it: a server that
-- echoed it into a page token or a redirect's location.  The run's token
-- command prints OLD first (with a short lifetime, or bare: then only the
-- server's 401 replaces it) and NEW on every later call; the fake takes
-- only NEW, and its fault answers the first request whatever the token.
local OLD = "SECRETTOKEN-" .. STAMP .. "-replaced-0123456789abcdef"
local NEW = "SECRETTOKEN-" .. STAMP .. "-current-0123456789abcdef"

local function rotating_command(first)
   local flag = H.tmpname(".called")
   local sh = string.format("if [ -e %s ]; then printf '%%s\\n' %s; else : > %s; printf '%%s\\n' %s; fi",
      H.sh_quote(flag), NEW, H.sh_quote(flag), H.sh_quote(first))
   return "{ 'sh', '-c', " .. q(sh) .. " }"
end

C.test("a token replaced after a 401 stays redacted in a page token", function()
   -- the server rejects OLD (401), and the retry with NEW asks for the
   -- page token OLD: the trace line and err.url are made after the refresh
   local s = C.start { "--generate", "engine=mysql,clusters=1,backups=3", "--token", NEW,
      "--fault", "path=/backups;body={\"backups\":[],\"nextPageToken\":\"" .. OLD .. "\"}" }
   local r = C.run(list_code(s, { token_command = rotating_command(OLD) }), {}, { OLD, NEW })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stderr, "the server rejected the token from token_command", "the 401 replaced it")
   H.contains(r.stdout, "http error: invalid page token (HTTP 400")
   H.contains(r.stdout, "url=" .. s.url .. "/managed-mysql/v1/clusters/cmysql-0000/backups?pageSize=1000&pageToken=" ..
      "[REDACTED]", "err.url")
   H.contains(r.stderr, "&pageToken=[REDACTED] -> 400", "the trace line after the refresh")
   drop_log(s)
end)

C.test("a token replaced as it expired stays redacted in a redirect's location", function()
   -- OLD lives one second; the first answer, a same-host redirect whose
   -- location holds it, comes after 1.5 s, so the request that follows it
   -- goes out with NEW
   local s = C.start { "--generate", "engine=mysql,clusters=1,backups=3", "--token", NEW,
      "--fault", "path=/backups;delay_ms=1500;redirect=307;location={self}{path}&x=" .. OLD }
   local r = C.run(list_code(s, { token_command = rotating_command('{"access_token":"' .. OLD .. '","expires_in":1}') }),
      {}, { OLD, NEW })
   H.eq(r.stdout, "ok 3\n", r.stderr)
   H.contains(r.stderr, "token: a new token from token_command, valid about", "refreshed by time")
   H.contains(r.stderr, "/backups?pageSize=1000&x=[REDACTED] -> 200", "the trace line of the followed request")
   drop_log(s)
end)

C.test("a server that repeats a page token holding the token where the error cuts it", function()
   -- the cycle error quotes the page token's first 100 bytes: the token
   -- straddling that cut must be redacted before it
   for _, pad in ipairs { 80, 90, 95 } do
      local s = fake { "--fault", "path=/backups;times=0;body={\"backups\":[{\"id\":\"x\"}],\"nextPageToken\":\""
         .. string.rep("p", pad) .. TOK .. "\"}" }
      local r = run(list_code(s, { token = q(TOK) }))
      H.eq(r.code, 0, r.stderr)
      H.contains(r.stdout, "cycle error: the server repeated page token \"" .. string.rep("p", pad), "pad " .. pad)
      H.not_contains(r.stdout .. r.stderr, TOK:sub(1, 8), "pad " .. pad .. ": no prefix of the token")
      drop_log(s)
   end
end)

C.test("a trace line that holds the token where the line is cut", function()
   -- trace lines are kept to 1023 bytes: a page token holding the bearer
   -- token across that cut must be redacted before it
   local s = fake()
   local url = "GET " .. s.url .. "/managed-mysql/v1/clusters/cmysql-0000/backups?pageSize=1000&pageToken="
   local pad = string.rep("p", 1023 - #url - 10)
   s.stop()
   s = fake { "--fault", "path=/backups;times=1;body={\"backups\":[],\"nextPageToken\":\"" .. pad .. TOK .. "\"}" }
   url = "GET " .. s.url .. "/managed-mysql/v1/clusters/cmysql-0000/backups?pageSize=1000&pageToken="
   H.eq(#url + #pad, 1013, "the same port length")
   local r = run(list_code(s, { token = q(TOK) }))
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stderr, "mdb: " .. url .. pad .. "[REDACTED]", "the trace line")
   drop_log(s)
end)

C.test("tokens with unusual bytes: refused without being quoted, or redacted when echoed", function()
   local s = fake()
   for _, bad in ipairs { TOK .. "\nX-Injected: 1", TOK .. " two", TOK .. "\t", TOK .. "\127" } do
      local r = run(list_code(s), { YC_IAM_TOKEN = bad })
      H.eq(r.code, 2, r.stderr)
      H.contains(r.stderr, "the IAM token from YC_IAM_TOKEN contains spaces or control characters")
      r = run(list_code(s, { token = q(bad) }))
      H.contains(r.stderr, "the IAM token from the token option contains spaces or control characters")
   end
   -- quote, percent, backslash and UTF-8 are allowed in a fixed token, and
   -- redacted when a server echoes them back (JSON-escaped in its body)
   local odd = TOK .. "-\"%s%n\\-\u{e9}\u{4e16}"
   local json_odd = odd:gsub("\\", "\\\\"):gsub('"', '\\"')
   s = C.start { "--generate", "engine=mysql,clusters=1,backups=3", "--token", odd,
      "--fault", "status=403;times=0;body={\"code\":7,\"message\":\"not for " .. json_odd .. " here\"}" }
   local r = C.run(list_code(s, { token = q(odd) }), {}, { odd, TOK })
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "http error: not for [REDACTED] here (HTTP 403")
end)

C.test("a token given where a source name goes is not quoted back", function()
   for _, v in ipairs { OAUTH, TOK, "t1.SECRETTOKEN" .. STAMP .. ".abcdefghijklmnop" } do
      local err = H.raises("argument", mdb.client, { endpoint = "http://127.0.0.1:9", credentials = v })
      H.eq(err.argument, "credentials")
      H.contains(err.message, "unknown source")
      C.no_secrets(tostring(err), SECRETS, "the error")
   end
   -- a short name-shaped typo is still quoted: it helps
   local err = H.raises("argument", mdb.client, { endpoint = "http://127.0.0.1:9", credentials = "metdata" })
   H.contains(err.message, "unknown source \"metdata\"")
end)

C.test("a scan's history file and its reports hold no token an error echoed", function()
   local long = string.format('{"code":7,"message":"%s token %s is not allowed"}', string.rep("x", 290), TOK)
   local short = string.format('{"code":7,"message":"token %s is not allowed"}', TOK)
   local s = fake { "--fault", "path=cmysql-0001/backups;status=403;times=0;body=" .. long,
      "--fault", "path=cmysql-0000/operations;status=403;times=0;body=" .. short }
   local d = C.dir()
   local env = C.env { YC_MDB_ENDPOINT = s.url, YC_IAM_TOKEN = TOK, YC_FOLDER_ID = FOLDER, MDB_TRACE = "1" }
   local script = function(name) return H.source_dir .. "/scripts/" .. name end
   local db = d .. "/history.db"
   local r = H.run({ script "snapshot.lua", "--db", db, "--engine", "mysql" }, { env = env })
   C.no_secrets(r.stdout .. r.stderr, SECRETS, "snapshot.lua")
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stdout .. r.stderr, "[REDACTED]")
   local dump = H.sqlite3(db, ".dump")
   H.contains(dump, "xxxxxxxxxx token [REDACTED]", "the failed listing's error is in the history")
   C.no_secrets(dump, SECRETS, "the history file")
   local outputs = 0
   for _, fmt in ipairs { "html", "junit", "json", "jsonl", "csv", "markdown", "prometheus", "nagios", "table" } do
      local out = d .. "/audit." .. fmt
      r = H.run({ script "audit.lua", "--engine", "mysql", "--format", fmt, "--output", out }, { env = env })
      C.no_secrets(r.stdout .. r.stderr, SECRETS, "audit.lua --format " .. fmt)
      local text = H.read_file(out) or ""
      C.no_secrets(text, SECRETS, "the " .. fmt .. " report")
      if text:find("[REDACTED]", 1, true) then outputs = outputs + 1 end
   end
   H.ok(outputs >= 5, "the error texts are in the reports (" .. outputs .. " of them)")
   r = H.run({ script "history.lua", "--db", db }, { env = env })
   C.no_secrets(r.stdout .. r.stderr, SECRETS, "history.lua")
end)

-- The prompt on a pseudo-terminal, HOME a scratch directory: what it
-- keeps in ~/.mdblua_history.

local function session(steps, env)
   local home = C.dir()
   local e = C.env { TERM = "xterm", HOME = home, MDBLUA_HISTORY = false, YC_FOLDER_ID = false }
   for k, v in pairs(env or {}) do e[k] = v end
   local r = H.pty(steps, e)   -- its transcript echoes what was typed, tokens and all: not kept
   r.history = H.read_file(home .. "/.mdblua_history") or ""
   return r
end

C.test("the prompt's history file keeps no line that holds a token", function()
   local r = session({
      "expect \\n> ",
      -- a literal token given to mdb.client
      "send c = mdb.client { endpoint = 'http://127.0.0.1:9', token = '" .. OAUTH .. "' }\\r", "expect \\n> ",
      -- the token of the client the prompt made from YC_IAM_TOKEN
      "send t = '" .. TOK .. "'\\r", "expect \\n> ",
      -- anything shaped like an IAM token or a bearer header
      "send s = 'Bearer abcdefgh' .. 't1.SECRETTOKENabcdef.ghijklmn'\\r", "expect \\n> ",
      "send kept = 40 + 2\\r", "expect \\n> ",
      "send kept\\r", "expect \\n42\\n> ",
      "send \\x04",
   }, { YC_IAM_TOKEN = TOK, YC_MDB_ENDPOINT = "http://127.0.0.1:9" })
   H.eq(r.code, 0, r.stderr .. r.out)
   H.contains(r.out, "client = mdb.client (http://127.0.0.1:9)")
   H.contains(r.history, "kept\\040=\\04040\\040+\\0402", "ordinary lines are kept")
   C.no_secrets(r.history, SECRETS, "the history file")
   H.not_contains(r.history, "Bearer", "the history file")
   -- printing the client, its credentials, and an error at the prompt
   r = session({
      "expect \\n> ",
      "send client\\r", "expect \\n> ",
      "send client:credentials()\\r", "expect \\n> ",
      "send inspect(select(2, pcall(mdb.client, { credentials = os.getenv('OOPS') })))\\r", "expect \\n> ",
      "send \\x04",
   }, { YC_IAM_TOKEN = TOK, YC_MDB_ENDPOINT = "http://127.0.0.1:9", OOPS = OAUTH })
   H.eq(r.code, 0, r.stderr .. r.out)
   H.contains(r.out, "a fixed IAM token from YC_IAM_TOKEN")
   H.contains(r.out, "unknown source")
   C.no_secrets(r.out, SECRETS, "the prompt's transcript")
end)

H.run_all()
