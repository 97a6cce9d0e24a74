-- mdb.retention (GFS plans, restic `forget` semantics), mdb.duration and
-- mdb.tz, on hand-worked backup histories.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local mdb = require "mdb"
local retention = require "mdb.retention"
local duration = require "mdb.duration"
local tz = require "mdb.tz"

local function T(s) return assert(mdb.parse_time(s), s) end

-- Backups named by id, created at the given RFC 3339 times (any order).
local function history(spec)
   local list = {}
   for i, s in ipairs(spec) do
      local id, t, extra = s[1], s[2], s[3]
      local b = { id = id, created = T(t), type = "AUTOMATED" }
      for k, v in pairs(extra or {}) do b[k] = v end
      list[i] = b
   end
   return list
end

-- { {id, {reasons...}}, ... } and { id, ... } of a plan.
local function summary(plan)
   local keep, expire = {}, {}
   for i, e in ipairs(plan.keep) do keep[i] = { e.backup.id, e.reasons } end
   for i, e in ipairs(plan.expire) do
      expire[i] = e.backup.id
      H.eq(e.reasons, {}, "expired entries have no reasons")
   end
   return keep, expire
end

local function check(plan, keep, expire)
   local k, e = summary(plan)
   H.eq(k, keep, "keep")
   H.eq(e, expire, "expire")
end

---------------------------------------------------------------------------
-- durations and zones

H.test("duration.parse: exact units, each once; clear messages for bad text", function()
   H.eq(duration.parse("26h"), 93600)
   H.eq(duration.parse("1d12h"), 129600)
   H.eq(duration.parse("12h1d"), 129600)
   H.eq(duration.parse("90m"), 5400)
   H.eq(duration.parse("2w"), 1209600)
   H.eq(duration.parse("1h30m15s"), 5415)
   local cases = {
      { "", 'bad duration "": empty (use w, d, h, m, s, e.g. 26h or 1d12h)' },
      { "26", 'bad duration "26": missing unit after 26 (use w, d, h, m, s, e.g. 26h or 1d12h)' },
      { "h", 'bad duration "h": expected a number before "h"' },
      { "26hh", 'bad duration "26hh": expected a number before "h"' },
      { "1h1h", 'bad duration "1h1h": unit "h" given twice' },
      { "3y", 'bad duration "3y": unknown unit "y" (use w, d, h, m, s, e.g. 26h or 1d12h)' },
      { "1.5h", 'bad duration "1.5h": unexpected "." (use w, d, h, m, s, e.g. 26h or 1d12h)' },
      { "-5h", 'bad duration "-5h": unexpected "-" (use w, d, h, m, s, e.g. 26h or 1d12h)' },
      { "5 h", 'bad duration "5 h": unexpected " " (use w, d, h, m, s, e.g. 26h or 1d12h)' },
   }
   for _, c in ipairs(cases) do
      local v, err = duration.parse(c[1])
      H.eq(v, nil, c[1])
      H.eq(err, c[2])
   end
   local err = H.raises(nil, duration.parse, 26)
   H.contains(err, "bad argument #1 to 'parse' (string expected, got number)")
   H.eq(duration.format(93600), "26h")
   H.eq(duration.format(604800), "7d")
   H.eq(duration.format(5400), "90m")
   H.eq(duration.format(61), "61s")
end)

H.test("duration.parse_calendar: restic units y, m (months), d, h", function()
   H.eq(duration.parse_calendar("1y2m3d4h"), { years = 1, months = 2, days = 3, hours = 4 })
   H.eq(duration.parse_calendar("4h1y"), { years = 1, months = 0, days = 0, hours = 4 })
   H.eq(duration.format_calendar(duration.parse_calendar("4h3d2m1y")), "1y2m3d4h")
   H.eq(duration.format_calendar({ years = 0, months = 0, days = 0, hours = 0 }), "0h")
   local v, err = duration.parse_calendar("2w")
   H.eq(v, nil)
   H.eq(err, 'bad duration "2w": unknown unit "w" (use y, m (months), d, h, e.g. 1y2m3d4h)')
   local _, err2 = duration.parse_calendar("1m1m")
   H.eq(err2, 'bad duration "1m1m": unit "m" given twice')
end)

