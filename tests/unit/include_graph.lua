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

The Lua binding (lua/binding/) sees core only through headers that keep
OpenSSL's out: no core header it reaches, directly or through others,
includes <openssl/...>.

Usage: mdblua include_graph.lua SOURCE_DIR  (the tree holding core/)
Prints the edges between rooms; exits 1 and names each include that runs
upward or sideways or names no file under core/, and each path by which
an OpenSSL header reaches the binding.
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

-- Which core headers the binding reaches, and through which include.
local function quoted_includes(path)
  local out = {}
  local f = io.open(path, "r")
  if not f then return out end
  for line in f:lines() do
    local inc = line:match('^%s*#%s*include%s*"([^"]+)"')
    if inc then out[#out + 1] = inc end
  end
  f:close()
  return out
end

local function includes_openssl(path)
  for line in io.lines(path) do
    if line:match("^%s*#%s*include%s*<openssl/") then return true end
  end
  return false
end

local binding = assert(io.popen("cd '" .. root .. "' && find lua/binding -name '*.[ch]' 2>/dev/null | sort"))
local seen = {}
local function reach(inc, via)
  if seen[inc] or not exists(core .. inc) then return end
  seen[inc] = true
  if includes_openssl(core .. inc) then
    bad[#bad + 1] = ("<openssl/...> reaches the binding: %s -> %s"):format(via, inc)
  end
  for _, next_inc in ipairs(quoted_includes(core .. inc)) do
    reach(next_inc, via .. " -> " .. inc)
  end
end
for file in binding:lines() do
  for _, inc in ipairs(quoted_includes(root .. "/" .. file)) do reach(inc, file) end
end
binding:close()

table.sort(order)
for _, key in ipairs(order) do print(("%-20s %d includes"):format(key, edges[key])) end
for _, msg in ipairs(bad) do io.stderr:write("include_graph: ", msg, "\n") end
print(("%d files, %d bad includes"):format(#files, #bad))
os.exit(#bad == 0 and 0 or 1)
