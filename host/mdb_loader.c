#include "mdb_loader.h"
#include "exe_dir.h"

#include "mdb.h"

#include <dlfcn.h>
#include <lauxlib.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef MDB_MODULE_BUILD_DIR
#error "MDB_MODULE_BUILD_DIR must name the build tree's module directory"
#endif
#ifndef MDB_MODULE_INSTALL_DIR
#error "MDB_MODULE_INSTALL_DIR must name the installed module directory"
#endif

/* The module's table (mdb.h), set once when it is loaded; SIGINT may
** read it at any time after. */
static const mdb_host_api *volatile api;
/* The request itself while the module is not loaded. */
static volatile sig_atomic_t pending;

void mdb_loader_cancel_raise(void)
{
  pending = 1;
  const mdb_host_api *a = api;
  if (a)
    a->cancel_raise();
}

int mdb_loader_cancel_requested(void)
{
  const mdb_host_api *a = api;
  return a ? a->cancel_requested() : pending != 0;
}

void mdb_loader_cancel_clear(void)
{
  pending = 0;
  const mdb_host_api *a = api;
  if (a)
    a->cancel_clear();
}

int mdb_loader_open(lua_State *L)
{
  char dir[PATH_MAX], candidates[3][PATH_MAX + 64];
  int n = 0;
  if (exe_dir(dir, sizeof dir) == 0) {
    /* the build tree, then an installation relative to bin/ */
    snprintf(candidates[n++], sizeof candidates[0], "%s%s/mdb.so", dir,
             MDB_MODULE_BUILD_DIR);
    if (MDB_MODULE_INSTALL_DIR[0] != '/')
      snprintf(candidates[n++], sizeof candidates[0], "%s../%s/mdb.so", dir,
               MDB_MODULE_INSTALL_DIR);
  }
  if (MDB_MODULE_INSTALL_DIR[0] == '/')
    snprintf(candidates[n++], sizeof candidates[0], "%s/mdb.so",
             MDB_MODULE_INSTALL_DIR);

  luaL_Buffer tried;
  luaL_buffinit(L, &tried);
  for (int i = 0; i < n; i++) {
    if (access(candidates[i], R_OK) != 0) {
      luaL_addstring(&tried, "\n\tno file '");
      luaL_addstring(&tried, candidates[i]);
      luaL_addstring(&tried, "'");
      continue;
    }
    void *h = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
    const mdb_host_api *a = h ? (const mdb_host_api *)dlsym(h,
                                                            MDB_HOST_API_SYMBOL)
                              : NULL;
    if (a == NULL) {
      luaL_addstring(&tried, "\n\t");
      luaL_addstring(&tried, dlerror());
      continue;
    }
    if (a->version != MDB_HOST_API_VERSION) {
      lua_pushfstring(L,
                      "\n\t%s: host table version %d, this mdblua needs "
                      "%d (a module from another release?)",
                      candidates[i], a->version, MDB_HOST_API_VERSION);
      luaL_addvalue(&tried);
      dlclose(h);
      continue;
    }
    api = a;
    lua_pushcfunction(L, a->open);
    lua_pushstring(L, "mdb");
    lua_call(L, 1, 1);
    return 1;
  }
  luaL_pushresult(&tried);
  return luaL_error(L,
                    "cannot load the mdb module (mdb.so; is mdblua "
                    "installed completely?):%s",
                    lua_tostring(L, -1));
}
