-- The fault matrix: every way the API, a proxy or the network can
-- misbehave, against the iterator (client:backups) and the fan-out
-- (client:scan).  For each: a clear error or a correct result, in bounded
-- time, never an item yielded twice, never a partial list reported as
-- complete, and the token never sent to another host.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local FOLDER = "b1gfakefolder0000001"
local CLUSTER = "cpostgresql-0000"

local function ids(n, cluster)
   local out = {}
   for i = 0, n - 1 do out[#out + 1] = string.format("%s:%06d", cluster or CLUSTER, i) end
   return out
end

local now = H.now

--- fn()'s results, with the seconds it took first.
local function timed(fn, ...)
   local t0 = now()
   local r = table.pack(fn(...))
   return now() - t0, table.unpack(r, 1, r.n)
end

--- One cluster of `backups` backups, with fault rules.
local function fake(backups, faults, extra)
   return H.fake_with_faults("engine=postgresql,clusters=1,backups=" .. backups, faults, extra)
end

--- Three clusters of 25 backups, with fault rules (for client:scan).
local function fleet(faults, extra)
   return H.fake_with_faults("engine=postgresql,clusters=3,backups=25", faults, extra)
end

local function listing(s, opts)
   local o = { page_size = 10 }
   for k, v in pairs(opts or {}) do o[k] = v end
   return H.client(s, o):backups { engine = "postgresql", cluster = CLUSTER }
end

--- Iterate to the end or the first error: (items, error or nil).
local function drain(it)
   local got = {}
   local ok, err = pcall(function() for b in it do got[#got + 1] = b.id end end)
   return got, not ok and err or nil
end

local function scan(s, opts)
   local o = { page_size = 10 }
   for k, v in pairs(opts or {}) do o[k] = v end
   return H.client(s, o):scan { engine = "postgresql", folder = FOLDER, concurrency = 3 }
end

--- A failed listing: an mdb.error of `kind`, the items before it exactly
-- once, and no claim of completeness.
local function failed(it, kind, before)
   local got, err = drain(it)
   H.ok(err ~= nil, "the listing must fail with kind " .. kind)
   H.eq(err.kind, kind, tostring(err))
   H.eq(got, before, "items before the failure, each once")
   H.ok(it:token() ~= nil, "a failed listing is never complete (it:token() ~= nil)")
   H.raises(kind, it)   -- and it stays failed
   return err
end

--- Scan entries by cluster id; the clusters not in `bad` must be complete.
local function scan_entries(res, bad)
   H.eq(#res, 3, "one entry per cluster")
   local by = {}
   for _, r in ipairs(res) do
      by[r.id] = r
      if not bad[r.id] then
         H.eq(r.error, nil, r.id)
         H.eq(H.ids(r.backups), ids(25, r.id), r.id .. " complete, each backup once")
      end
   end
   return by
end

--- Lines of a --log-detail request log.
local function detail_log(s)
   local out = {}
   for line in (H.read_file(s.log) or ""):gmatch("[^\n]+") do
      local m, t, st, auth, enc = line:match("^(%S+) (%S+) (%d+) auth=(%a+) encoding=(%a+)$")
      H.ok(m, "a --log-detail line: " .. line)
      out[#out + 1] = { method = m, target = t, status = tonumber(st), auth = auth, encoding = enc }
   end
   return out
end

local function peak_rss_kib()
   local status = H.read_file("/proc/self/status") or ""
   return tonumber(status:match("VmHWM:%s*(%d+)")) or 0
end

-- Drip: a server that sends one byte at a time. ----------------------------

H.test("drip: a byte every 100 ms runs into the timeout, bounded by (retries+1) x timeout", function()
   local s = fake(3, { "drip_ms=100;times=0" })
   local dt, got, err = timed(drain, listing(s, { timeout = 0.5, retries = 1 }))
   H.eq(#got, 0)
   H.eq({ err.kind, err.attempts }, { "timeout", 2 }, tostring(err))
   H.ok(dt >= 0.9 and dt < 1.0 + H.slack, "two attempts of 0.5 s took " .. dt .. " s")
   s.stop()
   local f = fleet { "path=cpostgresql-0001/backups;drip_ms=100;times=0" }
   local res
   dt, res = timed(scan, f, { timeout = 0.5, retries = 1 })
   local by = scan_entries(res, { ["cpostgresql-0001"] = true })
   H.eq({ by["cpostgresql-0001"].error.kind, #by["cpostgresql-0001"].backups }, { "timeout", 0 })
   H.ok(dt < 2.5, "scan took " .. dt .. " s")
end)

H.test("drip: a fast enough drip gives the correct result", function()
   local s = fake(12, { "offset=10;drip_ms=1" })   -- the last page, some 600 bytes
   local dt, got, err = timed(drain, listing(s, { timeout = 10 }))
   H.eq(err, nil)
   H.eq(got, ids(12))
   H.ok(dt < 8, "took " .. dt .. " s")
   s.stop()
   local f = fleet { "path=cpostgresql-0002/backups;offset=20;drip_ms=1" }
   scan_entries(scan(f, { timeout = 10 }), {})
end)

-- Content-Length. -----------------------------------------------------------

H.test("a huge Content-Length fails with kind 'limit' at once, before downloading", function()
   local s = fake(30, { "offset=10;content_length=10000000000;times=0" })
   local it = listing(s)
   local dt, err = timed(failed, it, "limit", ids(10))
   H.eq(err.attempts, 1, "not retried")
   H.contains(err.message, "size cap")
   H.ok(dt < 2, "took " .. dt .. " s")
   H.eq(#H.requests(s), 2, "one request for the page")
   s.stop()
   local f = fleet { "path=cpostgresql-0000/backups;content_length=10000000000;times=0" }
   local by = scan_entries(scan(f), { ["cpostgresql-0000"] = true })
   H.eq(by["cpostgresql-0000"].error.kind, "limit")
end)

H.test("a Content-Length larger than the body: retried, then correct", function()
   local s = fake(30, { "offset=10;content_length=100000" })
   local it = listing(s)
   local got, err = drain(it)
   H.eq(err, nil)
   H.eq(got, ids(30))
   H.eq(it:stats().retries, 1)
   H.eq(it:token(), nil, "complete")
   s.stop()
   local f = fleet { "path=/backups;content_length=100000;times=3" }
   scan_entries(scan(f), {})
end)

-- Connection reset. ---------------------------------------------------------

H.test("a connection reset mid-body is retried, then correct", function()
   local s = fake(30, { "offset=10;reset=200" })
   local it = listing(s)
   local got, err = drain(it)
   H.eq(err, nil)
   H.eq(got, ids(30))
   H.eq(it:stats().retries, 1)
   s.stop()
   local f = fleet { "path=/backups;reset=100;times=4" }
   scan_entries(scan(f), {})
end)

H.test("a reset is not a clean close: both fail as 'network' after retries, saying which", function()
   local s = fake(30, { "offset=10;reset=200;times=0" })
   local reset = failed(listing(s, { retries = 1 }), "network", ids(10))
   H.eq(reset.attempts, 2)
   H.contains(reset.message:lower(), "reset")
   s.stop()
   local s2 = fake(30, { "offset=10;truncate=200;times=0" })
   local closed = failed(listing(s2, { retries = 1 }), "network", ids(10))
   H.not_contains(closed.message:lower(), "reset")
end)

-- Content encodings. --------------------------------------------------------

H.test("gzip and deflate bodies give the same result as plain ones", function()
   for _, coding in ipairs { "gzip", "deflate" } do
      local s = fake(30, { coding .. "=1;times=0" }, { "--log-detail" })
      local it = listing(s)
      local got, err = drain(it)
      H.eq(err, nil, coding)
      H.eq(got, ids(30), coding)
      local log = detail_log(s)
      H.eq(#log, 3, coding)
      for _, r in ipairs(log) do H.eq({ r.status, r.encoding }, { 200, coding }, "sent with " .. coding) end
      s.stop()
      local f = fleet({ coding .. "=1;times=0" }, { "--log-detail" })
      scan_entries(scan(f), {})
      for _, r in ipairs(detail_log(f)) do H.eq(r.encoding, coding) end
      f.stop()
   end
end)

H.test("a decompression bomb fails with kind 'limit'; max_response_bytes caps memory", function()
   -- 1 GB of JSON in about 1 MB of gzip: the cap, not the announced
   -- (compressed) length, is what stops it.
   local s = fake(30, { "offset=10;bomb=1000000000;times=0" }, { "--log-detail" })
   local before = peak_rss_kib()
   local dt, err = timed(failed, listing(s, { max_response_bytes = 4 * 1048576 }), "limit", ids(10))
   H.eq(err.attempts, 1, "not retried")
   H.contains(err.message, "size cap")
   H.ok(dt < 3, "took " .. dt .. " s")
   H.eq(detail_log(s)[2].encoding, "gzip", "the bomb was sent")
   local grew = peak_rss_kib() - before
   H.ok(grew < 64 * 1024, "peak RSS grew by " .. grew .. " KiB")
   s.stop()
   -- The default cap (64 MiB) against 10 GB.
   local s2 = fake(3, { "bomb=10000000000;times=0" })
   before = peak_rss_kib()
   dt = timed(failed, listing(s2), "limit", {})
   grew = peak_rss_kib() - before
   H.ok(grew < 512 * 1024, "peak RSS grew by " .. grew .. " KiB for a 10 GB bomb")
   H.ok(dt < 10, "took " .. dt .. " s")
   s2.stop()
   local f = fleet { "path=cpostgresql-0001/backups;bomb=1000000000;times=0" }
   local by = scan_entries(scan(f, { max_response_bytes = 4 * 1048576 }), { ["cpostgresql-0001"] = true })
   H.eq(by["cpostgresql-0001"].error.kind, "limit")
end)

--- True in an AddressSanitizer build, where RSS measures the sanitizer.
local function sanitized()
   local cache = H.read_file((os.getenv("MDB_BUILD_DIR") or ".") .. "/CMakeCache.txt") or ""
   return cache:find("MDB_SANITIZE:BOOL=ON", 1, true) ~= nil
end

H.test("an 80 MiB chunked body is refused against the 64 MiB cap in under cap + 32 MiB", function()
   -- No Content-Length: only the bytes arriving tell the size.  A child
   -- mdblua lists (and scans) it and reports its own peak RSS.
   local s = fake(3, { "chunked=83886080;times=0" })
   local r = H.run({ "-e", [[
      local mdb = require "mdb"
      local c = mdb.client { endpoint = os.getenv("ENDPOINT"), token = os.getenv("TOKEN"), retries = 0 }
      local ok, err = pcall(function()
         for _ in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do end
      end)
      print(err.kind, err.message)
      local res = c:scan { engine = "postgresql", clusters = { "cpostgresql-0000" } }
      print(res[1].error.kind, res[1].error.message)
      print((io.open("/proc/self/status"):read("a"):match("VmHWM:%s*(%d+)")))
   ]] }, { env = { ENDPOINT = s.url, TOKEN = H.token } })
   H.eq(r.code, 0, r.stderr)
   local lines = {}
   for l in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = l end
   for i = 1, 2 do
      H.contains(lines[i], "limit\t", r.stdout)
      H.contains(lines[i], "size cap of 67108864 bytes", "the cap is named")
      H.contains(lines[i], "max_response_bytes", "the option is named")
   end
   H.eq(#H.requests(s), 2, "one request each: a refused body is not retried")
   local hwm = tonumber(lines[3])
   H.ok(hwm, "VmHWM read: " .. r.stdout)
   if not sanitized() then
      H.ok(hwm < (64 + 32) * 1024, "peak RSS " .. hwm .. " KiB, over the cap + 32 MiB")
   end
end)

-- Redirects. ----------------------------------------------------------------

H.test("a same-host redirect is followed with the token, for every code and form", function()
   for _, code in ipairs { 301, 302, 303, 307, 308 } do
      for _, loc in ipairs { "{path}", "{self}{path}" } do
         local what = code .. " " .. loc
         local s = fake(30, { "offset=10;redirect=" .. code .. ";location=" .. loc }, { "--log-detail" })
         local it = listing(s)
         local got, err = drain(it)
         H.eq(err, nil, what)
         H.eq(got, ids(30), what)
         local log = detail_log(s)
         H.eq(#log, 4, what .. ": 3 pages + 1 redirect")
         H.eq(log[2].status, code, what)
         H.eq({ log[3].target, log[3].status, log[3].auth }, { log[2].target, 200, "yes" },
            what .. ": followed, with the token")
         H.eq(it:stats().retries, 0, "a redirect is not a retry")
         s.stop()
      end
   end
   local f = fleet { "path=/backups;redirect=307;location={self}{path};times=5" }
   scan_entries(scan(f), {})
end)

H.test("a redirect loop stops after 5 redirects with kind 'http' and the 3xx status", function()
   local s = fake(30, { "offset=10;redirect=302;location={path};times=0" })
   local dt, err = timed(failed, listing(s), "http", ids(10))
   H.eq(err.status, 302)
   H.contains(err.message, "more than 5 redirects")
   H.eq(#H.requests(s), 1 + 6, "the first page, then 1 + 5 redirected requests")
   H.ok(dt < 3, "took " .. dt .. " s")
end)

H.test("a redirect to another host is refused and never gets the token", function()
   -- A second fake API with the same data and token: had the client
   -- followed with the token, it would have answered.
   local other = fake(30, {}, { "--log-detail" })
   local port2 = other.url:match(":(%d+)$")
   local secret_query = "pageToken=s3cr3t-query"
   local cases = {
      { "http://localhost:" .. port2 .. "{path}", "http://localhost:" .. port2 },
      { "http://127.0.0.1:" .. port2 .. "{path}", "http://127.0.0.1:" .. port2 },
      { "http://user:pw@localhost:" .. port2 .. "/x?" .. secret_query, "http://localhost:" .. port2 },
      -- the same server under another name, or over another scheme
      { "http://localhost:{port}{path}", "http://localhost:" },
      { "https://127.0.0.1:{port}{path}", "https://127.0.0.1:" },
   }
   for _, case in ipairs(cases) do
      local loc, origin = case[1], case[2]
      local s1 = fake(30, { "offset=10;redirect=302;location=" .. loc })
      if origin:sub(-1) == ":" then origin = origin .. s1.url:match(":(%d+)$") end
      local it = listing(s1)
      local err = failed(it, "http", ids(10))
      H.eq({ err.status, err.attempts }, { 302, 1 }, loc)
      H.contains(err.message, "refused to follow a redirect to another host, " .. origin .. " ", loc)
      for k, v in pairs(err) do
         H.not_contains(tostring(v), H.token, "field " .. k)
         H.not_contains(tostring(v), "s3cr3t", "field " .. k)
         H.not_contains(tostring(v), "pw@", "field " .. k)
      end
      H.not_contains(tostring(err), H.token)
      s1.stop()
   end
   -- the fan-out too
   local f = H.start_fake { "--generate", "engine=postgresql,clusters=3,backups=25",
      "--fault", "path=cpostgresql-0002/backups;redirect=308;location=http://localhost:" .. port2 .. "{path};times=0" }
   local by = scan_entries(scan(f), { ["cpostgresql-0002"] = true })
   H.eq({ by["cpostgresql-0002"].error.kind, by["cpostgresql-0002"].error.status }, { "http", 308 })
   H.eq(#by["cpostgresql-0002"].backups, 0)
   local reached = detail_log(other)
   H.eq(#reached, 0, "no request reached the other host")
end)

-- A server that never answers. ----------------------------------------------

H.test("hang: kind 'timeout' within the timeout; with retries, within (retries+1) x timeout", function()
   local s = fake(30, { "offset=10;hang=1;times=0" })
   local dt, err = timed(failed, listing(s, { timeout = 0.4, retries = 0 }), "timeout", ids(10))
   H.eq(err.attempts, 1)
   H.ok(dt >= 0.35 and dt < 1.2, "one attempt of 0.4 s took " .. dt .. " s")
   dt, err = timed(failed, listing(s, { timeout = 0.4, retries = 2 }), "timeout", ids(10))
   H.eq(err.attempts, 3)
   H.ok(dt >= 1.1 and dt < 2.4, "three attempts of 0.4 s took " .. dt .. " s")
   s.stop()
   local s2 = fake(30, { "offset=10;hang=1" })
   local it = listing(s2, { timeout = 0.4 })
   local got, e2 = drain(it)
   H.eq(e2, nil)
   H.eq(got, ids(30), "one hang, retried, then correct")
   H.eq(it:stats().retries, 1)
   s2.stop()
   local f = fleet { "path=cpostgresql-0001/backups;hang=1;times=0" }
   local res
   dt, res = timed(scan, f, { timeout = 0.4, retries = 1 })
   local by = scan_entries(res, { ["cpostgresql-0001"] = true })
   H.eq({ by["cpostgresql-0001"].error.kind, by["cpostgresql-0001"].error.attempts }, { "timeout", 2 })
   H.ok(dt < 2.5, "scan took " .. dt .. " s")
end)

--- The process has exited (gone, or a zombie waiting for its parent).
local function exited(pid)
   local stat = H.read_file("/proc/" .. pid .. "/stat")
   return stat == nil or stat:match("^%d+ %b() (%a)") == "Z"
end

H.test("SIGTERM while a drip or a hang is in progress: the fake stops at once, cleanly", function()
   for _, fault in ipairs { "drip_ms=200;times=0", "hang=1;times=0" } do
      local s = fake(3, { fault })
      os.execute("(sleep 0.5; kill " .. s.pid .. ") >/dev/null 2>&1 &")
      local dt, got, err = timed(drain, listing(s, { timeout = 10, retries = 0 }))
      H.eq(#got, 0)
      H.ok(err ~= nil and (err.kind == "network" or err.kind == "timeout"), fault .. ": " .. tostring(err))
      H.ok(dt < 3, fault .. ": the request ended with the server, after " .. dt .. " s")
      local t0 = now()
      while not exited(s.pid) and now() - t0 < 5 do os.execute("sleep 0.05") end
      H.ok(exited(s.pid), fault .. ": the fake exited")
      local stderr = H.read_file(s.stderr) or ""
      H.contains(stderr, "SIGTERM, stopping", fault)
      H.not_contains(stderr, "Sanitizer", fault)
      s.stop()
   end
end)

-- Throttling. ---------------------------------------------------------------

H.test("a 429 storm with Retry-After: waits as asked, each backup once", function()
   local s = fake(30, { "status=429;retry_after=1;skip=1;times=2" })
   local it = listing(s)
   local dt, got, err = timed(drain, it)
   H.eq(err, nil)
   H.eq(got, ids(30))
   H.eq(it:stats().retries, 2)
   H.ok(dt >= 1.9 and dt < 4, "two waits of 1 s took " .. dt .. " s")
   s.stop()
   -- the fan-out waits concurrently
   local f = fleet { "path=/backups;status=429;retry_after=1;times=6" }
   local res
   dt, res = timed(scan, f, { retries = 8 })
   scan_entries(res, {})
   H.ok(dt < 5, "scan took " .. dt .. " s")
   f.stop()
   -- a storm that outlasts the retries
   local s2 = fake(30, { "offset=10;status=429;retry_after=1;times=0" })
   local e2
   dt, e2 = timed(failed, listing(s2, { retries = 1 }), "http", ids(10))
   H.eq({ e2.status, e2.code, e2.attempts }, { 429, 8, 2 })
   H.ok(dt < 3, "took " .. dt .. " s")
end)

-- Proxies and broken bodies. ------------------------------------------------

H.test("HTML 502 pages from a proxy: retried, then correct; or a clear 'http' error", function()
   local s = fake(30, { "offset=10;html=1;times=2" })
   local it = listing(s)
   local got, err = drain(it)
   H.eq(err, nil)
   H.eq(got, ids(30))
   H.eq(it:stats().retries, 2)
   s.stop()
   local s2 = fake(30, { "offset=10;html=1;times=0" })
   local e2 = failed(listing(s2, { retries = 1 }), "http", ids(10))
   H.eq({ e2.status, e2.attempts }, { 502, 2 })
   H.contains(e2.message, "not a google.rpc.Status")
   s2.stop()
   local f = fleet { "path=cpostgresql-0000/backups;html=1;times=0" }
   local by = scan_entries(scan(f, { retries = 1 }), { ["cpostgresql-0000"] = true })
   H.eq({ by["cpostgresql-0000"].error.kind, by["cpostgresql-0000"].error.status }, { "http", 502 })
end)

H.test("200 with a body that is not JSON: kind 'json', nothing repeated, never complete", function()
   for _, fault in ipairs { "offset=10;html=1;status=200", "offset=10;body=<html>maintenance</html>",
      "offset=10;body=", "offset=10;malformed=1" } do
      local s = fake(30, { fault })
      failed(listing(s), "json", ids(10))
      s.stop()
   end
   local f = fleet { "path=cpostgresql-0001/backups;offset=10;body=<html>maintenance</html>" }
   local by = scan_entries(scan(f), { ["cpostgresql-0001"] = true })
   H.eq(by["cpostgresql-0001"].error.kind, "json")
   H.eq(H.ids(by["cpostgresql-0001"].backups), ids(10, "cpostgresql-0001"), "what came before, flagged by the error")
end)

H.test("JSON of the wrong shape: kind 'json' naming what is wrong, never complete", function()
   local cases = {
      { '{"backups":{"id":"x"}}', "'backups' in the response is not an array" },
      { '{"backups":"many","nextPageToken":"x"}', "'backups' in the response is not an array" },
      { '{"backups":[1,2]}', "backups[1] in the response is not an object" },
      { '{"backups":[null]}', "backups[1] in the response is not an object" },
      { '{"backups":[],"nextPageToken":5}', "nextPageToken is not a string" },
      { '[{"id":"x"}]', "response is not a JSON object" },
   }
   for _, case in ipairs(cases) do
      local s = fake(30, { "offset=10;body=" .. case[1] })
      local err = failed(listing(s), "json", ids(10))
      H.contains(err.message, case[2], case[1])
      s.stop()
   end
   -- wrong field types in an item
   for _, body in ipairs { '{"backups":[{"id":"x","size":{}}]}', '{"backups":[{"id":"x","createdAt":7}]}' } do
      local s = fake(30, { "offset=10;body=" .. body })
      local it = listing(s)
      local got, err = drain(it)
      H.eq(got, ids(10), body)
      H.eq(err and err.kind, "json", body)
      H.contains(err.message, "x: field", body)
      H.raises("json", it)
      s.stop()
   end
   local f = fleet { "path=cpostgresql-0002/backups;offset=20;body=" .. cases[3][1] }
   local by = scan_entries(scan(f), { ["cpostgresql-0002"] = true })
   H.eq(by["cpostgresql-0002"].error.kind, "json")
   H.eq(H.ids(by["cpostgresql-0002"].backups), ids(20, "cpostgresql-0002"))
end)

H.test("an error about a page's content names its response: status, request id, attempts", function()
   local function names_response(e, attempts, what)
      H.eq({ e.status, e.attempts }, { 200, attempts }, what .. ": " .. tostring(e))
      H.ok(type(e.request_id) == "string" and e.request_id:match("^fake%-req%-%d+$"), what .. ": request id")
      H.contains(tostring(e), "(HTTP 200, request id " .. e.request_id .. ", " .. attempts .. " attempt", what)
   end
   local cases = {
      { "not JSON", { "offset=10;malformed=1" }, "json", 1 },
      { "not JSON after a 503", { "offset=10;status=503", "offset=10;malformed=1" }, "json", 2 },
      { "an item of the wrong shape", { "offset=10;body={\"backups\":[1,2]}" }, "json", 1 },
      { "a repeated token", { "offset=20;cycle_to=10" }, "cycle", 1 },
      { "an endless run of empty pages", { "offset=10;empty=1;times=0" }, "cycle", 1 },
   }
   for _, case in ipairs(cases) do
      local s = fake(30, case[2])
      local got, e = drain(listing(s))
      H.eq(e and e.kind, case[3], case[1])
      H.ok(#got <= 20, case[1])
      names_response(e, case[4], case[1])
      s.stop()
      -- the scan's entry; held pages too (a backups listing's pages wait
      -- undecoded until its last one)
      local f = fleet { "path=cpostgresql-0001/backups;" .. case[2][#case[2]] }
      local by = scan_entries(scan(f), { ["cpostgresql-0001"] = true })
      H.eq(by["cpostgresql-0001"].error.kind, case[3], case[1] .. " (scan)")
      names_response(by["cpostgresql-0001"].error, 1, case[1] .. " (scan)")
      f.stop()
   end
   -- a held page that fails when decoded, after the next page failed: the
   -- held page's response, not the failed request's
   local f = fleet { 'path=cpostgresql-0002/backups;offset=10;body={"backups":[1],"nextPageToken":"zz"}' }
   local by = scan_entries(scan(f), { ["cpostgresql-0002"] = true })
   local e = by["cpostgresql-0002"].error
   H.eq(e.kind, "json", tostring(e))
   H.contains(e.url, "pageToken=", "the held page's URL")
   names_response(e, 1, "a held page")
end)

H.test("empty pages with a new token each: 99 in a row are followed, 100 end the listing as 'cycle'", function()
   local s = fake(30, { "offset=10;empty=1;times=99" })
   local it = listing(s)
   local got, err = drain(it)
   H.eq({ got, err }, { ids(30), nil }, "99 empty pages in a row, then the rest")
   H.eq(it:stats().pages, 102)
   s.stop()
   -- runs that the pages between them break are not one run
   s = fake(30, { "offset=10;empty=1;times=60", "offset=20;empty=1;times=60" })
   H.eq(H.ids(H.collect(listing(s))), ids(30), "120 empty pages, 60 in a row")
   s.stop()
   s = fake(30, { "offset=10;empty=1;times=100" })
   local e = failed(listing(s), "cycle", ids(10))
   H.contains(e.message, "100 pages in a row with nothing new (no items")
   local n = #H.requests(s)
   H.ok(n == 101 or n == 102, "the first page, 100 empty ones and at most a prefetch: " .. n)
   s.stop()
   local f = fleet { "path=cpostgresql-0001/backups;offset=10;empty=1;times=100" }
   local by = scan_entries(scan(f), { ["cpostgresql-0001"] = true })
   H.eq(by["cpostgresql-0001"].error.kind, "cycle")
   H.eq(H.ids(by["cpostgresql-0001"].backups), ids(10, "cpostgresql-0001"), "what came before, flagged by the error")
   f.stop()
   -- a scan holds pages undecoded: their raw text tells that they have
   -- items, so a cluster of more than 100 pages is no run of empty ones
   f = fake(1010, {})
   local res = scan(f)
   H.eq({ res[1].error, #res[1].backups }, { nil, 1010 })
end)

--- In a child with a deadline, a listing and a scan of one cluster of 30
-- backups under `fault`: without the guards these never returned, their
-- memory growing with every token.  Both must end as 'cycle' after the
-- `before` backups they got first.
local function ends_in_bounded_time(fault, before)
   local s = fake(30, { fault })
   local prog = [[
      local c = require("mdb").client { page_size = 10, retries = 0 }
      local n = 0
      local ok, e = pcall(function()
         for _ in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do n = n + 1 end
      end)
      local r = c:scan { engine = "postgresql", folder = "b1gfakefolder0000001" }
      print(n, ok, e.kind, #r, #r[1].backups, r[1].error and r[1].error.kind)]]
   local r = H.run({ "60", H.mdblua, "-e", prog }, { program = "timeout",
      env = { YC_MDB_ENDPOINT = s.url, YC_IAM_TOKEN = H.token } })
   H.eq({ r.code, r.stdout }, { 0, string.format("%d\tfalse\tcycle\t1\t%d\tcycle\n", before, before) },
      fault .. ": " .. r.stderr)
   s.stop()
end

H.test("an endless run of empty pages, or of one page, under new tokens ends, iterator and scan, in bounded time", function()
   ends_in_bounded_time("offset=10;empty=1;times=0", 10)
   ends_in_bounded_time("offset=10;cycle_to=10;fresh=1;times=0", 20)
end)

H.test("the same items again and again under fresh tokens end as 'cycle', nothing handed out twice", function()
   -- the page at 10 names itself as the next page, each time with a token
   -- never sent before: the guard skips its repeats, no token repeats, and
   -- without the run of pages that bring nothing new it never ended
   local s = fake(30, { "offset=10;cycle_to=10;fresh=1;times=0" })
   local e = failed(listing(s), "cycle", ids(20))
   H.contains(e.message, "100 pages in a row with nothing new")
   H.contains(e.message, "the first item of an earlier page again")
   local n = #H.requests(s)
   H.ok(n >= 102 and n <= 103, "two pages, 100 repeats and at most a prefetch: " .. n)
   s.stop()
   -- two pages in turn, each under fresh tokens: the iterator hands out
   -- their items again (it keeps one page of ids), then fails
   s = fake(30, { "offset=10;cycle_to=20;fresh=1;times=0", "offset=20;cycle_to=10;fresh=1;times=0" })
   local it = listing(s)
   local got, err = drain(it)
   H.eq(err and err.kind, "cycle", tostring(err))
   H.eq({ table.unpack(got, 1, 30) }, ids(30), "the listing once, in order")
   H.eq(#got, 30 + 10 * 99, "then each stale page's items, until the 100th")
   s.stop()
   -- the scan keeps a cluster's ids: each backup once, then the error
   local f = fleet { "path=cpostgresql-0001/backups;offset=10;cycle_to=10;fresh=1;times=0" }
   local by = scan_entries(scan(f), { ["cpostgresql-0001"] = true })
   H.eq(by["cpostgresql-0001"].error.kind, "cycle")
   H.eq(H.ids(by["cpostgresql-0001"].backups), ids(20, "cpostgresql-0001"), "what came before, flagged by the error")
   f.stop()
   f = fleet { "path=cpostgresql-0002/backups;offset=10;cycle_to=20;fresh=1;times=0",
      "path=cpostgresql-0002/backups;offset=20;cycle_to=10;fresh=1;times=0" }
   by = scan_entries(scan(f), { ["cpostgresql-0002"] = true })
   H.eq(by["cpostgresql-0002"].error.kind, "cycle")
   H.eq(H.ids(by["cpostgresql-0002"].backups), ids(25, "cpostgresql-0002"), "each backup once")
   f.stop()
   -- a listing that shifts now and then (a page beginning with an item
   -- seen before) is no run: 60 stale pages, a new one, 60 stale again
   s = fake(40, { "offset=10;cycle_to=10;fresh=1;times=60", "offset=20;cycle_to=20;fresh=1;times=60" })
   got, err = drain(listing(s))
   H.eq({ got, err }, { ids(40), nil }, "120 stale pages, 60 in a row")
   s.stop()
end)

H.test("a page token longer than 100 characters: the server's 400 is a clear 'http' error", function()
   local long = string.rep("A", 150)
   local first = cjson.encode(H.backup("b-1", CLUSTER, "2026-01-01T00:00:00Z"))
   local s = fake(30, { "offset=0;body=" .. '{"backups":[' .. first .. '],"nextPageToken":"' .. long .. '"}' })
   local it = listing(s)
   local err = failed(it, "http", { "b-1" })
   H.eq({ err.status, err.code, err.attempts }, { 400, 3, 1 })
   H.contains(err.message, "page_token: length must be at most 100")
   H.eq(it:token(), long, "resume from the page that failed")
   local reqs = H.requests(s)
   H.eq(#reqs, 2)
   H.eq(H.query_param(reqs[2].target, "pageToken"), long)
   s.stop()
   -- as a starting token it is refused before any request; in the fan-out
   local s2 = fake(30, {})
   local err2 = H.raises("argument", H.client(s2).backups, H.client(s2),
      { engine = "postgresql", cluster = CLUSTER, page_token = long })
   H.eq(err2.argument, "page_token")
   H.eq(#H.requests(s2), 0, "no request")
   s2.stop()
   local f = fleet { "path=cpostgresql-0001/backups;offset=0;body=" .. '{"backups":[' .. first ..
      '],"nextPageToken":"' .. long .. '"}' }
   local by = scan_entries(scan(f), { ["cpostgresql-0001"] = true })
   H.eq({ by["cpostgresql-0001"].error.kind, by["cpostgresql-0001"].error.status }, { "http", 400 })
   H.eq(H.ids(by["cpostgresql-0001"].backups), { "b-1" })
end)

H.test("fault rules for the new actions are checked at start-up", function()
   for _, rule in ipairs { "gzip=1;deflate=1", "bomb=10", "redirect=302", "location=/x",
      "redirect=300;location=/x", "hang=1;status=500", "drop=1;hang=1", "truncate=1;reset=1",
      "bomb=100000;gzip=1", "drip_ms=0", "redirect=302;location=/x;body=x" } do
      local r = H.run({ "--fault", rule }, { program = H.fakeapi })
      H.eq(r.code, 2, rule)
      H.contains(r.stderr, "--fault", rule)
   end
end)

H.run_all()
