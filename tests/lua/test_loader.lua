-- The host reaches mdb.so through one exported table (lua/binding/mdb.h),
-- never the module's internal symbols by name: a module whose table is of
-- another version, or that has none, is refused with a message that says
-- so.  Each case copies mdblua next to a stub module built here.
package.path = arg[0]:match("^(.*)/[^/]*$") .. "/?.lua;" .. package.path
local H = require "harness"

local build = assert(os.getenv("MDB_BUILD_DIR"), "MDB_BUILD_DIR is not set")

local function sh(cmd)
   local p = assert(io.popen(cmd .. " 2>&1"))
   local out = p:read("a")
   local ok = p:close()
   return ok, out
end

local function cc()
   local cache = H.read_file(build .. "/CMakeCache.txt") or ""
   return cache:match("CMAKE_C_COMPILER:[%w]+=([^\n]+)") or "cc"
end

--- A directory holding a copy of mdblua and lua-module/mdb.so built from
-- `source` (the build-tree layout the host looks for first).
local function host_with_module(source)
   local dir = H.tmpname(".loader")
   assert(os.execute("mkdir -p " .. H.sh_quote(dir .. "/lua-module")))
   assert(os.execute("cp " .. H.sh_quote(H.mdblua) .. " " .. H.sh_quote(dir .. "/mdblua")))
   local c = H.write_file(dir .. "/stub.c", source)
   local ok, out = sh(H.sh_quote(cc()) .. " -shared -fPIC -I" .. H.sh_quote(H.source_dir .. "/lua/binding") ..
      " $(pkg-config --cflags lua5.4) -o " .. H.sh_quote(dir .. "/lua-module/mdb.so") .. " " .. H.sh_quote(c))
   H.ok(ok, "stub module built: " .. out)
   return dir .. "/mdblua"
end

local LUAOPEN = [[
int luaopen_mdb(lua_State *L) { lua_newtable(L); lua_pushliteral(L, "stub"); lua_setfield(L, -2, "version"); return 1; }
]]

H.test("a module whose host table is of another version is refused", function()
   local host = host_with_module([[
#include "mdb.h"
]] .. LUAOPEN .. [[
static void nothing(void) {}
static int none(void) { return 0; }
const mdb_host_api mdb_host_exports = { 99, luaopen_mdb, nothing, none, nothing };
]])
   local r = H.run({ "-e", 'print(require("mdb").version)' }, { program = host })
   H.ok(r.code ~= 0, "refused: " .. r.stdout)
   H.contains(r.stderr, "cannot load the mdb module")
   H.contains(r.stderr, "host table version 99, this mdblua needs 1")
end)

H.test("a module with luaopen_mdb but no host table is refused, naming the table", function()
   local host = host_with_module("#include <lua.h>\n" .. LUAOPEN .. [[
void cancel_raise(void) {}
int cancel_requested(void) { return 0; }
void cancel_clear(void) {}
]])
   local r = H.run({ "-e", 'print(require("mdb").version)' }, { program = host })
   H.ok(r.code ~= 0, "refused: " .. r.stdout)
   H.contains(r.stderr, "mdb_host_exports")
end)

H.test("a module with the right table is loaded through it", function()
   local host = host_with_module([[
#include "mdb.h"
]] .. LUAOPEN .. [[
static void nothing(void) {}
static int none(void) { return 0; }
const mdb_host_api mdb_host_exports = { MDB_HOST_API_VERSION, luaopen_mdb, nothing, none, nothing };
]])
   local r = H.run({ "-e", 'print(require("mdb").version)' }, { program = host })
   H.eq({ r.code, r.stdout }, { 0, "stub\n" }, r.stderr)
end)

H.test("the real module exports its host table", function()
   local r = H.run({ "-e", 'print(require("mdb").version)' })
   H.eq(r.code, 0, r.stderr)
   local ok, out = sh("nm -D --defined-only " .. H.sh_quote(build .. "/lua-module/mdb.so"))
   H.ok(ok, out)
   H.ok(out:find(" mdb_host_exports\n", 1, true), "mdb_host_exports is exported")
end)

H.run_all()
