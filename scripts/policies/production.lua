-- Example audit policy for a production folder (tools/demo.sh runs it
-- against the fake API's demo fleet):
--
--   mdblua scripts/audit.lua --policy scripts/policies/production.lua
--
-- A policy is a Lua file that returns a table.  Every key is optional and
-- an unknown key is an error, so a typo never goes unnoticed.  Durations
-- are written "26h", "7d", "90m", "2w" (m = minutes); the retention table
-- uses restic's "1y2m3d4h" (m = months).
return {
   -- Engines to audit (default: all ten).  --engine on the command line wins.
   engines = { "postgresql", "mysql", "mongodb", "clickhouse", "redis", "sqlserver" },
   -- folder = "b1g...",     -- default: --folder, else $YC_FOLDER_ID

   -- Day boundaries for the coverage check: UTC, "+03:00" or "Europe/Moscow".
   tz = "UTC",

   -- The checks to run (default: all of them).
   checks = { "freshness", "coverage", "count", "gap", "duration", "stuck", "size",
      "automated", "retention_config", "shards", "recoverability", "window", "retention_policy",
      "failed_backups", "databases" },

   -- Thresholds for every cluster; what is left out keeps the built-in value.
   defaults = {
      freshness = { warn = "26h", crit = "50h" },            -- age of the newest completed backup
      coverage = { days = 7, warn = 1, crit = 3 },           -- days without a backup among the last 7
      count = { warn = 7, crit = 1 },                        -- fewer completed backups than this
      gap = { warn = "30h", crit = "50h", window = "14d" },  -- longest interval between backups
      duration = { warn = "2h", crit = "6h", window = "7d" },-- createdAt - startedAt
      stuck = { warn = "4h", crit = "8h" },                  -- a backup in status CREATING this long
      size = { warn = 30, crit = 80, samples = 7 },          -- % change against the median of 7
      automated = { warn = "26h", crit = "50h" },            -- age of the newest AUTOMATED backup
      retention_config = { warn = 14, crit = 7 },            -- backupRetainPeriodDays below this
      shards = { window = "7d", tolerance = "12h", status = "critical" },
      -- restorable to any moment of the last 3 days (point-in-time engines),
      -- else a restore point at most rpo before each moment of them
      recoverability = { window = "3d", rpo = "30h", status = "critical" },
      -- automated backups start at most `late` after backupWindowStart (UTC)
      window = { late = "3h", window = "7d", status = "warning" },
      -- every day a retention policy's cron selects, within its retainForDays,
      -- has a backup (PostgreSQL: carrying the policy, retainUntil matching);
      -- runs where the scan fetched the policies
      retention_policy = { grace = "6h", tolerance = "1d", status = "warning" },
      -- backup operations failed within `window` (critical) or running
      -- longer than `stuck` (warning); runs where the scan fetched operations
      failed_backups = { window = "2d", stuck = "6h" },
      -- SQL Server: the newest backup holds every database of the window's
      databases = { window = "7d", status = "critical" },
   },

   -- Per engine: settings merged over the defaults; false turns a check off.
   per_engine = {
      clickhouse = { duration = { warn = "4h", crit = "10h" } },
      sqlserver = { duration = false },     -- e.g. turn one check off for one engine
   },

   -- Per cluster, in order (later entries win): select by id, name pattern
   -- (* and ?) or labels; all selectors given must match.
   per_cluster = {
      -- staging keeps fewer backups, but must still keep them a week
      { name = "*-staging", coverage = { days = 3, warn = 1, crit = 2 }, count = { warn = 3, crit = 1 } },
      -- clusters labelled backup=none are not audited at all
      { labels = { backup = "none" }, skip = true },
      -- a cluster backed up weekly:
      -- { id = "c9q0000000000000000", freshness = { warn = "8d", crit = "15d" }, coverage = false },
   },

   -- What scripts/retention-plan.lua --policy plans (restic forget rules).
   retention = { last = 3, daily = 7, weekly = 4, monthly = 6 },
}
