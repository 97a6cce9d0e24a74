--[[
mdb.capabilities and mdb.defaults: what the C engine table and
mdb_defaults.h export to Lua, and the Lua that must agree with them.
Usage: mdblua capabilities_defaults.lua SOURCE_DIR
]]
local mdb = require "mdb"
local source = assert(arg[1], "usage: capabilities_defaults.lua SOURCE_DIR")

local passed, failed = 0, 0
local function check(ok, what)
   if ok then passed = passed + 1
   else failed = failed + 1; io.stderr:write("FAIL: ", what, "\n") end
end

local function same(a, b)
   if type(a) ~= "table" or type(b) ~= "table" then return a == b end
   for k, v in pairs(a) do if not same(v, b[k]) then return false end end
   for k in pairs(b) do if a[k] == nil then return false end end
   return true
end

local function show(v)
   if type(v) ~= "table" then return tostring(v) end
   local keys, out = {}, {}
   for k in pairs(v) do keys[#keys + 1] = tostring(k) end
   table.sort(keys)
   for _, k in ipairs(keys) do
      out[#out + 1] = k .. "=" .. show(v[tonumber(k) or k])
   end
   return "{" .. table.concat(out, ", ") .. "}"
end

-- What audit.lua listed by hand before the engine table carried it
-- (api.md §2.4, §3).
local RETAIN = { "backupRetainPeriodDays" }
local WANT = {
   mongodb = { size = "size", type = true, shards = true, retention = RETAIN },
   sqlserver = {},
   postgresql = { size = "size", type = true, status = true, retention = RETAIN },
   mysql = { size = "size", type = true, status = true, retention = RETAIN },
   clickhouse = { size = "size", type = true, shards = true, retention = RETAIN },
   redis = { type = true, shards = true, retention = RETAIN },
   greenplum = { size = "size", type = true, retention = RETAIN },
   opensearch = { size = "sizeBytes", retention = { "snapshotManagement", "snapshotMaxAgeDays" } },
   elasticsearch = { size = "sizeBytes" },
   spqr = { size = "size", type = true, shards = true, retention = RETAIN },
}

-- Every engine has an entry, and nothing else does.
local caps = mdb.capabilities
check(type(caps) == "table", "mdb.capabilities is a table")
local listed = {}
for _, e in ipairs(mdb.engines) do
   listed[e] = true
   check(type(caps[e]) == "table", "capabilities of " .. e)
   check(same(caps[e], WANT[e]), ("capabilities of %s: %s, want %s"):format(e, show(caps[e]), show(WANT[e])))
end
for e in pairs(caps) do check(listed[e], "capabilities of an unlisted engine " .. tostring(e)) end
check(#mdb.engines == 10, "ten engines")

-- A few facts by name, so a reordered table cannot hide a swap.
check(caps.postgresql.status == true and caps.mongodb.status == nil, "only some backups have a status")
check(caps.opensearch.size == "sizeBytes" and caps.redis.size == nil, "size fields")
check(caps.elasticsearch.retention == nil and caps.sqlserver.retention == nil, "no retention setting")
check(caps.opensearch.retention[2] == "snapshotMaxAgeDays", "OpenSearch's retention path")

-- The audit reads the same table.
local audit = require "mdb.audit"
check(same(audit.ENGINE_CAPS, caps), "mdb.audit's engine capabilities are mdb.capabilities")

-- Defaults, from mdb_defaults.h.
local d = mdb.defaults
local WANT_DEFAULTS = {
   endpoint = "https://mdb.api.cloud.yandex.net", page_size = 1000, max_page_size = 1000,
   retries = 5, max_retries = 100, timeout = 30, connect_timeout = 10,
   max_response_bytes = 64 * 1024 * 1024, backoff_base = 0.2, backoff_max = 30,
   token_command_timeout = 30, probe_connect_timeout = 0.25, probe_timeout = 1,
   concurrency = 16, max_concurrency = 256, max_id_length = 50, max_folders = 1000, max_deadline = 86400,
}
check(same(d, WANT_DEFAULTS), "mdb.defaults: " .. show(d))
check(math.type(d.concurrency) == "integer", "whole defaults are integers")

-- Texts that quote a default quote mdb.defaults.
local help = require("mdb.help").text(true, "mdb.client")
for _, key in ipairs { "page_size", "retries", "timeout", "connect_timeout", "backoff_base", "backoff_max" } do
   check(help:find(("%s%%s+[^\n]*%%(default %s%%)"):format(key, tostring(d[key]))),
      ("help(mdb.client) gives %s's default as %s"):format(key, tostring(d[key])))
end
check(help:find("0.." .. d.max_page_size, 1, true), "help(mdb.client) gives the page size's range")
local scan_help = require("mdb.help").text(true, "scan")
check(scan_help:find(("concurrency%%s+[^\n]*%%(default %d%%)"):format(d.concurrency)),
   "help(scan) gives concurrency's default")
-- The scripts' --concurrency and --page-size come from mdb.cli, which
-- quotes mdb.defaults; no script writes its own default or bound.
local cli = require "mdb.cli"
local conc, page = cli.concurrency_option(), cli.page_size_option()
check(conc[3] == ("clusters listed at once (default %d, at most %d)"):format(d.concurrency, d.max_concurrency),
   "--concurrency's help: " .. conc[3])
check(conc.check(tostring(d.max_concurrency)) == d.max_concurrency
   and conc.check(tostring(d.max_concurrency + 1)) == nil and conc.check("0") == nil,
   "--concurrency accepts 1..max_concurrency")
check(page[3] == "backups per API request, 0.." .. d.max_page_size, "--page-size's help: " .. page[3])
check(page.check(tostring(d.max_page_size)) == d.max_page_size and page.check(tostring(d.max_page_size + 1)) == nil
   and page.check("0") == 0, "--page-size accepts 0..max_page_size")
local list = assert(io.popen("ls '" .. source .. "/scripts/'*.lua"))
local scripts = 0
for path in list:lines() do
   scripts = scripts + 1
   local f = assert(io.open(path))
   local text = f:read "a"
   f:close()
   for _, own in ipairs { '"concurrency", "N"', '"page-size", "N"' } do
      check(not text:find(own, 1, true), path .. " writes its own " .. own .. " option instead of mdb.cli's")
   end
end
list:close()
check(scripts >= 9, "the scripts were read: " .. scripts)

-- The scan's bounds are the exported ones.
local client = mdb.client { endpoint = "http://127.0.0.1:9", token = "x", retries = 0 }
local ok, err = pcall(client.scan, client, { engines = { "mysql" }, folder = "f", concurrency = d.max_concurrency + 1 })
check(not ok and tostring(err):find("concurrency", 1, true), "concurrency above max_concurrency is refused")
ok, err = pcall(client.scan, client, { engines = { "mysql" }, folder = ("f"):rep(d.max_id_length + 1) })
check(not ok and tostring(err):find("folder", 1, true), "a folder id above max_id_length is refused")
ok, err = pcall(client.scan, client, { engines = { "mysql" }, folders = { ("f"):rep(d.max_id_length + 1) } })
check(not ok and tostring(err):find("folders", 1, true), "folders= ids above max_id_length are refused")
ok, err = pcall(client.scan, client, { engines = { "mysql" }, cloud = ("c"):rep(d.max_id_length + 1) })
check(not ok and tostring(err):find("cloud", 1, true), "a cloud id above max_id_length is refused")
local many = {}
for i = 1, d.max_folders + 1 do many[i] = "f" .. i end
ok, err = pcall(client.scan, client, { engines = { "mysql" }, folders = many })
check(not ok and tostring(err):find("1 to " .. d.max_folders, 1, true), "folders= above max_folders is refused")

print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
