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
-- of the fleet is still audited.  A failed listing of clusters gets one
-- "listing" finding: an engine's Cluster.List, or (an entry with
-- `listing`, as mdb.fleet hands over a failed Resource Manager listing)
-- the listing it names, with no engine; that finding carries `listing`
-- and `cloud`.
--
-- The core, `audit.run`, works on the array `client:scan` returns, so it
-- can be tested on crafted histories without any API.
-- @module mdb.audit
local M = {}

local policies = require "mdb.policy"
local checks = require "mdb.checks"
local backup = require "mdb.backup"
local status = require "mdb.status"

local format, type, ipairs, pairs, tostring = string.format, type, ipairs, pairs, tostring

--- Check names, in the order findings are produced.
M.CHECKS = checks.CHECKS
--- Statuses from best to worst.
M.STATUSES = status.STATUSES
--- What each engine's backups and clusters carry (mdb.checks).
M.ENGINE_CAPS = checks.ENGINE_CAPS
--- Built-in settings (as written in policy files).
M.DEFAULTS = policies.DEFAULTS

-- Policies (mdb.policy): M.policy(t, source), M.load_policy(path),
-- M.override(policy, over, source), M.set_tz(policy, zone),
-- M.only(policy, names), M.settings_for(policy, engine, id, cluster).
M.policy, M.load_policy, M.override = policies.policy, policies.load_policy, policies.override
M.set_tz, M.only, M.settings_for = policies.set_tz, policies.only, policies.settings_for

--- The size of a backup in bytes, and int64 values the API sends as
-- strings or numbers (mdb.backup).
M.size_of, M.int64 = backup.size_of, backup.int64

local CHECK_SET = {}
for _, c in ipairs(M.CHECKS) do CHECK_SET[c] = true end

local function show(v)
   if type(v) == "string" then return format("%q", v) end
   return tostring(v)
end


-- The findings of one entry under policy object `p`, appended to `out`.
local function entry_findings(entry, p, now, out)
   local engine, id, cluster = entry.engine, entry.id, entry.cluster
   if id == nil and type(cluster) == "table" then id = cluster.id end
   local first = #out + 1
   if id == nil then
      if entry.error ~= nil then
         local what = entry.listing or (tostring(engine) .. " clusters")
         local f = checks.finding("listing", engine, nil, nil, { status = "error",
            message = format("listing %s failed: %s", what, tostring(entry.error)) })
         if entry.listing then f.listing, f.cloud = entry.listing, entry.cloud end
         out[#out + 1] = f
      end
   else
      local settings = M.settings_for(p, engine, id, cluster)
      if settings then
         for _, f in ipairs(checks.cluster(entry, id, settings, now, p.zone)) do out[#out + 1] = f end
      end
   end
   local folder = entry.folder
   if folder ~= nil then
      for i = first, #out do out[i].folder = folder end
   end
   return out
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
   local p, perr = policies.parse({ checks = { check }, defaults = t, tz = opts and opts.tz }, "settings")
   if not p then error(perr, 2) end
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
      entry_findings(entry, p, now, findings)
   end
   return findings
end

--- Audit one scan entry (a streaming scan's `each` calls this per
-- cluster, so that only findings are kept, never the fleet's backups).
-- `audit.run(results, policy, opts)` is this over every entry.
-- @param entry a scan entry `{engine=, id=, folder=, cluster=, backups=, error=}`
-- @param policy a policy object (from `audit.policy` / `audit.load_policy`;
--   a table is turned into one each call, so make it once)
-- @param opts `{ now = Unix seconds (default os.time()), into = array to
--   append the findings to (default a new one) }`
-- @return the array of findings (`into`), in check order; each carries
--   the entry's `folder` when it has one
-- @raise on bad arguments or a bad policy table
function M.entry(entry, policy, opts)
   if type(entry) ~= "table" then
      error(format("bad argument #1 to 'entry' (table expected, got %s)", type(entry)), 2)
   end
   if opts ~= nil and type(opts) ~= "table" then
      error(format("bad argument #3 to 'entry' (table expected, got %s)", type(opts)), 2)
   end
   for k in pairs(opts or {}) do
      if k ~= "now" and k ~= "into" then
         error(format("bad argument #3 to 'entry' (unknown option '%s')", tostring(k)), 2)
      end
   end
   local ok, p = pcall(M.policy, policy)
   if not ok then error(p, 2) end
   local now = opts and opts.now or os.time()
   if math.type(now) == nil then
      error(format("bad option 'now' to 'entry' (number expected, got %s)", type(now)), 2)
   end
   return entry_findings(entry, p, now, opts and opts.into or {})
end

--- Rank of each status (ok 0 .. error 3), and the counts by status:
-- `{ok=, warning=, critical=, error=, total=, clusters=, worst=}` (mdb.status).
M.RANK, M.summary = status.RANK, status.summary

--- The documented exit status: 0 all ok, 1 any warning or critical, 2 any
-- error.  `findings` may also be their summary (`audit.summary`, or
-- `report.summary_add` over a streamed audit).
function M.exit_status(findings)
   local s = findings.total ~= nil and findings or M.summary(findings)
   if s.error > 0 then return 2 end
   if s.warning + s.critical > 0 then return 1 end
   return 0
end

return M
