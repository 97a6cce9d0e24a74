/* libFuzzer target: the pure-Lua parsers of user input — durations of
** audit policies and retention policies (mdb.duration), time zones
** (mdb.tz) — run in a real Lua state on any text.  They must return a
** value or raise a Lua error with a message; never crash, never hang
** (libFuzzer's -timeout catches a runaway pattern). */
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef MDB_LUA_DIR
#error "MDB_LUA_DIR must name the source tree's lua/ directory"
#endif

static lua_State *L;

static const char driver[] =
  "local which, text = ...\n"
  "local duration, tz = require 'mdb.duration', require 'mdb.tz'\n"
  "local f = ({duration.parse, duration.parse_calendar, tz.zone})[which % 3 + 1]\n"
  "local ok, err = pcall(f, text)\n"
  "if not ok and type(err) ~= 'string' and type(err) ~= 'table' then\n"
  "  error('error is not a message: ' .. type(err))\n"
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
  if (lua_pcall(L, 2, 0, 0) != LUA_OK)
    abort();   /* the driver itself failed: a non-message error */
  lua_settop(L, 0);
  return 0;
}
