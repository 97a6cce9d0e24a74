-- Example: the two questions asked most often, for cron or a Nagios check.
--   Is there a backup younger than 26 hours?  Do the last 7 days each have one?
--
--   mdblua scripts/audit.lua --policy scripts/policies/minimal.lua --format nagios
return {
   checks = { "freshness", "coverage" },
   defaults = {
      freshness = { warn = "26h", crit = "50h" },
      coverage = { days = 7, warn = 1, crit = 2 },
   },
}
