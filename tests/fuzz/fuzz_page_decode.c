/* libFuzzer target: a page body of any bytes goes through the real
** decoding path (lua-cjson in the mdb module's private instance, the shape
** checks, the repeat guard and the normalisation of every item for one
** engine) without a crash, a leak or an unprotected Lua error. */
#include "mdb.h"
#include "mdb_binding.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>

static lua_State *L;

typedef struct input {
  const uint8_t *data;
  size_t size;
} input;

static int decode_one(lua_State *S)
{
  const input *in = lua_touserdata(S, 1);
  http_response r = {0};
  r.body = (char *)in->data + 1;
  r.len = in->size - 1;
  r.status = 200;
  const engine_info *e = engines_at(in->data[0] % engines_count());
  list_kind kind = in->data[0] & 0x80 ? LIST_CLUSTERS : LIST_CLUSTER_BACKUPS;
  const char *tok;
  size_t toklen;
  char err[320];
  if (mdb_page_decode(S, kind, &r, &tok, &toklen, err, sizeof err) != 0)
    return 0;
  int items = lua_gettop(S);
  lua_Integer n = (lua_Integer)lua_rawlen(S, items);
  mdb_page_ids(S, items, n, "id"); /* the repeat guard, on its own page */
  int ids = lua_gettop(S);
  int in_prefix = 1;
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(S, items, i) == LUA_TTABLE) {
      if (in_prefix)
        mdb_page_seen(S, lua_gettop(S), ids, "id", &in_prefix);
      if (kind == LIST_CLUSTERS)
        mdb_normalize_cluster(S, e, err, sizeof err);
      else
        mdb_normalize_backup(S, e, err, sizeof err);
    }
    lua_settop(S, ids);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (L == NULL) {
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "mdb", luaopen_mdb, 0);
    lua_pop(L, 1);
  }
  if (size < 1)
    return 0;
  input in = {data, size};
  lua_pushcfunction(L, decode_one);
  lua_pushlightuserdata(L, &in);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK)
    lua_pop(L, 1); /* only out-of-memory can get here */
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
