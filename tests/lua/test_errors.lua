-- Error promises: mdb.error objects with kind/status/code/message/
-- request_id/url, one-line tostring without the token, malformed and
-- wrong-shaped responses, the size cap, bad field values, sticky errors.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"
local cjson = require "cjson"

local function first(it) return it() end

H.test("401 with a google.rpc.Status body: status, code, message, request id; token never shown", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=3" }
   local c = H.client(s, { token = H.token .. "-wrong" })
   local it = c:backups { engine = "mongodb", cluster = "cmongodb-0000" }
   local err = H.raises("http", first, it)
   H.eq(err.status, 401)
   H.eq(err.code, 16)
   H.eq(err.message, "Token is invalid or has expired.")
   H.ok(type(err.request_id) == "string" and err.request_id ~= "", "request id")
   H.contains(err.url, s.url .. "/managed-mongodb/v1/clusters/cmongodb-0000/backups?pageSize=1000")
   H.eq(err.attempts, 1, "401 is not retried")
   local line = tostring(err)
   H.ok(not line:find("\n"), "one line")
   H.contains(line, "HTTP 401 UNAUTHENTICATED")
   H.contains(line, err.request_id)
   H.not_contains(line, H.token, "tostring")
   for k, v in pairs(err) do H.not_contains(tostring(v), H.token, "field " .. k) end
   H.ok(mdb.is_error(err), "mdb.is_error")
   H.ok(not mdb.is_error("x") and not mdb.is_error({}), "is_error false for others")
end)

H.test("an error body echoing a JWT, a bearer header, an IAM token or a key is scrubbed", function()
   local jwt = "eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhamUxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
   local body = cjson.encode { code = 3, message = "rejected jwt=" .. jwt ..
      " header Authorization: Bearer y0_AgAAAAOAUTHSECRETVALUE iam t1.9euelZqSECRETIAMTOKEN.abcdefgh" ..
      " key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY----- end" }
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=1",
      "--fault", "status=400;body=" .. body }
   local err = H.raises("http", first, H.client(s):backups { engine = "mysql", cluster = "cmysql-0000" })
   for _, secret in ipairs { "eyJhbGci", "eyJpc3Mi", "OAUTHSECRET", "SECRETIAMTOKEN", "MIIEvQ", "PRIVATE KEY" } do
      H.not_contains(err.message, secret, "message")
      H.not_contains(tostring(err), secret, "tostring")
   end
   H.contains(err.message, "rejected jwt=[REDACTED]")
   H.contains(err.message, "Bearer [REDACTED]")
   H.contains(err.message, " end", "the text after the key is kept")
end)

H.test("a long server message is cut at a character, never inside a UTF-8 sequence, and says so", function()
   -- the message field is kept to 319 bytes: ASCII, then two- and
   -- three-byte letters, so that the cut falls inside one
   for _, case in ipairs { { 318, "\u{436}" }, { 317, "\u{20AC}" }, { 316, "\u{20AC}" }, { 300, "\u{1F600}" } } do
      local text = string.rep("x", case[1]) .. string.rep(case[2], 40)
      local body = cjson.encode { code = 3, message = text }
      local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=1", "--fault", "status=400;body=" .. body }
      local err = H.raises("http", first, H.client(s):backups { engine = "mysql", cluster = "cmysql-0000" })
      s.stop()
      H.ok(utf8.len(err.message) ~= nil, "valid UTF-8 after the cut, lead " .. case[1])
      H.ok(#err.message < 330 and err.message:sub(-3) == "...", "cut, and says so: " .. #err.message)
      H.ok(#err.message > 300 and text:sub(1, #err.message - 3) == err.message:sub(1, -4),
         "the text before the cut is kept")
   end
end)

H.test("404 for an unknown cluster, and the error is sticky", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=3" }
   local c = H.client(s)
   local it = c:backups { engine = "mysql", cluster = "nope" }
   local e1 = H.raises("http", first, it)
   H.eq({ e1.status, e1.code }, { 404, 5 })
   local e2 = H.raises("http", first, it)
   H.ok(rawequal(e1, e2), "the same error object again")
   H.eq(#H.requests(s), 1, "no new request after failing")
end)

H.test("400 from the server for a token it never issued (request id from the body)", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=3" }
   local c = H.client(s)
   local err = H.raises("http", first, c:backups { engine = "mysql", cluster = "cmysql-0000", page_token = "forged" })
   H.eq({ err.status, err.code }, { 400, 3 })
   H.contains(err.message, "token")
end)

H.test("malformed JSON and non-JSON bodies raise kind 'json'", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=3",
      "--fault", "path=cmongodb-0000;malformed=1" }
   local c = H.client(s)
   local err = H.raises("json", first, c:backups { engine = "mongodb", cluster = "cmongodb-0000" })
   H.contains(err.message, "not valid JSON")
   H.contains(tostring(err), "json error:")
end)

H.test("wrong-shaped JSON raises kind 'json' naming what was wrong", function()
   local cases = {
      { '{"backups": {"id": "x"}}', "'backups' in the response is not an array" },
      { '{"backups": "many"}', "'backups' in the response is not an array" },
      { '{"backups": [1, 2]}', "backups[1] in the response is not an object" },
      { '{"backups": [], "nextPageToken": 5}', "nextPageToken is not a string" },
      { '[1, 2, 3]', "response is not a JSON object" },
      { '"text"', "response is not a JSON object" },
      -- lua-cjson decodes these like {} and {"backups": []}: never an
      -- empty listing that completed
      { '[]', "response is not a JSON object" },
      { ' \n[ ]', "response is not a JSON object" },
      { '{"backups": {}}', "'backups' in the response is not an array" },
      { '{"backups": [{"id": "x"}], "backups": []}', "'backups' in the response is not an array" },
   }
   for _, case in ipairs(cases) do
      local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=3",
         "--fault", "body=" .. case[1] }
      local c = H.client(s)
      local err = H.raises("json", first, c:backups { engine = "mongodb", cluster = "cmongodb-0000" })
      H.contains(err.message, case[2], case[1])
      s.stop()
   end
end)