H.test("tz: ISO weeks at year boundaries", function()
   local cases = {
      { 2020, 12, 31, 2020, 53 }, { 2021, 1, 3, 2020, 53 }, { 2021, 1, 4, 2021, 1 },
      { 2024, 12, 30, 2025, 1 }, { 2026, 12, 28, 2026, 53 }, { 2027, 1, 3, 2026, 53 },
      { 2027, 1, 4, 2027, 1 }, { 2008, 12, 29, 2009, 1 }, { 2010, 1, 3, 2009, 53 },
      { 2025, 12, 28, 2025, 52 }, { 2025, 12, 29, 2026, 1 },
   }
   for _, c in ipairs(cases) do
      local y, w = tz.iso_week(c[1], c[2], c[3])
      H.eq({ y, w }, { c[4], c[5] }, string.format("%d-%02d-%02d", c[1], c[2], c[3]))
   end
end)

H.test("tz: fixed offsets, POSIX rules with DST, bad specs", function()
   local z = assert(tz.zone("+03:00"))
   local c = z:civil(T("2026-03-10T22:30:00Z"))
   H.eq({ c.year, c.month, c.day, c.hour, c.min, c.wday }, { 2026, 3, 11, 1, 30, 3 })
   H.eq(assert(tz.zone("-0530")):offset(0), -19800)
   H.eq(assert(tz.zone("+05")):offset(0), 18000)
   H.eq(assert(tz.zone("Z")):offset(0), 0)
   H.eq(assert(tz.zone()).name, "UTC")
   -- Central European time: DST from the last Sunday of March 01:00Z to
   -- the last Sunday of October 01:00Z.
   local cet = assert(tz.zone("CET-1CEST,M3.5.0,M10.5.0/3"))
   H.eq(cet:offset(T("2026-03-29T00:59:59Z")), 3600)
   H.eq(cet:offset(T("2026-03-29T01:00:00Z")), 7200)
   H.eq(cet:offset(T("2026-10-25T00:59:59Z")), 7200)
   H.eq(cet:offset(T("2026-10-25T01:00:00Z")), 3600)
   -- Southern hemisphere (DST across the new year): Australia/Sydney.
   local syd = assert(tz.zone("AEST-10AEDT,M10.1.0,M4.1.0/3"))
   H.eq(syd:offset(T("2026-01-15T00:00:00Z")), 39600)
   H.eq(syd:offset(T("2026-06-15T00:00:00Z")), 36000)
   H.eq(cet:from_civil(2026, 3, 30, 0, 30, 0), T("2026-03-29T22:30:00Z"))
   local v, err = tz.zone("+25:00")
   H.eq(v, nil)
   H.eq(err, 'bad time zone "+25:00": expected an offset like +03:00 or -05:30')
   v, err = tz.zone("Mars/Olympus_Mons")
   H.eq(v, nil)
   H.contains(err, 'unknown time zone "Mars/Olympus_Mons" (no ')
   v, err = tz.zone("CET-1CEST,M13.5.0,M10.5.0")
   H.eq(v, nil)
   H.contains(err, 'bad time zone "CET-1CEST,M13.5.0,M10.5.0"')
   H.raises(nil, tz.zone, 3)
   -- POSIX reads UTC+7 as seven hours west: refused, with the offset to write
   v, err = tz.zone("UTC+7")
   H.eq({ v, err }, { nil, 'ambiguous time zone "UTC+7": as a POSIX TZ rule it means UTC-07:00; '
      .. "write the offset instead, e.g. +07:00" })
   H.contains(select(2, tz.zone("gmt-5:30")), "e.g. -05:30")
   -- zones with a fixed offset say which one it is
   H.eq(assert(tz.zone("EST5")).name, "EST5, UTC-05:00")
   H.eq(assert(tz.zone("Etc/GMT+7")).name, "Etc/GMT+7, UTC-07:00")
   H.eq(assert(tz.zone("Etc/GMT+7")):offset(0), -25200)
end)

