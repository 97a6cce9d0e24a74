/* libFuzzer target: a page body of any bytes goes through the real
** decoding path (lua-cjson in the mdb module's private instance, the shape
** checks, and mdb_page_pass: the repeat guard and the normalisation of
** every item for one engine) without a crash, a leak or an unprotected Lua
** error.  And the raw reading a history stores (json_peek_array, a first
** recording's backup texts) never stands for other values than lua-cjson
** decoded: when it cuts as many elements as were decoded, each element's
** text decodes (alone in a page) to a value of the same digest as the
** item in its place. */
#include "mdb.h"
#include "mdb_binding.h"

#include "listing/list_url.h"
#include "text/json_peek.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lua_State *L;

typedef struct input {
  const uint8_t *data;
  size_t size;
} input;

typedef struct spans {
  size_t start[64], end[64];
  int n;
} spans;

static int keep_span(void *ud, size_t start, size_t end)
{
  spans *sp = ud;
  if (sp->n == 64)
    return 1;
  sp->start[sp->n] = start;
  sp->end[sp->n++] = end;
  return 0;
}

/* The digest (mdb._sqlite.digest) of the value at idx. */
static lua_Integer digest_of(lua_State *S, int idx)
{
  idx = lua_absindex(S, idx);
  lua_getglobal(S, "digest");
  lua_pushvalue(S, idx);
  lua_call(S, 1, 1);
  lua_Integer d = lua_tointeger(S, -1);
  lua_pop(S, 1);
  return d;
}

/* Each element text the raw reading cut from the page at `text`, against
** the decoded items at `items`. */
static void check_texts(lua_State *S, list_kind kind, int text, int items)
{
  size_t len;
  const char *s = lua_tolstring(S, text, &len);
  const char *field = list_items_field(kind);
  spans sp = {.n = 0};
  /* (stopped after 64: the members after the array are not read, so
  ** nothing is known) */
  if (json_peek_array(s, len, field, keep_span, &sp) != 0)
    return;
  /* lua-cjson decoded this page: the raw reading that answers is of the
  ** same array, element for element */
  if ((lua_Integer)sp.n != (lua_Integer)lua_rawlen(S, items)) {
    fprintf(stderr, "%d elements cut, %lld decoded\n", sp.n,
            (long long)lua_rawlen(S, items));
    abort();
  }
  for (int i = 0; i < sp.n; i++) {
    luaL_Buffer b;
    luaL_buffinit(S, &b);
    lua_pushfstring(S, "{\"%s\":[", field);
    luaL_addvalue(&b);
    luaL_addlstring(&b, s + sp.start[i], sp.end[i] - sp.start[i]);
    luaL_addstring(&b, "]}");
    luaL_pushresult(&b);
    const char *tok;
    size_t toklen;
    char err[320];
    if (mdb_page_decode(S, kind, lua_gettop(S), &tok, &toklen, err,
                        sizeof err) != 0 ||
        lua_rawlen(S, -1) != 1) {
      fprintf(stderr, "element %d of %d does not decode alone: %s\n", i + 1,
              sp.n, err);
      abort();
    }
    lua_rawgeti(S, -1, 1);
    lua_rawgeti(S, items, i + 1);
    /* (a number is not compared: NaN, which this lua-cjson reads, is
    ** equal to nothing; inside a table the digest compares its text) */
    int t = lua_type(S, -1);
    if (t != lua_type(S, -2) ||
        (t == LUA_TTABLE && digest_of(S, -1) != digest_of(S, -2)) ||
        (t == LUA_TSTRING && !lua_rawequal(S, -1, -2))) {
      fprintf(stderr, "element %d of %d is not the decoded item\n", i + 1,
              sp.n);
      abort();
    }
    lua_pop(S, 4);
  }
}

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
  check_texts(S, kind, items - 1, items);
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
    lua_getfield(L, -1, "_sqlite");
    lua_getfield(L, -1, "digest");
    lua_setglobal(L, "digest");
    lua_pop(L, 2);
  }
  if (size < 1)
    return 0;
  input in = {data, size};
  lua_pushcfunction(L, decode_one);
  lua_pushlightuserdata(L, &in);
  /* an error here: out of memory, or a digest of values nested deeper
  ** than it walks */
  if (lua_pcall(L, 1, 0, 0) != LUA_OK)
    lua_pop(L, 1);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
