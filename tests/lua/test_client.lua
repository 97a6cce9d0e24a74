-- Client and argument promises: options, defaults from the environment,
-- http only to loopback, bad arguments raise before any request naming
-- the argument, and a client never shows its token.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"

H.test("mdb.engines lists the ten engines with backups", function()
   H.eq(mdb.engines, { "mongodb", "sqlserver", "postgresql", "mysql", "clickhouse",
      "redis", "greenplum", "opensearch", "elasticsearch", "spqr" })
   mdb.engines[1] = "changed"
   package.loaded.mdb = nil
end)

H.test("bad client options raise kind 'argument' naming the option", function()
   local cases = {
      { { token = "x", page_size = 1001 }, "page_size", "between 0 and 1000" },
      { { token = "x", page_size = -1 }, "page_size", "between 0 and 1000" },
      { { token = "x", page_size = 1.5 }, "page_size", "integer" },
      { { token = "x", retries = "5" }, "retries", "integer" },
      { { token = "x", timeout = 0 }, "timeout", "between" },
      { { token = "x", timeout = "30" }, "timeout", "number" },
      { { token = "x", connect_timeout = -1 }, "connect_timeout", "between" },
      { { token = "x", endpoint = "http://mdb.api.cloud.yandex.net" }, "endpoint", "only https" },
      { { token = "x", endpoint = "ftp://127.0.0.1" }, "endpoint", "not https" },
      { { token = "x", endpoint = "mdb.api.cloud.yandex.net" }, "endpoint", "scheme" },
      { { token = "x", endpoint = "https://user:pw@example.com" }, "endpoint", "user info" },
      { { token = "x", endpoint = 5 }, "endpoint", "string" },
      { { token = "x", pagesize = 5 }, "pagesize", "unknown option" },
      { { token = 7 }, "token", "string" },
      { { token = "bad token" }, "token", "spaces or control" },
      { { token = "x", max_response_bytes = 10 }, "max_response_bytes", "between" },
   }
   for _, case in ipairs(cases) do
      local err = H.raises("argument", mdb.client, case[1])
      H.eq(err.argument, case[2])
      H.contains(err.message, "bad argument '" .. case[2] .. "'")
      H.contains(err.message, case[3])
   end
   H.raises("argument", mdb.client, "not a table")
end)

H.test("an argument error about a long endpoint is whole, not cut mid-sentence", function()
   local host = string.rep("long-label-", 30) .. "example.com"     -- 341 characters
   local err = H.raises("argument", mdb.client, { token = "x", endpoint = "http://" .. host .. "/v1" })
   H.eq(err.message, "bad argument 'endpoint': endpoint uses plain http to '" .. host ..
      "': only https is allowed, except to a loopback host")
   -- and a long unknown option name: the list of known options still follows it
   local key = string.rep("k", 300)
   err = H.raises("argument", mdb.client, { token = "x", [key] = 1 })
   H.contains(err.message, "bad argument '" .. key .. "': unknown option (known: backoff_base, ")
   H.contains(err.message, ", trace)")
end)

H.test("http:// is accepted only for loopback hosts", function()
   for _, url in ipairs { "http://127.0.0.1:1", "http://127.1.2.3", "http://localhost:8080", "http://[::1]:9" } do
      H.eq(mdb.client { token = "x", endpoint = url }:endpoint(), url)
   end
   H.eq(mdb.client { token = "x", endpoint = "https://example.com/base/" }:endpoint(),
      "https://example.com/base", "trailing slash dropped")
end)

