/* libFuzzer target: a page body of any bytes goes through the real
** decoding path (lua-cjson in the mdb module's private instance, the shape
** checks, and mdb_page_pass: the repeat guard and the normalisation of
** every item for one engine) without a crash, a leak or an unprotected Lua
** error. */
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
  lua_pushlstring(S, (const char *)in->data + 1, in->size - 1);
  const engine_info *e = engines_at(in->data[0] % engines_count());
  list_kind kind = in->data[0] & 0x80 ? LIST_CLUSTERS : LIST_CLUSTER_BACKUPS;
  const char *tok;
  size_t toklen;
  char err[320];
  if (mdb_page_decode(S, kind, lua_gettop(S), &tok, &toklen, err, sizeof err) !=
      0)
    return 0;
  int items = lua_gettop(S);
  /* the pass the listings make: the guard on this page, a second time
  ** as the next page (every item a repeat), normalisation */
  id_guard g;
  id_guard_init(&g);
  lua_Integer n = (lua_Integer)lua_rawlen(S, items), skip, bad;
  for (int round = 0; round < 2; round++)
    if (mdb_page_pass(S, kind, e, &g, items, n, &skip, &bad, err, sizeof err) !=
        0)
      break;
  id_guard_free(&g);
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
