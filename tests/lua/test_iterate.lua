-- Iteration promises: every backup exactly once, lazily, page after page,
-- for every engine and each of the three list calls; normalisation;
-- limit, page_token, :token(), :stats(), early break.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"

local FOLDER = "b1gfakefolder0000001"

-- Expected ids of a generated cluster: "PREFIX-NNNN:NNNNNN", newest first.
local function generated_ids(cluster, n)
   local out = {}
   for i = 0, n - 1 do out[#out + 1] = string.format("%s:%06d", cluster, i) end
   return out
end

H.test("every engine: cluster backups, folder backups and clusters, exactly once", function()
   local args = {}
   for _, e in ipairs(mdb.engines) do
      args[#args + 1] = "--generate"
      args[#args + 1] = "engine=" .. e .. ",clusters=2,backups=23"
   end
   local s = H.start_fake(args)
   local c = H.client(s, { page_size = 10 })
   for _, e in ipairs(mdb.engines) do
      local clusters = H.collect(c:clusters { engine = e, folder = FOLDER })
      H.eq(#clusters, 2, e .. " clusters")
      for _, cl in ipairs(clusters) do
         H.eq(cl.engine, e, "cluster engine")
         H.eq(math.type(cl.created), "float", "cluster created")
         local got = H.ids(H.collect(c:backups { engine = e, cluster = cl.id }))
         H.eq(got, generated_ids(cl.id, 23), e .. " backups of " .. cl.id)
      end
      local all = H.collect(c:backups { engine = e, folder = FOLDER })
      H.eq(#all, 46, e .. " folder backups")
      local seen = {}
      for _, b in ipairs(all) do
         H.ok(not seen[b.id], "backup " .. b.id .. " yielded twice")
         seen[b.id] = true
      end
   end
   -- the API paths per engine, SQL Server under /mdb/sqlserver/v1
   local prefixes = {}
   for _, r in ipairs(H.requests(s)) do prefixes[r.target:match("^(/[^/]+/[^/]+)/")] = true end
   for _, e in ipairs(mdb.engines) do
      local want = e == "sqlserver" and "/mdb/sqlserver" or ("/managed-" .. e .. "/v1")
      H.ok(prefixes[want], e .. " uses " .. want)
   end
end)

H.test("listings of one client used together: a nested loop, the newest of each, two in turn, a scan, each=", function()
   -- One client's engines share a connection pool: a second listing once
   -- waited for ever (no timeout) for the connection of the first one's
   -- prefetch, which nobody drives.  Each case runs in a child under a
   -- deadline, so a hang fails the test rather than the suite.
   local s = H.start_fake { "--generate", "engine=mysql,clusters=4,backups=250" }
   local cases = {
      nested = [[for cl in c:clusters { engine = "mysql", folder = F, page_size = 2 } do
            local n = 0
            for _ in c:backups { engine = "mysql", cluster = cl.id } do n = n + 1 end
            out[#out + 1] = n
         end]],
      newest = [[for i = 0, 3 do out[#out + 1] = c:backups { engine = "mysql", cluster = "cmysql-000" .. i, page_size = 100 }().id end]],
      in_turn = [[local a = c:backups { engine = "mysql", cluster = "cmysql-0000", page_size = 13 }
         local b = c:backups { engine = "mysql", cluster = "cmysql-0001", page_size = 13 }
         for _ = 1, 30 do out[#out + 1] = a().id; out[#out + 1] = b().id end
         out = { #out, out[60] }]],
      scan_after = [[local it = c:backups { engine = "mysql", cluster = "cmysql-0000", page_size = 10 }
         it()
         out[1] = #c:scan { engine = "mysql", clusters = { "cmysql-0001" }, concurrency = 1 }[1].backups]],
      in_each = [[c:scan { engine = "mysql", folder = F, concurrency = 2, page_size = 100, each = function(e)
            local n = 0
            for _ in c:backups { engine = "mysql", cluster = e.id, page_size = 50 } do n = n + 1 end
            out[#out + 1] = n
         end }]],
   }
   local want = { nested = "250 250 250 250", newest = "cmysql-0000:000000 cmysql-0001:000000 cmysql-0002:000000 cmysql-0003:000000",
      in_turn = "60 cmysql-0001:000029", scan_after = "250", in_each = "250 250 250 250" }
   for name, code in pairs(cases) do
      local prog = "local c = require('mdb').client { timeout = 3, retries = 0 }\nlocal F, out = "
         .. string.format("%q", FOLDER) .. ", {}\n" .. code .. "\nprint(table.concat(out, ' '))"
      local r = H.run({ "20", H.mdblua, "-e", prog }, { program = "timeout",
         env = { YC_MDB_ENDPOINT = s.url, YC_IAM_TOKEN = H.token } })
      H.eq({ r.code, r.stdout }, { 0, want[name] .. "\n" }, name .. ": " .. r.stderr)
   end
   s.stop()
end)

H.test("page sizes 1, 7, 100 (server default via 0) and 1000 see the same 250 backups", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=250" }
   local cluster = "cpostgresql-0000"
   local want = generated_ids(cluster, 250)
   for _, ps in ipairs { 1, 7, 0, 1000 } do
      local c = H.client(s, { page_size = ps })
      local it = c:backups { engine = "postgresql", cluster = cluster }
      H.eq(H.ids(H.collect(it)), want, "page_size " .. ps)
      local expect_pages = ({ [1] = 250, [7] = 36, [0] = 3, [1000] = 1 })[ps]
      H.eq(it:stats().pages, expect_pages, "pages at page_size " .. ps)
   end
   -- pageSize is always sent, within 0..1000
   for _, r in ipairs(H.requests(s)) do
      local ps = tonumber(H.query_param(r.target, "pageSize"))
      H.ok(ps and ps >= 0 and ps <= 1000, "pageSize sent in range: " .. r.target)
   end
end)

H.test("lazy and at most one page ahead: nothing before the first call, then one prefetch", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=50" }
   local c = H.client(s, { page_size = 10 })
   local it = c:backups { engine = "mysql", cluster = "cmysql-0000" }
   os.execute("sleep 0.2")
   H.eq(#H.requests(s), 0, "no request before the first call")
   -- The requests logged once the server has logged `want` of them (a
   -- prefetch goes on in the background, and the server logs a request
   -- when it gets to it: late on a loaded machine) and 0.2 s more have
   -- passed, in which one request too many would show.
   local function settle(want)
      local t0 = H.now()
      while #H.requests(s) < want and H.now() - t0 < 10 do os.execute("sleep 0.05") end
      os.execute("sleep 0.2")
      return #H.requests(s)
   end
   it()
   H.eq(settle(2), 2, "the first page and a prefetch of the second")
   for _ = 2, 10 do it() end
   H.eq(settle(2), 2, "no further page while the first is consumed")
   it()
   H.eq(settle(3), 3, "the 11th item: page 3 is prefetched")
   H.eq(#H.collect(it), 39, "the rest")
   H.eq(settle(5), 5, "exactly 5 requests for 50 items")
end)

H.test("normalisation: int64 strings to integers, times to Unix seconds, engine, unknown fields kept", function()
   local data = H.data_file {
      { "backup", "mongodb", "f1", "c1", {
         id = "b1", folderId = "f1", sourceClusterId = "c1",
         createdAt = "2026-11-23T10:00:00.5Z", startedAt = "2026-11-23T12:00:00+03:00",
         size = "9007199254740993", journalSize = 42, type = "AUTOMATED",
         sourceShardNames = { "rs01", "rs02" }, brandNewField = { nested = true },
      } },
      { "backup", "opensearch", "f1", "c2", {
         id = "b2", createdAt = "2026-01-01T00:00:00Z", sizeBytes = "1", indicesTotal = "7",
         incrementalSizeBytes = "2", totalSizeBytes = "3", freeSpaceRequiredBytes = "-4",
      } },
      { "backup", "sqlserver", "f1", "c3", { id = "b3", databases = { "db1" },
         createdAt = "2026-01-01T00:00:00.123456789Z" } },
   }
   local s = H.start_fake { "--data", data }
   local c = H.client(s)
   local b = H.collect(c:backups { engine = "mongodb", cluster = "c1" })[1]
   H.eq(b.size, 9007199254740993, "size beyond 2^53 stays exact")
   H.eq(math.type(b.size), "integer", "size is an integer")
   H.eq(b.journalSize, 42, "a JSON number is accepted")
   H.eq(math.type(b.journalSize), "integer", "journalSize integer")
   H.eq(b.created, 1795428000.5, "created")
   H.eq(b.started, 1795424400.0, "started with a +03:00 offset")
   H.eq(b.createdAt, "2026-11-23T10:00:00.5Z", "API field kept")
   H.eq(b.engine, "mongodb", "engine")
   H.eq(b.sourceShardNames, { "rs01", "rs02" }, "arrays kept")
   H.eq(b.brandNewField, { nested = true }, "unknown fields pass through")
   local o = H.collect(c:backups { engine = "opensearch", cluster = "c2" })[1]
   H.eq({ o.sizeBytes, o.indicesTotal, o.incrementalSizeBytes, o.totalSizeBytes, o.freeSpaceRequiredBytes },
      { 1, 7, 2, 3, -4 }, "opensearch int64 fields")
   H.eq(o.started, nil, "absent startedAt gives no started")
   local q = H.collect(c:backups { engine = "sqlserver", cluster = "c3" })[1]
   H.eq(q.databases, { "db1" }, "sqlserver databases")
   H.eq(q.created, 1767225600.123456789, "nanosecond fraction")
end)

H.test("limit: stops after N and the last request asks only for what is needed", function()
   local s = H.start_fake { "--generate", "engine=clickhouse,clusters=1,backups=100" }
   local c = H.client(s, { page_size = 10 })
   local it = c:backups { engine = "clickhouse", cluster = "cclickhouse-0000", limit = 25 }
   local got = H.ids(H.collect(it))
   H.eq(#got, 25, "25 items")
   local sizes = {}
   for _, r in ipairs(H.requests(s)) do sizes[#sizes + 1] = tonumber(H.query_param(r.target, "pageSize")) end
   H.eq(sizes, { 10, 10, 5 }, "page sizes requested")
   -- resuming from :token() continues exactly after the 25th
   local tok = it:token()
   H.ok(type(tok) == "string" and tok ~= "", "a resume token after a limit")
   local rest = H.ids(H.collect(c:backups { engine = "clickhouse", cluster = "cclickhouse-0000", page_token = tok }))
   H.eq(#rest, 75, "the remaining 75")
   local all = generated_ids("cclickhouse-0000", 100)
   for i = 1, 75 do H.eq(rest[i], all[25 + i]) end
   H.eq(#H.collect(c:backups { engine = "clickhouse", cluster = "cclickhouse-0000", limit = 0 }), 0, "limit 0")
end)

H.test("token(): '' before the start, the page token mid-page, nil when finished", function()
   local s = H.start_fake { "--generate", "engine=redis,clusters=1,backups=15" }
   local c = H.client(s, { page_size = 10 })
   local it = c:backups { engine = "redis", cluster = "credis-0000" }
   H.eq(it:token(), "", "before the first page")
   it()
   H.eq(it:token(), "", "mid first page: restart from the beginning")
   for _ = 2, 10 do it() end
   local t2 = it:token()
   H.ok(t2 ~= "", "after the first page: its next token")
   it()
   H.eq(it:token(), t2, "mid second page: that page's token")
   for _ = 12, 15 do it() end
   H.eq(it(), nil, "end")
   H.eq(it:token(), nil, "finished")
   H.eq(it(), nil, "calling again after the end stays nil")
end)

H.test("stats(): pages, items, retries, requests, bytes", function()
   local s = H.start_fake { "--generate", "engine=greenplum,clusters=1,backups=20",
      "--fault", "offset=10;status=503" }
   local c = H.client(s, { page_size = 10 })
   local it = c:backups { engine = "greenplum", cluster = "cgreenplum-0000" }
   H.collect(it)
   local st = it:stats()
   H.eq({ st.pages, st.items, st.retries, st.requests }, { 2, 20, 1, 3 }, "counts")
   H.ok(st.bytes > 2000, "bytes counted: " .. st.bytes)
end)

H.test("break closes the iterator (to-be-closed) and releases it", function()
   local s = H.start_fake { "--generate", "engine=spqr,clusters=1,backups=50" }
   local c = H.client(s, { page_size = 10 })
   local it = c:backups { engine = "spqr", cluster = "cspqr-0000" }
   local n = 0
   for _ in it, nil, nil, it do
      n = n + 1
      if n == 3 then break end
   end
   H.eq(n, 3)
   local err = H.raises(nil, it)
   H.contains(tostring(err), "closed iterator")
   H.eq(it:stats().items, 3, "stats survive closing")
   H.eq(it:token(), "", "resume token survives closing")
   -- the four values of the generic for: it, nil, nil, it
   local a, b2, c2, d = c:backups { engine = "spqr", cluster = "cspqr-0000" }
   H.ok(a == d and b2 == nil and c2 == nil, "returns it, nil, nil, it")
end)

H.test("empty pages that carry a token are followed", function()
   local s = H.start_fake { "--generate", "engine=mongodb,clusters=1,backups=30",
      "--fault", "offset=0;empty=1", "--fault", "offset=10;empty=1;times=3" }
   local c = H.client(s, { page_size = 10 })
   local it = c:backups { engine = "mongodb", cluster = "cmongodb-0000" }
   H.eq(H.ids(H.collect(it)), generated_ids("cmongodb-0000", 30))
   H.eq(it:stats().pages, 7, "3 real pages and 4 empty ones")
end)

H.test("an empty last token ('') ends the listing like an absent one", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=12", "--empty-last-token" }
   local c = H.client(s, { page_size = 5 })
   local it = c:backups { engine = "mysql", cluster = "cmysql-0000" }
   H.eq(#H.collect(it), 12)
   H.eq(it:stats().pages, 3)
end)

H.test("a repeated page token (cycle of length 1, 2 and 4) raises kind 'cycle'", function()
   for _, case in ipairs { { at = 10, to = 10 }, { at = 20, to = 10 }, { at = 40, to = 10 } } do
      local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=100",
         "--fault", string.format("offset=%d;cycle_to=%d", case.at, case.to) }
      local c = H.client(s, { page_size = 10 })
      local it = c:backups { engine = "postgresql", cluster = "cpostgresql-0000" }
      local seen, n = {}, 0
      local err = H.raises("cycle", function()
         for b in it do
            H.ok(not seen[b.id], "no backup twice before the cycle is caught: " .. b.id)
            seen[b.id] = true
            n = n + 1
         end
      end)
      H.contains(err.message, "repeated page token")
      -- the page that carries the repeated token is the one that fails
      H.eq(n, case.at, "items before the cycle")
      s.stop()
   end
end)

-- A mysql cluster whose listing serves `ids` in pages of 2, as a listing
-- that shifted while paged would: the iterator and the scan must both
-- yield `want`, skipping `dups` repeats over `pages` pages.
local function check_shifted(ids, want, dups, pages)
   local recs = {}
   for _, id in ipairs(ids) do
      recs[#recs + 1] = { "backup", "mysql", "f1", "c1", H.backup(id, "c1", "2026-01-01T00:00:00Z") }
   end
   local s = H.start_fake { "--data", H.data_file(recs) }
   local c = H.client(s, { page_size = 2 })
   local it = c:backups { engine = "mysql", cluster = "c1" }
   H.eq(H.ids(H.collect(it)), want)
   H.eq({ it:stats().duplicates, it:stats().items, it:stats().pages }, { dups, #want, pages })
   local res = c:scan { engine = "mysql", clusters = { "c1" } }
   H.eq(H.ids(res[1].backups), want, "scan")
   H.eq(res[1].stats.duplicates, dups, "scan counts them too")
   s.stop()
end

H.test("a listing that shifts while paged: a backup repeated on the next page is yielded once", function()
   -- [b1 b2] [b2 b3] [b3 b4] [b5]: a new backup pushed each page's last
   -- item onto the next page
   check_shifted({ "b1", "b2", "b2", "b3", "b3", "b4", "b5" }, { "b1", "b2", "b3", "b4", "b5" }, 2, 4)
end)

H.test("a shift of a whole page: a page of nothing but repeats still guards the next", function()
   -- [b1 b2] [b1 b2] [b1 b2] [b3]: two new backups arrived before each of
   -- the next two pages
   check_shifted({ "b1", "b2", "b1", "b2", "b1", "b2", "b3" }, { "b1", "b2", "b3" }, 4, 4)
end)

H.test("ids and tokens are URL-encoded", function()
   local weird = "c/1?&=+%é;x"
   local data = H.data_file {
      { "backup", "mongodb", "f1", weird, H.backup("x1", weird, "2026-01-02T00:00:00Z") },
      { "backup", "mongodb", "f1", weird, H.backup("x2", weird, "2026-01-01T00:00:00Z") },
   }
   local s = H.start_fake { "--data", data }
   local c = H.client(s, { page_size = 1 })
   H.eq(H.ids(H.collect(c:backups { engine = "mongodb", cluster = weird })), { "x1", "x2" })
   local reqs = H.requests(s)
   H.eq(reqs[1].target:match("^/managed%-mongodb/v1/clusters/([^/]*)/backups"),
      "c%2F1%3F%26%3D%2B%25%C3%A9%3Bx", "cluster id escaped in the path")
   local tok = H.query_param(reqs[2].target, "pageToken")
   H.ok(tok and not tok:find("[^%w%-%._~%%]"), "page token escaped: " .. tostring(tok))
end)

H.test("clusters{}: the filter is URL-encoded, sent and applied", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=3,backups=1" }
   local c = H.client(s)
   local got = H.collect(c:clusters { engine = "mysql", folder = FOLDER, filter = 'name="mysql-0001"' })
   H.eq(H.ids(got), { "cmysql-0001" })
   local r = H.requests(s)[1]
   H.eq(H.query_param(r.target, "filter"), "name%3D%22mysql-0001%22")
end)

H.run_all()
