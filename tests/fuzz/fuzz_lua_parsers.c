/* libFuzzer target: the pure-Lua parsers of user input — durations of
** audit policies and retention policies (mdb.duration), time zones
** (mdb.tz) — run in a real Lua state on any text.  They promise a value,
** or nil and a message, for every string: a raised error is a failure
** (abort), and so is nil without a message, or a zone whose offset or
** civil time cannot be computed.  Never crash, never hang (libFuzzer's
** -timeout catches a runaway pattern). */
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef MDB_LUA_DIR
#error "MDB_LUA_DIR must name the source tree's lua/ directory"
#endif

static lua_State *L;

static const char driver[] =
    "local which, text = ...\n"
    "local duration, tz = require 'mdb.duration', require 'mdb.tz'\n"
    "local f = ({duration.parse, duration.parse_calendar, tz.zone})[which % 3 "
    "+ 1]\n"
    "local ok, v, msg = pcall(f, text)\n"
    "if not ok then error('raised instead of returning nil, message: ' .. "
    "tostring(v), 0) end\n"
    "if v == nil then\n"
    "  if type(msg) ~= 'string' or msg == '' then error('nil without a "
    "message', 0) end\n"
    "elseif f == tz.zone then\n"
    "  if math.type(v:offset(0)) == nil then error('a zone without an offset', "
    "0) end\n"
    "  if type(v:civil(1.7e9).days) ~= 'number' then error('a zone without "
    "civil time', 0) end\n"
    "  if type(v.name) ~= 'string' then error('a zone without a name', 0) end\n"
    "elseif math.type(v) == nil and type(v) ~= 'table' then\n"
    "  error('a duration that is neither seconds nor a calendar table', 0)\n"
    "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (L == NULL) {
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_dostring(L, "package.path = '" MDB_LUA_DIR "/?.lua;' .. package.path");
  }
  if (size < 1)
    return 0;
  if (luaL_loadbuffer(L, driver, sizeof driver - 1, "=driver") != LUA_OK)
    abort();
  lua_pushinteger(L, data[0]);
  lua_pushlstring(L, (const char *)data + 1, size - 1);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    /* a parser broke its promise: say how, then let libFuzzer keep the input */
    fprintf(stderr, "fuzz_lua_parsers: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  return 0;
}
