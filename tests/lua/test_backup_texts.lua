-- client:scan{backup_texts = true}: each backup's JSON text as the server
-- sent it, beside the decoded backups, and a history that stores those
-- texts as the backups' data instead of encoding the tables again.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"
local history = require "mdb.history"

local FOLDER = "f1"

-- Backups whose text lua-cjson would never write back the same: blanks
-- inside, keys in no sorted order, escapes, brackets and braces inside
-- strings, nested arrays, int64 values as strings, a float.
local TEXTS = {
   '{"id":"b1","sourceClusterId":"c1","createdAt":"2026-11-01T10:00:00Z","startedAt":"2026-11-01T09:45:00Z",'
      .. '"size":"12345678901234567","type":"AUTOMATED","status":"DONE"}',
   '{ "type" : "MANUAL",  "id" : "b2", "sourceClusterId":"c1", "createdAt":"2026-11-02T10:00:00.250Z",'
      .. ' "description":"brackets ] } [ { and \\"quotes\\" and \\u00e9", "size":"1" }',
   '{"id":"b3","sourceClusterId":"c1","createdAt":"2026-11-03T10:00:00Z","sourceShardNames":["rs01","rs[2]"],'
      .. '"nested":{"a":[1,[2,{"b":null}]],"c":true},"ratio":0.125,"size":"77"}',
   '{"id":"b4","sourceClusterId":"c1","createdAt":"2026-11-04T10:00:00Z","size":"4"}',
   '{"id":"b5","sourceClusterId":"c1","createdAt":"2026-11-05T10:00:00Z","size":"5","type":"AUTOMATED"}',
   '{"sourceClusterId":"c1","createdAt":"2026-11-06T10:00:00Z","size":"6","id":"b6"}',
   '{"id":"b7","sourceClusterId":"c1","createdAt":"2026-11-07T10:00:00Z","size":"7","labels":{}}',
}
local OTHER = '{"id":"d1","sourceClusterId":"c2","createdAt":"2026-11-01T11:00:00Z","size":"9"}'

