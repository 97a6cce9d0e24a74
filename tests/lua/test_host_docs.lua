-- The host's documentation held against the host itself, so neither can
-- drift: the options `mdblua --help` lists are exactly those of the man
-- page (OPTIONS and SYNOPSIS) and those the bash completion offers; what
-- the man page says -v prints is what it prints; the completion finds the
-- bundled scripts by name as the host runs them; README's package list
-- is the one tools/install-deps.sh installs.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local PAGE = H.source_dir .. "/doc/mdblua.1"
local COMPLETION = H.source_dir .. "/contrib/bash-completion/mdblua"

-- A set's members, sorted, as one string: a readable difference on failure.
local function listed(set)
   local out = {}
   for k in pairs(set) do out[#out + 1] = k end
   table.sort(out)
   return table.concat(out, " ")
end

-- The options in `mdblua --help`'s "Options:" list.
local function help_options()
   local r = H.run { "--help" }
   H.eq(r.code, 0, r.stderr)
   local block = assert(r.stdout:match("\nOptions:\n(.-)\n\n"), "an Options: list in --help")
   local set = {}
   for line in block:gmatch("[^\n]+") do
      local first = line:match("^  (%-%S*)")
      if first then
         set[first:gsub(",$", "")] = true
         for more in line:gmatch(", (%-[^%s,]+)") do set[more] = true end
      end
   end
   H.ok(set["--help"] and set["-e"], "parsed --help's options: " .. listed(set))
   return set
end

-- The options a man page section names: words starting with \- in its
-- font request lines (.B, .BR, .BI, .RB, ...) in the section `name`;
-- with `tagged_only`, only the tag lines after .TP.
local function page_options(name, tagged_only)
   local page = assert(H.read_file(PAGE))
   local section = assert(page:match("\n%.SH " .. name .. "\n(.-)\n%.SH "), "section " .. name)
   local set = {}
   local prev
   for line in section:gmatch("[^\n]+") do
      -- OPTIONS: only the tag line after each .TP; SYNOPSIS: every line
      if (not tagged_only or prev == ".TP") and line:match("^%.[BIR][BIR]? ") then
         local text = line:gsub("\\%-", "-")
         for opt in text:gmatch("%f[%S%[]%[?(%-[%w%-]*)") do set[opt] = true end
      end
      prev = line
   end
   return set
end

H.test("the man page's OPTIONS are exactly the options --help lists", function()
   H.eq(listed(page_options("OPTIONS", true)), listed(help_options()))
end)

H.test("the man page's SYNOPSIS names only options --help lists, and all of them", function()
   H.eq(listed(page_options("SYNOPSIS")), listed(help_options()))
end)

H.test("-v prints what the man page says: mdblua's and Lua's versions, the page's version", function()
   local r = H.run { "-v" }
   H.eq(r.code, 0)
   local version = r.stdout:match("^mdblua (%d+%.%d+%.%d+) %(Lua 5%.4%.%d+%)\n$")
   H.ok(version, "mdblua -v: " .. r.stdout)
   local page = H.read_file(PAGE)
   local entry = assert(page:match("\n%.BR \\%-v \", \" \\%-\\%-version\n([^\n]+)\n"), "the -v entry")
   H.contains(entry, "mdblua")
   H.contains(entry, "Lua")
   H.not_contains(entry:lower(), "curl", "-v prints no libcurl version")
   H.contains(page, '\n.TH MDBLUA 1 "', "the page's header")
   H.eq(page:match('\n%.TH MDBLUA 1 "[^"]*" "mdblua ([^"]+)"'), version, "the page's version")
end)

H.test("the version printed everywhere is CMakeLists.txt's project(VERSION)", function()
   local version = H.read_file(H.source_dir .. "/CMakeLists.txt"):match("\nproject%(mdblua VERSION (%d+%.%d+%.%d+)")
   H.ok(version, "project(mdblua VERSION x.y.z)")
   H.ok(H.run({ "-v" }).stdout:match("^mdblua " .. version:gsub("%.", "%%.") .. " %("), "mdblua -v")
   local r = H.run { "-e", "local mdb = require 'mdb' print(mdb.version, mdb._VERSION)" }
   H.eq(r.stdout, version .. "\tmdb " .. version .. "\n", "mdb.version and mdb._VERSION")
   H.contains(H.read_file(H.source_dir .. "/CHANGELOG.md"), "\n## [" .. version .. "]", "CHANGELOG.md")
end)

H.test("LICENSE is the MIT licence, and the rockspec names it", function()
   local text = H.read_file(H.source_dir .. "/LICENSE")
   H.ok(text and text:match("^MIT License\n\nCopyright %(c%) %d+ "), "LICENSE")
   H.contains(text, "Permission is hereby granted, free of charge,")
   local spec = {}
   local chunk = assert(load(H.read_file(H.source_dir .. "/mdblua-scm-1.rockspec"), "=rockspec", "t", spec))
   chunk()
   H.eq(spec.description.license, "MIT", "the rockspec's licence")
   -- the Debian package's copyright file carries the same text
   local copyright = H.read_file(H.source_dir .. "/contrib/debian/copyright")
   H.contains(copyright, "\nLicense: Expat\n")
   local body = text:match("\n\n(Permission.*)$")
   local indented = " " .. body:gsub("\n\n", "\n.\n"):gsub("\n$", ""):gsub("\n", "\n ")
   H.contains(copyright, indented .. "\n", "LICENSE's text in contrib/debian/copyright")
end)

H.test("README's quick-start package list is exactly tools/install-deps.sh's", function()
   local script = assert(H.read_file(H.source_dir .. "/tools/install-deps.sh"))
   local pkgs = {}
   for list in script:gmatch('\nPKGS="([^"]*)"') do
      for w in list:gmatch("%S+") do
         if w ~= "$PKGS" then pkgs[w] = true end
      end
   end
   H.ok(pkgs.cmake and pkgs.prometheus, "parsed install-deps.sh: " .. listed(pkgs))
   local readme = assert(H.read_file(H.source_dir .. "/README.md"))
   local para = assert(readme:match("\n`tools/install%-deps%.sh` installs what is missing(.-)they are all present"),
      "README's paragraph on install-deps.sh")
   -- every backticked word is a package, or the program one provides:
   -- "`prometheus` for `promtool`", "`poppler-utils` (`pdftotext`)"
   local named = {}
   for w in para:gmatch("`([^`]+)`") do
      local q = w:gsub("%p", "%%%0")
      if not para:find("for%s+`" .. q .. "`") and not para:find("%(`" .. q .. "`%)") then
         named[w] = true
      end
   end
   H.eq(listed(named), listed(pkgs))
end)

H.test("help('scan') names every client:scan option of README's table", function()
   local readme = assert(H.read_file(H.source_dir .. "/README.md"))
   local tbl = assert(readme:match("\n| option | meaning |\n|%-%-%-|%-%-%-|\n(| `engine` / `engines` |.-)\n\n"),
      "README's client:scan option table")
   local want = {}
   for cell in tbl:gmatch("\n?| ([^|]+) |") do
      for w in cell:gmatch("`([%w_]+)`") do want[w] = true end
   end
   H.ok(want.each and want.listed and want.with, "parsed README's table: " .. listed(want))
   local got = {}
   -- an option line starts "  name, name  text"; continuations are indented deeper
   for line in require("mdb.help").text(true, "scan"):match("\nOptions:\n(.-)\n\n"):gmatch("[^\n]+") do
      local rest, sep = line:match("^  (%S.*)$"), ","
      while rest and sep == "," do
         local w
         w, sep, rest = rest:match("^([%w_]+)(,?)%s*(.*)$")
         if w then got[w] = true end
      end
   end
   H.eq(listed(got), listed(want))
end)

--- The completions bash offers for `words` (the last is being typed), with
-- the build tree's mdblua first on PATH.
local function complete(...)
   local words = { ... }
   local quoted = {}
   for i, w in ipairs(words) do quoted[i] = H.sh_quote(w) end
   local bin = H.mdblua:match("^(.*)/[^/]*$")
   local script = string.format([[
      PATH=%s:$PATH
      . %s
      COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
      _mdblua
      printf '%%s\n' "${COMPREPLY[@]}"
   ]], H.sh_quote(bin), H.sh_quote(COMPLETION), table.concat(quoted, " "), #words - 1)
   local r = H.run({ "-c", script }, { program = "bash", cwd = H.tmp })
   H.eq(r.code, 0, r.stderr)
   return r.stdout
end

local function set_of(lines)
   local set = {}
   for w in lines:gmatch("[^\n]+") do set[w] = true end
   return set
end

H.test("bash completion offers exactly the options --help lists", function()
   H.eq(listed(set_of(complete("mdblua", "-"))), listed(help_options()))
   H.eq(complete("mdblua", "--tr"), "--trace\n")
   H.eq(complete("mdblua", "-i", "--tr"), "--trace\n", "after another option")
end)

H.test("bash completion: the word after an option with a value is no script", function()
   H.eq(complete("mdblua", "-e", ""), "\n", "Lua code: nothing offered")
   H.eq(complete("mdblua", "-e", "x = 1", "list-b"), "list-backups\n", "the script after -e CODE")
end)

H.test("bash completion: bundled scripts by name, then a named script's options", function()
   local names = {}
   for f in io.popen("ls " .. H.sh_quote(H.source_dir .. "/scripts")):read("a"):gmatch("(%S+)%.lua") do
      names[#names + 1] = f
      H.contains(complete("mdblua", f:sub(1, 2)), f .. "\n", "completes " .. f)
   end
   H.ok(#names >= 5, "scripts/ has the bundled scripts")
   local opts = complete("mdblua", "audit", "--")
   for _, want in ipairs { "--policy", "--engine", "--format", "--help" } do
      H.contains(opts, want .. "\n", "audit's " .. want)
   end
   H.eq(complete("mdblua", "list-backups", "--engine", "p"), "postgresql\n")
end)

H.test("README's script synopses have balanced brackets", function()
   local readme = assert(H.read_file(H.source_dir .. "/README.md"))
   local n = 0
   for line in readme:gmatch("[^\n]+") do
      if line:find("^mdblua scripts/") then
         n = n + 1
         local depth = 0
         for ch in line:gmatch("[%[%]]") do
            depth = depth + (ch == "[" and 1 or -1)
            H.ok(depth >= 0, "a ']' before its '[': " .. line)
         end
         H.eq(depth, 0, line)
      end
   end
   H.ok(n >= 5, "found the synopses")
end)

H.run_all()
