--- The history store: every recorded scan in an SQLite file, so that
-- "what changed, and when did it vanish?" can be answered later, offline.
--
--   local history = require "mdb.history"
--   local h = assert(history.open("fleet.db", { write = true }))
--   local scan = h:record(results, { time = os.time(), folder = f, engines = e })
--   local results_then = h:results(scan)       -- as client:scan returned them
--   h:close()
--
-- Each backup is stored once per state (a row when it appears or any
-- field changes, closed when it changes or vanishes); a scan of an
-- unchanged fleet adds only the scan's row and one row per listing.  A
-- failed listing is recorded as failed and changes nothing else, so it is
-- never read as "its backups vanished".  See README "History".
-- @module mdb.history
local schema = require "mdb.history_schema"

local M = { SCHEMA_VERSION = schema.VERSION }

local format, concat = string.format, table.concat

local json = require("cjson").new()   -- a private instance: our settings only
json.encode_sparse_array(true)
json.decode_invalid_numbers(false)

local function sqlite()
   return require("mdb")._sqlite
end

local H = {}
H.__index = H
local Recorder = {}   -- h:recorder(scope): a scan recorded entry by entry
Recorder.__index = Recorder
H.__name = "mdb.history"
H.__close = function(h) h:close() end

-- The value of a one-off statement, finalized at once, error or not: a
-- statement left to the garbage collector keeps its connection alive after
-- close() (sqlite3_close_v2), holding the files and the WAL-index lock and
-- checkpointing the WAL into the file whenever it happens to be collected.
local function one_off(db, sql)
   local st = db:prepare(sql)
   local ok, v = pcall(st.one, st)
   st:finalize()
   if not ok then error(v, 0) end
   return v
end

local ENOENT = 2

-- io.open's message for `path` without the name it starts with.
local function os_reason(path, msg)
   local named = path .. ": "
   return msg:sub(1, #named) == named and msg:sub(#named + 1) or msg
end

-- Bytes in the write-ahead log beside `path`, 0 when there is none; nil and
-- the reason when one is there that we cannot read: it may hold scans.
local function wal_bytes(path)
   local f, msg, code = io.open(path .. "-wal", "rb")
   if not f then
      if code == ENOENT then return 0 end
      return nil, os_reason(path .. "-wal", msg)
   end
   local n = f:seek("end")
   f:close()
   return n
end

-- Whether FILE-wal or FILE-shm is there (or may be: one we cannot look at).
local function beside(path)
   for _, x in ipairs { "-wal", "-shm" } do
      local f, _, code = io.open(path .. x, "rb")
      if f then f:close() end
      if f or code ~= ENOENT then return true end
   end
   return false
end

local function writable(path)
   local f = io.open(path, "r+b")
   if f then f:close() end
   return f ~= nil
end

-- Identify the file before writing anything to it: an SQLite file that is
-- someone else's, or from a newer mdblua, is refused and left untouched.
local function identify(db, path, write)
   local ok, app, ver, tables = pcall(function()
      local a = one_off(db, "PRAGMA application_id")
      local v = one_off(db, "PRAGMA user_version")
      local t = one_off(db, "SELECT count(*) FROM sqlite_schema")
      return a, v, t
   end)
   if not ok then
      local why = tostring(app):gsub("^sqlite: ", "")
      if why:find("unable to open", 1, true) or why:find("readonly", 1, true) then
         -- Access, not format: the file may well be a history.
         return nil, format("%s: cannot open it%s (%s)", path, write and " for recording" or "", why)
      end
      return nil, format("%s is not an mdblua history (%s)", path, why)
   end
   if app == 0 and ver == 0 and tables == 0 then return "empty" end
   if app ~= schema.APPLICATION_ID then
      return nil, format("%s is not an mdblua history (an SQLite file of another application)", path)
   end
   if ver > schema.VERSION then
      return nil, format("%s has history schema version %d, newer than this mdblua knows (%d): "
         .. "use a newer mdblua", path, ver, schema.VERSION)
   end
   -- Marked as ours but without the tables every version has (made by
   -- hand, or damaged): reading would fail on the first query, recording
   -- would change it first.
   local missing
   ok, missing = pcall(one_off, db, [[SELECT group_concat(t.name, ', ') FROM (SELECT 'scans' AS name UNION ALL
      SELECT 'listings' UNION ALL SELECT 'clusters' UNION ALL SELECT 'cluster_states' UNION ALL
      SELECT 'backup_states') t WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema s WHERE s.type = 'table'
      AND s.name = t.name)]])
   if not ok or missing then
      return nil, format("%s is not a whole mdblua history (%s)", path,
         ok and ("missing tables: " .. missing) or tostring(missing):gsub("^sqlite: ", ""))
   end
   return ver
end

-- Why the file at `path` is not a history we may open, found through a
-- connection that writes nothing, in it or beside it; nil when it may be
-- one, or when only the usual way can tell (a log we cannot read).  The
-- usual way leaves an empty -wal and -shm beside a WAL-mode file it
-- reads, and checkpoints the log of one it opened for writing: someone
-- else's file, touched.  A log with data is read into memory ("peek"):
-- what it holds may be what refuses the file (a newer user_version).
local function refused_untouched(path)
   local pending = wal_bytes(path)
   if not pending then return nil end
   if pending > 0 then
      local f = io.open(path, "rb")
      local size = f and f:seek("end")
      if f then f:close() end
      -- SQLite deletes the log of an empty file when it opens it, even
      -- read-only; no history of ours is ever an empty file with a log.
      if size == 0 then
         return format("%s is empty, yet its write-ahead log %s-wal is not: not an mdblua history", path, path)
      end
   end
   local ok, db = pcall(sqlite().open, path, pending > 0 and "peek" or "immutable", 0)
   if not ok then return nil end
   local ver, err = identify(db, path)
   db:close()
   if ver or err:find(": cannot open it", 1, true) then return nil end
   return err
end

-- Bring the schema to version `upto` inside the caller's transaction,
-- which must hold the write lock (BEGIN IMMEDIATE): the version read here
-- is then the one migrated from, even with another process at the file.
local function migrate_within(db, upto)
   for v = one_off(db, "PRAGMA user_version") + 1, upto do
      db:exec(schema.MIGRATIONS[v])
      db:exec(format("PRAGMA application_id = %d; PRAGMA user_version = %d", schema.APPLICATION_ID, v))
   end
