--- The audit's checks: what each one measures on one cluster's backups,
-- which engines it applies to, and the finding it gives.  Thresholds and
-- which checks run come from a policy (mdb.policy); mdb.audit runs the
-- checks over a fleet.
-- @module mdb.checks
local M = {}

local duration = require "mdb.duration"
local tz = require "mdb.tz"
local fmt = require "mdb.fmt"
local backup = require "mdb.backup"
local recovery_checks = require "mdb.recovery_checks"
local operation_checks = require "mdb.operation_checks"

local format, type, ipairs, pairs, tostring = string.format, type, ipairs, pairs, tostring
local sort, concat, floor = table.sort, table.concat, math.floor
local huge = math.huge

--- Check names, in the order findings are produced.
M.CHECKS = { "freshness", "coverage", "count", "gap", "duration", "stuck", "size",
   "automated", "retention_config", "shards", "recoverability", "window", "retention_policy",
   "failed_backups", "databases" }

-- What each engine's Backup and Cluster objects carry (size field, type,
-- status, shards, retention setting's path), from the C engine table.
local ENGINE = require("mdb").capabilities
M.ENGINE_CAPS = ENGINE

-- "upper": a value above a threshold is bad; "lower": below; "atleast":
-- at least that many (missing days) is bad.
local DIRECTION = {
   freshness = "upper", gap = "upper", duration = "upper", stuck = "upper", size = "upper",
   automated = "upper", count = "lower", retention_config = "lower", coverage = "atleast",
}

M.DIRECTION = DIRECTION

M.size_of, M.int64 = backup.size_of, backup.int64
local completed = backup.completed

local function show(v)
   if type(v) == "string" then return format("%q", v) end
   return tostring(v)
end

