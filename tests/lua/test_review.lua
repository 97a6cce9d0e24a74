-- An end-to-end review of the bundled scripts as an operator meets them:
-- a report written over a file keeps that file's mode, flags that would
-- change nothing in the run asked for are usage errors (never silently
-- ignored), every usage error is one line and where the help is, and the
-- help's wrapped descriptions stay in their column.  Through mdblua
-- against the fake API.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local SCRIPTS = H.source_dir .. "/scripts/"
local NOW = "2026-11-23T18:00:00Z"
local FOLDER = "b1grvwfolder"

local function fake()
   return H.start_fake { "--now", NOW, "--generate", "engine=mysql,folder=" .. FOLDER .. ",clusters=2,backups=3" }
end

local function run(server, script, args)
   local a = { SCRIPTS .. script }
   for _, x in ipairs(args) do a[#a + 1] = x end
   local r = H.run(a, { env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = server and server.url or "http://127.0.0.1:1",
      YC_FOLDER_ID = FOLDER, NO_COLOR = false } })
   H.not_contains(r.stdout .. r.stderr, H.token, script .. ": output")
   H.not_contains(r.stdout .. r.stderr, "traceback", script)
   return r
end

-- A usage error: exit `code`, nothing on stdout, and exactly the line
-- "SCRIPT: MSG" and the hint on stderr.
local function usage_error(r, script, msg, code, what)
   H.eq(r.code, code or 2, what .. ": " .. r.stderr)
   H.eq(r.stdout, "", what .. ": stdout")
   local line, hint = r.stderr:match("^([^\n]*)\n(try 'mdblua [^\n]*%-%-help')\n$")
   H.ok(line, what .. ": one line and the hint, got " .. r.stderr)
   H.eq(line, script .. ": " .. msg, what)
   H.contains(hint, script, what)
end

local function mode_of(path)
   local p = assert(io.popen("stat -c '%a %U:%G' " .. H.sh_quote(path)))
   local s = p:read("l")
   p:close()
   return s
end

H.test("--output over an existing report keeps its mode, and its group where the run may set it", function()
   local s = fake()
   local dir = H.fresh_dir()
   local cases = {
      { "inventory.lua", { "--format", "prometheus" } },
      { "audit.lua", { "--format", "csv", "--now", NOW } },
      { "freshness.lua", { "--format", "json", "--now", NOW } },
      { "retention-plan.lua", { "--keep-last", "1", "--now", NOW } },
   }
   for i, c in ipairs(cases) do
      local out = dir .. "/report" .. i
      H.write_file(out, "old\n")
      -- 0640 for a collector's group (root can hand the file to one),
      -- 0600 where it may not
      os.execute("chmod 640 " .. H.sh_quote(out) .. " && chgrp nogroup " .. H.sh_quote(out) .. " 2>/dev/null"
         .. " || chmod 600 " .. H.sh_quote(out))
      local before = mode_of(out)
      local r = run(s, c[1], H.with(H.with(c[2], "--output"), out))
      H.ok(r.code ~= 2 or c[1] == "freshness.lua", c[1] .. ": " .. r.stderr)
      H.ok(H.read_file(out) ~= "old\n", c[1] .. ": the report was written")
      H.eq(mode_of(out), before, c[1] .. ": mode, owner and group kept")
   end
   -- a new file still gets the umask's mode
   local new = dir .. "/new.prom"
   local r = H.run({ "-c", "umask 027 && exec " .. H.sh_quote(H.mdblua) .. " " .. H.sh_quote(SCRIPTS .. "inventory.lua")
      .. " --format prometheus --output " .. H.sh_quote(new) },
      { program = "sh", env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url, YC_FOLDER_ID = FOLDER } })
   H.eq(r.code, 0, r.stderr)
   H.eq(mode_of(new):match("^%d+"), "640", "a new report: 0666 less the umask")
end)

