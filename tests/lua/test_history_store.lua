-- The history store (mdb.history) on real SQLite files: schema and
-- migrations, one state per backup, refusing other files, read-only
-- files, two recorders at once, and a recorder killed in the middle.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local history = require "mdb.history"
local mdb = require "mdb"

local FOLDER = "b1gtestfolder"

local sqlite3 = H.sqlite3

-- Scan-shaped results: `n` postgresql clusters of `m` backups, normalised
-- as a listing yields them (through mdb._sqlite.normalize).
local function fleet(n, m, opts)
   opts = opts or {}
   local s = mdb._sqlite
   local results = {}
   for c = 1, n do
      local id = string.format("c9qtest%04d", c)
      local cluster = s.normalize("cluster", "postgresql", { id = id, folderId = FOLDER, name = "pg-" .. c,
         createdAt = "2026-01-01T00:00:00Z",
         config = { backupRetainPeriodDays = tostring(opts.days or 7), backupWindowStart = { hours = 22 } } })
      local backups = {}
      for i = 1, m do
         local t = os.date("!%Y-%m-%dT%H:%M:%SZ", (opts.newest or 1780000000) - (i - 1) * 86400)
         backups[i] = s.normalize("backup", "postgresql", H.backup(id .. ":" .. i, id, t,
            { size = tostring(1000 + i), journalSize = "12345678901234567", method = "BASE", status = "DONE" }))
      end
      results[c] = { engine = "postgresql", id = id, cluster = cluster, backups = backups }
   end
   return results
end

local function scope(time)
   return { folder = FOLDER, engines = { "postgresql" }, tool = "test", time = time }
end

local exists = H.exists

local function file_bytes(path)
   local f = assert(io.open(path, "rb"))
   local n = f:seek("end")
   f:close()
   return n
end

H.test("api_json: added fields left out, int64 integers as strings, the object put back", function()
   local s, cjson = mdb._sqlite, require "cjson"
   local b = { id = "b1", created = 1.5, engine = "postgresql", size = 12345678901234567, journalSize = "7",
      nested = { x = 1 } }
   local text = s.api_json(b, { "created", "engine" }, { "size", "journalSize", "absent" }, cjson.encode)
   local back = cjson.decode(text)
   H.eq(back, { id = "b1", size = "12345678901234567", journalSize = "7", nested = { x = 1 } })
   H.eq(b.created, 1.5)
   H.eq(b.engine, "postgresql")
   H.eq(b.size, 12345678901234567)
   H.eq(s.api_json({ size = -5 }, {}, { "size" }, cjson.encode), '{"size":"-5"}')
   H.eq(s.api_json({ engine = "x" }, { "engine" }, {}, cjson.encode), "{}")
   local ok, err = pcall(s.api_json, b, { "created" }, { "size" }, function() error("boom", 0) end)
   H.eq(ok, false)
   H.eq(err, "boom")
   H.eq(b.created, 1.5, "put back after an error too")
   H.eq(b.size, 12345678901234567)
   -- up to 32 names set apart, however many of them fill the stack (a
   -- Lua built with LUA_USE_APICHECK aborted here); more are refused
   local names, obj = {}, { id = "m", size = 7 }
   for i = 1, 31 do names[i] = "f" .. i; obj["f" .. i] = i end
   H.eq(s.api_json(obj, names, { "size" }, cjson.encode), '{"id":"m","size":"7"}')
   H.eq(obj.f31, 31)
   names[32] = "f32"
   ok, err = pcall(s.api_json, obj, names, { "size" }, cjson.encode)
   H.eq(ok, false)
   H.contains(err, "more than 32 fields")
   -- the digest is the one files were written with (its value from the
   -- version that formatted integers with "%lld"): stored digests stay valid
   H.eq(s.digest({ a = math.mininteger, b = 0, c = 42, d = -7, e = 1234567890123, f = 1.5, g = { 1, 2, "x" } }),
      1449102302308797774)
   H.eq(s.digest({ a = 1795459118.0, b = -0.0, c = 1e14, d = 99999999999999.0, e = 0.1, f = -1795459118.0,
      g = 2 ^ 53 }), 7186821680871289014, "floats as \"%.14g\" wrote them")
   -- the same strings as keys and values, nested, and more of them than
   -- the memo of string digests has slots: values from before the memo
   H.eq(s.digest({ a = "a", b = "a", c = { a = "b", b = { "a", "b", a = "a" } }, [1] = "a", [2] = "c" }),
      283621483928055127)
   local many = {}
   for i = 1, 600 do many["k" .. i] = "v" .. (i % 300) end
   H.eq(s.digest(many), -6188288644031754867)
end)

