/*
** One listing consumed page by page and item by item: the path the lazy
** iterator and the scan share.  A page is decoded, cut to the limit,
** accepted (the cycle guard) and the next one requested at once.  Then one
** pass over the page, while it is fresh in the cache, skips the repeats of
** the previous page (the repeat guard, listing/id_guard.h: the ids in C,
** nothing for the collector), collects the page's ids for the next page's
** guard and normalises every item with the keys pushed once
** (mdb_norm_item); the consumer then takes the items one at a time.  An item that fails the pass is remembered with its error and
** raised when the consumer reaches it, so the items before it are handed
** out and a resume starts at its page, as if it had failed then.
**
** A listing is a userdata (its __gc frees the guard) whose user values
** hold its Lua side:
**   1  the items table of the current page
**   2  the error of the item at `bad`
** so that a consumer keeps one value per listing and memory stays at one
** page and the ids of two.
*/
#include "mdb_binding.h"

#include "listing/list_url.h"

#include <stdio.h>
#include <string.h>

#define MDB_LISTING_MT "mdb.listing"

enum { LV_PAGE = 1, LV_ERROR = 2 };

mdb_listing *mdb_listing_new(lua_State *L, list_kind kind,
                             const engine_info *engine, fetch_job *job)
{
  mdb_listing *ls = lua_newuserdatauv(L, sizeof *ls, 2);
  memset(ls, 0, sizeof *ls);
  id_guard_init(&ls->guard);
  ls->kind = kind;
  ls->engine = engine;
  ls->job = job;
  ls->pos = 1; /* nothing buffered */
  luaL_setmetatable(L, MDB_LISTING_MT);
  return ls;
}

void mdb_listing_drop_page(lua_State *L, int idx)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  if (ls == NULL) /* an iterator whose building failed */
    return;
  lua_pushnil(L);
  lua_setiuservalue(L, idx, LV_PAGE);
  lua_pushnil(L);
  lua_setiuservalue(L, idx, LV_ERROR);
  ls->count = 0;
  ls->pos = 1;
  ls->bad = 0;
}

/*
** The pass over the page at `items` (see the top of the file).  0, or -1
** when out of memory (going on could repeat an item).
*/
static int page_pass(lua_State *L, int idx, mdb_listing *ls, int items)
{
  char err[256];
  lua_Integer skip, bad;
  if (mdb_page_pass(L, ls->kind, ls->engine, &ls->guard, items, ls->count,
                    &skip, &bad, err, sizeof err) != 0)
    return -1;
  ls->pos = skip + 1;
  ls->duplicates += (long)skip;
  if (bad) {
    ls->bad = bad;
    mdb_push_job_error(L, ls->job, MDB_ERR_JSON, err);
    lua_setiuservalue(L, idx, LV_ERROR);
  }
  return 0;
}

int mdb_listing_take_page(lua_State *L, int idx)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  fetch_job *j = ls->job;
  char err[320];
  const char *tok;
  size_t toklen;
  /* The consumed page is garbage now: let the collector reclaim it while
  ** the next one is decoded, so only one page is live at a time. */
  mdb_listing_drop_page(L, idx);
  if (mdb_page_decode(L, ls->kind, fetch_job_page(j), &tok, &toklen, err,
                      sizeof err) != 0) {
    mdb_push_job_error(L, j, MDB_ERR_JSON, err);
    return -1;
  }
  int items = lua_gettop(L);
  lua_Integer count = (lua_Integer)lua_rawlen(L, items);
  long remaining = page_cursor_remaining(fetch_job_cursor(j));
  int cut_short = count > remaining;
  if (cut_short)
    count = remaining;
  int r = fetch_job_accept(j, (size_t)count, tok, toklen);
  if (r != PAGE_CURSOR_OK) {
    int cycle = r == PAGE_CURSOR_CYCLE;
    if (cycle)
      snprintf(err, sizeof err,
               "the server repeated page token \"%.100s\" "
               "after %ld pages: the listing would loop",
               tok, fetch_job_stats(j)->pages);
    lua_pop(L, 1);
    mdb_push_job_error(L, j, cycle ? MDB_ERR_CYCLE : MDB_ERR_MEMORY,
                       cycle ? err : "out of memory");
    return -1;
  }
  ls->cut_short = cut_short;
  ls->pos = 1;
  ls->count = count;
  if (page_pass(L, idx, ls, items) != 0) {
    lua_pop(L, 1);
    mdb_push_job_error(L, j, MDB_ERR_MEMORY, "out of memory");
    return -1;
  }
  lua_setiuservalue(L, idx, LV_PAGE);
  /* ask for the next page now, unless speculation already did */
  if (fetch_job_request(j) != 0) {
    mdb_push_job_error(L, j, MDB_ERR_MEMORY, "out of memory");
    return -1;
  }
  return 0;
}

int mdb_listing_next_item(lua_State *L, int idx)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  if (ls->pos > ls->count)
    return 0;
  if (ls->pos == ls->bad) { /* not consumed: a resume starts here again */
    lua_getiuservalue(L, idx, LV_ERROR);
    return -1;
  }
  lua_getiuservalue(L, idx, LV_PAGE);
  lua_rawgeti(L, -1, ls->pos);
  lua_remove(L, -2);
  ls->pos++;
  ls->items++;
  return 1;
}

static int listing_gc(lua_State *L)
{
  mdb_listing *ls = luaL_checkudata(L, 1, MDB_LISTING_MT);
  id_guard_free(&ls->guard);
  return 0;
}

void mdb_listing_register(lua_State *L)
{
  luaL_newmetatable(L, MDB_LISTING_MT);
  lua_pushcfunction(L, listing_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}
