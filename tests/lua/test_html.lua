-- The HTML report and the timeline strips: escaping, the CSP and its
-- hashes, the day-by-day model (gaps, in progress, retention, DST, failed
-- listings), the terminal strips, optional history, and the size of a
-- 10,000-cluster page.  The browser itself is driven by tests/browser/test_browser.lua.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local E = require "mdb.html_escape"
local sha256 = require "mdb.sha256"
local timeline = require "mdb.timeline"
local strip = require "mdb.strip"
local html = require "mdb.html"
local assets = require "mdb.html_assets"
local tz = require "mdb.tz"
local cjson = require "cjson"

local NOW = 1796472000            -- 2026-12-05T12:00:00Z
local DAY = 86400
local MIDNIGHT = NOW - NOW % DAY  -- 2026-12-05T00:00:00Z

local HOSTILE = {
   "</script><img src=x onerror=alert(1)>",
   '"><svg onload=alert(2)>',
   "'><iframe src=javascript:alert(3)>",
   "<style>*{background:url(http://evil.invalid/x)}</style>",
   "]]><!-- --><script>alert(4)</script>",
   "&lt;not-an-entity&gt; &amp; \0\1\27[31m\194\133 \255\254 end",
}

local function count(s, needle)
   local n, i = 0, 1
   while true do
      local a, b = s:find(needle, i, true)
      if not a then return n end
      n, i = n + 1, b + 1
   end
end

H.test("escaping: text and attributes carry no markup, only valid UTF-8 without controls", function()
   H.eq(E.text("a<b>&c\"'"), "a&lt;b&gt;&amp;c\"'")
   H.eq(E.attr("a<b>&c\"'"), "a&lt;b&gt;&amp;c&quot;&#39;")
   H.eq(E.text(nil), "")
   H.eq(E.text(42), "42")
   H.eq(E.attribute("title", nil), "")
   H.eq(E.attribute("title", 'x"y'), ' title="x&quot;y"')
   for _, s in ipairs(HOSTILE) do
      for _, f in ipairs { E.text, E.attr } do
         local out = f(s)
         H.ok(not out:find("[<>]"), "no < or > left: " .. out)
         H.ok(utf8.len(out), "valid UTF-8: " .. out)
         H.ok(not out:find("[%z\1-\8\11\12\14-\31\127]"), "no control characters")
      end
      H.ok(not E.attr(s):find("[\"']"), "no quote left in an attribute")
   end
   -- invalid bytes and C1 controls become U+FFFD, valid text stays
   H.eq(E.text("\255ok\194\133é"), "\239\191\189ok\239\191\189é")
   H.eq(E.text("tab\tnl\ncr\r"), "tab\tnl\ncr\r")
   H.eq(E.text("\0"), "\239\191\189")
   H.eq(E.text("\240\159\152\128"), "\240\159\152\128")       -- 😀 stays
   H.eq(E.text("\237\160\128"), "\239\191\189\239\191\189\239\191\189")   -- a surrogate is not UTF-8
end)

