-- Installation as the Lua and Linux ecosystems expect it: cmake --install
-- into a temporary prefix puts every file in its standard place; the stock
-- lua5.4 requires mdb from there (on the search path Debian's lua5.4 has
-- for /usr/local) and lists backups from the fake API; the man page
-- renders with man -l; --help is complete; the bash completion completes;
-- the systemd and cron examples hold the documented audit command;
-- luarocks make builds and installs the module into a temporary tree.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local build = assert(os.getenv("MDB_BUILD_DIR"), "MDB_BUILD_DIR is not set")
local AUDIT = "/usr/share/mdblua/scripts/audit.lua --policy /etc/mdblua/policy.lua --format prometheus "
   .. "--output /var/lib/node_exporter/textfile_collector/mdb_backups.prom"
local KEY = "YC_SERVICE_ACCOUNT_KEY_FILE=/etc/mdblua/key.json"

local function sh(cmd)
   local p = assert(io.popen(cmd .. " 2>&1"))
   local out = p:read("a")
   local ok, _, code = p:close()
   return ok and 0 or code, out
end

local function rm_rf(dir)
   os.execute("rm -rf " .. H.sh_quote(dir))
end

-- Every scratch directory the tests make; the last test removes them and
-- fails if any is left.
local made = {}
local function scratch(suffix)
   local dir = H.tmpname(suffix)
   made[#made + 1] = dir
   return dir
end

-- Install once into a prefix shared by the tests below.
local prefix
local function installed()
   if prefix then return prefix end
   prefix = scratch("-prefix")
   local code, out = sh("cmake --install " .. H.sh_quote(build) .. " --prefix " .. H.sh_quote(prefix))
   H.eq(code, 0, "cmake --install: " .. out)
   return prefix
end

-- Relative path of mdb.so under the prefix.
local function module_path(p)
   local _, out = sh("cd " .. H.sh_quote(p) .. " && find . -name mdb.so")
   return (out:match("^%./(%S+)\n"))
end

-- A sanitizer build's mdb.so needs the ASan runtime loaded first into an
-- uninstrumented lua5.4.
local function stock_lua_env(env)
   local cache = H.read_file(build .. "/CMakeCache.txt") or ""
   if cache:find("MDB_SANITIZE:BOOL=ON", 1, true) then
      local cc = cache:match("CMAKE_C_COMPILER:[%w]+=([^\n]+)") or "cc"
      local _, lib = sh(H.sh_quote(cc) .. " -print-file-name=libasan.so")
      env.LD_PRELOAD = lib:match("^(%S+)")
      env.ASAN_OPTIONS = "detect_leaks=0"
   end
   return env
end

-- Lua that lists a fake API's backups with the stock interpreter.
local LIST = [[
   local mdb = require "mdb"
   local fmt = require "mdb.fmt"
   local c = mdb.client { endpoint = os.getenv("ENDPOINT"), token = os.getenv("TOKEN") }
   for b in c:backups { engine = "postgresql", cluster = "cpostgresql-0000" } do
      print(b.id, fmt.size(b.size), b.engine)
   end
   local ok, e = pcall(function() for _ in c:backups { engine = "mysql", cluster = "nope" } do end end)
   print(ok, mdb.is_error(e), e.kind, e.status)
   print(package.searchpath("mdb", package.cpath))
   print(type(require("mdb.repl").show), require("mdb.repl").show(1, { 1, "a" }))
]]

local EXPECTED_LIST = "cpostgresql-0000:000000\t5.0 GiB\tpostgresql\n"
   .. "cpostgresql-0000:000001\t5.4 GiB\tpostgresql\n"
   .. "false\ttrue\thttp\t404\n"

H.test("cmake --install puts the binary, module, libraries, scripts, man page and examples in place", function()
   local p = installed()
   for _, f in ipairs { "bin/mdblua", "share/mdblua/scripts/list-backups.lua", "share/man/man1/mdblua.1.gz",
         "share/bash-completion/completions/mdblua", "share/doc/mdblua/examples/systemd/mdblua-audit.service",
         "share/doc/mdblua/examples/systemd/mdblua-audit.timer", "share/doc/mdblua/examples/cron/mdblua-audit",
         "share/doc/mdblua/README.md", "share/doc/mdblua/copyright", "share/doc/mdblua/changelog.gz",
         "share/doc/mdblua/CHANGELOG.md.gz" } do
      H.ok(H.read_file(p .. "/" .. f), f .. " installed")
   end
   local _, sources = sh("ls " .. H.sh_quote(H.source_dir .. "/lua/mdb"))
   for name in sources:gmatch("(%S+%.lua)") do
      H.eq(H.read_file(p .. "/share/lua/5.4/mdb/" .. name), H.read_file(H.source_dir .. "/lua/mdb/" .. name),
         "share/lua/5.4/mdb/" .. name)
   end
   local rel = module_path(p)
   H.ok(rel and rel:match("^lib/[%w_-]*/?lua/5%.4/mdb%.so$"), "mdb.so in lib/lua/5.4: " .. tostring(rel))
   local code = sh(H.sh_quote(p .. "/bin/mdblua") .. " -v")
   H.eq(code, 0, "the installed mdblua runs")
end)

H.test("the paths are the ones Debian's stock lua5.4 searches under /usr/local", function()
   local p = installed()
   local r = H.run({ "-e", "print(package.cpath) print(package.path)" }, { program = "lua5.4",
      env = { LUA_PATH = false, LUA_CPATH = false, LUA_PATH_5_4 = false, LUA_CPATH_5_4 = false } })
   H.eq(r.code, 0, r.stderr)
   local rel = module_path(p)
   H.contains(r.stdout, "/usr/local/" .. rel:gsub("mdb%.so$", "?.so"), "cpath")
   H.contains(r.stdout, "/usr/local/share/lua/5.4/?.lua", "path")
end)

H.test("the stock lua5.4 requires mdb from the prefix and lists backups from the fake API", function()
   local p = installed()
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=2" }
   local rel = module_path(p)
   local env = stock_lua_env {
      LUA_CPATH = p .. "/" .. rel:gsub("mdb%.so$", "?.so") .. ";;",
      LUA_PATH = p .. "/share/lua/5.4/?.lua;;",
      LUA_PATH_5_4 = false, LUA_CPATH_5_4 = false,
      ENDPOINT = s.url, TOKEN = H.token,
   }
   local r = H.run({ "-e", LIST }, { program = "lua5.4", env = env, cwd = "/" })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, EXPECTED_LIST .. p .. "/" .. rel .. "\nfunction\t{ 1, \"a\" }\n")
end)