H.test("bad listing arguments raise before any request, naming the argument", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=1" }
   local c = H.client(s)
   local long = string.rep("a", 51)
   local cases = {
      { { cluster = "c1" }, "engine", "missing" },
      { { engine = "kafka", cluster = "c1" }, "engine", "unknown engine \"kafka\"" },
      { { engine = 3, cluster = "c1" }, "engine", "string" },
      { { engine = "mongodb", cluster = "" }, "cluster", "must not be empty" },
      { { engine = "mongodb", cluster = long }, "cluster", "at most 50" },
      { { engine = "mongodb", folder = long }, "folder", "at most 50" },
      { { engine = "mongodb", cluster = "c1", folder = "f1" }, "cluster", "not both" },
      { { engine = "mongodb", cluster = "c1", page_size = 1001 }, "page_size", "between 0 and 1000" },
      { { engine = "mongodb", cluster = "c1", limit = -1 }, "limit", "between" },
      { { engine = "mongodb", cluster = "c1", page_token = 5 }, "page_token", "string" },
      { { engine = "mongodb", cluster = "c1", page_token = string.rep("t", 101) }, "page_token",
         "at most 100 characters (the API's limit), got 101" },
      { { engine = "mongodb", cluster = "c1", colour = "red" }, "colour", "unknown option" },
   }
   for _, case in ipairs(cases) do
      local err = H.raises("argument", c.backups, c, case[1])
      H.eq(err.argument, case[2], H.contains and case[3])
      H.contains(err.message, case[3])
   end
   local err = H.raises("argument", c.clusters, c, { engine = "mongodb", folder = "f", filter = string.rep("x", 1001) })
   H.eq(err.argument, "filter")
   err = H.raises("argument", c.clusters, c, { engine = "mongodb", folder = "f", page_token = string.rep("t", 101) })
   H.eq(err.argument, "page_token")
   H.eq(#H.requests(s), 0, "no request was made")
   -- 100 characters are the API's to judge
   local it = c:backups { engine = "mongodb", cluster = "cmongodb-0000", page_token = string.rep("t", 100) }
   H.eq(H.raises("http", it).status, 400)
end)

H.test("environment: YC_IAM_TOKEN, YC_MDB_ENDPOINT and YC_FOLDER_ID are the defaults", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=2,backups=3" }
   local code = [[
      local mdb = require "mdb"
      local c = mdb.client()
      local n = 0
      for b in c:backups { engine = "mongodb" } do n = n + 1 end
      for cl in c:clusters { engine = "mongodb" } do n = n + 100 end
      print(c:endpoint(), n)
   ]]
   local r = H.run({ "-e", code }, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url,
      YC_FOLDER_ID = "b1gfakefolder0000001" } })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, s.url .. "\t206\n")
   H.not_contains(r.stdout .. r.stderr, H.token)
end)

H.test("no token anywhere: an error saying how to provide one, before any request", function()
   local r = H.run({ "-e", 'require("mdb").client{endpoint="http://127.0.0.1:1"}' },
      { env = { YC_IAM_TOKEN = false } })
   H.eq(r.code, 2)
   H.contains(r.stderr, "mdblua: bad argument 'token': no IAM token")
   H.contains(r.stderr, "YC_IAM_TOKEN")
end)

H.test("neither cluster nor folder (and no YC_FOLDER_ID) is an argument error", function()
   local r = H.run({ "-e", 'require("mdb").client{token="x"}:backups{engine="mysql"}' },
      { env = { YC_FOLDER_ID = false } })
   H.eq(r.code, 2)
   H.contains(r.stderr, "bad argument 'cluster': missing")
end)

H.test("mdb.client(nil) is mdb.client()", function()
   local r = H.run({ "-e", "local c = require('mdb').client(nil); print(c:endpoint())" },
      { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = "http://127.0.0.1:1" } })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "http://127.0.0.1:1\n")
end)

H.test("a client never shows its token", function()
   local c = mdb.client { token = H.token, endpoint = "http://127.0.0.1:1" }
   H.eq(tostring(c), "mdb.client (http://127.0.0.1:1)")
   local mt = getmetatable(c)
   for k, v in pairs(mt.__index) do H.not_contains(tostring(v), H.token, k) end
end)

H.test("mdb.parse_time", function()
   H.eq(mdb.parse_time("1970-01-01T00:00:00Z"), 0.0)
   H.eq(mdb.parse_time("2026-11-23T10:00:00+00:00"), 1795428000.0)
   local v, msg = mdb.parse_time("2026-13-01T00:00:00Z")
   H.eq(v, nil)
   H.contains(msg, "not an RFC 3339 timestamp")
end)

H.run_all()
