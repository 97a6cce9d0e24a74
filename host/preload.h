/*
** Makes `require "mdb"`, `require "cjson"` and the pure-Lua `mdb.*`
** libraries work in the host with no LUA_PATH or LUA_CPATH, by filling
** package.preload (the recipe in the comment atop Lua's linit.c).
*/
#ifndef PRELOAD_H
#define PRELOAD_H

#include <lua.h>

void preload_register(lua_State *L);

#endif /* PRELOAD_H */
