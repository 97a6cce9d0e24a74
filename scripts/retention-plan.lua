-- retention-plan.lua: what a GFS retention policy (restic `forget` rules)
-- would keep and expire, per cluster, with the reasons.  Read-only: it
-- deletes nothing.
--
--   mdblua scripts/retention-plan.lua --engine postgresql --keep-daily 7 --keep-weekly 4 --keep-monthly 12
--   mdblua scripts/retention-plan.lua --policy scripts/policies/production.lua --type MANUAL --format csv
local mdb = require "mdb"
local cli = require "mdb.cli"
local audit = require "mdb.audit"
local retention = require "mdb.retention"
local fleet = require "mdb.fleet"
local duration = require "mdb.duration"
local report = require "mdb.report"

local NAME = "retention-plan.lua"

-- What a --keep-N and a --keep-within-* option takes.  0 keeps nothing
-- by that rule: on its own a plan that keeps everything, beside other
-- rules a rule that does nothing; only over a --policy rule does it say
-- something (turn that rule off).
local ALLOWED = {
   N = "a whole number of at least 1 or \"unlimited\" (0 only with --policy, to turn its rule off)",
   DURATION = "a duration above zero like 7d or 1y2m (0d only with --policy, to turn its rule off)",
}
local function count_or_unlimited(s)
   if s == "unlimited" then return s end
   local n, err = cli.integer()(s)
   if n == nil then return nil, err end
   if n < 0 then return nil, string.format("expected %s, got %s", ALLOWED.N, s) end
   return n
end
local function calendar(s)
   local d, err = duration.parse_calendar(s)
   if not d then return nil, err end
   return s
end

local RULES = {
   { "keep-last", "last", "N", "keep the N newest backups" },
   { "keep-hourly", "hourly", "N", "keep the newest backup of each of the last N hours that have one" },
   { "keep-daily", "daily", "N", "keep the newest backup of each of the last N days that have one" },
   { "keep-weekly", "weekly", "N", "keep the newest backup of each of the last N ISO weeks that have one" },
   { "keep-monthly", "monthly", "N", "keep the newest backup of each of the last N months that have one" },
   { "keep-yearly", "yearly", "N", "keep the newest backup of each of the last N years that have one" },
   { "keep-within", "within", "DURATION", "keep every backup within DURATION (1y2m3d4h) of the newest" },
   { "keep-within-hourly", "within_hourly", "DURATION", "keep hourly backups within DURATION of the newest" },
   { "keep-within-daily", "within_daily", "DURATION", "keep daily backups within DURATION" },
   { "keep-within-weekly", "within_weekly", "DURATION", "keep weekly backups within DURATION" },
   { "keep-within-monthly", "within_monthly", "DURATION", "keep monthly backups within DURATION" },
   { "keep-within-yearly", "within_yearly", "DURATION", "keep yearly backups within DURATION" },
}