local function thresholds(s, show_v, kind)
   local parts = {}
   local w = kind == "lower" and "below " or (kind == "atleast" and "at " or "")
   if s.warn then parts[#parts + 1] = "warn " .. w .. show_v(s.warn) end
   if s.crit then parts[#parts + 1] = "crit " .. w .. show_v(s.crit) end
   if #parts == 0 then return "no thresholds" end
   return concat(parts, ", ")
end

local function judge(value, s, dir)
   if dir == "upper" then
      if s.crit and value > s.crit then return "critical", s.crit end
      if s.warn and value > s.warn then return "warning", s.warn end
   elseif dir == "lower" then
      if s.crit and value < s.crit then return "critical", s.crit end
      if s.warn and value < s.warn then return "warning", s.warn end
   else
      if s.crit and value >= s.crit then return "critical", s.crit end
      if s.warn and value >= s.warn then return "warning", s.warn end
   end
   return "ok", s.warn or s.crit
end

local function dur(s) return duration.format(s) end
local function age(s) return fmt.age(s) end
local function pct(v) return format("%g%%", v) end
local function int(v) return tostring(v) end

local function whole(v) return floor(v + 0.5) end

local CHECK = {}

function CHECK.freshness(ctx, s)
   s = recovery_checks.freshness_settings(ctx, s)
   local newest = ctx.done[1]
   if not newest then
      return { status = "critical", expected = s.crit or s.warn, unit = "seconds",
         message = "no completed backup" .. (#ctx.pending > 0 and format(" (%d in progress)", #ctx.pending) or "") }
   end
   local a = ctx.now - newest.created
   if a < 0 then a = 0 end
   local status, expected = judge(a, s, "upper")
   return { status = status, observed = whole(a), expected = expected, unit = "seconds",
      backup_id = newest.id,
      message = format("newest backup is %s old (%s)", age(a), thresholds(s, dur, "upper")) }
end

function CHECK.coverage(ctx, s)
   local zone = ctx.zone
   local today = zone:civil(ctx.now).days
   local first = today - s.days
   local created_day
   if ctx.cluster and math.type(ctx.cluster.created) then
      created_day = zone:civil(ctx.cluster.created).days
      if created_day + 1 > first then first = created_day + 1 end
   end
   local have = {}
   for _, b in ipairs(ctx.done) do have[zone:civil(b.created).days] = true end
   local missing, checked = {}, 0
   for d = first, today - 1 do
      checked = checked + 1
      if not have[d] then missing[#missing + 1] = tz.date_string(tz.civil_from_days(d)) end
   end
   local zname = zone.name
   if checked == 0 then
      return { status = "ok", observed = 0, expected = s.warn or s.crit, unit = "days",
         details = { missing = {}, days = 0 },
         message = format("no complete day to check since the cluster was created on %s (%s)",
            tz.date_string(tz.civil_from_days(created_day)), zname) }
   end
   local status, expected = judge(#missing, s, "atleast")
   local what = checked == s.days and format("the last %s", fmt.plural(checked, "day"))
      or format("the %s since the cluster was created", fmt.plural(checked, "day"))
   local msg
   if #missing == 0 then
      msg = format("every one of %s (%s) has a backup", what, zname)
   else
      msg = format("%d of %s (%s) %s no backup: %s", #missing, what, zname,
         #missing == 1 and "has" or "have", concat(missing, ", "))
   end
   local th = thresholds(s, int, "atleast")
   if s.warn or s.crit then th = th .. " missing" end
   return { status = status, observed = #missing, expected = expected, unit = "days",
      details = { missing = missing, days = checked },
      message = msg .. " (" .. th .. ")" }
end

function CHECK.count(ctx, s)
   local n = #ctx.done
   local status, expected = judge(n, s, "lower")
   return { status = status, observed = n, expected = expected, unit = "backups",
      message = format("%d completed backup%s (%s)", n, n == 1 and "" or "s", thresholds(s, int, "lower")) }
end

function CHECK.gap(ctx, s)
   local since = s.window and ctx.now - s.window or -huge
   local win = s.window and (" in the last " .. dur(s.window)) or ""
   local longest, from, to, over = -1, nil, nil, 0
   local done = ctx.done
   for i = 1, #done - 1 do
      local newer, older = done[i], done[i + 1]
      if newer.created < since then break end
      local g = newer.created - older.created
      if g > longest then longest, from, to = g, older, newer end
      local limit = s.warn or s.crit
      if limit and g > limit then over = over + 1 end
   end
   if not from then
      return { status = "ok", expected = s.warn or s.crit, unit = "seconds",
         message = format("fewer than 2 completed backups%s", win) }
   end
   local status, expected = judge(longest, s, "upper")
   local msg = format("longest gap between backups%s is %s, from %s to %s (%s)", win, age(longest),
      fmt.time(from.created), fmt.time(to.created), thresholds(s, dur, "upper"))
   return { status = status, observed = whole(longest), expected = expected, unit = "seconds",
      backup_id = to.id, details = { from = from.id, to = to.id, over_limit = over }, message = msg }
end

function CHECK.duration(ctx, s)
   local since = s.window and ctx.now - s.window or -huge
   local win = s.window and (" in the last " .. dur(s.window)) or ""
   local longest, which = nil, nil
   for _, b in ipairs(ctx.done) do
      if b.created < since then break end
      if math.type(b.started) then
         local d = b.created - b.started
         if longest == nil or d > longest then longest, which = d, b end
      end
   end
   if not which then
      return { status = "ok", expected = s.warn or s.crit, unit = "seconds",
         message = format("no completed backup with a start time%s", win) }
   end
   local status, expected = judge(longest, s, "upper")
   return { status = status, observed = whole(longest), expected = expected, unit = "seconds",
      backup_id = which.id,
      message = format("longest backup%s took %s (%s)", win, age(longest), thresholds(s, dur, "upper")) }
end

function CHECK.stuck(ctx, s)
   local oldest, since
   for _, b in ipairs(ctx.pending) do
      local t = math.type(b.started) and b.started or b.created
      if t and (since == nil or t < since) then oldest, since = b, t end
   end
   if not oldest then
      return { status = "ok", observed = 0, expected = s.warn or s.crit, unit = "seconds",
         message = "no backup in progress" }
   end
   local a = ctx.now - since
   if a < 0 then a = 0 end
   local status, expected = judge(a, s, "upper")
   local more = #ctx.pending > 1 and format(" (%d in progress)", #ctx.pending) or ""
   return { status = status, observed = whole(a), expected = expected, unit = "seconds",
      backup_id = oldest.id, details = { in_progress = #ctx.pending },
      message = format("backup %s has been in progress for %s%s (%s)", tostring(oldest.id), age(a), more,
         thresholds(s, dur, "upper")) }
end

local function median(list)
   local v = {}
   for i, x in ipairs(list) do v[i] = x end
   sort(v)
   local n = #v
   if n % 2 == 1 then return v[(n + 1) // 2] end
   return (v[n // 2] + v[n // 2 + 1]) / 2
end

function CHECK.size(ctx, s)
   local sized = {}
   for _, b in ipairs(ctx.done) do
      if M.size_of(b) then sized[#sized + 1] = b end
   end
   local newest = sized[1]
   if not newest then
      return { status = "ok", expected = s.warn or s.crit, unit = "percent",
         message = "no completed backup with a size" }
   end
   local size = M.size_of(newest)
   if size == 0 then
      return { status = "critical", observed = -100, expected = s.crit or s.warn, unit = "percent",
         backup_id = newest.id, message = format("newest backup %s is empty (0 B)", tostring(newest.id)) }
   end
   -- Compare like with like: a BASE backup with BASE ones, an INCREMENTAL
   -- with INCREMENTAL ones.
   local prev = {}
   for i = 2, #sized do
      local b = sized[i]
      if b.method == newest.method then prev[#prev + 1] = M.size_of(b) end
      if #prev >= (s.samples or 7) then break end
   end
   local need = s.min_samples or 1
   if #prev < need then
      return { status = "ok", expected = s.warn or s.crit, unit = "percent", backup_id = newest.id,
         message = format("only %d earlier backup%s to compare with (need %d)", #prev,
            #prev == 1 and "" or "s", need) }
   end
   local med = median(prev)
   if med == 0 then
      return { status = "ok", expected = s.warn or s.crit, unit = "percent", backup_id = newest.id,
         message = format("newest backup is %s; the median of the previous %d is 0 B", fmt.size(size), #prev) }
   end
   local change = (size - med) / med * 100
   local rounded = floor(change * 10 + 0.5) / 10
   local status, expected = judge(math.abs(change), s, "upper")
   local dir = change < 0 and "smaller" or "larger"
   return { status = status, observed = rounded, expected = expected, unit = "percent",
      backup_id = newest.id, details = { size = size, median = med, samples = #prev },
      message = format("newest backup %s is %.1f%% %s than the median %s of the previous %d (%s)",
         fmt.size(size), math.abs(change), dir, fmt.size(floor(med)), #prev, thresholds(s, pct, "upper")) }
end

function CHECK.automated(ctx, s)
   local newest
   for _, b in ipairs(ctx.done) do
      if b.type == "AUTOMATED" then newest = b break end
   end
   if not newest then
      return { status = "critical", expected = s.crit or s.warn, unit = "seconds",
         message = "no completed automated backup" }
   end
   local a = ctx.now - newest.created
   if a < 0 then a = 0 end
   local status, expected = judge(a, s, "upper")
   return { status = status, observed = whole(a), expected = expected, unit = "seconds",
      backup_id = newest.id,
      message = format("newest automated backup is %s old (%s)", age(a), thresholds(s, dur, "upper")) }
end

function CHECK.retention_config(ctx, s)
   local path = ctx.caps.retention
   local name = path[#path]
   local cluster = ctx.cluster
   if type(cluster) ~= "table" then
      return { status = "error", unit = "days", expected = s.warn or s.crit,
         message = "cluster details are not available, so " .. name .. " cannot be checked" }
   end
   local v = cluster.config
   for _, k in ipairs(path) do
      if type(v) ~= "table" then v = nil break end
      v = v[k]
   end
   if v == nil then
      return { status = "error", unit = "days", expected = s.warn or s.crit,
         message = format("the cluster's config has no %s", name) }
   end
   local days = M.int64(v)
   if days == nil then
      return { status = "error", unit = "days", expected = s.warn or s.crit,
         message = format("the cluster's %s is not a whole number: %s", name, show(v)) }
   end
   local status, expected = judge(days, s, "lower")
   return { status = status, observed = days, expected = expected, unit = "days",
      message = format("%s is %d day%s (%s)", name, days, days == 1 and "" or "s",
         thresholds(s, int, "lower")) }
end

local function shard_names(b)
   local names = b.sourceShardNames
   if type(names) ~= "table" then return nil end
   return names
end

function CHECK.shards(ctx, s)
   local newest = ctx.done[1]
   local t = newest.created
   local window, tol = s.window or 7 * 86400, s.tolerance or 12 * 3600
   local last_seen, all = {}, {}
   for _, b in ipairs(ctx.done) do
      if b.created < t - window then break end
      for _, name in ipairs(shard_names(b) or {}) do
         if last_seen[name] == nil then
            last_seen[name] = b.created
            all[#all + 1] = name
         end
      end
   end
   sort(all)
   local covered, missing = {}, {}
   for _, name in ipairs(all) do
      if last_seen[name] >= t - tol then covered[#covered + 1] = name else missing[#missing + 1] = name end
   end
   if #missing == 0 then
      return { status = "ok", observed = #covered, expected = #all, unit = "shards",
         details = { shards = all, missing = {} },
         message = format("newest backups cover all %d shard%s (%s)", #all, #all == 1 and "" or "s",
            concat(all, ", ")) }
   end
   local last = {}
   for i, name in ipairs(missing) do last[i] = format("%s last %s", name, fmt.time(last_seen[name])) end
   return { status = s.status or "critical", observed = #covered, expected = #all, unit = "shards",
      backup_id = newest.id, details = { shards = all, missing = missing },
      message = format("newest backups miss %d of %d shards seen in the last %s: %s", #missing, #all,
         dur(window), concat(last, "; ")) }
end

CHECK.recoverability = recovery_checks.recoverability
CHECK.window = recovery_checks.window
CHECK.retention_policy = operation_checks.retention_policy
CHECK.failed_backups = operation_checks.failed_backups
CHECK.databases = recovery_checks.databases

-- Does a check apply to this engine (and data)?
local function applies(check, caps, ctx)
   if check == "recoverability" then
      return caps.known
   elseif check == "window" then
      return not ctx.failed and recovery_checks.window_applies(ctx)
   elseif check == "retention_policy" then
      return operation_checks.retention_policy_applies(ctx)
   elseif check == "failed_backups" then
      return operation_checks.failed_backups_applies(ctx)
   elseif check == "databases" then
      return recovery_checks.databases_applies(ctx)
   elseif check == "size" then
      if caps.size ~= nil then return true end
      if caps.known then return false end
      for _, b in ipairs(ctx.all) do if M.size_of(b) then return true end end
      return false
   elseif check == "automated" then
      if caps.type then return true end
      if caps.known then return false end
      for _, b in ipairs(ctx.all) do if b.type ~= nil then return true end end
      return false
   elseif check == "stuck" then
      if caps.status then return true end
      if caps.known then return false end
      for _, b in ipairs(ctx.all) do if b.status ~= nil then return true end end
      return false
   elseif check == "retention_config" then
      return caps.retention ~= nil
   elseif check == "shards" then
      if caps.known and not caps.shards then return false end
      if ctx.failed then return caps.shards == true end
      if not ctx.done[1] then return false end
      for _, b in ipairs(ctx.done) do
         local names = shard_names(b)
         if names and #names > 0 then return true end
      end
      return false
   end
   return true
end

local function caps_of(engine)
   local c = ENGINE[engine]
   if not c then return { known = false } end
   local out = { known = true }
   for k, v in pairs(c) do out[k] = v end
   return out
end

--- A finding from a check's result (see mdb.audit for its fields).
function M.finding(check, engine, id, cluster, r)
   return {
      check = check, status = r.status, engine = engine, cluster = id,
      cluster_name = type(cluster) == "table" and type(cluster.name) == "string" and cluster.name or nil,
      message = r.message, observed = r.observed, expected = r.expected, unit = r.unit,
      backup_id = r.backup_id, details = r.details,
   }
end

--- The findings of one cluster: each check in `settings` (check →
-- settings, durations in seconds) that applies to its engine, in check
-- order; an "error" finding for each when its listing failed.
-- @param entry a scan result entry; `id` its cluster id
-- @param now Unix seconds; `zone` the policy's zone (mdb.tz)
function M.cluster(entry, id, settings, now, zone)
   local engine, cluster = entry.engine, entry.cluster
   local findings = {}
   local caps = caps_of(engine)
   local all, done, pending = {}, {}, {}
   for _, b in ipairs(entry.backups or {}) do
      all[#all + 1] = b
      if completed(b) then done[#done + 1] = b
      elseif b.status == "CREATING" then pending[#pending + 1] = b end
   end
   local order = {}
   for k, b in ipairs(done) do order[b] = k end
   sort(done, function(a, b)
      if a.created ~= b.created then return a.created > b.created end
      return order[a] < order[b]
   end)
   local ctx = { engine = engine, id = id, cluster = cluster, caps = caps, all = all,
      done = done, pending = pending, now = now, zone = zone, failed = entry.error ~= nil,
      policies = entry.policies, operations = entry.operations,
      policies_error = entry.policies_error, operations_error = entry.operations_error }
   for _, c in ipairs(M.CHECKS) do
      local s = settings[c]
      if s and applies(c, caps, ctx) then
         local r
         if ctx.failed and c ~= "retention_config" then
            r = { status = "error", message = "listing backups failed: " .. tostring(entry.error) }
         else
            r = CHECK[c](ctx, s)
         end
         findings[#findings + 1] = M.finding(c, engine, id, cluster, r)
      end
   end
   return findings
end

return M
