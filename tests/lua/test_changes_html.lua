-- changes.lua --format html: the changes between two scans recorded by
-- snapshot.lua (tests/lua/history_fleet.lua), as a page built from the
-- HTML report's blocks: every change a row with its verdict, unexpected
-- first, per cluster its changes, every string escaped, written
-- atomically with --output, the exit status unchanged.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local HF = require "history_fleet"
local cjson = require "cjson"
local html = require "mdb.html"
local assets = require "mdb.html_assets"
local sha256 = require "mdb.sha256"

local function changes(db, ...)
   return H.run({ H.source_dir .. "/scripts/changes.lua", "--db", db, ... })
end

local function count(s, needle)
   local n, i = 0, 1
   while true do
      local a, b = s:find(needle, i, true)
      if not a then return n end
      n, i = n + 1, b + 1
   end
end

local function unescape(s)
   return (s:gsub("&(#?%w+);", function(e)
      local map = { amp = "&", lt = "<", gt = ">", quot = '"', ["#39"] = "'" }
      return map[e] or ("&" .. e .. ";")
   end))
end

-- The table rows of a changes page: { verdict, kind, cluster, backup }.
local function rows(page)
   local out = {}
   for attrs in page:gmatch('<tr class="fi"( data%-status="[^"]*" data%-kind[^>]*)>') do
      local a = {}
      for k, v in attrs:gmatch('([%w%-]+)="([^"]*)"') do a[k] = unescape(v) end
      out[#out + 1] = { verdict = a["data-status"], kind = a["data-kind"], cluster = a["data-cluster"],
         backup = a["data-backup"] }
   end
   return out
end

local RANK = { unexpected = 3, expected = 2, info = 1 }

local function no_handlers(page)
   for tag in page:gmatch("<[^>]*>") do
      local names = tag:gsub('"[^"]*"', '""')
      H.ok(not names:find("%son%a+%s*="), "event handler attribute in " .. tag)
   end
end

local db

