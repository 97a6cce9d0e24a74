--[[
One way to do each thing in the Lua sources: the helpers that used to be
copied from file to file are written once, and this check finds a copy
that comes back.  Over every *.lua file under lua/ and scripts/:

  size_of          defined in lua/mdb/backup.lua only
  status rank      the table {ok = 0, warning = 1, ...} in lua/mdb/status.lua only
  aligned columns  text padded with blanks (`.. rep(" ", ...)`) in
                   lua/mdb/aligned.lua only
  records          a csv line cut from an ordered object (`line[i] = o[k]`)
                   in one function of lua/mdb/report.lua
  JSON writing     key order (`__json_order`) in lua/mdb/json.lua only
  version          project(VERSION) in CMakeLists.txt only: no module sets
                   its own _VERSION (Lua reads mdb.version)

Usage: mdblua one_way.lua SOURCE_DIR
Prints each helper's count; exits 1 and names every place a copy is.
]]

local root = assert(arg[1], "usage: one_way.lua SOURCE_DIR")

local HELPERS = {
   { name = "size_of", home = "lua/mdb/backup.lua", count = 1,
     patterns = { "function%s+[%w_.:]*size_of%s*%(", "size_of%s*=%s*function" } },
   { name = "status rank", home = "lua/mdb/status.lua", count = 1,
     patterns = { "ok%s*=%s*0%s*,%s*warning%s*=%s*1" } },
   { name = "aligned columns", home = "lua/mdb/aligned.lua", count = 2,
     patterns = { "%.%.%s*[%w_.]*rep%(%s*\" \"", "rep%(%s*\" \"%s*,[^)]*%)%s*%.%." } },
   { name = "records", home = "lua/mdb/report.lua", count = 1,
     patterns = { "line%[[%w_]+%]%s*=%s*o%[[%w_]+%]" } },
   { name = "JSON key order", home = "lua/mdb/json.lua", count = 2,
     patterns = { "__json_order" } },
   { name = "version", home = "CMakeLists.txt", count = 0,   -- Lua reads it as mdb.version
     patterns = { "_VERSION%s*=%s*[\"']" } },
}

local list = assert(io.popen("cd '" .. root .. "' && find lua scripts -name '*.lua' 2>/dev/null | sort"))
local files = {}
for line in list:lines() do files[#files + 1] = line end
list:close()
if #files == 0 then
   io.stderr:write("one_way: no Lua sources under ", root, "\n")
   os.exit(1)
end

local bad = 0
for _, h in ipairs(HELPERS) do
   local found = {}
   for _, rel in ipairs(files) do
      local n = 0
      for text in io.lines(root .. "/" .. rel) do
         n = n + 1
         local code = text:gsub("^%s*%-%-.*$", "")   -- a comment may name the helper
         for _, p in ipairs(h.patterns) do
            if code:find(p) then
               found[#found + 1] = { rel = rel, line = n }
               break
            end
         end
      end
   end
   local home = 0
   for _, f in ipairs(found) do
      if f.rel == h.home then
         home = home + 1
      else
         bad = bad + 1
         io.stderr:write(("one_way: %s:%d: a copy of %s (it lives in %s)\n"):format(f.rel, f.line, h.name, h.home))
      end
   end
   if home ~= h.count then
      bad = bad + 1
      io.stderr:write(("one_way: %s: %d places of %s, want %d\n"):format(h.home, home, h.name, h.count))
   end
   print(("%-16s %d in %s, %d elsewhere"):format(h.name, home, h.home, #found - home))
end
print(("%d files, %d copies"):format(#files, bad))
os.exit(bad == 0 and 0 or 1)
