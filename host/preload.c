#include "preload.h"

#include "lua_embedded.h"
#include "mdb_loader.h"

#include <lauxlib.h>
#include <lua-cjson.h>
#include <lualib.h>

int luaopen_cjson_safe(
    lua_State *L); /* exported by lua5.4-cjson, not in its header */

/* package.preload loader of one embedded module (upvalue: its entry). */
static int load_embedded(lua_State *L)
{
  const lua_embedded_module *m = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbuffer(L, m->source, m->len, m->chunkname) != LUA_OK)
    return lua_error(L);
  lua_pushstring(L, m->name);
  lua_call(L, 1, 1);
  return 1;
}

void preload_register(lua_State *L)
{
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, mdb_loader_open);
  lua_setfield(L, -2, "mdb");
  lua_pushcfunction(L, luaopen_cjson);
  lua_setfield(L, -2, "cjson");
  lua_pushcfunction(L, luaopen_cjson_safe);
  lua_setfield(L, -2, "cjson.safe");
  for (const lua_embedded_module *m = lua_embedded_modules; m->name; m++) {
    lua_pushlightuserdata(L, (void *)m);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}
