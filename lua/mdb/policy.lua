--- Audit policies: the table a policy file returns, checked key by key
-- (unknown keys and bad values are errors naming the key), merged from the
-- built-in defaults, per-engine and per-cluster overrides into the
-- settings each cluster's checks run with.
-- @module mdb.policy
local M = {}

local duration = require "mdb.duration"
local tz = require "mdb.tz"
local retention = require "mdb.retention"
local checks = require "mdb.checks"

local format, type, ipairs, pairs, tostring = string.format, type, ipairs, pairs, tostring
local sort, concat, tointeger = table.sort, table.concat, math.tointeger

local CHECKS, DIRECTION = checks.CHECKS, checks.DIRECTION

local ENGINES = require("mdb").engines

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
   recoverability = { window = "duration", rpo = "duration", status = "status" },
   window = { late = "duration", window = "duration", status = "status" },
   retention_policy = { grace = "duration", tolerance = "duration", status = "status" },
   failed_backups = { window = "duration", stuck = "duration" },
   databases = { window = "duration", status = "status" },
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
   recoverability = { window = "3d", rpo = "30h", status = "critical" },
   window = { late = "3h", window = "7d", status = "warning" },
   retention_policy = { grace = "6h", tolerance = "1d", status = "warning" },
   failed_backups = { window = "2d", stuck = "6h" },
   databases = { window = "7d", status = "critical" },
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
local CHECK_SET, ENGINE_SET = set_of(CHECKS), set_of(ENGINES)

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
         for _, c in ipairs(CHECKS) do allowed[#allowed + 1] = c end
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
      local most = require("mdb").defaults.max_id_length
      if #t.folder > most then fail("folder", "a folder id is at most %d characters, got %d", most, #t.folder) end
      p.folder = t.folder
   end
   if t.tz ~= nil and type(t.tz) ~= "string" then fail("tz", "expected a string, got %s", type(t.tz)) end
   local zone, zerr = tz.zone(t.tz)
   if not zone then fail("tz", "%s", zerr) end
   p.zone, p.tz = zone, zone.name

   p.enabled = {}
   if t.checks == nil then
      for _, c in ipairs(CHECKS) do p.enabled[c] = true end
   else
      if type(t.checks) ~= "table" or not is_array(t.checks) then
         fail("checks", "expected a list of check names")
      end
      for i, c in ipairs(t.checks) do
         if not CHECK_SET[c] then
            fail("checks[" .. i .. "]", "unknown check %s (known: %s)", show(c), concat(CHECKS, ", "))
         end
         p.enabled[c] = true
      end
   end

   p.defaults = {}
   local defaults = t.defaults ~= nil and t.defaults or {}
   if type(defaults) ~= "table" then fail("defaults", "expected a table, got %s", type(defaults)) end
   local given = parse_checks_map(defaults, "defaults")
   for _, c in ipairs(CHECKS) do
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
      -- A copy, checked and kept: the policy's own table could run its
      -- code (a metamethod) each time it is read, long after the file was,
      -- and answer differently.
      local copy = t.retention
      if type(copy) == "table" then
         copy = {}
         for k, v in pairs(t.retention) do copy[k] = v end
      end
      local r, rerr = retention.check_policy(copy)
      if not r then fail("retention", "%s", rerr) end
      p.retention = copy
   end
   return p
end

BUILTIN = {}
for _, c in ipairs(CHECKS) do BUILTIN[c] = parse_settings(c, M.DEFAULTS[c], "builtin." .. c) end

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
   -- (a directory opens, and fails only as it is read)
   local text, rerr = f:read("a")
   f:close()
   if not text then return nil, format("cannot read %s: %s", path, rerr) end
   -- A short chunk name, put back as the whole path: Lua abbreviates long
   -- chunk names in messages, and the path is what the user must see.
   -- An error raised by the file's code (also from a metamethod of the
   -- table it returned, while that is checked) is located in the file.
   local function located(msg)
      msg = tostring(msg):gsub("^policy:", path .. ":")
      if msg:sub(1, #path + 1) ~= path .. ":" then msg = path .. ": " .. msg end
      return msg
   end
   local chunk, lerr = load(text, "=policy", "t", require("mdb.policy_sandbox").env(path, "=policy"))
   if not chunk then return nil, located(lerr) end
   local ok, t = pcall(chunk)
   if not ok then return nil, located(t) end
   local ok2, p = pcall(normalize, t, path)
   if not ok2 then
      local msg = policy_error(p)
      if msg then return nil, path .. ": " .. msg end
      return nil, located(p)
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
         error(format("unknown check %s (known: %s)", show(c), concat(CHECKS, ", ")), 2)
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
   for _, c in ipairs(CHECKS) do settings[c] = policy.defaults[c] end
   local function apply(map)
      for c, s in pairs(map) do
         -- --check restricts the run (policy.only); overrides cannot add checks back
         local allowed = not policy.only or policy.only[c]
         if allowed and s == false then enabled[c] = nil
         elseif allowed then
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
   for _, c in ipairs(CHECKS) do
      if enabled[c] then out[c] = settings[c] end
   end
   return out
end


--- Check a policy table without raising: the policy object, or nil and
-- a message naming the bad key (without a source prefix).
function M.parse(t, source)
   local ok, p = pcall(normalize, t, source)
   if ok then return p end
   local msg = policy_error(p)
   if msg then return nil, msg end
   error(p, 0)
end

return M
