-- changes.lua over a span with a gap in it: a backup (or a cluster) a
-- complete listing lost and a later one found again, which two scans'
-- sets alone do not show; and a cluster moved between folders, reported
-- as moved, from each scan's own record of its folder, so that what an
-- older comparison says does not change after a later scan.
package.path = os.getenv("MDB_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local H = require "harness"
local HF = require "history_fleet"
local cjson = require "cjson"

local T1 = 1795176000 -- 2026-11-20T12:00:00Z
local DAY = 86400
local function at(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

local function cluster(folder, id)
   return { "cluster", "postgresql", folder, id, "n-" .. id, { id = id, folderId = folder, name = "n-" .. id,
      createdAt = "2026-01-01T00:00:00Z", environment = "PRODUCTION", health = "ALIVE", status = "RUNNING",
      config = { backupRetainPeriodDays = "7", backupWindowStart = { hours = 22 } } } }
end

local function backup(folder, cid, id, created)
   return { "backup", "postgresql", folder, cid, H.backup(id, cid, at(created),
      { folderId = folder, type = "AUTOMATED", status = "DONE", size = "1073741824" }) }
end

-- A fleet: { {folder, cluster id, {backup ids}}, ... }, each backup made a
-- day before T1 (well inside the 7-day retention).
local function fleet(spec)
   local out = {}
   for _, c in ipairs(spec) do
      out[#out + 1] = cluster(c[1], c[2])
      for _, b in ipairs(c[3]) do out[#out + 1] = backup(c[1], c[2], b, T1 - DAY) end
   end
   return H.data_file(out)
end

local function script(name, args, server) return HF.script(H, name, args, server) end

-- One scan of `folders` at day `day` by snapshot.lua against a fake
-- serving `data` (and `faults`); `code` its exit status (0 by default).
local function snapshot(db, day, folders, data, faults, code)
   local words = { "--data", data }
   for _, f in ipairs(faults or {}) do words[#words + 1] = "--fault"; words[#words + 1] = f end
   local server = H.start_fake(words)
   local args = { "--db", db, "--engine", "postgresql", "--now", at(T1 + day * DAY) }
   for _, f in ipairs(folders) do args[#args + 1] = "--folder"; args[#args + 1] = f end
   local r = script("snapshot.lua", args, server)
   server.stop()
   H.eq(r.code, code or 0, r.stderr)
end

local function changes(db, from, to, fmt)
   return script("changes.lua", { "--db", db, "--from", tostring(from), "--to", tostring(to), "--format",
      fmt or "json" })
end

local function of(doc, kind, id)
   local out = {}
   for _, c in ipairs(doc.changes) do
      if c.kind == kind and (id == nil or c.backup_id == id or (c.backup_id == cjson.null and c.cluster == id)) then
         out[#out + 1] = c
      end
   end
   return out
end

local function kinds(doc)
   local out = {}
   for _, c in ipairs(doc.changes) do out[#out + 1] = c.kind .. ":" .. tostring(c.backup_id ~= cjson.null
      and c.backup_id or c.cluster) end
   table.sort(out)
   return table.concat(out, " ")
end

-- pg1 with pg1:a and pg1:b; pg1:b missing from scan 2's complete listing,
-- listed again in scan 3.
local function backup_gap()
   local db = H.tmpname(".db")
   local with = fleet { { "fa", "pg1", { "pg1:a", "pg1:b" } } }
   snapshot(db, 0, { "fa" }, with)
   snapshot(db, 1, { "fa" }, fleet { { "fa", "pg1", { "pg1:a" } } })
   snapshot(db, 2, { "fa" }, with)
   return db
end

H.test("a backup missing from a complete listing and listed again later is reported over the span", function()
   local db = backup_gap()
   local r = changes(db, 1, 3)
   H.eq(r.code, 1, r.stderr .. r.stdout)
   local doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "reappeared:pg1:b", r.stdout)
   local c = doc.changes[1]
   H.eq(c.verdict, "unexpected")
   H.eq(c.engine, "postgresql")
   H.eq(c.cluster, "pg1")
   H.eq(c.scan, 3)
   H.eq(c.time, at(T1 + 2 * DAY))
   H.eq(c.last_seen, at(T1))
   H.eq(c.message, "missing from scan 2 (" .. at(T1 + DAY) .. ") and listed again in scan 3 (" .. at(T1 + 2 * DAY)
      .. ")")
   -- each half of the span keeps its own answer
   r = changes(db, 2, 3)
   H.eq(r.code, 0, r.stderr .. r.stdout)
   doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "appeared:pg1:b", r.stdout)
   H.eq(doc.changes[1].scan, 3)
   -- (not "a new backup": it was listed before)
   H.eq(doc.changes[1].message, "listed again: missing since scan 2 (" .. at(T1 + DAY) .. "), last listed in scan 1 ("
      .. at(T1) .. ")")
   H.eq(doc.changes[1].last_seen, at(T1))
   r = changes(db, 1, 2)
   H.eq(r.code, 1, r.stderr .. r.stdout)
   doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "vanished:pg1:b", r.stdout)
   H.eq(doc.changes[1].scan, 2)
end)

H.test("a reappeared backup in every format: jsonl, csv, markdown, table, html", function()
   local db = backup_gap()
   local r = changes(db, 1, 3, "jsonl")
   H.eq(r.code, 1, r.stderr)
   local line = cjson.decode(r.stdout)
   H.eq({ line.kind, line.verdict, line.backup_id }, { "reappeared", "unexpected", "pg1:b" })
   r = changes(db, 1, 3, "csv")
   H.eq(r.code, 1, r.stderr)
   H.contains(r.stdout, "reappeared,unexpected,postgresql,pg1,n-pg1,pg1:b,missing from scan 2")
   for _, f in ipairs { "markdown", "table" } do
      r = changes(db, 1, 3, f)
      H.eq(r.code, 1, r.stderr)
      H.contains(r.stdout, "reappeared")
      H.contains(r.stdout, "listed again in scan 3")
      H.contains(r.stdout, "1 change, 1 unexpected")
   end
   r = changes(db, 1, 3, "html")
   H.eq(r.code, 1, r.stderr)
   H.contains(r.stdout, 'data-status="unexpected" data-kind="reappeared"')
   H.contains(r.stdout, "listed again in scan 3")
end)

H.test("a failed listing in between is no gap: nothing reappeared", function()
   local db = H.tmpname(".db")
   local with = fleet { { "fa", "pg1", { "pg1:a", "pg1:b" } }, { "fa", "pg2", { "pg2:a" } } }
   snapshot(db, 0, { "fa" }, with)
   -- scan 2: pg1's backup listing fails (its fleet lacks pg1:b, which the
   -- failure hides), and so does the Cluster.List in scan 3 ...
   snapshot(db, 1, { "fa" }, fleet { { "fa", "pg1", { "pg1:a" } }, { "fa", "pg2", { "pg2:a" } } },
      { "path=pg1/backups;status=500;times=0" }, 2)
   snapshot(db, 2, { "fa" }, fleet { { "fa", "pg1", { "pg1:a" } } },
      { "path=clusters?folderId=fa;status=403;times=0" }, 2)
   snapshot(db, 3, { "fa" }, with)
   local r = changes(db, 1, 4)
   H.eq(r.code, 0, r.stderr .. r.stdout)
   H.eq(kinds(cjson.decode(r.stdout)), "", r.stdout)
   -- ... and no step of it reads as vanished either
   for _, span in ipairs { { 1, 2 }, { 2, 3 }, { 1, 3 } } do
      r = changes(db, span[1], span[2])
      H.eq(r.code, 0, r.stderr .. r.stdout)
      H.not_contains(r.stdout, "vanished")
      H.not_contains(r.stdout, "reappeared")
   end
end)

H.test("a backup lost twice in the span: one change naming both gaps", function()
   local db = H.tmpname(".db")
   local with = fleet { { "fa", "pg1", { "pg1:a", "pg1:b" } } }
   local without = fleet { { "fa", "pg1", { "pg1:a" } } }
   for day, data in ipairs { with, without, without, with, without, with } do
      snapshot(db, day - 1, { "fa" }, data)
   end
   local r = changes(db, 1, 6)
   H.eq(r.code, 1, r.stderr .. r.stdout)
   local doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "reappeared:pg1:b", r.stdout)
   H.eq(doc.changes[1].scan, 6)
   H.eq(doc.changes[1].message, "missing from scans 2 (" .. at(T1 + DAY) .. ") to 3 (" .. at(T1 + 2 * DAY)
      .. ") and listed again in scan 4 (" .. at(T1 + 3 * DAY) .. "); missing from scan 5 (" .. at(T1 + 4 * DAY)
      .. ") and listed again in scan 6 (" .. at(T1 + 5 * DAY) .. ")")
   -- a span that ends inside a gap: vanished, as before
   r = changes(db, 1, 5)
   H.eq(kinds(cjson.decode(r.stdout)), "vanished:pg1:b", r.stdout)
end)

H.test("a cluster missing from a complete Cluster.List and listed again: cluster_reappeared", function()
   local db = H.tmpname(".db")
   local both = fleet { { "fa", "pg1", { "pg1:a" } }, { "fa", "pg2", { "pg2:a" } } }
   snapshot(db, 0, { "fa" }, both)
   snapshot(db, 1, { "fa" }, fleet { { "fa", "pg1", { "pg1:a" } } })
   snapshot(db, 2, { "fa" }, both)
   local r = changes(db, 1, 3)
   H.eq(r.code, 1, r.stderr .. r.stdout)
   local doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "cluster_reappeared:pg2 reappeared:pg2:a", r.stdout)
   local c = of(doc, "cluster_reappeared", "pg2")[1]
   H.eq(c.verdict, "unexpected")
   H.eq(c.scan, 3)
   H.eq(c.message, "the cluster was missing from scan 2 (" .. at(T1 + DAY) .. ") and listed again in scan 3 ("
      .. at(T1 + 2 * DAY) .. ")")
   local b = of(doc, "reappeared", "pg2:a")[1]
   H.eq(b.verdict, "unexpected")
   H.contains(b.message, "with its cluster")
   -- the halves: gone at 2; its backup appeared at 3
   r = changes(db, 1, 2)
   H.eq(kinds(cjson.decode(r.stdout)), "cluster_vanished:pg2 vanished:pg2:a", r.stdout)
   r = changes(db, 2, 3)
   H.eq(r.code, 0, r.stderr .. r.stdout)
   doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "appeared:pg2:a cluster_appeared:pg2", r.stdout)
   -- the cluster is not new either: it is listed again
   local ca = of(doc, "cluster_appeared", "pg2")[1]
   H.eq({ ca.verdict, ca.scan }, { "info", 3 })
   H.eq(ca.message, "the cluster is listed again: missing since scan 2 (" .. at(T1 + DAY) .. "), last listed in scan 1 ("
      .. at(T1) .. ")")
end)

