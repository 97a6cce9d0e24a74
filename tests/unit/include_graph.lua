--[[
The include graph of core/ runs downwards only.  core/ is split into rooms,
top to bottom:

  listing/  fetch_engine, page_cursor, list_url: orchestrates the others
  auth/     where bearer tokens come from
  http/     one request on a libcurl handle, retries, cancellation, tracing
  text/     JSON, numbers, timestamps, secrets in text

A file may include headers of its own room and of the rooms below it, and
the headers at core/'s root (engines, error kinds, defaults), which in turn
include only each other.  Every include of a core header names its room
("http/cancel.h"), so the graph can be read from the source.

Usage: mdblua include_graph.lua SOURCE_DIR  (the tree holding core/)
Prints the edges between rooms; exits 1 and names each include that runs
upward or sideways, or that names no file under core/.
]]

local RANK = { text = 1, http = 2, auth = 3, listing = 4 }

local root = assert(arg[1], "usage: include_graph.lua SOURCE_DIR")
local core = root .. "/core/"

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local function room_of(rel)
  return rel:match("^([^/]+)/") or "root"
end

local list = assert(io.popen("cd '" .. core .. "' && find . -name '*.[ch]' | sort"))
local files = {}
for line in list:lines() do files[#files + 1] = line:gsub("^%./", "") end
list:close()
if #files == 0 then
  io.stderr:write("include_graph: no sources under ", core, "\n")
  os.exit(1)
end

local bad, edges, order = {}, {}, {}
for _, rel in ipairs(files) do
  local from = room_of(rel)
  if from ~= "root" and not RANK[from] then
    bad[#bad + 1] = ("%s: unknown room %s/ (known: listing, auth, http, text)"):format(rel, from)
  end
  local n = 0
  for line in io.lines(core .. rel) do
    n = n + 1
    local inc = line:match('^%s*#%s*include%s*"([^"]+)"')
    if inc then
      local to = room_of(inc)
      local where = ("%s:%d: #include \"%s\""):format(rel, n, inc)
      if not exists(core .. inc) then
        bad[#bad + 1] = where .. " names no file under core/ (includes name their room)"
      elseif to ~= from then
        local ok
        if to == "root" then ok = true
        elseif from == "root" then ok = false
        else ok = (RANK[from] or 0) > (RANK[to] or 0) end
        if not ok then
          bad[#bad + 1] = ("%s runs upward or sideways: %s/ -> %s/"):format(where, from, to)
        end
        local key = from .. " -> " .. to
        if not edges[key] then order[#order + 1] = key end
        edges[key] = (edges[key] or 0) + 1
      end
    end
  end
end

table.sort(order)
for _, key in ipairs(order) do print(("%-20s %d includes"):format(key, edges[key])) end
for _, msg in ipairs(bad) do io.stderr:write("include_graph: ", msg, "\n") end
print(("%d files, %d bad includes"):format(#files, #bad))
os.exit(#bad == 0 and 0 or 1)
