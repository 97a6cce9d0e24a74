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

H.run_all()