H.test("a cluster missing from two complete Cluster.Lists in a row: the message names both scans", function()
   local db = H.tmpname(".db")
   local both = fleet { { "fa", "pg1", { "pg1:a" } }, { "fa", "pg2", { "pg2:a" } } }
   local one = fleet { { "fa", "pg1", { "pg1:a" } } }
   for day, data in ipairs { both, one, one, both } do snapshot(db, day - 1, { "fa" }, data) end
   local r = changes(db, 1, 4)
   H.eq(r.code, 1, r.stderr .. r.stdout)
   local doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "cluster_reappeared:pg2 reappeared:pg2:a", r.stdout)
   local missing = "scans 2 (" .. at(T1 + DAY) .. ") to 3 (" .. at(T1 + 2 * DAY) .. ") and listed again in scan 4 ("
      .. at(T1 + 3 * DAY) .. ")"
   H.eq(of(doc, "cluster_reappeared", "pg2")[1].message, "the cluster was missing from " .. missing)
   H.eq(of(doc, "reappeared", "pg2:a")[1].message, "missing with its cluster from " .. missing)
   -- a scan of another folder in between did not look for it: not named
   db = H.tmpname(".db")
   snapshot(db, 0, { "fa" }, both)
   snapshot(db, 1, { "fa" }, one)
   snapshot(db, 2, { "fb" }, fleet { { "fb", "pg3", { "pg3:a" } } })
   snapshot(db, 3, { "fa" }, both)
   doc = cjson.decode(changes(db, 1, 4).stdout)
   H.eq(of(doc, "cluster_reappeared", "pg2")[1].message, "the cluster was missing from scan 2 (" .. at(T1 + DAY)
      .. ") and listed again in scan 4 (" .. at(T1 + 3 * DAY) .. ")")
