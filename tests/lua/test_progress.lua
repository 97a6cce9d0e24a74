-- Progress of fleet-wide scripts: a line on stderr when stderr is a
-- terminal, nothing when it is not, and never anything on stdout.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local FOLDER = "b1gfakefolder0000001"

-- The audit of the folder's mysql clusters as a shell command, JSON report.
local function audit_cmd(s)
   return string.format("env YC_IAM_TOKEN=%s YC_MDB_ENDPOINT=%s YC_FOLDER_ID=%s %s %s "
      .. "--engine mysql --max-age 1000d --format json",
      H.sh_quote(H.token), H.sh_quote(s.url), FOLDER, H.sh_quote(H.mdblua),
      H.sh_quote(H.source_dir .. "/scripts/audit.lua"))
end

H.test("on a terminal: progress on stderr, and the report on stdout stays clean", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=5,backups=3" }
   local out = H.tmpname(".json")
   -- script(1) makes stderr (and stdin) a terminal; stdout goes to a file.
   local inner = audit_cmd(s) .. " > " .. H.sh_quote(out)
   local r = H.run({ "-qec", inner, "/dev/null" }, { program = "script" })
   -- 3 backups per cluster: the count check warns (fewer than 7), so exit 1
   H.eq(r.code, 1, "audit's exit status through script -e: " .. r.stdout)
   H.contains(r.stdout, "scanning 5/5", "progress drawn on the terminal")
   local text = H.read_file(out)
   H.not_contains(text, "scanning", "stdout")
   local report = cjson.decode(text)
   H.ok(type(report) == "table", "stdout is the JSON report alone")
   H.eq({ report.summary.warning, report.summary.error }, { 5, 0 }, "one count warning per cluster")
end)

H.test("not on a terminal: no progress at all", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=5,backups=3" }
   local out = H.tmpname(".json")
   local r = H.run({ "-c", audit_cmd(s) .. " --output " .. H.sh_quote(out) }, { program = "sh" })
   H.eq(r.code, 1, "audit ran, the count check warns: " .. r.stderr)
   H.eq(r.stdout, "", "nothing on stdout with --output")
   H.not_contains(r.stderr, "scanning", "stderr")
   H.eq(cjson.decode(H.read_file(out)).summary.warning, 5, "the report file")
end)

H.run_all()
