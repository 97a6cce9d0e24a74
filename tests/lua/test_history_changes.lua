-- snapshot.lua records scans of the fake API; changes.lua tells what
-- changed between them, with a verdict per change and the exit status.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local FOLDER = "b1gtestfolder"
local T0 = 1795176000            -- 2026-11-20T12:00:00Z
local DAY = 86400
local function at(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

local function cluster(id, days, window)
   return { "cluster", "postgresql", FOLDER, id, "pg-" .. id, {
      id = id, folderId = FOLDER, name = "pg-" .. id, createdAt = "2026-01-01T00:00:00Z",
      config = { backupRetainPeriodDays = tostring(days or 7), backupWindowStart = { hours = window or 22 } } } }
end
local function backup(cid, id, created, extra)
   local b = H.backup(cid .. ":" .. id, cid, at(created), extra)
   b.folderId = FOLDER
   return { "backup", "postgresql", FOLDER, cid, b }
end

local SCAN1 = {
   cluster("c9qa"), cluster("c9qb"), cluster("c9qc"), cluster("c9qd"), cluster("c9qe"),
   backup("c9qa", "old", T0 - 6.9 * DAY), backup("c9qa", "young", T0 - 2 * DAY),
   backup("c9qa", "manual", T0 - 3 * DAY, { type = "MANUAL" }),
   backup("c9qa", "keep", T0 - DAY + 60, { size = "1000000" }),
   backup("c9qa", "retain", T0 - DAY, { retainUntil = at(T0 + DAY / 2) }),
   backup("c9qb", "1", T0 - DAY), backup("c9qb", "2", T0 - 2 * DAY),
   backup("c9qc", "1", T0 - DAY), backup("c9qd", "1", T0 - DAY), backup("c9qe", "1", T0 - DAY),
}
local SCAN2 = {
   cluster("c9qa"), cluster("c9qb"), cluster("c9qc", 3, 1), cluster("c9qe"), cluster("c9qf"),
   backup("c9qa", "keep", T0 - DAY + 60, { size = "1000000" }), backup("c9qa", "new", T0, { size = "100000" }),
   backup("c9qc", "1", T0 - DAY), backup("c9qe", "1", T0 - DAY), backup("c9qf", "1", T0),
}

local function env(server)
   return { YC_MDB_ENDPOINT = server.url, YC_IAM_TOKEN = H.token, YC_FOLDER_ID = FOLDER }
end

local function snap(db, server, t)
   return H.run({ H.source_dir .. "/scripts/snapshot.lua", "--db", db, "--engine", "postgresql",
      "--now", at(t) }, { env = env(server) })
end

-- Record one scan of `records` (fake API args `extra`) at time `t`.
local function snapshot(db, records, t, extra)
   local args = { "--data", H.data_file(records) }
   for _, a in ipairs(extra or {}) do args[#args + 1] = a end
   local server = H.start_fake(args)
   local r = snap(db, server, t)
   server.stop()
   return r
end

-- POST /fake/v1/step: the fake API moves to its next fleet.
local step = H.step

local function changes(db, ...)
   return H.run({ H.source_dir .. "/scripts/changes.lua", "--db", db, ... })
end

-- Two scans of one fake API whose fleet changes in between (--step);
-- the later listing of c9qe fails.
local function two_scans()
   local db = H.tmpname(".db")
   local server = H.start_fake({ "--data", H.data_file(SCAN1), "--step", "--data", H.data_file(SCAN2),
      "--fault", "path=c9qe/backups;status=500;times=0;skip=1" })
   local r = snap(db, server, T0)
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stderr, "scan 1 recorded")
   H.eq(step(server), '{"step":2,"steps":2}')
   r = snap(db, server, T0 + DAY)
   H.eq(r.code, 2, "a failed listing: " .. r.stderr)
   H.contains(r.stderr, "scan 2 recorded")
   server.stop()
   return db
end

H.test("the fake API's fleet steps: POST only, and not past the last", function()
   local server = H.start_fake({ "--data", H.data_file(SCAN1), "--step", "--data", H.data_file(SCAN2) })
   local p = io.popen("curl -s " .. H.sh_quote(server.url .. "/fake/v1/step"))
   H.contains(p:read("a"), "Use POST")
   p:close()
   local client = H.client(server)
   H.eq(#H.collect(client:backups { engine = "postgresql", cluster = "c9qa" }), 5)
   H.eq(step(server), '{"step":2,"steps":2}')
   H.eq(#H.collect(client:backups { engine = "postgresql", cluster = "c9qa" }), 2)
   H.contains(step(server), "at its last step")
end)

H.test("--without leaves backups and clusters out of a step", function()
   local server = H.start_fake({ "--data", H.data_file(SCAN1), "--step", "--without", "c9qa:[oy]*",
      "--without", "c9qb", "--data", H.data_file(SCAN1) })
   local client = H.client(server)
   H.eq(#H.collect(client:backups { engine = "postgresql", cluster = "c9qa" }), 5)
   step(server)
   H.eq(H.ids(H.collect(client:backups { engine = "postgresql", cluster = "c9qa" })),
      { "c9qa:manual", "c9qa:keep", "c9qa:retain" })
   H.eq(#H.collect(client:clusters { engine = "postgresql", folder = FOLDER }), 4)
end)

local function by_key(list)
   local out = {}
   for _, c in ipairs(list) do
      local id = c.backup_id ~= cjson.null and c.backup_id or nil
      out[c.kind .. " " .. c.cluster .. " " .. tostring(id)] = c
   end
   return out
end

H.test("changes between two scans: each kind with its verdict, exit 1", function()
   local db = two_scans()
   local r = changes(db, "--format", "json")
   H.eq(r.code, 1, r.stderr)
   local doc = cjson.decode(r.stdout)
   H.eq(doc.from.id, 1)
   H.eq(doc.to.id, 2)
   H.eq(doc.to.time, at(T0 + DAY))
   local c = by_key(doc.changes)
   local function verdict(key) return c[key] and c[key].verdict end
   H.eq(verdict("vanished c9qa c9qa:old"), "expected")
   H.contains(c["vanished c9qa c9qa:old"].message, "7-day retention")
   H.eq(verdict("vanished c9qa c9qa:retain"), "expected")
   H.contains(c["vanished c9qa c9qa:retain"].message, "retainUntil")
   H.eq(verdict("vanished c9qa c9qa:young"), "unexpected")
   H.contains(c["vanished c9qa c9qa:young"].message, "before its 7-day retention ended")
   H.eq(verdict("vanished c9qa c9qa:manual"), "unexpected")
   H.eq(verdict("appeared c9qa c9qa:new"), "info")
   H.eq(verdict("size c9qa c9qa:new"), "unexpected")
   H.eq(verdict("vanished c9qb c9qb:1"), "unexpected")
   H.contains(c["vanished c9qb c9qb:1"].message, "all 2 backups of the cluster vanished at once")
   H.eq(verdict("retention c9qc nil"), "unexpected")
   H.eq(c["retention c9qc nil"].old, 7)
   H.eq(c["retention c9qc nil"].new, 3)
   H.eq(verdict("window c9qc nil"), "info")
   H.eq(verdict("cluster_vanished c9qd nil"), "unexpected")
   H.eq(verdict("vanished c9qd c9qd:1"), "unexpected")
   H.eq(verdict("cluster_appeared c9qf nil"), "info")
   H.eq(verdict("appeared c9qf c9qf:1"), "info")
   H.eq(verdict("listing_failed c9qe nil"), "info")
   H.eq(c["vanished c9qe c9qe:1"], nil, "a failed listing is not a vanishing")
   H.eq(c["vanished c9qa c9qa:keep"], nil)
   H.eq(c["vanished c9qa c9qa:old"].engine, "postgresql")
   H.eq(c["vanished c9qa c9qa:old"].last_seen, at(T0))
   H.eq(c["vanished c9qa c9qa:old"].time, at(T0 + DAY))
   H.eq(#doc.changes, 15)
end)

H.test("the other formats carry the same changes", function()
   local db = two_scans()
   local r = changes(db)
   H.eq(r.code, 1)
   H.contains(r.stdout, "VERDICT")
   H.contains(r.stdout, "15 changes, 8 unexpected, scan 1")
   r = changes(db, "--format", "jsonl")
   local n = 0
   for line in r.stdout:gmatch("[^\n]+") do n = n + 1; H.ok(cjson.decode(line).kind) end
   H.eq(n, 15)
   r = changes(db, "--format", "csv")
   H.eq(r.stdout:match("^[^\r]*"), "kind,verdict,engine,cluster,cluster_name,backup_id,message,type,created,size,"
      .. "scan,time,last_seen,old,new,folder")
   local lines = select(2, r.stdout:gsub("\r\n", ""))
   H.eq(lines, 16)
   r = changes(db, "--format", "markdown")
   H.contains(r.stdout, "| VERDICT | KIND |")
   H.contains(r.stdout, "| unexpected | vanished | postgresql | pg-c9qa | c9qa:manual |")
end)

H.test("--from, --to, --since pick the scans; the same scan twice has no changes", function()
   local db = two_scans()
   local r = changes(db, "--from", "2", "--to", "2")
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, "0 changes, 0 unexpected")
   r = changes(db, "--since", "1d", "--format", "json")
   H.eq(r.code, 1)
   H.eq(cjson.decode(r.stdout).from.id, 1)
   r = changes(db, "--since", "2h", "--format", "json")
   H.eq(cjson.decode(r.stdout).from.id, 1, "no scan that old: the first")
   r = changes(db, "--from", at(T0 + 3600), "--to", at(T0 + 2 * DAY), "--format", "json")
   H.eq(cjson.decode(r.stdout).from.id, 1)
   H.eq(cjson.decode(r.stdout).to.id, 2)
end)

H.test("expected changes only: exit 0", function()
   local db = H.tmpname(".db")
   H.eq(snapshot(db, { cluster("c9qa"), backup("c9qa", "old", T0 - 6.9 * DAY), backup("c9qa", "k", T0) }, T0).code, 0)
   H.eq(snapshot(db, { cluster("c9qa"), backup("c9qa", "k", T0), backup("c9qa", "n", T0 + DAY) }, T0 + DAY).code, 0)
   local r = changes(db)
   H.eq(r.code, 0, r.stdout)
   H.contains(r.stdout, "2 changes, 0 unexpected")
end)

H.test("bad input: clear errors, exit 2", function()
   local r = changes(H.tmpname(".db"))
   H.eq(r.code, 2)
   H.contains(r.stderr, "no such history file")
   local db = two_scans()
   r = changes(db, "--from", "7")
   H.eq(r.code, 2)
   H.contains(r.stderr, "option '--from': no scan 7")
   r = changes(db, "--from", "yesterday")
   H.eq(r.code, 2)
   H.contains(r.stderr, "not a scan id or an RFC 3339 time")
   r = changes(db, "--since", "1x")
   H.eq(r.code, 2)
   H.contains(r.stderr, "--since")
   r = changes(db, "--since", "1d", "--from", "1")
   H.eq(r.code, 2)
   r = changes(db, "--from", "2", "--to", "1")
   H.eq(r.code, 2)
   H.contains(r.stderr, "is after")
   r = changes(H.write_file(H.tmpname(".db"), "not a database at all, long enough to look like one?\n"))
   H.eq(r.code, 2)
   H.contains(r.stderr, "is not an mdblua history")
   H.not_contains(r.stderr, "traceback")
end)

H.test("a scan whose cluster listing failed (a rejected token) says so per cluster, and nothing vanished", function()
   local db = H.tmpname(".db")
   H.eq(snapshot(db, SCAN1, T0).code, 0)
   local server = H.start_fake({ "--data", H.data_file(SCAN1) })
   local e = env(server)
   e.YC_IAM_TOKEN = "t1.rejected-token"
   local r = H.run({ H.source_dir .. "/scripts/snapshot.lua", "--db", db, "--engine", "postgresql",
      "--now", at(T0 + DAY) }, { env = e })
   server.stop()
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "scan 2 recorded")
   r = changes(db, "--format", "json")
   H.eq(r.code, 0, "nothing unexpected: " .. r.stdout)
   local doc = cjson.decode(r.stdout)
   local failed = {}
   for _, c in ipairs(doc.changes) do
      H.eq(c.kind, "listing_failed", "only the failed listing: " .. r.stdout)
      H.eq(c.verdict, "info")
      H.contains(c.message, "the listing in scan 2 failed (")
      H.contains(c.message, "401")
      H.contains(c.message, "compared as of scan 1")
      failed[#failed + 1] = c.cluster
   end
   H.eq(failed, { "c9qa", "c9qb", "c9qc", "c9qd", "c9qe" }, "each cluster the failed listing hid")
end)

H.test("a cloud scan: a folder gone from its cloud's folder listing takes its clusters along, reported", function()
   -- fc leaves cloud c1 between the scans (Folder.List still answers);
   -- fd's cloud c2 cannot be listed the second time: its clusters are
   -- unknown, never gone.
   local s = H.start_fake { "--cloud", "c1=fa,fc", "--cloud", "c2=fd", "--now", "2026-12-01T00:00:00Z",
      "--generate", "engine=mysql,folder=fa,clusters=1,backups=2,prefix=ma",
      "--generate", "engine=mysql,folder=fc,clusters=1,backups=2,prefix=mc",
      "--generate", "engine=mysql,folder=fd,clusters=1,backups=2,prefix=md",
      "--fault", 'path=folders?cloudId=c1;skip=1;body={"folders":[{"id":"fa"}]};times=0',
      "--fault", "path=folders?cloudId=c2;skip=1;status=403;times=0" }
   local db = H.tmpname(".db")
   local e = { YC_MDB_ENDPOINT = s.url, YC_RESOURCE_MANAGER_ENDPOINT = s.url, YC_IAM_TOKEN = H.token }
   local record = { H.source_dir .. "/scripts/snapshot.lua", "--db", db, "--engine", "mysql", "--all-clouds" }
   H.eq(H.run(record, { env = e }).code, 0)
   H.eq(H.run(record, { env = e }).code, 2, "c2's folder listing failed")
   local r = H.run({ H.source_dir .. "/scripts/changes.lua", "--db", db, "--format", "csv" }, { env = e })
   H.eq(r.code, 1, r.stderr)
   local got = {}
   for line in r.stdout:gmatch("[^\n]+") do
      local kind, verdict, _, cid, _, bid = line:match("^([%w_]+),(%w+),(%w+),([^,]*),([^,]*),([^,]*),")
      if kind and kind ~= "kind" then got[#got + 1] = table.concat({ kind, verdict, cid, bid }, " ") end
   end
   table.sort(got)
   H.eq(got, { "cluster_vanished unexpected mc-0000 ", "listing_failed info md-0000 ",
      "vanished unexpected mc-0000 mc-0000:000000", "vanished unexpected mc-0000 mc-0000:000001" }, r.stdout)
   H.contains(r.stdout, "the cluster is gone: its folder fc is no longer in its cloud's folder listing")
   s.stop()
end)

H.run_all()