H.test("state_batch/insert_batch: a listing recorded as api_json and digest would, repeats skipped", function()
   local s, cjson = mdb._sqlite, require "cjson"
   local db = s.open("", "memory", 0)
   db:exec("CREATE TABLE t (k INTEGER, id TEXT, size INTEGER, flag, digest INTEGER, data TEXT, UNIQUE (k, id))")
   db:exec("CREATE TABLE o (cluster INTEGER, backup_id TEXT, id INTEGER, digest INTEGER)")
   local st = db:prepare("INSERT OR IGNORE INTO t VALUES (@1, :id, :size, :flag, @digest, @data)")
   local added, int64 = { "created", "engine" }, { "size" }
   local list = {
      { id = "new", created = 1.5, engine = "pg", size = 12345678901234567, text = 'q"\\\n\1/é', f = 0.1,
        big = 1e300, neg = -7, yes = true, no = false, null = cjson.null, flag = true },
      { id = "nested", size = 1, tags = { "a", { b = 2 } } },   -- not flat: through lua-cjson
      { id = "same", size = 2 },
      { id = "changed", size = 3 },
      { id = "new", size = 99 },                                -- a repeat: the first state stays
      { id = "same", size = 5 },
      { id = "twice", size = 6 },                               -- two open states: one stays
      { id = 7 }, "not a table",                                -- skipped
   }
   -- the open states: cluster 1's are compared, cluster 2's are not
   local ins = db:prepare("INSERT INTO o VALUES (?, ?, ?, ?)")
   ins:run(1, "same", 10, s.digest(list[3]))
   ins:run(1, "changed", 11, 0)
   ins:run(1, "gone", 12, 0)
   ins:run(1, "twice", 13, s.digest(list[7]))
   ins:run(1, "twice", 14, s.digest(list[7]))
   ins:run(2, "new", 15, s.digest(list[1]))
   local open = db:prepare("SELECT backup_id, id, digest FROM o WHERE cluster = ? ORDER BY id")
   local recorded = {}
   for _, later in ipairs({ false, true }) do
      local what = later and "JSON written by keep_changed" or "JSON written by state_batch"
      local batch = st:state_batch(list, added, int64, cjson.encode, later)
      if later then
         local ok, err = pcall(st.insert_batch, st, batch, { 42 })
         H.eq(ok, false, "a batch whose JSON waits is not inserted")
         H.contains(tostring(err), "keep_changed has not written")
      end
      H.eq(batch:keep_changed(open, 1), { 11, 12, 14 }, what .. ": the changed, the gone and a second open state")
      db:exec("BEGIN")
      st:insert_batch(batch, { 42 })
      local rows = {}
      for r in db:prepare("SELECT k, id, size, flag, digest, data FROM t ORDER BY rowid"):rows() do
         rows[#rows + 1] = r
      end
      H.eq(#rows, 3, what .. ": the writer's rows, in the caller's transaction")
      for i, want in ipairs({ list[1], list[2], list[4] }) do
         H.eq(rows[i][1], 42)
         H.eq(rows[i][2], want.id)
         H.eq(rows[i][3], want.size)
         H.eq(rows[i][5], s.digest(want), "digest " .. want.id)
         H.eq(cjson.decode(rows[i][6]), cjson.decode(s.api_json(want, added, int64, cjson.encode)), "data " .. want.id)
      end
      H.eq(rows[1][4], 1, "a boolean field binds as 1")
      H.eq(rows[2][4], nil)
      H.eq(cjson.decode(rows[1][6]).text, 'q"\\\n\1/é')
      H.eq(list[1].created, 1.5, "the objects are left as they were")
      recorded[#recorded + 1] = rows
      db:exec("ROLLBACK")
   end
   H.eq(recorded[1], recorded[2], "the same rows either way")
   -- nothing open: every object stays, a repeat still once
   db:exec("BEGIN")
   local batch = st:state_batch(list, added, int64, cjson.encode, true)
   H.eq(batch:keep_changed(open, 3), {})
   -- it marks rows as it goes (and an error may stop it halfway): once
   local again, aerr = pcall(batch.keep_changed, batch, open, 1)
   H.eq(again, false, "a second comparison is refused")
   H.contains(tostring(aerr), "compared already")
   st:insert_batch(batch, { 43 })
   H.eq(db:prepare("SELECT group_concat(id, ',') FROM (SELECT id FROM t ORDER BY rowid)"):one(),
      "new,nested,same,changed,twice")
   db:exec("ROLLBACK")
   -- the open states' statement must give id, rowid, digest
   local ok, err = pcall(batch.keep_changed, st:state_batch(list, added, int64, cjson.encode),
      db:prepare("SELECT backup_id FROM o WHERE cluster = ?"), 1)
   H.eq(ok, false)
   H.contains(tostring(err), "id, rowid, digest")
   -- a value lua-cjson refuses is an error, also when the JSON waits
   ok, err = pcall(function()
      st:state_batch({ { id = "x", n = 0 / 0 } }, added, int64, cjson.encode, true):keep_changed(open, 1)
   end)
   H.eq(ok, false)
   H.contains(tostring(err), "number")
   -- a value lua-cjson refuses is an error, as it was
   ok, err = pcall(st.state_batch, st, { { id = "x", n = 0 / 0 } }, added, int64, cjson.encode)
   H.eq(ok, false)
   H.contains(tostring(err), "number")
   -- an error a queued row meets is raised by the next call, and the
   -- rows queued after it are not written
   db:exec("CREATE TABLE c (id TEXT CHECK (id <> 'bad'))")
   local cst = db:prepare("INSERT INTO c VALUES (:id)")
   db:exec("BEGIN")
   cst:insert_batch(cst:state_batch({ { id = "ok" }, { id = "bad" }, { id = "after" } }, {}, {}, cjson.encode), {})
   cst:insert_batch(cst:state_batch({ { id = "later" } }, {}, {}, cjson.encode), {})
   ok, err = pcall(db.exec, db, "SELECT 1")
   H.eq(ok, false)
   H.contains(tostring(err), "CHECK constraint failed")
   H.eq(db:prepare("SELECT group_concat(id) FROM c"):one(), "ok")
   db:exec("ROLLBACK")
   ok, err = pcall(st.state_batch, cst, {}, {}, {}, cjson.encode)
   H.eq(ok, true, err)
   ok, err = pcall(st.insert_batch, st, cst:state_batch({ { id = "x" } }, {}, {}, cjson.encode), {})
   H.eq(ok, false)
   H.contains(tostring(err), "a batch of another statement")
   -- also of a finalized statement whose memory a new one reuses: its rows
   -- are laid out for the old parameters
   local old = db:prepare("INSERT INTO c VALUES (:id)")
   local stale = old:state_batch({ { id = "x" } }, {}, {}, cjson.encode)
   old:finalize()
   local new = db:prepare("INSERT INTO t VALUES (@1, :id, :size, :flag, @digest, @data)")
   ok, err = pcall(new.insert_batch, new, stale, { 1 })
   H.eq(ok, false, "a stale batch is refused")
   H.contains(tostring(err), "a batch of another statement")
   ok, err = pcall(db.prepare(db, "SELECT ?").state_batch, db:prepare("SELECT ?"), {}, {}, {}, cjson.encode)
   H.eq(ok, false)
   H.contains(tostring(err), "parameters are not")
   db:close()
end)

H.test("an entry failing while the last one's rows are queued rolls the scan back, also their error", function()
   local path = H.tmpname(".db")
   assert(history.record(path, fleet(1, 2), scope(1)))
   sqlite3(path, [[CREATE TRIGGER refuse BEFORE INSERT ON backup_states WHEN NEW.backup_id = 'bad'
      BEGIN SELECT RAISE(ABORT, 'refused'); END]])
   local h = assert(history.open(path, { write = true }))
   local r = h:recorder(scope(2))
   local first = fleet(1, 2)[1]
   first.backups[#first.backups + 1] = mdb._sqlite.normalize("backup", "postgresql",
      H.backup("bad", first.id, "2026-05-01T00:00:00Z", { size = "1" }))
   r:add(first)   -- queued: the writer meets 'refused' while the next entry is made
   local second = fleet(2, 1)[2]
   local deep = {}   -- the digest refuses it, before any SQL of the entry
   for _ = 1, 60 do deep = { deep } end
   second.backups[1].deep = deep
   local ok, err = pcall(r.add, r, second)
   H.eq(ok, false)
   H.contains(tostring(err), "nested too deep")
   -- rolled back: the connection holds no transaction, the file is at scan 1
   local again, aerr = pcall(h.recorder, h, scope(3))
   H.ok(again, "a new recorder can begin: " .. tostring(aerr))
   h:close()
   H.eq(sqlite3(path, "SELECT count(*) FROM scans; SELECT count(*) FROM backup_states; PRAGMA integrity_check"),
      "1\n2\nok")
end)

H.test("Ctrl-C while rows are queued drops them, also once Lua took the interruption", function()
   local s, cjson = mdb._sqlite, require "cjson"
   local path = H.tmpname(".db")
   local db = s.open(path, "rwc", 0)
   db:exec("CREATE TABLE t (id TEXT, data TEXT)")
   local st = db:prepare("INSERT INTO t VALUES (:id, @data)")
   local list = {}
   for i = 1, 400000 do list[i] = { id = "b" .. i, status = "DONE" } end
   local batch = st:state_batch(list, {}, {}, cjson.encode)
   local pid = H.read_file("/proc/self/stat"):match("^%d+")
   db:exec("BEGIN")
   st:insert_batch(batch, {})
   -- The host's SIGINT: its hook raises 'interrupted!' in Lua and clears
   -- the flag; the writer must not go on with the rows regardless.
   local ok, err = pcall(function()
      local p = io.popen("kill -INT " .. pid)   -- (os.execute ignores SIGINT while it waits)
      p:read("a")
      p:close()
      while true do end
   end)
   H.eq(ok, false)
   H.contains(tostring(err), "interrupted")
   ok, err = pcall(db.exec, db, "SELECT 1")
   H.eq(ok, false, "the next call says the rows were not all written")
   H.contains(tostring(err), "interrupted")
   db:exec("ROLLBACK")
   db:close()
end)

H.test("a recorded scan reads back exactly as recorded, int64 and times included", function()
   local path = H.tmpname(".db")
   local r = fleet(2, 3)
   local scan = assert(history.record(path, r, scope(1000)))
   H.eq(scan, 1)
   local h = assert(history.open(path))
   local back = h:results(scan)
   H.eq(#back, 2)
   H.eq(back[1].cluster, r[1].cluster, "cluster")
   H.eq(back[1].backups, r[1].backups, "backups")
   H.eq(math.type(back[1].backups[1].journalSize), "integer")
   H.eq(back[1].backups[1].journalSize, 12345678901234567)
   H.eq(h:scan(scan).folder, FOLDER)
   h:close()
   H.eq(sqlite3(path, "PRAGMA journal_mode; PRAGMA user_version; PRAGMA application_id; PRAGMA page_size"),
      "wal\n" .. history.SCHEMA_VERSION .. "\n1835295340\n16384", "a new file has 16 KiB pages")
end)

H.test("a cluster id known under two engines: cluster_ref and lives.cluster name both, pick neither", function()
   local path = H.tmpname(".db")
   local r = fleet(1, 2)
   local s = mdb._sqlite
   local id = r[1].id
   r[2] = { engine = "mysql", id = id,
      cluster = s.normalize("cluster", "mysql", { id = id, folderId = FOLDER, name = "my",
         config = { backupRetainPeriodDays = "7" } }),
      backups = { s.normalize("backup", "mysql", H.backup(id .. ":my", id, "2026-05-01T00:00:00Z")) } }
   assert(history.record(path, r, { folder = FOLDER, engines = { "postgresql", "mysql" }, tool = "test",
      time = 1000 }))
   local lives = require "mdb.history_lives"
   local h = assert(history.open(path))
   local ref, why = h:cluster_ref(id)
   H.eq(ref, nil)
   H.eq(why, "cluster " .. id .. " is known under 2 engines (mysql, postgresql): say which")
   local t, msg = lives.cluster(h, id)
   H.eq(t, nil)
   H.eq(msg, why)
   local ref_pg, eng = h:cluster_ref(id, "postgresql")
   H.ok(ref_pg, "found under postgresql")
   H.eq(eng, "postgresql")
   H.eq(lives.cluster(h, id, "mysql").engine, "mysql")
   H.eq(#lives.cluster(h, id, "postgresql").durations, 2)
   local changes = require "mdb.history_changes"
   local list, cmsg = changes.of_cluster(h, nil, id, 1, 1)
   H.eq(list, nil)
   H.eq(cmsg, why)
   H.eq(changes.of_cluster(h, "mysql", id, 1, 1), {})
   H.eq(changes.of_cluster(h, nil, "c9qnosuchcluster", 1, 1), {})
   local none, none_why = h:cluster_ref("c9qnosuchcluster")
   H.eq(none, nil)
   H.eq(none_why, nil, "unknown: no message")
   h:close()
end)

H.test("an unchanged fleet adds no backup rows; a changed backup adds one state", function()
   local path = H.tmpname(".db")
   local r = fleet(3, 10)
   for i = 1, 5 do assert(history.record(path, r, scope(1000 * i))) end
   H.eq(sqlite3(path, "SELECT count(*) FROM backup_states; SELECT count(*) FROM scans"), "30\n5")
   r[1].backups[1].status = "CREATING"
   assert(history.record(path, r, scope(6000)))
   H.eq(sqlite3(path, "SELECT count(*) FROM backup_states"), "31")
   local h = assert(history.open(path))
   H.eq(h:results(5)[1].backups[1].status, "DONE", "the state of scan 5")
   H.eq(h:results(6)[1].backups[1].status, "CREATING", "the state of scan 6")
   h:close()
end)

H.test("retention policies and operations: states per change, failed and unlisted as such", function()
   local s = mdb._sqlite
   local function policy(id, days)
      return s.normalize("policy", "postgresql", { policyId = id, policyName = "p-" .. id, retainForDays = days,
         createdAt = "2026-01-01T00:00:00Z", cron = { dayOfMonth = "*", month = "*", dayOfWeek = "*" } })
   end
   local function op(id, done, extra)
      local o = { id = id, createdAt = "2026-05-01T00:00:00Z", modifiedAt = "2026-05-01T01:00:00Z", done = done,
         metadata = { ["@type"] = "type.googleapis.com/yandex.cloud.mdb.postgresql.v1.BackupClusterMetadata" } }
      for k, v in pairs(extra or {}) do o[k] = v end
      return s.normalize("operation", "postgresql", o)
   end
   local path = H.tmpname(".db")
   local scans = {
      { policies = { policy("p1", "30"), policy("p2", "7") }, operations = { op("o1", false), op("o2", true) } },
      { policies_error = "listing retention policies: HTTP 403", operations = { op("o1", true,
         { error = { code = 13, message = "failed" } }) } },
      {},   -- neither listed
      { policies = { policy("p2", "7"), policy("p1", "30") }, operations = {} },
   }
   for i, extra in ipairs(scans) do
      local r = fleet(1, 2)
      for k, v in pairs(extra) do r[1][k] = v end
      assert(history.record(path, r, scope(i)))
   end
   local h = assert(history.open(path))
   local function ids(list, key)
      if list == nil then return nil end
      local out = {}
      for i, x in ipairs(list) do out[i] = x[key or "id"] end
      return out
   end
   local e = h:results(1)[1]
   H.eq(ids(e.policies, "policyId"), { "p1", "p2" })
   H.eq(e.policies[1].retainForDays, 30)
   H.eq(e.policies[1].created, mdb.parse_time("2026-01-01T00:00:00Z"))
   H.eq(e.policies[1].engine, "postgresql")
   H.eq(ids(e.operations), { "o1", "o2" })
   H.eq(e.operations[1].done, false)
   H.eq(e.operations[1].modified, mdb.parse_time("2026-05-01T01:00:00Z"))
   e = h:results(2)[1]
   H.eq(e.policies, nil)
   H.eq(tostring(e.policies_error), "listing retention policies: HTTP 403")
   H.eq(ids(e.operations), { "o1" })
   H.eq(e.operations[1].error.code, 13)
   H.eq(math.type(e.operations[1].error.code), "integer")
   e = h:results(3)[1]
   H.eq({ e.policies, e.policies_error, e.operations, e.operations_error }, {})
   e = h:results(4)[1]
   H.eq(ids(e.policies, "policyId"), { "p2", "p1" }, "the listing order is kept")
   H.eq(e.operations, {})
   -- one state per change: the policy list at scans 1 and 4; o1 twice, o2 once
   H.eq(h:one("SELECT count(*) FROM policy_states"), 2)
   H.eq(h:one("SELECT count(*) FROM operation_states"), 3)
   H.eq(h:one("SELECT until_scan FROM operation_states WHERE operation_id = 'o2'"), 2)
   h:close()
end)

H.test("a failed listing changes nothing: not read as vanished", function()
   local path = H.tmpname(".db")
   local r = fleet(2, 4)
   assert(history.record(path, r, scope(1000)))
   local failed = fleet(2, 4)
   failed[1].backups = { failed[1].backups[1] }
   failed[1].error = setmetatable({ kind = "http" }, { __tostring = function() return "http error: boom" end })
   assert(history.record(path, failed, scope(2000)))
   H.eq(sqlite3(path, "SELECT count(*) FROM backup_states WHERE until_scan IS NOT NULL"), "0")
   H.eq(sqlite3(path, "SELECT status, items, error FROM listings WHERE scan = 2 AND cluster_id = 'c9qtest0001'"),
      "failed|1|http error: boom")
   local h = assert(history.open(path))
   local back = h:results(2)
   H.eq(tostring(back[1].error), "http error: boom")
   H.eq(#back[1].backups, 4, "backups as of the last complete listing")
   H.eq(back[1].as_of, 1)
   h:close()
   -- A failed Cluster.List: no cluster of that engine is gone.
   assert(history.record(path, { { engine = "postgresql", error = "clusters failed" } }, scope(3000)))
   H.eq(sqlite3(path, "SELECT count(*) FROM cluster_states WHERE until_scan IS NOT NULL"), "0")
   -- A complete Cluster.List without a cluster: it is gone with its backups.
   assert(history.record(path, { r[2] }, scope(4000)))
   H.eq(sqlite3(path, "SELECT count(*) FROM backup_states WHERE until_scan = 4"), "4")
end)

H.test("100 scans of an unchanged fleet grow the file by a small constant each", function()
   local path = H.tmpname(".db")
   local r = fleet(10, 100)
   assert(history.record(path, r, scope(1)))
   local h = assert(history.open(path, { write = true }))
   h.db:exec("PRAGMA wal_checkpoint(TRUNCATE)")
   local base = file_bytes(path)
   for i = 2, 101 do h:record(r, scope(i)) end
   h.db:exec("PRAGMA wal_checkpoint(TRUNCATE)")
   h:close()
   local per = (file_bytes(path) - base) / 100
   H.ok(per < 4096, "bytes per unchanged scan of 1000 backups: " .. per)
end)

H.test("a file that is not a history, or is newer, is refused and left untouched", function()
   local text = H.write_file(H.tmpname(".db"), "just some text, not a database\n")
   local h, err = history.open(text, { write = true })
   H.eq(h, nil)
   H.contains(err, "is not an mdblua history")
   H.eq(H.read_file(text), "just some text, not a database\n")
   local other = H.tmpname(".db")
   sqlite3(other, "CREATE TABLE t(a); INSERT INTO t VALUES (1)")
   local before = H.read_file(other)
   h, err = history.open(other, { write = true })
   H.eq(h, nil)
   H.contains(err, "another application")
   H.eq(H.read_file(other) == before, true, "bytes unchanged")
   local newer = H.tmpname(".db")
   assert(history.record(newer, fleet(1, 1), scope(1)))
   sqlite3(newer, "PRAGMA user_version = 99")
   before = H.read_file(newer)
   for _, write in ipairs({ true, false }) do
      h, err = history.open(newer, { write = write })
      H.eq(h, nil)
      H.contains(err, "schema version 99, newer than this mdblua knows")
   end
   H.eq(H.read_file(newer) == before, true, "bytes unchanged")
   h, err = history.open(H.tmpname(".db"))
   H.eq(h, nil)
   H.contains(err, "no such history file")
end)

H.test("a WAL-mode file that is not a history gets no -wal or -shm beside it, read or recorded", function()
   local other = H.tmpname(".db")
   sqlite3(other, "PRAGMA journal_mode = WAL; CREATE TABLE t(a); INSERT INTO t VALUES (1)")
   H.eq(exists(other .. "-wal") or exists(other .. "-shm"), false, "the shell left no log")
   local newer = H.tmpname(".db")
   assert(history.record(newer, fleet(1, 1), scope(1)))
   sqlite3(newer, "PRAGMA user_version = 99")
   for _, case in ipairs({ { other, "another application" }, { newer, "newer than this mdblua knows" } }) do
      local path, want = case[1], case[2]
      local before = H.read_file(path)
      for _, write in ipairs({ false, true }) do
         local h, err = history.open(path, { write = write })
         H.eq(h, nil)
         H.contains(err, want)
         H.eq(exists(path .. "-wal"), false, path .. "-wal after opening, write=" .. tostring(write))
         H.eq(exists(path .. "-shm"), false, path .. "-shm after opening, write=" .. tostring(write))
      end
      H.eq(H.read_file(path) == before, true, "bytes unchanged")
   end
end)

H.test("a dry run whose file a recorder took after it opened goes on in memory, at once", function()
   local path = H.tmpname(".db")
   assert(history.record(path, fleet(2, 3), scope(1)))
   local before = H.read_file(path)
   local dry = scope(2)
   dry.dry = true
   -- one cluster of two is left: what the rolled-back transaction sees
   local function closed(h)
      return h:record({ fleet(2, 3)[1] }, dry, function(scan)
         return h:one("SELECT count(*) FROM backup_states WHERE until_scan = ?", scan)
      end)
   end
   local h = assert(history.open(path, { dry = true, record_wait = 3 }))
   local want = select(2, closed(h))
   h:close()
   H.ok(want > 0, "the dry run sees the other cluster's backups closed")
   h = assert(history.open(path, { dry = true, record_wait = 3 }))
   H.eq(h:one("SELECT count(*) FROM scans"), 1, "a statement cached before the recorder came")
   -- another connection takes the write lock, as a recorder does for its scan
   local other = mdb._sqlite.open(path, "rw", 0)
   other:exec("BEGIN IMMEDIATE")
   local t0 = os.time()
   local ok, _, got = pcall(closed, h)
   H.ok(ok, tostring(_))
   H.eq(got, want)
   H.eq(select(2, closed(h)), want, "and again")
   H.ok(os.time() - t0 <= 1, "without waiting for the lock")
   other:exec("ROLLBACK")
   other:close()
   h:close()
   H.eq(H.read_file(path) == before, true, "the file's bytes are unchanged")
   H.eq(sqlite3(path, "SELECT count(*) FROM scans"), "1")
end)

H.test("migrations from version 1 keep the data and fill the new columns", function()
   local path = H.tmpname(".db")
   local h = assert(history.open(path, { write = true }))
   h:migrate(1)
   h:close()
   H.eq(sqlite3(path, "PRAGMA user_version"), "1")
   -- A version-1 row, written as version 1 wrote it.
   sqlite3(path, [[INSERT INTO scans VALUES (1, 1000, '1970-01-01T00:16:40Z', 'f', 'mysql', 'v1');
      INSERT INTO clusters VALUES (1, 'mysql', 'c1', 'f');
      INSERT INTO backup_states (cluster, backup_id, from_scan, created, type, status, size, digest, data)
        VALUES (1, 'b1', 1, 1000, 'AUTOMATED', 'DONE', 5, 0,
        '{"id":"b1","retainUntil":"2030-01-01T00:00:00Z","createdAt":"1970-01-01T00:16:40Z"}');]])
   -- Reading an old file reads it as the current version, untouched.
   local before = H.read_file(path)
   local r = assert(history.open(path))
   H.eq(r.migrated_from, 1)
   H.eq(r:one("SELECT retain_until FROM backup_states"), "2030-01-01T00:00:00Z")
   H.eq(#r:results(1), 0)
   r:close()
   H.eq(sqlite3(path, "PRAGMA user_version"), "1")
   H.eq(H.read_file(path) == before, true, "the file's bytes are unchanged")
   h = assert(history.open(path, { write = true }))
   h:migrate()
   h:close()
   H.eq(sqlite3(path, "PRAGMA user_version"), tostring(history.SCHEMA_VERSION))
   H.eq(sqlite3(path, "SELECT retain_until FROM backup_states"), "2030-01-01T00:00:00Z")
   H.eq(sqlite3(path, "SELECT kind, backup_id FROM changes"), "appeared|b1")
   H.eq(sqlite3(path, "SELECT count(*) FROM policy_states; SELECT count(*) FROM operation_states;"
      .. " SELECT count(*) FROM listings WHERE policies IS NOT NULL"), "0\n0\n0", "version 3's tables, empty")
   H.eq(sqlite3(path, "SELECT quote(folders), quote(cloud), quote(all_clouds) FROM scans;"
      .. " SELECT count(*) FROM listings WHERE folder IS NOT NULL OR cloud IS NOT NULL"), "NULL|NULL|NULL\n0",
      "version 4's columns, empty for older scans")
   h = assert(history.open(path))
   local sc = h:scan(1)
   H.eq({ sc.folder, sc.folders, sc.cloud, sc.all_clouds }, { "f" }, "an older scan's scope: its folder")
   h:close()
   H.eq(sqlite3(path, "PRAGMA integrity_check"), "ok")
end)

-- Run Lua code in a child mdblua that cannot write read-only files.
local function as_reader(code)
   return H.run({ H.write_file(H.tmpname(".lua"), code) }, { reader = true })
end

H.test("a read-only file, in a read-only directory too, works for reading", function()
   local dir = H.tmpname(".dir")
   os.execute("mkdir -p " .. H.sh_quote(dir))
   local path = dir .. "/h.db"
   assert(history.record(path, fleet(1, 2), scope(1)))
   os.execute("chmod 444 " .. H.sh_quote(path))
   local read = string.format([[
      local history = require "mdb.history"
      local h = assert(history.open(%q))
      print(#h:results(1)[1].backups, h:latest().id)
      h:close()
      print(select(2, history.record(%q, {}, { engines = { "postgresql" } })))]], path, path)
   local r = as_reader(read)
   H.eq(r.code, 0, r.stderr)
   local n, err = r.stdout:match("^(%d+\t%d+)\n(.*)$")
   H.eq(n, "2\t1")
   H.contains(err, "h.db: cannot open it for recording (")
   os.execute("chmod 555 " .. H.sh_quote(dir))
   r = as_reader(read)
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout:match("^%d+\t%d+"), "2\t1", "read from a read-only directory")
   os.execute("chmod 755 " .. H.sh_quote(dir) .. "; chmod 644 " .. H.sh_quote(path))
   H.eq(sqlite3(path, "SELECT count(*) FROM scans; PRAGMA integrity_check"), "1\nok")
   -- A writer killed before it closed leaves committed scans in the WAL
   -- (os.exit would not: connections at rest are closed at exit): a
   -- reader that cannot use it says so instead of reading less.
   local src = H.write_file(H.tmpname(".lua"), string.format([[
      local history = require "mdb.history"
      local h = assert(history.open(%q, { write = true }))
      h:record({}, { engines = { "postgresql" }, time = 5 })
      local stat = assert(io.open("/proc/self/stat"))
      os.execute("kill -KILL " .. stat:read("n"))]], path))
   H.eq(H.run({ src }).code, 128 + 9)
   H.ok(file_bytes(path .. "-wal") > 0, "the WAL is left")
   -- (the log and its index too: another user may write none of them)
   os.execute("chmod 444 " .. H.sh_quote(path) .. " " .. H.sh_quote(path .. "-wal") .. " "
      .. H.sh_quote(path .. "-shm") .. "; chmod 555 " .. H.sh_quote(dir))
   r = as_reader(read)
   H.eq(r.code, 0, "with the WAL index there, SQLite reads the log: " .. r.stderr)
   H.eq(r.stdout:match("^%d+\t%d+"), "2\t2", "the scan in the log is read")
   os.execute("chmod 755 " .. H.sh_quote(dir) .. "; rm -f " .. H.sh_quote(path .. "-shm") .. "; chmod 555 "
      .. H.sh_quote(dir))
   -- Whatever this process may still hold of the file is released now, as
   -- a collector may do at any moment: the reader's verdict must not
   -- depend on it (a connection left open by a lost statement used to
   -- fold the log into the file here, as root, when it was collected).
   collectgarbage()
   H.ok(file_bytes(path .. "-wal") > 0, "the WAL is still there")
   r = as_reader(read)
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "write-ahead log")
   -- A log the reader may not even read is refused too, never skipped.
   os.execute("chmod 755 " .. H.sh_quote(dir) .. "; chmod 000 " .. H.sh_quote(path .. "-wal"))
   r = as_reader(read)
   H.eq(r.code, 2, "an unreadable log: " .. r.stdout .. r.stderr)
   H.contains(r.stderr, "h.db-wal may hold scans not yet in the file, and it cannot be read (Permission denied)")
   os.execute("chmod 755 " .. H.sh_quote(dir) .. "; chmod 644 " .. H.sh_quote(path) .. " "
      .. H.sh_quote(path .. "-wal"))
   H.eq(sqlite3(path, "SELECT count(*) FROM scans"), "2", "no reader recorded")
end)

-- The descriptors this process holds on `path` (or its -wal and -shm).
local function open_fds(path)
   local pid = assert(io.open("/proc/self/stat")):read("n")
   local p = assert(io.popen("ls -l /proc/" .. pid .. "/fd 2>/dev/null"))
   local n = 0
   for line in p:lines() do
      if line:find(path, 1, true) then n = n + 1 end
   end
   p:close()
   return n
end

H.test("closing a history closes the file: the log is folded in and removed", function()
   -- With the collector stopped, only close() itself can release it.
   collectgarbage("stop")
   local path = H.tmpname(".db")
   local ok, err = pcall(function()
      assert(history.record(path, fleet(1, 2), scope(1)))
      H.eq(open_fds(path), 0, "descriptors left by record")
      H.eq(exists(path .. "-wal"), false, "a -wal left by record")
      local h = assert(history.open(path))
      H.eq(#h:results(1)[1].backups, 2)
      h:close()
      H.eq(open_fds(path), 0, "descriptors left by a reader")
      sqlite3(path, "PRAGMA user_version = 99")
      local none, why = history.open(path)
      H.eq(none, nil)
      H.contains(why, "newer than this mdblua knows")
      H.eq(open_fds(path), 0, "descriptors left by a refused open")
   end)
   collectgarbage("restart")
   assert(ok, err)
end)

-- A recorder in its own mdblua process; `code` runs after `fleet`.
local function recorder(path, clusters, backups, time, extra, tag)
   local src = H.write_file(H.tmpname(".lua"), string.format([[
      local history = require "mdb.history"
      local s = require("mdb")._sqlite
      local results = {}
      for c = 1, %d do
         local id = string.format("c9qbig%%04d", c)
         local bs = {}
         for i = 1, %d do
            bs[i] = s.normalize("backup", "postgresql", { id = id .. ":" .. i .. ":" .. %d, sourceClusterId = id,
               createdAt = "2026-11-01T00:00:00Z", size = "1000", type = "AUTOMATED" })
         end
         results[c] = { engine = "postgresql", id = id, backups = bs,
            cluster = s.normalize("cluster", "postgresql", { id = id, folderId = %q }) }
      end
      %s
      assert(history.record(%q, results, { folder = %q, engines = { "postgresql" }, time = %s }))
      print("recorded")
   ]], clusters, backups, tag or time, FOLDER, extra or "", path, FOLDER, time and tostring(time) or "nil"))
   return src
end

H.test("two recorders at once both succeed", function()
   local path = H.tmpname(".db")
   assert(history.record(path, fleet(1, 1), scope(1)))
   -- no time given: each takes the clock's once the file is its own, so the
   -- one that waited is never refused as taken before the other
   local a = recorder(path, 4, 20000, nil, nil, 2)
   local b = recorder(path, 4, 20000, nil, nil, 3)
   local outa, outb = H.tmpname(".out"), H.tmpname(".out")
   local ok = os.execute(string.format("(%s %s >%s 2>&1 & %s %s >%s 2>&1 & wait)",
      H.sh_quote(H.mdblua), H.sh_quote(a), H.sh_quote(outa), H.sh_quote(H.mdblua), H.sh_quote(b), H.sh_quote(outb)))
   H.ok(ok)
   H.eq(H.read_file(outa), "recorded\n")
   H.eq(H.read_file(outb), "recorded\n")
   H.eq(sqlite3(path, "SELECT count(*) FROM scans; PRAGMA integrity_check"), "3\nok")
end)

-- Start a recorder of 400,000 backups, wait until it is writing (with
-- `wal_min`, until its write-ahead log holds that many bytes of the scan's
-- pages), send it `signal`; returns its exit status, stderr and the log's
-- size when the signal was sent.
local function interrupt(path, signal, wal_min)
   local marker = H.tmpname(".started")
   -- Say when the transaction is open and being written.
   local src = recorder(path, 20, 20000, 2, string.format([[
      local orig = history.open
      history.open = function(...)
         local h, e = orig(...)
         if h then
            local rec = h.record
            h.record = function(self, r, sc)
               local mt = getmetatable(self)
               local run = mt.run
               local n = 0
               mt.run = function(me, sql, ...)
                  n = n + 1
                  if n == 10 then io.open(%q, "w"):close() end
                  return run(me, sql, ...)
               end
               return rec(self, r, sc)
            end
         end
         return h, e
      end]], marker))
   local pidfile, codefile, errfile = H.tmpname(".pid"), H.tmpname(".code"), H.tmpname(".err")
   os.execute(string.format("(sh -c 'echo $$ > %s; exec %s %s' >/dev/null 2>%s; echo $? > %s) &",
      pidfile, H.sh_quote(H.mdblua), H.sh_quote(src), H.sh_quote(errfile), H.sh_quote(codefile)))
   local waited = 0
   while not io.open(marker) and waited < 600 do
      os.execute("sleep 0.05")
      waited = waited + 1
   end
   H.ok(io.open(marker), "the recorder started writing")
   local wal = 0
   if wal_min then
      -- (polled without a shell: the pages are written in about 0.4 s)
      local deadline = os.time() + 60
      while wal < wal_min and os.time() < deadline and not H.read_file(codefile) do
         wal = exists(path .. "-wal") and file_bytes(path .. "-wal") or 0
      end
   else
      os.execute("sleep 0.3")
   end
   os.execute("kill -" .. signal .. " " .. H.read_file(pidfile):match("%d+"))
   waited = 0
   while not H.read_file(codefile) and waited < 200 do
      os.execute("sleep 0.05")
      waited = waited + 1
   end
   return tonumber((H.read_file(codefile) or ""):match("%d+")), H.read_file(errfile) or "", wal
end

H.test("a recorder killed with SIGKILL in the middle leaves the file at the previous scan", function()
   local path = H.tmpname(".db")
   assert(history.record(path, fleet(2, 5), scope(1)))
   -- Killed once the scan's pages are being written to the log (a large
   -- write under way, not a transaction that wrote nothing yet).
   local code, _, wal = interrupt(path, "KILL", 1 << 20)
   H.eq(code, 137, "killed inside the transaction, before its commit")
   H.ok(wal >= 1 << 20, "the log held " .. wal .. " bytes of the scan when it was killed")
   H.eq(sqlite3(path, "PRAGMA integrity_check; SELECT count(*) FROM scans; SELECT count(*) FROM backup_states"),
      "ok\n1\n10")
   -- And the next recorder goes on from there.
   assert(history.record(path, fleet(2, 5), scope(3)))
   H.eq(sqlite3(path, "SELECT group_concat(id) FROM scans"), "1,2")
end)

H.test("Ctrl-C in the middle of recording rolls the scan back", function()
   local path = H.tmpname(".db")
   assert(history.record(path, fleet(2, 5), scope(1)))
   local code, err = interrupt(path, "INT")
   H.eq(code, 130, err)
   H.contains(err, "interrupted")
   H.eq(sqlite3(path, "PRAGMA integrity_check; SELECT count(*) FROM scans; SELECT count(*) FROM backup_states"),
      "ok\n1\n10")
end)

H.test("a scan recorded from the fake API reads back equal to the live results", function()
   local server = H.start_fake({ "--demo", "--now", "2026-11-23T18:38:38Z" })
   local client = H.client(server)
   local results = client:scan { engines = mdb.engines, folder = "b1gdemofolder0000001" }
   local path = H.tmpname(".db")
   local scan = assert(history.record(path, results, { folder = "b1gdemofolder0000001", engines = mdb.engines }))
   local h = assert(history.open(path))
   local back = h:results(scan)
   H.eq(#back, #results)
   for i, e in ipairs(results) do
      H.eq(back[i].id, e.id)
      H.eq(back[i].cluster, e.cluster, "cluster " .. tostring(e.id))
      local sorted = {}
      for k, b in ipairs(e.backups) do sorted[k] = b end
      table.sort(sorted, function(x, y)
         if x.created ~= y.created then return (x.created or 0) > (y.created or 0) end
         return x.id < y.id
      end)
      H.eq(back[i].backups, sorted, "backups of " .. tostring(e.id))
   end
   h:close()
end)

H.test("a backup id a listing repeats keeps its first state, in a first recording and a later one", function()
   local path = H.tmpname(".db")
   for round = 1, 2 do
      local results = fleet(1, 2, { newest = 1780000000 + round })
      local first = results[1].backups[1]
      local again = {}
      for k, v in pairs(first) do again[k] = v end
      again.size = 7 -- the same id with other values, later in the listing
      table.insert(results[1].backups, again)
      assert(history.record(path, results, scope(round)))
      H.eq(sqlite3(path, "SELECT count(*), group_concat(size) FROM backup_states"
         .. " WHERE backup_id = '" .. first.id .. "' AND until_scan IS NULL"), "1|" .. first.size,
         "round " .. round .. ": one open state, the first one's")
   end
end)

H.test("a cluster twice in one recorded scan is refused, and the scan not recorded", function()
   local path = H.tmpname(".db")
   local results = fleet(2, 3)
   results[3] = results[1]
   local ok, err = history.record(path, results, scope(1))
   H.eq(ok, nil)
   H.contains(err, "postgresql cluster c9qtest0001 is twice in one scan")
   -- rolled back with the schema it began with: still an empty file
   local h, herr = history.open(path)
   H.eq(h, nil)
   H.eq(herr, path .. " is empty, not an mdblua history yet (record a scan first)")
   H.eq(history.record(path, fleet(2, 3), scope(1)), 1, "a later recording records")
end)

H.test("the sqlite3 shell: the README's queries and the views they use", function()
   local HF = require "history_fleet"
   local db = HF.record(H)   -- scans at NOW-3d, -2d, -1d (snapshot.lua)
   -- every `sqlite3 fleet.db "..."` line of README's History section runs
   local readme = H.read_file(H.source_dir .. "/README.md")
   local section = readme:match("\n## History\n(.-)\n## ")
   local n = 0
   for sql in section:gmatch('\nsqlite3 fleet%.db "([^"]+)"') do
      n = n + 1
      local p = assert(io.popen("sqlite3 -bail " .. H.sh_quote(db) .. " " .. H.sh_quote(sql) .. " 2>&1; echo rc=$?"))
      local out = p:read("a")
      p:close()
      H.contains(out, "\nrc=0\n", sql)
      H.ok(#out > #"rc=0\n" + 1, "rows from: " .. sql)
   end
   H.ok(n >= 3, "the README's sqlite3 examples: " .. n)
   -- current_backups: each cluster's backups as of its latest complete listing
   local want = {}
   for _, r in ipairs(HF.records(HF.SCANS[3])) do
      if r[1] == "backup" then want[r[4]] = (want[r[4]] or 0) + 1 end
   end
   H.eq(sqlite3(db, "SELECT cluster_id, count(*), min(last_scan), max(last_scan) FROM current_backups"
      .. " GROUP BY 1 ORDER BY 1"), string.format("%s|%d|3|3\n%s|%d|3|3", HF.A, want[HF.A], HF.B, want[HF.B]))
   H.eq(sqlite3(db, "SELECT first_scan, type FROM current_backups WHERE backup_id = '" .. HF.A
      .. ":auto-2026-11-30T01:00:00Z'"), "1|AUTOMATED")
   -- changes: the manual backup gone at scan 3, B's retention shrinking
   H.eq(sqlite3(db, "SELECT scan, time, type FROM changes WHERE kind = 'vanished' AND backup_id = '" .. HF.A
      .. ":manual-1'"), "3|" .. HF.at(HF.SCANS[3]) .. "|MANUAL")
   H.eq(sqlite3(db, "SELECT scan, cluster_id, old, new FROM changes WHERE kind = 'settings'"),
      "3|" .. HF.B .. "|7 days, window 01:00:00|3 days, window 01:00:00")
   H.eq(sqlite3(db, "SELECT count(*) FROM changes WHERE kind = 'cluster_vanished'"), "0",
      "a cluster whose settings changed is not gone")
end)

H.run_all()
