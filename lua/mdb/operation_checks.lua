--- Audit checks over what a cluster's backups alone cannot show: its
-- retention policies and its operations (fetched with the backups, as
-- `ctx.policies` and `ctx.operations`; nil when they were not fetched, and
-- then these checks do not apply, or when fetching them failed, and then
-- `ctx.policies_error` / `ctx.operations_error` make an "error" finding).  Same signature as every audit check:
-- `check(ctx, settings)` returns `{status, message, observed, expected,
-- unit, backup_id, details}`.
--
-- retention_policy: every UTC day a policy's cron rule selects within its
--   retainForDays has a backup (PostgreSQL: one carrying that
--   retentionPolicyId, with retainUntil = createdAt + retainForDays).
-- failed_backups: backup operations that ended with an error within
--   `window`; backup operations running longer than `stuck`.
-- @module mdb.operation_checks
local fmt = require "mdb.fmt"
local duration = require "mdb.duration"
local tz = require "mdb.tz"
local mdb = require "mdb"

local M = {}
local format, floor, concat = string.format, math.floor, table.concat
local type, ipairs, tonumber, tostring = type, ipairs, tonumber, tostring

local DAY = 86400

local function dur(s) return duration.format(s) end

-- Unix seconds from a normalised number field or an RFC 3339 string.
local function time_of(obj, num, str)
   local v = obj[num]
   if math.type(v) then return v end
   v = obj[str]
   if type(v) == "string" then return mdb.parse_time(v) end
   return nil
end
M.time_of = time_of

--- Engines with BackupRetentionPolicyService (api-recovery.md §4).
M.POLICY_ENGINES = { postgresql = true, mysql = true, mongodb = true, redis = true }

---------------------------------------------------------------------------
-- cron fields: "*", "5", "1-15", "*/2", "1-15/3", "1,15,28"

-- The set of values of one field within lo..hi, or nil and why.
local function cron_field(text, lo, hi)
   if text == nil or text == "" then text = "*" end
   if type(text) ~= "string" then return nil, "not a string" end
   local set = {}
   for part in (text .. ","):gmatch("([^,]*),") do
      local range, step = part:match("^([^/]+)/(%d+)$")
      range, step = range or part, tonumber(step) or 1
      local a, b
      if range == "*" then
         a, b = lo, hi
      else
         local x, y = range:match("^(%d+)%-(%d+)$")
         if x then a, b = tonumber(x), tonumber(y)
         elseif range:match("^%d+$") then
            a = tonumber(range)
            b = part:find("/", 1, true) and hi or a
         end
      end
      if not a or a < lo or b > hi or a > b or step < 1 then
         return nil, format("cannot read %q", text)
      end
      for v = a, b, step do set[v] = true end
   end
   return set
end

--- A matcher of UTC day numbers for a policy's cron, or nil and why.
-- Only the three day fields exist.  When both dayOfMonth and dayOfWeek are
-- restricted, classic cron selects a day matching either; the API does not
-- say, so this selects only days matching both (demands fewer backups).
function M.cron_days(cron)
   if type(cron) ~= "table" then cron = {} end
   local dom, e1 = cron_field(cron.dayOfMonth, 1, 31)
   local mon, e2 = cron_field(cron.month, 1, 12)
   local dow, e3 = cron_field(cron.dayOfWeek, 0, 7)
   if not (dom and mon and dow) then
      return nil, (e1 and "dayOfMonth " .. e1) or (e2 and "month " .. e2) or ("dayOfWeek " .. e3)
   end
   if dow[7] then dow[0] = true end
   return function(days)
      local _, m, d = tz.civil_from_days(days)
      local wd = (days + 4) % 7            -- 0 = Sunday; 1970-01-01 was a Thursday
      return dom[d] and mon[m] and dow[wd] or false
   end
end

local function cron_text(cron)
   cron = type(cron) == "table" and cron or {}
   return format("%s %s %s", tostring(cron.dayOfMonth or "*"), tostring(cron.month or "*"),
      tostring(cron.dayOfWeek or "*"))
end

local function day_string(days) return tz.date_string(tz.civil_from_days(days)) end

