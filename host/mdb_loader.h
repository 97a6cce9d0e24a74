/*
** The `mdb` module, loaded on first `require "mdb"` from the same mdb.so
** the stock lua5.4 uses.  Loading it late keeps libcurl and its chain of
** libraries (TLS, Kerberos, LDAP: several milliseconds of dynamic linking
** and constructors) out of every start of mdblua that never touches the
** API.  Also reaches the module's cancellation flag for the SIGINT handler.
** The module is reached through one exported table (mdb.h's
** mdb_host_api), never its internal symbols by name.
*/
#ifndef MDB_LOADER_H
#define MDB_LOADER_H

#include <lua.h>

/* package.preload["mdb"]: dlopen mdb.so and call the open function of
** its host table. */
int mdb_loader_open(lua_State *L);

/*
** The module's cancel.h functions (before it is loaded, a flag of the
** host's own stands in, so "was the interruption consumed?" still works).
*/
void mdb_loader_cancel_raise(void); /* async-signal-safe */
int mdb_loader_cancel_requested(void);
void mdb_loader_cancel_clear(void);

#endif /* MDB_LOADER_H */