end)

H.test("a cluster moved between two folders both scans listed: moved, not vanished and appeared", function()
   local db = H.tmpname(".db")
   snapshot(db, 0, { "fa", "fb" }, fleet { { "fa", "pg1", { "pg1:a" } }, { "fb", "pg2", { "pg2:a" } } })
   snapshot(db, 1, { "fa", "fb" }, fleet { { "fb", "pg1", { "pg1:a" } }, { "fb", "pg2", { "pg2:a" } } })
   local r = changes(db, 1, 2)
   H.eq(r.code, 0, r.stderr .. r.stdout)
   local before = r.stdout
   local doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "moved:pg1", r.stdout)
   local c = doc.changes[1]
   H.eq({ c.verdict, c.old, c.new, c.folder, c.scan }, { "info", "fa", "fb", "fb", 2 })
   H.eq(c.message, "moved from folder fa to folder fb")
   for _, f in ipairs { "table", "markdown", "csv", "jsonl", "html" } do
      r = changes(db, 1, 2, f)
      H.eq(r.code, 0, r.stderr)
      H.contains(r.stdout, "moved from folder fa to folder fb")
   end
   -- a later scan that moves it back does not change what 1 -> 2 says
   snapshot(db, 2, { "fa", "fb" }, fleet { { "fa", "pg1", { "pg1:a" } }, { "fb", "pg2", { "pg2:a" } } })
   r = changes(db, 1, 2)
   H.eq(r.stdout, before)
   -- an audit of scan 2 puts every finding of pg1 in fb, where scan 2 saw
   -- it, the vanished check's too
   r = script("audit.lua", { "--from", db, "--at", at(T1 + DAY), "--format", "json" })
   H.ok(r.code == 0 or r.code == 1, r.stderr)
   local checks = {}
   for _, f in ipairs(cjson.decode(r.stdout).findings) do
      if f.cluster == "pg1" then
         H.eq(f.folder, "fb", f.check)
         checks[f.check] = true
      end
   end
   H.ok(checks.vanished, r.stdout)
   r = changes(db, 2, 3)
   H.eq(kinds(cjson.decode(r.stdout)), "moved:pg1", r.stdout)
   -- there and back again: in its folder as before
   r = changes(db, 1, 3)
   H.eq(kinds(cjson.decode(r.stdout)), "", r.stdout)
