/*
** One listing consumed page by page and item by item: the path the lazy
** iterator and the scan share.  A page is decoded, cut to the limit,
** accepted (the cycle guard) and the next one requested at once; then its
** items are handed out one at a time, repeats of the previous page skipped
** (the repeat guard, mdb_page_seen) and each one normalised.
**
** A listing is a userdata whose user values hold its Lua side:
**   1  the items table of the current page
**   2, 3  ids of the previous and the current page (repeats included)
** so that a consumer keeps one value per listing and memory stays at the
** ids of two pages.
*/
#include "mdb_binding.h"

#include "listing/list_url.h"

#include <stdio.h>
#include <string.h>

#define MDB_LISTING_MT "mdb.listing"

enum { LV_PAGE = 1, LV_PREV_IDS = 2, LV_CUR_IDS = 3 };

mdb_listing *mdb_listing_new(lua_State *L, list_kind kind,
                             const engine_info *engine, fetch_job *job)
{
  mdb_listing *ls = lua_newuserdatauv(L, sizeof *ls, 3);
  memset(ls, 0, sizeof *ls);
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
  ls->count = 0;
  ls->pos = 1;
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
  lua_getiuservalue(L, idx, LV_CUR_IDS);
  lua_setiuservalue(L, idx, LV_PREV_IDS);
  mdb_page_ids(L, items, count, list_id_field(ls->kind));
  lua_setiuservalue(L, idx, LV_CUR_IDS);
  lua_setiuservalue(L, idx, LV_PAGE);
  ls->cut_short = cut_short;
  ls->in_prefix = 1;
  ls->pos = 1;
  ls->count = count;
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
  int top = lua_gettop(L);
  lua_getiuservalue(L, idx, LV_PAGE);
  int page = top + 1;
  for (;;) {
    if (ls->pos > ls->count) {
      lua_settop(L, top);
      return 0;
    }
    if (lua_rawgeti(L, page, ls->pos) != LUA_TTABLE) {
      char msg[96];
      snprintf(msg, sizeof msg, "%s[%lld] in the response is not an object",
               list_items_field(ls->kind), (long long)ls->pos);
      lua_settop(L, top);
      mdb_push_job_error(L, ls->job, MDB_ERR_JSON, msg);
      return -1;
    }
    if (!ls->in_prefix)
      break;
    lua_getiuservalue(L, idx, LV_PREV_IDS);
    int dup = mdb_page_seen(L, page + 1, page + 2, list_id_field(ls->kind),
                            &ls->in_prefix);
    lua_pop(L, 1);
    if (!dup)
      break;
    ls->pos++;
    ls->duplicates++;
    lua_pop(L, 1);
  }
  char err[256];
  mdb_normalizer norm = mdb_normalizer_for(ls->kind);
  const char *e = norm ? norm(L, ls->engine, err, sizeof err) : NULL;
  if (e != NULL) { /* not consumed: a resume starts at this page again */
    lua_settop(L, top);
    mdb_push_job_error(L, ls->job, MDB_ERR_JSON, e);
    return -1;
  }
  lua_remove(L, page);
  ls->pos++;
  ls->items++;
  return 1;
}

void mdb_listing_register(lua_State *L)
{
  luaL_newmetatable(L, MDB_LISTING_MT);
  lua_pop(L, 1);
}