H.test("an absent or null backups field is an empty page", function()
   for _, body in ipairs { '{}', '{"backups": null}', ' {"backups": [ ] } ' } do
      local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=3", "--fault", "body=" .. body }
      local c = H.client(s)
      local it = c:backups { engine = "mongodb", cluster = "cmongodb-0000" }
      H.eq(it(), nil, body)
      H.eq(it:stats().pages, 1)
      s.stop()
   end
end)

H.test("bad int64, timestamp and shard-name values raise kind 'json' naming the field", function()
   local cases = {
      { { size = "12abc" }, "field 'size' is not an int64 string" },
      { { size = "" }, "field 'size' is not an int64 string" },
      { { size = "99999999999999999999" }, "field 'size' is not an int64 string" },
      { { size = 1.5 }, "field 'size' is not an integer" },
      { { journalSize = true }, "field 'journalSize' is a boolean" },
      { { createdAt = "yesterday" }, "field 'createdAt' is not an RFC 3339 timestamp" },
      { { startedAt = "2026-02-30T00:00:00Z" }, "field 'startedAt' is not an RFC 3339 timestamp" },
      -- the checks and restore plans sort shard names: a null or a number
      -- among them once ended a whole audit with a Lua comparison error
      { { sourceShardNames = { "rs01", cjson.null } },
        "field 'sourceShardNames' is not an array of strings: item 2 is null" },
      { { sourceShardNames = { 2 } }, "field 'sourceShardNames' is not an array of strings: item 1 is number" },
      { { sourceShardNames = { { a = 1 } } }, "field 'sourceShardNames' is not an array of strings: item 1 is table" },
      { { sourceShardNames = "rs01" }, "field 'sourceShardNames' is not an array of strings: string" },
   }
   for _, case in ipairs(cases) do
      local data = H.data_file {
         { "backup", "mongodb", "f1", "c1", H.backup("bad-1", "c1", "2026-01-01T00:00:00Z", case[1]) } }
      local s = H.start_fake { "--data", data }
      local err = H.raises("json", first, H.client(s):backups { engine = "mongodb", cluster = "c1" })
      H.contains(err.message, case[2])
      H.contains(err.message, "bad-1", "names the backup")
      s.stop()
   end
end)

H.test("a bad item on the last page: the resume token and the URL are that page's", function()
   local data = H.data_file {
      { "backup", "mongodb", "f1", "c1", H.backup("b1", "c1", "2026-01-03T00:00:00Z") },
      { "backup", "mongodb", "f1", "c1", H.backup("b2", "c1", "2026-01-02T00:00:00Z") },
      { "backup", "mongodb", "f1", "c1", H.backup("b3", "c1", "2026-01-01T00:00:00Z", { size = {} }) },
   }
   local s = H.start_fake { "--data", data }
   local it = H.client(s, { page_size = 2 }):backups { engine = "mongodb", cluster = "c1" }
   H.eq(it().id, "b1")
   H.eq(it().id, "b2")
   local err = H.raises("json", it)
   H.contains(err.message, "b3: field 'size'")
   local tok = it:token()
   H.ok(type(tok) == "string" and tok ~= "", "not nil: the listing is not complete")
   H.eq(H.query_param(err.url, "pageToken"), tok, "the URL of the page with the bad item")
end)

H.test("an item without a string id is an error, not a backup", function()
   for _, id in ipairs { 5, "", false } do
      local b = H.backup("x", "c1", "2026-01-01T00:00:00Z")
      b.id = id
      local s = H.start_fake { "--data", H.data_file { { "backup", "mongodb", "f1", "c1", b } } }
      local err = H.raises("json", first, H.client(s):backups { engine = "mongodb", cluster = "c1" })
      H.contains(err.message, "has no id")
      s.stop()
   end
end)