H.test("--days where no timeline is drawn is a usage error, before any request", function()
   local s = fake()
   for _, f in ipairs { "table", "json", "csv", "prometheus" } do
      usage_error(run(s, "audit.lua", { "--days", "7", "--format", f }), "audit.lua",
         "--days sets the timelines of --format html; --format " .. f
         .. " has none (the coverage window is --coverage-days)", 2, "audit --days --format " .. f)
   end
   usage_error(run(s, "audit.lua", { "--days", "7", "--format", "nagios" }), "audit.lua",
      "--days sets the timelines of --format html; --format nagios has none (the coverage window is --coverage-days)",
      3, "audit --days --format nagios")
   for _, f in ipairs { "table", "json", "markdown" } do
      usage_error(run(s, "inventory.lua", { "--days", "7", "--format", f }), "inventory.lua",
         "--days sets the strips of --timeline and of --format html; give one of them, or leave --days out", 2,
         "inventory --days --format " .. f)
   end
   H.eq(#H.requests(s), 0, "no request for a usage error")
   -- where it draws, it is taken
   local t = run(s, "inventory.lua", { "--timeline", "--days", "5", "--now", NOW })
   H.eq(t.code, 0, t.stderr)
   H.contains(t.stdout, "5 DAYS")
   local page = run(s, "inventory.lua", { "--format", "html", "--days", "5", "--now", NOW })
   H.eq(page.code, 0, page.stderr)
   local a = run(s, "audit.lua", { "--format", "html", "--days", "5", "--now", NOW })
   H.ok(a.code == 0 or a.code == 1, a.stderr)
end)

H.test("--concurrency and --page-size with --from are usage errors: nothing is listed", function()
   local s = fake()
   local db = H.tmpname(".db")
   local snap = run(s, "snapshot.lua", { "--db", db, "--now", NOW })
   H.eq(snap.code, 0, snap.stderr)
   for _, script in ipairs { "audit.lua", "inventory.lua" } do
      for _, flag in ipairs { "--concurrency", "--page-size" } do
         usage_error(run(nil, script, { "--from", db, flag, "4" }), script,
            flag .. " shapes the API's listings; --from reads a recorded scan and lists nothing", 2,
            script .. " --from " .. flag)
      end
      local alone = run(nil, script, { "--from", db })
      H.ok(alone.code == 0 or alone.code == 1, script .. " --from alone: " .. alone.stderr)
      H.contains(alone.stdout, "mysql-0001", script .. " --from alone")
   end
end)

H.test("history.lua: a usage error is one line and the hint; --engine with a backup and an empty id are refused",
   function()
   local s = fake()
   local db = H.tmpname(".db")
   H.eq(run(s, "snapshot.lua", { "--db", db, "--now", NOW }).code, 0)
   local cases = {
      { {}, "say what to show: backup ID or cluster ID" },
      { { "backup" }, "expected 'backup ID' or 'cluster ID', got 'backup'" },
      { { "cluster", "a", "b" }, "expected 'backup ID' or 'cluster ID', got 'cluster a b'" },
      { { "backup", "cmysql-0000:000000", "--engine", "mysql" },
        "--engine applies to 'cluster ID' only, not to 'backup ID'" },
      { { "cluster", "" }, "cluster: the id must not be empty" },
      { { "backup", "" }, "backup: the id must not be empty" },
   }
   for _, c in ipairs(cases) do
      usage_error(run(nil, "history.lua", H.with({ "--db", db }, table.unpack(c[1]))), "history.lua", c[2], 2,
         "history.lua " .. table.concat(c[1], " "))
   end
   -- what is right still works
   local ok = run(nil, "history.lua", { "--db", db, "cluster", "cmysql-0000", "--engine", "mysql" })
   H.eq(ok.code, 0, ok.stderr)
   H.contains(ok.stdout, "cluster cmysql-0000 (mysql")
   local b = run(nil, "history.lua", { "--db", db, "backup", "cmysql-0000:000000" })
   H.eq(b.code, 0, b.stderr)
end)

H.test("restore-point.lua: a bad --at or --now is a usage error with the hint, before any request", function()
   local s = fake()
   for _, flag in ipairs { "--at", "--now" } do
      for _, v in ipairs { "yesterday", "" } do
         usage_error(run(s, "restore-point.lua", { "--engine", "mysql", "--cluster", "cmysql-0000", flag, v }),
            "restore-point.lua", "option '" .. flag .. "': not an RFC 3339 time: " .. v, 2,
            "restore-point " .. flag .. " '" .. v .. "'")
      end
   end
   H.eq(#H.requests(s), 0, "no request for a usage error")
end)

H.test("--help: a wrapped description continues in its column, and no continued line starts with an option", function()
   for _, script in ipairs { "list-backups.lua", "audit.lua", "freshness.lua", "inventory.lua", "retention-plan.lua",
      "restore-point.lua", "snapshot.lua", "changes.lua", "history.lua" } do
      local r = run(nil, script, { "--help" })
      H.eq(r.code, 0, script)
      local options = r.stdout:match("\nOptions:\n(.-)\n\n")
      H.ok(options, script .. ": an Options list")
      local column
      for line in options:gmatch("[^\n]+") do
         local lead, first = line:match("^( *)(%S)")
         if #lead == 2 and first == "-" then
            -- "  --name ARG   text": the text's column
            column = #line:match("^  %-%-%S+ ?%u*%s+")
         else
            -- the bash completion reads options from lines starting "--"
            H.ok(column and #lead == column and first ~= "-",
               script .. ": continued line in the description's column, not an option: " .. line)
         end
      end
   end
end)

H.test("colour on a terminal follows one rule in every script: not with TERM=dumb, nor NO_COLOR=1", function()
   local s = fake()
   local base = string.format("YC_IAM_TOKEN=%s YC_MDB_ENDPOINT=%s YC_FOLDER_ID=%s %s ", H.sh_quote(H.token),
      H.sh_quote(s.url), FOLDER, H.sh_quote(H.mdblua))
   for _, c in ipairs {
      { "audit.lua", "--now " .. NOW },
      { "freshness.lua", "--now " .. NOW },
      { "retention-plan.lua", "--keep-last 1 --now " .. NOW },
      { "inventory.lua", "--timeline --now " .. NOW },
   } do
      for _, env in ipairs { { "TERM=xterm", true }, { "TERM=dumb", false }, { "TERM=xterm NO_COLOR=1", false },
         { "TERM=xterm NO_COLOR=", true } } do
         -- script(1): stdout a terminal; stderr (progress) left out
         local inner = "env -u NO_COLOR " .. env[1] .. " " .. base .. H.sh_quote(SCRIPTS .. c[1]) .. " " .. c[2]
            .. " 2>/dev/null"
         local r = H.run({ "-qc", inner, "/dev/null" }, { program = "script" })
         H.contains(r.stdout, "mysql", c[1] .. " " .. env[1] .. ": the report")
         H.eq(r.stdout:find("\27%[[0-9;]*m") ~= nil, env[2], c[1] .. " " .. env[1] .. ": coloured")
      end
   end
end)

H.test("--output where no file can be made names the directory, not the hidden temporary file", function()
   local s = fake()
   local ro = H.fresh_dir()
   os.execute("chmod 555 " .. H.sh_quote(ro))
   local cases = {
      { ro .. "/report.prom", "cannot create a file in " .. ro .. ": Permission denied", true },
      { ro .. "/no/such/report.prom", "cannot create a file in " .. ro .. "/no/such: No such file or directory" },
   }
   for _, c in ipairs(cases) do
      for _, script in ipairs { "inventory.lua", "audit.lua" } do
         local r = H.run({ SCRIPTS .. script, "--format", "prometheus", "--output", c[1] },
            { reader = c[3], env = { YC_IAM_TOKEN = H.token, YC_MDB_ENDPOINT = s.url, YC_FOLDER_ID = FOLDER } })
         H.eq(r.code, 2, script .. ": " .. r.stderr)
         H.eq(r.stderr, script .. ": cannot write " .. c[1] .. ": " .. c[2] .. "\n", script)
      end
   end
   os.execute("chmod 755 " .. H.sh_quote(ro))
end)

H.test("an empty FILE (--output, --policy, --db, --record, --from) is a usage error before any request", function()
   local s = fake()
   local db = H.tmpname(".db")
   for _, c in ipairs {
      { "audit.lua", {}, "output" }, { "audit.lua", {}, "policy" }, { "audit.lua", {}, "record" },
      { "audit.lua", {}, "db" }, { "audit.lua", {}, "from" }, { "inventory.lua", {}, "output" },
      { "freshness.lua", {}, "output", 3 }, { "retention-plan.lua", { "--keep-last", "1" }, "policy" },
      { "retention-plan.lua", { "--keep-last", "1" }, "output" },
      { "restore-point.lua", { "--engine", "mysql", "--cluster", "cmysql-0000" }, "output" },
      { "snapshot.lua", {}, "db" }, { "changes.lua", {}, "db" }, { "changes.lua", { "--db", db }, "output" },
      { "history.lua", { "cluster", "x" }, "db" },
   } do
      usage_error(run(s, c[1], H.with(c[2], "--" .. c[3], "")), c[1],
         "option '--" .. c[3] .. "': the file name must not be empty", c[4] or 2, c[1] .. " --" .. c[3] .. " ''")
   end
   H.eq(#H.requests(s), 0, "no request for a usage error")
end)

H.test("a control character the API sent never reaches the terminal: restore-point, history, markdown", function()
   local EVIL = "evil\27]0;pwned\7\27[31mRED"
   local id = "c9qesc00000000000001"
   local bid = id .. ":bk\27[2Jx"
   local data = H.data_file {
      { "cluster", "mysql", FOLDER, id, "evil", { id = id, folderId = FOLDER, name = EVIL,
         createdAt = "2026-11-01T00:00:00Z", config = { backupRetainPeriodDays = "7" } } },
      { "backup", "mysql", FOLDER, id, H.backup(bid, id, "2026-11-23T01:00:00Z", { status = "DONE" }) },
   }
   local s = H.start_fake { "--now", NOW, "--data", data, "--step", "--data", data, "--without", id .. ":*" }
   local db = H.tmpname(".db")
   H.eq(run(s, "snapshot.lua", { "--db", db, "--now", NOW }).code, 0)
   local function clean(r, what)
      H.not_contains(r.stderr, "try 'mdblua", what .. ": no usage error")
      H.ok(#r.stdout > 0, what .. ": a report")
      H.ok(not r.stdout:find("[\27\7]"), what .. ": no ESC or BEL on stdout: " .. r.stdout)
      H.ok(r.stdout:find("evil?]0;pwned??[31mRED", 1, true) or r.stdout:find("bk?[2Jx", 1, true),
         what .. ": the name or id shown, its control characters as ?: " .. r.stdout)
   end
   clean(run(s, "restore-point.lua", { "--engine", "mysql", "--cluster", id, "--now", NOW }), "restore-point")
   clean(run(nil, "history.lua", { "--db", db, "cluster", id }), "history cluster")
   clean(run(nil, "history.lua", { "--db", db, "backup", bid }), "history backup")
   for _, c in ipairs { { "audit.lua", { "--all" } }, { "freshness.lua", { "--warn", "1h", "--crit", "2h" } },
      { "inventory.lua", {} }, { "retention-plan.lua", { "--keep-last", "1" } } } do
      clean(run(s, c[1], H.with(c[2], "--format", "markdown", "--now", NOW)), c[1] .. " markdown")
   end
   local step = io.popen("curl -s -X POST " .. H.sh_quote(s.url .. "/fake/v1/step"))
   step:close()
   H.eq(run(s, "snapshot.lua", { "--db", db, "--now", "2026-11-23T19:00:00Z" }).code, 0)
   clean(run(nil, "changes.lua", { "--db", db, "--format", "markdown" }), "changes markdown")
   -- json keeps the id exactly
   local j = run(nil, "history.lua", { "--db", db, "backup", bid, "--format", "json" })
   H.contains(j.stdout, "bk\\u001b[2Jx", "history json")
end)

H.test("a failed listing of a cluster whose id has control characters: the note on stderr shows them as ?", function()
   local id = "c9q\27[31mesc2"
   local data = H.data_file {
      { "cluster", "mysql", FOLDER, "c9qesc2", "evil", { id = id, folderId = FOLDER, name = "evil\27[31mX",
         createdAt = "2026-11-01T00:00:00Z" } },
   }
   local s = H.start_fake { "--now", NOW, "--data", data, "--fault", "path=/backups;status=403;times=0" }
   for _, c in ipairs { { "audit.lua", {} }, { "inventory.lua", {} }, { "freshness.lua", {} },
      { "retention-plan.lua", { "--keep-last", "1" } }, { "inventory.lua", { "--format", "markdown" } },
      { "list-backups.lua", { "--folder", FOLDER, "--folder", "b1gother" } } } do
      local r = run(s, c[1], H.with(c[2], "--engine", "mysql"))
      local what = c[1] .. " " .. table.concat(c[2], " ")
      H.ok(r.code == 2 or r.code == 3, what .. ": the failed listing's status: " .. r.stderr)
      H.contains(r.stderr, "mysql c9q?[31mesc2: http error: Permission denied", what .. ": the note")
      H.ok(not (r.stdout .. r.stderr):find("\27", 1, true), what .. ": no ESC: " .. r.stdout .. r.stderr)
   end
end)

H.test("changes.lua: a usage error is one line and the hint", function()
   local s = fake()
   local db = H.tmpname(".db")
   H.eq(run(s, "snapshot.lua", { "--db", db, "--now", NOW }).code, 0)
   H.eq(run(s, "snapshot.lua", { "--db", db, "--now", "2026-11-23T19:00:00Z" }).code, 0)
   for _, c in ipairs {
      { { "--since", "1h", "--from", "1" }, "give --since or --from, not both" },
      { { "--from", "yesterday" }, "option '--from': not a scan id or an RFC 3339 time: yesterday" },
      { { "--to", "" }, "option '--to': not a scan id or an RFC 3339 time: " },
      { { "--from", "2", "--to", "1" }, "--from scan 2 is after --to scan 1" },
   } do
      usage_error(run(nil, "changes.lua", H.with({ "--db", db }, table.unpack(c[1]))), "changes.lua", c[2], 2,
         "changes.lua " .. table.concat(c[1], " "))
   end
end)

H.run_all()