H.test("tz: IANA names from the system's zoneinfo agree with the POSIX rule", function()
   local f = io.open((os.getenv("TZDIR") or "/usr/share/zoneinfo") .. "/Europe/Berlin", "rb")
   if not f then
      print("  (skipped: no tzdata installed)")
      return
   end
   f:close()
   local berlin = assert(tz.zone("Europe/Berlin"))
   local cet = assert(tz.zone("CET-1CEST,M3.5.0,M10.5.0/3"))
   -- every 5 hours through 2026 and 2040 (past the file's table, into its footer rule)
   for _, year in ipairs({ 2026, 2040 }) do
      local t0 = T(string.format("%d-01-01T00:00:00Z", year))
      for t = t0, t0 + 366 * 86400, 5 * 3600 do
         H.eq(berlin:offset(t), cet:offset(t), os.date("!%c", t))
      end
   end
   -- history: Berlin had no DST in 1960
   H.eq(berlin:offset(T("1960-07-01T00:00:00Z")), 3600)
end)

---------------------------------------------------------------------------
-- plans: one rule at a time

H.test("empty policy keeps everything with reason 'policy is empty'", function()
   local list = history { { "b", "2026-01-02T10:00:00Z" }, { "a", "2026-01-01T10:00:00Z" } }
   check(retention.plan(list, {}), {
      { "b", { "policy is empty" } }, { "a", { "policy is empty" } } }, {})
   -- zero counts are an empty policy too, as in restic
   check(retention.plan(list, { daily = 0 }), {
      { "b", { "policy is empty" } }, { "a", { "policy is empty" } } }, {})
   check(retention.plan({}, { daily = 3 }), {}, {})
end)

H.test("last: the N newest, whatever their times; input order does not matter", function()
   local list = history {
      { "c", "2026-01-03T10:00:00Z" }, { "e", "2026-01-05T10:00:00Z" }, { "a", "2026-01-01T10:00:00Z" },
      { "d", "2026-01-04T10:00:00Z" }, { "b", "2026-01-02T10:00:00Z" },
   }
   check(retention.plan(list, { last = 3 }), {
      { "e", { "last snapshot" } }, { "d", { "last snapshot" } }, { "c", { "last snapshot" } },
   }, { "b", "a" })
end)

H.test("hourly: the newest backup of each of the N newest hours", function()
   local list = history {
      { "h12", "2026-01-01T12:30:00Z" }, { "h11b", "2026-01-01T11:50:00Z" }, { "h11a", "2026-01-01T11:10:00Z" },
      { "h10", "2026-01-01T10:05:00Z" }, { "h08", "2026-01-01T08:59:59Z" },
   }
   check(retention.plan(list, { hourly = 3 }), {
      { "h12", { "hourly snapshot" } }, { "h11b", { "hourly snapshot" } }, { "h10", { "hourly snapshot" } },
   }, { "h11a", "h08" })
end)

H.test("daily: days without a backup do not count", function()
   local list = history {
      { "d7", "2026-01-07T22:00:00Z" }, { "d3", "2026-01-03T22:00:00Z" },
      { "d1b", "2026-01-01T23:59:59Z" }, { "d1a", "2026-01-01T00:00:00Z" },
      { "dec30", "2025-12-30T12:00:00Z" },
   }
   check(retention.plan(list, { daily = 3 }), {
      { "d7", { "daily snapshot" } }, { "d3", { "daily snapshot" } }, { "d1b", { "daily snapshot" } },
   }, { "d1a", "dec30" })
end)

H.test("unfilled count: the oldest backup is kept for the rule too", function()
   local list = history {
      { "d3", "2026-01-03T12:00:00Z" }, { "d2", "2026-01-02T12:00:00Z" },
      { "d1late", "2026-01-01T18:00:00Z" }, { "d1early", "2026-01-01T06:00:00Z" },
   }
   check(retention.plan(list, { daily = 5 }), {
      { "d3", { "daily snapshot" } }, { "d2", { "daily snapshot" } }, { "d1late", { "daily snapshot" } },
      { "d1early", { "oldest daily snapshot" } },
   }, {})
   -- once the count is used up, the oldest is not kept
   check(retention.plan(list, { daily = 3 }), {
      { "d3", { "daily snapshot" } }, { "d2", { "daily snapshot" } }, { "d1late", { "daily snapshot" } },
   }, { "d1early" })
   -- the oldest in a period of its own is a plain "daily snapshot"
   check(retention.plan(history { { "x", "2026-01-02T00:00:00Z" }, { "y", "2026-01-01T00:00:00Z" } },
      { daily = 7 }), { { "x", { "daily snapshot" } }, { "y", { "daily snapshot" } } }, {})
   -- "unlimited" never runs out, so the oldest is kept as well
   check(retention.plan(list, { daily = "unlimited" }), {
      { "d3", { "daily snapshot" } }, { "d2", { "daily snapshot" } }, { "d1late", { "daily snapshot" } },
      { "d1early", { "oldest daily snapshot" } },
   }, {})
end)

H.test("weekly: ISO weeks across the year boundary", function()
   local list = history {
      { "2027-01-04", "2027-01-04T10:00:00Z" },   -- Mon, 2027-W01
      { "2027-01-03", "2027-01-03T10:00:00Z" },   -- Sun, 2026-W53
      { "2026-12-28", "2026-12-28T10:00:00Z" },   -- Mon, 2026-W53
      { "2025-12-29", "2025-12-29T10:00:00Z" },   -- Mon, 2026-W01
      { "2025-12-28", "2025-12-28T10:00:00Z" },   -- Sun, 2025-W52
      { "2025-12-22", "2025-12-22T10:00:00Z" },   -- Mon, 2025-W52
   }
   check(retention.plan(list, { weekly = 4 }), {
      { "2027-01-04", { "weekly snapshot" } }, { "2027-01-03", { "weekly snapshot" } },
      { "2025-12-29", { "weekly snapshot" } }, { "2025-12-28", { "weekly snapshot" } },
   }, { "2026-12-28", "2025-12-22" })
   -- the same history by calendar year and month
   check(retention.plan(list, { yearly = 2 }), {
      { "2027-01-04", { "yearly snapshot" } }, { "2026-12-28", { "yearly snapshot" } },
   }, { "2027-01-03", "2025-12-29", "2025-12-28", "2025-12-22" })
   check(retention.plan(list, { monthly = 3 }), {
      { "2027-01-04", { "monthly snapshot" } }, { "2026-12-28", { "monthly snapshot" } },
      { "2025-12-29", { "monthly snapshot" } },
   }, { "2027-01-03", "2025-12-28", "2025-12-22" })
end)

H.test("monthly and yearly with counts left keep the oldest", function()
   local list = history {
      { "mar", "2026-03-15T00:00:00Z" }, { "feb2", "2026-02-20T00:00:00Z" }, { "feb1", "2026-02-01T00:00:00Z" },
      { "2025dec", "2025-12-31T23:00:00Z" }, { "2025jan", "2025-01-01T01:00:00Z" },
   }
   check(retention.plan(list, { monthly = 2, yearly = 5 }), {
      { "mar", { "monthly snapshot", "yearly snapshot" } },
      { "feb2", { "monthly snapshot" } },
      { "2025dec", { "yearly snapshot" } },
      { "2025jan", { "oldest yearly snapshot" } },
   }, { "feb1" })
end)

H.test("rules are ORed and reasons listed in rule order", function()
   local list = history {
      { "n", "2026-01-10T20:00:00Z" }, { "m", "2026-01-10T08:00:00Z" }, { "l", "2026-01-09T20:00:00Z" },
      { "k", "2026-01-02T20:00:00Z" }, { "j", "2025-12-20T20:00:00Z" },
   }
   check(retention.plan(list, { last = 2, daily = 2, weekly = 2, monthly = 1 }), {
      { "n", { "last snapshot", "daily snapshot", "weekly snapshot", "monthly snapshot" } },
      { "m", { "last snapshot" } },
      { "l", { "daily snapshot" } },
      { "k", { "weekly snapshot" } },
   }, { "j" })
end)

---------------------------------------------------------------------------
-- within rules

H.test("within: measured from the newest backup, not from now; calendar months as Go's AddDate", function()
   -- 2026-03-31 minus one month is "February 31", i.e. 3 March.
   local list = history {
      { "newest", "2026-03-31T12:00:00Z" },
      { "after", "2026-03-03T12:00:01Z" },
      { "at", "2026-03-03T12:00:00Z" },          -- exactly at the cut-off: not after it
      { "before", "2026-03-02T12:00:00Z" },
   }
   local plan = retention.plan(list, { within = "1m" }, { now = T("2030-01-01T00:00:00Z") })
   check(plan, { { "newest", { "within 1m" } }, { "after", { "within 1m" } } }, { "at", "before" })
   -- hours are subtracted after the calendar part: 1m2h is 3 March 10:00
   check(retention.plan(list, { within = "2h1m" }, { now = T("2030-01-01T00:00:00Z") }),
      { { "newest", { "within 1m2h" } }, { "after", { "within 1m2h" } }, { "at", { "within 1m2h" } } },
      { "before" })
end)

H.test("within ignores backups in the future when finding the newest", function()
   local now = T("2026-05-10T00:00:00Z")
   local list = history {
      { "future", "2026-05-11T00:00:00Z" }, { "d1", "2026-05-09T00:00:00Z" },
      { "d2", "2026-05-07T00:00:01Z" }, { "d5", "2026-05-04T00:00:00Z" },
   }
   check(retention.plan(list, { within = "2d" }, { now = now }), {
      { "future", { "within 2d" } }, { "d1", { "within 2d" } }, { "d2", { "within 2d" } },
   }, { "d5" })
end)

H.test("within_daily/within_weekly: one per period inside the window, oldest kept", function()
   local list = history {
      { "d5b", "2026-01-05T20:00:00Z" }, { "d5a", "2026-01-05T08:00:00Z" },
      { "d4b", "2026-01-04T20:00:00Z" }, { "d4a", "2026-01-04T08:00:00Z" },
      { "d1", "2026-01-01T08:00:00Z" },
   }
   check(retention.plan(list, { within_daily = "2d" }, { now = T("2026-02-01T00:00:00Z") }), {
      { "d5b", { "daily within 2d" } }, { "d4b", { "daily within 2d" } },
   }, { "d5a", "d4a", "d1" })
   check(retention.plan(list, { within_daily = "1y" }, { now = T("2026-02-01T00:00:00Z") }), {
      { "d5b", { "daily within 1y" } }, { "d4b", { "daily within 1y" } }, { "d1", { "daily within 1y" } },
   }, { "d5a", "d4a" })
   -- 2026-01-05 is a Monday: a week of its own
   -- d1 (Thursday) shares 2026-W01 with d4b, but as the oldest backup in
   -- the window it is kept too
   check(retention.plan(list, { within_weekly = "1y" }, { now = T("2026-02-01T00:00:00Z") }), {
      { "d5b", { "weekly within 1y" } }, { "d4b", { "weekly within 1y" } },
      { "d1", { "oldest weekly within 1y" } },
   }, { "d5a", "d4a" })
   -- the oldest backup in the window and in the same period as the previous kept one
   local two = history { { "x2", "2026-01-05T20:00:00Z" }, { "x1", "2026-01-05T08:00:00Z" } }
   check(retention.plan(two, { within_daily = "3d" }), {
      { "x2", { "daily within 3d" } }, { "x1", { "oldest daily within 3d" } } }, {})
   -- hourly, monthly and yearly variants
   check(retention.plan(two, { within_hourly = "1d", within_monthly = "1y", within_yearly = "2y" }), {
      { "x2", { "hourly within 1d", "monthly within 1y", "yearly within 2y" } },
      { "x1", { "hourly within 1d", "oldest monthly within 1y", "oldest yearly within 2y" } } }, {})
end)

---------------------------------------------------------------------------
-- time zones

H.test("time zone shifts move backups between days", function()
   local list = history {
      { "A", "2026-03-11T01:00:00Z" }, { "B", "2026-03-10T22:30:00Z" },
      { "C", "2026-03-10T20:00:00Z" }, { "D", "2026-03-09T12:00:00Z" },
   }
   check(retention.plan(list, { daily = 2 }), {
      { "A", { "daily snapshot" } }, { "B", { "daily snapshot" } } }, { "C", "D" })
   check(retention.plan(list, { daily = 2 }, { tz = "UTC" }), {
      { "A", { "daily snapshot" } }, { "B", { "daily snapshot" } } }, { "C", "D" })
   -- +03:00: A 11th 04:00, B 11th 01:30, C 10th 23:00, D 9th 15:00
   local east = retention.plan(list, { daily = 2 }, { tz = "+03:00" })
   check(east, { { "A", { "daily snapshot" } }, { "C", { "daily snapshot" } } }, { "B", "D" })
   H.eq(east.tz, "+03:00")
   -- -05:00: A, B and C on the 10th; D on the 9th
   check(retention.plan(list, { daily = 2 }, { tz = "-05:00" }), {
      { "A", { "daily snapshot" } }, { "D", { "daily snapshot" } } }, { "B", "C" })
end)

H.test("daylight saving time: a POSIX rule differs from its fixed standard offset", function()
   local list = history {
      { "X", "2026-03-29T22:30:00Z" },     -- 30 March 00:30 CEST, 29 March 23:30 at +01:00
      { "Y", "2026-03-29T00:30:00Z" },     -- 29 March 01:30 CET
      { "Z", "2026-03-28T12:00:00Z" },
   }
   check(retention.plan(list, { daily = 2 }, { tz = "CET-1CEST,M3.5.0,M10.5.0/3" }), {
      { "X", { "daily snapshot" } }, { "Y", { "daily snapshot" } } }, { "Z" })
   check(retention.plan(list, { daily = 2 }, { tz = "+01:00" }), {
      { "X", { "daily snapshot" } }, { "Z", { "daily snapshot" } } }, { "Y" })
end)

H.test("weekly buckets follow the zone: Sunday night UTC is Monday in Tokyo", function()
   local list = history {
      { "sun", "2026-01-04T20:00:00Z" },    -- Sun in UTC (2026-W01), Mon 05:00 at +09:00 (W02)
      { "sat", "2026-01-03T20:00:00Z" },    -- Sat UTC (W01), Sun at +09:00 (W01)
   }
   check(retention.plan(list, { weekly = 1 }, { tz = "+09:00" }), { { "sun", { "weekly snapshot" } } }, { "sat" })
   check(retention.plan(list, { weekly = 1 }), { { "sun", { "weekly snapshot" } } }, { "sat" })
   check(retention.plan(list, { weekly = 2 }, { tz = "+09:00" }), {
      { "sun", { "weekly snapshot" } }, { "sat", { "weekly snapshot" } } }, {})
   check(retention.plan(list, { weekly = 2 }), {
      { "sun", { "weekly snapshot" } }, { "sat", { "oldest weekly snapshot" } } }, {})
end)

---------------------------------------------------------------------------
-- beyond restic, and misuse

H.test("backups in progress and without a time are kept and take no part in the rules", function()
   local list = history {
      { "running", "2026-01-05T10:00:00Z", { status = "CREATING" } },
      { "d4", "2026-01-04T10:00:00Z", { status = "DONE" } },
      { "d3", "2026-01-03T10:00:00Z" },
   }
   list[#list + 1] = { id = "notime" }
   check(retention.plan(list, { last = 1 }), {
      { "notime", { "no creation time" } }, { "running", { "in progress" } }, { "d4", { "last snapshot" } },
   }, { "d3" })
end)

H.test("equal times keep their input order", function()
   local list = history { { "first", "2026-01-01T00:00:00Z" }, { "second", "2026-01-01T00:00:00Z" } }
   check(retention.plan(list, { last = 1 }), { { "first", { "last snapshot" } } }, { "second" })
end)

H.test("the input list is not modified", function()
   local list = history { { "a", "2026-01-01T00:00:00Z" }, { "b", "2026-01-02T00:00:00Z" } }
   retention.plan(list, { last = 1 })
   H.eq(list[1].id, "a")
   H.eq(list[2].id, "b")
   H.eq(#list, 2)
end)

H.test("bad policies and options raise with the key named", function()
   local list = history { { "a", "2026-01-01T00:00:00Z" } }
   local cases = {
      { { dayly = 7 }, "unknown retention key 'dayly' (known: last, hourly, daily, weekly, monthly, yearly, "
         .. "within, within_hourly, within_daily, within_weekly, within_monthly, within_yearly)" },
      { { daily = -1 }, "retention key 'daily': expected a whole number >= 0 or \"unlimited\", got -1" },
      { { daily = 1.5 }, "retention key 'daily': expected a whole number >= 0 or \"unlimited\", got 1.5" },
      { { daily = "7" }, "retention key 'daily': expected a whole number >= 0 or \"unlimited\", got \"7\"" },
      { { within = 7 }, "retention key 'within': expected a duration like \"7d\" or \"1y2m\", got 7" },
      { { within = "7w" }, "retention key 'within': bad duration \"7w\": unknown unit \"w\" (use y, m (months), d, h, e.g. 1y2m3d4h)" },
   }
   for _, c in ipairs(cases) do
      local err = H.raises(nil, retention.plan, list, c[1])
      H.contains(err, c[2])
   end
   H.contains(H.raises(nil, retention.plan, list, { daily = 1 }, { tz = "+3" }), 'bad time zone "+3"')
   H.contains(H.raises(nil, retention.plan, list, { daily = 1 }, { zone = "UTC" }),
      "bad argument #3 to 'plan' (unknown option 'zone')")
   H.contains(H.raises(nil, retention.plan, "x", {}), "bad argument #1 to 'plan' (table expected, got string)")
   H.contains(H.raises(nil, retention.plan, list, nil), "bad argument #2 to 'plan' (table expected, got nil)")
   H.contains(H.raises(nil, retention.plan, { 5 }, {}), "backup #1 is a number, not a table")
   H.contains(H.raises(nil, retention.plan, { { created = "yesterday" } }, {}),
      "backup #1: 'created' is a string, not a number")
   -- the error points at the caller
   local ok, err = pcall(function() retention.plan(list, { dayly = 1 }) end)
   H.eq(ok, false)
   H.contains(err, "test_retention.lua:")
end)

H.test("describe: the policy in words, as restic prints it", function()
   H.eq(retention.describe({ daily = 7, weekly = 4, monthly = "unlimited" }),
      "keep 7 daily, 4 weekly, all monthly snapshots")
   H.eq(retention.describe({ last = 3, within = "1y2m", within_daily = "7d" }),
      "keep 3 latest snapshots, daily snapshots within 7d and all snapshots within 1y2m of the newest")
   H.eq(retention.describe({}), "keep everything (empty policy)")
end)

H.run_all()
