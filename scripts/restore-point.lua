-- restore-point.lua: can this cluster be restored to a moment, from which
-- backup, and with what command?  It prints the `yc` command and the REST
-- request of Cluster.Restore; it never sends a restore.
--
--   mdblua scripts/restore-point.lua --engine postgresql --cluster c9q... --at 2026-12-01T03:00:00Z
--   mdblua scripts/restore-point.lua --engine clickhouse --cluster c9q... --format json
local mdb = require "mdb"
local cli = require "mdb.cli"
local recovery = require "mdb.recovery"
local report = require "mdb.report"
local fmt = require "mdb.fmt"

local NAME = "restore-point.lua"
local FORMATS = { "table", "json" }
local spec = {
   name = NAME,
   summary = "Whether a cluster can be restored to a moment (default: now), from which\n"
      .. "backup, how much data that loses, and the `yc` command and REST request that\n"
      .. "would do it.  Nothing is restored.",
   options = {
      { "engine", "ENGINE", "the cluster's engine", required = true, check = cli.choice(mdb.engines) },
      { "cluster", "ID", "the cluster id", required = true, check = cli.id() },
      { "at", "TIME", "the moment to restore to (RFC 3339; default now)" },
      { "folder", "ID", "the cluster's folder, to read its Cluster object (default $YC_FOLDER_ID;\n"
         .. "needed to tell a sharded MongoDB cluster, which has no point-in-time recovery)",
        check = cli.id() },
      { "format", "FORMAT", table.concat(FORMATS, "|"), default = "table", check = cli.choice(FORMATS) },
      { "output", "FILE", "write the report to FILE (atomically) instead of stdout" },
      { "now", "TIME", "as if it were TIME (RFC 3339): backups after it do not exist yet" },
      cli.timeout_option(),
   },
   footer = cli.ENVIRONMENT .. "\n"
      .. "Exit status: 0 restorable, 1 not restorable to that moment, 2 usage or API error.",
}
local opts = cli.run(arg, spec)

local function die(msg)
   cli.fail(NAME, msg, 2)
end

local function time_option(flag, text)
   local t = mdb.parse_time(text)
   if not t then cli.usage_error(spec, string.format("option '--%s': not an RFC 3339 time: %s", flag, text)) end
   return t
end
local now = opts.now and time_option("now", opts.now) or os.time()
local at = opts.at and time_option("at", opts.at) or now

local ok, client = pcall(mdb.client)
if not ok then die(client) end

local backups = {}
local lok, lerr = pcall(function()
   for b in client:backups { engine = opts.engine, cluster = opts.cluster } do
      if b.created and b.created <= now then backups[#backups + 1] = b end
   end
end)
if not lok then die(lerr) end

-- The Cluster object, when a folder is known: best effort, its absence
-- is a caveat in the answer, not a failure.
local cluster, cluster_note
local folder = opts.folder or os.getenv("YC_FOLDER_ID")
if folder and folder ~= "" then
   local cok, cerr = pcall(function()
      for c in client:clusters { engine = opts.engine, folder = folder } do
         if c.id == opts.cluster then cluster = c end
      end
   end)
   if not cok then
      if cli.stops(cerr) then die(cerr) end
      cluster_note = "the Cluster object could not be read: " .. tostring(cerr)
   elseif not cluster then
      cluster_note = string.format("cluster %s is not in folder %s", opts.cluster, folder)
   end
end

local p = recovery.restore_point(opts.engine, backups, { at = at, now = now, cluster = cluster,
   cluster_id = opts.cluster })
if cluster_note then table.insert(p.caveats, 1, cluster_note) end

local function time_or_null(t)
   if t == nil then return report.null end
   return recovery.rfc3339(t)
end

local text
if opts.format == "json" then
   local rest = report.null
   if p.rest then
      rest = report.object({ method = p.rest.method, path = p.rest.path, body = p.rest.body },
         { "method", "path", "body" })
   end
   local doc = report.object({
      engine = p.engine, cluster = p.cluster, at = recovery.rfc3339(p.at), restorable = p.restorable,
      reason = p.reason, backup_id = p.backup_id or report.null,
      backup_ids = p.backup_ids and setmetatable(p.backup_ids, report.ARRAY) or report.null,
      time = time_or_null(p.time),
      window = report.object({ from = time_or_null(p.window.from), to = time_or_null(p.window.to),
         pitr = p.pitr or report.null }, { "from", "to", "pitr" }),
      data_loss_seconds = p.data_loss_seconds or report.null,
      yc = p.yc or report.null, rest = rest,
      supply = setmetatable(p.supply, report.ARRAY),
      caveats = setmetatable(p.caveats, report.ARRAY),
   }, { "engine", "cluster", "at", "restorable", "reason", "backup_id", "backup_ids", "time", "window",
      "data_loss_seconds", "yc", "rest", "supply", "caveats" })
   text = report.json(doc) .. "\n"
else
   local lines = {}
   -- A name or id the API sent must not reach the terminal as an escape
   -- sequence: control characters become "?" (the REST body keeps them,
   -- JSON-escaped, and --format json has them exactly).
   local safe = require("mdb.aligned").safe
   local function line(k, v) lines[#lines + 1] = string.format("%-11s %s", k, safe(v)) end
   line("cluster", string.format("%s (%s)%s", p.cluster, p.engine,
      cluster and cluster.name and ("  " .. cluster.name) or ""))
   line("at", recovery.rfc3339(p.at))
   line("restorable", p.restorable and "yes" or "NO")
   line("reason", p.reason)
   if p.window.from then
      line("window", string.format("%s .. %s (%s)", recovery.rfc3339(p.window.from),
         recovery.rfc3339(p.window.to),
         p.pitr == "time" and "any second" or p.pitr == "points" and "hourly recovery points"
            or "backup states only"))
   end
   if p.backup_id then
      line("backup", p.backup_ids and table.concat(p.backup_ids, ", ") or p.backup_id)
      line("data loss", p.data_loss_seconds == 0 and "none" or fmt.age(p.data_loss_seconds))
   end
   for i, c in ipairs(p.caveats) do line(i == 1 and "caveats" or "", "- " .. c) end
   if p.yc then
      line("yc", p.yc)
      line("REST", p.rest.method .. " " .. p.rest.path)
      line("", report.json(p.rest.body))
      line("supply", table.concat(p.supply, ", ") .. " (and the rest a new cluster needs)")
   end
   text = table.concat(lines, "\n") .. "\n"
end

local wok, werr = report.write(text, opts.output)
if not wok then die(werr) end
os.exit(p.restorable and 0 or 1)