H.test("a response over the size cap raises kind 'limit'", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=100" }
   local c = H.client(s, { max_response_bytes = 4096 })
   local err = H.raises("limit", first, c:backups { engine = "postgresql", cluster = "cpostgresql-0000" })
   H.contains(err.message, "size cap")
   H.eq(err.attempts, 1, "not retried")
end)

--- True in an AddressSanitizer build (its shadow memory defeats ulimit -v).
local function sanitized()
   local cache = H.read_file((os.getenv("MDB_BUILD_DIR") or ".") .. "/CMakeCache.txt") or ""
   return cache:find("MDB_SANITIZE:BOOL=ON", 1, true) ~= nil
end

H.test("running out of memory for a body raises kind 'memory', not 'network'", function()
   if sanitized() then return end
   -- 2 GB sent chunked, no cap to stop it, 600 MB of address space: the
   -- body buffer cannot grow, and that is what the error says.
   local s = H.start_fake { "--fault", "chunked=2000000000;times=0" }
   local r = H.run({ "-c", 'ulimit -v 600000 && exec "$0" -e "$1"', H.mdblua, [[
      local mdb = require "mdb"
      local c = mdb.client { endpoint = os.getenv("ENDPOINT"), token = os.getenv("TOKEN"),
                             retries = 0, max_response_bytes = 1 << 40 }
      local ok, err = pcall(function()
         for _ in c:backups { engine = "mysql", cluster = "c1" } do end
      end)
      print(mdb.is_error(err), err.kind, err.message)
   ]] }, { program = "sh", env = { ENDPOINT = s.url, TOKEN = H.token } })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, "true\tmemory\tout of memory\n")
end)

H.test("an HTML proxy error page: kind 'http', status 502, message says so", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=1", "--fault", "html=1;times=0" }
   local c = H.client(s, { retries = 1 })
   local err = H.raises("http", first, c:backups { engine = "postgresql", cluster = "cpostgresql-0000" })
   H.eq(err.status, 502)
   H.eq(err.attempts, 2)
   H.contains(err.message, "not a google.rpc.Status")
end)

H.test("connection refused: kind 'network' after retries", function()
   local s = H.start_fake {}
   local url = s.url
   s.stop()
   local c = H.client({ url = url }, { retries = 2 })
   local err = H.raises("network", first, c:backups { engine = "redis", cluster = "c1" })
   H.eq(err.attempts, 3)
   H.eq(err.status, nil)
end)

H.test("audit and restore-point name a backup with bad shard names; the rest is audited", function()
   local function ch(id, names)
      return { "backup", "clickhouse", "f1", id, H.backup(id .. ":1", id, "2026-12-06T20:00:00Z",
         { folderId = "f1", sourceShardNames = names }) }
   end
   local function cl(id)
      return { "cluster", "clickhouse", "f1", id, id, { id = id, folderId = "f1", name = id } }
   end
   local s = H.start_fake { "--data", H.data_file { cl("cbad"), ch("cbad", { "s1", cjson.null }), cl("cgood"),
      ch("cgood", { "s1" }) } }
   local env = { YC_MDB_ENDPOINT = s.url, YC_IAM_TOKEN = H.token, YC_FOLDER_ID = "f1", NO_COLOR = "1" }
   local r = H.run({ H.source_dir .. "/scripts/audit.lua", "--engine", "clickhouse", "--now", "2026-12-06T21:00:00Z",
      "--format", "json" }, { env = env })
   H.eq(r.code, 2, r.stderr)
   H.not_contains(r.stderr, "traceback")
   local by = {}
   for _, f in ipairs(cjson.decode(r.stdout).findings) do
      by[f.cluster] = by[f.cluster] or {}
      by[f.cluster][f.check] = f
   end
   H.eq(by.cgood.shards.status, "ok", "the good cluster is audited")
   H.eq(by.cbad.shards.status, "error")
   H.contains(by.cbad.shards.message, "cbad:1: field 'sourceShardNames' is not an array of strings: item 2 is null")
   -- inventory's json: the failed cluster's counts are unknown (null), not 0
   r = H.run({ H.source_dir .. "/scripts/inventory.lua", "--engine", "clickhouse", "--format", "json" }, { env = env })
   H.eq(r.code, 2, r.stderr)
   local rows = {}
   for _, row in ipairs(cjson.decode(r.stdout)) do rows[row.cluster] = row end
   H.eq(rows.cgood.count, 1)
   H.eq(rows.cbad.count, cjson.null)
   H.contains(rows.cbad.error, "sourceShardNames")
   r = H.run({ H.source_dir .. "/scripts/restore-point.lua", "--engine", "clickhouse", "--cluster", "cbad" },
      { env = env })
   H.eq(r.code, 2)
   H.not_contains(r.stderr, "traceback")
   H.contains(r.stderr, "restore-point.lua: json error: cbad:1: field 'sourceShardNames' is not an array")
   s.stop()
end)

H.run_all()
