-- Reports that cannot be written: a clear error and exit status 2, never
-- a partial file, and an existing report left as it was.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local FOLDER = "b1gfakefolder0000001"

-- The audit as a shell command (so ulimit and redirections apply to it).
local function audit(s, tail)
   return string.format("env YC_IAM_TOKEN=%s YC_MDB_ENDPOINT=%s YC_FOLDER_ID=%s %s %s "
      .. "--engine mysql --max-age 1000d --format json %s",
      H.sh_quote(H.token), H.sh_quote(s.url), FOLDER, H.sh_quote(H.mdblua),
      H.sh_quote(H.source_dir .. "/scripts/audit.lua"), tail)
end

local function sh(cmd)
   return H.run({ "-c", cmd }, { program = "sh" })
end

-- Files in `dir` whose name contains `part`.
local function files_like(dir, part)
   local out = {}
   local p = io.popen("ls -a " .. H.sh_quote(dir))
   for name in p:lines() do
      if name:find(part, 1, true) then out[#out + 1] = name end
   end
   p:close()
   return out
end

local fresh_dir = H.fresh_dir

H.test("--output into a missing directory or under a file: exit 2, the path named", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=3,backups=2" }
   local d = fresh_dir()
   H.write_file(d .. "/plain", "x")
   for _, target in ipairs { d .. "/missing/report.json", d .. "/plain/report.json" } do
      local r = sh(audit(s, "--output " .. H.sh_quote(target)))
      H.eq(r.code, 2, r.stderr)
      H.contains(r.stderr, "cannot write " .. target)
      H.eq(r.stdout, "")
   end
   H.eq(files_like(d, "report"), {}, "nothing left behind")
end)

H.test("a full disk (file size limit): exit 2, no partial file, the old report kept", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=20,backups=2" }
   local d = fresh_dir()
   local target = d .. "/report.json"
   H.write_file(target, "old report\n")
   -- 1 block: the report does not fit; SIGXFSZ ignored so write() fails.
   local r = sh("trap '' XFSZ; ulimit -f 1; " .. audit(s, "--output " .. H.sh_quote(target)))
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "cannot write " .. target)
   H.eq(H.read_file(target), "old report\n", "the previous report is untouched")
   H.eq(files_like(d, ".tmp"), {}, "no temporary file left")
end)

H.test("stdout that cannot be written (/dev/full): exit 2, not a silent success", function()
   -- one cluster: a report smaller than stdio's buffer fails only on flush
   local s = H.start_fake { "--generate", "engine=mysql,clusters=1,backups=2" }
   local r = sh(audit(s, "> /dev/full"))
   H.eq(r.code, 2, r.stderr)
   H.contains(r.stderr, "cannot write to stdout")
end)

H.test("--output a symbolic link: the report goes to its target and the link stays", function()
   local s = H.start_fake { "--generate", "engine=mysql,clusters=3,backups=2" }
   local d = fresh_dir()
   os.execute("mkdir " .. H.sh_quote(d .. "/real"))
   H.write_file(d .. "/real/report.json", "old report\n")
   -- an absolute link to an existing file, and a relative one to a file
   -- not there yet, through a link to a link
   assert(os.execute(string.format("ln -s %s %s && ln -s real/new.json %s && ln -s new-link %s",
      H.sh_quote(d .. "/real/report.json"), H.sh_quote(d .. "/abs-link"), H.sh_quote(d .. "/new-link"),
      H.sh_quote(d .. "/chain"))))
   for _, case in ipairs { { "abs-link", "/real/report.json" }, { "chain", "/real/new.json" } } do
      local r = sh(audit(s, "--output " .. H.sh_quote(d .. "/" .. case[1])))
      H.eq({ r.code < 2, r.stdout, r.stderr }, { true, "", "" }, case[1])   -- (1: findings)
      H.ok(os.execute("test -L " .. H.sh_quote(d .. "/" .. case[1])), case[1] .. " is still a link")
      H.contains(H.read_file(d .. case[2]), '"clusters":3', case[1] .. ": the report is in its target")
   end
   H.eq(files_like(d, ".tmp"), {}, "no temporary file left")
   H.eq(files_like(d .. "/real", ".tmp"), {}, "no temporary file left beside the target")
end)

H.run_all()
