--- Backup audits: checks over the backups of a fleet of clusters that
-- return findings, driven by a policy (defaults, per-engine and
-- per-cluster overrides).
--
--   local audit = require "mdb.audit"
--   local policy = assert(audit.load_policy("scripts/policies/production.lua"))
--   local results = client:scan { engines = policy.engines, folder = folder }
--   local findings = audit.run(results, policy)
--   os.exit(audit.exit_status(findings))
--
-- A finding is `{check, status, engine, cluster, cluster_name, message,
-- observed, expected, unit, backup_id, details}` with status "ok",
-- "warning", "critical" or "error".  Each cluster gets one finding per
-- check that runs for it and applies to its engine (no `size` check for
-- engines whose backups have no size, and so on).  A cluster whose
-- listing failed gets an "error" finding for each of its checks; the rest
-- of the fleet is still audited.
--
-- The core, `audit.run`, works on the array `client:scan` returns, so it
-- can be tested on crafted histories without any API.
-- @module mdb.audit
local M = { _VERSION = "0.1.0" }

local duration = require "mdb.duration"
local tz = require "mdb.tz"
local fmt = require "mdb.fmt"
local retention = require "mdb.retention"

local format, type, ipairs, pairs, tostring = string.format, type, ipairs, pairs, tostring
local sort, concat, floor, tointeger = table.sort, table.concat, math.floor, math.tointeger
local huge = math.huge

--- Check names, in the order findings are produced.
M.CHECKS = { "freshness", "coverage", "count", "gap", "duration", "stuck", "size",
   "automated", "retention_config", "shards" }

--- Statuses from best to worst.
M.STATUSES = { "ok", "warning", "critical", "error" }

local ENGINES = { "mongodb", "sqlserver", "postgresql", "mysql", "clickhouse", "redis",
   "greenplum", "opensearch", "elasticsearch", "spqr" }

-- What each engine's Backup and Cluster objects carry (api.md §2.4, §3).
-- size: the size field; type: has AUTOMATED/MANUAL; status: has
-- DONE/CREATING; shards: has sourceShardNames; retention: path of the
-- retention setting in Cluster.config.
local RETAIN = { "backupRetainPeriodDays" }
local ENGINE = {
   mongodb = { size = "size", type = true, shards = true, retention = RETAIN },
   sqlserver = {},
   postgresql = { size = "size", type = true, status = true, retention = RETAIN },
   mysql = { size = "size", type = true, status = true, retention = RETAIN },
   clickhouse = { size = "size", type = true, shards = true, retention = RETAIN },
   redis = { type = true, shards = true, retention = RETAIN },
   greenplum = { size = "size", type = true, retention = RETAIN },
   opensearch = { size = "sizeBytes", retention = { "snapshotManagement", "snapshotMaxAgeDays" } },
   elasticsearch = { size = "sizeBytes" },
   spqr = { size = "size", type = true, shards = true, retention = RETAIN },
}
M.ENGINE_CAPS = ENGINE

-- Settings of each check: kind of each key.  "duration" values are texts
-- like "26h" (seconds once parsed); "count" whole numbers; "percent"
-- numbers > 0; "status" one of warning/critical.
local SCHEMA = {
   freshness = { warn = "duration", crit = "duration" },
   coverage = { days = "count", warn = "count", crit = "count" },
   count = { warn = "count", crit = "count" },
   gap = { warn = "duration", crit = "duration", window = "duration" },
   duration = { warn = "duration", crit = "duration", window = "duration" },
   stuck = { warn = "duration", crit = "duration" },
   size = { warn = "percent", crit = "percent", samples = "count", min_samples = "count" },
   automated = { warn = "duration", crit = "duration" },
   retention_config = { warn = "count", crit = "count" },
   shards = { window = "duration", tolerance = "duration", status = "status" },
}
-- "upper": a value above a threshold is bad; "lower": below; "atleast":
-- at least that many (missing days) is bad.
local DIRECTION = {
   freshness = "upper", gap = "upper", duration = "upper", stuck = "upper", size = "upper",
   automated = "upper", count = "lower", retention_config = "lower", coverage = "atleast",
}

