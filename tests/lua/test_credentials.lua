-- The credential chain end to end against the fake API and its fake IAM:
-- each source (token=, YC_IAM_TOKEN, YC_TOKEN as IAM token or OAuth,
-- service-account keys by path, JSON and option, token_command, the
-- metadata service), the order and explicit selection, the error when
-- none is there, token expiry and refresh during long listings and scans,
-- the 401 refresh path, token_command failures and timeouts.  Every run's
-- output is checked for the secrets it used (credhelp.lua).
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local C = require "credhelp"
local mdb = require "mdb"

local FOLDER = "b1gfakefolder0000001"
local OAUTH = "y0_SECRET-oauth-token-" .. tostring(os.time())
local IAM_SHAPED = "t1.SECRETiamshaped" .. tostring(os.time()) .. "." .. string.rep("A", 86)

local dir = C.dir()
local key = C.sa_key(dir)

-- A fake with the IAM side on; the API also takes H.token.
local function fake(extra)
   local args = { "--generate", "engine=mongodb,clusters=2,backups=23", "--iam-sa-key", key.path,
      "--oauth-token", OAUTH, "--metadata" }
   for _, a in ipairs(extra or {}) do args[#args + 1] = a end
   return C.start(args)
end

-- Lua code: make a client with `opts` (Lua source), list one cluster, print
-- the source name and the number of backups.
local function list_code(opts)
   return "local c = " .. opts .. "\n" .. [[
      local n = 0
      for b in c:backups { engine = "mongodb", cluster = "cmongodb-0001", page_size = 10 } do n = n + 1 end
      print((c:credentials()), n)
   ]]
end

local function client_src(s, extra)
   local o = { endpoint = string.format("%q", s.url), iam_endpoint = string.format("%q", s.url) }
   for k, v in pairs(extra or {}) do o[k] = v end
   return C.client_code(o)
end

local SECRETS = { H.token, OAUTH, IAM_SHAPED, key.json, key.private_pem }

C.test("each source of the chain lists end to end", function()
   local s = fake { "--token", IAM_SHAPED }   -- the last --token wins
   local cases = {
      { "token option", { token = string.format("%q", IAM_SHAPED) }, {}, "token" },
      { "YC_IAM_TOKEN", {}, { YC_IAM_TOKEN = IAM_SHAPED }, "YC_IAM_TOKEN" },
      { "YC_TOKEN with the IAM shape", {}, { YC_TOKEN = IAM_SHAPED }, "YC_TOKEN", 0 },
      { "YC_TOKEN as OAuth", {}, { YC_TOKEN = OAUTH }, "YC_TOKEN", 1 },
      { "key file path", {}, { YC_SERVICE_ACCOUNT_KEY_FILE = key.path }, "YC_SERVICE_ACCOUNT_KEY_FILE", 1 },
      { "key JSON in the variable", {}, { YC_SERVICE_ACCOUNT_KEY_FILE = key.json },
         "YC_SERVICE_ACCOUNT_KEY_FILE", 1 },
      { "sa_key_file option", { sa_key_file = string.format("%q", key.path) }, {}, "sa_key_file", 1 },
      { "sa_key_file option holding JSON", { sa_key_file = "io.open(" .. string.format("%q", key.path) ..
         "):read('a')" }, {}, "sa_key_file", 1 },
      { "token_command", { token_command = string.format("{ 'printf', '%%s\\n', %q }", IAM_SHAPED) }, {},
         "token_command", 0 },
      { "metadata service", {}, { YC_METADATA_ADDR = s.url:gsub("^http://", "") }, "metadata", 0 },
   }
   for _, case in ipairs(cases) do
      local before = #C.requests(s, "/iam/")
      local r = C.run(list_code(client_src(s, case[2])), case[3], SECRETS)
      H.eq(r.code, 0, case[1] .. ": " .. r.stderr)
      H.eq(r.stdout, case[4] .. "\t23\n", case[1])
      if case[5] then
         H.eq(#C.requests(s, "/iam/") - before, case[5], case[1] .. ": token exchanges")
      end
   end
   -- the metadata route was asked with its header (else 403) and is logged
   H.ok(#C.requests(s, "/computeMetadata/") >= 1, "metadata service used")
end)

C.test("order: token= over the environment, YC_IAM_TOKEN over YC_TOKEN over the key file", function()
   local s = fake()
   local all = { YC_IAM_TOKEN = H.token, YC_TOKEN = OAUTH, YC_SERVICE_ACCOUNT_KEY_FILE = key.path }
   local code = "print((" .. client_src(s) .. "):credentials())"
   local function source(env, opts)
      local r = C.run(opts and ("print((" .. client_src(s, opts) .. "):credentials())") or code, env, SECRETS)
      H.eq(r.code, 0, r.stderr)
      return r.stdout:match("^(%S+)")
   end
   H.eq(source(all), "YC_IAM_TOKEN")
   H.eq(source({ YC_TOKEN = OAUTH, YC_SERVICE_ACCOUNT_KEY_FILE = key.path }), "YC_TOKEN")
   H.eq(source({ YC_SERVICE_ACCOUNT_KEY_FILE = key.path }), "YC_SERVICE_ACCOUNT_KEY_FILE")
   H.eq(source(all, { token = string.format("%q", H.token) }), "token")
   -- an option selects its source outright, over any environment variable
   H.eq(source(all, { sa_key_file = string.format("%q", key.path) }), "sa_key_file")
   H.eq(source(all, { token_command = "'true'" }), "token_command")
   -- credentials = NAME forces one source
   H.eq(source(all, { credentials = "'YC_TOKEN'" }), "YC_TOKEN")
   H.eq(source(all, { credentials = "'sa_key_file'" }), "YC_SERVICE_ACCOUNT_KEY_FILE")
   H.eq(source(all, { credentials = "'metadata'" }), "metadata")
   H.eq(#C.requests(s, "/iam/"), 0, "choosing a source exchanges nothing")
end)

C.test("no source at all: one error naming every source and how to configure one", function()
   local r = C.run('require("mdb").client{endpoint="http://127.0.0.1:1"}', {}, SECRETS)
   H.eq(r.code, 2)
   for _, part in ipairs { "bad argument 'token': no IAM token", "token=", "YC_IAM_TOKEN", "YC_TOKEN",
      "sa_key_file=", "YC_SERVICE_ACCOUNT_KEY_FILE", "token_command=", "metadata service",
      "no answer within 0.25 s", "yc iam create-token" } do
      H.contains(r.stderr, part)
   end
   -- with a loopback endpoint and no YC_METADATA_ADDR the probe is skipped
   r = C.run('require("mdb").client{endpoint="http://127.0.0.1:1"}', { YC_METADATA_ADDR = false }, SECRETS)
   H.eq(r.code, 2)
   H.contains(r.stderr, "skipped for a loopback endpoint; set YC_METADATA_ADDR")
   -- the error object: kind argument, naming 'token'
   local err = H.raises("argument", function()
      return mdb.client { endpoint = "http://127.0.0.1:1", credentials = "YC_TOKEN" }
   end)
   if os.getenv("YC_TOKEN") == nil then
      H.eq(err.argument, "credentials")
      H.contains(err.message, "credentials = \"YC_TOKEN\", but YC_TOKEN is not set")
   end
end)

C.test("conflicting and bad credential options raise before any request", function()
   local cases = {
      { { token = "x", sa_key_file = key.path }, "token_command", "sa_key_file", "give only one of" },
      { { token = "x", token_command = "true" }, "token_command", "token_command", "give only one of" },
      { { token = "x", credentials = "metadata" }, "credentials", "credentials", "conflicts with token=" },
      { { credentials = "magic" }, "credentials", "credentials", "unknown source" },
      { { token_command = 5 }, "token_command", "token_command", "array of strings" },
      { { token_command = {} }, "token_command", "token_command", "names no program" },
      { { token_command = { "a", 3 } }, "token_command", "token_command", "element 2" },
      { { token_command = "true", token_command_timeout = 0 }, "token_command_timeout",
         "token_command_timeout", "between" },
      { { token = "x", trace = "yes" }, "trace", "trace", "boolean" },
      { { token = "x", ca_file = dir .. "/nonexistent.pem" }, "ca_file", "ca_file", "cannot be read" },
      { { token = "x", iam_endpoint = "http://iam.example.com" }, "iam_endpoint", "iam_endpoint",
         "only https" },
      { { sa_key_file = dir .. "/missing.json" }, "sa_key_file", "sa_key_file", "cannot open key file" },
   }
   for i, case in ipairs(cases) do
      case[1].endpoint = "http://127.0.0.1:1"
      local err = H.raises("argument", mdb.client, case[1])
      H.eq(err.argument, case[3], "case " .. i)
      H.contains(err.message, case[4], "case " .. i)
   end
   -- YC_IAM_ENDPOINT and YC_METADATA_ADDR follow the same plain-http rule
   local r = C.run('require("mdb").client{endpoint="http://127.0.0.1:1", token="x"}',
      { YC_IAM_ENDPOINT = "http://iam.example.com" }, SECRETS)
   H.contains(r.stderr, "bad argument 'iam_endpoint': YC_IAM_ENDPOINT: endpoint uses plain http")
   r = C.run('require("mdb").client{endpoint="http://127.0.0.1:1", credentials="metadata"}',
      { YC_METADATA_ADDR = "192.0.2.10:80" }, SECRETS)
   H.contains(r.stderr, "plain http to '192.0.2.10'")
end)

C.test("bad key files: clear errors that never quote the key; loose permissions warn", function()
   local function bad(text, part)
      local p = H.write_file(dir .. "/bad.json", text)
      os.execute("chmod 600 " .. H.sh_quote(p))
      local err = H.raises("argument", mdb.client, { endpoint = "http://127.0.0.1:1", sa_key_file = p })
      H.eq(err.argument, "sa_key_file")
      H.contains(err.message, part)
      C.no_secrets(tostring(err), SECRETS, "error")
      local err2 = H.raises("argument", mdb.client, { endpoint = "http://127.0.0.1:1", sa_key_file = text })
      C.no_secrets(tostring(err2), SECRETS, "error for inline JSON")
   end
   local k = require("cjson").decode(key.json)
   local function without(field)
      local c = {}
      for f, v in pairs(k) do if f ~= field then c[f] = v end end
      return require("cjson").encode(c)
   end
   bad("{not json at all", "is not JSON")
   bad(without("private_key"), "lacks \"private_key\"")
   bad(without("id"), "lacks \"id\"")
   local user = require("cjson").decode(without("service_account_id"))
   user.user_account_id = "ajeuser"
   bad(require("cjson").encode(user), "user account")
   local broken = require("cjson").decode(key.json)
   broken.private_key = broken.private_key:gsub("MII", "XXX", 1)
   bad(require("cjson").encode(broken), "not a PEM private key")

   -- 0644: a warning on stderr, as ssh gives, and the key still works
   local loose = dir .. "/loose.json"
   H.write_file(loose, key.json)
   os.execute("chmod 644 " .. H.sh_quote(loose))
   local r = C.run("print((" .. C.client_code { endpoint = "'http://127.0.0.1:1'",
      sa_key_file = string.format("%q", loose) } .. "):credentials())", {}, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stderr, "mdb: warning: key file '" .. loose .. "' is accessible by group or others")
   H.contains(r.stderr, "chmod 600")
   r = C.run("print((" .. C.client_code { endpoint = "'http://127.0.0.1:1'",
      sa_key_file = string.format("%q", key.path) } .. "):credentials())", {}, SECRETS)
   H.not_contains(r.stderr, "warning", "0600 draws no warning")
end)

C.test("the fake IAM really checks the JWT: another key or key id is refused", function()
   local s = fake()
   local other = C.sa_key(C.dir(), { id = key.id, sa = key.sa })   -- same ids, other key pair
   local code = list_code(client_src(s, { sa_key_file = string.format("%q", other.path), retries = 0 }))
   local r = C.run(code, {}, { H.token, OAUTH, other.json, other.private_pem })
   H.eq(r.code, 2)
   H.contains(r.stderr, "auth error: no IAM token from sa_key_file: the IAM token endpoint")
   H.contains(r.stderr, "HTTP 401: JWT signature is not valid")
   local wrong_id = C.sa_key(C.dir(), { id = "ajeotherkey", sa = key.sa })
   r = C.run(list_code(client_src(s, { sa_key_file = string.format("%q", wrong_id.path) })), {},
      { wrong_id.json, wrong_id.private_pem })
   H.contains(r.stderr, "kid is not a known key")
   local iam = C.requests(s, "/iam/")
   H.eq(#iam, 2)
   for _, q in ipairs(iam) do H.eq(q.status, 401) end
   -- a refused OAuth token: kind auth, the token not in the message
   r = C.run(list_code(client_src(s)), { YC_TOKEN = "y0_SECRET-wrong-oauth" }, { "y0_SECRET-wrong-oauth" })
   H.eq(r.code, 2)
   H.contains(r.stderr, "auth error: no IAM token from YC_TOKEN")
   H.contains(r.stderr, "The OAuth token is invalid or has expired.")
end)

C.test("token_command: output forms, failures and timeouts", function()
   local s = fake { "--token", IAM_SHAPED }
   local function run(cmd, extra)
      local o = { token_command = cmd, retries = "0" }
      for k, v in pairs(extra or {}) do o[k] = v end
      local t0 = os.time()
      local r = C.run(list_code(client_src(s, o)), {}, SECRETS)
      return r, os.time() - t0
   end
   local q = function(v) return string.format("%q", v) end
   -- a string is split at blanks; JSON output with iamToken/expiresAt works too
   local r = run(q("printf %s " .. IAM_SHAPED))
   H.eq(r.stdout, "token_command\t23\n", r.stderr)
   local json = string.format('{"iamToken":"%s","expiresAt":"2099-01-01T00:00:00Z"}', IAM_SHAPED)
   r = run("{ 'printf', '%s', " .. q(json) .. " }")
   H.eq(r.stdout, "token_command\t23\n", r.stderr)
   local cases = {
      { "{ 'mdblua-no-such-command' }", "token_command: cannot run 'mdblua-no-such-command': No such file" },
      { "{ 'sh', '-c', 'echo boom >&2; exit 3' }", "token_command 'sh' exited with status 3: boom" },
      { "{ 'sh', '-c', 'echo leaked t1.SECRETx.yyyyyyyyyyyy >&2; exit 1' }", "[REDACTED]" },
      { "{ 'true' }", "token_command 'true' printed nothing" },
      { "{ 'echo', 'two', 'words' }", "printed more than one token" },
      { "{ 'printf', '{}' }", "printed JSON without a usable" },
      { "{ 'sh', '-c', 'kill -9 $$' }", "was killed by signal 9" },
   }
   for _, case in ipairs(cases) do
      r = run(case[1])
      H.eq(r.code, 2, case[1])
      H.contains(r.stderr, "auth error: no IAM token from token_command: ", case[1])
      H.contains(r.stderr, case[2], case[1])
   end
   -- a command that hangs is killed at token_command_timeout, with its children
   local secs
   r, secs = run("{ 'sh', '-c', 'sleep 30 & sleep 30' }", { token_command_timeout = "0.5" })
   H.contains(r.stderr, "did not finish within 0.5 s (the token_command_timeout)")
   H.ok(secs <= 5, "killed promptly, took " .. secs .. " s")
   H.eq(#C.requests(s, "/managed"), 6, "only the two good runs listed (3 pages each)")
end)

C.test("short-lived tokens are refreshed ahead of expiry during a long listing", function()
   -- tokens live 3 s; each page takes 0.3 s; 25 pages take about 8 s
   local s = fake { "--generate", "engine=mysql,clusters=1,backups=50", "--iam-token-ttl", "3",
      "--fault", "path=/backups;delay_ms=300;times=0" }
   local code = "local c = " .. client_src(s, { sa_key_file = string.format("%q", key.path) }) .. [[
      local ids, seen = 0, {}
      for b in c:backups { engine = "mysql", cluster = "cmysql-0000", page_size = 2 } do
         assert(not seen[b.id], "duplicate " .. b.id); seen[b.id] = true; ids = ids + 1
      end
      print(ids)
   ]]
   local r = C.run(code, {}, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "50\n")
   local iam, api = C.requests(s, "/iam/"), C.requests(s, "/managed")
   H.ok(#iam >= 3, "refreshed during the listing: " .. #iam .. " exchanges")
   for _, q in ipairs(api) do H.eq(q.status, 200, "no request was refused: " .. q.target) end
   H.contains(r.stderr, "mdb: token: a new token from sa_key_file, valid ")
end)

C.test("a 401 mid-listing gets one refresh and a retry of the same page", function()
   -- the fake says tokens live 60 s but revokes them after 1 s: only a 401 tells
   local s = fake { "--generate", "engine=mysql,clusters=1,backups=40", "--iam-token-ttl", "60",
      "--iam-token-revoke-after", "1", "--fault", "path=/backups;delay_ms=350;times=0" }
   local code = "local c = " .. client_src(s, { sa_key_file = string.format("%q", key.path) }) .. [[
      local it = c:backups { engine = "mysql", cluster = "cmysql-0000", page_size = 4 }
      local n, seen = 0, {}
      for b in it do assert(not seen[b.id]); seen[b.id] = true; n = n + 1 end
      local st = it:stats()
      print(n, st.pages, st.retries)
   ]]
   local r = C.run(code, {}, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "40\t10\t0\n", "every item once; a token refresh is not a retry")
   local reqs = H.requests(s)
   local refused = 0
   for i, q in ipairs(reqs) do
      if q.status == 401 then
         refused = refused + 1
         H.eq(reqs[i + 1].target, "/iam/v1/tokens", "a new token right after the 401")
         H.eq(reqs[i + 2].target, q.target, "then the same page again")
         H.eq(reqs[i + 2].status, 200)
      end
   end
   H.ok(refused >= 2, "the revocation hit " .. refused .. " times")
   H.contains(r.stderr, "HTTP 401: retrying the same page with a new token")

   -- a fixed token cannot be refreshed: the 401 is final, after one attempt
   local code2 = "local c = " .. client_src(s, { token = "'t1.SECRETwrong.token'" }) .. [[
      local ok, err = pcall(function() for b in c:backups { engine = "mysql", cluster = "cmysql-0000" } do end end)
      print(err.kind, err.status, err.attempts)
   ]]
   r = C.run(code2, {}, { "t1.SECRETwrong.token" })
   H.eq(r.stdout, "http\t401\t1\n", r.stderr)
end)

C.test("a 401 during a scan: one refresh serves every job, and the scan completes", function()
   local s = fake { "--generate", "engine=postgresql,clusters=6,backups=30", "--iam-token-ttl", "60",
      "--iam-token-revoke-after", "1", "--fault", "path=/backups;delay_ms=300;times=0" }
   local code = "local c = " .. client_src(s, { sa_key_file = string.format("%q", key.path) }) .. [[
      local res = c:scan { engine = "postgresql", folder = "]] .. FOLDER .. [[", concurrency = 3, page_size = 5 }
      local n, bad = 0, 0
      for _, e in ipairs(res) do n = n + #e.backups; if e.error then bad = bad + 1 end end
      print(#res, n, bad)
   ]]
   local r = C.run(code, {}, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "6\t180\t0\n")
   local refused, exchanges = 0, #C.requests(s, "/iam/")
   for _, q in ipairs(H.requests(s)) do if q.status == 401 then refused = refused + 1 end end
   H.ok(refused >= 1, "revocations hit the scan")
   H.ok(exchanges <= refused + 1, exchanges .. " exchanges for " .. refused .. " refusals")
end)

C.test("the metadata service: probed, used, refreshed; a missing header is a 403", function()
   local s = fake { "--iam-token-ttl", "2", "--fault", "path=/backups;delay_ms=250;times=0" }
   local addr = s.url:gsub("^http://", "")
   local code = "local c = " .. C.client_code { endpoint = string.format("%q", s.url) } .. [[
      local n = 0
      for b in c:backups { engine = "mongodb", cluster = "cmongodb-0000", page_size = 2 } do n = n + 1 end
      print((c:credentials()), n)
   ]]
   local r = C.run(code, { YC_METADATA_ADDR = addr }, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "metadata\t23\n")
   H.ok(#C.requests(s, "/computeMetadata/") >= 2, "refreshed from the metadata service")
   -- what the client sends is what the real service wants: no header, 403
   if os.execute("command -v curl >/dev/null 2>&1") then
      local curl = io.popen("curl -s -o /dev/null -w '%{http_code}' " .. H.sh_quote(s.url ..
         "/computeMetadata/v1/instance/service-accounts/default/token"))
      H.eq(curl:read("a"), "403")
      curl:close()
   end
end)

H.run_all()
