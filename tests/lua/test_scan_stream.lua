-- client:scan{each = f}: a streaming scan.  Each cluster's entry is handed
-- to `each` as soon as its listing is over and let go when `each` returns,
-- so memory holds a window of clusters, not the fleet.  The entries are the
-- ones a plain scan returns, failures included; errors raised by `each`
-- end the scan.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local json = require "cjson"

local FOLDER = "b1gfakefolder0000001"

-- An entry as plain data, comparable across scans.
local function summary(e)
   return { engine = e.engine, id = e.id or "", cluster = e.cluster and e.cluster.id,
      error = e.error and (e.error.kind .. ": " .. e.error.message),
      backups = H.ids(e.backups), items = e.stats.items, pages = e.stats.pages,
      duplicates = e.stats.duplicates }
end

local function sorted(entries)
   local out = {}
   for i, e in ipairs(entries) do out[i] = summary(e) end
   table.sort(out, function(a, b)
      if a.engine ~= b.engine then return a.engine < b.engine end
      return a.id < b.id
   end)
   return out
end

local function streamed(c, opts)
   local got, o = {}, {}
   for k, v in pairs(opts) do o[k] = v end
   o.each = function(e) got[#got + 1] = e end
   H.eq(select("#", c:scan(o)), 0, "a streaming scan returns nothing")
   return got
end

H.test("streaming and plain scans give the same entries, failures included", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=9,backups=31",
      "--generate", "engine=redis,clusters=4,backups=5",
      "--generate", "engine=postgresql,clusters=3,backups=3",
      "--fault", "path=cmysql-0002/;status=500;times=0",
      "--fault", "path=cmysql-0005/;offset=10;malformed=1;times=0",
      "--fault", "path=managed-postgresql/v1/clusters;status=403;times=0" }
   local c = H.client(s, { page_size = 10, retries = 1, backoff_base = 0.001 })
   local opts = { engines = { "mysql", "redis", "postgresql" }, folder = FOLDER, concurrency = 3 }
   local plain = c:scan(opts)
   local stream = streamed(c, opts)
   H.eq(#plain, 14, "9 + 4 clusters and one error entry for postgresql")
   H.eq(sorted(stream), sorted(plain))
   -- the error entries as each sees them
   local by_id = {}
   for _, e in ipairs(stream) do by_id[e.id or e.engine] = e end
   H.eq({ by_id.postgresql.id, by_id.postgresql.error.kind, by_id.postgresql.error.status,
      #by_id.postgresql.backups }, { nil, "http", 403, 0 }, "a failed Cluster.List")
   H.eq({ by_id["cmysql-0002"].error.status, #by_id["cmysql-0002"].backups }, { 500, 0 })
   H.eq({ by_id["cmysql-0005"].error.kind, #by_id["cmysql-0005"].backups }, { "json", 10 },
      "what arrived before the bad page is kept, and flagged")
   H.eq(by_id["cmysql-0005"].stats.items, 10)
end)

H.test("limit = 0: no backup asked for, yet every entry handed over with its stats and its with= parts", function()
   -- The backups listing asks for nothing and no page comes: the scan
   -- once never finished those entries (each and progress never called,
   -- plain entries without stats, no operations listed).
   local s = H.start_fake { "--generate", "engine=mysql,clusters=40,backups=3" }
   local c = H.client(s)
   local calls = 0
   local opts = { engine = "mysql", folder = FOLDER, limit = 0, concurrency = 4, with = { "operations" },
      progress = function() calls = calls + 1 end }
   local plain = c:scan(opts)
   H.eq(calls, 40, "progress after each cluster")
   local stream = streamed(c, opts)
   H.eq(#plain, 40)
   H.eq(sorted(stream), sorted(plain))
   for _, e in ipairs(plain) do
      H.eq({ #e.backups, e.stats.requests, e.stats.items, type(e.operations), e.error },
         { 0, 0, 0, "table", nil }, e.id)
   end
   local n = 0
   for _ in c:backups { engine = "mysql", cluster = "cmysql-0000", limit = 0 } do n = n + 1 end
   H.eq(n, 0, "the iterator alike")
   s.stop()
end)

H.test("clusters= and a refused connection stream the same entries too", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=4,backups=12" }
   local c = H.client(s, { page_size = 5 })
   local opts = { engine = "mongodb", clusters = { "cmongodb-0003", "cmongodb-0001", "nosuch" } }
   H.eq(sorted(streamed(c, opts)), sorted(c:scan(opts)))
   local down = require "mdb".client { endpoint = "http://127.0.0.1:1", token = "x", retries = 0 }
   local got = streamed(down, { engines = { "mysql", "redis" }, folder = FOLDER })
   H.eq(#got, 2, "one error entry per engine")
   for _, e in ipairs(got) do
      H.eq({ e.id, e.error.kind, #e.backups }, { nil, "network", 0 }, e.engine)
      H.eq(e.stats.items, 0)
   end
end)

H.test("entries arrive as listings complete, before the scan ends, in completion order", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=6,backups=4",
      "--fault", "path=cmysql-0000/;delay_ms=400;times=0" }
   local c = H.client(s)
   local order, progress = {}, {}
   c:scan { engine = "mysql", folder = FOLDER, concurrency = 6,
      each = function(e)
         order[#order + 1] = e.id
         H.eq(#progress, #order - 1, "each comes before progress for the same cluster")
      end,
      progress = function(p) progress[#progress + 1] = p.id end }
   H.eq(#order, 6)
   H.eq(order[6], "cmysql-0000", "the slow cluster comes last")
   H.eq(progress, order, "progress follows each, cluster by cluster")
   H.eq(c:scan { engine = "mysql", folder = FOLDER }[1].id, "cmysql-0000",
      "a plain scan keeps Cluster.List order")
end)

H.test("memory is let go between clusters: the Lua heap stays under a bound a retaining scan breaks", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=400,backups=200" }
   local c = H.client(s, { page_size = 100 })
   local BOUND = 8 * 1024   -- KiB over the heap before the scan; the fleet is ~50 MiB
   local function peak_over(retain)
      collectgarbage("collect")
      local base, peak, kept, n = collectgarbage("count"), 0, {}, 0
      c:scan { engine = "mysql", folder = FOLDER, concurrency = 4, each = function(e)
         n = n + #e.backups
         if retain then kept[#kept + 1] = e end
         peak = math.max(peak, collectgarbage("count") - base)
      end }
      H.eq(n, 80000, "every backup seen")
      return peak
   end
   local flat = peak_over(false)
   H.ok(flat < BOUND, string.format("streaming peak %.0f KiB < %d KiB", flat, BOUND))
   local retained = peak_over(true)
   H.ok(retained > BOUND, string.format("the bound catches a retaining consumer (%.0f KiB)", retained))
end)

H.test("running listings wait as raw text: at each call the Lua heap holds one cluster's backups", function()
   -- 16 listings of 20 pages run at once; until its last page comes a
   -- listing's pages are not decoded, so none of the other 15 clusters'
   -- backups are Lua values when `each` gets one cluster's 1,000.
   local s = H.start_fake { "--generate", "engine=mysql,clusters=48,backups=1000" }
   local c = H.client(s, { page_size = 50 })
   local function live_at_each(hold)
      collectgarbage("collect")
      local base, worst, n = collectgarbage("count"), 0, 0
      c:scan { engine = "mysql", folder = FOLDER, concurrency = 16, each = function(e)
         n = n + #e.backups
         if hold then hold[#hold + 1] = e end
         collectgarbage("collect")
         worst = math.max(worst, collectgarbage("count") - base)
         if hold then hold[#hold] = nil end
      end }
      H.eq(n, 48000, "every backup seen")
      return worst
   end
   local one = live_at_each(false)
   -- what two clusters' backups weigh
   collectgarbage("collect")
   local base, got = collectgarbage("count"), {}
   c:scan { engine = "mysql", clusters = { "cmysql-0000", "cmysql-0001" }, each = function(e) got[#got + 1] = e end }
   collectgarbage("collect")
   local pair = collectgarbage("count") - base
   H.eq(#got[1].backups + #got[2].backups, 2000)
   H.ok(one < pair, string.format("at each: %.0f KiB live, under two clusters' %.0f KiB", one, pair))
end)

H.test("an error raised by each ends the scan at once and passes through unchanged", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=40,backups=30" }
   local c = H.client(s, { page_size = 10 })
   local calls, progress = 0, 0
   local boom = { "a table error" }
   local ok, err = pcall(c.scan, c, { engine = "mysql", folder = FOLDER, concurrency = 2,
      progress = function() progress = progress + 1 end,
      each = function() calls = calls + 1; if calls == 3 then error(boom) end end })
   H.eq({ ok, err == boom }, { false, true }, "the callback's own error value")
   H.eq({ calls, progress }, { 3, 2 }, "nothing after the failing call")
   os.execute("sleep 0.3")   -- a request cut off is logged when the server is done with it
   local after = #H.requests(s)
   H.ok(after < 1 + 40 * 3, "the rest of the fleet was not listed: " .. after .. " requests")
   os.execute("sleep 0.3")
   H.eq(#H.requests(s), after, "no request goes on after the scan ended")
   -- a string error keeps its message; the client is still usable
   local e2 = H.raises(nil, c.scan, c, { engine = "mysql", folder = FOLDER,
      each = function() error("stop here") end })
   H.contains(tostring(e2), "stop here")
   H.eq(#c:scan { engine = "mysql", folder = FOLDER }, 40, "a scan after it works")
end)

H.test("a fleet of 10,000 clusters streams in bounded memory: clusters wait their turn", function()
   -- Each listing has a curl handle and buffers; they are made when the
   -- cluster's turn comes (concurrency at a time), not for the whole fleet
   -- at once (which took ~105 MiB here).  Measured in a child process: its
   -- peak RSS, under a bound.
   if os.getenv("ASAN_OPTIONS") then return end   -- ASan's quarantine holds freed memory
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=10000,backups=2" }
   local r = H.run({ "-e", [[
      local c = require "mdb".client { endpoint = os.getenv("EP"), token = os.getenv("TK") }
      local n = 0
      c:scan { engine = "mongodb", folder = "]] .. FOLDER .. [[", each = function(e) n = n + #e.backups end }
      local f = io.open("/proc/self/status")
      print(n, f:read("a"):match("VmHWM:%s*(%d+)"))
   ]] }, { env = { EP = s.url, TK = H.token } })
   H.eq(r.code, 0, r.stderr)
   local n, peak = r.stdout:match("^(%d+)\t(%d+)")
   H.eq(tonumber(n), 20000, "every backup")
   H.ok(tonumber(peak) < 64 * 1024, "peak RSS " .. peak .. " KiB < 64 MiB")
end)

H.test("a Cluster.List item without a usable id fails that engine's listing, in both modes", function()
   for _, bad in ipairs { '{"id":12345,"name":"n"}', '{"name":"no id"}', '{"id":""}' } do
      local data = H.data_file {
         { "cluster", "mysql", FOLDER, "c1", "one", { id = "c1", name = "one" } },
         { "cluster", "mysql", FOLDER, "c2", "two", bad },
         { "backup", "mysql", FOLDER, "c1", H.backup("b1", "c1", "2026-01-01T00:00:00Z") },
      }
      local s = H.start_fake { "--data", data }
      local c = H.client(s)
      local plain = c:scan { engine = "mysql", folder = FOLDER }
      H.eq(sorted(streamed(c, { engine = "mysql", folder = FOLDER })), sorted(plain), bad)
      H.eq(#plain, 2, "c1, then the error entry: " .. bad)
      H.eq({ plain[1].id, #plain[1].backups }, { "c1", 1 })
      H.eq({ plain[2].id, plain[2].error.kind }, { nil, "json" })
      H.contains(plain[2].error.message, "id")
   end
end)

H.test("one page consumer: the iterator, the scan and the streaming scan fail a listing alike", function()
   -- The same listing through the three: the same items before the
   -- failure, the same error kind and wording (a token cycle, an item that
   -- is not an object, a field of the wrong type, a body that is not JSON).
   local faults = { "offset=20;cycle_to=10", "offset=10;body={\"backups\":[1]}",
      "offset=10;body={\"backups\":[{\"id\":\"x\",\"createdAt\":7}]}", "offset=10;malformed=1" }
   for _, fault in ipairs(faults) do
      local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=40",
         "--fault", "path=cpostgresql-0000/backups;times=0;" .. fault }
      local c = H.client(s, { page_size = 10, retries = 0 })
      local got = {}
      local ok, err = pcall(function()
         for b in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do got[#got + 1] = b.id end
      end)
      H.eq(ok, false, fault)
      local want = { ids = got, kind = err.kind, message = err.message }
      local function as_seen(e)
         return { ids = H.ids(e.backups), kind = e.error and e.error.kind, message = e.error and e.error.message }
      end
      local opts = { engine = "postgresql", clusters = { "cpostgresql-0000" } }
      H.eq(as_seen(c:scan(opts)[1]), want, "scan: " .. fault)
      H.eq(as_seen(streamed(c, opts)[1]), want, "each: " .. fault)
      s.stop()
   end
end)

H.test("a page whose nextPageToken reads one way raw and another decoded fails the listing, never skips", function()
   -- A scan asks for the next page on the token read from the raw text (the
   -- page is decoded later); here that is the first of two members, and
   -- lua-cjson keeps the second.  Following the raw one would skip 10
   -- backups while the listing looked complete.
   local args = { "--generate", "engine=postgresql,clusters=1,backups=40" }
   local plain = H.start_fake(args)
   for _ in H.client(plain, { page_size = 10 }):backups { engine = "postgresql", cluster = "cpostgresql-0000" } do end
   local tok = {}
   for _, r in ipairs(H.requests(plain)) do
      local t = H.query_param(r.target, "pageToken")
      if t then tok[#tok + 1] = t end
   end
   H.eq(#tok, 3, "tokens of offsets 10, 20 and 30")
   local items = {}
   for i = 1, 10 do items[i] = json.encode(H.backup("x" .. i, "cpostgresql-0000", "2026-01-01T00:00:00Z")) end
   local body = string.format('{"nextPageToken":"%s","backups":[%s],"nextPageToken":"%s","z":1}',
      tok[3], table.concat(items, ","), tok[2])
   local s = H.start_fake { args[1], args[2], "--fault",
      "path=cpostgresql-0000/backups;offset=10;times=0;body=" .. body }
   local c = H.client(s, { page_size = 10, retries = 0 })
   local ids = {}
   for b in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do ids[#ids + 1] = b.id end
   H.eq(#ids, 40, "the iterator follows the decoded token")
   local opts = { engine = "postgresql", clusters = { "cpostgresql-0000" } }
   for mode, e in pairs { scan = c:scan(opts)[1], each = streamed(c, opts)[1] } do
      H.ok(e.error ~= nil, mode .. ": the listing failed")
      H.eq(e.error.kind, "json", mode)
      H.contains(e.error.message, "nextPageToken decodes differently from its raw text", mode)
      H.contains(e.error.url, "pageToken=" .. tok[1], mode .. ": the URL of the page at fault")
      H.eq(#e.backups, 10, mode .. ": the backups before that page")
   end
end)

H.test("each must be a function", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=1" }
   local c = H.client(s)
   local err = H.raises("argument", c.scan, c, { engine = "mysql", folder = FOLDER, each = true })
   H.eq(err.argument, "each")
   H.contains(err.message, "expected a function, got boolean")
   H.eq(#H.requests(s), 0, "no request was made")
end)

H.test("help(client.scan) tells of each and folders", function()
   local c = require "mdb".client { endpoint = "http://127.0.0.1:1", token = "x" }
   local text = require "mdb.help".text(true, c.scan)
   H.contains(text, "each              function(entry)")
   H.contains(text, "folders           instead of folder")
   H.contains(text, "cloud, all_clouds")
end)

-- ---- a scan's held pages (mdb_listing_hold_page) on every way a listing ends ----

local CL0 = "cpostgresql-0000"

-- The page tokens of a plain listing of `cluster` (offsets page_size,
-- 2 * page_size, ...).
local function page_tokens(args, cluster, page_size)
   local s = H.start_fake(args)
   for _ in H.client(s, { page_size = page_size }):backups { engine = "postgresql", cluster = cluster } do end
   local tok = {}
   for _, r in ipairs(H.requests(s)) do
      local t = H.query_param(r.target, "pageToken")
      if t then tok[#tok + 1] = t end
   end
   s.stop()
   return tok
end

-- A failed listing as the iterator leaves it: the ids it gave, the error
-- and its stats.  `exact` false leaves the message out (a timeout's names
-- the milliseconds it waited).
local function iterated(c, cluster, exact)
   local it = c:backups { engine = "postgresql", cluster = cluster }
   local ids = {}
   local ok, err = pcall(function() for b in it do ids[#ids + 1] = b.id end end)
   H.eq(ok, false, "the iterator fails")
   local st = it:stats()
   return { ids = ids, kind = err.kind, message = exact ~= false and err.message or nil, url = err.url,
      status = err.status, pages = st.pages, items = st.items, requests = st.requests, bytes = st.bytes,
      retries = st.retries, duplicates = st.duplicates }
end

-- The same of a scan's entry.
local function entry_seen(e, exact)
   local st, err = e.stats, e.error or {}
   return { ids = H.ids(e.backups), kind = err.kind, message = exact ~= false and err.message or nil, url = err.url,
      status = err.status, pages = st.pages, items = st.items, requests = st.requests, bytes = st.bytes,
      retries = st.retries, duplicates = st.duplicates }
end

-- The iterator, the scan and the streaming scan of CL0 end alike.  With
-- `more_traffic`, the scans may have made more requests (and received more
-- bytes) than the iterator, which they must report: pages fetched on a
-- held page's raw token before that page failed.
local function three_alike(c, what, exact, more_traffic)
   local want = iterated(c, CL0, exact)
   local opts = { engine = "postgresql", clusters = { CL0 } }
   for mode, e in pairs { scan = c:scan(opts)[1], each = streamed(c, opts)[1] } do
      local got = entry_seen(e, exact)
      if more_traffic then
         H.ok(got.requests >= want.requests and got.bytes >= want.bytes,
            string.format("%s: %s: %d requests, %d bytes, at least the iterator's %d, %d", mode, what,
               got.requests, got.bytes, want.requests, want.bytes))
         got.requests, got.bytes = want.requests, want.bytes
      end
      H.eq(got, want, mode .. ": " .. what)
   end
   return want
end

H.test("a held page that fails when decoded ends its listing as the iterator's: same backups, error and pages; every request counted", function()
   -- A scan decodes a held page only at its listing's end, after the pages
   -- fetched on its raw token.  Failing there, the entry must still say
   -- what taking the page at once said: the backups before the fault, its
   -- error (the page's URL) and the stats as of that page, not counting the
   -- pages fetched after it; its requests and bytes are all of them.
   local args = { "--generate", "engine=postgresql,clusters=1,backups=50" }
   local tok = page_tokens(args, CL0, 10)
   H.eq(#tok, 4, "tokens of offsets 10 to 40")
   local items = {}
   for i = 1, 10 do items[i] = json.encode(H.backup("x" .. i, CL0, "2026-01-01T00:00:00Z")) end
   local bad = { table.unpack(items) }
   bad[4] = '{"id":"bad","createdAt":7}'
   local bodies = {
      ["an item that is not a backup"] = string.format('{"backups":[%s],"nextPageToken":"%s"}',
         table.concat(bad, ","), tok[2]),
      ["an item that is not an object"] = string.format('{"backups":[1],"nextPageToken":"%s"}', tok[2]),
      ["backups not an array"] = string.format('{"backups":{"a":1},"nextPageToken":"%s"}', tok[2]),
      ["not JSON, its token readable"] = string.format('{"backups":[%s,"nextPageToken":"%s"}',
         table.concat(items, ","), tok[2]),
   }
   for what, body in pairs(bodies) do
      for _, later in ipairs { "", "path=" .. CL0 .. "/backups;offset=30;status=500;times=0" } do
         local function server()
            return H.start_fake { args[1], args[2], "--fault", "path=" .. CL0 .. "/backups;offset=10;times=0;body="
               .. body, "--fault", later ~= "" and later or "path=nothing;status=500" }
         end
         local s = server()
         local c = H.client(s, { page_size = 10, retries = 0 })
         local want = three_alike(c, what .. (later ~= "" and ", then a 500" or ""), true, true)
         H.eq({ want.kind, want.pages <= 2, want.requests }, { "json", true, 2 }, what .. ": as of page 2")
         s.stop()
         -- and the traffic it made, all of it: on a server of its own, whose
         -- log no request the scans before it cut off can reach late (the
         -- server logs a request when it gets to it, which on a loaded
         -- machine can be after the scan that sent it has moved on)
         local s2 = server()
         local e = H.client(s2, { page_size = 10, retries = 0 }):scan { engine = "postgresql", clusters = { CL0 } }[1]
         local t0 = H.now()
         while #H.requests(s2) < e.stats.requests and H.now() - t0 < 10 do os.execute("sleep 0.1") end
         H.eq(e.stats.requests, #H.requests(s2), what .. ": every request counted")
         H.contains(want.url, "pageToken=" .. tok[1], what)
         s2.stop()
      end
   end
end)

H.test("a listing whose pages are held and whose fetch then fails keeps the pages before it, as the iterator does", function()
   -- 5 pages; pages 1.. are held when a later one cannot be fetched: a 500
   -- (retries = 0), a 503 that outlasts 2 retries, a dropped connection,
   -- a token cycle, a timeout.  The held pages' backups stay in the entry
   -- with that fetch's error, and the stats are the iterator's.
   local args = { "--generate", "engine=postgresql,clusters=1,backups=50" }
   local cases = {
      { "offset=20;status=500", 0, 20, "http" },
      { "offset=30;status=503", 2, 30, "http" },
      { "offset=40;drop=1", 0, 40, "network" },
      { "offset=30;cycle_to=10", 0, 30, "cycle" },
      { "offset=20;cycle_to=20", 0, 20, "cycle" },
      { "offset=30;hang=1", 0, 30, "timeout" },
   }
   for _, case in ipairs(cases) do
      local fault, retries, kept, kind = table.unpack(case)
      local s = H.start_fake { args[1], args[2], "--fault", "path=" .. CL0 .. "/backups;times=0;" .. fault }
      -- (a timeout a loaded machine's ordinary page never reaches)
      local c = H.client(s, { page_size = 10, retries = retries, backoff_base = 0.001, timeout = 1.5 })
      local want = three_alike(c, fault, kind ~= "timeout")
      H.eq({ #want.ids, want.kind, want.retries }, { kept, kind, retries }, fault)
      s.stop()
   end
end)

H.test("held pages keep the repeat guard in page order: a repeat across a page boundary is skipped once", function()
   -- b10 and b20 come again at the top of the next page (the listing
   -- shifted while it was paged); a page in the middle has a token that
   -- cannot be read raw (an escape), so it is taken at once after the held
   -- pages before it, and the pages after it are held again.
   local recs, items = {}, {}
   local function add(i)
      local b = H.backup(string.format("b%02d", i), "c1", string.format("2026-01-%02dT00:00:00Z", 28 - i // 2))
      recs[#recs + 1] = { "backup", "mysql", FOLDER, "c1", b }
      items[#items + 1] = json.encode(b)
   end
   for i = 1, 48 do
      add(i)
      if i == 10 or i == 19 then add(i) end
   end
   local data = H.data_file(recs)
   local plain = H.start_fake { "--data", data }
   local c0 = H.client(plain, { page_size = 10 })
   local it = c0:backups { engine = "mysql", cluster = "c1" }
   local want = {}
   for b in it do want[#want + 1] = b.id end
   H.eq({ #want, it:stats().duplicates }, { 48, 2 }, "each id once")
   local tok = {}
   for _, r in ipairs(H.requests(plain)) do tok[#tok + 1] = H.query_param(r.target, "pageToken") end
   plain.stop()
   H.eq(#tok, 4, "tokens of offsets 10 to 40")
   -- page 3 (offset 20) with its token (offset 30) escaped
   local page3 = table.concat(items, ",", 21, 30)
   local esc = string.format("\\u%04x", tok[3]:byte(1)) .. tok[3]:sub(2)
   local s = H.start_fake { "--data", data, "--fault",
      "path=c1/backups;offset=20;times=0;body=" .. string.format('{"backups":[%s],"nextPageToken":"%s"}', page3, esc) }
   local c = H.client(s, { page_size = 10 })
   local opts = { engine = "mysql", clusters = { "c1" } }
   for mode, e in pairs { scan = c:scan(opts)[1], each = streamed(c, opts)[1] } do
      H.eq(e.error, nil, mode)
      H.eq(H.ids(e.backups), want, mode .. ": every backup once, in order")
      H.eq({ e.stats.duplicates, e.stats.items, e.stats.pages }, { 2, 48, 5 }, mode)
   end
end)

H.test("held pages with with= parts and folder policies: the parts follow a complete backups listing only", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=3,backups=35",
      "--fault", "path=cmysql-0001/backups;offset=20;status=500;times=0" }
   local c = H.client(s, { page_size = 10, retries = 0 })
   local opts = { engine = "mysql", folder = FOLDER, with = { "retention_policies", "operations" } }
   for mode, entries in pairs { scan = c:scan(opts), each = streamed(c, opts) } do
      table.sort(entries, function(a, b) return a.id < b.id end)
      H.eq(#entries, 3, mode)
      for _, e in ipairs(entries) do
         local want = {}
         for b in c:backups { engine = "mysql", cluster = e.id, limit = e.id == "cmysql-0001" and 20 or nil } do
            want[#want + 1] = b.id
         end
         H.eq(H.ids(e.backups), want, mode .. ": " .. e.id)
         if e.id == "cmysql-0001" then
            H.eq({ e.error.kind, e.error.status, e.policies, e.operations }, { "http", 500, nil, nil }, mode)
         else
            H.eq({ e.error, type(e.policies), type(e.operations), e.stats.pages }, { nil, "table", "table", 4 }, mode)
         end
      end
   end
end)

-- A child mdblua that scans 4 clusters whose last pages are slow, so the
-- other three hold pages when the first is delivered; `on_first` is Lua
-- run then.  Returns H.run's result.
local function scan_child(s, on_first)
   return H.run({ "-e", string.format([[
      local c = require "mdb".client { endpoint = %q, token = %q, page_size = 10, retries = 0 }
      local pid = io.open("/proc/self/stat"):read("a"):match("^%%d+")
      local n = 0
      c:scan { engine = "mysql", folder = %q, concurrency = 4, each = function(e)
         n = n + 1
         if n == 1 then %s end
      end }
      print("not reached")
   ]], s.url, H.token, FOLDER, on_first) })
end

H.test("an each that raises or a Ctrl-C while listings hold pages ends the scan at once, nothing leaked", function()
   -- Run in a child: under ASan (detect_leaks) a held page never freed is
   -- reported at its exit.
   local s = H.start_fake { "--generate", "engine=mysql,clusters=4,backups=50",
      "--fault", "path=cmysql-0001/backups;offset=40;delay_ms=1500;times=0",
      "--fault", "path=cmysql-0002/backups;offset=40;delay_ms=1500;times=0",
      "--fault", "path=cmysql-0003/backups;offset=40;delay_ms=1500;times=0" }
   local r = scan_child(s, 'error("stop at " .. e.id .. " " .. #e.backups)')
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "stop at cmysql-0000 50")
   H.not_contains(r.stderr, "Sanitizer")
   -- (io.popen: os.execute's system() ignores SIGINT while it waits)
   r = scan_child(s, 'io.popen("kill -INT " .. pid):close()')
   H.eq({ r.code, r.stdout }, { 130, "" }, r.stderr)
   H.contains(r.stderr, "interrupted")
   H.not_contains(r.stderr, "Sanitizer")
end)

H.test("a cloud scan's held listings end as the iterator's, a token cycle on a later page included", function()
   -- Folders learnt from Resource Manager; cpostgresql-0001's page 4 sends
   -- the token of page 2 again while pages 1 to 3 are held.
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=2,backups=50", "--cloud", "cl1=" .. FOLDER,
      "--fault", "path=cpostgresql-0001/backups;offset=30;cycle_to=10;times=0" }
   local c = H.client(s, { page_size = 10, retries = 0 })
   local opts = { engine = "postgresql", cloud = "cl1", resource_manager_endpoint = s.url }
   local whole = {}
   for b in c:backups { engine = "postgresql", cluster = CL0 } do whole[#whole + 1] = b.id end
   local cut = iterated(c, "cpostgresql-0001")
   H.eq({ #cut.ids, cut.kind }, { 30, "cycle" })
   for mode, entries in pairs { scan = c:scan(opts), each = streamed(c, opts) } do
      table.sort(entries, function(a, b) return a.id < b.id end)
      H.eq({ #entries, entries[1].cloud, entries[1].error }, { 2, "cl1", nil }, mode)
      H.eq({ H.ids(entries[1].backups), entries[1].stats.pages }, { whole, 5 }, mode .. ": " .. CL0)
      H.eq(entry_seen(entries[2]), cut, mode .. ": cpostgresql-0001")
   end
end)

H.test("an id sent again anywhere in a cluster's listing is taken once, the first copy, in every list a scan fills", function()
   -- Pages of 3 of c1's backups: [b1 b2 b1'] [b3 b4 b5] [b6 b2' b7] [b7' b8].
   -- b1' repeats in its own page and b2' two pages on: the repeat guard,
   -- which looks at a page's start for the previous page's ids, lets both
   -- through; b7' is the shift it catches.  A later copy has another size
   -- (and text): the first one stays.  c2 has its own b1.  Its policies
   -- and operations repeat the same way (policyId and id).
   local function text(id, cluster, size)
      return json.encode(H.backup(id, cluster, "2026-01-01T00:00:00Z", { size = size }))
   end
   local first, later = {}, {}
   local recs = {}
   local function backup(id, size)
      local t = text(id, "c1", size)
      if not first[id] then first[id] = t else later[#later + 1] = t end
      recs[#recs + 1] = { "backup", "mysql", FOLDER, "c1", t }
   end
   for _, b in ipairs { { "b1", "1" }, { "b2", "2" }, { "b1", "999" }, { "b3", "3" }, { "b4", "4" }, { "b5", "5" },
      { "b6", "6" }, { "b2", "999" }, { "b7", "7" }, { "b7", "999" }, { "b8", "8" } } do
      backup(b[1], b[2])
   end
   local c2 = { text("b1", "c2", "21"), text("x1", "c2", "22") }
   for _, t in ipairs(c2) do recs[#recs + 1] = { "backup", "mysql", FOLDER, "c2", t } end
   for _, p in ipairs { { "p1", "30" }, { "p2", "31" }, { "p1", "999" }, { "p3", "32" } } do
      recs[#recs + 1] = { "policy", "mysql", FOLDER, "c1", { policyId = p[1], clusterId = "c1",
         createdAt = "2026-01-02T03:04:05Z", retainForDays = p[2] } }
   end
   for _, o in ipairs { { "o1", "first" }, { "o2", "first" }, { "o3", "first" }, { "o4", "first" }, { "o1", "later" } } do
      recs[#recs + 1] = { "operation", "mysql", FOLDER, "c1", { id = o[1], description = o[2],
         createdAt = "2026-01-02T03:04:05Z", modifiedAt = "2026-01-02T03:04:05Z", done = true } }
   end
   for _, id in ipairs { "c1", "c2" } do
      recs[#recs + 1] = { "cluster", "mysql", FOLDER, id, "n-" .. id, { id = id, folderId = FOLDER, name = "n-" .. id } }
   end
   local s = H.start_fake { "--data", H.data_file(recs) }
   local c = H.client(s, { page_size = 3 })
   local want = { "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8" }
   local want_texts = {}
   for i, id in ipairs(want) do want_texts[i] = first[id] end
   H.eq(#later, 3)
   -- the iterator keeps flat memory and drops only the repeat at a page's start
   local it = c:backups { engine = "mysql", cluster = "c1" }
   H.eq(#H.collect(it), 10, "b7' skipped, b1' and b2' not")
   H.eq(it:stats().duplicates, 1)
   -- held pages (taken together at the listing's end) and, with a limit,
   -- pages taken one at a time: the ids of the pages before still count
   for _, limit in ipairs { false, 1000 } do
      local opts = { engine = "mysql", clusters = { "c1", "c2" }, backup_texts = true, limit = limit or nil,
         with = { "retention_policies", "operations" } }
      for mode, entries in pairs { scan = c:scan(opts), each = streamed(c, opts) } do
         local what = mode .. (limit and ", limit" or "")
         local e = H.by_id(entries)
         H.eq(H.ids(e.c1.backups), want, what .. ": each id once, in first order")
         for _, b in ipairs(e.c1.backups) do
            H.eq(b.size, tonumber(b.id:sub(2)), what .. ": the first copy of " .. b.id)
         end
         H.eq(e.c1.backup_texts, want_texts, what .. ": texts beside their backups, the first copies'")
         H.eq({ e.c1.stats.duplicates, e.c1.stats.items, e.c1.stats.pages }, { 3, 8, 4 }, what .. ": stats")
         H.eq({ H.ids(e.c2.backups), e.c2.backup_texts, e.c2.stats.duplicates }, { { "b1", "x1" }, c2, 0 },
            what .. ": another cluster's ids are its own")
         local pol = {}
         for i, p in ipairs(e.c1.policies) do pol[i] = p.policyId .. "=" .. p.retainForDays end
         H.eq(pol, { "p1=30", "p2=31", "p3=32" }, what .. ": policies")
         local ops = {}
         for i, o in ipairs(e.c1.operations) do ops[i] = o.id .. "=" .. o.description end
         H.eq(ops, { "o1=first", "o2=first", "o3=first", "o4=first" }, what .. ": operations")
      end
   end
end)

H.test("a policy a folder's policy listing sends twice is one policy of its cluster", function()
   -- MySQL lists a folder's policies at once (ListByFolder): p1 comes
   -- again two pages on, with another retention; the first copy stays.
   local recs = {}
   for _, p in ipairs { { "c1", "p1", "30" }, { "c2", "p2", "31" }, { "c1", "p3", "32" }, { "c1", "p1", "999" },
      { "c2", "p4", "33" } } do
      recs[#recs + 1] = { "policy", "mysql", FOLDER, p[1], { policyId = p[2], clusterId = p[1],
         createdAt = "2026-01-02T03:04:05Z", retainForDays = p[3] } }
   end
   for _, id in ipairs { "c1", "c2" } do
      recs[#recs + 1] = { "cluster", "mysql", FOLDER, id, "n-" .. id, { id = id, folderId = FOLDER, name = "n-" .. id } }
      recs[#recs + 1] = { "backup", "mysql", FOLDER, id, H.backup(id .. ":1", id, "2026-01-01T00:00:00Z") }
   end
   local s = H.start_fake { "--data", H.data_file(recs) }
   local c = H.client(s, { page_size = 2 })
   local opts = { engine = "mysql", folder = FOLDER, with = { "retention_policies" } }
   for mode, entries in pairs { scan = c:scan(opts), each = streamed(c, opts) } do
      local e = H.by_id(entries)
      local pol = {}
      for _, id in ipairs { "c1", "c2" } do
         for _, p in ipairs(e[id].policies) do pol[#pol + 1] = id .. ":" .. p.policyId .. "=" .. p.retainForDays end
      end
      H.eq(pol, { "c1:p1=30", "c1:p3=32", "c2:p2=31", "c2:p4=33" }, mode)
   end
   local by_folder = 0
   for _, r in ipairs(H.requests(s)) do
      if r.target:find("/folders/" .. FOLDER .. "/retention_policies", 1, true) then by_folder = by_folder + 1 end
   end
   H.ok(by_folder > 0, "listed by folder")
   s.stop()
end)

H.test("a cluster a Cluster.List sends twice is one entry, its backups listed once", function()
   local body = json.encode { clusters = {
      { id = "c1", folderId = FOLDER, name = "n1" }, { id = "c2", folderId = FOLDER, name = "n2" },
      { id = "c1", folderId = FOLDER, name = "n1 again" } } }
   local s = H.start_fake { "--data", H.data_file {
      { "cluster", "mysql", FOLDER, "c1", "n1", { id = "c1", folderId = FOLDER, name = "n1" } },
      { "cluster", "mysql", FOLDER, "c2", "n2", { id = "c2", folderId = FOLDER, name = "n2" } },
      { "backup", "mysql", FOLDER, "c1", H.backup("c1:1", "c1", "2026-01-01T00:00:00Z") } },
      "--fault", "path=/managed-mysql/v1/clusters?folderId;body=" .. body .. ";times=0" }
   local c = H.client(s)
   local opts = { engine = "mysql", folder = FOLDER }
   for what, entries in pairs { plain = c:scan(opts), streaming = streamed(c, opts) } do
      local ids = {}
      for _, e in ipairs(entries) do ids[#ids + 1] = e.id end
      table.sort(ids)
      H.deep_eq(ids, { "c1", "c2" }, what)
      for _, e in ipairs(entries) do
         if e.id == "c1" then
            H.eq(e.cluster.name, "n1", what .. ": the first copy")
            H.deep_eq(H.ids(e.backups), { "c1:1" }, what)
         end
      end
   end
   -- the backups of c1 were asked for once per scan
   local n = 0
   for _, r in ipairs(H.requests(s)) do if r.target:find("/clusters/c1/backups", 1, true) then n = n + 1 end end
   H.eq(n, 2, "one backups listing of c1 in each of the two scans")
   s.stop()
end)

H.test("a last page that says nextPageToken \"\" ends a held listing complete, with empty pages held on the way", function()
   -- `""` is read raw as an empty token: that page is not held but taken,
   -- with the held ones before it; an empty page with a new token is held
   -- like any other.
   local opts = { engine = "mysql", folder = FOLDER, concurrency = 3 }
   for _, mode in ipairs { "scan", "each" } do
      local s = H.start_fake { "--generate", "engine=mysql,clusters=3,backups=35", "--empty-last-token",
         "--fault", "path=cmysql-0001/backups;offset=20;empty=1;times=2" }
      local c = H.client(s, { page_size = 10 })
      local entries = mode == "scan" and c:scan(opts) or streamed(c, opts)
      table.sort(entries, function(a, b) return a.id < b.id end)
      for i, e in ipairs(entries) do
         local want = {}
         for k = 0, 34 do want[#want + 1] = string.format("%s:%06d", e.id, k) end
         H.eq({ e.error, H.ids(e.backups), e.stats.items }, { nil, want, 35 }, mode .. ": " .. e.id)
         H.eq(e.stats.pages, i == 2 and 6 or 4, mode .. ": " .. e.id .. " pages")
      end
      s.stop()
   end
end)

H.run_all()
