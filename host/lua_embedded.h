/*
** The pure-Lua libraries compiled into the host (see
** cmake/embed_lua.cmake), so `require "mdb.report"` needs no LUA_PATH.
*/
#ifndef LUA_EMBEDDED_H
#define LUA_EMBEDDED_H

#include <stddef.h>

typedef struct lua_embedded_module {
  const char *name;      /* module name for require, "mdb.fmt" */
  const char *chunkname; /* "@lua/mdb/fmt.lua", for tracebacks */
  const char *source;
  size_t len;
} lua_embedded_module;

extern const lua_embedded_module lua_embedded_modules[]; /* NULL-ended */

#endif /* LUA_EMBEDDED_H */
