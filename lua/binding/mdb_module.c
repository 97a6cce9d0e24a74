/*
** luaopen_mdb: the `mdb` module table (client, engines, parse_time,
** is_error, version) and the metatables of its objects.  JSON is decoded
** by a private lua-cjson instance, so a script's cjson settings never
** change how API responses are read.
*/
#include "mdb_binding.h"

#include "mdb_defaults.h"
#include "rfc3339.h"

#include <curl/curl.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* mdb.parse_time(s) -> Unix seconds (float), or nil and a message. */
static int mdb_parse_time(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  rfc3339_time t;
  if (rfc3339_parse(s, len, &t) != 0) {
    luaL_pushfail(L);
    lua_pushfstring(L, "not an RFC 3339 timestamp: \"%s\"", s);
    return 2;
  }
  lua_pushnumber(L, rfc3339_to_double(t));
  return 1;
}

/*
** mdb.isatty(file) -> true when the Lua file handle is a terminal, so
** scripts show progress on a terminal and stay quiet in cron and pipes.
*/
static int mdb_isatty(lua_State *L)
{
  luaL_Stream *s = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  lua_pushboolean(L, s->closef != NULL && s->f != NULL &&
                     isatty(fileno(s->f)));
  return 1;
}

static int mdb_is_error(lua_State *L)
{
  luaL_checkany(L, 1);
  lua_pushboolean(L, mdb_error_is(L, 1));
  return 1;
}

static const luaL_Reg mdb_functions[] = {
  {"client", mdb_client_new},
  {"is_error", mdb_is_error},
  {"isatty", mdb_isatty},
  {"parse_time", mdb_parse_time},
  {NULL, NULL}
};

/* Call cjson-instance method `name` with one argument. */
static void cjson_set(lua_State *L, const char *name, int value, int isbool)
{
  lua_getfield(L, -1, name);
  if (isbool)
    lua_pushboolean(L, value);
  else
    lua_pushinteger(L, value);
  lua_call(L, 1, 0);
}

static void register_decoder(lua_State *L)
{
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  lua_getfield(L, -1, "new");
  lua_call(L, 0, 1);
  cjson_set(L, "decode_invalid_numbers", 0, 1);   /* strict JSON: no NaN */
  cjson_set(L, "decode_max_depth", 100, 0);
  lua_getfield(L, -1, "decode");
  lua_setfield(L, LUA_REGISTRYINDEX, MDB_DECODE_KEY);
  lua_pop(L, 2);
}

int luaopen_mdb(lua_State *L)
{
  /* libcurl's global init is not thread-safe before 7.84; once per state
  ** is cheap and safe since libcurl counts the calls. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "cannot initialise libcurl");
  register_decoder(L);
  mdb_error_register(L);
  mdb_client_register(L);
  mdb_iter_register(L);
  mdb_scan_register(L);

  luaL_newlib(L, mdb_functions);
  lua_createtable(L, (int)engines_count(), 0);
  for (size_t i = 0; i < engines_count(); i++) {
    lua_pushstring(L, engines_at(i)->name);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "engines");
  lua_pushliteral(L, MDB_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushliteral(L, "mdb " MDB_VERSION);
  lua_setfield(L, -2, "_VERSION");
  mdb_sqlite_register(L);
  return 1;
}