local function fleet_file(texts)
   local records = {
      { "cluster", "mongodb", FOLDER, "c1", "one", { id = "c1", folderId = FOLDER, name = "one" } },
      { "cluster", "mongodb", FOLDER, "c2", "two", { id = "c2", folderId = FOLDER, name = "two" } },
   }
   for _, t in ipairs(texts) do records[#records + 1] = { "backup", "mongodb", FOLDER, "c1", t } end
   records[#records + 1] = { "backup", "mongodb", FOLDER, "c2", OTHER }
   return H.data_file(records)
end

local by_id = H.by_id

local function scan(c, opts)
   local o = { engine = "mongodb", folder = FOLDER, page_size = 3 }
   for k, v in pairs(opts or {}) do o[k] = v end
   return c:scan(o)
end

H.test("each backup's text is the JSON the server sent, byte for byte, over pages", function()
   local s = H.start_fake { "--data", fleet_file(TEXTS) }
   local c = H.client(s)
   local plain = by_id(scan(c, { backup_texts = true }))
   H.eq(plain.c1.backup_texts, TEXTS, "7 backups over 3 pages of 3")
   H.eq(plain.c2.backup_texts, { OTHER })
   H.eq(H.ids(plain.c1.backups), { "b1", "b2", "b3", "b4", "b5", "b6", "b7" })
   -- the same from a streaming scan, whose pages wait as raw text
   local streamed = {}
   scan(c, { backup_texts = true, each = function(e) streamed[e.id] = e.backup_texts end })
   H.eq(streamed.c1, TEXTS)
   H.eq(streamed.c2, { OTHER })
   -- each text decodes to what its backup was before normalisation
   local b2 = cjson.decode(plain.c1.backup_texts[2])
   H.eq(b2.description, 'brackets ] } [ { and "quotes" and \u{e9}')
   H.eq(plain.c1.backups[2].description, b2.description)
end)

H.test("without backup_texts an entry has none, and the option takes only a boolean", function()
   local s = H.start_fake { "--data", fleet_file(TEXTS) }
   local c = H.client(s)
   for _, e in ipairs(scan(c)) do H.eq(e.backup_texts, nil) end
   for _, e in ipairs(scan(c, { backup_texts = false })) do H.eq(e.backup_texts, nil) end
   local err = H.raises("argument", scan, c, { backup_texts = "yes" })
   H.contains(err.message, "backup_texts")
   H.contains(err.message, "expected a boolean, got string")
end)

H.test("texts stay beside their backups when a repeat is skipped and a limit cuts a page", function()
   -- b2 again on the next page: the repeat guard skips it
   local texts = { TEXTS[1], TEXTS[2], TEXTS[3], TEXTS[2], TEXTS[4], TEXTS[5] }
   local s = H.start_fake { "--data", fleet_file(texts) }
   local c = H.client(s)
   local e = by_id(scan(c, { backup_texts = true })).c1
   H.eq(H.ids(e.backups), { "b1", "b2", "b3", "b4", "b5" })
   H.eq(e.stats.duplicates, 1)
   H.eq(e.backup_texts, { TEXTS[1], TEXTS[2], TEXTS[3], TEXTS[4], TEXTS[5] })
   -- (the limit counts what the server sent, the skipped repeat too)
   e = by_id(scan(c, { backup_texts = true, limit = 5 })).c1
   H.eq(H.ids(e.backups), { "b1", "b2", "b3", "b4" })
   H.eq(e.backup_texts, { TEXTS[1], TEXTS[2], TEXTS[3], TEXTS[4] })
end)

H.test("a page whose raw text does not cut into its decoded items gives false, not a wrong text", function()
   -- Two "backups" members: lua-cjson keeps the last, a reading of the raw
   -- text finds the first.  Nothing of that page may be given as a text.
   local body = '{"backups":[{"id":"x1","createdAt":"2026-11-01T10:00:00Z"}],'
      .. '"backups":[{"id":"y1","createdAt":"2026-11-01T10:00:00Z"},{"id":"y2","createdAt":"2026-11-01T10:00:00Z"}]}'
   local s = H.start_fake { "--data", fleet_file(TEXTS), "--fault", "path=clusters/c2/backups;body=" .. body }
   local c = H.client(s)
   local e = by_id(scan(c, { backup_texts = true }))
   H.eq(H.ids(e.c2.backups), { "y1", "y2" })
   H.eq(e.c2.backup_texts, { false, false })
   H.eq(e.c1.backup_texts, TEXTS, "the other cluster's texts are whole")
   -- The same with as many items, the same id, and the later key escaped
   -- (lua-cjson unescapes it first): the raw text's item has another size.
   body = '{"backups":[{"id":"y1","createdAt":"2026-11-01T10:00:00Z","size":"1"}],'
      .. '"back\\u0075ps":[{"id":"y1","createdAt":"2026-11-01T10:00:00Z","size":"2"}]}'
   s = H.start_fake { "--data", fleet_file(TEXTS), "--fault", "path=clusters/c2/backups;body=" .. body }
   e = by_id(scan(H.client(s), { backup_texts = true }))
   H.eq(e.c2.backups[1].size, 2, "lua-cjson's reading")
   H.eq(e.c2.backup_texts, { false })
end)

-- Every stored backup state of a history file: {backup_id = {data, digest,
-- and the columns}}.
local function stored(path)
   local h = assert(history.open(path))
   local out = {}
   for r in h:rows("SELECT backup_id, data, digest, created, type, status, size, retain_until, from_scan, "
      .. "until_scan FROM backup_states") do
      out[r[1]] = { data = r[2], digest = r[3], created = r[4], type = r[5], status = r[6], size = r[7],
         retain_until = r[8], from = r[9], ["until"] = r[10] }
   end
   h:close()
   return out
end

local function scope(t)
   return { folder = FOLDER, engines = { "mongodb" }, time = 1.8e9 + t * 3600, tool = "test" }
end

H.test("a recording stores each backup's text as the server sent it, and the same states as before", function()
   local s = H.start_fake { "--data", fleet_file(TEXTS) }
   local c = H.client(s)
   local with, without = H.tmpname(".db"), H.tmpname(".db")
   assert(history.record(with, scan(c, { backup_texts = true }), scope(1)))
   assert(history.record(without, scan(c), scope(1)))
   local a, b = stored(with), stored(without)
   for i, t in ipairs(TEXTS) do
      local id = "b" .. i
      H.eq(a[id].data, t, id .. ": the server's text")
      H.eq(cjson.decode(a[id].data), cjson.decode(b[id].data), id .. ": the same object either way")
      for _, k in ipairs({ "digest", "created", "type", "status", "size", "retain_until", "from" }) do
         H.eq(a[id][k], b[id][k], id .. " " .. k)
      end
   end
   -- (lua-cjson writes no blanks: encoded again, b2 is another text)
   H.ok(b.b2.data ~= TEXTS[2], "b2 encoded again without texts")
   H.eq(a.d1.data, OTHER)
   -- read back, the file with texts gives the scan's results
   local h = assert(history.open(with))
   local back = by_id(h:results(h:latest().id))
   h:close()
   local live = by_id(scan(c))
   H.eq(by_id(back.c1.backups), by_id(live.c1.backups))
end)

H.test("texts that are not their backups' are not stored: the tables are encoded", function()
   local s = H.start_fake { "--data", fleet_file(TEXTS) }
   local c = H.client(s)
   local results = scan(c, { backup_texts = true })
   -- a script that reorders or filters backups and leaves the texts
   for _, e in ipairs(results) do
      if e.id == "c1" then
         table.remove(e.backups, 1)
         e.backup_texts[3] = 42
      end
   end
   local path = H.tmpname(".db")
   assert(history.record(path, results, scope(1)))
   local got = stored(path)
   H.eq(got.b1, nil, "removed by the script")
   for i = 2, #TEXTS do
      local id = "b" .. i
      H.eq(cjson.decode(got[id].data), cjson.decode(TEXTS[i]), id .. ": its own object, not another's text")
   end
   -- b2 now first, its text second: encoded (lua-cjson writes no blanks)
   H.ok(got.b2.data ~= TEXTS[2], "b2 encoded")
end)

H.test("a later recording stores the texts of what changed, and keeps what did not", function()
   local changed = {}
   for i, t in ipairs(TEXTS) do changed[i] = t end
   changed[4] = '{"id":"b4","sourceClusterId":"c1","createdAt":"2026-11-04T10:00:00Z","size":"4000"}'
   local s = H.start_fake { "--data", fleet_file(TEXTS), "--step", "--data", fleet_file(changed) }
   local c = H.client(s)
   local path = H.tmpname(".db")
   assert(history.record(path, scan(c), scope(1)))   -- the first, encoded
   local first = stored(path)
   H.eq(H.step(s), '{"step":2,"steps":2}')
   assert(history.record(path, scan(c, { backup_texts = true }), scope(2)))
   local h = assert(history.open(path))
   local b4 = {}
   for r in h:rows("SELECT data, from_scan, until_scan FROM backup_states WHERE backup_id = 'b4' ORDER BY id") do
      b4[#b4 + 1] = { r[1], r[2], r[3] }
   end
   h:close()
   H.eq(#b4, 2, "b4 changed: a second state")
   H.eq(b4[1][3], 2, "the first closed by scan 2")
   H.eq(b4[2], { changed[4], 2, nil }, "the new state is the server's text")
   local now = stored(path)
   H.eq(now.b1.data, first.b1.data, "b1 unchanged: its first state, encoded, stays")
end)

H.test("an entry trimmed to --now loses its texts, which no longer sit beside its backups", function()
   local cli = require "mdb.cli"
   local e = { backups = { { id = "old", created = 100 }, { id = "new", created = 300 } },
      backup_texts = { '{"id":"old"}', '{"id":"new"}' } }
   local trimmed = cli.as_of({ e }, 200)[1]
   H.eq(H.ids(trimmed.backups), { "old" })
   H.eq(trimmed.backup_texts, nil)
   H.eq(#e.backup_texts, 2, "as_of copies: the scan's entry keeps them")
end)

H.test("a recorder wants the texts for a file's first recording only", function()
   local path = H.tmpname(".db")
   local h = assert(history.open(path, { write = true }))
   local r = h:recorder(scope(1))
   H.eq(r:wants_texts(), true, "no scan in the file yet: every backup is new")
   r:finish()
   r = h:recorder(scope(2))
   H.eq(r:wants_texts(), false, "later: only what changed is stored")
   r:finish()
   h:close()
end)

H.test("snapshot.lua stores the server's texts", function()
   local s = H.start_fake { "--data", fleet_file(TEXTS) }
   local db = H.tmpname(".db")
   local r = H.run({ H.source_dir .. "/scripts/snapshot.lua", "--db", db, "--folder", FOLDER, "--engine", "mongodb" },
      { env = { YC_MDB_ENDPOINT = s.url, YC_IAM_TOKEN = H.token } })
   H.eq(r.code, 0, r.stderr)
   local got = stored(db)
   for i, t in ipairs(TEXTS) do H.eq(got["b" .. i].data, t) end
end)

H.run_all()
