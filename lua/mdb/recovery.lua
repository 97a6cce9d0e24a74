--- mdb.recovery: to which moments can a cluster be restored, from which
-- backup, and with what command.  Pure Lua over the backups a listing
-- returns (and, when known, the Cluster object); it never calls the API
-- and never sends a restore.
--
--   local recovery = require "mdb.recovery"
--   local p = recovery.restore_point("postgresql", backups, { at = t, now = os.time(),
--      cluster_id = "c9q..." })
--   print(p.restorable, p.reason, p.backup_id, p.yc)
--
-- The facts (restorable windows, restore fields, `yc` flags) are those of
-- ../shared/api-recovery.md §1-§2, each engine's row below.  What the
-- API does not show — how far the WAL/binlog/oplog archive lags the live
-- cluster — is said in `caveats`, never guessed into a "yes".
local M = {}

local format, floor = string.format, math.floor

-- pitr: "time" restores to any second of the window; "points" (Greenplum)
-- to the hourly recovery point at or before the time; nil: backup states
-- only.  log: what is replayed, and how often it is archived when the
-- docs say so (the window's upper end lags now by about that much).
-- manual_pitr = false: manual backups restore only to their own state.
-- selector: how the restore request names the time.
local ENGINES = {
   postgresql = { pitr = "time", log = "WAL", lag = nil, manual_pitr = false, yc = "managed-postgresql",
      time_field = "time", inclusive = true,
      supply = { "name", "environment", "configSpec", "networkId", "hostSpecs" } },
   mysql = { pitr = "time", log = "binary log", yc = "managed-mysql", time_field = "time",
      -- api-recovery.md §2 "Leaving time out": console and Terraform disagree
      without_time = "MySQL restores without `time` go to the backup's completion (console docs) or to the "
         .. "moment the restore starts (Terraform docs): the docs conflict, not verified",
      supply = { "name", "environment", "configSpec", "networkId", "hostSpecs" } },
   mongodb = { pitr = "time", log = "oplog", yc = "managed-mongodb", time_field = "timestamp",
      supply = { "name", "environment", "configSpec", "hostSpecs" } },
   sqlserver = { pitr = "time", log = "transaction log", lag = 20 * 60, yc = "managed-sqlserver",
      time_field = "time", time_required = true,
      yc_note = "the yc command follows the SQL Server backups page; no CLI reference page for it is stored "
         .. "(not verified)",
      supply = { "name", "environment", "configSpec", "networkId", "hostSpecs" } },
   spqr = { pitr = "time", log = "metadata archive", lag = 5 * 60, yc = "managed-sharded-postgresql",
      time_field = "time", inclusive = true,
      supply = { "name", "environment", "configSpec", "networkId", "hostSpecs" } },
   greenplum = { pitr = "points", log = "recovery points (hourly)", lag = 3600, yc = "managed-greenplum",
      time_field = "time", supply = { "folderId", "name", "environment", "networkId", "configSpec" } },
   clickhouse = { yc = "managed-clickhouse", shards = true,
      supply = { "name", "environment", "configSpec", "networkId", "hostSpecs" } },
   redis = { yc = "managed-redis", supply = { "name", "environment", "configSpec", "hostSpecs" } },
   opensearch = { yc = "managed-opensearch", supply = { "name", "configSpec", "networkId", "folderId" } },
   elasticsearch = { yc = "managed-elasticsearch",
      supply = { "name", "configSpec", "networkId", "folderId", "hostSpecs" } },
}
M.ENGINES = ENGINES

-- REST prefixes (api.md §2): SQL Server's differs from the others'.
local function rest_prefix(engine)
   if engine == "sqlserver" then return "/mdb/sqlserver/v1" end
   return "/managed-" .. engine .. "/v1"
end

local rfc3339 = require("mdb.fmt").rfc3339
M.rfc3339 = rfc3339

-- A backup that can serve a restore: completed (no status, or DONE).
local function completed(b)
   return type(b.created) == "number" and (b.status == nil or b.status == "DONE")
end

-- Can this backup open the window?  The docs date it from the oldest *full*
-- backup: an incremental one (PostgreSQL, Greenplum `method`) older than
-- every full one does not count.
local function full(b)
   return b.method ~= "INCREMENTAL"
end

-- Can this backup be the base of a point-in-time restore?
local function pitr_base(e, b)
   if not completed(b) then return false end
   if e.manual_pitr == false and b.type == "MANUAL" then return false end
   return true
end

local function sorted_completed(backups, pred)
   local out = {}
   for _, b in ipairs(backups) do
      if pred(b) then out[#out + 1] = b end
   end
   table.sort(out, function(a, b)
      if a.created ~= b.created then return a.created < b.created end
      return tostring(a.id) < tostring(b.id)
   end)
   return out
end

-- Does this cluster get point-in-time recovery?  MongoDB: not when
-- sharded (api-recovery.md §2); whether it is, only the Cluster object says.
local function pitr_mode(engine, cluster, caveats)
   local e = ENGINES[engine]
   if not e or not e.pitr then return nil end
   if engine == "mongodb" then
      if cluster == nil then
         caveats[#caveats + 1] = "whether the cluster is sharded is unknown (no Cluster object): "
            .. "a sharded MongoDB cluster gets no point-in-time recovery"
      elseif cluster.sharded then
         return nil
      else
         local c = type(cluster.config) == "table" and cluster.config or {}
         local major, minor = tostring(c.version or ""):match("^(%d+)%.(%d+)")
         if major and (tonumber(major) < 4 or tonumber(major) == 4 and tonumber(minor) < 2) then
            caveats[#caveats + 1] = format("MongoDB %s: point-in-time recovery needs MongoDB 4.2 or later",
               c.version)
            return nil
         end
      end
      caveats[#caveats + 1] = "point-in-time recovery needs MongoDB 4.2 or later; a Preview note in the docs "
         .. "says it works only through the CLI and is enabled on request (possibly stale; not verified)"
   end
   return e.pitr
end

--- The restorable window of a cluster.
-- @param engine engine name
-- @param backups its backups (normalised: `created` in Unix seconds)
-- @param opts `{now = seconds, cluster = Cluster object or nil}`
-- @return `{pitr = "time"|"points"|nil, from = s, to = s}` (from/to nil when
--   nothing can be restored), and a list of caveats
function M.window(engine, backups, opts)
   opts = opts or {}
   local now = opts.now or os.time()
   local caveats = {}
   local e = ENGINES[engine]
   if not e then error(format("mdb.recovery: unknown engine '%s'", tostring(engine)), 2) end
   local mode = pitr_mode(engine, opts.cluster, caveats)
   if mode then
      local bases = sorted_completed(backups, function(b)
         return pitr_base(e, b) and full(b) and b.created <= now
      end)
      if #bases == 0 then return { pitr = mode }, caveats end
      -- The docs' example: a backup done at 12:00:00 restores from 12:00:01.
      local from = bases[1].created + 1
      -- The archive lags the cluster by up to `lag` (when documented); the
      -- window ends where it is sure to have arrived.  Greenplum: the newest
      -- hourly recovery point at least an hour old (the docs' example: at
      -- 19:00 the newest point is 18:00).
      local to = now - (e.lag or 0)
      if mode == "points" then to = floor(to / 3600) * 3600 end
      caveats[#caveats + 1] = format("the window ends at the last archived %s, which the API does not show; "
         .. "%s", e.log, e.lag and format("it is at most %d min behind now, so the newest %d min are not assured",
            e.lag // 60, e.lag // 60)
            or "the newest minutes may not be archived yet")
      if to < from then return { pitr = mode }, caveats end
      return { pitr = mode, from = from, to = to }, caveats
   end
   local states = sorted_completed(backups, function(b) return completed(b) and b.created <= now end)
   if #states == 0 then return {}, caveats end
   return { from = states[1].created, to = states[#states].created }, caveats
end

-- ClickHouse: one backup per shard, the newest of each at or before `at`.
local function shard_backups(list)
   local by_shard, order = {}, {}
   for i = #list, 1, -1 do
      local b = list[i]
      local names = b.sourceShardNames
      if type(names) ~= "table" or #names == 0 then names = { "" } end
      for _, s in ipairs(names) do
         if not by_shard[s] then
            by_shard[s] = b
            order[#order + 1] = s
         end
      end
   end
   table.sort(order)
   local ids, seen = {}, {}
   for _, s in ipairs(order) do
      local id = by_shard[s].id
      if not seen[id] then
         seen[id] = true
         ids[#ids + 1] = id
      end
   end
   return ids
end

local function shell_word(s)
   s = tostring(s)
   if s:match("^[%w%-_:.,/=+@]+$") then return s end
   return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- The `yc` command and the REST request for a restore point.
local function commands(engine, p)
   local e = ENGINES[engine]
   local words = { "yc", e.yc, "cluster", "restore" }
   local body = {}
   local ids = p.backup_ids or { p.backup_id }
   words[#words + 1] = "--backup-id"
   words[#words + 1] = shell_word(table.concat(ids, ","))
   body.backupId = ids[1]
   if #ids > 1 then body.additionalBackupIds = { table.unpack(ids, 2) } end
   if p.time then
      if e.time_field == "timestamp" then
         words[#words + 1] = "--recovery-target-timestamp"
         words[#words + 1] = tostring(floor(p.time))
         body.recoveryTargetSpec = { timestamp = tostring(floor(p.time)) }
      else
         words[#words + 1] = "--time"
         words[#words + 1] = rfc3339(p.time)
         body.time = rfc3339(p.time)
         -- timeInclusive=true restores to the state just after `time`, so a
         -- transaction committed at that second is included.
         if e.inclusive then body.timeInclusive = true end
      end
   end
   words[#words + 1] = "--name"
   words[#words + 1] = "<NEW_CLUSTER_NAME>"
   for _, f in ipairs(e.supply) do
      if body[f] == nil then body[f] = "<" .. f .. ">" end
   end
   if e.yc_note then p.caveats[#p.caveats + 1] = e.yc_note end
   return table.concat(words, " "),
      { method = "POST", path = rest_prefix(engine) .. "/clusters:restore", body = body }
end

--- Where can this cluster be restored to at `opts.at`?
-- @param engine engine name
-- @param backups its backups (normalised)
-- @param opts `{at = seconds (default now), now = seconds, cluster = Cluster
--   object or nil, cluster_id = id}`
-- @return a table: `restorable` (boolean), `reason`, `backup_id` (and
--   `backup_ids` for ClickHouse shards), `time` (what the restore request
--   names, PITR only), `window = {from, to}`, `data_loss_seconds` (how much
--   before `at` the restored state ends; 0 for PITR), `pitr`, `caveats`,
--   `yc`, `rest = {method, path, body}`, `supply` (settings the user must
--   still give)
function M.restore_point(engine, backups, opts)
   opts = opts or {}
   local now = opts.now or os.time()
   local at = opts.at or now
   local e = ENGINES[engine]
   if not e then error(format("mdb.recovery: unknown engine '%s'", tostring(engine)), 2) end
   local win, caveats = M.window(engine, backups, { now = now, cluster = opts.cluster })
   local p = { engine = engine, cluster = opts.cluster_id, at = at, window = win, pitr = win.pitr,
      caveats = caveats, supply = e.supply, restorable = false }
   if at > now then
      p.reason = format("%s is in the future (now is %s)", rfc3339(at), rfc3339(now))
      return p
   end
   if win.pitr then
      if not win.from then
         -- a backup state may still serve (PostgreSQL manual backups)
         local bases = sorted_completed(backups, function(b)
            return pitr_base(e, b) and full(b) and b.created <= now
         end)
         if #bases > 0 then
            -- there is a backup, but the window after it has not opened:
            -- its log is not sure to be archived yet (lag)
            local to = now - (e.lag or 0)
            if win.pitr == "points" then to = floor(to / 3600) * 3600 end
            p.reason = format("no moment after backup %s (%s) is sure to be archived yet (the %s's newest "
               .. "assured moment is %s)", bases[1].id, rfc3339(bases[1].created), e.log, rfc3339(to))
         else
            p.reason = engine == "postgresql"
               and "no completed automated backup to replay WAL from (manual PostgreSQL backups restore "
                  .. "only to their own state)"
               or "no completed backup to replay from"
         end
      elseif at < win.from then
         p.reason = format("%s is before the oldest restorable moment %s", rfc3339(at), rfc3339(win.from))
      else
         -- After the newest moment sure to be archived: that moment, the
         -- closest a point-in-time restore is sure to reach.
         local target = at
         if at > win.to and win.pitr == "time" then
            target = win.to
            p.reason = format("%s is after %s, the newest moment sure to be archived", rfc3339(at),
               rfc3339(win.to))
         end
         local bases = sorted_completed(backups, function(b) return pitr_base(e, b) and b.created < target end)
         local base = bases[#bases]
         p.restorable, p.backup_id = true, base.id
         if win.pitr == "points" then
            -- the service picks the recovery point at or before the time
            local point = math.min(floor(at / 3600) * 3600, win.to)
            if point > base.created then p.time = point end
         else
            p.time = target
         end
         p.data_loss_seconds = floor(at - (p.time or base.created))
         local why = p.reason and (p.reason .. "; ") or ""
         if p.time == nil then
            p.reason = format("restorable to the state of backup %s (%s): no recovery point after it yet",
               base.id, rfc3339(base.created))
         elseif win.pitr == "points" then
            p.reason = format("restorable to the recovery point %s from backup %s", rfc3339(p.time), base.id)
         else
            p.reason = format("%srestorable to %s by replaying the %s from backup %s", why, rfc3339(p.time),
               e.log, base.id)
         end
         if e.inclusive then
            caveats[#caveats + 1] = "the yc CLI reference shows no flag for timeInclusive (not verified): the yc "
               .. "command restores with its default, false (the last moment before the time); the REST body "
               .. "sets it true (the first moment after it)"
         end
         p.yc, p.rest = commands(engine, p)
         return p
      end
   end
   -- Restores that must name a time (SQL Server) have no backup state to
   -- fall back on outside the window.
   if e.time_required then return p end
   -- A backup state: the newest completed backup at or before `at`.
   local states = sorted_completed(backups, function(b) return completed(b) and b.created <= at end)
   if #states == 0 then
      p.reason = p.reason or format("no completed backup at or before %s", rfc3339(at))
      return p
   end
   local b = states[#states]
   p.restorable, p.backup_id = true, b.id
   if e.shards then
      -- every shard comes back as of its own backup: the oldest of them
      -- says how much is lost
      local by_id = {}
      for _, x in ipairs(states) do by_id[x.id] = x end
      p.backup_ids = shard_backups(states)
      p.backup_id = p.backup_ids[1]
      for _, id in ipairs(p.backup_ids) do
         if by_id[id].created < b.created then b = by_id[id] end
      end
   end
   p.data_loss_seconds = floor(at - b.created)
   if e.without_time then caveats[#caveats + 1] = e.without_time end
   local why = p.reason and (p.reason .. "; ") or ""
   local age = require("mdb.fmt").age(p.data_loss_seconds)
   if p.backup_ids and #p.backup_ids > 1 then
      p.reason = format("%srestorable to the state of backups %s (one per shard); the oldest, %s (%s), is %s "
         .. "before %s", why, table.concat(p.backup_ids, ", "), b.id, rfc3339(b.created), age, rfc3339(at))
   else
      p.reason = format("%srestorable to the state of backup %s (%s), %s before %s", why, b.id,
         rfc3339(b.created), age, rfc3339(at))
   end
   p.yc, p.rest = commands(engine, p)
   return p
end

return M