H.test("sha256 and base64 match the standard vectors and sha256sum", function()
   H.eq(sha256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
   H.eq(sha256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
   H.eq(sha256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
   for _, s in ipairs { ("x"):rep(55), ("x"):rep(56), ("x"):rep(64), ("y"):rep(1000), assets.CSS } do
      local path = H.write_file(H.tmpname(".bin"), s)
      local p = io.popen("sha256sum " .. H.sh_quote(path))
      local want = p:read("a"):match("^(%x+)")
      p:close()
      H.eq(sha256.hex(s), want, #s .. " bytes")
      os.remove(path)
   end
   for plain, coded in pairs { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
      fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" } do
      H.eq(sha256.base64(plain), coded, plain)
   end
end)

local function backup(id, created, extra)
   local b = { id = id, engine = "postgresql", sourceClusterId = "c1", created = created, size = 1024,
      type = "AUTOMATED", status = "DONE" }
   for k, v in pairs(extra or {}) do b[k] = v end
   return b
end

H.test("timeline: days with backups, gaps, in progress, today, retention and the cluster's birth", function()
   local w = timeline.window(NOW, 7)
   H.eq(w.day[1].date, "2026-11-29")
   H.eq(w.day[7].date, "2026-12-05")
   H.eq(w.start, MIDNIGHT - 6 * DAY)
   local entry = { engine = "postgresql", id = "c1", cluster = { id = "c1", name = "n", created = MIDNIGHT - 30 * DAY,
      config = { backupRetainPeriodDays = "14" } }, backups = {
      backup("b1", MIDNIGHT - 6 * DAY + 3600),                              -- 11-29
      backup("b2", MIDNIGHT - 5 * DAY + 7200, { type = "MANUAL" }),         -- 11-30
      backup("b3", MIDNIGHT - 3 * DAY + 100),                               -- 12-02
      backup("b4", MIDNIGHT - 2 * DAY + 100, { status = "CREATING" }),      -- 12-03, in progress
      backup("b5", MIDNIGHT - 1 * DAY + 100, { status = "BROKEN" }),        -- 12-04, unknown status
      backup("old", MIDNIGHT - 40 * DAY),                                   -- outside the window
      backup("future", NOW + 3600),                                         -- after now: not drawn
   } }
   local t = timeline.cluster(entry, w)
   local states = {}
   for i, d in ipairs(t.days) do states[i] = d.state end
   H.eq(states, { "backup", "backup", "missing", "backup", "progress", "failed", "open" })
   H.eq(#t.marks, 5)
   H.eq(t.counts.done, 3); H.eq(t.counts.automated, 2); H.eq(t.counts.manual, 1)
   H.eq(t.counts.progress, 1); H.eq(t.counts.failed, 1); H.eq(t.counts.missing, 1)
   H.eq(t.newest.id, "future")   -- newest completed backup overall; its age says how old
   H.eq(timeline.missing_dates(t), { "2026-12-01" })
   H.ok(math.abs(t.marks[1].x - 1 / 24) < 1e-9, "mark at 01:00 of the first day")

   -- before the cluster existed: absent; before the oldest backup kept and beyond retention: expired
   local young = { engine = "mysql", id = "c2", cluster = { id = "c2", created = MIDNIGHT - 2 * DAY + 5,
      config = { backupRetainPeriodDays = 14 } },
      backups = { backup("y", MIDNIGHT - DAY + 60) } }
   local ty = timeline.cluster(young, w)
   H.eq(ty.days[4].state, "absent"); H.eq(ty.days[5].state, "missing"); H.eq(ty.days[6].state, "backup")
   local short = { engine = "mysql", id = "c3", cluster = { id = "c3", config = { backupRetainPeriodDays = "3" } },
      backups = { backup("s", MIDNIGHT - 2 * DAY + 60) } }
   local ts = timeline.cluster(short, w)
   H.eq({ ts.days[1].state, ts.days[4].state, ts.days[5].state, ts.days[6].state },
      { "expired", "expired", "backup", "missing" })
   H.eq(ts.counts.missing, 1)
   -- no backup at all: every past day is missing, whatever the retention
   local none = timeline.cluster({ engine = "mysql", id = "c4", cluster = { id = "c4",
      config = { backupRetainPeriodDays = "1" } }, backups = {} }, w)
   H.eq(none.counts.missing, 6); H.eq(none.newest, nil)
   -- a failed listing keeps its error
   H.eq(timeline.cluster({ engine = "mysql", id = "c5", backups = {}, error = "network: boom" }, w).error,
      "network: boom")
end)

H.test("timeline: a failed listing's days without a backup seen are unknown, not missing", function()
   local w = timeline.window(NOW, 7)
   local cluster = { id = "c6", name = "n6", created = MIDNIGHT - 4 * DAY + 60,
      config = { backupRetainPeriodDays = "1" } }
   -- nothing returned: before the cluster existed stays absent, every other day (today too) is unknown
   local none = timeline.cluster({ engine = "mysql", id = "c6", cluster = cluster, backups = {},
      error = "http error: Permission denied (HTTP 403)" }, w)
   local states = {}
   for i, d in ipairs(none.days) do states[i] = d.state end
   H.eq(states, { "absent", "absent", "unknown", "unknown", "unknown", "unknown", "unknown" })
   H.eq(none.counts.missing, 0); H.eq(none.counts.unknown, 5)
   H.eq(timeline.missing_dates(none), {})
   H.eq(none.error, "http error: Permission denied (HTTP 403)")
   -- what the failed listing did return is drawn; the days it says nothing of stay unknown, also
   -- those before its oldest backup and beyond retention (that rests on the listing being whole)
   local entry = { engine = "mysql", id = "c6", cluster = cluster, error = "network: reset", backups = {
      backup("p1", MIDNIGHT - 2 * DAY + 100),                               -- 12-03
      backup("p2", MIDNIGHT - DAY + 100, { status = "CREATING" }),          -- 12-04
   } }
   local some = timeline.cluster(entry, w)
   for i, d in ipairs(some.days) do states[i] = d.state end
   H.eq(states, { "absent", "absent", "unknown", "unknown", "backup", "progress", "unknown" })
   H.eq(some.counts.missing, 0); H.eq(some.counts.unknown, 3); H.eq(some.counts.done, 1)
   H.eq(#some.marks, 2); H.eq(some.newest.id, "p1")
   H.eq(timeline.missing_dates(some), {})
   -- the same backups listed whole: expired before the oldest, missing and open as before
   entry.error = nil
   local whole = timeline.cluster(entry, w)
   for i, d in ipairs(whole.days) do states[i] = d.state end
   H.eq(states, { "absent", "absent", "expired", "expired", "backup", "progress", "open" })
   H.eq(whole.counts.unknown, 0)

   -- every renderer says "unknown", never "no backup"
   local html_svg = require "mdb.html_svg"
   local e = { engine = "mysql", id = "c6", cluster = cluster, backups = entry.backups, error = "network: reset" }
   local rows = strip.rows({ e }, { now = NOW, days = 7 })
   H.contains(rows, "  ??#~?  listing failed: network: reset")
   H.contains(rows, strip.LEGEND .. "  " .. strip.LEGEND_UNKNOWN)
   H.not_contains(strip.rows({ entry }, { now = NOW, days = 7 }), strip.LEGEND_UNKNOWN, "only when shown")
   H.contains(strip.rows({ e }, { now = NOW, days = 7, color = true }), strip.LEGEND_UNKNOWN_COLOR)
   H.eq(strip.PLAIN.unknown, "?"); H.ok(strip.COLOR.unknown ~= strip.COLOR.missing)
   local summary = html_svg.summary(some, w)
   H.eq(summary, "2 backups seen in the last 7 days; 1 automated, 0 manual; 1 in progress; "
      .. "3 days unknown (the listing failed); newest seen 2d 11h ago (2026-12-03 00:01:40Z); "
      .. "listing failed: network: reset")
   H.contains(html_svg.summary(none, w), "0 backups seen in the last 7 days; 5 days unknown (the listing failed); "
      .. "no completed backup seen; listing failed: ")
   local svg = html_svg.strip(some, w, { id = "x" })
   H.eq(count(svg, '<rect class="d unknown"'), 3)
   H.contains(svg, "unknown: the backup listing failed</title>")
   H.not_contains(svg, "no backup</title>")
   local row = html_svg.calendar_row(some, "n6", "c-1", "error")
   H.eq(count(row, '<td class="unknown">?'), 3)
   H.not_contains(row, "\226\156\151")    -- ✗
   H.contains(assets.CSS, ".d.unknown{")
   H.contains(assets.CSS, ".cal td.unknown{")
end)

H.test("timeline: days are local days of the zone, 23- and 25-hour days included", function()
   local berlin = assert(tz.zone("Europe/Berlin"))
   -- 2026-03-29 is 23 hours long in Berlin (clocks go forward at 02:00).
   local now = 1774958400                      -- 2026-03-31T12:00:00Z
   local w = timeline.window(now, 4, berlin)
   H.eq(w.day[1].date, "2026-03-28")
   H.eq(w.day[2].stop - w.day[2].start, 23 * 3600)
   H.eq(w.day[1].start, 1774652400)            -- 2026-03-28T00:00+01:00
   -- noon local on the short day sits in the middle of its cell... of 23 hours
   local t = w.day[2].start + 11.5 * 3600
   H.ok(math.abs(timeline.position(w, t) - 1.5) < 1e-9, "position in a 23-hour day")
   H.eq(timeline.position(w, w.start - 1), nil)
   H.raises(nil, timeline.window, now, 0)
   H.raises(nil, timeline.window, "now", 3)
end)

H.test("terminal strips: plain characters, colour only when asked, no control characters", function()
   local results = {
      { engine = "postgresql", id = "c1", cluster = { id = "c1", name = "orders\27[2J", created = 0 },
        backups = { backup("a", NOW - 3600), backup("b", NOW - 2 * DAY), backup("c", NOW - 600,
           { status = "CREATING" }) } },
      { engine = "mysql", id = "c2", cluster = { id = "c2", name = "pay" }, backups = {}, error = "network: reset\n" },
      { engine = "redis", error = "listing clusters failed" },
   }
   local plain = strip.rows(results, { now = NOW, days = 5 })
   H.not_contains(plain, "\27")
   H.contains(plain, "orders?[2J")
   -- 12-01..12-05: no record before the oldest backup (12-03), none on 12-04, one today
   -- (the strip's column as wide as its title "5 DAYS": one blank more)
   H.contains(plain, "  #.#   newest 1h 0m ago, 1 missing, 1 in progress")
   H.contains(plain, "listing failed: network: reset?")
   H.contains(plain, "(clusters)")
   H.contains(plain, strip.LEGEND)
   local lines = {}
   for l in plain:gmatch("[^\n]+") do lines[#lines + 1] = l end
   H.eq(#lines, 5)
   -- one aligned table (mdb.aligned): every row's last column starts under NEWEST,
   -- also when the strip is coloured or narrower than its title
   local colour = strip.rows(results, { now = NOW, days = 5, color = true })
   for _, text in ipairs { plain, colour } do
      local rows = {}
      for l in text:gsub("\27%[[%d;]*m", ""):gmatch("[^\n]+") do rows[#rows + 1] = l end
      local at = utf8.len(rows[1]:sub(1, rows[1]:find("NEWEST", 1, true) - 1))
      for i = 2, 4 do
         local last = rows[i]:find(i == 2 and "newest" or "listing", 1, true)
         H.eq(utf8.len(rows[i]:sub(1, last - 1)), at, "row " .. i .. " under NEWEST: " .. rows[i])
      end
   end
   H.contains(colour, "\27[32m")
   H.contains(colour, "\27[0m")
   H.not_contains(colour, "\27[2J")
   -- the prompt's strip under a table of one cluster's backups
   local one = strip.of_backups(results[1].backups, { now = NOW, days = 14 })
   H.contains(one, "last 14 days: ")
   H.eq(one:match("last 14 days: (.-)  %("), (" "):rep(11) .. "#.#")
end)

-- Scan results of `n` clusters with a daily backup each, the first
-- `bad` of them with a gap, names as given.
local function fleet(n, opts)
   opts = opts or {}
   local results = {}
   for i = 1, n do
      local id = string.format("c9qfleet%07d", i)
      local backups = {}
      for d = 0, (opts.backups or 30) - 1 do
         if not (i <= (opts.bad or 0) and d == 3) then
            backups[#backups + 1] = { id = id .. ":" .. d, engine = "postgresql", sourceClusterId = id,
               created = NOW - 3600 - d * DAY, size = 5 * 2 ^ 30 // 1 + d, type = d % 7 == 0 and "MANUAL" or "AUTOMATED",
               status = "DONE" }
         end
      end
      results[i] = { engine = "postgresql", id = id, cluster = { id = id, name = (opts.names and opts.names[i])
         or ("db-" .. i), created = NOW - 400 * DAY, config = { backupRetainPeriodDays = "30" } },
         backups = backups }
   end
   return results
end

-- No tag of the page carries an event handler attribute (text may well
-- say "onerror=": it is escaped text, not a tag).
local function no_handlers(page)
   for tag in page:gmatch("<[^>]*>") do
      local names = tag:gsub('"[^"]*"', '""')
      H.ok(not names:find("%son%a+%s*="), "event handler attribute in " .. tag)
   end
end

local function findings_for(results)
   local audit = require "mdb.audit"
   return audit.run(results, nil, { now = NOW })
end

H.test("page: CSP meta first, hashes match the inline style and script, nothing external", function()
   local results = fleet(3, { bad = 1 })
   local page = html.audit(findings_for(results), results, { now = NOW, scope = { folder = "b1g" } })
   H.ok(page:find("^<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf%-8\">\n<meta http%-equiv=\"Content%-Security%-Policy\""),
      "charset then CSP open the head")
   local csp = page:match('http%-equiv="Content%-Security%-Policy" content="([^"]*)"'):gsub("&#39;", "'")
   H.contains(csp, "default-src 'none'")
   H.contains(csp, "require-trusted-types-for 'script'; trusted-types 'none'")
   local style = page:match("<style>(.-)</style>")
   local script = page:match("<script>(.-)</script>")
   H.eq(style, assets.CSS)
   H.eq(script, assets.JS)
   H.contains(csp, "style-src " .. sha256.csp_source(style) .. ";")
   H.contains(csp, "script-src " .. sha256.csp_source(script) .. ";")
   H.eq(count(page, "<script"), 1)
   H.eq(count(page, "<style"), 1)
   H.not_contains(page, " style=")
   no_handlers(page)
   H.ok(not page:find("https?:"), "no URL with a scheme")
   H.ok(not page:find("[\"' ]src="), "no src attribute")
   for ref in page:gmatch('href="([^"]*)"') do
      H.ok(ref:sub(1, 1) == "#", "only same-page links: " .. ref)
   end
   H.ok(not page:find("@import") and not page:find("url%("), "no CSS fetch")
   H.contains(assets.CSS, "prefers-color-scheme:dark")
   H.contains(assets.CSS, "@media print")
end)

H.test("page: hostile names, ids, types and statuses are escaped everywhere", function()
   local results = fleet(#HOSTILE, { names = HOSTILE, backups = 3 })
   for i, r in ipairs(results) do
      r.backups[1].id = HOSTILE[i]
      r.backups[2].type = HOSTILE[i]
      r.backups[3].status = HOSTILE[(i % #HOSTILE) + 1]
   end
   results[#results + 1] = { engine = "mysql", id = HOSTILE[1], cluster = { id = HOSTILE[1], name = HOSTILE[2] },
      backups = {}, error = HOSTILE[3] }
   results[#results + 1] = { engine = "redis", error = HOSTILE[4] }
   local findings = findings_for(results)
   findings[#findings + 1] = { check = HOSTILE[5], status = "critical", engine = "mysql", cluster = HOSTILE[1],
      cluster_name = HOSTILE[2], message = HOSTILE[6] }
   for _, page in ipairs { html.audit(findings, results, { now = NOW, scope = { folder = HOSTILE[1],
      engines = { HOSTILE[2] }, policy = HOSTILE[3] }, title = HOSTILE[4] }),
      html.inventory(results, { now = NOW }) } do
      H.ok(utf8.len(page), "valid UTF-8")
      H.eq(count(page, "<script"), 1)
      H.eq(count(page, "<style"), 1)
      H.eq(count(page, "</script"), 1)
      for _, tag in ipairs { "<img", "<iframe", "<svg onload", "<!--" } do H.not_contains(page, tag) end
      no_handlers(page)
      H.ok(not page:find("[%z\1-\8\11\12\14-\31\127]"), "no control characters")
      H.contains(page, "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;")
   end
end)

H.test("page: worst first, counts, marks per cluster, collapse of healthy clusters", function()
   local results = fleet(60, { bad = 2 })
   local page = html.audit(findings_for(results), results, { now = NOW, days = 30 })
   -- sections in order: the two with a gap (warning) first
   local sections = {}
   for st, backups in page:gmatch('<section class="cl fi (%a+)".-data%-backups="(%d+)"') do
      sections[#sections + 1] = { st, tonumber(backups) }
   end
   H.eq(#sections, 60)
   H.eq(sections[1][1], "warning"); H.eq(sections[2][1], "warning"); H.eq(sections[3][1], "ok")
   -- every backup in the window is a mark: 30 days back from 11:00 today, one a day, minus a gap
   H.eq(sections[1][2], 29); H.eq(sections[3][2], 30)
   H.eq(count(page, '<rect class="mk '), 2 * 29 + 58 * 30 + 4)  -- + the legend's four samples
   -- 58 ok clusters > 50: folded into <details>, in the calendar too
   H.eq(count(page, '<details class="many">'), 2)
   H.contains(page, "58 clusters with every finding ok")
   H.contains(page, '<li data-count="warning" data-n="')
   local small = html.audit(findings_for(fleet(3)), fleet(3), { now = NOW })
   H.eq(count(small, '<details class="many">'), 0)
   H.contains(small, "Every check passed on every cluster.")
end)

H.test("page: inventory statuses, failed listings and the optional history", function()
   local results = fleet(2, { bad = 1 })
   results[#results + 1] = { engine = "redis", error = "listing clusters failed: 503" }
   local history = { ["postgresql/" .. results[2].id] = {
      sizes = { { t = NOW - 80 * DAY, bytes = 100 }, { t = NOW - 40 * DAY, bytes = 300 }, { t = NOW - DAY, bytes = 200 } },
      vanished = { { id = "gone-1", created = NOW - 5 * DAY - 7200, gone = NOW - DAY, verdict = "unexpected",
         message = "a manual backup vanished" },
         { id = "old-1", created = NOW - 20 * DAY, gone = NOW - 2 * DAY, verdict = "expected",
            message = "expired by its 7-day retention" },
         { id = "older", created = NOW - 60 * DAY, gone = NOW - 50 * DAY, verdict = "expected" } },
   }, ["postgresql/" .. results[1].id] = { sizes = { { t = NOW - DAY, bytes = 5 * 2 ^ 30 // 1 } }, vanished = {} } }
   local page = html.inventory(results, { now = NOW, history = history })
   H.contains(page, 'data-status="warning"')      -- a day without a backup
   H.contains(page, '<li data-clusters="warning" data-n="1">')
   H.contains(page, '<li data-clusters="ok" data-n="1">')
   H.contains(page, "<h2 id=\"failed\">Failed listings</h2>")
   H.contains(page, "listing clusters failed: 503")
   H.eq(count(page, '<svg class="hs"'), 1)
   H.contains(page, "Total size of backups over 90 days: 100 B on ")
   H.contains(page, '<figcaption>Total size of backups over 90 days: 100 B on ')
   -- vanished: a distinct mark per verdict at its creation (the one from
   -- before the window only in the list), titled with when and the verdict
   H.eq(count(page, '<rect class="vx u"'), 1 + 1)   -- + the legend's sample
   H.eq(count(page, '<rect class="vx e"'), 1 + 1)
   H.contains(page, "<title>vanished: gone-1, created 2026-11-30 10:00:00Z, gone by 2026-12-04 12:00:00Z; "
      .. "unexpected: a manual backup vanished</title>")
   H.contains(page, "; expected: expired by its 7-day retention</title>")
   H.contains(page, "<summary>3 backups vanished in 90 days</summary>")
   H.contains(page, '<details class="vl" open>')
   H.contains(page, "<code>gone-1</code>")
   H.contains(page, "<code>older</code>")
   H.contains(page, "vanished unexpectedly</li>")
   -- one day of history: the size as text, no chart
   H.contains(page, "Total size of backups: 5.0 GiB on 2026-12-04 (one day of history so far)")
   -- without history: no legend entry, no chart
   local plain = html.inventory(results, { now = NOW })
   H.not_contains(plain, '<rect class="vx')
   H.not_contains(plain, 'class="hs')
   H.raises(nil, html.page, { results = results, bogus = 1 })
   H.raises(nil, html.page, { now = NOW })
end)

H.test("big fleet: 10,000 clusters with 30 backups each stay under 25 MB", function()
   local results = fleet(10000, { bad = 100 })
   local t0 = os.clock()
   local page = html.audit(findings_for(results), results, { now = NOW })
   local secs = os.clock() - t0
   io.stderr:write(string.format("10,000 clusters: %.1f MB in %.2f s\n", #page / 1e6, secs))
   H.ok(#page < 25e6, "under 25 MB: " .. #page)
   H.eq(count(page, '<section class="cl'), 10000)
   H.contains(page, '<p id="summary">10,000 clusters (100 warning, 9,900 ok); 299,900 backups in the last 30 days.</p>')
   H.eq(count(page, '<rect class="mk '), 100 * 29 + 9900 * 30 + 4)
   H.ok(secs < 30, "rendered in " .. secs .. " s")
end)

-- The scripts' hooks, through the real mdblua against the demo fleet.
local NOW_TEXT = "2026-12-05T12:00:00Z"
local PTYDRIVE = (os.getenv("MDB_BUILD_DIR") or ".") .. "/tests/tools/ptydrive"

local function demo_env(server, extra)
   return H.script_env(server, "b1gdemofolder0000001", extra)
end

local script = H.script

-- Run a script on a pseudo-terminal (ptydrive); returns its transcript.
local function on_terminal(args, env)
   local steps = H.write_file(H.tmpname(".pty"), "wait\n")
   local transcript = H.tmpname(".transcript")
   local argv = { "-t", "20", "-c", "200", "-s", steps, "-o", transcript, "--", H.mdblua }
   for _, a in ipairs(args) do argv[#argv + 1] = a end
   local r = H.run(argv, { program = PTYDRIVE, env = env })
   r.out = (H.read_file(transcript) or ""):gsub("\r", "")
   return r
end

H.test("inventory.lua --timeline: a row per cluster; colour on a terminal only, never with NO_COLOR", function()
   local server = H.start_fake { "--demo", "--now", NOW_TEXT }
   local args = { script("inventory.lua"), "--timeline", "--now", NOW_TEXT }
   local r = H.run(args, { env = demo_env(server, { TERM = "xterm", NO_COLOR = false }) })
   H.eq(r.code, 0, r.stderr)
   H.not_contains(r.stdout, "\27", "piped: plain characters")
   local rows = {}
   for l in r.stdout:gmatch("[^\n]+") do rows[#rows + 1] = l end
   H.eq(#rows, 12, r.stdout)                 -- header, 10 clusters, legend
   H.ok(rows[1]:match("^ENGINE +CLUSTER +14 DAYS +NEWEST$"), rows[1])
   H.contains(r.stdout, "events-archive   ###########..-  newest 3d 1h ago, 2 missing")
   H.contains(r.stdout, "inventory-prod   #########.#.##  newest 3h 57m ago, 2 missing")
   H.contains(r.stdout, "billing-prod     #############~  newest 1d 8h ago, 1 in progress")
   local wide = H.run({ script("inventory.lua"), "--timeline", "--days", "30", "--now", NOW_TEXT },
      { env = demo_env(server) })
   H.contains(wide.stdout, "30 DAYS")
   H.contains(wide.stdout, "30 days to 2026-12-05 (UTC)")

   local tty = on_terminal(args, demo_env(server, { TERM = "xterm", NO_COLOR = false }))
   H.eq(tty.code, 0, tty.out)
   H.contains(tty.out, "\27[32m", "coloured on a terminal")
   H.contains(tty.out, "events-archive")
   for _, env in ipairs { { TERM = "xterm", NO_COLOR = "1" }, { TERM = "dumb", NO_COLOR = false } } do
      local plain = on_terminal(args, demo_env(server, env))
      H.eq(plain.code, 0, plain.out)
      -- (scan progress on the terminal's stderr uses \27[K; colours are SGR "m" sequences)
      H.ok(not plain.out:find("\27%[[%d;]*m"), "NO_COLOR or TERM=dumb: no colour")
      H.contains(plain.out, "###########..-")
   end
   -- with --output the file gets plain characters, even from a terminal
   local out = H.tmpname(".txt")
   local f = on_terminal({ script("inventory.lua"), "--timeline", "--now", NOW_TEXT, "--output", out },
      demo_env(server, { TERM = "xterm", NO_COLOR = false }))
   H.eq(f.code, 0, f.out)
   H.not_contains(H.read_file(out), "\27")
end)

H.test("--format html: written atomically with --output, nothing on stdout; bad --days is a usage error", function()
   local server = H.start_fake { "--demo", "--now", NOW_TEXT }
   local out = H.tmpname(".html")
   H.write_file(out, "the previous report")
   for _, c in ipairs { { "audit.lua", 1 }, { "inventory.lua", 0 } } do
      local r = H.run({ script(c[1]), "--format", "html", "--output", out, "--now", NOW_TEXT, "--days", "14" },
         { env = demo_env(server) })
      H.eq(r.code, c[2], r.stderr)
      H.eq(r.stdout, "")
      local page = H.read_file(out)
      H.ok(page:find("^<!DOCTYPE html>"), c[1])
      H.contains(page, "14 days, 2026-11-22 to 2026-12-05 (UTC)")
      H.contains(page, 'data-cluster="c9qeventsarchive0004"')
      H.ok(page:find("</html>\n$"), "complete")
   end
   -- an unwritable --output keeps exit 2 and leaves no partial file
   local r = H.run({ script("audit.lua"), "--format", "html", "--output", "/nonexistent-dir/r.html", "--now", NOW_TEXT },
      { env = demo_env(server) })
   H.eq(r.code, 2)
   H.contains(r.stderr, "cannot write /nonexistent-dir/r.html")
   -- to stdout without --output
   local s = H.run({ script("inventory.lua"), "--format", "html", "--now", NOW_TEXT }, { env = demo_env(server) })
   H.eq(s.code, 0, s.stderr)
   H.ok(s.stdout:find("^<!DOCTYPE html>"))
   for _, bad in ipairs { "0", "367", "x", "-3" } do
      local u = H.run({ script("inventory.lua"), "--timeline", "--days", bad }, { env = demo_env(server) })
      H.eq(u.code, 2, bad)
      H.contains(u.stderr, "option '--days': expected a whole number of days, 1..366: " .. bad)
   end
   local u = H.run({ script("audit.lua"), "--format", "htm" }, { env = demo_env(server) })
   H.eq(u.code, 2)
   H.contains(u.stderr, "nagios, html, got 'htm'")
end)

-- A cluster's section of a page, by cluster id.
local function section_of(page, id)
   return page:match('<section class="cl fi [^"]*" id="c%-%d+" data%-cluster="' .. id:gsub("%p", "%%%0")
      .. '".-</section>')
end

H.test("a cluster whose backup listing fails: its days are unknown in the strips, the cards and the calendar", function()
   -- redis-0000's backups answer 403; both clusters were created 11-27 12:00, a backup a day since 11-28 12:00
   local server = H.start_fake { "--generate", "engine=redis,clusters=2,backups=8", "--now", NOW_TEXT,
      "--fault", "path=redis-0000/backups;status=403;times=0" }
   local env = { YC_MDB_ENDPOINT = server.url, YC_IAM_TOKEN = H.token, YC_FOLDER_ID = "b1gfakefolder0000001" }
   local r = H.run({ script("inventory.lua"), "--engine", "redis", "--timeline", "--now", NOW_TEXT }, { env = env })
   H.contains(r.stderr, "credis-0000: http error: Permission denied")
   -- 11-22..11-26 before the cluster existed; the rest unknown, today included
   H.ok(r.stdout:find("\nredis +redis%-0000 +     %?%?%?%?%?%?%?%?%?  listing failed: http error: Permission denied"),
      r.stdout)
   H.ok(r.stdout:find("\nredis +redis%-0001 +      ########  newest 0s ago\n"), r.stdout)
   H.contains(r.stdout, strip.LEGEND .. "  " .. strip.LEGEND_UNKNOWN .. "\n")
   for _, c in ipairs { "audit.lua", "inventory.lua" } do
      local out = H.tmpname(".html")
      local h = H.run({ script(c), "--engine", "redis", "--format", "html", "--output", out, "--now", NOW_TEXT },
         { env = env })
      H.contains(h.stderr, "credis-0000: http error: Permission denied", c)
      local page = H.read_file(out)
      local failed, fine = section_of(page, "credis-0000"), section_of(page, "credis-0001")
      H.ok(failed and fine, c .. ": both clusters")
      H.contains(failed, '<p class="facts">0 backups seen in 30 days · <strong>9 days unknown</strong> '
         .. "(the listing failed) · <strong>no completed backup seen</strong></p>", c)
      H.not_contains(failed, "without a backup", c)
      H.not_contains(failed, '<rect class="d missing"', c)
      H.eq(count(failed, '<rect class="d unknown"'), 9, c)
      H.contains(fine, "no day without a backup", c)
      -- the calendar row: no ✗ (none), a ? for each unknown day
      local row = page:match('<tr class="fi" data%-status="error"><th scope="row"><a href="#c%-%d+">redis%-0000 .-</tr>')
      H.ok(row, c .. ": the failed cluster's calendar row")
      H.not_contains(row, "\226\156\151", c)
      H.not_contains(row, 'class="missing"', c)
      H.eq(count(row, '<td class="unknown">?'), 9, c)
      H.contains(page, "unknown: the cluster's backup listing failed</li>", c .. ": in the legend")
      H.contains(page, "? unknown (the listing failed), blank: no record</caption>", c)
   end
end)

H.test("audit.lua and inventory.lua --db: each cluster's size over 90 days, vanished backups on its strip", function()
   local HF = require "history_fleet"
   local db = HF.record(H)                        -- scans at NOW-3d, -2d, -1d
   local server = HF.serve(H, HF.NOW)             -- the live fleet: A's backup of 12-03 is gone
   local env = HF.env(H, server)
   local manual = "vanished: " .. HF.A .. ":manual-1, created 2026-11-30 02:00:00Z, gone by 2026-12-04 12:00:00Z; "
      .. "unexpected: a manual backup vanished"
   local live = "vanished: " .. HF.A .. ":auto-2026-12-03T01:00:00Z, created 2026-12-03 01:00:00Z, "
      .. "gone by 2026-12-05 12:00:00Z; unexpected: vanished "
   for _, c in ipairs { { "audit.lua", 1 }, { "inventory.lua", 0 } } do
      local out = H.tmpname(".html")
      local r = H.run({ script(c[1]), "--db", db, "--format", "html", "--output", out, "--now", NOW_TEXT,
         "--engine", "postgresql" }, { env = env })
      H.eq(r.code, c[2], c[1] .. ": " .. r.stderr)
      local page = H.read_file(out)
      local a, b = section_of(page, HF.A), section_of(page, HF.B)
      H.ok(a and b, c[1] .. ": both clusters")
      for _, sec in ipairs { a, b } do
         H.eq(count(sec, '<svg class="hs"'), 1, c[1] .. ": a size chart per cluster")
         H.contains(sec, "<figcaption>Total size of backups over 90 days: ")
      end
      -- 12-02 (scan 1, 7 backups of 1.9..2.5 GB) to today (the live scan)
      H.contains(a, "over 90 days: 27 GiB on 2026-12-02, 21 GiB on 2026-12-05")
      -- A: the manual backup deleted after scan 2 and, in this very scan,
      -- the automated one of 12-03 (the page reads the scan's own
      -- rolled-back recording); three expired ones, as expected
      H.contains(a, '<rect class="vx u" x="576.5"><title>' .. manual .. "</title>")
      H.contains(a, '<rect class="vx u" x="647.5"><title>' .. live)
      H.eq(count(a, '<rect class="vx e"'), 3)
      H.contains(a, "<summary>5 backups vanished in 90 days</summary>")
      H.eq(count(b, '<rect class="vx u"'), 0)
      H.eq(count(b, '<rect class="vx e"'), 3)
      H.contains(page, "vanished unexpectedly</li>")
      -- and nothing was written to the history file
      local j = cjson.decode(H.run({ script("changes.lua"), "--db", db, "--format", "json" }).stdout)
      H.eq(j.to.id, 3, "still three scans")
      -- without --db: neither chart nor vanished marks
      local plain = H.run({ script(c[1]), "--format", "html", "--now", NOW_TEXT, "--engine", "postgresql" },
         { env = env })
      H.eq(plain.code, c[2])
      H.not_contains(plain.stdout, '<svg class="hs"')
      H.not_contains(plain.stdout, '<rect class="vx')
   end
   -- --from: the history as the recorded scan saw it (the live deletion unknown)
   local r = H.run({ script("audit.lua"), "--from", db, "--format", "html", "--engine", "postgresql" })
   H.ok(r.code == 1, r.stderr)
   local a = section_of(r.stdout, HF.A)
   H.contains(a, manual)
   H.not_contains(a, live)
   H.contains(a, "over 90 days: 27 GiB on 2026-12-02, ")
   -- inventory's --db is for the page only
   local u = H.run({ script("inventory.lua"), "--db", db }, { env = env })
   H.eq(u.code, 2)
   H.contains(u.stderr, "--db is read by --format html only")
end)

H.test("the prompt: a table of one cluster's backups ends with its strip", function()
   local server = H.start_fake { "--demo" }
   local steps = H.write_file(H.tmpname(".pty"), table.concat({
      "expect > ",
      "send bs = collect(client:backups { engine = 'mysql', cluster = 'c9qinventoryprod0005' })\\r",
      "expect > ",
      "send bs\\r",
      "expect mysql backups of cluster c9qinventoryprod0005",
      "send \\x04",
      "wait",
   }, "\n") .. "\n")
   for _, env in ipairs { { NO_COLOR = false }, { NO_COLOR = "1" } } do
      local transcript = H.tmpname(".transcript")
      local r = H.run({ "-t", "20", "-s", steps, "-o", transcript, "--", H.mdblua }, { program = PTYDRIVE,
         env = demo_env(server, { TERM = "xterm", HOME = H.tmp, NO_COLOR = env.NO_COLOR, MDBLUA_HISTORY = "/dev/null" }) })
      local out = (H.read_file(transcript) or ""):gsub("\r", "")
      H.eq(r.code, 0, out)
      H.contains(out, "last 14 days: ")
      -- The demo's times follow the clock, so the strip expected is drawn
      -- from the table printed above it: a UTC day with a backup, without
      -- one, today without one yet (whether the first day has a backup
      -- depends on the hour the test runs).
      local cell = env.NO_COLOR and { "#", ".", "-" } or { "\27[32m█", "\27[31m░", "\27[2m·" }
      local days = {}
      for day in out:gmatch("\n *%d+  %S+%s+(%d%d%d%d%-%d%d%-%d%d) ") do days[day] = true end
      local now, want = os.time(), {}
      for i = 13, 0, -1 do
         local day = os.date("!%Y-%m-%d", now - i * 86400)
         want[#want + 1] = days[day] and cell[1] or (i == 0 and cell[3] or cell[2])
      end
      H.contains(out, "last 14 days: " .. table.concat(want) .. (env.NO_COLOR and "  (" or "\27[0m  ("))
   end
end)

H.test("tools/demo.sh ends by writing the demo fleet's HTML report and saying where it is", function()
   local build = assert(os.getenv("MDB_BUILD_DIR"), "MDB_BUILD_DIR is not set")
   local r = H.run({ H.source_dir .. "/tools/demo.sh", build }, { program = "sh", cwd = H.source_dir })
   H.eq(r.code, 0, r.stderr)
   local path = r.stdout:match("\nThe HTML report of the demo fleet is in (/%S+%.html) %(open it in a browser; it loads nothing%)%.\n$")
   H.ok(path, "the last line names the report: " .. r.stdout:sub(-300))
   local page = H.read_file(path)
   H.ok(page and page:find("^<!DOCTYPE html>"), path)
   H.eq(count(page, '<section class="cl'), 10)
   H.contains(page, "billing-prod")
   -- and the changes between its two scans as a page
   local changes = r.stdout:match("\nThe same changes as a page: (/%S+%.html)\n")
   H.ok(changes, "the changes page is named")
   local cp = H.read_file(changes)
   H.ok(cp and cp:find("^<!DOCTYPE html>"), changes)
   H.contains(cp, "<h1>Backup changes</h1>")
   H.contains(cp, 'data-kind="cluster_vanished"')
   H.contains(cp, "a manual backup vanished")
end)

H.run_all()