end)

H.test("an older comparison of one folder keeps its answer after the cluster moved to another", function()
   local db = H.tmpname(".db")
   snapshot(db, 0, { "fa" }, fleet { { "fa", "pg1", { "pg1:a", "pg1:b" } } })
   snapshot(db, 1, { "fa" }, fleet { { "fa", "pg1", { "pg1:a" } } })
   local r = changes(db, 1, 2)
   H.eq(r.code, 1, r.stderr .. r.stdout)
   local before = r.stdout
   H.eq(kinds(cjson.decode(before)), "vanished:pg1:b", before)
   -- pg1 moves to fb; a scan of fb records it there
   snapshot(db, 2, { "fb" }, fleet { { "fb", "pg1", { "pg1:a" } } })
   r = changes(db, 1, 2)
   H.eq(r.code, 1, r.stderr .. r.stdout)
   H.eq(r.stdout, before)
end)

H.test("moved out of the folder a later scan listed alone: gone from its view, then moved", function()
   local db = H.tmpname(".db")
   local in_a = fleet { { "fa", "pg1", { "pg1:a" } }, { "fb", "pg2", { "pg2:a" } } }
   local in_b = fleet { { "fb", "pg1", { "pg1:a" } }, { "fb", "pg2", { "pg2:a" } } }
   snapshot(db, 0, { "fa", "fb" }, in_a)
   -- scan 2 lists fa alone: pg1, now in fb, is gone from what it saw
   snapshot(db, 1, { "fa" }, in_b)
   local r = changes(db, 1, 2)
   H.eq(r.code, 1, r.stderr .. r.stdout)
   local before = r.stdout
   H.eq(kinds(cjson.decode(r.stdout)), "cluster_vanished:pg1 vanished:pg1:a", r.stdout)
   H.contains(r.stderr, "only scan 1 listed fb")
   -- a scan of both finds it in fb
   snapshot(db, 2, { "fa", "fb" }, in_b)
   -- over the whole span: moved, and the gap is said as what it was (scan
   -- 2 did not list the folder pg1 was in): info, not unexpected
   r = changes(db, 1, 3)
   H.eq(r.code, 0, r.stderr .. r.stdout)
   local doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "cluster_reappeared:pg1 moved:pg1 reappeared:pg1:a", r.stdout)
   H.eq(of(doc, "moved", "pg1")[1].message, "moved from folder fa to folder fb")
   local c = of(doc, "cluster_reappeared", "pg1")[1]
   H.eq(c.verdict, "info")
   H.contains(c.message, "scan 2 did not list folder fb")
   H.eq(of(doc, "reappeared", "pg1:a")[1].verdict, "info")
   -- scan 2 -> 3 compares fa alone: pg1 is in fb at 3, not looked at
   r = changes(db, 2, 3)
   H.eq(r.code, 0, r.stderr .. r.stdout)
   H.eq(kinds(cjson.decode(r.stdout)), "", r.stdout)
   -- and what 1 -> 2 said stands
   H.eq(changes(db, 1, 2).stdout, before)
end)

H.test("a scan of one folder, then of two, after the cluster moved into the other: moved", function()
   local db = H.tmpname(".db")
   snapshot(db, 0, { "fa" }, fleet { { "fa", "pg1", { "pg1:a" } } })
   snapshot(db, 1, { "fa", "fb" }, fleet { { "fb", "pg1", { "pg1:a" } } })
   local r = changes(db, 1, 2)
   H.eq(r.code, 0, r.stderr .. r.stdout)
   local doc = cjson.decode(r.stdout)
   H.eq(kinds(doc), "moved:pg1", r.stdout)
   H.eq({ doc.changes[1].old, doc.changes[1].new }, { "fa", "fb" })
end)

H.run_all()
