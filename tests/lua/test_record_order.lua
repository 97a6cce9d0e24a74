-- The order of a history's scans: one taken before a scan already in the
-- file is refused, naming both times, with the file left as it was (else
-- a backup would vanish before it was last seen, and --at, --since and
-- --from TIME would answer with the wrong scan); two taken at the same
-- second are kept in the order recorded.  Real SQLite files, the fake API's
-- demo fleet, whose second step deletes a manual backup and a cluster.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local NOW = "2026-11-23T18:38:38Z"
local EARLIER = "2026-11-23T17:38:38Z"
local LATER = "2026-11-23T19:38:38Z"
local FOLDER = "b1gdemofolder0000001"
local MANUAL = "c9qpaymentsprod00006:manual_20261121T092238Z"
local GONE = "c9qmetricsstaging008"

local function start()
   return H.start_fake({ "--demo", "--now", NOW, "--step", "--demo", "--without", "c9qpaymentsprod00006:manual_*",
      "--without", GONE })
end

local function script(server, name, ...)
   return H.run(H.with({ H.script(name) }, ...), { env = H.script_env(server, FOLDER, { NO_COLOR = "1" }) })
end

local function refusal(name, db, taken, verb)
   return string.format("%s: %s: cannot %s a scan taken at %s: its scan 1 was taken later, at %s "
      .. "(scans are recorded in the order they were taken)%s\n", name, db, verb or "record", taken, NOW,
      verb and "" or "; nothing was recorded")
end

