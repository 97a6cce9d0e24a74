/* The one entry point of the `mdb` Lua module. */
#ifndef MDB_H
#define MDB_H

#include <lua.h>

int luaopen_mdb(lua_State *L);

#endif /* MDB_H */
