-- mdb.report: every format of findings, inventories, plans and backup
-- lists, read back (CSV parsed, JSON decoded, Prometheus text checked line
-- by line against the exposition format), and atomic file output.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"
local report = require "mdb.report"
local retention = require "mdb.retention"

local NOW = 1763900000          -- 2025-11-23T12:13:20Z

local function findings()
   return {
      { check = "freshness", status = "ok", engine = "postgresql", cluster = "c1", cluster_name = "orders",
        message = "newest backup is 3h 0m old (warn 26h, crit 50h)", observed = 10800, expected = 93600,
        unit = "seconds", backup_id = "c1:0" },
      { check = "size", status = "critical", engine = "mysql", cluster = "c2", cluster_name = 'pay, "ments"',
        message = "newest backup 5.0 GiB is 95.0% smaller\nsecond line", observed = -95.5, expected = 90,
        unit = "percent", backup_id = "c2:0", details = { size = 5, median = 100, samples = 7 } },
      { check = "coverage", status = "warning", engine = "mysql", cluster = "c2", cluster_name = 'pay, "ments"',
        message = "1 of the last 7 days (UTC) has no backup: 2026-11-19 (warn at 1 missing)", observed = 1,
        expected = 1, unit = "days", details = { missing = { "2026-11-19" }, days = 7 } },
      { check = "listing", status = "error", engine = "redis", message = "listing redis clusters failed: <boom> & co" },
   }
end

local function results()
   return {
      { engine = "postgresql", id = "c1", cluster = { id = "c1", name = "orders" }, backups = {
         { id = "c1:secret-backup-id-0", created = 1763890000.5, size = 1024, type = "AUTOMATED" },
         { id = "c1:secret-backup-id-1", created = 1763800000, size = 2048, type = "MANUAL" },
         { id = "c1:secret-backup-id-2", created = 1763899000, status = "CREATING", size = 7 },
      } },
      { engine = "mysql", id = "c2", cluster = { id = "c2", name = 'pay, "ments"\\x' }, backups = {} },
      { engine = "sqlserver", id = "c3", cluster = { id = "c3", name = "reporting" }, backups = {
         { id = "c3:b", created = 1763890000 } } },
      { engine = "redis", error = "network error: boom" },
   }
end