-- The vanished findings of an audit as "STATUS CLUSTER" lines.
local function vanished(r)
   local out = {}
   for _, f in ipairs(cjson.decode(r.stdout).findings) do
      if f.check == "vanished" and f.status ~= "ok" then out[#out + 1] = f.status .. " " .. f.cluster end
   end
   table.sort(out)
   return out
end

local function changes(server, ...)
   local r = script(server, "changes.lua", "--format", "json", ...)
   H.ok(r.code <= 1, r.stderr)
   return cjson.decode(r.stdout)
end

-- The changes' "KIND ID TIME last LAST_SEEN" lines, sorted.
local function change_lines(doc)
   local out = {}
   for _, c in ipairs(doc.changes) do
      local id = c.backup_id ~= cjson.null and c.backup_id or c.cluster
      local last = c.last_seen ~= cjson.null and c.last_seen or "-"
      out[#out + 1] = string.format("%s %s %s last %s", c.kind, id, c.time, last)
   end
   table.sort(out)
   return out
end

-- The demo fleet recorded at NOW in a new file, then stepped on: a server
-- and the file.
local function recorded_at_now()
   local s = start()
   local db = H.tmpname(".db")
   local r = script(s, "snapshot.lua", "--db", db, "--now", NOW)
   H.eq(r.code, 0, r.stderr)
   H.eq(H.step(s), '{"step":2,"steps":2}')
   return s, db
end

H.test("a scan taken before the file's last: exit 2 naming both times, the file untouched, no request", function()
   local s, db = recorded_at_now()
   local r
   local bytes, requests = H.read_file(db), #H.requests(s)
   for _, case in ipairs {
      { "snapshot.lua", { "--db", db }, 2 },
      { "audit.lua", { "--record", db }, 2 },
      { "audit.lua", { "--record", db, "--format", "nagios" }, 3 },
      { "inventory.lua", { "--record", db }, 2 },
      { "audit.lua", { "--db", db }, 2, "compare" } } do
      local what = case[1] .. " " .. table.concat(case[2], " ")
      r = script(s, case[1], table.unpack(H.with(case[2], "--now", EARLIER)))
      H.eq(r.code, case[3], what .. ": " .. r.stderr)
      H.eq(r.stderr, refusal(case[1], db, EARLIER, case[4]), what)
      H.eq(r.stdout, "", what)
      H.ok(H.read_file(db) == bytes, what .. ": the file is as it was")
      H.ok(not H.exists(db .. "-wal") and not H.exists(db .. "-shm"), what .. ": nothing left beside it")
      H.eq(#H.requests(s), requests, what .. ": no request made")
   end
   -- a later one records, and every answer is the one of the scan asked for
   r = script(s, "snapshot.lua", "--db", db, "--now", LATER)
   H.eq(r.code, 0, r.stderr)
   H.eq(H.sqlite3(db, "SELECT group_concat(id || ' ' || time_text, ', ') FROM scans"),
      "1 " .. NOW .. ", 2 " .. LATER)
   local doc = changes(s, "--db", db)
   H.eq({ doc.from.id, doc.to.id }, { 1, 2 })
   H.eq(change_lines(doc)[5], "vanished " .. MANUAL .. " " .. LATER .. " last " .. NOW)
   r = script(s, "audit.lua", "--from", db, "--at", NOW, "--check", "vanished", "--format", "json")
   H.eq({ r.code, vanished(r) }, { 0, {} }, r.stderr)
   r = script(s, "audit.lua", "--from", db, "--at", LATER, "--check", "vanished", "--format", "json")
   H.eq({ r.code, vanished(r) }, { 1, { "critical " .. GONE, "critical c9qpaymentsprod00006" } }, r.stderr)
end)

H.test("the clock behind the file's last scan (no --now): refused the same way", function()
   local s = start()
   local db = H.tmpname(".db")
   local r = script(s, "snapshot.lua", "--db", db, "--now", "2999-01-01T00:00:00Z")
   H.eq(r.code, 0, r.stderr)
   local bytes = H.read_file(db)
   r = script(s, "snapshot.lua", "--db", db)
   H.eq(r.code, 2, r.stderr)
   H.ok(r.stderr:match("^snapshot%.lua: .-: cannot record a scan taken at 20%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ: its scan 1 "
      .. "was taken later, at 2999%-01%-01T00:00:00Z %(scans are recorded in the order they were taken%); "
      .. "nothing was recorded\n$"), r.stderr)
   H.ok(H.read_file(db) == bytes, "the file is as it was")
end)

H.test("two scans taken at the same second: both kept, the later recorded is the later", function()
   local s, db = recorded_at_now()
   local r = script(s, "audit.lua", "--record", db, "--now", NOW, "--check", "vanished", "--format", "json")
   H.eq({ r.code, vanished(r) }, { 1, { "critical " .. GONE, "critical c9qpaymentsprod00006" } }, r.stderr)
   H.eq(H.sqlite3(db, "SELECT group_concat(id || ' ' || time_text, ', ') FROM scans"), "1 " .. NOW .. ", 2 " .. NOW)
   -- changes from the first to the second, at that second
   for _, args in ipairs { {}, { "--since", "1h" }, { "--from", "1", "--to", "2" } } do
      local doc = changes(s, "--db", db, table.unpack(args))
      local what = table.concat(args, " ")
      H.eq({ doc.from.id, doc.to.id }, { 1, 2 }, what)
      local lines = change_lines(doc)
      H.eq(#lines, 5, what)
      H.eq(lines[5], "vanished " .. MANUAL .. " " .. NOW .. " last " .. NOW, what)
   end
   -- "the last scan at or before" the second is the later recorded
   r = script(s, "audit.lua", "--from", db, "--at", NOW, "--check", "vanished", "--format", "json")
   H.eq({ r.code, vanished(r) }, { 1, { "critical " .. GONE, "critical c9qpaymentsprod00006" } }, r.stderr)
   r = script(s, "inventory.lua", "--from", db, "--format", "json")
   H.eq(r.code, 0, r.stderr)
   H.not_contains(r.stdout, GONE)
   -- a third at that second still records; one a second before it does not
   r = script(s, "snapshot.lua", "--db", db, "--now", NOW)
   H.eq(r.code, 0, r.stderr)
   r = script(s, "snapshot.lua", "--db", db, "--now", "2026-11-23T18:38:37Z")
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "cannot record a scan taken at 2026-11-23T18:38:37Z: its scan 3 was taken later, at " .. NOW)
end)

H.test("in Lua: h:record and history.record refuse an earlier time, and keep nothing of it", function()
   local history = require "mdb.history"
   local db = H.tmpname(".db")
   local h = assert(history.open(db, { write = true }))
   H.eq(h:record({}, { time = 2000, engines = { "mysql" } }), 1)
   H.eq(h:record({}, { time = 2000, engines = { "mysql" } }), 2, "the same time")
   local ok, err = pcall(h.record, h, {}, { time = 1999.5, engines = { "mysql" } })
   H.eq(ok, false)
   H.eq(err, "cannot record a scan taken at 1970-01-01T00:33:19Z: its scan 2 was taken later, at "
      .. "1970-01-01T00:33:20Z (scans are recorded in the order they were taken); nothing was recorded")
   H.eq(#h:scans(), 2)
   -- the file stays usable: a later time records
   H.eq(h:record({}, { time = 2001, engines = { "mysql" } }), 3)
   h:close()
   local id, rerr = history.record(db, {}, { time = 1000, engines = { "mysql" } })
   H.eq(id, nil)
   H.contains(rerr, db .. ": cannot record a scan taken at 1970-01-01T00:16:40Z: its scan 3 was taken later")
   H.eq(H.sqlite3(db, "SELECT count(*) FROM scans"), "3")
end)

H.test("a scan recorded at an earlier --now keeps what existed then: nothing first seen before it was made", function()
   local s = start()
   local at = "2026-11-22T00:00:00Z"
   local db, whole = H.tmpname(".db"), H.tmpname(".db")
   local r = script(s, "snapshot.lua", "--db", db, "--now", at)
   H.eq(r.code, 0, r.stderr)
   local said = tonumber(r.stderr:match("(%d+) backups"))
   H.eq(H.sqlite3(db, "SELECT count(*) FROM backup_states"), tostring(said), "what it says it recorded is what it did")
   H.eq(H.sqlite3(db, "SELECT count(*) FROM backup_states WHERE created > strftime('%s', '" .. at .. "')"), "0",
      "no backup created after --now")
   local audited = H.tmpname(".db")   -- audit.lua --record (and inventory's) the same way
   H.ok(script(s, "audit.lua", "--record", audited, "--now", at, "--format", "json").code <= 1)
   H.eq(H.sqlite3(audited, "SELECT count(*) FROM backup_states"), tostring(said), "audit.lua --record")
   H.eq(script(s, "snapshot.lua", "--db", whole, "--now", NOW).code, 0)
   H.ok(tonumber(H.sqlite3(whole, "SELECT count(*) FROM backup_states")) > said,
      "the fleet has backups made after " .. at .. " (else this test proves nothing)")
end)

H.run_all()
