/*
** The entry points of the `mdb` Lua module (mdb.so): luaopen_mdb for any
** Lua 5.4, and one table for a host that loads the module itself.
*/
#ifndef MDB_H
#define MDB_H

#include <lua.h>

int luaopen_mdb(lua_State *L);

/*
** What the mdblua host needs from the module it dlopens: the Lua entry
** point and the cancellation flag its SIGINT handler raises (core's
** cancel.h).  The host resolves this one table by MDB_HOST_API_SYMBOL and
** nothing else by name, so the module's internals can be renamed freely;
** `version` changes whenever the table does, and a host refuses a module
** of another version.
*/
#define MDB_HOST_API_VERSION 1
#define MDB_HOST_API_SYMBOL  "mdb_host_exports"

typedef struct mdb_host_api {
  int version;                /* MDB_HOST_API_VERSION */
  lua_CFunction open;         /* luaopen_mdb */
  void (*cancel_raise)(void); /* async-signal-safe */
  int (*cancel_requested)(void);
  void (*cancel_clear)(void);
} mdb_host_api;

extern const mdb_host_api mdb_host_exports;

#endif /* MDB_H */