local function lines(s)
   local out = {}
   for l in s:gmatch("([^\n]*)\n") do out[#out + 1] = l end
   return out
end

-- RFC 4180 parser: records of fields; CRLF line ends required.
local function parse_csv(s)
   local rows, row, field, i, quoted = {}, {}, {}, 1, false
   while i <= #s do
      local c = s:sub(i, i)
      if quoted then
         if c == '"' then
            if s:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1
            else quoted = false end
         else
            field[#field + 1] = c
         end
      elseif c == '"' then
         assert(#field == 0, "quote inside an unquoted field at " .. i)
         quoted = true
      elseif c == "," then
         row[#row + 1] = table.concat(field); field = {}
      elseif c == "\r" then
         assert(s:sub(i + 1, i + 1) == "\n", "CR without LF at " .. i)
         row[#row + 1] = table.concat(field); field = {}
         rows[#rows + 1] = row; row = {}
         i = i + 1
      elseif c == "\n" then
         error("bare LF outside quotes at " .. i)
      else
         field[#field + 1] = c
      end
      i = i + 1
   end
   assert(not quoted, "unterminated quote")
   assert(#field == 0 and #row == 0, "last record not terminated by CRLF")
   return rows
end

---------------------------------------------------------------------------
-- findings

H.test("table: problems worst first, one line each, and the summary; --all adds ok rows", function()
   H.eq(report.findings(findings(), "table", { now = NOW }), table.concat({
      "STATUS    ENGINE  CLUSTER       CHECK     MESSAGE",
      "ERROR     redis   -             listing   listing redis clusters failed: <boom> & co",
      'CRITICAL  mysql   pay, "ments"  size      newest backup 5.0 GiB is 95.0% smaller second line',
      'WARNING   mysql   pay, "ments"  coverage  1 of the last 7 days (UTC) has no backup: 2026-11-19 (warn at 1 missing)',
      "",
      "2 clusters, 4 checks: 1 ok, 1 warning, 1 critical, 1 error",
      "" }, "\n"))
   local all = lines(report.findings(findings(), "table", { all = true }))
   H.eq(all[5], "OK        postgresql  orders        freshness  newest backup is 3h 0m old (warn 26h, crit 50h)")
   H.not_contains(report.findings(findings(), "table", {}), "\27[", "no colour unless asked")
   local colored = report.findings(findings(), "table", { color = true })
   H.contains(colored, "\27[31;1mCRITICAL\27[0m")
   H.contains(colored, "\27[33mWARNING \27[0m")
   H.contains(colored, "\27[35;1mERROR   \27[0m")
   -- nothing wrong: just the summary
   H.eq(report.findings({ findings()[1] }, "table", {}), "1 cluster, 1 check: 1 ok, 0 warning, 0 critical, 0 error\n")
end)

H.test("json: an object with summary and findings that decodes back; stable key order", function()
   local text = report.findings(findings(), "json", { now = NOW })
   H.eq(text:sub(-1), "\n")
   H.eq(select(2, text:gsub("\n", "")), 1, "one line")
   local doc = cjson.decode(text)
   H.eq(doc.generated_at, "2025-11-23T12:13:20Z")
   H.eq(doc.summary, { clusters = 2, checks = 4, ok = 1, warning = 1, critical = 1, error = 1 })
   H.eq(#doc.findings, 4)
   local f2 = doc.findings[2]
   H.eq({ f2.check, f2.status, f2.engine, f2.cluster, f2.cluster_name, f2.message, f2.observed, f2.expected,
      f2.unit, f2.backup_id },
      { "size", "critical", "mysql", "c2", 'pay, "ments"', "newest backup 5.0 GiB is 95.0% smaller\nsecond line",
        -95.5, 90, "percent", "c2:0" })
   H.eq(f2.details, { size = 5, median = 100, samples = 7 })
   H.eq(doc.findings[3].details.missing, { "2026-11-19" })
   H.eq(doc.findings[4].cluster, cjson.null, "absent fields are null")
   H.eq(doc.findings[1].details, cjson.null)
   H.contains(text, '{"generated_at":"2025-11-23T12:13:20Z","summary":{"clusters":2,"checks":4,"ok":1,'
      .. '"warning":1,"critical":1,"error":1},"findings":[{"check":"freshness","status":"ok","engine":"postgresql",'
      .. '"cluster":"c1","cluster_name":"orders","message":"newest backup is 3h 0m old (warn 26h, crit 50h)",'
      .. '"observed":10800,"expected":93600,"unit":"seconds","backup_id":"c1:0","details":null}')
   H.contains(report.findings({}, "json", { now = NOW }), '"findings":[]}')
end)

H.test("jsonl: one finding per line, each decodes", function()
   local text = report.findings(findings(), "jsonl")
   local ls = lines(text)
   H.eq(#ls, 4)
   H.eq(ls[1], '{"check":"freshness","status":"ok","engine":"postgresql","cluster":"c1","cluster_name":"orders",'
      .. '"message":"newest backup is 3h 0m old (warn 26h, crit 50h)","observed":10800,"expected":93600,'
      .. '"unit":"seconds","backup_id":"c1:0","details":null}')
   for i, l in ipairs(ls) do H.eq(cjson.decode(l).check, findings()[i].check) end
   H.eq(report.findings({}, "jsonl"), "")
end)

H.test("csv: RFC 4180 (CRLF, quoting) and parsed back to the same values", function()
   local text = report.findings(findings(), "csv")
   H.eq(text:sub(1, 92), "check,status,engine,cluster,cluster_name,message,observed,expected,unit,backup_id\r\n"
      .. "freshness")
   local rows = parse_csv(text)
   H.eq(#rows, 5)
   H.eq(rows[1], { "check", "status", "engine", "cluster", "cluster_name", "message", "observed", "expected",
      "unit", "backup_id" })
   H.eq(rows[2], { "freshness", "ok", "postgresql", "c1", "orders", "newest backup is 3h 0m old (warn 26h, crit 50h)",
      "10800", "93600", "seconds", "c1:0" })
   H.eq(rows[3], { "size", "critical", "mysql", "c2", 'pay, "ments"', "newest backup 5.0 GiB is 95.0% smaller\nsecond line",
      "-95.5", "90", "percent", "c2:0" })
   H.eq(rows[5], { "listing", "error", "redis", "", "", "listing redis clusters failed: <boom> & co", "", "", "", "" })
   H.contains(text, '"pay, ""ments"""')
   H.eq(parse_csv(report.findings({}, "csv")), { rows[1] })
end)

H.test("markdown: a table with escaped cells and the summary", function()
   local f = findings()
   f[1].message = "a | b"
   H.eq(report.findings(f, "markdown", { all = true }), table.concat({
      "| Status | Engine | Cluster | Check | Message |",
      "|---|---|---|---|---|",
      "| **error** | redis | - | listing | listing redis clusters failed: &lt;boom&gt; &amp; co |",
      '| **critical** | mysql | pay, "ments" (`c2`) | size | newest backup 5.0 GiB is 95.0% smaller<br>second line |',
      '| **warning** | mysql | pay, "ments" (`c2`) | coverage | 1 of the last 7 days (UTC) has no backup: 2026-11-19 (warn at 1 missing) |',
      "| ok | postgresql | orders (`c1`) | freshness | a \\| b |",
      "",
      "**2 clusters, 4 checks: 1 ok, 1 warning, 1 critical, 1 error**",
      "" }, "\n"))
   H.eq(report.findings({ findings()[1] }, "markdown"), "**1 cluster, 1 check: 1 ok, 0 warning, 0 critical, 0 error**\n")
end)

H.test("junit: one testcase per cluster x check; failures for warning/critical, errors for error", function()
   H.eq(report.findings(findings(), "junit", { now = NOW }), table.concat({
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<testsuites name="mdb backup audit" tests="4" failures="2" errors="1" time="0">',
      '  <testsuite name="postgresql" tests="1" failures="0" errors="0" skipped="0" time="0" timestamp="2025-11-23T12:13:20">',
      '    <testcase classname="postgresql.orders" name="freshness" time="0">',
      '      <system-out>cluster c1 (orders)',
      'newest backup is 3h 0m old (warn 26h, crit 50h)',
      'backup c1:0</system-out>',
      '    </testcase>',
      '  </testsuite>',
      '  <testsuite name="mysql" tests="2" failures="2" errors="0" skipped="0" time="0" timestamp="2025-11-23T12:13:20">',
      '    <testcase classname="mysql.pay, &quot;ments&quot;" name="size" time="0">',
      '      <failure type="critical" message="newest backup 5.0 GiB is 95.0% smaller&#10;second line">cluster c2 (pay, "ments")',
      'newest backup 5.0 GiB is 95.0% smaller',
      'second line',
      'backup c2:0</failure>',
      '    </testcase>',
      '    <testcase classname="mysql.pay, &quot;ments&quot;" name="coverage" time="0">',
      '      <failure type="warning" message="1 of the last 7 days (UTC) has no backup: 2026-11-19 (warn at 1 missing)">cluster c2 (pay, "ments")',
      '1 of the last 7 days (UTC) has no backup: 2026-11-19 (warn at 1 missing)</failure>',
      '    </testcase>',
      '  </testsuite>',
      '  <testsuite name="redis" tests="1" failures="0" errors="1" skipped="0" time="0" timestamp="2025-11-23T12:13:20">',
      '    <testcase classname="redis" name="listing" time="0">',
      '      <error type="error" message="listing redis clusters failed: &lt;boom&gt; &amp; co">listing redis clusters failed: &lt;boom&gt; &amp; co</error>',
      '    </testcase>',
      '  </testsuite>',
      '</testsuites>',
      "" }, "\n"))
   -- control characters XML 1.0 cannot carry are replaced
   local f = findings()[1]
   f.message = "bell\7here"
   H.contains(report.findings({ f }, "junit"), "bell?here")
end)

H.test("nagios: one status line with counts and perfdata; the state ranks critical > warning > unknown", function()
   H.eq(report.findings(findings(), "nagios"),
      'MDB BACKUP AUDIT CRITICAL - 1 critical, 1 warning, 1 error: pay, "ments" size critical, '
      .. 'pay, "ments" coverage warning, redis listing error | ok=1 warning=1 critical=1 error=1\n')
   H.eq(report.findings({ findings()[1] }, "nagios"),
      "MDB BACKUP AUDIT OK - 1 checks ok on 1 cluster | ok=1 warning=0 critical=0 error=0\n")
   local f = findings()
   H.eq({ report.nagios_state(f) }, { 2, "CRITICAL" })
   H.eq({ report.nagios_state({ f[1], f[3], f[4] }) }, { 1, "WARNING" })
   H.eq({ report.nagios_state({ f[1], f[4] }) }, { 3, "UNKNOWN" })
   H.eq({ report.nagios_state({ f[1] }) }, { 0, "OK" })
   -- many problems: the first ten, then a count; never a second line or a stray |
   local many = {}
   for i = 1, 12 do
      many[i] = { check = "gap", status = "warning", engine = "mysql", cluster = "c" .. i, cluster_name = "n|" .. i,
         message = "x" }
   end
   local line = report.findings(many, "nagios")
   H.eq(select(2, line:gsub("\n", "")), 1)
   H.contains(line, "n 10 gap warning, and 2 more | ok=0 warning=12")
end)

-- Prometheus text exposition format, line by line.
local NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*"
local function check_exposition(text)
   H.eq(text:sub(-1), "\n", "ends with a newline")
   local families, seen_series, current = {}, {}, nil
   for _, l in ipairs(lines(text)) do
      local help_name = l:match("^# HELP (" .. NAME .. ") .+$")
      local type_name, typ = l:match("^# TYPE (" .. NAME .. ") (%a+)$")
      if help_name then
         H.ok(not families[help_name], "HELP once per family: " .. help_name)
         families[help_name] = { help = true }
         current = help_name
      elseif type_name then
         H.eq(type_name, current, "TYPE right after its HELP")
         H.eq(typ, "gauge")
         families[type_name].type = true
      else
         local name, labels, value = l:match("^(" .. NAME .. ")(%b{}) (%S+)$")
         if not name then name, value = l:match("^(" .. NAME .. ") (%S+)$"); labels = "" end
         H.ok(name, "a sample line: " .. l)
         H.eq(name, current, "samples grouped under their family: " .. l)
         H.ok(families[name].type, "TYPE before samples")
         H.ok(tonumber(value) ~= nil, "numeric value: " .. l)
         if labels ~= "" then
            -- name="value" pairs separated by commas; in values only \\, \" and \n escapes
            local inner, pos = labels:sub(2, -2), 1
            while pos <= #inner do
               local lname, p2 = inner:match('^([a-zA-Z_][a-zA-Z0-9_]*)="()', pos)
               H.ok(lname, "label name at " .. pos .. " in " .. labels)
               pos = p2
               while true do
                  local c = inner:sub(pos, pos)
                  H.ok(c ~= "" and c ~= "\n", "unterminated label value in " .. labels)
                  if c == "\\" then
                     local e = inner:sub(pos + 1, pos + 1)
                     H.ok(e == "\\" or e == '"' or e == "n", "bad escape \\" .. e .. " in " .. labels)
                     pos = pos + 2
                  elseif c == '"' then
                     pos = pos + 1
                     break
                  else
                     pos = pos + 1
                  end
               end
               if pos <= #inner then
                  H.eq(inner:sub(pos, pos), ",", "comma between labels in " .. labels)
                  pos = pos + 1
               end
            end
         end
         H.ok(not seen_series[name .. labels], "no duplicate series: " .. l)
         seen_series[name .. labels] = true
      end
   end
   return families
end

H.test("prometheus: exposition format line by line; labels engine, cluster_id, cluster_name, check; no backup ids", function()
   local text = report.findings(findings(), "prometheus", { now = NOW, results = results() })
   check_exposition(text)
   H.not_contains(text, "secret-backup-id")
   H.not_contains(text, "c2:0")
   H.eq(lines(text), {
      "# HELP mdb_audit_status Audit result per cluster and check: 0 ok, 1 warning, 2 critical, 3 error.",
      "# TYPE mdb_audit_status gauge",
      'mdb_audit_status{engine="postgresql",cluster_id="c1",cluster_name="orders",check="freshness"} 0',
      'mdb_audit_status{engine="mysql",cluster_id="c2",cluster_name="pay, \\"ments\\"",check="size"} 2',
      'mdb_audit_status{engine="mysql",cluster_id="c2",cluster_name="pay, \\"ments\\"",check="coverage"} 1',
      'mdb_audit_status{engine="redis",cluster_id="",cluster_name="",check="listing"} 3',
      "# HELP mdb_audit_last_run_timestamp_seconds When the audit that wrote this file ran.",
      "# TYPE mdb_audit_last_run_timestamp_seconds gauge",
      "mdb_audit_last_run_timestamp_seconds 1763900000",
      "# HELP mdb_backup_listing_success 1 if the cluster's backups were listed, 0 if listing failed.",
      "# TYPE mdb_backup_listing_success gauge",
      'mdb_backup_listing_success{engine="postgresql",cluster_id="c1",cluster_name="orders"} 1',
      'mdb_backup_listing_success{engine="mysql",cluster_id="c2",cluster_name="pay, \\"ments\\"\\\\x"} 1',
      'mdb_backup_listing_success{engine="sqlserver",cluster_id="c3",cluster_name="reporting"} 1',
      'mdb_backup_listing_success{engine="redis",cluster_id="",cluster_name=""} 0',
      "# HELP mdb_backups Completed backups of the cluster.",
      "# TYPE mdb_backups gauge",
      'mdb_backups{engine="postgresql",cluster_id="c1",cluster_name="orders"} 2',
      'mdb_backups{engine="mysql",cluster_id="c2",cluster_name="pay, \\"ments\\"\\\\x"} 0',
      'mdb_backups{engine="sqlserver",cluster_id="c3",cluster_name="reporting"} 1',
      "# HELP mdb_backup_in_progress Backups of the cluster in status CREATING.",
      "# TYPE mdb_backup_in_progress gauge",
      'mdb_backup_in_progress{engine="postgresql",cluster_id="c1",cluster_name="orders"} 1',
      'mdb_backup_in_progress{engine="mysql",cluster_id="c2",cluster_name="pay, \\"ments\\"\\\\x"} 0',
      'mdb_backup_in_progress{engine="sqlserver",cluster_id="c3",cluster_name="reporting"} 0',
      "# HELP mdb_backup_last_created_timestamp_seconds createdAt of the newest completed backup.",
      "# TYPE mdb_backup_last_created_timestamp_seconds gauge",
      'mdb_backup_last_created_timestamp_seconds{engine="postgresql",cluster_id="c1",cluster_name="orders"} 1763890000.5',
      'mdb_backup_last_created_timestamp_seconds{engine="sqlserver",cluster_id="c3",cluster_name="reporting"} 1763890000',
      "# HELP mdb_backup_oldest_created_timestamp_seconds createdAt of the oldest completed backup.",
      "# TYPE mdb_backup_oldest_created_timestamp_seconds gauge",
      'mdb_backup_oldest_created_timestamp_seconds{engine="postgresql",cluster_id="c1",cluster_name="orders"} 1763800000',
      'mdb_backup_oldest_created_timestamp_seconds{engine="sqlserver",cluster_id="c3",cluster_name="reporting"} 1763890000',
      "# HELP mdb_backup_size_bytes Size of the newest completed backup.",
      "# TYPE mdb_backup_size_bytes gauge",
      'mdb_backup_size_bytes{engine="postgresql",cluster_id="c1",cluster_name="orders"} 1024',
      "# HELP mdb_backup_total_size_bytes Total size of the completed backups.",
      "# TYPE mdb_backup_total_size_bytes gauge",
      'mdb_backup_total_size_bytes{engine="postgresql",cluster_id="c1",cluster_name="orders"} 3072',
   })
   -- findings alone: only the audit families
   local only = report.findings(findings(), "prometheus", { now = NOW })
   local fam = check_exposition(only)
   H.ok(fam.mdb_audit_status and fam.mdb_audit_last_run_timestamp_seconds and not fam.mdb_backups)
   -- label values with a newline are escaped
   local f = findings()[1]
   f.cluster_name = "two\nlines"
   H.contains(report.findings({ f }, "prometheus", { now = NOW }), 'cluster_name="two\\nlines"')
end)

---------------------------------------------------------------------------
-- inventory, plans, backups

H.test("inventory: rows from scan results in every format", function()
   local rows = report.inventory_rows(results())
   H.eq(rows[1], { engine = "postgresql", cluster = "c1", cluster_name = "orders", count = 2, automated = 1,
      manual = 1, in_progress = 1, total_size = 3072, newest = 1763890000.5, newest_id = "c1:secret-backup-id-0",
      newest_size = 1024, oldest = 1763800000 })
   H.eq(rows[3].automated, nil, "sqlserver backups have no type: unknown, not 0")
   -- a failed listing's counts are unknown: nil, never 0
   H.eq(rows[4], { engine = "redis", error = "network error: boom" })
   H.eq(report.inventory(rows, "table", { now = NOW }), table.concat({
      'ENGINE      CLUSTER         ID  BACKUPS  AUTO  MANUAL     SIZE  NEWEST                   AGE  OLDEST',
      'postgresql  orders          c1        2     1       1  3.0 KiB  2025-11-23 09:26:40Z  2h 46m  2025-11-22 08:26:40Z',
      'mysql       pay, "ments"\\x  c2        0     0       0        -  -                          -  -',
      'sqlserver   reporting       c3        1     -       -        -  2025-11-23 09:26:40Z  2h 46m  2025-11-23 09:26:40Z',
      'redis       -               -     error     -       -        -  -                          -  -',
      '3 clusters, 3 backups, 3.0 KiB in total; 1 listing failed:',
      '  redis clusters: network error: boom',
      "" }, "\n"))
   local csv = parse_csv(report.inventory(rows, "csv"))
   H.eq(csv[1], { "engine", "cluster", "cluster_name", "count", "automated", "manual", "in_progress", "total_size",
      "newest", "newest_id", "newest_size", "oldest", "error" })
   H.eq(csv[2], { "postgresql", "c1", "orders", "2", "1", "1", "1", "3072", "2025-11-23T09:26:40Z",
      "c1:secret-backup-id-0", "1024", "2025-11-22T08:26:40Z", "" })
   local json = cjson.decode(report.inventory(rows, "json"))
   H.eq(#json, 4)
   H.eq(json[4].error, "network error: boom")
   H.eq(#lines(report.inventory(rows, "jsonl")), 4)
   local prom = report.inventory(rows, "prometheus")
   check_exposition(prom)
   H.not_contains(prom, "secret-backup-id")
   H.not_contains(prom, "mdb_audit_status")
   H.contains(report.inventory(rows, "markdown"), "| postgresql | orders | c1 | 2 | 1 | 1 | 3.0 KiB |")
end)

H.test("plans: keep and expire with reasons in table, csv, json and jsonl", function()
   local backups = {
      { id = "b3", created = 1763900000, type = "AUTOMATED", size = 10 },
      { id = "b2", created = 1763900000 - 86400, type = "AUTOMATED", size = 10 },
      { id = "b1", created = 1763900000 - 2 * 86400 - 3600, type = "MANUAL" },
   }
   local plans = {
      { engine = "postgresql", cluster = "c1", cluster_name = "orders",
        plan = retention.plan(backups, { last = 1, daily = 1 }) },
      { engine = "mysql", cluster = "c2", error = "http error: 503" },
   }
   H.eq(report.plans(plans, "table", { policy_text = "keep 1 latest, 1 daily snapshots" }), table.concat({
      "postgresql orders (c1): keep 1, expire 2",
      "  ACTION  ID  CREATED               TYPE       SIZE  REASONS",
      "  keep    b3  2025-11-23 12:13:20Z  AUTOMATED  10 B  last snapshot, daily snapshot",
      "  expire  b2  2025-11-22 12:13:20Z  AUTOMATED  10 B  -",
      "  expire  b1  2025-11-21 11:13:20Z  MANUAL        -  -",
      "",
      "mysql c2: listing failed: http error: 503",
      "",
      "2 clusters: keep 1, expire 2, 1 listing failed (keep 1 latest, 1 daily snapshots)",
      "" }, "\n"))
   local csv = parse_csv(report.plans(plans, "csv"))
   H.eq(csv[1], { "engine", "cluster", "cluster_name", "backup_id", "created", "type", "size", "action", "reasons" })
   H.eq(csv[2], { "postgresql", "c1", "orders", "b3", "2025-11-23T12:13:20Z", "AUTOMATED", "10", "keep",
      "last snapshot; daily snapshot" })
   H.eq(csv[4], { "postgresql", "c1", "orders", "b1", "2025-11-21T11:13:20Z", "MANUAL", "", "expire", "" })
   local json = cjson.decode(report.plans(plans, "json"))
   H.eq(json[1].keep[1], { backup_id = "b3", created = "2025-11-23T12:13:20Z", reasons = { "last snapshot", "daily snapshot" } })
   H.eq(#json[1].expire, 2)
   H.eq(json[2].error, "http error: 503")
   H.contains(report.plans(plans, "json"), '"keep":[],"expire":[]}', "empty arrays stay arrays")
   local jl = lines(report.plans(plans, "jsonl"))
   H.eq(#jl, 3)
   H.eq(cjson.decode(jl[3]).action, "expire")
   H.contains(report.plans(plans, "markdown"), "### postgresql orders (c1): keep 1, expire 2")
end)

H.test("backups: a backup list in table, json, jsonl, csv", function()
   local list = { { engine = "mysql", sourceClusterId = "c1", id = "c1:a", created = 1763890000, started = 1763889000,
      type = "AUTOMATED", status = "DONE", size = 1536 } }
   local json = cjson.decode(report.backups(list, "json"))
   H.eq(json[1], { engine = "mysql", cluster = "c1", id = "c1:a", created = "2025-11-23T09:26:40Z",
      started = "2025-11-23T09:10:00Z", type = "AUTOMATED", status = "DONE", size = 1536 })
   H.eq(parse_csv(report.backups(list, "csv"))[2],
      { "mysql", "c1", "c1:a", "2025-11-23T09:26:40Z", "2025-11-23T09:10:00Z", "AUTOMATED", "DONE", "1536" })
   H.eq(lines(report.backups(list, "table", { now = NOW }))[2],
      "mysql   c1       c1:a  2025-11-23 09:26:40Z  2h 46m  1.5 KiB  AUTOMATED")
   H.eq(report.backups({}, "json"), "[]\n")
end)

---------------------------------------------------------------------------
-- building blocks and misuse

H.test("json encoder: escapes, numbers, invalid UTF-8 repaired, arrays", function()
   H.eq(report.json({ "a\"b\\c\n\t\1", 1, 1.5, 0.1, 1e300, -0.0 }), '["a\\"b\\\\c\\n\\t\\u0001",1,1.5,0.1,1e+300,0]')
   H.eq(report.json({ b = 1, a = { 2 } }), '{"a":[2],"b":1}')
   H.eq(report.json({}), "{}")
   H.eq(report.json(setmetatable({}, report.ARRAY)), "[]")
   H.eq(report.json("caf\xe9"), '"caf\u{FFFD}"')
   H.eq(cjson.decode(report.json("caf\xe9 \u{2603}")), "caf\u{FFFD} \u{2603}")
   H.eq(report.json(0 / 0), "null")
   H.eq(report.number(1763918000.123456), "1763918000.123456")
   H.eq(report.number(2.0), "2")
end)

H.test("write: atomically to a file (no temporary left), or nil and a message naming the file", function()
   local dir = H.tmpname(".dir")
   assert(os.execute("mkdir -p " .. H.sh_quote(dir)))
   local path = dir .. "/mdb.prom"
   H.eq(report.write("first\n", path), true)
   H.eq(H.read_file(path), "first\n")
   local function inode()
      local p = io.popen("stat -c %i " .. H.sh_quote(path))
      local v = p:read("l")
      p:close()
      return v
   end
   local before = inode()
   H.eq(report.write("second\n", path), true)
   H.eq(H.read_file(path), "second\n")
   H.ok(inode() ~= before, "the file was replaced by a rename, not rewritten in place")
   local p = io.popen("ls -A " .. H.sh_quote(dir))
   local listing = p:read("a")
   p:close()
   H.eq(listing, "mdb.prom\n", "only the target file is left")
   local ok, err = report.write("x", dir .. "/missing/sub/file.csv")
   H.eq(ok, nil)
   H.contains(err, "cannot write " .. dir .. "/missing/sub/file.csv: ")
   ok, err = report.write("x", dir .. "/")
   H.eq(ok, nil)
   H.contains(err, "it names a directory")
   H.raises(nil, report.write, 42)
end)

H.test("misuse raises naming the argument and the formats", function()
   H.contains(H.raises(nil, report.findings, {}, "xml"),
      'bad argument #2 to \'findings\' (unknown format "xml"; use table, json, jsonl, csv, markdown, junit, prometheus, nagios)')
   H.contains(H.raises(nil, report.findings, "x", "json"), "bad argument #1 to 'findings' (table expected, got string)")
   H.contains(H.raises(nil, report.inventory, {}, "junit"), 'unknown format "junit"')
   H.contains(H.raises(nil, report.plans, {}, "nagios"), 'unknown format "nagios"')
   H.contains(H.raises(nil, report.findings, {}, "json", 5), "bad argument #3 to 'findings' (table expected, got number)")
   H.contains(H.raises(nil, report.findings, {}, "json", { colour = true }),
      "bad argument #3 to 'findings' (unknown option 'colour')")
   H.contains(H.raises(nil, report.findings, {}, "json", { now = "today" }),
      "bad argument #3 to 'findings' (option 'now' must be a number, got string)")
   H.contains(H.raises(nil, report.inventory, {}, "table", { all = true }), "unknown option 'all'")
end)

H.test("findings rendered a cluster at a time (findings_part, summary_add, findings_parts) equal findings()", function()
   local fs = findings()
   for _, fmt in ipairs { "json", "jsonl", "csv" } do
      for _, folders in ipairs { false, true } do
         local parts, acc = {}, nil
         for i, f in ipairs(fs) do f.folder = "b1gf" .. (i % 2) end
         -- one part per finding, and an empty part (a cluster without findings)
         for _, f in ipairs(fs) do
            parts[#parts + 1] = report.findings_part({ f }, fmt, { folders = folders })
            acc = report.summary_add(acc, { f })
         end
         parts[#parts + 1] = report.findings_part({}, fmt, { folders = folders })
         local pieces = report.findings_parts(parts, acc, fmt, { now = NOW, folders = folders })
         H.eq(table.concat(pieces), report.findings(fs, fmt, { now = NOW, folders = folders }), fmt)
         local path = H.tmpname("." .. fmt)
         H.eq(report.write(pieces, path), true)
         local f = io.open(path, "rb")
         H.eq(f:read("a"), table.concat(pieces), "written piece by piece")
         f:close()
      end
   end
   H.eq(report.findings_parts({}, report.summary_add(nil, {}), "json", { now = NOW })[1] .. "]}\n",
      report.findings({}, "json", { now = NOW }), "no findings")
   H.contains(H.raises(nil, report.write, { "a", 1 }), "piece 2 is a number")
end)

H.run_all()