--- Built-in settings (as written in policy files).
M.DEFAULTS = {
   freshness = { warn = "26h", crit = "50h" },
   coverage = { days = 7, warn = 1 },
   count = { warn = 7, crit = 1 },
   gap = { warn = "30h", crit = "50h", window = "30d" },
   duration = { warn = "6h", crit = "12h", window = "7d" },
   stuck = { warn = "6h", crit = "12h" },
   size = { warn = 50, crit = 90, samples = 7, min_samples = 3 },
   automated = { warn = "26h", crit = "50h" },
   retention_config = { warn = 7 },
   shards = { window = "7d", tolerance = "12h", status = "critical" },
}

local TOP_KEYS = { "engines", "folder", "tz", "checks", "defaults", "per_engine", "per_cluster", "retention" }
local SELECTOR_KEYS = { id = true, name = true, labels = true, skip = true }

local function sorted_keys(t)
   local out = {}
   for k in pairs(t) do out[#out + 1] = k end
   sort(out)
   return out
end

local function is_array(t)
   local n = 0
   for _ in pairs(t) do n = n + 1 end
   return n == #t
end

local function set_of(list)
   local s = {}
   for _, v in ipairs(list) do s[v] = true end
   return s
end
local CHECK_SET, ENGINE_SET = set_of(M.CHECKS), set_of(ENGINES)

local function show(v)
   if type(v) == "string" then return format("%q", v) end
   return tostring(v)
end

---------------------------------------------------------------------------
-- Policies

local Policy = { __name = "mdb.audit.policy" }
Policy.__index = Policy

-- Raise a policy error; caught by M.policy / M.load_policy.
local function fail(path, msg, ...)
   error({ policy_error = (path ~= "" and (path .. ": ") or "") .. format(msg, ...) }, 0)
end

local function check_keys(t, path, allowed, what)
   for k in pairs(t) do
      if type(k) ~= "string" or not allowed[k] then
         local known = {}
         for name in pairs(allowed) do known[#known + 1] = name end
         sort(known)
         fail(path, "unknown key '%s' in %s (known: %s)", tostring(k), what, concat(known, ", "))
      end
   end
end

-- Parse one check's settings table (or true/false).
local function parse_settings(check, v, path)
   if v == true or v == false then return v end
   if type(v) ~= "table" then
      fail(path, "expected a table of settings, true or false, got %s", type(v))
   end
   local schema = SCHEMA[check]
   local out = {}
   for k, val in pairs(v) do
      local kind = type(k) == "string" and schema[k]
      if not kind then
         fail(path, "unknown key '%s' for check %s (known: %s)", tostring(k), check,
            concat(sorted_keys(schema), ", "))
      end
      local p = path .. "." .. k
      if val == false then
         out[k] = false                      -- unset an inherited value
      elseif kind == "duration" then
         if type(val) ~= "string" then
            fail(p, 'expected a duration like "26h", got %s %s', type(val), show(val))
         end
         local sec, err = duration.parse(val)
         if not sec then fail(p, "%s", err) end
         if sec <= 0 then fail(p, "duration must be greater than zero") end
         out[k] = sec
      elseif kind == "count" then
         local n = math.type(val) and tointeger(val)
         if not n or n < 0 then fail(p, "expected a whole number >= 0, got %s", show(val)) end
         if k == "days" and n < 1 then fail(p, "must be at least 1") end
         if (k == "samples" or k == "min_samples") and n < 1 then fail(p, "must be at least 1") end
         out[k] = n
      elseif kind == "percent" then
         if math.type(val) == nil or val <= 0 then
            fail(p, "expected a percentage > 0, got %s", show(val))
         end
         out[k] = val
      elseif kind == "status" then
         if val ~= "warning" and val ~= "critical" then
            fail(p, 'expected "warning" or "critical", got %s', show(val))
         end
         out[k] = val
      end
   end
   return out
end

local function parse_checks_map(t, path, extra)
   local out = {}
   for k, v in pairs(t) do
      if type(k) == "string" and CHECK_SET[k] then
         out[k] = parse_settings(k, v, path .. "." .. k)
      elseif not (extra and extra[k]) then
         local allowed = {}
         for _, c in ipairs(M.CHECKS) do allowed[#allowed + 1] = c end
         if extra then for e in pairs(extra) do allowed[#allowed + 1] = e end end
         sort(allowed)
         fail(path, "unknown key '%s' (known: %s)", tostring(k), concat(allowed, ", "))
      end
   end
   return out
end

local function glob_pattern(g)
   return "^" .. g:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

local function string_list(v, path, what)
   if type(v) == "string" then return { v } end
   if type(v) ~= "table" or not is_array(v) or #v == 0 then
      fail(path, "expected %s or a list of them", what)
   end
   for i, s in ipairs(v) do
      if type(s) ~= "string" then fail(path .. "[" .. i .. "]", "expected a string, got %s", type(s)) end
   end
   return v
end

-- Settings merged in order; `false` for a key unsets it.
local function merge(base, over)
   local out = {}
   for k, v in pairs(base or {}) do out[k] = v end
   for k, v in pairs(over) do
      if v == false then out[k] = nil else out[k] = v end
   end
   return out
end

local function check_order(check, s, path)
   local dir = DIRECTION[check]
   if s.warn and s.crit then
      local bad = (dir == "upper" or dir == "atleast") and s.warn > s.crit or dir == "lower" and s.warn < s.crit
      if bad then
         local show_v = SCHEMA[check].warn == "duration" and duration.format or tostring
         fail(path, "warn (%s) is %s than crit (%s); set both, or unset one with false", show_v(s.warn),
            dir == "lower" and "less" or "greater", show_v(s.crit))
      end
   end
   if check == "size" and s.min_samples and s.samples and s.min_samples > s.samples then
      fail(path, "min_samples (%d) is greater than samples (%d)", s.min_samples, s.samples)
   end
end

local BUILTIN                                   -- DEFAULTS, parsed (below)

local function normalize(t, source)
   if type(t) ~= "table" then fail("", "a policy must be a table, got %s", type(t)) end
   check_keys(t, "", set_of(TOP_KEYS), "the policy")
   local p = setmetatable({ source = source }, Policy)

   if t.engines ~= nil then
      local list = string_list(t.engines, "engines", "an engine name")
      for i, e in ipairs(list) do
         if not ENGINE_SET[e] then
            fail("engines[" .. i .. "]", "unknown engine '%s' (known: %s)", e, concat(ENGINES, ", "))
         end
      end
      local seen, uniq = {}, {}
      for _, e in ipairs(list) do
         if not seen[e] then seen[e] = true; uniq[#uniq + 1] = e end
      end
      p.engines = uniq
   end
   if t.folder ~= nil then
      if type(t.folder) ~= "string" or t.folder == "" then fail("folder", "expected a folder id") end
      p.folder = t.folder
   end
   if t.tz ~= nil and type(t.tz) ~= "string" then fail("tz", "expected a string, got %s", type(t.tz)) end
   local zone, zerr = tz.zone(t.tz)
   if not zone then fail("tz", "%s", zerr) end
   p.zone, p.tz = zone, zone.name

   p.enabled = {}
   if t.checks == nil then
      for _, c in ipairs(M.CHECKS) do p.enabled[c] = true end
   else
      if type(t.checks) ~= "table" or not is_array(t.checks) then
         fail("checks", "expected a list of check names")
      end
      for i, c in ipairs(t.checks) do
         if not CHECK_SET[c] then
            fail("checks[" .. i .. "]", "unknown check %s (known: %s)", show(c), concat(M.CHECKS, ", "))
         end
         p.enabled[c] = true
      end
   end

   p.defaults = {}
   local defaults = t.defaults ~= nil and t.defaults or {}
   if type(defaults) ~= "table" then fail("defaults", "expected a table, got %s", type(defaults)) end
   local given = parse_checks_map(defaults, "defaults")
   for _, c in ipairs(M.CHECKS) do
      local g = given[c]
      if g == false then
         p.enabled[c] = nil
         p.defaults[c] = BUILTIN and BUILTIN[c] or {}
      elseif g == true or g == nil then
         p.defaults[c] = BUILTIN and BUILTIN[c] or {}
      else
         p.defaults[c] = merge(BUILTIN and BUILTIN[c], g)
      end
      check_order(c, p.defaults[c], "defaults." .. c)
   end

   p.per_engine = {}
   if t.per_engine ~= nil then
      if type(t.per_engine) ~= "table" then fail("per_engine", "expected a table keyed by engine") end
      for e, o in pairs(t.per_engine) do
         if not ENGINE_SET[e] then
            fail("per_engine", "unknown engine '%s' (known: %s)", tostring(e), concat(ENGINES, ", "))
         end
         if type(o) ~= "table" then fail("per_engine." .. e, "expected a table, got %s", type(o)) end
         p.per_engine[e] = parse_checks_map(o, "per_engine." .. e)
         for c, st in pairs(p.per_engine[e]) do
            if type(st) == "table" then
               check_order(c, merge(p.defaults[c], st), "per_engine." .. e .. "." .. c)
            end
         end
      end
   end

   p.per_cluster = {}
   if t.per_cluster ~= nil then
      if type(t.per_cluster) ~= "table" or not is_array(t.per_cluster) then
         fail("per_cluster", "expected a list of override tables")
      end
      for i, o in ipairs(t.per_cluster) do
         local path = "per_cluster[" .. i .. "]"
         if type(o) ~= "table" then fail(path, "expected a table, got %s", type(o)) end
         local entry = { checks = parse_checks_map(o, path, SELECTOR_KEYS) }
         for c, st in pairs(entry.checks) do
            if type(st) == "table" then check_order(c, merge(p.defaults[c], st), path .. "." .. c) end
         end
         if o.id ~= nil then entry.ids = set_of(string_list(o.id, path .. ".id", "a cluster id")) end
         if o.name ~= nil then
            entry.names = {}
            for _, g in ipairs(string_list(o.name, path .. ".name", "a name pattern")) do
               entry.names[#entry.names + 1] = glob_pattern(g)
            end
         end
         if o.labels ~= nil then
            if type(o.labels) ~= "table" or next(o.labels) == nil then
               fail(path .. ".labels", "expected a table of label = value pattern")
            end
            entry.labels = {}
            for k, v in pairs(o.labels) do
               if type(k) ~= "string" or type(v) ~= "string" then
                  fail(path .. ".labels", "expected string keys and string value patterns")
               end
               entry.labels[k] = glob_pattern(v)
            end
         end
         if not (entry.ids or entry.names or entry.labels) then
            fail(path, "needs at least one of id, name or labels to select clusters")
         end
         if o.skip ~= nil and type(o.skip) ~= "boolean" then
            fail(path .. ".skip", "expected true or false, got %s", type(o.skip))
         end
         entry.skip = o.skip
         p.per_cluster[i] = entry
      end
   end

   if t.retention ~= nil then
      local r, rerr = retention.check_policy(t.retention)
      if not r then fail("retention", "%s", rerr) end
      p.retention = t.retention
   end
   return p
end

BUILTIN = {}
for _, c in ipairs(M.CHECKS) do BUILTIN[c] = parse_settings(c, M.DEFAULTS[c], "builtin." .. c) end

local function policy_error(err)
   if type(err) == "table" and err.policy_error then return err.policy_error end
   return nil
end

--- Check a policy table and return the policy object `audit.run` uses.
-- @param t the policy table (see README "Policy files"), or nil for the
--   built-in defaults
-- @param source name used in messages (default "policy")
-- @raise with a message naming the bad key, at the caller's level
function M.policy(t, source)
   if t == nil then t = {} end
   if getmetatable(t) == Policy then return t end
   local ok, p = pcall(normalize, t, source or "policy")
   if not ok then
      local msg = policy_error(p)
      if msg then error((source or "policy") .. ": " .. msg, 2) end
      error(p, 0)
   end
   return p
end

--- Load a policy file: a Lua file that returns a policy table.
-- @return the policy object, or nil and a message that names the file
--   (unreadable file, syntax error, runtime error, bad key or value)
-- @raise when `path` is not a string
function M.load_policy(path)
   if type(path) ~= "string" then
      error(format("bad argument #1 to 'load_policy' (string expected, got %s)", type(path)), 2)
   end
   local f, oerr = io.open(path, "rb")
   if not f then return nil, "cannot open " .. oerr end
   local text = f:read("a")
   f:close()
   -- A short chunk name, put back as the whole path: Lua abbreviates long
   -- chunk names in messages, and the path is what the user must see.
   local function located(msg)
      return (tostring(msg):gsub("^policy:", path .. ":"))
   end
   local env = setmetatable({}, { __index = _G })
   local chunk, lerr = load(text, "=policy", "t", env)
   if not chunk then return nil, located(lerr) end
   local ok, t = pcall(chunk)
   if not ok then
      local msg = located(t)
      if msg:sub(1, #path + 1) ~= path .. ":" then msg = path .. ": " .. msg end
      return nil, msg
   end
   local ok2, p = pcall(normalize, t, path)
   if not ok2 then
      local msg = policy_error(p)
      if msg then return nil, path .. ": " .. msg end
      return nil, format("%s: %s", path, tostring(p))
   end
   return p
end

--- Change a policy's defaults from command-line style overrides, e.g.
-- `{ freshness = { crit = "26h" }, coverage = { days = 7 } }`.
-- @return the policy (changed in place)
-- @raise with a message naming the bad key
function M.override(policy, over, source)
   policy = M.policy(policy)
   local ok, err = pcall(function()
      local parsed = parse_checks_map(over, source or "override")
      for c, s in pairs(parsed) do
         if s == false then policy.enabled[c] = nil
         else
            policy.enabled[c] = true
            if s ~= true then policy.defaults[c] = merge(policy.defaults[c], s) end
            check_order(c, policy.defaults[c], (source or "override") .. "." .. c)
         end
      end
   end)
   if not ok then error(policy_error(err) or err, 2) end
   return policy
end

--- Use another time zone for a policy's day boundaries (`--tz`).
-- @return the policy, or nil and a message for a bad zone
function M.set_tz(policy, spec)
   policy = M.policy(policy)
   local z, err = tz.zone(spec)
   if not z then return nil, err end
   policy.zone, policy.tz = z, z.name
   return policy
end

--- Restrict a policy to the named checks.
function M.only(policy, names)
   policy = M.policy(policy)
   if type(names) ~= "table" then
      error(format("bad argument #2 to 'only' (table expected, got %s)", type(names)), 2)
   end
   local keep = {}
   for _, c in ipairs(names) do
      if not CHECK_SET[c] then
         error(format("unknown check %s (known: %s)", show(c), concat(M.CHECKS, ", ")), 2)
      end
      keep[c] = true
      policy.enabled[c] = true
   end
   for c in pairs(policy.enabled) do if not keep[c] then policy.enabled[c] = nil end end
   policy.only = keep
   return policy
end

local function matches(entry, id, cluster)
   if entry.ids and not entry.ids[id or ""] then return false end
   if entry.names then
      local name = cluster and cluster.name
      if type(name) ~= "string" then return false end
      local any = false
      for _, pat in ipairs(entry.names) do
         if name:match(pat) then any = true break end
      end
      if not any then return false end
   end
   if entry.labels then
      local labels = cluster and cluster.labels
      if type(labels) ~= "table" then return false end
      for k, pat in pairs(entry.labels) do
         local v = labels[k]
         if type(v) ~= "string" or not v:match(pat) then return false end
      end
   end
   return true
end

--- The checks that run for one cluster and their settings.
-- @return map check → settings (durations in seconds), or nil when the
--   cluster is skipped
function M.settings_for(policy, engine, id, cluster)
   policy = M.policy(policy)
   local enabled, settings = {}, {}
   for c in pairs(policy.enabled) do enabled[c] = true end
   for _, c in ipairs(M.CHECKS) do settings[c] = policy.defaults[c] end
   local function apply(map)
      for c, s in pairs(map) do
         if policy.only and not policy.only[c] then
            -- --check restricts the run; overrides cannot add checks back
         elseif s == false then enabled[c] = nil
         else
            enabled[c] = true
            if s ~= true then settings[c] = merge(settings[c], s) end
         end
      end
   end
   if policy.per_engine[engine] then apply(policy.per_engine[engine]) end
   local skip = false
   for _, entry in ipairs(policy.per_cluster) do
      if matches(entry, id, cluster) then
         apply(entry.checks)
         if entry.skip ~= nil then skip = entry.skip end
      end
   end
   if skip then return nil end
   local out = {}
   for _, c in ipairs(M.CHECKS) do
      if enabled[c] then out[c] = settings[c] end
   end
   return out
end

---------------------------------------------------------------------------
-- Checks

local function completed(b)
   return b.status ~= "CREATING" and math.type(b.created) ~= nil
end

--- The size of a backup in bytes (`size`, or `sizeBytes` for OpenSearch
-- and Elasticsearch), or nil.
function M.size_of(b)
   local s = b.size
   if s == nil then s = b.sizeBytes end
   if math.type(s) then return s end
   return nil
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

--- Read an int64 that the API sends as a JSON string or a number.
-- @return integer, or nil
function M.int64(v)
   if math.type(v) == "integer" then return v end
   if math.type(v) == "float" then return tointeger(v) end
   if type(v) == "string" and v:match("^%-?%d+$") and #v <= 19 then return tointeger(tonumber(v)) end
   return nil
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

-- Does a check apply to this engine (and data)?
local function applies(check, caps, ctx)
   if check == "size" then
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

local function finding(check, engine, id, cluster, r)
   return {
      check = check, status = r.status, engine = engine, cluster = id,
      cluster_name = type(cluster) == "table" and type(cluster.name) == "string" and cluster.name or nil,
      message = r.message, observed = r.observed, expected = r.expected, unit = r.unit,
      backup_id = r.backup_id, details = r.details,
   }
end

--- Run one check on one cluster's backups (for tests and custom tools).
-- @param check a check name
-- @param entry a scan result entry `{engine=, id=, cluster=, backups=, error=}`
-- @param settings that check's settings as in a policy file (or nil for
--   the built-in defaults)
-- @param opts `{now=, tz=}`
-- @return a finding, or nil when the check does not apply
function M.check(check, entry, settings, opts)
   if not CHECK_SET[check] then
      error(format("bad argument #1 to 'check' (unknown check %s)", show(check)), 2)
   end
   if opts ~= nil and type(opts) ~= "table" then
      error(format("bad argument #4 to 'check' (table expected, got %s)", type(opts)), 2)
   end
   for k in pairs(opts or {}) do
      if k ~= "now" and k ~= "tz" then
         error(format("bad argument #4 to 'check' (unknown option '%s')", tostring(k)), 2)
      end
   end
   local t = {}
   if settings ~= nil then t[check] = settings end
   local ok, p = pcall(normalize, { checks = { check }, defaults = t, tz = opts and opts.tz }, "settings")
   if not ok then error(policy_error(p) or p, 2) end
   local f = M.run({ entry }, p, { now = opts and opts.now })
   return f[1]
end

--- Audit scan results against a policy.
-- @param results the array `client:scan` returns: entries `{engine=, id=,
--   cluster=, backups=, error=}`; an entry with `id = nil` and `error` is
--   a failed cluster listing for that engine
-- @param policy a policy object or table (nil: built-in defaults)
-- @param opts `{ now = Unix seconds (default os.time()) }`
-- @return array of findings, in result order and check order
-- @raise on bad arguments or a bad policy table
function M.run(results, policy, opts)
   if type(results) ~= "table" then
      error(format("bad argument #1 to 'run' (table expected, got %s)", type(results)), 2)
   end
   if opts ~= nil and type(opts) ~= "table" then
      error(format("bad argument #3 to 'run' (table expected, got %s)", type(opts)), 2)
   end
   for k in pairs(opts or {}) do
      if k ~= "now" then error(format("bad argument #3 to 'run' (unknown option '%s')", tostring(k)), 2) end
   end
   local ok, p = pcall(M.policy, policy)
   if not ok then error(p, 2) end
   local now = opts and opts.now or os.time()
   if math.type(now) == nil then
      error(format("bad option 'now' to 'run' (number expected, got %s)", type(now)), 2)
   end
   local findings = {}
   for i, entry in ipairs(results) do
      if type(entry) ~= "table" then
         error(format("bad argument #1 to 'run' (entry #%d is a %s, not a table)", i, type(entry)), 2)
      end
      local engine, id, cluster = entry.engine, entry.id, entry.cluster
      if id == nil and type(cluster) == "table" then id = cluster.id end
      if id == nil then
         if entry.error ~= nil then
            findings[#findings + 1] = finding("listing", engine, nil, nil, { status = "error",
               message = format("listing %s clusters failed: %s", tostring(engine), tostring(entry.error)) })
         end
      else
         local settings = M.settings_for(p, engine, id, cluster)
         if settings then
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
               done = done, pending = pending, now = now, zone = p.zone, failed = entry.error ~= nil }
            for _, c in ipairs(M.CHECKS) do
               local s = settings[c]
               if s and applies(c, caps, ctx) then
                  local r
                  if ctx.failed and c ~= "retention_config" then
                     r = { status = "error", message = "listing backups failed: " .. tostring(entry.error) }
                  else
                     r = CHECK[c](ctx, s)
                  end
                  findings[#findings + 1] = finding(c, engine, id, cluster, r)
               end
            end
         end
      end
   end
   return findings
end

local RANK = { ok = 0, warning = 1, critical = 2, error = 3 }
M.RANK = RANK

--- Counts by status: `{ok=, warning=, critical=, error=, total=,
-- clusters=, worst=}` (worst in the order ok < warning < critical < error).
function M.summary(findings)
   local s = { ok = 0, warning = 0, critical = 0, error = 0, total = #findings, clusters = 0, worst = "ok" }
   local seen = {}
   for _, f in ipairs(findings) do
      s[f.status] = (s[f.status] or 0) + 1
      if (RANK[f.status] or 3) > RANK[s.worst] then s.worst = f.status end
      local key = tostring(f.engine) .. "/" .. tostring(f.cluster)
      if f.cluster and not seen[key] then seen[key] = true; s.clusters = s.clusters + 1 end
   end
   return s
end

--- The documented exit status: 0 all ok, 1 any warning or critical, 2 any
-- error.
function M.exit_status(findings)
   local s = M.summary(findings)
   if s.error > 0 then return 2 end
   if s.warning + s.critical > 0 then return 1 end
   return 0
end

return M
