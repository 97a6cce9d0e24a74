-- Fleet scripts (audit, inventory, freshness, retention-plan, snapshot) when the API
-- fails: a token refused everywhere (401), nothing listening (a refused
-- connection), one engine's Cluster.List forbidden (403), one engine's
-- backup listings failing (500).  Each run through the real mdblua, once
-- with stderr a file and once with stderr a terminal (tests/tools/ptydrive;
-- the scan then draws progress).  Every run must carry the API's message,
-- exit with the documented status, never print a traceback or the token,
-- and audit the engines that did answer as usual.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local SCRIPTS = H.source_dir .. "/scripts/"
local FOLDER = "b1gfakefolder0000001"
local ENGINES = { "--engine", "mysql", "--engine", "redis" }

-- A healthy fleet: 10 daily backups for 2 mysql and 2 redis clusters, the
-- newest at most an hour old, so every check passes where listing works.
local function fleet(faults)
   local args = { "--generate", "engine=mysql,clusters=2,backups=10",
      "--generate", "engine=redis,clusters=2,backups=10" }
   for _, f in ipairs(faults or {}) do args[#args + 1] = "--fault"; args[#args + 1] = f end
   return H.start_fake(args)
end

-- The runs of one scenario: name, script, its arguments ("PROM" and "DB"
-- stand for files of each run's own), and the exit status it must end with.
local function runs(prom)
   return {
      { "audit-table", "audit.lua", {}, 2 },
      { "audit-json", "audit.lua", { "--format", "json" }, 2 },
      { "audit-nagios", "audit.lua", { "--format", "nagios" }, 3 },
      { "audit-prometheus", "audit.lua", { "--format", "prometheus", "--output", prom }, 2 },
      { "inventory", "inventory.lua", {}, 2 },
      { "freshness", "freshness.lua", {}, 3 },
      { "retention-plan", "retention-plan.lua", { "--keep-daily", "7" }, 2 },
      { "snapshot", "snapshot.lua", { "--db", "DB" }, 2 },
   }
end

-- Run every case of a scenario at once (each is slow only by its retries),
-- both with stderr a file and with stderr a terminal.  Returns, per case
-- name and mode ("file", "tty"): { code, stdout, stderr } (for "tty",
-- stderr is the terminal's transcript).
local function run_all(endpoint, token)
   local prom = {}
   local commands, expect = {}, {}
   for _, mode in ipairs({ "file", "tty" }) do prom[mode] = H.tmpname(".prom") end
   for _, c in ipairs(runs("PROM")) do
      local name, script, args = c[1], c[2], c[3]
      expect[name] = c[4]
      commands[#commands + 1] = { name, function(mode)
         local words = { "env", "-u", "NO_COLOR", "TERM=dumb", "YC_IAM_TOKEN=" .. H.sh_quote(token),
            "YC_MDB_ENDPOINT=" .. H.sh_quote(endpoint), "YC_FOLDER_ID=" .. FOLDER,
            H.sh_quote(H.mdblua), H.sh_quote(SCRIPTS .. script) }
         for _, a in ipairs(ENGINES) do words[#words + 1] = a end
         local own = { PROM = prom[mode], DB = H.tmpname(".db") }
         for _, a in ipairs(args) do words[#words + 1] = H.sh_quote(own[a] or a) end
         return table.concat(words, " ")
      end }
   end
   local results = H.run_file_and_tty(commands, 120)
   for key, r in pairs(results) do
      local name, mode = key:match("^(.*)/(%a+)$")
      r.expect = expect[name]
      r.prom = name == "audit-prometheus" and prom[mode] or nil
      r.stderr = r.raw:gsub("\r", "")
   end
   return results
end

-- What every run must show: the exit status, the message, no traceback,
-- no token, no Lua-level failure.
local function check_common(results, token, message)
   for key, r in pairs(results) do
      local all = r.stdout .. r.stderr
      local what = key .. " (exit " .. tostring(r.code) .. ")\n--- stdout:\n" .. r.stdout
         .. "\n--- stderr:\n" .. r.stderr
      H.eq(r.code, r.expect, "exit status of " .. what)
      H.contains(all, message, what)
      H.not_contains(all, "traceback", what)
      H.not_contains(all, "attempt to", what)
      H.not_contains(all, token, what)
   end
end

local function listing_findings(text)
   local report = cjson.decode(text)
   local by_engine = {}
   for _, f in ipairs(report.findings) do
      if f.check == "listing" then
         by_engine[f.engine] = (by_engine[f.engine] or 0) + 1
         H.eq(f.status, "error", "listing finding status")
      end
   end
   return by_engine, report
end

-- Every engine's Cluster.List failed: one listing finding per engine, and
-- the Prometheus file still written with them and the run's time.
local function check_all_failed(results, message)
   for _, mode in ipairs({ "file", "tty" }) do
      local by_engine = listing_findings(results["audit-json/" .. mode].stdout)
      H.eq(by_engine, { mysql = 1, redis = 1 }, "one listing finding per engine (" .. mode .. ")")
      local prom = H.read_file(results["audit-prometheus/" .. mode].prom) or ""
      H.contains(prom, 'engine="mysql",cluster_id="",cluster_name="",check="listing"} 3', mode)
      H.contains(prom, 'engine="redis",cluster_id="",cluster_name="",check="listing"} 3', mode)
      H.ok(prom:match("\nmdb_audit_last_run_timestamp_seconds %d+\n"), "run timestamp (" .. mode .. ")")
      H.contains(results["audit-nagios/" .. mode].stdout, "MDB BACKUP AUDIT UNKNOWN", mode)
      H.contains(results["freshness/" .. mode].stdout,
         "0 clusters (warn 26h, crit 50h): 0 ok, 0 warning, 0 critical, 2 error\n", mode)
      H.contains(results["retention-plan/" .. mode].stdout, "mysql clusters: listing failed: ", mode)
      H.contains(results["retention-plan/" .. mode].stdout, "0 clusters: keep 0, expire 0, 2 listings failed", mode)
      H.contains(results["audit-nagios/" .. mode].stderr, message, mode)
      H.contains(results["snapshot/" .. mode].stderr, "clusters of mysql, redis: ", mode)
      H.contains(results["snapshot/" .. mode].stderr, ": 0 clusters, 0 backups, 2 failed listings\n", mode)
   end
end

H.test("401 everywhere: every script says the token was refused", function()
   local s = fleet()
   local token = "t1.WRONG-secret-token-" .. os.time()
   local results = run_all(s.url, token)
   check_common(results, token, "Token is invalid or has expired.")
   check_all_failed(results, "Token is invalid or has expired.")
end)

H.test("a refused connection: every script names it", function()
   local token = H.token
   local results = run_all("http://127.0.0.1:1", token)
   check_common(results, token, "Couldn't connect to server")
   check_all_failed(results, "Couldn't connect to server")
end)

H.test("a 403 on one engine's Cluster.List: that engine errs, the other is audited", function()
   local s = fleet { "path=/managed-mysql/v1/clusters?;status=403;times=0" }
   local results = run_all(s.url, H.token)
   check_common(results, H.token, "Permission denied")
   for _, mode in ipairs({ "file", "tty" }) do
      local by_engine, report = listing_findings(results["audit-json/" .. mode].stdout)
      H.eq(by_engine, { mysql = 1 }, "one listing finding, for mysql (" .. mode .. ")")
      local redis_ok = 0
      for _, f in ipairs(report.findings) do
         if f.engine == "redis" then H.eq(f.status, "ok", f.check); redis_ok = redis_ok + 1 end
      end
      H.ok(redis_ok > 0, "redis audited")
      H.eq(report.summary.clusters, 2, "the redis clusters")
      local prom = H.read_file(results["audit-prometheus/" .. mode].prom) or ""
      H.contains(prom, 'engine="mysql",cluster_id="",cluster_name="",check="listing"} 3', mode)
      H.contains(prom, 'mdb_audit_status{engine="redis",cluster_id="credis-0000",cluster_name="redis-0000",'
         .. 'check="freshness"} 0', mode)
      H.ok(prom:match("\nmdb_audit_last_run_timestamp_seconds %d+\n"), "run timestamp")
      H.contains(results["inventory/" .. mode].stdout, "credis-0001", mode)
      H.contains(results["freshness/" .. mode].stdout,
         "2 clusters (warn 26h, crit 50h): 2 ok, 0 warning, 0 critical, 1 error\n", mode)
      H.contains(results["retention-plan/" .. mode].stdout, "credis-0001", mode)
      H.contains(results["retention-plan/" .. mode].stdout, "2 clusters: keep 14, expire 6, 1 listing failed", mode)
      H.contains(results["snapshot/" .. mode].stderr, ": 2 clusters, 20 backups, 1 failed listing\n", mode)
   end
end)

H.test("500s on one engine's backup listings: its clusters err, the other engine is audited", function()
   local s = fleet { "path=/managed-mysql/v1/clusters/;status=500;retry_after=0;times=0" }
   local results = run_all(s.url, H.token)
   check_common(results, H.token, "Internal error (HTTP 500")
   for _, mode in ipairs({ "file", "tty" }) do
      local by_engine, report = listing_findings(results["audit-json/" .. mode].stdout)
      H.eq(by_engine, {}, "Cluster.List worked: no listing finding (" .. mode .. ")")
      for _, f in ipairs(report.findings) do
         local want = f.engine == "mysql" and f.check ~= "retention_config" and "error" or "ok"
         H.eq(f.status, want, f.engine .. " " .. f.check)
      end
      H.eq(report.summary.clusters, 4, "every cluster")
      local prom = H.read_file(results["audit-prometheus/" .. mode].prom) or ""
      H.contains(prom, 'mdb_audit_status{engine="mysql",cluster_id="cmysql-0000",cluster_name="mysql-0000",'
         .. 'check="freshness"} 3', mode)
      H.contains(prom, 'mdb_backup_listing_success{engine="mysql",cluster_id="cmysql-0001",'
         .. 'cluster_name="mysql-0001"} 0', mode)
      H.ok(prom:match("\nmdb_audit_last_run_timestamp_seconds %d+\n"), "run timestamp")
      H.contains(results["freshness/" .. mode].stdout, "redis-0001", mode)
      H.contains(results["snapshot/" .. mode].stderr, "snapshot.lua: mysql cmysql-0001: ", mode)
      H.contains(results["snapshot/" .. mode].stderr, ": 4 clusters, 20 backups, 2 failed listings\n", mode)
   end
end)

H.test("snapshot counts failed policy and operation listings, and tells them off the progress line", function()
   -- the first cluster's listings are slowed so that the scan is still
   -- drawing progress when the second one's failures arrive
   local s = H.start_fake { "--generate", "engine=mysql,clusters=2,backups=10",
      "--fault", "path=cmysql-0000/backups;delay_ms=1500;times=0",
      "--fault", "path=/retention_policies;status=500;times=0",
      "--fault", "path=/operations;status=403;times=0" }
   local results = H.run_file_and_tty({ { "snapshot", function()
      return table.concat({ "env", "-u", "NO_COLOR", "TERM=xterm", "YC_IAM_TOKEN=" .. H.sh_quote(H.token),
         "YC_MDB_ENDPOINT=" .. H.sh_quote(s.url), H.sh_quote(H.mdblua), H.sh_quote(SCRIPTS .. "snapshot.lua"),
         "--engine", "mysql", "--folder", FOLDER, "--db", H.sh_quote(H.tmpname(".db")) }, " ")
   end } }, 120)
   for _, mode in ipairs { "file", "tty" } do
      local r = results["snapshot/" .. mode]
      H.eq(r.code, 2, mode .. ": " .. r.raw)
      for _, c in ipairs { "cmysql-0000", "cmysql-0001" } do
         H.contains(r.raw, "snapshot.lua: mysql " .. c .. ": retention policies: http error: Internal error", mode)
         H.contains(r.raw, "snapshot.lua: mysql " .. c .. ": operations: http error: Permission denied", mode)
      end
      H.contains(r.raw, ": 2 clusters, 20 backups, 4 failed listings", mode)
      H.not_contains(r.raw, H.token, mode)
      -- each line told starts a line of its own (or follows the clearing
      -- of the progress line), never glued after progress text
      for before in r.raw:gmatch("(.?.?.?)snapshot%.lua: ") do
         H.ok(before == "" or before:match("\n$") or before:match("\27%[K$"),
            mode .. ": glued after " .. string.format("%q", before) .. " in " .. r.raw)
      end
   end
   H.contains(results["snapshot/tty"].raw, "scanning", "the terminal run drew progress")
   s.stop()
end)

H.run_all()
