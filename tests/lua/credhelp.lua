--- Helpers shared by test_credentials.lua, test_tls.lua and test_trace.lua:
-- key pairs and certificates made at test time with the openssl CLI (no
-- private key is ever committed), a fake API that may speak TLS, runs of
-- mdblua that check their output for secrets, and the markers every
-- secret used by these tests carries.
local H = require "harness"
local cjson = require "cjson"

local C = {}

--- Every secret these tests use contains "SECRET" (the harness token,
-- OAuth tokens, tokens printed by commands, and the tokens the fake IAM
-- issues: "t1.FAKEIAMSECRET-..."); JWTs and private keys have their own
-- recognisable prefixes.  None of these may appear in any output.
C.markers = { "SECRET", "PRIVATE KEY", "eyJ0eXAiOiJKV1Qi", "eyJpc3Mi" }

local function sh(cmd)
   local ok, how, code = os.execute(cmd .. " >/dev/null 2>&1")
   return ok == true or (how == "exit" and code == 0)
end

--- A fresh scratch directory.
function C.dir()
   local d = H.tmpname(".d")
   assert(sh("mkdir -p " .. H.sh_quote(d)), "mkdir " .. d)
   return d
end

--- A service-account authorized key file (the JSON yc writes) for a key
-- pair made now.  Returns { path, json, id, sa, private_pem }.
function C.sa_key(dir, opts)
   opts = opts or {}
   local priv, pub = dir .. "/sa.pem", dir .. "/sa.pub"
   assert(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " ..
      H.sh_quote(priv)), "openssl genpkey")
   assert(sh("openssl pkey -in " .. H.sh_quote(priv) .. " -pubout -out " .. H.sh_quote(pub)),
      "openssl pkey -pubout")
   local k = {
      id = opts.id or "ajetestkey0000000001",
      service_account_id = opts.sa or "ajetestsa00000000001",
      created_at = "2026-01-01T00:00:00Z",
      key_algorithm = "RSA_2048",
      public_key = H.read_file(pub),
      private_key = "PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <" ..
         (opts.id or "ajetestkey0000000001") .. ">\n" .. H.read_file(priv),
   }
   os.remove(priv)
   local path = dir .. "/key.json"
   local json = cjson.encode(k)
   H.write_file(path, json)
   assert(sh("chmod 600 " .. H.sh_quote(path)))
   return { path = path, json = json, id = k.id, sa = k.service_account_id,
      private_pem = k.private_key, public_pem = k.public_key }
end

--- A CA and a server certificate it signs for `names` (subjectAltName
-- entries like "IP:127.0.0.1,DNS:localhost").  Returns { ca, cert, key }.
function C.tls(dir, names, tag)
   tag = tag or "t"
   local p = function(n) return H.sh_quote(dir .. "/" .. tag .. "-" .. n) end
   local ext = dir .. "/" .. tag .. "-ext.cnf"
   H.write_file(ext, "subjectAltName=" .. names .. "\n")
   assert(sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mdblua-test-ca-" .. tag ..
      " -keyout " .. p("ca.key") .. " -out " .. p("ca.pem")), "openssl: CA")
   assert(sh("openssl req -newkey rsa:2048 -nodes -subj /CN=mdblua-test-server -keyout " ..
      p("srv.key") .. " -out " .. p("srv.csr")), "openssl: CSR")
   assert(sh("openssl x509 -req -days 2 -in " .. p("srv.csr") .. " -CA " .. p("ca.pem") ..
      " -CAkey " .. p("ca.key") .. " -CAcreateserial -extfile " .. H.sh_quote(ext) ..
      " -out " .. p("srv.pem")), "openssl: sign")
   os.remove(dir .. "/" .. tag .. "-ca.key")
   return { ca = dir .. "/" .. tag .. "-ca.pem", cert = dir .. "/" .. tag .. "-srv.pem",
      key = dir .. "/" .. tag .. "-srv.key" }
end

local servers = {}

--- Start the fake API (http or https) with `args`; like H.start_fake but
-- also for "https://" and stopped by C.stop_all().
function C.start(args)
   local log = H.tmpname(".log")
   local s = H.spawn(H.fake_words(log, args), "the fake API")
   s.log = log
   servers[#servers + 1] = s
   return s
end

--- Start tests/tools/connect_proxy (an HTTPS CONNECT proxy on loopback);
-- stopped by C.stop_all() like the fake servers.  p.tunnels() is its log.
function C.start_proxy()
   local log = H.tmpname(".proxy")
   local bin = assert(os.getenv("MDB_BUILD_DIR"), "MDB_BUILD_DIR is not set") .. "/tests/tools/connect_proxy"
   local s = H.spawn({ H.sh_quote(bin), H.sh_quote(log), "300" }, "connect_proxy")
   function s.tunnels() return H.read_file(log) or "" end
   servers[#servers + 1] = s
   return s
end

function C.stop_all()
   for i = #servers, 1, -1 do pcall(servers[i].stop); servers[i] = nil end
end

--- Register a test whose fake servers are stopped afterwards.
function C.test(name, fn)
   H.test(name, function()
      local ok, err = xpcall(fn, debug.traceback)
      C.stop_all()
      if not ok then error(err, 0) end
   end)
end

--- Fail when `text` contains any of `secrets` or any marker.
function C.no_secrets(text, secrets, what)
   for _, s in ipairs(secrets or {}) do
      if #s >= 6 then H.not_contains(text, s, what) end
   end
   for _, m in ipairs(C.markers) do H.not_contains(text, m, what) end
end

--- The environment for a child with no credential variables at all (and
-- the metadata service pointed at a closed loopback port), plus `extra`.
function C.env(extra)
   local e = { YC_IAM_TOKEN = false, YC_TOKEN = false, YC_SERVICE_ACCOUNT_KEY_FILE = false,
      YC_IAM_ENDPOINT = false, YC_METADATA_ADDR = "127.0.0.1:9", MDB_TRACE = false,
      YC_MDB_ENDPOINT = false }
   for k, v in pairs(extra or {}) do e[k] = v end
   return e
end

--- Run mdblua -e CODE with `env` (always traced, so tracing is checked for
-- leaks too), check that no secret appears, return the result.
function C.run(code, env, secrets, opts)
   opts = opts or {}
   local e = C.env(env)
   if e.MDB_TRACE == false and not opts.no_trace then e.MDB_TRACE = "1" end
   local r = H.run({ "-e", code }, { env = e })
   C.no_secrets(r.stdout .. r.stderr, secrets, "output of mdblua -e")
   return r
end

--- Lua source for a client: `opts` (a table of Lua expressions as strings).
function C.client_code(opts)
   local parts = {}
   for k, v in pairs(opts) do parts[#parts + 1] = k .. " = " .. v end
   table.sort(parts)
   return "require('mdb').client { " .. table.concat(parts, ", ") .. " }"
end

--- The requests of a fake server whose path starts with `prefix`.
function C.requests(server, prefix)
   local out = {}
   for _, r in ipairs(H.requests(server)) do
      if not prefix or r.target:sub(1, #prefix) == prefix then out[#out + 1] = r end
   end
   return out
end

return C