end

-- The same in a transaction of its own.
local function migrate(db, upto)
   db:exec("BEGIN IMMEDIATE")
   local ok, err = pcall(migrate_within, db, upto)
   if not ok then
      pcall(db.exec, db, "ROLLBACK")
      error(err, 0)
   end
   db:exec("COMMIT")
end

--- Open a history file.
-- @param path the file
-- @param opts `{write = true}` to record (creates the file when missing;
--   a file of an older schema is migrated by its first recording, in
--   that recording's transaction: read it only after recording),
--   `{dry = true}` to record scans that are always rolled back (`--db`:
--   the file is never written, nor migrated; see `open_dry`),
--   `busy_timeout` seconds to wait for another connection's lock (default
--   60), `record_wait` seconds a recorder waits for another one to finish
--   its scan (default 600; at most 3600)
-- @return a history object, or nil and a message naming the file
function M.open(path, opts)
   opts = opts or {}
   if type(path) ~= "string" or path == "" then return nil, "no history file given" end
   if opts.dry then return M.open_dry(path, opts) end
   local write = opts.write
   -- Looked at before anything opens it: SQLite's own words for a
   -- directory are "disk I/O error", and opening a named pipe waits for a
   -- writer that may never come.
   local kind, stat_err = require("mdb")._fs.path_kind(path)
   if kind == "directory" then return nil, format("%s is a directory, not a history file", path) end
   if kind == "other" then
      return nil, format("%s is not a regular file (a pipe, socket or device), not a history file", path)
   end
   if stat_err then return nil, format("%s: cannot open it (%s)", path, stat_err) end
   if not write and not kind then
      return nil, format("%s: no such history file", path)
   end
   if kind then
      -- Said in the system's words before SQLite's vaguer ones ("unable to
      -- open database file"), and a write-protected file is refused now:
      -- SQLite would open it read-only without a word and fail only at
      -- the first write, after the scan.
      local f, msg = io.open(path, write and "r+b" or "rb")
      if not f then
         return nil, format("%s: cannot open it%s (%s)", path, write and " for recording" or "", os_reason(path, msg))
      end
      f:close()
      local refused = refused_untouched(path)
      if refused then return nil, refused end
   end
   local s = sqlite()
   local busy = math.floor((opts.busy_timeout or 60) * 1000)
   local mode = write and "rwc" or "ro"
   if not write and not beside(path) and writable(path) then
      -- A read-only connection makes FILE-wal and FILE-shm and can never
      -- remove them: only a connection that may write does, when it is
      -- the file's last user.  It writes nothing (query_only), and a log
      -- a recorder left meanwhile is folded in as that recorder would have.
      mode = "rw"
   end
   local ok, db = pcall(s.open, path, mode, busy)
   if ok and mode == "rw" then ok, db = pcall(function()
      db:exec("PRAGMA query_only = 1")
      return db
   end) end
   if not ok then return nil, (tostring(db):gsub("^sqlite: ", "")) end
   local ver, err = identify(db, path, write)
   if not ver and not write and (err:find("unable to open", 1, true) or err:find("readonly", 1, true)) then
      -- A WAL file in a directory we cannot write: read it as immutable,
      -- unless a log of committed scans is still beside it (immutable
      -- reading would not see them).
      db:close()
      local pending, why = wal_bytes(path)
      if not pending then
         return nil, format("%s: cannot read it here: its write-ahead log %s-wal may hold scans not yet "
            .. "in the file, and it cannot be read (%s)", path, path, why)
      end
      if pending > 0 then
         return nil, format("%s: cannot read it here: its write-ahead log %s-wal holds scans not yet "
            .. "in the file, and SQLite needs write access to the directory to read them "
            .. "(record once, or copy the files to a writable directory)", path, path)
      end
      ok, db = pcall(s.open, path, "immutable", busy)
      if not ok then return nil, (tostring(db):gsub("^sqlite: ", "")) end
      ver, err = identify(db, path)
   end
   if not ver then
      db:close()
      return nil, err
   end
   local h = setmetatable({ db = db, path = path, write = write, stmts = {}, busy_ms = busy,
      record_wait = math.min(opts.record_wait or 600, 3600) }, H)
   if write then
      local mok, merr = pcall(function()
         -- A new file gets 16 KiB pages (SQLite's default is 4): a large
         -- scan is written in a quarter of the pages, each with its own
         -- log frame, and records in about three quarters of the time.
         -- Only before the file has any page (and its log mode).
         if ver == "empty" then db:exec("PRAGMA page_size = 16384") end
         db:exec("PRAGMA journal_mode = WAL")
         db:exec("PRAGMA synchronous = NORMAL")
         -- A big scan's index pages stay in memory while it is written.
         db:exec("PRAGMA cache_size = -65536")
      end)
      if not mok then
         db:close()
         return nil, format("%s: %s", path, tostring(merr):gsub("^sqlite: ", ""))
      end
   elseif ver == "empty" then
      db:close()
      return nil, format("%s is empty, not an mdblua history yet (record a scan first)", path)
   elseif ver < schema.VERSION then
      -- An older schema is read through a copy in memory migrated to the
      -- current one, leaving the file as it is (it may be read-only, or
      -- on read-only media).  One reader for one schema, and the very
      -- migrations recording runs, rather than readers for every old
      -- version; the price is memory as large as the file, once, until
      -- the next recording migrates the file itself.
      local cok, copy = pcall(db.memory_copy, db)
      db:close()
      if cok then
         h.db = copy
         cok, copy = pcall(migrate, copy, schema.VERSION)
      end
      if not cok then
         h:close()
         return nil, format("%s: cannot read its history schema version %d as version %d: %s", path, ver,
            schema.VERSION, tostring(copy):gsub("^sqlite: ", ""))
      end
      h.migrated_from = ver
   end
   return h
end

-- A run that writes nothing goes on with a copy in memory of what the
-- file holds now, when the file cannot or should not be written.
local function onto_memory_copy(h)
   local copy = h.db:memory_copy()
   h:close()
   h.db, h.stmts, h.dry_on_file = copy, {}, nil
end

--- Open a history file for a recording that is rolled back (`--db`),
-- never writing the file: an older schema is already read through a
-- migrated copy in memory; a current file is opened for writing only if
-- it can be (the rolled-back transaction leaves its bytes as they were),
-- else copied into memory too.
function M.open_dry(path, opts)
   local o = {}
   for k, v in pairs(opts) do o[k] = v end
   o.dry = nil
   local h, err = M.open(path, o)
   if not h then return nil, err end
   h.write = true
   if h.migrated_from then return h end
   local s = sqlite()
   local busy = math.floor((opts.busy_timeout or 60) * 1000)
   -- Asked without waiting: a recorder holds the file for its whole scan,
   -- and a run that writes nothing has no reason to wait for it.  A file
   -- we may not write is opened read-only without a word, and even its
   -- BEGIN IMMEDIATE succeeds: only the scan's first write would fail.
   local ok, db = pcall(s.open, path, "rw", 0)
   if ok and not db:readonly() and pcall(db.exec, db, "BEGIN IMMEDIATE") then
      db:exec("ROLLBACK")
      db:busy(busy)
      h:close()
      h.db, h.stmts, h.dry_on_file = db, {}, true
      return h
   end
   if ok then db:close() end
   local cok, cerr = pcall(onto_memory_copy, h)
   if not cok then
      h:close()
      return nil, format("%s: cannot copy it into memory: %s", path, tostring(cerr))
   end
   return h
end

--- Bring the file's schema to version `upto` (default: the current one)
-- now, in a transaction of its own.  A recording does this itself, in its
-- own transaction; this makes files of older versions (tests).
function H:migrate(upto)
   if not self.write then error("history: opened for reading only", 2) end
   migrate(self.db, upto or schema.VERSION)
end

--- An error met reading the file at `path` (a damaged one: "database
-- disk image is malformed"), as one line naming it.
function M.located(path, err)
   local why = tostring(err):gsub("^sqlite: ", "")
   if why:sub(1, #path + 2) == path .. ": " then return why end
   return format("%s: %s", path, why)
end

function H:close()
   if self.db then
      for _, st in pairs(self.stmts) do st:finalize() end
      self.stmts = {}
      self.db:close()
      self.db = nil
   end
end

-- A cached prepared statement.
function H:stmt(sql)
   local st = self.stmts[sql]
   if not st then
      if not self.db then error("history: the file is closed", 2) end
      st = self.db:prepare(sql)
      self.stmts[sql] = st
   end
   return st
end

function H:one(sql, ...) return self:stmt(sql):one(...) end
function H:rows(sql, ...) return self:stmt(sql):rows(...) end
function H:run(sql, ...) return self:stmt(sql):run(...) end

---------------------------------------------------------------------------
-- Stored objects

local INT64 = setmetatable({}, { __index = function(t, engine)
   local list = sqlite().int64_fields(engine)
   t[engine] = list
   return list
end })

-- The object as the API sent it, as JSON (mdb._sqlite.api_json): int64
-- fields back to strings, without the fields normalisation adds.
local BACKUP_ADDED = { "created", "started", "retain_until", "engine" }
local POLICY_ADDED, POLICY_INT64 = { "created", "engine" }, { "retainForDays" }
local OPERATION_ADDED = { "created", "modified", "engine" }
local function encode(obj, int64, added)
   return sqlite().api_json(obj, added or BACKUP_ADDED, int64, json.encode)
end

local function digest(obj)
   return sqlite().digest(obj)
end

--- The object stored as `data`, normalised as a listing yields it.
function M.restore(kind, engine, data)
   local t = json.decode(data)
   local r, err = sqlite().normalize(kind, engine, t)
   if not r then error("history: stored object: " .. err, 2) end
   return r
end

local NO_INT64 = {}

--- Retention days and backup window of a Cluster object.
function M.cluster_settings(c)
   local cfg = type(c) == "table" and c.config
   if type(cfg) ~= "table" then return nil, nil end
   local days = cfg.backupRetainPeriodDays
   if days == nil and type(cfg.snapshotManagement) == "table" then
      days = cfg.snapshotManagement.snapshotMaxAgeDays
   end
   days = math.tointeger(tonumber(days))
   local w = cfg.backupWindowStart
   local window
   if type(w) == "table" then
      window = format("%02d:%02d:%02d", tonumber(w.hours) or 0, tonumber(w.minutes) or 0,
         tonumber(w.seconds) or 0)
   end
   return days, window
end

---------------------------------------------------------------------------
-- Recording

local function error_text(e)
   if e == nil then return nil, nil end
   local kind = type(e) == "table" and e.kind or nil
   return kind and tostring(kind) or nil, tostring(e)
end

local function cluster_ref(self, engine, id, folder)
   local ref = self:one("SELECT id FROM clusters WHERE engine = ? AND cluster_id = ?", engine, id)
   if ref then
      if folder then
         self:run("UPDATE clusters SET folder = ? WHERE id = ? AND folder IS NOT ?", folder, ref, folder)
      end
      return ref
   end
   return (self:run("INSERT INTO clusters (engine, cluster_id, folder) VALUES (?, ?, ?)", engine, id, folder))
end

-- The last scan before `scan` that listed the cluster's `part`
-- completely: a listings column, "status" (its backups), "policies" or
-- "operations" (a fixed name, never a user's value).
local function prev_part_complete(self, part, engine, id, scan)
   return self:one("SELECT max(scan) FROM listings WHERE engine = ? AND cluster_id = ? AND " .. part
      .. " = 'complete' AND scan < ?", engine, id, scan)
end

local function prev_complete(self, engine, id, scan)
   return prev_part_complete(self, "status", engine, id, scan)
end

-- A whole-object state in `tbl` (cluster_states, policy_states): true
-- when the open one has digest `d`; else the open one, if any, is closed
-- at `scan` and a new one must be inserted.
local function state_unchanged(self, tbl, scan, ref, last, d)
   local open_from, open_digest = self:one(
      "SELECT from_scan, digest FROM " .. tbl .. " WHERE cluster = ? AND until_scan IS NULL", ref)
   if open_from and open_digest == d then return true end
   if open_from then
      self:run("UPDATE " .. tbl .. " SET until_scan = ?, last_scan = ? WHERE cluster = ? AND from_scan = ?",
         scan, last, ref, open_from)
   end
   return false
end

-- A cluster's retention policies (an array, in listing order) as one
-- state: a new one when the list changes in any way.
local function record_policies(self, scan, ref, policies, last)
   local d = digest(policies)
   if state_unchanged(self, "policy_states", scan, ref, last, d) then return end
   local parts = {}
   for i, p in ipairs(policies) do parts[i] = encode(p, POLICY_INT64, POLICY_ADDED) end
   self:run("INSERT INTO policy_states (cluster, from_scan, digest, data) VALUES (?, ?, ?, ?)",
      ref, scan, d, "[" .. concat(parts, ",") .. "]")
end

-- A cluster's operations, one state each (as backups); `last` is the
-- cluster's last scan that listed them.
local function record_operations(self, scan, ref, ops, last)
   local open = {}
   for r in self:rows("SELECT operation_id, id, digest FROM operation_states WHERE cluster = ? AND until_scan IS NULL",
      ref) do
      open[r[1]] = r
   end
   local insert = self:stmt([[INSERT INTO operation_states (cluster, operation_id, from_scan, created, digest, data)
      VALUES (?, ?, ?, ?, ?, ?)]])
   local close = self:stmt("UPDATE operation_states SET until_scan = ?, last_scan = ? WHERE id = ?")
   local seen = {}
   for _, op in ipairs(ops) do
      local id = op.id
      if type(op) == "table" and type(id) == "string" and not seen[id] then
         seen[id] = true
         local cur = open[id]
         local d = digest(op)
         if not (cur and cur[3] == d) then
            if cur then close:run(scan, last, cur[2]) end
            insert:run(ref, id, scan, op.created, d, encode(op, NO_INT64, OPERATION_ADDED))
         end
      end
   end
   for id, cur in pairs(open) do
      if not seen[id] then close:run(scan, last, cur[2]) end
   end
end


-- "complete", "failed" or nil (not listed), and the error's text, of an
-- entry's policies or operations.
local function part_status(list, err)
   if type(list) == "table" then return "complete", nil end
   if err ~= nil then return "failed", tostring(err) end
   return nil, nil
end

local function record_cluster(self, scan, ref, cluster, last)
   local d = digest(cluster)
   if state_unchanged(self, "cluster_states", scan, ref, last, d) then return end
   local days, window = M.cluster_settings(cluster)
   self:run([[INSERT INTO cluster_states (cluster, from_scan, name, retention_days, backup_window, digest, data)
      VALUES (?, ?, ?, ?, ?, ?, ?)]], ref, scan, cluster.name, days, window, d, encode(cluster, NO_INT64))
end

-- A backup's state; the parameters are bound by state_batch and
-- insert_batch (in C): ":field" from the backup, "@1"/"@2" the cluster and
-- the scan.  OR IGNORE: an id the listing repeats keeps its first state.
local INSERT_BACKUP = [[INSERT OR IGNORE INTO backup_states
   (cluster, backup_id, from_scan, created, type, status, size, retain_until, digest, data)
   VALUES (@1, :id, @2, :created, :type, :status,
      CASE typeof(coalesce(:size, :sizeBytes)) WHEN 'integer' THEN coalesce(:size, :sizeBytes) END,
      CASE typeof(:retainUntil) WHEN 'text' THEN :retainUntil END, @digest, @data)]]
local CLOSE_BACKUP = "UPDATE backup_states SET until_scan = ?, last_scan = ? WHERE id = ?"

-- A listing's backups as rows of their states (digest, JSON, columns),
-- made before any SQL of the entry: while they are made, the connection's
-- writer thread still inserts the previous entry's.  The JSON is the text
-- the API sent (`texts`: a scan's backup_texts) where the entry has it,
-- else encoded again.  `later`: it waits until the open states say which
-- backups changed (a re-scan of an unchanged fleet then stores none); a
-- first recording, where all are new, makes it here, while the writer
-- works.
local function backup_batch(self, engine, backups, later, texts)
   return self:stmt(INSERT_BACKUP):state_batch(backups, BACKUP_ADDED, INT64[engine], json.encode, later, texts)
end

-- A cluster's open backup states: compared with the listing in C (a
-- million of them as Lua tables cost more than the rest of the recording).
local OPEN_BACKUPS = "SELECT backup_id, id, digest FROM backup_states WHERE cluster = ? AND until_scan IS NULL"

-- A cluster's backups: a state inserted for each new or changed one (by
-- the writer thread, in this transaction), and the open states of those
-- changed or gone closed.
-- In a file's first recording nothing is open: every backup is inserted
-- (OR IGNORE keeps a repeated id's first state, as keep_changed would).
local function record_backups(self, scan, ref, batch, last, later)
   if later then
      local close = self:stmt(CLOSE_BACKUP)
      for _, rowid in ipairs(batch:keep_changed(self:stmt(OPEN_BACKUPS), ref)) do close:run(scan, last, rowid) end
   end
   self:stmt(INSERT_BACKUP):insert_batch(batch, { ref, scan })
end

-- The recording's transaction.  Another recorder holds the file for the
-- whole of its scan (a streaming recording writes as the scan goes): wait
-- for it, up to `record_wait`, after `on_wait(seconds)` has told the user;
-- Ctrl-C ends the wait.
local function locked(err)
   return tostring(err):find("database is locked", 1, true) ~= nil
end

local function begin_recording(self, on_wait)
   local db = self.db
   db:busy(0)
   local ok, err = pcall(db.exec, db, "BEGIN IMMEDIATE")
   if not ok and self.dry_on_file and locked(err) then
      -- A recorder took the file since open_dry looked: a run that
      -- writes nothing goes on with the last recorded scan, in memory.
      onto_memory_copy(self)
      db = self.db
      ok, err = pcall(db.exec, db, "BEGIN IMMEDIATE")
   end
   if not ok and locked(err) then
      if on_wait then on_wait(self.record_wait) end
      db:busy(math.floor(self.record_wait * 1000))
      ok, err = pcall(db.exec, db, "BEGIN IMMEDIATE")
      if not ok and locked(err) then
         err = format("another run kept it locked for %s; nothing was recorded",
            require("mdb.duration").format(self.record_wait))
      end
   end
   db:busy(self.busy_ms)
   if not ok then error(err, 0) end
end

--- Record one scan in one transaction, entry by entry as a streaming
-- scan hands them over: `local r = h:recorder(scope)` begins the
-- transaction, `r:add(entry)` records one scan entry (in the order given:
-- completion order is fine), `r:finish(inspect)` closes what the scan no
-- longer saw and commits.  Nothing but cluster ids is kept between adds,
-- so a fleet of any size records in flat memory.
-- @param scope `{time = Unix seconds (default: the clock once the write
--   lock is had), folder = id, engines = {...}, tool = name, dry = bool}`
-- @return the recorder
-- @raise on a database error (the transaction is rolled back)
function H:recorder(scope, on_wait)
   if not self.write then error("history: opened for reading only", 2) end
   scope = scope or {}
   local engines = scope.engines or {}
   -- listed_in[engine][folder]: that folder's Cluster.List ran in this
   -- scan; failed_in[engine][folder]: it failed (or its folder is unknown:
   -- key true, every folder).
   local r = { h = self, scope = scope, engines = engines, pos = 0, list_failed = {}, listed = {}, listed_in = {},
      failed_in = {}, failed_clouds = {} }
   begin_recording(self, on_wait)
   -- Without a time given, the clock's once the file is ours: a recorder
   -- that waited for another runs its scan after that one, and must not be
   -- refused as taken before it.
   local time = scope.time or os.time()
   local db = self.db -- (a copy in memory, when a dry run met a recorder)
   local ok, scan = pcall(function()
      -- An older file is migrated in the recording's transaction: a
      -- recording refused (here, or at any point before it commits) leaves
      -- the file as it was, readable by the mdblua that wrote it.
      migrate_within(db, schema.VERSION)
      -- Scans are ordered by their ids, as recorded, and found by time
      -- ("the last scan at or before T"): one taken before a scan already
      -- recorded would have a vanished backup last seen after it vanished,
      -- and --at or --since answered with the wrong scan.  An equal time is
      -- fine (the clock's whole seconds, which is all time_text and every
      -- report shows, and all --at compares: a --now of 12:00:00.2 after
      -- one of 12:00:00.7 is the same second): the later recorded is the
      -- later.
      local last, last_time, last_text = self:one([[SELECT id, time, time_text FROM scans
         ORDER BY time DESC, id DESC LIMIT 1]])
      if last and math.floor(time) < math.floor(last_time) then
         error(format("cannot %s a scan taken at %s: its scan %d was taken later, at %s "
            .. "(scans are recorded in the order they were taken)%s", scope.dry and "compare" or "record",
            require("mdb.fmt").rfc3339(time), last, last_text, scope.dry and "" or "; nothing was recorded"), 0)
      end
      -- After the file's first scan, most backups are as recorded before:
      -- their rows are made only for those that changed.
      r.later = last ~= nil
      return self:run("INSERT INTO scans (time, time_text, folder, engines, tool, folders, cloud, all_clouds)"
         .. " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         time + 0.0, require("mdb.fmt").rfc3339(time), scope.folder,
         concat(engines, ","), scope.tool, scope.folders and concat(scope.folders, ",") or nil, scope.cloud,
         scope.all_clouds and 1 or nil)
   end)
   if not ok then
      pcall(db.exec, db, "ROLLBACK")
      error(scan, 0)
   end
   r.scan = scan
   for _, engine in ipairs(engines) do r.listed[engine] = {} end
   r.listing = self:stmt([[INSERT OR REPLACE INTO listings
      (scan, pos, engine, cluster_id, status, items, error_kind, error, policies, policies_error, operations,
      operations_error, folder, cloud) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]])
   return setmetatable(r, Recorder)
end

local function rollback_on_error(r, ok, err)
   if ok then return end
   local db = r.h.db
   if not r.closed then
      r.closed = true
      pcall(db.exec, db, "ROLLBACK")
   end
   error(err, 0)
end

--- Record one scan entry; `pos` (default: one more than the last) is its
-- place in the scan's results, which `h:results` gives them back in (a
-- streaming scan's `each` gets it as its second argument).
function Recorder:add(e, pos)
   rollback_on_error(self, pcall(function()
      local h, scan = self.h, self.scan
      self.pos = math.max(self.pos + 1, pos or 0)
      pos = pos or self.pos
      local engine = e.engine
      local id = e.id or (type(e.cluster) == "table" and e.cluster.id) or nil
      local kind, text = error_text(e.error)
      if id == nil then
         if e.error ~= nil and engine then
            self.list_failed[engine] = true
            -- A failed Cluster.List of a folder: nothing of that folder is
            -- known gone.  A failed Resource Manager listing (a cloud, no
            -- folder) hides its folders, which are then in no listed_in.
            local failed = self.failed_in[engine] or {}
            self.failed_in[engine] = failed
            if e.folder ~= nil then
               failed[e.folder] = true
            elseif e.cloud == nil then
               failed[true] = true
            else -- its Folder.List: that cloud's folders are unknown
               self.failed_clouds[e.cloud] = true
            end
         end
         -- One row per failed listing: several folders' (or clouds') of
         -- one engine are keyed apart ("/FOLDER/CLOUD"; ids have no "/").
         local key = (e.folder or e.cloud) and format("/%s/%s", e.folder or "", e.cloud or "") or ""
         self.listing:run(scan, pos, engine, key, "failed", 0, kind, text, nil, nil, nil, nil, e.folder, e.cloud)
      else
         self.listed[engine] = self.listed[engine] or {}
         if self.listed[engine][id] then
            -- (its second listing would close the first one's states)
            error(format("%s cluster %s is twice in one scan", engine, id), 0)
         end
         self.listed[engine][id] = true
         local complete = e.error == nil
         local batch = complete and backup_batch(h, engine, e.backups or {}, self.later,
            type(e.backup_texts) == "table" and e.backup_texts or nil)
         if e.folder ~= nil then self:folder_listed(engine, e.folder) end
         local folder = type(e.cluster) == "table" and e.cluster.folderId or e.folder or self.scope.folder
         local ref = cluster_ref(h, engine, id, folder)
         local ps, perr = part_status(e.policies, e.policies_error)
         local os_, oerr = part_status(e.operations, e.operations_error)
         self.listing:run(scan, pos, engine, id, complete and "complete" or "failed", #(e.backups or {}), kind, text,
            ps, perr, os_, oerr, e.folder, e.cloud)
         local last = prev_complete(h, engine, id, scan)
         if type(e.cluster) == "table" then record_cluster(h, scan, ref, e.cluster, last) end
         if batch then record_backups(h, scan, ref, batch, last, self.later) end
         if ps == "complete" then
            record_policies(h, scan, ref, e.policies, prev_part_complete(h, "policies", engine, id, scan))
         end
         if os_ == "complete" then
            record_operations(h, scan, ref, e.operations, prev_part_complete(h, "operations", engine, id, scan))
         end
      end
   end))
end

--- Whether the scan should keep its backups' texts (`backup_texts`) for
-- this recording: for a file's first, whose backups are all new and are
-- stored as the server sent them; not for a later one, which stores only
-- what changed (encoded) and would pay for a text per backup for nothing.
function Recorder:wants_texts()
   return not self.later
end

--- A folder's Cluster.List of `engine` completed in this scan (a scan's
-- `listed` option): its clusters the scan did not return are gone.  A
-- cloud scan needs it for a folder left with no cluster of the engine,
-- which no entry names.
function Recorder:folder_listed(engine, folder)
   self.listed_in[engine] = self.listed_in[engine] or {}
   self.listed_in[engine][folder] = true
end

-- A cloud scan's clusters gone with their folder: open clusters of
-- `engine` whose folder this scan did not list (`listed`: the folders it
-- did, `failed`: those whose listing failed) but whose cloud it listed
-- whole — the scope's cloud, or with all_clouds any cloud, whose
-- Folder.List did not fail.  A folder deleted, or out of the credentials'
-- sight, takes its clusters along; without this they would stay current
-- for ever, never reported gone.  The cloud is the one the cluster's last
-- listing was recorded with.
function Recorder:gone_with_folders(engine, listed, failed)
   local scope, h = self.scope, self.h
   if not (scope.cloud or scope.all_clouds) then return {} end
   local cloud_of, out = {}, {}
   local rows = h:stmt([[SELECT c.id, c.cluster_id, c.folder FROM clusters c JOIN cluster_states s ON s.cluster = c.id
      WHERE c.engine = ? AND s.until_scan IS NULL AND c.folder IS NOT NULL]])
   local cloud = h:stmt([[SELECT cloud FROM listings WHERE folder = ? AND cloud IS NOT NULL AND scan < ?
      ORDER BY scan DESC LIMIT 1]])
   for r in rows:rows(engine) do
      local folder = r[3]
      if not listed[folder] and not failed[folder] and not self.listed[engine][r[2]] then
         if cloud_of[folder] == nil then cloud_of[folder] = cloud:one(folder, self.scan) or false end
         local c = cloud_of[folder]
         if c and not self.failed_clouds[c] and (scope.all_clouds or c == scope.cloud) then out[#out + 1] = r end
      end
   end
   return out
end

--- Close the scan and commit (or, with `scope.dry`, roll back).
-- @param inspect optional `function(scan)` called inside the transaction
-- @return the scan's id, and what inspect returned
function Recorder:finish(inspect)
   local seen
   rollback_on_error(self, pcall(function()
      local h, scan = self.h, self.scan
      -- Each engine's Cluster.List of a folder that did not fail is
      -- complete: clusters of that folder it no longer returns are gone,
      -- and so are their backups (their vanishing is reported with the
      -- cluster's).  The folders are the scope's and those entries came
      -- from; a folder whose listing failed, or that a failed Resource
      -- Manager listing hid, is never read as emptied.
      local given = {}
      if self.scope.folder then given[#given + 1] = self.scope.folder end
      for _, f in ipairs(self.scope.folders or {}) do given[#given + 1] = f end
      local gone = h:stmt([[SELECT c.id, c.cluster_id FROM clusters c JOIN cluster_states s ON s.cluster = c.id
         WHERE c.engine = ? AND c.folder = ? AND s.until_scan IS NULL]])
      for _, engine in ipairs(self.engines) do
         local failed = self.failed_in[engine] or {}
         if not self.list_failed[engine] then
            self.listing:run(scan, 0, engine, "", "complete", 0, nil, nil, nil, nil, nil, nil, nil, nil)
         end
         local folders = {}
         if not failed[true] then
            for _, f in ipairs(given) do folders[f] = true end
            for f in pairs(self.listed_in[engine] or {}) do folders[f] = true end
         end
         local sorted = {}
         for f in pairs(folders) do
            if not failed[f] then sorted[#sorted + 1] = f end
         end
         table.sort(sorted)
         local close = {}
         for _, folder in ipairs(sorted) do
            for r in gone:rows(engine, folder) do
               if not self.listed[engine][r[2]] then close[#close + 1] = r end
            end
         end
         if not failed[true] then
            for _, r in ipairs(self:gone_with_folders(engine, folders, failed)) do close[#close + 1] = r end
         end
         for _, r in ipairs(close) do
            local last = prev_complete(h, engine, r[2], scan)
            for _, t in ipairs({ "cluster_states", "backup_states", "policy_states", "operation_states" }) do
               h:run("UPDATE " .. t .. " SET until_scan = ?, last_scan = ?"
                  .. " WHERE cluster = ? AND until_scan IS NULL", scan, last, r[1])
            end
         end
      end
      if inspect then seen = inspect(scan) end
   end))
   local db = self.h.db
   self.closed = true
   if self.scope.dry then
      db:exec("ROLLBACK")
   else
      db:exec("COMMIT")
   end
   return self.scan, seen
end

--- Record one scan in one transaction (the whole array at once; see
-- `h:recorder` to record a streaming scan).
-- @param results what `client:scan` returned
-- @param scope `{time = Unix seconds, folder = id, engines = {...}, tool = name}`
-- @param inspect optional `function(scan)` called inside the transaction;
--   with `scope.dry` the transaction is then rolled back (nothing kept),
--   and what inspect returned is returned
-- @return the scan's id
-- @raise on a database error (nothing of the scan is kept then)
function H:record(results, scope, inspect)
   if not self.write then error("history: opened for reading only", 2) end
   scope = scope or {}
   local engines = scope.engines or {}
   if #engines == 0 then
      local seen = {}
      for _, e in ipairs(results) do
         if e.engine and not seen[e.engine] then seen[e.engine] = true engines[#engines + 1] = e.engine end
      end
   end
   local o = {}
   for k, v in pairs(scope) do o[k] = v end
   o.engines = engines
   local r = self:recorder(o)
   for _, e in ipairs(results) do r:add(e) end
   return r:finish(inspect)
end

--- Record `results` into the file at `path` in one call (opens, records,
-- closes): what `--record FILE` does.
-- @return the scan id, or nil and a message naming the file
function M.record(path, results, scope)
   local h, err = M.open(path, { write = true })
   if not h then return nil, err end
   local ok, scan = pcall(h.record, h, results, scope)
   h:close()
   if not ok then return nil, format("%s: %s", path, tostring(scan):gsub("^sqlite: ", "")) end
   return scan
end

---------------------------------------------------------------------------
-- Reading

--- A scan's row: `{id, time, time_text, folder, engines = {...}, tool,
-- folders = {...} or nil, cloud, all_clouds = true or nil}`, or nil.
function H:scan(id)
   local sid, time, text, folder, engines, tool, folders, cloud, all_clouds = self:one(
      "SELECT id, time, time_text, folder, engines, tool, folders, cloud, all_clouds FROM scans WHERE id = ?", id)
   if not sid then return nil end
   local function list(s)
      local out = {}
      for e in s:gmatch("[^,]+") do out[#out + 1] = e end
      return out
   end
   return { id = sid, time = time, time_text = text, folder = folder, engines = list(engines), tool = tool,
      folders = folders and list(folders) or nil, cloud = cloud, all_clouds = all_clouds == 1 or nil }
end

--- An RFC 3339 time as the whole second it names (Unix seconds), or nil
-- and a message: what `h:at` finds scans by.  The fraction is dropped from
-- the text, not from the number: 11:59:59.99999999 as one double is
-- 12:00:00, a second the user did not name.
function M.parse_time(text)
   return require("mdb").parse_time((text:gsub("^(.-%d%d:%d%d:%d%d)%.%d+", "%1", 1)))
end

--- The last scan, the last at or before a time, or the last before a scan.
function H:latest() return self:scan(self:one("SELECT max(id) FROM scans")) end
-- (Scans are found by the whole second, the time every report prints for
-- them: one recorded with a --now of 12:00:00.7 is "at or before
-- 12:00:00Z", the time it is shown at.)
function H:at(time)
   return self:scan(self:one("SELECT max(id) FROM scans WHERE time < ?", math.floor(time) + 1.0))
end
function H:before(scan) return self:scan(self:one("SELECT max(id) FROM scans WHERE id < ?", scan)) end
function H:first() return self:scan(self:one("SELECT min(id) FROM scans")) end

--- The last scan before scan `s` (a scan object) of the same scope that
-- listed every engine `s` did; else the last of the same scope; else the
-- last before it.  Jobs recording different engines or folders into one
-- file each compare with their own previous scan, not with another job's.
function H:before_like(s)
   local same_scope
   for r in self:rows([[SELECT id, engines FROM scans WHERE id < ? AND folder IS ? AND folders IS ?
      AND cloud IS ? AND all_clouds IS ? ORDER BY id DESC]], s.id, s.folder,
      s.folders and table.concat(s.folders, ",") or nil, s.cloud, s.all_clouds and 1 or nil) do
      local has = {}
      for e in r[2]:gmatch("[^,]+") do has[e] = true end
      local covers = true
      for _, e in ipairs(s.engines) do covers = covers and has[e] == true end
      if covers then return self:scan(r[1]) end
      same_scope = same_scope or r[1]
   end
   if same_scope then return self:scan(same_scope) end
   return self:before(s.id)
end

--- Every scan, oldest first.
function H:scans()
   local out = {}
   for r in self:rows("SELECT id FROM scans ORDER BY id") do out[#out + 1] = self:scan(r[1]) end
   return out
end

-- The stored error of a failed listing, as an object whose text is the
-- live error's text (so audits of the past say what the live one said).
local ERROR_MT = { __name = "mdb.history.error", __tostring = function(e) return e.text end }
local function stored_error(kind, text)
   return setmetatable({ kind = kind, message = text, text = text or "listing failed" }, ERROR_MT)
end

--- The query of a cluster's states in table `tbl` (cluster_states,
-- backup_states, ...) valid at a scan: the columns `what` (default
-- "data"), then `rest` (more conditions, an ORDER BY) when given.  Its
-- parameters: the cluster's reference, the scan, the scan again.
function M.valid_at(tbl, what, rest)
   return format([[SELECT %s FROM %s WHERE cluster = ? AND from_scan <= ?
      AND (until_scan IS NULL OR until_scan > ?)%s]], what or "data", tbl, rest and " " .. rest or "")
end
local valid_at = M.valid_at

-- The stored objects of `kind` the rows of a valid_at query hold,
-- restored in its order.
local function restored_at(self, kind, sql, engine, ref, scan)
   local list = {}
   for r in self:rows(sql, ref, scan, scan) do list[#list + 1] = M.restore(kind, engine, r[1]) end
   return list
end

local BACKUPS_AT = valid_at("backup_states", nil, "ORDER BY created DESC, backup_id")
local OPERATIONS_AT = valid_at("operation_states", nil, "ORDER BY created DESC, operation_id")
local CLUSTER_AT, POLICIES_AT = valid_at("cluster_states"), valid_at("policy_states")

-- Backups of a cluster as of a scan (the states valid then).
local function backups_at(self, engine, ref, scan)
   return restored_at(self, "backup", BACKUPS_AT, engine, ref, scan)
end

local function cluster_at(self, engine, ref, scan)
   local data = self:one(CLUSTER_AT, ref, scan, scan)
   return data and M.restore("cluster", engine, data) or nil
end

-- A cluster's retention policies valid at a scan, in their listing order.
local function policies_at(self, engine, ref, scan)
   local data = self:one(POLICIES_AT, ref, scan, scan)
   local list = {}
   for i, p in ipairs(data and json.decode(data) or {}) do
      local r, err = sqlite().normalize("policy", engine, p)
      if not r then error("history: stored retention policy: " .. err, 2) end
      list[i] = r
   end
   return list
end

-- A cluster's operations valid at a scan, newest first (the order the
-- failed_backups check gives them in; it does not depend on the listing's).
local function operations_at(self, engine, ref, scan)
   return restored_at(self, "operation", OPERATIONS_AT, engine, ref, scan)
end

--- The entries of a recorded scan, one at a time as a streaming scan hands
-- them over: `fn(entry, n)` for each, in the scan's order, each entry shaped
-- as `client:scan` gives it, `{engine, id, cluster, backups, error}`, and
-- made only when its turn comes (memory stays flat however large the
-- scan).  A failed listing gives an entry with `error` (its recorded text)
-- and the backups as of that cluster's last complete listing (`as_of` names
-- that scan).
function H:each_result(scan, fn)
   local out = {}
   for r in self:rows([[SELECT engine, cluster_id, status, error_kind, error, pos, policies, policies_error,
      operations, operations_error, folder, cloud FROM listings
      WHERE scan = ? AND (cluster_id <> '' OR status = 'failed') ORDER BY pos, engine]], scan) do
      out[#out + 1] = r
   end
   for i, r in ipairs(out) do
      out[i] = false
      local engine, id, status = r[1], r[2], r[3]
      local e = { engine = engine, folder = r[11], cloud = r[12] }
      if id == "" or id:byte(1) == 47 then   -- an engine's Cluster.List, or "/FOLDER/CLOUD"
         e.error = stored_error(r[4], r[5])
         e.backups = {}
      else
         e.id = id
         local ref = self:one("SELECT id FROM clusters WHERE engine = ? AND cluster_id = ?", engine, id)
         e.cluster = ref and cluster_at(self, engine, ref, scan) or nil
         e.backups = ref and backups_at(self, engine, ref, scan) or {}
         if status ~= "complete" then
            e.error = stored_error(r[4], r[5])
            e.as_of = prev_complete(self, engine, id, scan + 1)
         end
         if r[7] == "complete" then
            e.policies = ref and policies_at(self, engine, ref, scan) or {}
         elseif r[7] == "failed" then
            e.policies_error = stored_error(nil, r[8])
         end
         if r[9] == "complete" then
            e.operations = ref and operations_at(self, engine, ref, scan) or {}
         elseif r[9] == "failed" then
            e.operations_error = stored_error(nil, r[10])
         end
      end
      fn(e, i)
   end
end

--- The entries of a recorded scan (`H:each_result`) in one array.
function H:results(scan)
   local results = {}
   self:each_result(scan, function(e) results[#results + 1] = e end)
   return results
end

--- Every state of a backup (any cluster, or one cluster), oldest first:
-- `{engine, cluster, backup_id, from_scan, last_scan, until_scan, backup}`.
function H:backup_states(backup_id, cluster_id)
   local out = {}
   for r in self:rows([[SELECT c.engine, c.cluster_id, b.from_scan, b.last_scan, b.until_scan, b.data, b.cluster
      FROM backup_states b JOIN clusters c ON c.id = b.cluster
      WHERE b.backup_id = ? AND (? IS NULL OR c.cluster_id = ?) ORDER BY b.cluster, b.from_scan]],
      backup_id, cluster_id, cluster_id) do
      out[#out + 1] = { engine = r[1], cluster = r[2], backup_id = backup_id, from_scan = r[3],
         last_scan = r[4], until_scan = r[5], backup = M.restore("backup", r[1], r[6]), ref = r[7] }
   end
   return out
end

--- The latest complete listing of a cluster at or before a scan.
function H:last_complete(engine, cluster_id, scan)
   return prev_complete(self, engine, cluster_id, (scan or math.maxinteger - 1) + 1)
end

--- The failed listing of `scan` that hid the clusters of `engine` in
-- `folder` (nil when unknown: any folder's): that engine's Cluster.List
-- (cluster_id '', with its folder) or a Resource Manager listing ("/FOLDER/
-- CLOUD", whose folders are unknown).  A cluster with no row of its own in
-- such a scan was not seen, not found gone.
-- @return the listing's status ("failed") and error, or nothing
function H:hidden_by(scan, engine, folder)
   return self:one([[SELECT status, error FROM listings WHERE scan = ? AND engine = ? AND status = 'failed'
      AND (cluster_id = '' OR substr(cluster_id, 1, 1) = '/') AND (folder IS NULL OR ? IS NULL OR folder = ?)
      ORDER BY cluster_id LIMIT 1]], scan, engine, folder, folder)
end

--- A cluster's internal reference and engine.  With no engine, the id is
-- looked up under every engine; one known under several is not resolved
-- to one of them in silence: nil and a message naming them (which one is
-- the caller's to say).
-- @return ref, engine; or nil (unknown); or nil, message (ambiguous)
function H:cluster_ref(cluster_id, engine)
   if engine then
      return self:one("SELECT id, engine FROM clusters WHERE cluster_id = ? AND engine = ?", cluster_id, engine)
   end
   local found = {}
   for r in self:rows("SELECT id, engine FROM clusters WHERE cluster_id = ? ORDER BY engine", cluster_id) do
      found[#found + 1] = r
   end
   if #found <= 1 then return found[1] and found[1][1], found[1] and found[1][2] end
   local engines = {}
   for i, r in ipairs(found) do engines[i] = r[2] end
   return nil, string.format("cluster %s is known under %d engines (%s): say which", cluster_id, #found,
      table.concat(engines, ", "))
end

--- The cluster object valid at a scan, and its backups then.
function H:cluster_at(ref, engine, scan)
   return cluster_at(self, engine, ref, scan), backups_at(self, engine, ref, scan)
end

return M
