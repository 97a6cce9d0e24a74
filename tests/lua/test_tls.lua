-- Transport security: the fake API over TLS (libmicrohttpd with a CA and
-- a server certificate made for the test by the openssl CLI).  The right
-- CA (ca_file= or SSL_CERT_FILE) passes, for the API and the IAM token
-- exchange; a wrong CA or a wrong host name fails with a clear error and
-- no retry; plain http is refused for anything but loopback; libcurl's
-- proxy variables are honoured.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local C = require "credhelp"
local mdb = require "mdb"

local dir = C.dir()
local good = C.tls(dir, "IP:127.0.0.1,DNS:localhost", "good")
local other = C.tls(dir, "IP:127.0.0.1,DNS:localhost", "other")     -- another CA
local misnamed = C.tls(dir, "DNS:wrong.example", "misnamed")      -- right CA, wrong name
local key = C.sa_key(dir)
local SECRETS = { H.token, key.json, key.private_pem }

local function tls_fake(cert, extra)
   local args = { "--tls-cert", cert.cert, "--tls-key", cert.key,
      "--generate", "engine=clickhouse,clusters=1,backups=12", "--iam-sa-key", key.path }
   for _, a in ipairs(extra or {}) do args[#args + 1] = a end
   return C.start(args)
end

-- A client that gets its token from the service-account key via the fake IAM.
local function key_client(s, ca)
   return mdb.client { endpoint = s.url, iam_endpoint = s.url, sa_key_file = key.path,
      ca_file = ca, backoff_base = 0.01 }
end

local function count(c)
   local n = 0
   for _ in c:backups { engine = "clickhouse", cluster = "cclickhouse-0000", page_size = 5 } do n = n + 1 end
   return n
end

C.test("https with the right CA (ca_file=) lists; the IAM exchange goes over TLS too", function()
   local s = tls_fake(good)
   H.eq(s.url:sub(1, 8), "https://")
   H.eq(count(H.client(s, { ca_file = good.ca })), 12)
   H.eq(count(key_client(s, good.ca)), 12)
   H.eq(#C.requests(s, "/iam/"), 1)
   -- localhost is in the certificate too
   H.eq(count(H.client(s, { ca_file = good.ca, endpoint = "https://localhost:" .. s.port })), 12)
end)

C.test("a wrong CA or a wrong host name fails at once with a clear error", function()
   local s = tls_fake(good)
   local err = H.raises("network", count, H.client(s, { ca_file = other.ca }))
   H.contains(err.message, "TLS certificate check failed")
   H.contains(err.message, "ca_file= or SSL_CERT_FILE")
   H.eq(err.attempts, 1, "a certificate problem is not retried")
   -- the system CAs do not know the test CA either
   local r = C.run("local c = " .. C.client_code { endpoint = string.format("%q", s.url),
      token = string.format("%q", H.token) } .. "; for b in c:backups{engine='clickhouse', cluster='x'} do end",
      { SSL_CERT_FILE = false }, SECRETS)
   H.eq(r.code, 2)
   H.contains(r.stderr, "network error: TLS certificate check failed")

   local m = tls_fake(misnamed)
   err = H.raises("network", count, H.client(m, { ca_file = misnamed.ca }))
   H.contains(err.message, "TLS certificate check failed")
   H.contains(err.message, "127.0.0.1")
   H.contains(err.message, "is the host name right?")
   H.eq(#H.requests(m), 0, "no request reached the server")

   -- the IAM endpoint gets the same checks: an auth error saying why
   err = H.raises("auth", count, key_client(s, other.ca))
   H.contains(err.message, "no IAM token from sa_key_file: the IAM token endpoint")
   H.contains(err.message, "TLS certificate check failed")
end)

C.test("SSL_CERT_FILE is honoured when ca_file= is not given; ca_file= wins over it", function()
   local s = tls_fake(good)
   local code = "local c = " .. C.client_code { endpoint = string.format("%q", s.url),
      token = string.format("%q", H.token) } .. [[
      local n = 0
      for b in c:backups { engine = "clickhouse", cluster = "cclickhouse-0000" } do n = n + 1 end
      print(n)
   ]]
   local r = C.run(code, { SSL_CERT_FILE = good.ca }, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "12\n")
   r = C.run((code:gsub("token = ", "ca_file = " .. string.format("%q", other.ca) .. ", token = ")),
      { SSL_CERT_FILE = good.ca }, SECRETS)
   H.eq(r.code, 2)
   H.contains(r.stderr, "TLS certificate check failed")
   r = C.run(code, { SSL_CERT_FILE = dir .. "/missing.pem" }, SECRETS)
   H.contains(r.stderr, "bad argument 'ca_file': SSL_CERT_FILE names")
end)

C.test("plain http only to loopback: endpoint, iam_endpoint and YC_METADATA_ADDR", function()
   for _, case in ipairs {
      { { token = "x", endpoint = "http://mdb.example.com" }, "endpoint" },
      { { token = "x", endpoint = "http://127.0.0.1:1", iam_endpoint = "http://10.1.2.3" }, "iam_endpoint" },
   } do
      local err = H.raises("argument", mdb.client, case[1])
      H.eq(err.argument, case[2])
      H.contains(err.message, "only https")
   end
   H.eq(mdb.client { token = "x", endpoint = "http://127.0.0.1:1", iam_endpoint = "http://localhost:5" }
      :endpoint(), "http://127.0.0.1:1")
   -- the metadata address may be the link-local one (checked without traffic:
   -- the URL is refused or accepted before anything is sent)
   local r = C.run('require("mdb").client{endpoint="http://127.0.0.1:1", credentials="metadata"}; print("ok")',
      { YC_METADATA_ADDR = "169.254.169.254" }, SECRETS)
   H.eq(r.stdout, "ok\n", r.stderr)
   r = C.run('require("mdb").client{endpoint="http://127.0.0.1:1", credentials="metadata"}',
      { YC_METADATA_ADDR = "http://metadata.example:80" }, SECRETS)
   H.contains(r.stderr, "YC_METADATA_ADDR uses plain http to 'metadata.example'")
end)

C.test("proxy variables: http_proxy carries the request, NO_PROXY bypasses it", function()
   local proxy = C.start { "--generate", "engine=clickhouse,clusters=1,backups=12" }
   -- nothing listens on 127.0.0.2:9: only the proxy can answer
   local code = "local c = " .. C.client_code { endpoint = "'http://127.0.0.2:9'",
      token = string.format("%q", H.token), retries = "0" } .. [[
      local n = 0
      for b in c:backups { engine = "clickhouse", cluster = "cclickhouse-0000" } do n = n + 1 end
      print(n)
   ]]
   local r = C.run(code, { http_proxy = proxy.url, NO_PROXY = false, no_proxy = false }, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "12\n")
   local reqs = H.requests(proxy)
   H.eq(#reqs, 1)
   H.eq(reqs[1].target:sub(1, 19), "http://127.0.0.2:9/", "the absolute-form request of a proxy client")
   r = C.run(code, { http_proxy = proxy.url, NO_PROXY = "127.0.0.2", no_proxy = false }, SECRETS)
   H.eq(r.code, 2)
   H.contains(r.stderr, "network error")
   H.eq(#H.requests(proxy), 1, "bypassed")
end)

C.test("HTTPS_PROXY: the API and IAM go through CONNECT tunnels, TLS still verified end to end", function()
   -- names under .test resolve nowhere but in the proxy, so whatever
   -- reaches them went through it
   local cert = C.tls(dir, "DNS:api.proxied.test,DNS:iam.proxied.test", "proxied")
   local s = tls_fake(cert)
   local proxy = C.start_proxy()
   local api, iam = "api.proxied.test:" .. s.port, "iam.proxied.test:" .. s.port
   local code = "local c = " .. C.client_code { endpoint = string.format("%q", "https://" .. api),
      iam_endpoint = string.format("%q", "https://" .. iam), sa_key_file = string.format("%q", key.path),
      retries = "0" } .. [[
      local n = 0
      for b in c:backups { engine = "clickhouse", cluster = "cclickhouse-0000" } do n = n + 1 end
      print(n)
   ]]
   local env = { HTTPS_PROXY = proxy.url, https_proxy = false, NO_PROXY = false, no_proxy = false,
      SSL_CERT_FILE = cert.ca }
   local r = C.run(code, env, SECRETS)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "12\n")
   local log = proxy.tunnels()
   H.ok(log:find("CONNECT " .. api .. "\n", 1, true), "the listing went through the proxy: " .. log)
   H.ok(log:find("CONNECT " .. iam .. "\n", 1, true), "the key exchange went through the proxy: " .. log)
   H.eq(#C.requests(s, "/iam/"), 1)
   -- the tunnel does not weaken verification: another CA still fails
   env.SSL_CERT_FILE = other.ca
   r = C.run(code, env, SECRETS)
   H.eq(r.code, 2)
   H.contains(r.stderr, "TLS certificate check failed")
   -- and without the proxy the names lead nowhere
   env.HTTPS_PROXY, env.SSL_CERT_FILE = false, cert.ca
   r = C.run(code, env, SECRETS)
   H.eq(r.code, 2)
   H.contains(r.stderr, "Could not resolve host: iam.proxied.test")
end)

H.run_all()