H.test("--format html: every change a row with its verdict, unexpected first, per cluster; exit 1", function()
   db = HF.record(H)
   local want = cjson.decode(changes(db, "--format", "json").stdout)
   H.ok(#want.changes >= 6, "changes to show: " .. #want.changes)
   local out = H.tmpname(".html")
   H.write_file(out, "the previous report")
   local r = changes(db, "--format", "html", "--output", out)
   H.eq(r.code, 1, "an unexpected change: " .. r.stderr)
   H.eq(r.stdout, "")
   H.eq(r.stderr, "")
   local page = H.read_file(out)
   H.ok(page:find("^<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf%-8\">\n<meta http%-equiv=\"Content%-Security%-Policy\""),
      "the report's head: charset, then the CSP")
   H.ok(page:find("</html>\n$"), "complete")
   H.contains(page, html.csp():gsub("'", "&#39;"), "the same CSP as the other reports")
   H.eq(page:match("<style>(.-)</style>"), assets.CSS)
   H.eq(page:match("<script>(.-)</script>"), assets.JS)
   H.contains(html.csp(), "script-src " .. sha256.csp_source(assets.JS) .. ";")
   no_handlers(page)
   H.ok(not page:find("https?:"), "no URL with a scheme")
   -- header: the two scans, counts by verdict
   H.contains(page, "<dt>From</dt><dd>scan 2 (2026-12-03T12:00:00Z)</dd><dt>To</dt><dd>scan 3 (2026-12-04T12:00:00Z)</dd>")
   H.contains(page, "<dt>Folder</dt><dd>" .. HF.FOLDER .. "</dd>")
   local n = { unexpected = 0, expected = 0, info = 0 }
   for _, c in ipairs(want.changes) do n[c.verdict] = n[c.verdict] + 1 end
   for v, k in pairs(n) do
      H.contains(page, string.format('<li data-count="%s" data-n="%d">', v, k), "count of " .. v)
   end
   H.ok(n.unexpected > 0 and n.expected > 0 and n.info > 0, "all three verdicts")
   -- every change a row, worst first
   local got = rows(page)
   H.eq(#got, #want.changes)
   for i = 2, #got do
      H.ok(RANK[got[i - 1].verdict] >= RANK[got[i].verdict], "unexpected before expected before info")
   end
   local function key(c, backup)
      return table.concat({ c.verdict, c.kind, c.cluster, tostring(backup) }, " ")
   end
   local a, b = {}, {}
   for _, c in ipairs(want.changes) do
      a[#a + 1] = key(c, c.backup_id ~= cjson.null and c.backup_id or "")
   end
   for _, c in ipairs(got) do b[#b + 1] = key(c, c.backup) end
   table.sort(a); table.sort(b)
   H.eq(b, a, "the same changes as the JSON report")
   H.contains(page, "a manual backup vanished")
   H.contains(page, "backup retention changed from 7 to 3 days")
   -- per cluster: a section with its changes, the worst cluster first
   local sections = {}
   for st, id, n_changes in page:gmatch('<section class="cl fi (%a+)" id="c%-%d+" data%-cluster="([^"]*)"'
      .. ' data%-engine="postgresql" data%-status="%a+" data%-changes="(%d+)"') do
      sections[#sections + 1] = { st, id, tonumber(n_changes) }
   end
   H.eq(#sections, 2)
   local per = {}
   for _, c in ipairs(want.changes) do per[c.cluster] = (per[c.cluster] or 0) + 1 end
   for _, s in ipairs(sections) do
      H.eq(s[1], "unexpected")
      H.eq(s[3], per[s[2]], "changes of " .. s[2])
   end
   H.contains(page, '<div id="filter-slot" data-statuses="unexpected expected info">')
   H.contains(page, '<table class="findings sortable" id="changes">')
end)

H.test("--format html: expected and info only exit 0; no change at all says so", function()
   local r = changes(db, "--from", "1", "--to", "2", "--format", "html")
   -- scan 1 -> 2: A's and B's oldest backups expire, new ones appear
   H.eq(r.code, 0, r.stderr)
   H.ok(r.stdout:find("^<!DOCTYPE html>"), "to stdout without --output")
   H.contains(r.stdout, '<li data-count="unexpected" data-n="0">')
   H.ok(#rows(r.stdout) >= 4)
   local same = changes(db, "--from", "3", "--to", "3", "--format", "html")
   H.eq(same.code, 0)
   H.contains(same.stdout, "Nothing changed between the two scans.")
   H.contains(same.stdout, '<p id="summary">0 changes in 0 clusters')
end)

H.test("--format html: an unwritable --output is exit 2 and no file; a bad format names html", function()
   local r = changes(db, "--format", "html", "--output", "/nonexistent-dir/c.html")
   H.eq(r.code, 2)
   H.contains(r.stderr, "cannot write /nonexistent-dir/c.html")
   r = changes(db, "--format", "htm")
   H.eq(r.code, 2)
   H.contains(r.stderr, "markdown, html, got 'htm'")
end)

-- A hostile cluster name and backup ids: the page carries them as text.
local EVIL = "</script><img src=x onerror=alert(1)>"
H.test("--format html: a hostile cluster name and backup id run nothing and load nothing", function()
   local hostile = HF.record(H, { names = { EVIL, '"><svg onload=alert(2)>' },
      ids = function(_, id) return id:find("manual") and (id .. EVIL) or id end })
   local r = changes(hostile, "--format", "html")
   H.eq(r.code, 1, r.stderr)
   local page = r.stdout
   H.ok(utf8.len(page), "valid UTF-8")
   H.eq(count(page, "<script"), 1)
   H.eq(count(page, "</script"), 1)
   for _, tag in ipairs { "<img", "<svg onload", "<iframe" } do H.not_contains(page, tag) end
   no_handlers(page)
   H.contains(page, "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;")
   H.contains(page, "\"&gt;&lt;svg onload=alert(2)&gt;")
   -- the hostile backup id arrived whole, as an attribute and as text
   local found
   for _, c in ipairs(rows(page)) do
      if c.backup == HF.A .. ":manual-1" .. EVIL then found = c end
   end
   H.ok(found, "the hostile backup id's row")
   H.eq(found.verdict, "unexpected")
   H.contains(page, "<code>" .. HF.A .. ":manual-1&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</code>")
end)

H.run_all()
