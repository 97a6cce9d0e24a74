-- The output sinks against hostile text from the API: cluster names,
-- backup ids and error bodies that hold C1 controls, bytes that are not
-- UTF-8, HTML, backticks, spreadsheet formulas, pipes and newlines.  The
-- fake serves them (a --data file is served verbatim; a fault's body is
-- the error), the real scripts render them, and each format is held to
-- what its reader needs: a terminal gets no control sequence, xmllint and
-- promtool accept the file, a rendered markdown shows the text it was
-- sent, a spreadsheet runs no formula, Nagios sees one line.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local NOW = "2026-11-23T18:00:00Z"
local FOLDER = "b1gsinkfolder"
local EVIL_ID = "c9qsink0000000000001"
local OK_ID = "c9qsink0000000000002"
local FAIL_ID = "c9qsink0000000000003"

-- A fleet of mysql clusters: EVIL_ID named `name` with one backup `bid`,
-- OK_ID named `ok_name` with one backup, and FAIL_ID whose backup listing
-- fails with 403 and the error message `err` (when given; no ';').
local function fleet(name, bid, ok_name, err)
   local function cluster(id, n)
      return { "cluster", "mysql", FOLDER, id, "x", { id = id, folderId = FOLDER, name = n,
         createdAt = "2026-11-01T00:00:00Z", config = { backupRetainPeriodDays = "7" } } }
   end
   local records = {
      cluster(EVIL_ID, name),
      { "backup", "mysql", FOLDER, EVIL_ID, H.backup(bid, EVIL_ID, "2026-11-23T01:00:00Z",
         { folderId = FOLDER, status = "DONE" }) },
      cluster(OK_ID, ok_name or "plain-name"),
      { "backup", "mysql", FOLDER, OK_ID, H.backup(OK_ID .. ":b1", OK_ID, "2026-11-23T02:00:00Z",
         { folderId = FOLDER, status = "DONE" }) },
   }
   local args = { "--now", NOW }
   if err then
      records[#records + 1] = cluster(FAIL_ID, "failing")
      args[#args + 1] = "--fault"
      args[#args + 1] = "path=/clusters/" .. FAIL_ID .. "/backups;status=403;times=0;body="
         .. require("cjson").encode({ code = 7, message = err })
   end
   args[#args + 1] = "--data"
   args[#args + 1] = H.data_file(records)
   return H.start_fake(args)
end

-- Run scripts/`script` with `args` against `s`; never a traceback or the token.
local function run(s, script, args)
   local r = H.run(H.with({ H.script(script) }, table.unpack(args)),
      { env = H.script_env(s, FOLDER, { NO_COLOR = "1" }) })
   local what = script .. " " .. table.concat(args, " ")
   H.not_contains(r.stdout .. r.stderr, H.token, what)
   H.not_contains(r.stderr, "traceback", what)
   H.ok(r.code <= 3, what .. ": exit " .. r.code .. ": " .. r.stderr)
   return r, what
end

-- C0 and C1 controls (the UTF-8 encoding of U+0080..U+009F), DEL, and
-- bytes that are not UTF-8: none may reach a terminal.
local function terminal_clean(text, what)
   H.ok(utf8.len(text), what .. ": valid UTF-8: " .. text)
   for _, c in utf8.codes(text) do
      H.ok(c == 10 or (c >= 32 and c ~= 127 and not (c >= 0x80 and c < 0xA0)),
         string.format("%s: control character U+%04X in %q", what, c, text))
   end
end

-- U+009B is CSI in one character (xterm, VTE and Konsole obey it in
-- UTF-8), "\155" alone a CSI to a terminal that is not in UTF-8; ESC
-- the 7-bit one; U+202E reverses the line after it where the terminal
-- does bidi (VTE).
local EVIL_NAME = "n\27[31m\194\1552J\255\254x\226\128\174z"
local EVIL_SHOWN = "n?[31m?2J??x?z"

H.test("a C1 control, a byte that is not UTF-8 or a bidi override in a name: '?' on a terminal", function()
   local s = fleet(EVIL_NAME, EVIL_ID .. ":b\194\1552J")
   for _, c in ipairs {
      { "audit.lua", { "--all" } }, { "inventory.lua", {} }, { "inventory.lua", { "--timeline" } },
      { "freshness.lua", {} }, { "retention-plan.lua", { "--keep-last", "1" } },
      { "audit.lua", { "--all", "--format", "markdown" } }, { "inventory.lua", { "--format", "markdown" } },
      { "retention-plan.lua", { "--keep-last", "1", "--format", "markdown" } },
      { "audit.lua", { "--format", "nagios" } },
   } do
      local r, what = run(s, c[1], H.with(c[2], "--engine", "mysql", "--now", NOW))
      terminal_clean(r.stdout, what)
      H.contains(r.stdout, EVIL_SHOWN, what .. ": the name, its controls as ?")
      if c[1] == "retention-plan.lua" then H.contains(r.stdout, EVIL_ID .. ":b?2J", what .. ": the backup id") end
   end
   -- json keeps the text, with the C1 control escaped: the same data, and
   -- no CSI for `cat report.json`
   local r, what = run(s, "inventory.lua", { "--engine", "mysql", "--now", NOW, "--format", "json" })
   H.not_contains(r.stdout, "\194\155", what)
   H.contains(r.stdout, "\\u009b2J", what)
   H.ok(pcall(require("cjson").decode, r.stdout), what .. ": valid JSON")
   -- a recorded name, shown by history.lua
   local db = H.tmpname(".db")
   r, what = run(s, "snapshot.lua", { "--engine", "mysql", "--now", NOW, "--db", db })
   H.eq(r.code, 0, what .. ": " .. r.stderr)
   r, what = run(s, "history.lua", { "--db", db, "cluster", EVIL_ID })
   H.eq(r.code, 0, what .. ": " .. r.stderr)
   terminal_clean(r.stdout, what)
   H.contains(r.stdout, EVIL_SHOWN, what)
end)

H.test("nagios: one line, one '|' before the perfdata, whatever the names hold", function()
   local s = fleet("a|b\nc\rd\27[2Je", EVIL_ID .. ":b1")
   local r, what = run(s, "audit.lua", { "--engine", "mysql", "--now", NOW, "--format", "nagios" })
   H.eq(r.code, 2, what .. ": critical")
   local line = r.stdout:match("^([^\n]*)\n$")
   H.ok(line, what .. ": exactly one line: " .. r.stdout)
   H.ok(not line:find("\r", 1, true), what .. ": no CR")
   local _, bars = line:gsub("|", "")
   H.eq(bars, 1, what .. ": one '|': " .. line)
   H.contains(line, "a b c d?[2Je coverage warning", what)
   H.ok(line:find("| ok=%d+ warning=%d+ critical=%d+ error=%d+$"), what .. ": the perfdata ends the line")
   -- freshness.lua's own Nagios line: its labels are the names
   r, what = run(s, "freshness.lua", { "--engine", "mysql", "--now", NOW, "--format", "nagios" })
   line = r.stdout:match("^([^\n]*)\n$")
   H.ok(line, what .. ": exactly one line: " .. r.stdout)
   terminal_clean(line, what)
   _, bars = line:gsub("|", "")
   H.eq(bars, 1, what .. ": one '|': " .. line)
   H.contains(line, "'mysql/a_b c d?[2Je'=", what)
end)

H.test("junit and prometheus stay well-formed when a name or id is not UTF-8 or holds a C1 control", function()
   local s = fleet("bad\255\254utf\194\133nel\239\191\190", EVIL_ID .. ":b\255")
   local shown = "bad\239\191\189\239\191\189utf"
   for _, c in ipairs {
      { "audit.lua", { "--format", "junit", "--all" }, "xmllint" },
      { "audit.lua", { "--format", "prometheus" }, "promtool" },
      { "inventory.lua", { "--format", "prometheus" }, "promtool" },
      { "freshness.lua", { "--format", "prometheus" }, "promtool" },
   } do
      local r, what = run(s, c[1], H.with(c[2], "--engine", "mysql", "--now", NOW))
      H.ok(utf8.len(r.stdout), what .. ": valid UTF-8")
      H.contains(r.stdout, shown, what .. ": the bad bytes as U+FFFD, the rest kept")
      local check
      if c[3] == "xmllint" then
         check = H.run({ "--noout", "-" }, { program = "xmllint", stdin = r.stdout })
      else
         check = H.run({ "check", "metrics" }, { program = "promtool", stdin = r.stdout })
      end
      H.eq(check.code, 0, what .. ": " .. c[3] .. ": " .. check.stdout .. check.stderr)
   end
end)

H.test("changes.lua: a hostile name in its table is '?', in its markdown shown, not rendered", function()
   local name = "n\194\155" .. "2J<b>x</b>|y"
   local db = H.tmpname(".db")
   local r, what = run(fleet(name, EVIL_ID .. ":b1"), "snapshot.lua",
      { "--engine", "mysql", "--now", NOW, "--db", db })
   H.eq(r.code, 0, what .. ": " .. r.stderr)
   -- an hour later the cluster's only backup is gone (its new one, b2, appeared)
   local s2 = fleet(name, EVIL_ID .. ":b2")
   r, what = run(s2, "snapshot.lua",
      { "--engine", "mysql", "--now", "2026-11-23T19:00:00Z", "--db", db })
   H.eq(r.code, 0, what .. ": " .. r.stderr)
   r, what = run(s2, "changes.lua", { "--db", db })
   H.eq(r.code, 1, what .. ": " .. r.stderr)
   terminal_clean(r.stdout, what)
   H.contains(r.stdout, "n?2J<b>x</b>|y", what)
   r, what = run(s2, "changes.lua", { "--db", db, "--format", "markdown" })
   H.eq(r.code, 1, what .. ": " .. r.stderr)
   terminal_clean(r.stdout, what)
   H.contains(r.stdout, "n?2J&lt;b&gt;x&lt;/b&gt;\\|y", what)
   H.not_contains(r.stdout, "<b>", what)
end)

H.test("markdown: HTML, entities, backticks and links from the API are shown, not rendered", function()
   local name = "<img src=x>&amp;`code`[a](http://e)"
   local err = "denied <b>bold</b> & `tick` [l](http://e) <!-- c"
   local s = fleet(name, EVIL_ID .. ":b`1`", nil, err)
   local name_md = "&lt;img src=x&gt;&amp;amp;\\`code\\`[a\\](http://e)"
   local err_md = "denied &lt;b&gt;bold&lt;/b&gt; &amp; \\`tick\\` [l\\](http://e) &lt;!-- c"
   for _, c in ipairs {
      { "audit.lua", { "--all" } }, { "inventory.lua", {} }, { "retention-plan.lua", { "--keep-last", "1" } },
   } do
      local r, what = run(s, c[1], H.with(c[2], "--engine", "mysql", "--now", NOW, "--format", "markdown"))
      H.contains(r.stdout, name_md, what .. ": the name")
      H.contains(r.stdout, err_md, what .. ": the error")
      for _, raw in ipairs { "<img", "<b>", "<!--", "`code`", "`tick`", "&amp;`" } do
         H.not_contains(r.stdout, raw, what)
      end
      H.ok(not r.stdout:find("[^\\]%]%("), what .. ": no inline link: " .. r.stdout)
      if c[1] == "retention-plan.lua" then H.contains(r.stdout, "| keep | " .. EVIL_ID .. ":b\\`1\\` |", what) end
      if c[1] == "audit.lua" then
         -- a plain id stays in its code span; the report's own markup is kept
         H.contains(r.stdout, "| **error** | mysql | failing (`" .. FAIL_ID .. "`) |", what)
      end
   end
end)

H.test("csv: a cell the API could not send (a formula) is quoted with ', what it can send is kept", function()
   local s = fleet("=HYPERLINK(\"http://e\",\"x\")", "@SUM(1+1)", "-prod_01")
   for _, c in ipairs {
      { "audit.lua", { "--all" } }, { "inventory.lua", {} }, { "retention-plan.lua", { "--keep-last", "1" } },
   } do
      local r, what = run(s, c[1], H.with(c[2], "--engine", "mysql", "--now", NOW, "--format", "csv"))
      H.contains(r.stdout, ",\"'=HYPERLINK(\"\"http://e\"\",\"\"x\"\")\",", what .. ": the formula name")
      H.not_contains(r.stdout, ",\"=HYPERLINK", what)
      H.contains(r.stdout, ",-prod_01,", what .. ": a name the API allows (it may start with '-'), as it is")
      H.contains(r.stdout, ",'@SUM(1+1)", what .. ": the backup id, kept after the '")
      H.not_contains(r.stdout, ",@SUM", what)
   end
   -- a cell starting with the formula characters and what a name cannot hold
   local report = require "mdb.report"
   H.eq(report.csv({ { "=1+1", "+1", "@x", "-1+1", "\tx", "\rx", "-prod_01", "c9q:-x", -5, "a=b" } }),
      "'=1+1,'+1,'@x,'-1+1,'\tx,\"'\rx\",-prod_01,c9q:-x,-5,a=b\r\n")
   -- control characters other than tab, CR and LF are '?'; C1 too
   H.eq(report.csv({ { "a\27[2Jb", "c\194\155d", "e\nf" } }), "a?[2Jb,c?d,\"e\nf\"\r\n")
end)

H.test("a server's error message: no C1 control and no byte that is not UTF-8, on stdout or stderr", function()
   for _, c in ipairs {
      -- a C1 control, two bytes of UTF-8: a blank, as the C core makes C0 controls
      { "no\194\155" .. "2Jway", "no 2Jway" },
      -- a server's message is bytes (cjson passes them on): each byte that
      -- is not UTF-8 is a '?' (0x9B alone is a CSI)
      { "no\1552Jway\255\254x\192\175y\237\160\128z\226\130", "no?2Jway??x??y???z??" },
   } do
      local s = fleet("plain", EVIL_ID .. ":b1", nil, c[1])
      local r, what = run(s, "inventory.lua", { "--engine", "mysql", "--now", NOW })
      terminal_clean(r.stdout, what .. " stdout")
      terminal_clean(r.stderr, what .. " stderr")
      H.contains(r.stdout, c[2], what)
      H.contains(r.stderr, c[2], what)
      -- and in json, where the error message is data
      r, what = run(s, "inventory.lua", { "--engine", "mysql", "--now", NOW, "--format", "json" })
      H.not_contains(r.stdout, "\155", what)
      H.contains(r.stdout, c[2], what)
   end
end)

H.test("aligned.safe keeps UTF-8 text and wide characters, and only what it must is '?'", function()
   local safe = require("mdb.aligned").safe
   H.eq(safe("прод-кластер ✓ 数据库 😀"), "прод-кластер ✓ 数据库 😀", "valid UTF-8 kept")
   H.eq(safe("a\194\160b\194\133c"), "a\194\160b?c", "NBSP (U+00A0) kept, NEL (U+0085) a C1 control")
   H.eq(safe("x\192\175y"), "x??y", "an overlong '/' is two bytes that are not UTF-8")
   H.eq(safe("x\237\160\128y"), "x???y", "a surrogate is not UTF-8")
   H.eq(safe("x\226\128\142\226\129\167\226\128\168y"), "x???y", "LRM, FSI and LINE SEPARATOR")
   H.eq(safe("\240\159\152"), "???", "a cut sequence")
   H.eq(safe(42), "42")
end)

H.test("the helpers the scripts' own sinks use: nagios text and perfdata labels, markdown cells", function()
   local report = require "mdb.report"
   H.eq(report.nagios_text("a|b\nc\r\27[2Jd\194\155e"), "a b c ?[2Jd?e")
   H.eq(report.nagios_perf_label("mysql/it's=a|b\nc\27[2J"), "'mysql/it_s_a_b c?[2J'")
   H.eq(report.md_cell("<b>&</b> `x` [l](u) a|b\\ c\nd\27"), "&lt;b&gt;&amp;&lt;/b&gt; \\`x\\` [l\\](u) a\\|b\\\\ c<br>d?")
end)

H.run_all()