--- Does retention_policy apply: an engine with policies, and they were
-- fetched (or fetching them failed: ctx.policies_error, an error finding).
function M.retention_policy_applies(ctx)
   return M.POLICY_ENGINES[ctx.engine] and not ctx.failed
      and (type(ctx.policies) == "table" or ctx.policies_error ~= nil) or false
end

-- One policy: the selected days without a (matching) backup, and
-- PostgreSQL backups whose retainUntil disagrees with the policy.
local function judge_policy(ctx, p, s)
   local name = format("%s (%s, cron %s, %s days)", tostring(p.policyName or "?"), tostring(p.policyId),
      cron_text(p.cron), tostring(p.retainForDays))
   local keep = math.tointeger(tonumber(p.retainForDays))
   local match, why = M.cron_days(p.cron)
   if not keep or keep < 1 or not match then
      return { name = name, unreadable = why or format("retainForDays %q is not a positive whole number",
         tostring(p.retainForDays)) }
   end
   local pg = ctx.engine == "postgresql"
   local by_day, bad_until = {}, {}
   for _, b in ipairs(ctx.done) do
      if not pg or b.retentionPolicyId == p.policyId then
         for _, t in ipairs { b.created, b.started } do
            if math.type(t) then by_day[floor(t / DAY)] = b end
         end
         if pg then
            local until_ = time_of(b, "retain_until", "retainUntil")
            if not until_ or math.abs(until_ - (b.created + keep * DAY)) > s.tolerance then
               bad_until[#bad_until + 1] = b
            end
         end
      end
   end
   -- Whole UTC days, complete `grace` ago, still inside retainForDays, not
   -- before the policy (nor the cluster) existed.
   local now = ctx.now
   local first = floor((now - keep * DAY + s.grace) / DAY + 0.999999)
   local since = time_of(p, "created", "createdAt")
   if since and floor(since / DAY) + 1 > first then first = floor(since / DAY) + 1 end
   local cc = type(ctx.cluster) == "table" and math.type(ctx.cluster.created) and ctx.cluster.created
   if cc and floor(cc / DAY) + 1 > first then first = floor(cc / DAY) + 1 end
   local last = floor((now - s.grace) / DAY) - 1
   local selected, missing = 0, {}
   for d = first, last do
      if match(d) then
         selected = selected + 1
         if not by_day[d] then missing[#missing + 1] = day_string(d) end
      end
   end
   return { name = name, selected = selected, missing = missing, bad_until = bad_until, keep = keep }
end

local CAVEAT = "how a schedule selects backups is not documented: assumed, one backup started or created "
   .. "on each matching UTC day"

function M.retention_policy(ctx, s)
   local policies = ctx.policies
   if type(policies) ~= "table" then
      return { status = "error", message = "listing retention policies failed: " .. tostring(ctx.policies_error) }
   end
   if #policies == 0 then
      return { status = "ok", unit = "days", observed = 0, expected = 0,
         message = "no retention policy", details = { policies = {} } }
   end
   local bad, checked, total_missing, worst_id = {}, {}, 0, nil
   for _, p in ipairs(policies) do
      local r = judge_policy(ctx, p, s)
      checked[#checked + 1] = { policy = p.policyId, missing = r.missing, selected = r.selected,
         unreadable = r.unreadable }
      if r.unreadable then
         bad[#bad + 1] = format("policy %s: %s, not checked", r.name, r.unreadable)
      else
         if #r.missing > 0 then
            total_missing = total_missing + #r.missing
            local shown = {}
            for i = 1, math.min(#r.missing, 5) do shown[i] = r.missing[i] end
            bad[#bad + 1] = format("policy %s: %d of %d selected days have no backup%s: %s%s", r.name,
               #r.missing, r.selected, ctx.engine == "postgresql" and " carrying it" or "",
               concat(shown, ", "), #r.missing > 5 and ", ..." or "")
         end
         if #r.bad_until > 0 then
            local b = r.bad_until[1]
            worst_id = worst_id or b.id
            bad[#bad + 1] = format("policy %s: %d backups carrying it have retainUntil other than "
               .. "createdAt + %d days (first: %s, retainUntil %s)", r.name, #r.bad_until, r.keep, b.id,
               tostring(b.retainUntil or b.retain_until or "none"))
         end
      end
   end
   if #bad == 0 then
      return { status = "ok", unit = "days", observed = 0, expected = 0, details = { policies = checked },
         message = format("%s honoured over their retainForDays (%s)",
            #policies == 1 and "the retention policy is" or format("all %d retention policies are", #policies),
            CAVEAT) }
   end
   return { status = s.status, unit = "days", observed = total_missing, expected = 0, backup_id = worst_id,
      details = { policies = checked },
      message = concat(bad, "; ") .. " (" .. CAVEAT .. ")" }
end

---------------------------------------------------------------------------
-- operations

--- The type name of an operation's metadata (after the last "." of
-- `@type`, whose "type.googleapis.com/" prefix is itself inferred).
local function metadata_type(op)
   local md = type(op.metadata) == "table" and op.metadata or {}
   local t = md["@type"]
   return type(t) == "string" and t:match("([^./]+)$") or nil, md
end

--- Is this operation a backup attempt (Cluster.Backup)?
function M.is_backup_operation(op)
   return metadata_type(op) == "BackupClusterMetadata"
end

function M.failed_backups_applies(ctx)
   return (type(ctx.operations) == "table" or ctx.operations_error ~= nil) and not ctx.failed or false
end

function M.failed_backups(ctx, s)
   if type(ctx.operations) ~= "table" then
      return { status = "error", message = "listing operations failed: " .. tostring(ctx.operations_error) }
   end
   local now, since = ctx.now, ctx.now - s.window
   local failed, running, n = {}, {}, 0
   for _, op in ipairs(ctx.operations) do
      if type(op) == "table" and M.is_backup_operation(op) then
         n = n + 1
         local created = time_of(op, "created", "createdAt")
         local ended = time_of(op, "modified", "modifiedAt") or created
         if type(op.error) == "table" then
            -- an error may be recorded before done turns true: a failure either way
            if ended and ended >= since then failed[#failed + 1] = op end
         elseif op.done ~= true and created and now - created > s.stuck then
            running[#running + 1] = op
         end
      end
   end
   -- Ties broken by id: the order the operations were listed in (or
   -- recorded in a history) does not change the finding.
   local function newest_first(a, b)
      local ta, tb = time_of(a, "created", "createdAt") or 0, time_of(b, "created", "createdAt") or 0
      if ta ~= tb then return ta > tb end
      return tostring(a.id) < tostring(b.id)
   end
   table.sort(failed, newest_first)
   table.sort(running, newest_first)
   local function backup_of(op)
      local _, md = metadata_type(op)
      return type(md.backupId) == "string" and md.backupId or nil
   end
   if #failed > 0 then
      local parts = {}
      for i, op in ipairs(failed) do
         if i > 3 then parts[#parts + 1] = format("and %d more", #failed - 3) break end
         local at = time_of(op, "modified", "modifiedAt") or time_of(op, "created", "createdAt")
         parts[#parts + 1] = format("operation %s at %s: %s (code %s)", tostring(op.id), fmt.time(at),
            tostring(op.error.message or "no message"), tostring(op.error.code or "?"))
      end
      return { status = "critical", unit = "operations", observed = #failed, expected = 0,
         backup_id = backup_of(failed[1]),
         details = { failed = #failed, running = #running, operation = failed[1].id },
         message = format("%d backup attempt%s failed in the last %s: %s", #failed, #failed == 1 and "" or "s",
            dur(s.window), concat(parts, "; ")) }
   end
   if #running > 0 then
      local op = running[1]
      local age = now - time_of(op, "created", "createdAt")
      return { status = "warning", unit = "seconds", observed = floor(age), expected = s.stuck,
         backup_id = backup_of(op), details = { failed = 0, running = #running, operation = op.id },
         message = format("backup operation %s has been running for %s (stuck %s)%s", tostring(op.id),
            fmt.age(age), dur(s.stuck), #running > 1 and format("; %d more running", #running - 1) or "") }
   end
   return { status = "ok", unit = "operations", observed = 0, expected = 0, details = { failed = 0, running = 0 },
      message = n == 0 and "no backup operation listed (scheduled backups may not appear as operations)"
         or format("none of %d backup operations failed in the last %s or runs longer than %s "
            .. "(scheduled backups may not appear as operations: not documented)", n, dur(s.window), dur(s.stuck)) }
end

return M
