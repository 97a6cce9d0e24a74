-- list-backups.lua and restore-point.lua when the API fails: a token
-- refused everywhere (401), nothing listening (a refused connection), the
-- backup listings answering 500, Cluster.List forbidden (403).  Every
-- mode of list-backups (--cluster, one --folder, --folder repeated,
-- --cloud; table and --json) and restore-point (table, json), each run
-- through the real mdblua once with stderr a file and once with stderr a
-- terminal (tests/tools/ptydrive; the several-folder scan then draws
-- progress).  Every run must exit with the documented status, carry the
-- API's message in one line per failed listing, print no traceback and
-- no token, leave no progress on the terminal, and never print on stdout
-- what reads as a complete listing: no closed JSON array, no table of a
-- listing that did not finish.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"
local cjson = require "cjson"

local SCRIPTS = H.source_dir .. "/scripts/"

-- Two folders of one cloud: b1gfa with amysql-0000 and amysql-0001,
-- b1gfb with bmysql-0000, three backups each.
local function fake(faults, token)
   local args = { "--generate", "engine=mysql,folder=b1gfa,clusters=2,backups=3,prefix=amysql",
      "--generate", "engine=mysql,folder=b1gfb,clusters=1,backups=3,prefix=bmysql",
      "--cloud", "b1gcloud1=b1gfa,b1gfb" }
   for _, f in ipairs(faults or {}) do args[#args + 1] = "--fault"; args[#args + 1] = f end
   local s = H.start_fake(args)
   s.token = token or H.token
   return s
end

-- The runs of a scenario: name, script, arguments.  `cluster` is the one
-- --cluster names.
local function runs(cluster)
   local lb, rp = "list-backups.lua", "restore-point.lua"
   local m = { "--engine", "mysql" }
   return {
      { "cluster-table", lb, H.with(m, "--cluster", cluster) },
      { "cluster-json", lb, H.with(m, "--cluster", cluster, "--json") },
      { "folder-table", lb, H.with(m, "--folder", "b1gfa") },
      { "folder-json", lb, H.with(m, "--folder", "b1gfa", "--json") },
      { "folders-table", lb, H.with(m, "--folder", "b1gfa", "--folder", "b1gfb") },
      { "folders-json", lb, H.with(m, "--folder", "b1gfa", "--folder", "b1gfb", "--json") },
      { "cloud-table", lb, H.with(m, "--cloud", "b1gcloud1") },
      { "cloud-json", lb, H.with(m, "--cloud", "b1gcloud1", "--json") },
      { "restore-table", rp, H.with(m, "--cluster", cluster) },
      { "restore-json", rp, H.with(m, "--cluster", cluster, "--format", "json", "--output", "OUTPUT") },
   }
end

-- Run every case at once (each is slow only by its retries), with stderr
-- a file and with stderr a terminal.  Returns, per "case/mode": { code,
-- stdout, stderr, output (restore-json's --output file or nil) }; for
-- "tty", stderr is what the terminal shows (see `screen`).
local function run_all(endpoint, token, cases)
   local commands, outputs = {}, {}
   for _, c in ipairs(cases) do
      commands[#commands + 1] = { c[1], function(mode)
         local output = H.tmpname(".json")
         outputs[c[1] .. "/" .. mode] = output
         local words = { "env", "-u", "NO_COLOR", "TERM=dumb", "YC_IAM_TOKEN=" .. H.sh_quote(token),
            "YC_MDB_ENDPOINT=" .. H.sh_quote(endpoint), "YC_RESOURCE_MANAGER_ENDPOINT=" .. H.sh_quote(endpoint),
            "YC_FOLDER_ID=b1gfa", H.sh_quote(H.mdblua), H.sh_quote(SCRIPTS .. c[2]) }
         for _, a in ipairs(c[3]) do words[#words + 1] = H.sh_quote(a == "OUTPUT" and output or a) end
         return table.concat(words, " ")
      end }
   end
   local results, took = H.run_file_and_tty(commands, 60)
   for key, r in pairs(results) do
      r.stderr = key:find("/tty$") and r.raw:gsub("\r\n", "\n") or r.raw
      r.output = H.read_file(outputs[key])
   end
   return results, took
end

-- What a terminal shows of a transcript: per line, what is left after the
-- last carriage return (a redrawn progress line), escapes dropped.
local function screen(transcript)
   local lines = {}
   for line in (transcript .. "\n"):gmatch("([^\n]*)\n") do
      line = line:gsub("\r$", "")
      line = line:match("([^\r]*)$"):gsub("\27%[K", "")
      lines[#lines + 1] = line
   end
   return table.concat(lines, "\n")
end

local function lines_of(s)
   local out = {}
   for l in s:gmatch("[^\n]+") do out[#out + 1] = l end
   return out
end

-- Whether `text` decodes as a complete JSON array.
local function is_json_array(text)
   local ok, v = pcall(cjson.decode, text)
   return ok and type(v) == "table"
end

-- What every run must show: the exit status `want[case]`, the message, no
-- traceback, no token, nothing left of a progress line, and (file mode)
-- only the lines `stderr_lines[case]` on stderr.
local function check_common(results, token, message, want)
   for key, r in pairs(results) do
      local case, mode = key:match("^(.-)/(%a+)$")
      local shown = mode == "tty" and screen(r.raw) or r.stderr
      local what = key .. " (exit " .. tostring(r.code) .. ")\n--- stdout:\n" .. r.stdout
         .. "\n--- stderr:\n" .. shown
      H.eq(r.code, want[case] or 2, "exit status of " .. what)
      H.contains(r.stderr, message, what)
      H.not_contains(r.stdout .. r.raw, "traceback", what)
      H.not_contains(r.stdout .. r.raw, "attempt to", what)
      H.not_contains(r.stdout .. r.raw .. (r.output or ""), token, what)
      H.not_contains(shown, "scanning", "no progress left on the terminal: " .. what)
      for _, l in ipairs(lines_of(shown)) do
         H.ok(l:find("^[%w%-]+%.lua: ") or l:find("^%d+ backups?, %d+ pages?$")
            or l:find("^%d+ backups?, %d+ pages?, %d+ listings? failed$"),
            "every stderr line names the script, or is the count: " .. what)
      end
      if case:find("json$") and r.code ~= 0 then
         H.ok(not is_json_array(r.stdout), "no complete JSON array on failure: " .. what)
      end
      if case == "restore-json" and r.code == 2 then H.eq(r.output, nil, "no --output file: " .. what) end
   end
end

-- A run whose one listing failed: stdout empty, stderr one line.
local function check_single_failed(results, cases, prefix)
   for _, case in ipairs(cases) do
      for _, mode in ipairs({ "file", "tty" }) do
         local r = results[case .. "/" .. mode]
         local what = case .. "/" .. mode .. ": " .. r.stderr
         H.eq(r.stdout, "", "stdout of " .. what)
         local script = case:find("^restore") and "restore-point.lua" or "list-backups.lua"
         local lines = lines_of(screen(r.raw))
         H.eq(#lines, 1, "one line: " .. what)
         H.eq(lines[1]:sub(1, #script + 2 + #prefix), script .. ": " .. prefix, what)
      end
   end
end

-- A several-folder run: its stderr lines in file mode are `lines` (each
-- the start of a line, in order), and the count line in table mode.
local function check_scan_lines(results, case, lines, count)
   for _, mode in ipairs({ "file", "tty" }) do
      local r = results[case .. "/" .. mode]
      local got = lines_of(screen(r.raw))
      local want = #lines + (case:find("table$") and 1 or 0)
      local what = case .. "/" .. mode .. ":\n" .. r.stderr
      H.eq(#got, want, what)
      for i, l in ipairs(lines) do H.eq(got[i]:sub(1, #l), l, what) end
      if case:find("table$") then H.eq(got[#got], count, what) end
   end
end

-- Both folders' Cluster.List failed (either may fail first).
local function check_folders_failed(results, cases)
   local line = "list-backups.lua: mysql clusters in folder b1gf"
   for _, case in ipairs(cases) do
      check_scan_lines(results, case, { line, line }, "0 backups, 0 pages, 2 listings failed")
   end
end

-- The cloud's Folder.List failed with `message`.
local function check_cloud_failed(results, message)
   for _, case in ipairs { "cloud-table", "cloud-json" } do
      check_scan_lines(results, case, { "list-backups.lua: the folders of cloud b1gcloud1 (Resource Manager): "
         .. message }, "0 backups, 0 pages, 1 listing failed")
   end
end

local ALL = { "cluster-table", "cluster-json", "folder-table", "folder-json", "restore-table", "restore-json" }

H.test("401 everywhere: every mode says the token was refused, exit 2", function()
   local s = fake()
   local token = "t1.WRONG-secret-token-" .. os.time()
   local results, took = run_all(s.url, token, runs("amysql-0000"))
   check_common(results, token, "Token is invalid or has expired. (HTTP 401", {})
   H.ok(took < 20, "bounded: " .. took .. " s")
   check_single_failed(results, ALL, "http error: Token is invalid or has expired. (HTTP 401 UNAUTHENTICATED")
   local folder = "list-backups.lua: mysql clusters in folder %s: http error: Token is invalid or has expired."
   for _, case in ipairs { "folders-table", "folders-json" } do
      -- the two folders' Cluster.List run at once: either may fail first
      for _, mode in ipairs({ "file", "tty" }) do
         local text = results[case .. "/" .. mode].stderr
         H.contains(text, folder:format("b1gfa"), case)
         H.contains(text, folder:format("b1gfb"), case)
      end
   end
   check_folders_failed(results, { "folders-table", "folders-json" })
   check_cloud_failed(results, "http error: Token is invalid or has expired. (HTTP 401")
   for _, mode in ipairs({ "file", "tty" }) do
      H.eq(lines_of(results["folders-table/" .. mode].stdout), { "ID  FOLDER  CLUSTER  CREATED  AGE  SIZE  TYPE" },
         "a header and no row")
      H.eq(results["folders-json/" .. mode].stdout, "", "nothing listed: not even an empty array")
   end
end)

H.test("a refused connection: every mode names it, in bounded time, exit 2", function()
   -- a port that was just listening and is closed now
   local s = fake()
   local url = s.url
   s.stop()
   local results, took = run_all(url, H.token, runs("amysql-0000"))
   check_common(results, H.token, "Couldn't connect to server", {})
   H.ok(took < 20, "bounded: " .. took .. " s")
   check_single_failed(results, ALL, "network error: Failed to connect to 127.0.0.1 port ")
   check_folders_failed(results, { "folders-table", "folders-json" })
   check_cloud_failed(results, "network error: Failed to connect")
end)

H.test("500s on the backup listings: retried, then the status named; the other clusters still listed", function()
   -- amysql-0001's listing and the folder's Backup.List fail every time;
   -- amysql-0000's second page of two fails (a JSON listing cut mid-way)
   local s = fake { "path=amysql-0001/backups;status=500;retry_after=0;times=0",
      "path=/managed-mysql/v1/backups?;status=500;retry_after=0;times=0",
      "path=amysql-0000/backups;offset=2;status=500;retry_after=0;times=0" }
   local cases = runs("amysql-0001")
   cases[#cases + 1] = { "midway-table", "list-backups.lua",
      { "--engine", "mysql", "--cluster", "amysql-0000", "--page-size", "2" } }
   cases[#cases + 1] = { "midway-json", "list-backups.lua",
      { "--engine", "mysql", "--cluster", "amysql-0000", "--page-size", "2", "--json" } }
   local results, took = run_all(s.url, H.token, cases)
   check_common(results, H.token, "Internal error (HTTP 500 INTERNAL", {})
   H.ok(took < 20, "bounded: " .. took .. " s")
   check_single_failed(results, { "cluster-table", "cluster-json", "folder-table", "folder-json", "restore-table",
      "restore-json", "midway-table" }, "http error: Internal error (HTTP 500 INTERNAL, request id ")
   for key, r in pairs(results) do H.contains(r.stderr, ", 6 attempts, GET ", key .. ": retried") end
   for _, mode in ipairs({ "file", "tty" }) do
      -- streamed: the first page is out, and the array is never closed
      local r = results["midway-json/" .. mode]
      H.ok(r.stdout:find("^%[\n{"), r.stdout)
      H.contains(r.stdout, '"id":"amysql-0000:000001"')
      H.not_contains(r.stdout, "amysql-0000:000002", "the failed page")
      H.ok(not r.stdout:find("%]%s*$"), "no closing bracket: " .. r.stdout)
      H.eq(#lines_of(r.stderr), 1, r.stderr)
      for _, scope in ipairs { "folders", "cloud" } do
         local t = results[scope .. "-table/" .. mode]
         local rows = lines_of(t.stdout)
         H.eq(#rows, 1 + 6, "a header and the two finished listings: " .. t.stdout)
         H.not_contains(t.stdout, "amysql-0001", "no row of the failed listing")
         H.contains(t.stdout, "amysql-0000:000002")
         H.contains(t.stdout, "bmysql-0000:000002")
         local j = results[scope .. "-json/" .. mode]
         H.not_contains(j.stdout, "amysql-0001", "no object of the failed listing")
         -- the finished listings whole, in an array left open
         H.eq(#cjson.decode(j.stdout .. "]"), 6, j.stdout)
      end
   end
   for _, case in ipairs { "folders-table", "folders-json", "cloud-table", "cloud-json" } do
      check_scan_lines(results, case, { "list-backups.lua: mysql amysql-0001: http error: Internal error (HTTP 500" },
         "6 backups, 2 pages, 1 listing failed")
   end
end)

H.test("Cluster.List forbidden (403): several folders fail naming each; one folder and restore-point unaffected",
   function()
   local s = fake { "path=/managed-mysql/v1/clusters?;status=403;times=0" }
   local results, took = run_all(s.url, H.token, runs("amysql-0000"))
   -- one folder is one Backup.List, which needs no Cluster.List; the
   -- restore point reads the Cluster object only for a caveat
   local ok = { ["cluster-table"] = 0, ["cluster-json"] = 0, ["folder-table"] = 0, ["folder-json"] = 0,
      ["restore-table"] = 0, ["restore-json"] = 0 }
   local failed = {}
   for key, r in pairs(results) do if not ok[key:match("^(.-)/")] then failed[key] = r end end
   check_common(failed, H.token, "Permission denied (HTTP 403 PERMISSION_DENIED", {})
   check_common(results, H.token, "", ok)
   H.ok(took < 20, "bounded: " .. took .. " s")
   check_folders_failed(results, { "folders-table", "folders-json", "cloud-table", "cloud-json" })
   for _, mode in ipairs({ "file", "tty" }) do
      local f = results["folder-json/" .. mode]
      H.eq(#cjson.decode(f.stdout), 6, "folder b1gfa listed whole")
      H.eq(f.stderr, "", "nothing on stderr")
      H.contains(results["folder-table/" .. mode].stderr, "6 backups, 1 page")
      H.eq(#cjson.decode(results["cluster-json/" .. mode].stdout), 3)
      local doc = cjson.decode(results["restore-json/" .. mode].output)
      H.eq(doc.restorable, true)
      H.contains(doc.caveats[1], "the Cluster object could not be read: http error: Permission denied (HTTP 403")
      H.contains(results["restore-table/" .. mode].stdout, "restorable  yes")
      H.contains(results["restore-table/" .. mode].stdout,
         "caveats     - the Cluster object could not be read: http error: Permission denied")
   end
end)

H.run_all()
