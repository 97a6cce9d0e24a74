-- Retry promises: 429/500/502/503/504 and connection failures/timeouts are
-- retried on the same page token with backoff, honouring Retry-After;
-- items already yielded are never yielded again; after `retries` retries
-- the error carries the last status.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local CLUSTER = "cpostgresql-0000"
local function ids(n)
   local out = {}
   for i = 0, n - 1 do out[#out + 1] = string.format("%s:%06d", CLUSTER, i) end
   return out
end

local function listing(s, opts)
   local c = H.client(s, opts or { page_size = 10 })
   return c:backups { engine = "postgresql", cluster = CLUSTER }
end

H.test("every retryable status is retried on the same page token, nothing repeated", function()
   for _, status in ipairs { 429, 500, 502, 503, 504 } do
      local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=30",
         "--fault", "offset=10;status=" .. status .. ";times=2" }
      local it = listing(s)
      H.eq(H.ids(H.collect(it)), ids(30), "status " .. status)
      H.eq(it:stats().retries, 2)
      local reqs = H.requests(s)
      H.eq(#reqs, 5, "3 pages + 2 retries")
      H.eq(reqs[2].status, status)
      H.eq(reqs[2].target, reqs[3].target, "retried with the same URL")
      H.eq(reqs[3].target, reqs[4].target, "and again")
      s.stop()
   end
end)

H.test("non-retryable statuses are not retried", function()
   for _, status in ipairs { 400, 403, 404, 501 } do
      local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=30",
         "--fault", "offset=10;status=" .. status }
      local it = listing(s)
      local n = 0
      local err = H.raises("http", function() for _ in it do n = n + 1 end end)
      H.eq({ err.status, err.attempts, n }, { status, 1, 10 }, "status " .. status)
      s.stop()
   end
end)

H.test("Retry-After is honoured", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=5",
      "--fault", "status=429;retry_after=1" }
   -- os.time() has whole seconds: start just after a second boundary, so a
   -- wait of 1 s shows as a difference of at least 1 (backoff alone, 10 ms,
   -- would show 0).
   local t = os.time()
   while os.time() == t do end
   local t0 = os.time()
   local it = listing(s)
   H.eq(#H.collect(it), 5)
   H.ok(os.time() - t0 >= 1, "waited the second the server asked for")
   H.eq(it:stats().retries, 1)
end)

H.test("a Retry-After longer than backoff_max fails at once with the status", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=5",
      "--fault", "status=429;retry_after=3600;times=0" }
   local it = listing(s, { backoff_max = 2 })
   local err = H.raises("http", it)
   H.eq(err.status, 429)
   H.eq(err.attempts, 1)
   H.contains(err.message, "The request limit exceeded.; the server asked to retry after 3600 s, longer than backoff_max (2 s)")
end)

H.test("after `retries` retries the last status is raised", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=30",
      "--fault", "offset=10;status=503;times=0" }
   local it = listing(s, { page_size = 10, retries = 3 })
   local n = 0
   local err = H.raises("http", function() for _ in it do n = n + 1 end end)
   H.eq({ err.status, err.code, err.attempts, n }, { 503, 14, 4, 10 })
   H.eq(#H.requests(s), 5, "1 page + 4 attempts")
   H.contains(tostring(err), "4 attempts")
   -- the resume token points at the page that failed
   local tok = it:token()
   H.ok(tok ~= nil and tok ~= "", "resume token after failure")
end)

H.test("retries = 0 makes exactly one attempt", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=5",
      "--fault", "status=500" }
   local err = H.raises("http", listing(s, { retries = 0 }))
   H.eq(err.attempts, 1)
end)

H.test("a truncated body and a dropped connection are retried", function()
   -- (a drop on a reused connection is retried inside libcurl, so the drop
   -- comes on the first request, over a fresh connection)
   for _, fault in ipairs { "offset=20;truncate=100", "offset=0;drop=1" } do
      local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=30",
         "--fault", fault }
      local it = listing(s)
      H.eq(H.ids(H.collect(it)), ids(30), fault)
      H.eq(it:stats().retries, 1, fault)
      s.stop()
   end
end)

H.test("a slow response hits the timeout (kind 'timeout') and is retried", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=30",
      "--fault", "offset=10;delay_ms=3000" }
   local it = listing(s, { page_size = 10, timeout = 0.5 })
   H.eq(H.ids(H.collect(it)), ids(30))
   H.eq(it:stats().retries, 1)
   local s2 = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=30",
      "--fault", "delay_ms=3000;times=0" }
   local err = H.raises("timeout", listing(s2, { timeout = 0.3, retries = 1 }))
   H.eq(err.attempts, 2)
end)

H.test("a 429 storm across many pages still yields each backup once", function()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=200",
      "--fault", "status=429;skip=1;times=20" }
   local it = listing(s, { page_size = 7, retries = 25 })
   H.eq(H.ids(H.collect(it)), ids(200))
end)

H.run_all()
