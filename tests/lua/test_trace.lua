-- Tracing (`mdblua --trace`, MDB_TRACE=1, trace= option): one line per
-- request with method, URL, status, bytes, time and request id, one per
-- retry with reason and delay, one per token event; never a header, token,
-- JWT or key.  And the sweep: every test of the suite is run again with
-- MDB_TRACE=1 and its whole output is searched for the secrets tests use.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local C = require "credhelp"

local dir = C.dir()
local key = C.sa_key(dir)
local SECRETS = { H.token, key.json, key.private_pem }

local LIST = [[
   local c = %s
   local n = 0
   for b in c:backups { engine = "mysql", cluster = "cmysql-0000", page_size = 5 } do n = n + 1 end
   print(n)
]]

local function lines(text, prefix)
   local out = {}
   for l in text:gmatch("[^\n]+") do
      if not prefix or l:sub(1, #prefix) == prefix then out[#out + 1] = l end
   end
   return out
end

C.test("--trace: a line per request and per retry, on stderr only", function()
   local s = C.start { "--generate", "engine=mysql,clusters=1,backups=12",
      "--fault", "offset=5;status=503;times=1" }
   local code = LIST:format(C.client_code { endpoint = string.format("%q", s.url),
      token = string.format("%q", H.token), backoff_base = "0.01" })
   local r = H.run({ "--trace", "-e", code }, { env = C.env() })
   C.no_secrets(r.stdout .. r.stderr, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "12\n", "stdout untouched")
   local t = lines(r.stderr)
   H.eq(#t, 5, r.stderr)
   local url = s.url .. "/managed-mysql/v1/clusters/cmysql-0000/backups?pageSize=5"
   local function req(l, status, id)
      local pat = "^mdb: GET " .. url:gsub("%p", "%%%0") .. "%S* %-> " .. status ..
         ", %d+ bytes, %d+%.%d%d%d s, request id fake%-req%-" .. string.format("%06d", id)
      H.ok(l:match(pat), "request line: " .. l)
   end
   req(t[1], 200, 1)
   req(t[2], 503, 2)
   H.ok(t[3]:match("^mdb: retry in 0%.%d%d s %(server error, HTTP 503%), 5 retries left: GET " ..
      url:gsub("%p", "%%%0") .. "&pageToken="), t[3])
   req(t[4], 200, 3)
   req(t[5], 200, 4)
   -- MDB_TRACE=1 is the same (the fault fired already: 3 requests); trace =
   -- false in the options wins over it
   r = H.run({ "-e", code }, { env = C.env { MDB_TRACE = "1" } })
   H.eq(#lines(r.stderr, "mdb: GET "), 3, r.stderr)
   H.eq(#lines(r.stderr), 3, r.stderr)
   r = H.run({ "-e", (code:gsub("token =", "trace = false, token =")) }, { env = C.env { MDB_TRACE = "1" } })
   H.eq(r.stderr, "")
   r = H.run({ "-e", code }, { env = C.env { MDB_TRACE = "0" } })
   H.eq(r.stderr, "")
   r = H.run({ "-e", (code:gsub("token =", "trace = true, token =")) }, { env = C.env() })
   H.eq(#lines(r.stderr, "mdb: GET "), 3)
end)

C.test("token events and IAM requests are traced without the JWT or the token", function()
   local s = C.start { "--generate", "engine=mysql,clusters=1,backups=12", "--iam-sa-key", key.path }
   local code = LIST:format(C.client_code { endpoint = string.format("%q", s.url),
      iam_endpoint = string.format("%q", s.url), sa_key_file = string.format("%q", key.path) })
   local r = H.run({ "--trace", "-e", code }, { env = C.env() })
   C.no_secrets(r.stdout .. r.stderr, SECRETS)
   H.eq(r.code, 0, r.stderr)
   local t = lines(r.stderr)
   H.ok(t[1]:match("^mdb: POST " .. s.url:gsub("%p", "%%%0") .. "/iam/v1/tokens %-> 200, %d+ bytes, " ..
      "[%d.]+ s, request id fake%-req%-000001 %(the IAM token endpoint%)$"), t[1])
   H.ok(t[2]:match("^mdb: token: a new token from sa_key_file, valid 4%d+%.%d s, refresh in 3600%.0 s$"), t[2])
   H.eq(#t, 5)
   -- a token command: its name, status and size, never its output
   code = LIST:format(C.client_code { endpoint = string.format("%q", s.url),
      token_command = string.format("{ 'printf', '%%s', %q }", H.token) })
   r = H.run({ "--trace", "-e", code }, { env = C.env() })
   C.no_secrets(r.stdout .. r.stderr, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.ok(lines(r.stderr)[1]:match("^mdb: token_command 'printf': exit status 0, %d+ bytes of output, [%d.]+ s$"),
      r.stderr)
end)

C.test("a server that echoes the token gets it redacted from the error", function()
   local body = '{"code":7,"message":"token ' .. H.token .. ' may not list this"}'
   local s = C.start { "--generate", "engine=mysql,clusters=1,backups=12",
      "--fault", "status=403;times=0;body=" .. body }
   local code = LIST:format(C.client_code { endpoint = string.format("%q", s.url),
      token = string.format("%q", H.token) })
   local r = H.run({ "--trace", "-e", code }, { env = C.env() })
   C.no_secrets(r.stdout .. r.stderr, SECRETS)
   H.eq(r.code, 2)
   H.contains(r.stderr, "http error: token [REDACTED] may not list this (HTTP 403 PERMISSION_DENIED")
end)

-- The sweep.  Other test files run in parallel, each in its own scratch
-- directory, with tracing on; their own pass or fail is reported by their
-- own ctest entries, so only the secrets matter here.  test_install.lua is
-- left out: it builds and installs into shared places (a second copy of it
-- running beside ctest's would trip over the first) and handles no secret.
local SWEEP_SKIP = { ["test_install.lua"] = true }
C.test("no secret in the output of any test of the suite (Lua and unit, traced)", function()
   local src = H.source_dir .. "/tests/lua"
   local build = os.getenv("MDB_BUILD_DIR")
   local self = arg[0]:match("([^/]+)$")
   local jobs = {}
   local p = io.popen("ls " .. H.sh_quote(src))
   for f in p:lines() do
      if f:match("^test_.*%.lua$") and f ~= self and not SWEEP_SKIP[f] then
         jobs[#jobs + 1] = { name = f, cmd = H.sh_quote(H.mdblua) .. " " .. H.sh_quote(src .. "/" .. f) }
      end
   end
   p:close()
   if build then
      p = io.popen("ls " .. H.sh_quote(build .. "/tests/unit") .. " 2>/dev/null")
      for f in p:lines() do
         if f:match("^test_[%w_]+$") then
            jobs[#jobs + 1] = { name = f, cmd = H.sh_quote(build .. "/tests/unit/" .. f) }
         end
      end
      p:close()
   end
   H.ok(#jobs >= 5, "found the tests")
   local sweep = C.dir()
   local script = {}
   for i, j in ipairs(jobs) do
      local tmp = sweep .. "/" .. i
      j.out = tmp .. ".out"
      script[#script + 1] = string.format("(mkdir -p %s && cd %s && MDB_TEST_TMP=%s MDB_TRACE=1 " ..
         "timeout 250 %s >%s 2>&1 </dev/null) &", H.sh_quote(tmp), H.sh_quote(tmp), H.sh_quote(tmp),
         j.cmd, H.sh_quote(j.out))
   end
   script[#script + 1] = "wait"
   os.execute(table.concat(script, "\n"))
   local scanned = 0
   for _, j in ipairs(jobs) do
      local out = H.read_file(j.out) or ""
      H.ok(#out > 0, j.name .. " printed something")
      C.no_secrets(out, SECRETS, j.name)
      scanned = scanned + #out
   end
   -- the fakes' stderr logs and request logs of the sweep, too
   p = io.popen("find " .. H.sh_quote(sweep) .. " -name '*.stderr' -o -name '*.log'")
   for f in p:lines() do C.no_secrets(H.read_file(f) or "", SECRETS, f) end
   p:close()
   H.ok(scanned > 1000, "scanned " .. scanned .. " bytes")
end)

H.run_all()
