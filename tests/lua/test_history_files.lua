-- What a review of the history's file handling found wrong, kept fixed:
-- names that SQLite would take for URIs, files that are not ours (or are
-- newer) with a write-ahead log still holding data, a write-protected
-- file under --db, and a damaged history.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"

local FOLDER = "b1gdemofolder0000001"
local NOW = "2026-11-25T12:00:00Z"

-- A new, empty directory of the scratch area.
local fresh_dir = H.fresh_dir

local exists = H.exists

-- The names in directory `d`, sorted, as one line.
local function listing(d)
   local p = assert(io.popen("ls -A " .. H.sh_quote(d)))
   local out = {}
   for l in p:lines() do out[#out + 1] = l end
   p:close()
   return table.concat(out, " ")
end

local function script(name, args, opts)
   opts = opts or {}
   return H.run(H.with({ H.source_dir .. "/scripts/" .. name }, table.unpack(args)), { cwd = opts.cwd,
      reader = opts.reader, env = { YC_MDB_ENDPOINT = opts.server and opts.server.url or "http://127.0.0.1:9",
      YC_IAM_TOKEN = H.token, YC_FOLDER_ID = FOLDER, NO_COLOR = "1" } })
end

-- A history of one scan of the demo fleet at `path` (run in `cwd`).
local function snapshot(path, cwd)
   local server = H.start_fake { "--demo", "--now", NOW }
   local r = script("snapshot.lua", { "--db", path, "--now", "2026-11-26T12:00:00Z" }, { server = server, cwd = cwd })
   server.stop()
   H.eq(r.code, 0, r.stderr)
   return r
end

H.test("a name starting with file: is the file of that name, not an SQLite URI", function()
   local d = fresh_dir()
   local r = snapshot("file:fx.db", d)
   H.contains(r.stderr, "recorded in file:fx.db")
   H.eq(listing(d), "file:fx.db", "the file named so, nothing else")
   -- "?mode=memory" is part of the name: the scan is in that file
   snapshot("file:m.db?mode=memory", d)
   H.eq(listing(d), "file:fx.db file:m.db?mode=memory")
   for _, name in ipairs { "file:fx.db", "file:m.db?mode=memory", d .. "/file:m.db?mode=memory" } do
      r = script("changes.lua", { "--db", name, "--format", "json" }, { cwd = d })
      H.eq(r.code, 0, name .. ": " .. r.stderr)
      H.contains(r.stdout, '"to":{"id":1,', name)
      r = script("history.lua", { "--db", name, "cluster", "no-such-cluster" }, { cwd = d })
      H.eq(r.code, 1, name .. ": " .. r.stderr)
   end
end)

H.test("a path starting with // in a read-only directory is read, and no URI is ever shown", function()
   local d = fresh_dir()
   snapshot(d .. "/plain.db")
   os.execute("chmod 555 " .. H.sh_quote(d))
   local r = script("changes.lua", { "--db", "/" .. d .. "/plain.db", "--format", "json" }, { reader = true })
   local missing = script("changes.lua", { "--db", "/" .. d .. "/no?such#file.db" }, { reader = true })
   os.execute("chmod 755 " .. H.sh_quote(d))
   H.eq(r.code, 0, r.stderr)
   H.contains(r.stdout, '"to":{"id":1,')
   H.eq(missing.code, 2, missing.stderr)
   H.eq(missing.stderr, "changes.lua: /" .. d .. "/no?such#file.db: no such history file\n")
   H.eq(listing(d), "plain.db", "nothing left beside it")
end)

-- Copy `db` and its write-ahead log to `to` while a connection that has
-- written to it is still open: a log with frames never checkpointed, as a
-- writer that died leaves it.
local function copy_with_log(db, to)
   for _, x in ipairs { "", "-wal" } do
      H.write_file(to .. x, assert(H.read_file(db .. x)))
   end
end

-- `sql` written into a log of `path` (WAL mode, never checkpointed),
-- copied to `to` as the writer left it.
local function logged(path, sql, to)
   local s = require("mdb")._sqlite
   local db = s.open(path, "rwc", 0)
   db:exec("PRAGMA journal_mode = WAL")
   db:exec("PRAGMA wal_autocheckpoint = 0")
   db:exec(sql)
   copy_with_log(path, to)
   db:close()
   return to
end

H.test("a file not ours, or newer, whose log holds data is refused untouched, nothing left beside it", function()
   local d = fresh_dir()
   local foreign = logged(H.tmpname(".db"), "CREATE TABLE t(a); INSERT INTO t VALUES (1)", d .. "/foreign.db")
   local v4 = H.tmpname(".db")
   snapshot(v4)
   local newer = logged(v4, "PRAGMA user_version = 99", d .. "/newer.db")
   H.eq(H.read_file(newer):sub(61, 64), "\0\0\0\4", "version 99 is only in the log")
   local empty = d .. "/empty.db"
   H.write_file(empty, "")
   H.write_file(empty .. "-wal", assert(H.read_file(newer .. "-wal")))
   local runs = { { "snapshot.lua", "--db" }, { "changes.lua", "--db" }, { "audit.lua", "--db" },
      { "audit.lua", "--from" }, { "inventory.lua", "--from" }, { "history.lua", "--db", "cluster", "x" } }
   for _, case in ipairs { { foreign, "is not an mdblua history (an SQLite file of another application)" },
      { newer, "has history schema version 99, newer than this mdblua knows" },
      { empty, "is empty, yet its write-ahead log " .. empty .. "-wal is not" } } do
      local path = case[1]
      local before, log = H.read_file(path), H.read_file(path .. "-wal")
      for _, run in ipairs(runs) do
         local args = { run[2], path }
         for i = 3, #run do args[#args + 1] = run[i] end
         local r = script(run[1], args)
         local what = run[1] .. " " .. run[2] .. " " .. path
         H.eq(r.code, 2, what .. ": " .. r.stderr)
         H.contains(r.stderr, path .. " " .. case[2], what)
         H.eq(select(2, r.stderr:gsub("\n", "")), 1, what .. ": one line")
         H.ok(H.read_file(path) == before, what .. ": the file is untouched")
         H.ok(H.read_file(path .. "-wal") == log, what .. ": its log is untouched")
         H.eq(exists(path .. "-shm"), false, what .. ": no -shm left")
      end
   end
   H.eq(listing(d), "empty.db empty.db-wal foreign.db foreign.db-wal newer.db newer.db-wal")
end)

H.test("--db on a write-protected file in a writable directory runs on a copy in memory", function()
   local d = fresh_dir()
   local path = d .. "/ro.db"
   snapshot(path)
   os.execute("chmod 444 " .. H.sh_quote(path))
   local before = H.read_file(path)
   local server = H.start_fake { "--demo", "--now", NOW }
   for _, run in ipairs { { "audit.lua", "--db", path, "--now", "2026-11-27T12:00:00Z" },
      { "inventory.lua", "--db", path, "--format", "html" } } do
      local r = script(run[1], { table.unpack(run, 2) }, { server = server, reader = true })
      H.ok(r.code == 0 or r.code == 1, run[1] .. ": " .. r.stderr)
      H.not_contains(r.stderr, "readonly", run[1])
      H.ok(#r.stdout > 0, run[1] .. ": a report")
      H.ok(H.read_file(path) == before, run[1] .. ": the file is untouched")
   end
end)

-- A copy of `path` at `to` with pages first..first+n-1 overwritten by a
-- pattern no page has (the header, page 1, intact).
local function damaged(path, to, first, n)
   local s, size = assert(H.read_file(path)), tonumber(H.sqlite3(path, "PRAGMA page_size"))
   local at, junk = (first - 1) * size, string.rep("\xA5\x5A\0\xFF", size // 4 * n)
   return H.write_file(to, s:sub(1, at) .. junk .. s:sub(at + #junk + 1))
end

H.test("a damaged history is one line naming the file, from every reader, and stays as it is", function()
   local d = fresh_dir()
   local v4 = d .. "/v4.db"
   snapshot(v4)
   local cluster = H.sqlite3(v4, "SELECT cluster_id FROM clusters ORDER BY id LIMIT 1")
   local backup = H.sqlite3(v4, "SELECT backup_id FROM backup_states ORDER BY id LIMIT 1")
   local function page_of(name)
      return tonumber(H.sqlite3(v4, "SELECT rootpage FROM sqlite_schema WHERE name = '" .. name .. "'"))
   end
   local runs = { { "changes.lua", "--db" }, { "audit.lua", "--from" }, { "inventory.lua", "--from" },
      { "inventory.lua", "--from", "--format", "html" }, { "history.lua", "--db", "cluster", cluster },
      { "history.lua", "--db", "backup", backup }, { "audit.lua", "--db" }, { "snapshot.lua", "--db" } }
   local server = H.start_fake { "--demo", "--now", NOW }
   -- the scans (every reader's first query), and the backups' states
   for _, case in ipairs { { "scans", page_of("scans") }, { "backup_states", page_of("backup_states") } } do
      local path = damaged(v4, d .. "/" .. case[1] .. ".db", case[2], 1)
      local before = H.read_file(path)
      local met = 0
      for _, run in ipairs(runs) do
         local args = { run[2], path }
         for i = 3, #run do args[#args + 1] = run[i] end
         local r = script(run[1], args, { server = server })
         local what = case[1] .. ": " .. table.concat(run, " ")
         if r.code ~= 0 then
            met = met + 1
            H.eq(r.code, 2, what .. ": " .. r.stderr)
            H.eq(r.stderr, run[1] .. ": " .. path .. ": database disk image is malformed\n", what)
         end
         H.ok(H.read_file(path) == before, what .. ": the file is untouched")
      end
      H.ok(met >= #runs - 1, case[1] .. ": the damage was met (" .. met .. " runs)")
   end
end)

H.test("readers leave nothing beside a history that had nothing beside it, whatever their exit", function()
   local d = fresh_dir()
   local path = d .. "/h.db"
   snapshot(path)
   local cluster = H.sqlite3(path, "SELECT cluster_id FROM clusters ORDER BY id LIMIT 1")
   local before = H.read_file(path)
   H.eq(listing(d), "h.db")
   for _, run in ipairs { { "changes.lua", "--db" }, { "changes.lua", "--db", "--to", "7" },
      { "history.lua", "--db", "cluster", cluster }, { "history.lua", "--db", "cluster", "nosuch" },
      { "audit.lua", "--from" }, { "inventory.lua", "--from", "--format", "html" },
      { "audit.lua", "--from", "--at", "2020-01-01T00:00:00Z" } } do
      local args = { run[2], path }
      for i = 3, #run do args[#args + 1] = run[i] end
      local r = script(run[1], args)
      local what = table.concat(run, " ")
      H.ok(r.code <= 2, what .. ": " .. r.stderr)
      H.eq(listing(d), "h.db", what .. ": nothing left beside the file")
      H.ok(H.read_file(path) == before, what .. ": the file is untouched")
   end
   -- the reader's connection may write the file, and refuses to
   local h = assert(require("mdb.history").open(path))
   local ok, err = pcall(h.db.exec, h.db, "CREATE TABLE x(a)")
   h:close()
   H.eq(ok, false)
   H.contains(tostring(err), "readonly")
   H.eq(listing(d), "h.db")
   H.ok(H.read_file(path) == before, "the file is untouched")
end)

H.run_all()
