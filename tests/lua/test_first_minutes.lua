-- What an SRE meets in the first minutes with the scripts, end to end
-- through the real mdblua against the fake API: a rejected token is one
-- line naming the engines and what to do, not one per engine; a Nagios
-- line puts the worst problem first; changes.lua --since says when the
-- history is younger than asked; the progress line of a scan whose
-- listings all fail names no cluster; a --keep-* of 0 is a usage error.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local FOLDER = "b1gfakefolder0000001"
local NOW = "2026-12-01T12:00:00Z"

local function lines_of(s)
   local out = {}
   for l in s:gmatch("[^\n]+") do out[#out + 1] = l end
   return out
end

-- scripts/NAME with `args` against `server` (the test token unless `token`).
local function script(name, args, server, token)
   return H.run(H.with({ H.script(name) }, table.unpack(args)),
      { env = H.script_env(server, FOLDER, { YC_IAM_TOKEN = token or H.token }) })
end

---------------------------------------------------------------------------
-- 1. the same failure on every engine: one line

H.test("a rejected token: one line naming every engine, with what to do; exit codes as before", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=2,backups=3" }
   local token = "t1.WRONG-secret-token-" .. os.time()
   for _, c in ipairs { { "audit.lua", 2 }, { "inventory.lua", 2 }, { "freshness.lua", 3 },
      { "retention-plan.lua", 2, { "--keep-daily", "7" } }, { "snapshot.lua", 2, { "--db", H.tmpname(".db") } } } do
      local r = script(c[1], H.with(c[3] or {}, "--folder", FOLDER), s, token)
      local what = c[1] .. ":\n" .. r.stderr
      H.eq(r.code, c[2], "exit status of " .. what)
      local lines = lines_of(r.stderr)
      if c[1] == "snapshot.lua" then
         H.contains(table.remove(lines), ": 0 clusters, 0 backups, 10 failed listings", what)
      end
      H.eq(#lines, 1, "one line: " .. what)
      local head = c[1] .. ": clusters of every engine (10): http error: Token is invalid or has expired."
      H.eq(lines[1]:sub(1, #head), head, what)
      H.contains(lines[1], "(HTTP 401 UNAUTHENTICATED); the API rejected the token: get a new one", what)
      H.contains(lines[1], "yc iam create-token", what)
      H.not_contains(lines[1], "request id", what)
      H.not_contains(r.stdout .. r.stderr, token, what)
   end
end)

H.test("a rejected token: json, jsonl and nagios still carry each engine's failure in full", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=2,backups=3" }
   local token = "t1.WRONG-secret-token-" .. os.time()
   local j = script("audit.lua", { "--format", "json" }, s, token)
   H.eq(j.code, 2, j.stderr)
   H.eq(#lines_of(j.stderr), 1, j.stderr)
   local engines = {}
   for _, f in ipairs(cjson.decode(j.stdout).findings) do
      H.eq(f.check, "listing")
      H.contains(f.message, "(HTTP 401 UNAUTHENTICATED, request id fake-req-", f.engine)
      engines[#engines + 1] = f.engine
   end
   H.eq(#engines, 10, "one finding per engine")
   local l = script("audit.lua", { "--format", "jsonl" }, s, token)
   H.eq(l.code, 2, l.stderr)
   local n = 0
   for line in l.stdout:gmatch("[^\n]+") do
      local f = cjson.decode(line)
      if f.check == "listing" then
         n = n + 1
         H.contains(f.message, "request id fake-req-", line)
      end
   end
   H.eq(n, 10, "one jsonl record per engine")
   local g = script("audit.lua", { "--format", "nagios" }, s, token)
   H.eq(g.code, 3, g.stderr)
   H.eq(#lines_of(g.stderr), 1, g.stderr)
   H.contains(g.stdout, "MDB BACKUP AUDIT UNKNOWN", g.stdout)
end)

H.test("different reasons stay different lines; the same reason on some engines names them", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=3",
      "--generate", "engine=redis,clusters=1,backups=3",
      "--fault", "path=/managed-mysql/v1/clusters?;status=403;times=0",
      "--fault", "path=/managed-postgresql/v1/clusters?;status=403;times=0",
      "--fault", "path=/managed-mongodb/v1/clusters?;status=404;times=0" }
   local r = script("inventory.lua", { "--engine", "mongodb", "--engine", "mysql", "--engine", "redis",
      "--engine", "postgresql" }, s)
   H.eq(r.code, 2, r.stderr)
   local lines = lines_of(r.stderr)
   H.eq(#lines, 2, r.stderr)
   -- in the scan's order: mongodb's failure first; one engine keeps its whole line
   H.ok(lines[1]:match("^inventory%.lua: mongodb clusters: http error: .*HTTP 404.*request id fake%-req%-"), r.stderr)
   H.ok(lines[2]:match("^inventory%.lua: clusters of mysql, postgresql: http error: Permission denied"
      .. " %(HTTP 403 PERMISSION_DENIED%)$"), r.stderr)
   H.not_contains(r.stderr, "rejected the token", "no 401")
   -- the report body still lists each failed listing
   H.contains(r.stdout, "\n  mysql clusters: http error: Permission denied (HTTP 403", r.stdout)
   H.contains(r.stdout, "\n  postgresql clusters: http error: Permission denied (HTTP 403", r.stdout)
   H.contains(r.stdout, "credis-0000", r.stdout)
end)

---------------------------------------------------------------------------
-- 2. freshness --format nagios: the worst problem first

H.test("freshness nagios: CRITICAL before WARNING before a failed listing, each in scan order", function()
   local s = H.start_fake { "--now", NOW,
      "--generate", "engine=mysql,clusters=1,backups=3,start=2026-11-30T06:00:00Z",        -- 30h: warning
      "--generate", "engine=redis,clusters=1,backups=3,start=2026-11-29T00:00:00Z",        -- 60h: critical
      "--generate", "engine=mongodb,clusters=1,backups=3,start=2026-11-29T20:00:00Z",      -- 40h: warning
      "--generate", "engine=clickhouse,clusters=1,backups=3,start=2026-11-29T05:00:00Z",   -- 55h: critical
      "--fault", "path=/managed-postgresql/v1/clusters?;status=403;times=0" }
   local r = script("freshness.lua", { "--format", "nagios", "--now", NOW, "--engine", "postgresql",
      "--engine", "mysql", "--engine", "redis", "--engine", "mongodb", "--engine", "clickhouse" }, s)
   H.eq(r.code, 2, "CRITICAL: " .. r.stdout .. r.stderr)
   local line = r.stdout:match("^MDB BACKUP FRESHNESS CRITICAL %- ([^|]*) | ")
   H.ok(line, r.stdout)
   H.eq(line, "redis/redis-0000 2d 12h old, clickhouse/clickhouse-0000 2d 7h old, "
      .. "mysql/mysql-0000 1d 6h old, mongodb/mongodb-0000 1d 16h old, postgresql listing failed")
end)

---------------------------------------------------------------------------
-- 3. changes.lua --since further back than the history

H.test("changes --since before the first scan: a note naming the first scan, exit status unchanged", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=3,start=2026-11-30T00:00:00Z" }
   local db = H.tmpname(".db")
   H.eq(script("snapshot.lua", { "--db", db, "--engine", "mysql", "--now", "2026-12-01T10:00:00Z" }, s).code, 0)
   H.eq(script("snapshot.lua", { "--db", db, "--engine", "mysql", "--now", NOW }, s).code, 0)
   local from1 = H.run({ H.script("changes.lua"), "--db", db, "--from", "1" })
   local late = H.run({ H.script("changes.lua"), "--db", db, "--since", "7d" })
   H.eq(late.code, from1.code, late.stderr)
   H.eq(late.stdout, from1.stdout, "compared from the first scan")
   H.eq(late.stderr, "changes.lua: --since 7d asks for a scan at or before 2026-11-24T12:00:00Z, but the history in "
      .. db .. " starts at 2026-12-01T10:00:00Z (scan 1): compared from that first scan\n")
   local covered = H.run({ H.script("changes.lua"), "--db", db, "--since", "1h" })
   H.eq(covered.code, from1.code, covered.stderr)
   H.eq(covered.stderr, "", "the history covers --since 1h: no note")
   H.eq(covered.stdout, from1.stdout)
end)

---------------------------------------------------------------------------
-- 4. the progress line while every listing fails

H.test("every listing refused: the progress line names no cluster and is cleared before the failures", function()
   local r = H.pty({ "wait" }, { YC_MDB_ENDPOINT = "http://127.0.0.1:9", YC_IAM_TOKEN = H.token, TERM = "xterm" },
      { args = { H.script("audit.lua"), "--folder", FOLDER, "--engine", "spqr", "--format", "json" }, timeout = 60 })
   H.eq(r.code, 2, r.out)
   H.contains(r.out, "scanning 1/1: listing spqr clusters failed", r.out)
   H.ok(not r.out:find("scanning %d+/%d+ spqr"), "no engine where a cluster would be: " .. r.out)
   local last = select(2, r.out:find(".*scanning"))
   local fail = r.out:find("audit.lua: spqr clusters: network error: ", 1, true)
   H.ok(fail and fail > last, "the failure after the progress: " .. r.out)
   H.contains(r.out:sub(last, fail - 1), "\27[K", "the line cleared before the failure")
end)

---------------------------------------------------------------------------
-- 5. retention-plan: a keep value of 0

H.test("retention-plan --keep-last 0 and friends: a usage error naming the flag, nothing listed", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=3" }
   H.write_file(s.log, "")
   local help = "try 'mdblua " .. H.script("retention-plan.lua") .. " --help'\n"
   local count = "expected a whole number of at least 1 or \"unlimited\" (0 only with --policy, to turn its rule off)"
   for _, c in ipairs {
      { { "--keep-last", "0" }, "option '--keep-last': " .. count .. ", got 0" },
      { { "--keep-daily", "7", "--keep-last", "0" }, "option '--keep-last': " .. count .. ", got 0" },
      { { "--keep-weekly", "-1" }, "option '--keep-weekly': " .. count .. ", got -1" },
      { { "--keep-within", "0d" }, "option '--keep-within': expected a duration above zero like 7d or 1y2m"
         .. " (0d only with --policy, to turn its rule off), got 0d" },
   } do
      local r = script("retention-plan.lua", H.with(c[1], "--engine", "mysql"), s)
      local what = table.concat(c[1], " ")
      H.eq(r.code, 2, what)
      H.eq(r.stderr, "retention-plan.lua: " .. c[2] .. "\n" .. help, what)
      H.eq(r.stdout, "", what)
   end
   H.eq(#H.requests(s), 0, "a usage error asks the API nothing")
   -- over a policy's rule, 0 turns it off
   local policy = H.write_file(H.tmpname(".lua"), "return { retention = { last = 2, daily = 7 } }\n")
   local p = script("retention-plan.lua", { "--policy", policy, "--keep-daily", "0", "--engine", "mysql" }, s)
   H.eq(p.code, 0, p.stderr)
   H.contains(p.stdout, "(keep 2 latest snapshots)", p.stdout)
end)

H.test("a rejected token ending a one-listing script: its line ends with what to do; another error without", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=3" }
   local token = "t1.WRONG-secret-token-" .. os.time()
   local r = script("list-backups.lua", { "--engine", "mysql", "--cluster", "cmysql-0000" }, s, token)
   H.eq(r.code, 2, r.stderr)
   local lines = lines_of(r.stderr)
   H.eq(#lines, 1, r.stderr)
   H.contains(lines[1], "(HTTP 401 UNAUTHENTICATED", r.stderr)
   H.contains(lines[1], "; the API rejected the token: get a new one", r.stderr)
   H.not_contains(r.stdout .. r.stderr, token, r.stderr)
   -- the same script failing for another reason: no advice about tokens
   local g = script("list-backups.lua", { "--engine", "mysql", "--cluster", "cmysql-0404" }, s)
   H.eq(g.code, 2, g.stderr)
   H.contains(g.stderr, "HTTP 404", g.stderr)
   H.not_contains(g.stderr, "rejected the token", g.stderr)
end)

H.run_all()