local options = {
   { "engine", "ENGINE", "engine (default: the policy's engines, else all)", many = true,
     check = cli.choice(mdb.engines) },
   { "cluster", "ID", "only this cluster (needs exactly one --engine; not with --folder, --cloud\n"
        .. "or --all-clouds: the cluster names its folder)", many = true, check = cli.id() },
   { "policy", "FILE", "take the rules (its retention table), engines, folder and tz from a policy file" },
}
for _, o in ipairs(cli.scope_options("folder id (default: the policy's folder, else $YC_FOLDER_ID)")) do
   options[#options + 1] = o
end
for _, r in ipairs(RULES) do
   options[#options + 1] = { r[1], r[3], r[4], check = r[3] == "N" and count_or_unlimited or calendar }
end
for _, o in ipairs({
   { "tz", "ZONE", "time zone for hours, days, weeks...: UTC, +03:00, Europe/Berlin (default UTC)" },
   { "type", "TYPE", "plan only backups of this type", check = cli.choice({ "AUTOMATED", "MANUAL" }) },
   { "format", "FORMAT", table.concat(report.FORMATS.plans, "|"), default = "table",
     check = cli.choice(report.FORMATS.plans) },
   { "output", "FILE", "write the report to FILE (atomically) instead of stdout" },
   { "now", "TIME", "as if it were TIME (RFC 3339): backups after it count as in the future" },
   cli.concurrency_option(),
   cli.timeout_option(),
}) do options[#options + 1] = o end

local spec = {
   name = NAME,
   summary = "What a retention policy with restic `forget` semantics would keep and expire,\n"
      .. "per cluster, with reasons.  Counts take a whole number of at least 1 or \"unlimited\".\n"
      .. "Nothing is deleted.",
   options = options,
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 planned; 2 usage or API error, a bad policy, or a listing failed\n"
      .. "(the other clusters are still planned).",
}
local opts = cli.run(arg, spec)
opts.engine = cli.unique(opts.engine)

local function die(msg)
   cli.fail(NAME, msg, 2)
end
local function usage(msg)
   cli.usage_error(spec, msg, 2)
end

local policy
if opts.policy then
   local perr
   policy, perr = audit.load_policy(opts.policy)
   if not policy then die(perr) end
end
local rules = {}
for k, v in pairs(policy and policy.retention or {}) do rules[k] = v end
local given = false
for _, r in ipairs(RULES) do
   local v = opts[r[1]:gsub("-", "_")]
   if v ~= nil then
      local zero = v == 0 or r[3] == "DURATION" and duration.calendar_zero(duration.parse_calendar(v))
      if zero and not opts.policy then
         usage(string.format("option '--%s': expected %s, got %s", r[1], ALLOWED[r[3]], v))
      end
      rules[r[2]] = v
      given = true
   end
end
if not given and not (policy and policy.retention) then
   usage("no retention rule: give --keep-daily N and friends, or --policy FILE with a retention table")
end
local checked, rerr = retention.check_policy(rules)
if not checked then die(rerr) end
if retention.is_empty(checked) then
   die("every rule is zero: such a policy would keep everything")
end

local tzspec = opts.tz or (policy and policy.tz) or "UTC"
local zone, zerr = require("mdb.tz").zone(tzspec)
if not zone then usage("option '--tz': " .. zerr) end

local now = cli.now(spec, opts.now)

local scan, scope_of_scan = { concurrency = opts.concurrency }, nil
if #opts.cluster > 0 then
   if #opts.engine ~= 1 then usage("--cluster needs exactly one --engine") end
   local clash = cli.cluster_scope_clash(opts)
   if clash then usage(clash) end
   scan.engine, scan.clusters = opts.engine[1], cli.unique(opts.cluster)
else
   scan.engines = #opts.engine > 0 and opts.engine or (policy and policy.engines) or mdb.engines
   local scope, serr = cli.scope(opts, (policy and policy.folder) or os.getenv("YC_FOLDER_ID"))
   if not scope then
      if not serr:find("^no folder") then usage(serr) end
      die("no folder: give --folder ID, set folder in the policy, or set YC_FOLDER_ID"
         .. " (or give --cloud ID or --all-clouds)")
   end
   for k, v in pairs(scope) do scan[k] = v end
   scope_of_scan = scope
end

-- Per cluster only its part of the report, rendered as its listing
-- completes (not its backups, nor its plan), and the counts of the
-- summary; sorted into scan order at the end.  A --cluster scan has no
-- Cluster objects: its few plans wait for the names (below).
local named_later = #opts.cluster > 0
local part_opts = {
   color = opts.format == "table" and require("mdb.strip").color_wanted(opts.output),
   folders = cli.many_folders(scope_of_scan),
}
local counts
local function render(item)
   counts = report.plans_add(counts, { item })
   return report.plans_part({ item }, opts.format, part_opts)
end
local key = fleet.order(scan)
local kept, backup_folders = {}, {}
fleet.run(NAME, { opts = opts, scan = scan, now = now, die = die, code = 2 }, function(e, n)
   local item = { engine = e.engine, cluster = e.id, folder = e.folder, listing = e.listing,
      cluster_name = type(e.cluster) == "table" and type(e.cluster.name) == "string" and e.cluster.name or nil }
   if e.error ~= nil then
      item.error = e.error
   else
      local list = {}
      for _, b in ipairs(e.backups or {}) do
         if opts.type == nil or b.type == opts.type then list[#list + 1] = b end
      end
      item.plan = retention.plan(list, rules, { tz = zone, now = now })
   end
   local k = { key = key(e, n), engine = e.engine, id = e.id, folder = e.folder, cloud = e.cloud, error = e.error }
   if named_later then
      for _, b in ipairs(e.backups or {}) do
         if type(b.folderId) == "string" then backup_folders[b.folderId] = true end
      end
      k.item = item
   else
      k.part = render(item)
   end
   kept[#kept + 1] = k
end)
fleet.sort(kept)

-- A --cluster scan has no Cluster objects: look the names up (one
-- Cluster.List per folder the backups name, else the folder given) so that
-- the report names the clusters.  A failed look-up only leaves names out.
local names = {}
if named_later then
   local list = {}
   for f in pairs(backup_folders) do if f ~= "" then list[#list + 1] = f end end
   table.sort(list)
   local folder = opts.folder[1] or (policy and policy.folder) or os.getenv("YC_FOLDER_ID")
   if type(folder) == "string" and folder ~= "" and not backup_folders[folder] then list[#list + 1] = folder end
   local okc, client = pcall(mdb.client)
   for _, f in ipairs(okc and list or {}) do
      local looked, err = pcall(function()
         for c in client:clusters { engine = scan.engine, folder = f } do names[c.id] = c.name end
      end)
      if not looked and cli.stops(err) then die(err) end
   end
end

local failed = false
local parts = {}
local note, notes_done = fleet.failure_notes(NAME, scan)
for _, k in ipairs(kept) do
   if k.error ~= nil then failed = true end
   note(k)
   if k.item then
      local name = names[k.item.cluster]
      k.item.cluster_name = type(name) == "string" and name or nil
      k.part = render(k.item)
   end
   parts[#parts + 1] = k.part
end
notes_done()
kept = nil

local text = report.plans_parts(parts, counts or report.plans_add(nil, {}), opts.format, {
   policy_text = retention.describe(rules) .. (zone.name ~= "UTC" and (", " .. zone.name) or ""),
   folders = part_opts.folders,
})
local written, werr = report.write(text, opts.output)
if not written then die(werr) end
os.exit(failed and 2 or 0)