H.test("man -l renders the man page without warnings", function()
   local p = installed()
   local page = p .. "/share/man/man1/mdblua.1.gz"
   local out, err = H.tmpname(".man"), H.tmpname(".manerr")
   local ok = os.execute("MANWIDTH=80 man --warnings -P cat -l " .. H.sh_quote(page) .. " >" .. H.sh_quote(out)
      .. " 2>" .. H.sh_quote(err))
   local text, warnings = H.read_file(out) or "", H.read_file(err) or ""
   H.ok(ok, "man -l: " .. warnings)
   H.eq(warnings, "", "warnings")
   H.ok(text:match("\n%s+mdblua%s+%-%s+Lua 5%.4 with the mdb module"), "the NAME line: " .. text)
   for _, want in ipairs { "NAME", "SYNOPSIS", "OPTIONS", "THE PROMPT",
         "EXIT STATUS", "ENVIRONMENT", "YC_IAM_TOKEN", "FILES", "~/.mdblua_history", "EXAMPLES" } do
      H.contains(text, want)
   end
end)

H.test("--help names every option and variable of the man page; each bundled script has --help", function()
   local r = H.run { "--help" }
   H.eq(r.code, 0)
   local page = H.read_file(H.source_dir .. "/doc/mdblua.1")
   for _, want in ipairs { "-e CODE", "-i ", "  - ", "  -- ", "-v, --version", "-h, --help", "help()",
         "Tab", "Ctrl-C", "Ctrl-D", "list-backups", "YC_IAM_TOKEN", "YC_MDB_ENDPOINT", "YC_FOLDER_ID",
         "MDBLUA_HISTORY", "TERM", "mdblua(1)" } do
      H.contains(r.stdout, want)
   end
   for var in page:gmatch("\n%.TP\n%.B ([A-Z_]+)\n") do H.contains(r.stdout, var, "--help names " .. var) end
   local _, scripts = sh("ls " .. H.sh_quote(H.source_dir .. "/scripts"))
   for name in scripts:gmatch("(%S+%.lua)") do
      local s = H.run { H.source_dir .. "/scripts/" .. name, "--help" }
      H.eq(s.code, 0, name .. " --help: " .. s.stderr)
      H.ok(s.stdout:match("^usage: mdblua " .. name:gsub("%p", "%%%0")), name .. " --help: " .. s.stdout)
   end
end)

H.test("the docs: the man page and CHANGELOG.md gzipped, a Debian changelog of every version", function()
   local p = installed()
   local doc = p .. "/share/doc/mdblua/"
   local _, man = sh("zcat " .. H.sh_quote(p .. "/share/man/man1/mdblua.1.gz"))
   H.eq(man, H.read_file(H.source_dir .. "/doc/mdblua.1"), "mdblua.1.gz")
   local _, md = sh("zcat " .. H.sh_quote(doc .. "CHANGELOG.md.gz"))
   H.eq(md, H.read_file(H.source_dir .. "/CHANGELOG.md"), "CHANGELOG.md.gz")
   H.eq(H.read_file(doc .. "copyright"), H.read_file(H.source_dir .. "/contrib/debian/copyright"), "copyright")
   -- dpkg's own parser reads the Debian changelog: every version of
   -- CHANGELOG.md, newest first, the newest the one mdblua -v prints
   local plain = H.tmpname(".changelog")
   local code, out = sh("zcat " .. H.sh_quote(doc .. "changelog.gz") .. " >" .. H.sh_quote(plain)
      .. " && dpkg-parsechangelog -l " .. H.sh_quote(plain) .. " --all --format rfc822")
   os.remove(plain)
   H.eq(code, 0, "dpkg-parsechangelog: " .. out)
   local versions = {}
   for v in out:gmatch("\nVersion: (%S+)") do versions[#versions + 1] = v end
   out = table.concat(versions, "\n") .. "\n"
   local want = {}
   for v in md:gmatch("\n## %[(%d+%.%d+%.%d+)%]") do want[#want + 1] = v end
   H.ok(#want >= 2, "CHANGELOG.md's versions")
   H.eq(out, table.concat(want, "\n") .. "\n", "the Debian changelog's versions")
   H.ok(H.run({ "-v" }).stdout:match("^mdblua " .. want[1]:gsub("%.", "%%.") .. " "), "the newest is this version")
end)

H.test("the installed mdblua runs its scripts by name, lists them, and names them when a name is wrong", function()
   local p = installed()
   local bin = p .. "/bin/mdblua"
   local dir = io.popen("readlink -f " .. H.sh_quote(p .. "/share/mdblua/scripts")):read("l")
   local _, names = sh("cd " .. H.sh_quote(dir) .. " && ls *.lua | sed 's/\\.lua$//'")
   local want = {}
   for n in names:gmatch("%S+") do want[#want + 1] = n end
   H.ok(#want >= 5, "the installed scripts: " .. names)
   local r = H.run({ "--help" }, { program = bin, cwd = "/" })
   H.eq(r.code, 0, r.stderr)
   -- the names after `head`, filled into indented lines of at most 72
   -- columns; and what follows them
   local function listed(text, head)
      local at = text:find(head, 1, true)
      H.ok(at, text)
      local got, pos = {}, at + #head
      for line in text:sub(pos):gmatch("([^\n]*)\n") do
         if not line:match("^  %S") then break end
         H.ok(#line <= 72, line)
         for n in line:gmatch("%S+") do got[#got + 1] = n end
         pos = pos + #line + 1
      end
      return got, text:sub(pos)
   end
   H.eq((listed(r.stdout, "Bundled scripts, each with --help (in " .. dir .. "):\n")), want)
   for name in names:gmatch("%S+") do
      local s = H.run({ name, "--help" }, { program = bin, cwd = "/" })
      H.eq(s.code, 0, name .. ": " .. s.stderr)
      H.ok(s.stdout:match("^usage: mdblua " .. name:gsub("%p", "%%%0") .. "%.lua"), name .. ": " .. s.stdout)
   end
   -- a script an administrator adds is run by name as well
   H.write_file(dir .. "/site-check.lua", "print('site check', ...)")
   local s = H.run({ "site-check", "a" }, { program = bin, cwd = "/" })
   os.remove(dir .. "/site-check.lua")
   H.eq(s.code, 0, s.stderr)
   H.eq(s.stdout, "site check\ta\n")
   local bad = H.run({ "inventroy" }, { program = bin, cwd = "/" })
   H.eq(bad.code, 2)
   local head = "mdblua: cannot open inventroy: no such file, and no bundled script of that name; "
      .. "the scripts in " .. dir .. ":\n"
   H.eq(bad.stderr:sub(1, #head), head)
   H.eq({ listed(bad.stderr, head) }, { want, "" })
end)

H.test("bash completion: mdblua's options, the bundled scripts, a script's options and engines", function()
   local p = installed()
   local function complete(...)
      local words = { ... }
      local quoted = {}
      for i, w in ipairs(words) do quoted[i] = H.sh_quote(w) end
      local script = string.format([[
         PATH=%s:$PATH
         . %s
         COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
         _mdblua
         printf '%%s\n' "${COMPREPLY[@]}"
      ]], H.sh_quote(p .. "/bin"), H.sh_quote(p .. "/share/bash-completion/completions/mdblua"),
         table.concat(quoted, " "), #words - 1)
      local r = H.run({ "-c", script }, { program = "bash", cwd = H.tmp })
      H.eq(r.code, 0, r.stderr)
      return r.stdout
   end
   local opts = complete("mdblua", "--")
   H.contains(opts, "--help\n")
   H.contains(opts, "--version\n")
   H.contains(opts, "--trace\n")
   H.eq(complete("mdblua", "inv"), "inventory\n", "a bundled script by name")
   H.contains(complete("mdblua", "inventory", "--"), "--format\n", "a named script's options")
   local dir = p .. "/share/mdblua/scripts"
   H.contains(complete("mdblua", dir .. "/li"), dir .. "/list-backups.lua\n")
   H.contains(complete("mdblua", "-i", dir .. "/li"), dir .. "/list-backups.lua\n")
   local sopts = complete("mdblua", dir .. "/list-backups.lua", "--")
   for _, want in ipairs { "--engine", "--cluster", "--folder", "--json", "--limit", "--help" } do
      H.contains(sopts, want .. "\n")
   end
   H.eq(complete("mdblua", dir .. "/list-backups.lua", "--engine", "p"), "postgresql\n")
   H.eq(complete("mdblua", dir .. "/list-backups.lua", "--cluster", ""), "\n", "no file names for an id")
   H.contains(complete("mdblua", dir .. "/list-backups.lua", "--json", "--"), "--limit\n", "a flag takes no value")
end)

H.test("the systemd service and timer and the crontab run audit.lua with the key, for node_exporter", function()
   local p = installed()
   local ex = p .. "/share/doc/mdblua/examples/"
   local service = H.read_file(ex .. "systemd/mdblua-audit.service")
   H.contains(service, "\nExecStart=/usr/bin/mdblua " .. AUDIT .. "\n")
   H.contains(service, "\nEnvironment=" .. KEY .. "\n")
   H.contains(service, "\nType=oneshot\n")
   H.contains(service, "\nReadWritePaths=/var/lib/node_exporter/textfile_collector\n")
   local timer = H.read_file(ex .. "systemd/mdblua-audit.timer")
   H.contains(timer, "\nOnCalendar=")
   H.contains(timer, "\nWantedBy=timers.target\n")
   local cron = H.read_file(ex .. "cron/mdblua-audit")
   H.contains(cron, "\n" .. KEY .. "\n")
   local line = cron:match("\n(%*/15 [^\n]+)")
   H.ok(line, "a schedule line")
   local fields = {}
   for w in line:gmatch("%S+") do fields[#fields + 1] = w end
   H.eq(fields[6], "mdblua", "the user field of /etc/cron.d")
   H.contains(line, " mdblua " .. AUDIT .. " ")
   -- systemd's own check, where systemd is there: the units parse, and
   -- Documentation=man:mdblua(1) is found in the installed man pages.
   if sh("command -v systemd-analyze") == 0 then
      local dir = scratch("-units")
      assert(os.execute("mkdir -p " .. H.sh_quote(dir)))
      H.write_file(dir .. "/mdblua-audit.service", (service:gsub("/usr/bin/mdblua", p .. "/bin/mdblua")))
      H.write_file(dir .. "/mdblua-audit.timer", timer)
      local code, out = sh("MANPATH=" .. H.sh_quote(p .. "/share/man") .. " systemd-analyze verify "
         .. H.sh_quote(dir .. "/mdblua-audit.service") .. " " .. H.sh_quote(dir .. "/mdblua-audit.timer"))
      H.eq(code, 0, "systemd-analyze verify: " .. out)
      rm_rf(dir)
   else
      print("note: systemd-analyze is not installed; the units were checked by their text only")
   end
end)

H.test("luarocks make builds the module into a tree where the stock lua5.4 finds it", function()
   local work = scratch("-rock")
   local src, tree, home = work .. "/src", work .. "/tree", work .. "/home"
   assert(os.execute("mkdir -p " .. H.sh_quote(src) .. " " .. H.sh_quote(home)))
   -- a copy of the checkout, so the build directory stays out of the sources
   local code, out = sh("cd " .. H.sh_quote(H.source_dir)
      .. " && tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C " .. H.sh_quote(src))
   H.eq(code, 0, out)
   code, out = sh("cd " .. H.sh_quote(src) .. " && HOME=" .. H.sh_quote(home)
      .. " luarocks --lua-version 5.4 make --tree " .. H.sh_quote(tree) .. " mdblua-scm-1.rockspec")
   H.eq(code, 0, "luarocks make: " .. out)
   H.contains(out, "mdblua scm-1 is now installed in " .. tree)
   H.ok(H.read_file(tree .. "/lib/lua/5.4/mdb.so"), "lib/lua/5.4/mdb.so in the tree")
   H.ok(H.read_file(tree .. "/share/lua/5.4/mdb/fmt.lua"), "share/lua/5.4/mdb/fmt.lua in the tree")
   local _, paths = sh("HOME=" .. H.sh_quote(home) .. " luarocks --lua-version 5.4 path --tree " .. H.sh_quote(tree))
   local env = { LUA_PATH_5_4 = false, LUA_CPATH_5_4 = false, ENDPOINT = nil, TOKEN = H.token }
   env.LUA_PATH = paths:match("LUA_PATH='([^']*)'")
   env.LUA_CPATH = paths:match("LUA_CPATH='([^']*)'")
   H.ok(env.LUA_PATH and env.LUA_CPATH, "luarocks path: " .. paths)
   local s = H.start_fake { "--generate", "engine=postgresql,clusters=1,backups=2" }
   env.ENDPOINT = s.url
   local r = H.run({ "-e", LIST }, { program = "lua5.4", env = env, cwd = "/" })
   H.eq(r.code, 0, r.stderr)
   H.eq(r.stdout, EXPECTED_LIST .. tree .. "/lib/lua/5.4/mdb.so\nfunction\t{ 1, \"a\" }\n")
   rm_rf(work)
end)

H.test("cleanup: every scratch directory is removed", function()
   for _, dir in ipairs(made) do
      rm_rf(dir)
      H.eq(sh("test -e " .. H.sh_quote(dir)), 1, dir .. " is gone")
   end
   prefix = nil
end)

H.run_all()
