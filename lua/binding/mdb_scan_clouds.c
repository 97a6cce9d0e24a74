/*
** client:scan{cloud=} and {all_clouds=}: the folders to scan, learnt from
** Resource Manager (Cloud.List, then Folder.List of each cloud) through
** the shared page consumer, as the pages come.  Each folder becomes a
** record with a slot per engine (mdb_scan.c lists its clusters); a listing
** that fails becomes an error entry per engine.  Folder.List listings run
** `concurrency` at a time, in Cloud.List order, as Cluster.List and the
** backups listings do: a thousand clouds are not a thousand jobs at once.
*/
#include "mdb_scan.h"

#include "mdb_defaults.h"

#include <string.h>

/* Start Folder.List of cloud `ci` (its record in S_CLOUDS). */
static void start_folder_list(scan *s, lua_Integer ci)
{
  lua_State *L = s->L;
  lua_rawgeti(L, S_CLOUDS, ci);
  lua_getfield(L, -1, "id");
  list_target lt = {s->rm_endpoint, NULL, LIST_CLOUD_FOLDERS,
                    lua_tostring(L, -1), NULL};
  fetch_job *j = fetch_job_new(s->fe, &lt, s->page_size, -1, NULL,
                               scan_tag(RM_TAG - ci));
  lua_pop(L, 2);
  if (j == NULL || fetch_job_request(j) != 0)
    luaL_error(L, "out of memory starting a scan");
  mdb_listing_new(L, LIST_CLOUD_FOLDERS, NULL, j);
  lua_rawseti(L, S_LISTINGS, RM_TAG - ci);
}

/* Start Folder.List of the clouds waiting, while the window allows. */
static void start_folder_lists(scan *s)
{
  while (s->folder_lists_running < s->window &&
         s->clouds_started < s->nclouds) {
    start_folder_list(s, ++s->clouds_started);
    s->folder_lists_running++;
  }
}

/* The Resource Manager listing tagged `t` is over: a Folder.List frees
** its place in the window. */
static void rm_listing_over(scan *s, lua_Integer t)
{
  if (RM_TAG - t > 0) {
    s->folder_lists_running--;
    start_folder_lists(s);
  }
}

/* A cloud from Cloud.List, or given: its record; its folders are listed
** as the window allows. */
void scan_add_cloud(scan *s, const char *id)
{
  lua_State *L = s->L;
  lua_createtable(L, 0, 2);
  lua_pushstring(L, id);
  lua_setfield(L, -2, "id");
  lua_pushinteger(L, 0);
  lua_setfield(L, -2, "folders");
  lua_rawseti(L, S_CLOUDS, ++s->nclouds);
  start_folder_lists(s);
}

/*
** A Resource Manager listing (tag `t`, the listing at `ls`) failed, its
** error on the stack top (popped): an error entry per engine, in a record
** of its own (after the cloud's folders, or after every cloud).
*/
void scan_fail_rm(scan *s, int ls, lua_Integer t)
{
  lua_State *L = s->L;
  int err = lua_gettop(L);
  mdb_listing *l = lua_touserdata(L, ls);
  lua_Integer ci = RM_TAG - t;
  const char *cloud = NULL;
  if (ci > 0) {
    lua_rawgeti(L, S_CLOUDS, ci);
    lua_getfield(L, -1, "id");
    cloud = lua_tostring(L, -1); /* anchored by S_CLOUDS */
    lua_pop(L, 2);
  }
  /* a record with no id: its slots start nothing */
  lua_Integer rec = scan_add_folder(s, NULL, cloud, ci > 0 ? ci : LAST_KEY,
                                    LAST_KEY);
  for (int k = 1; k <= s->nengines; k++) {
    int slot = (int)((rec - 1) * s->nengines + k);
    lua_Integer idx = scan_new_entry(s, slot, s->engines[k - 1], NULL, 0);
    int entry = lua_gettop(L);
    lua_pushvalue(L, err);
    lua_setfield(L, entry, "error");
    scan_set_stats(L, entry, fetch_job_stats(l->job), l);
    scan_deliver(s, entry, idx);
    lua_settop(L, err);
  }
  scan_end_listing(s, ls, t);
  lua_settop(L, err - 1);
  rm_listing_over(s, t);
}

/*
** Whether the cloud (ci == 0) or folder id on the stack top was seen
** before in this scan; marks it seen.  Resource Manager may send an id
** twice (in one listing, or a folder in two clouds' lists): listed twice,
** its clusters' backups would be handed over twice and a recorder would
** refuse the scan.  The first stays.  The marks live in S_CLOUDS.seen, a
** Lua table: a scan meets thousands of folders at most.
*/
static int seen_before(lua_State *L, lua_Integer ci)
{
  int id = lua_gettop(L);
  if (lua_getfield(L, S_CLOUDS, "seen") != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_newtable(L);
    lua_rawseti(L, -2, 1); /* clouds */
    lua_newtable(L);
    lua_rawseti(L, -2, 2); /* folders */
    lua_pushvalue(L, -1);
    lua_setfield(L, S_CLOUDS, "seen");
  }
  lua_rawgeti(L, -1, ci == 0 ? 1 : 2);
  lua_pushvalue(L, id);
  int seen = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 1);
  if (!seen) {
    lua_pushvalue(L, id);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
  }
  lua_settop(L, id);
  return seen;
}

/* A page of Cloud.List or Folder.List (tag `t`) arrived. */
void scan_on_rm_page(scan *s, fetch_job *j, lua_Integer t)
{
  lua_State *L = s->L;
  lua_rawgeti(L, S_LISTINGS, t);
  int ls = lua_gettop(L);
  lua_Integer ci = RM_TAG - t;
  int r = mdb_listing_take_page(L, ls);
  while (r != -1 && (r = mdb_listing_next_item(L, ls)) == 1) {
    size_t len = 0;
    const char *id = lua_getfield(L, -1, "id") == LUA_TSTRING
                         ? lua_tolstring(L, -1, &len)
                         : NULL;
    if (id == NULL || len == 0 || len > MDB_MAX_ID_LEN || strlen(id) != len) {
      lua_pop(L, 2);
      mdb_push_job_error(L, j, MDB_ERR_JSON,
                         ci > 0 ? "folders[] item has no usable id"
                                : "clouds[] item has no usable id");
      r = -1;
      break;
    }
    if (seen_before(L, ci)) {
      /* dropped: listed once */
    } else if (ci == 0) {
      scan_add_cloud(s, id);
    } else {
      lua_rawgeti(L, S_CLOUDS, ci);
      lua_getfield(L, -1, "folders");
      lua_Integer fi = lua_tointeger(L, -1) + 1;
      lua_pushinteger(L, fi);
      lua_setfield(L, -3, "folders");
      lua_getfield(L, -2, "id");
      scan_add_folder(s, id, lua_tostring(L, -1), ci, fi);
      lua_pop(L, 3);
    }
    lua_pop(L, 2);
  }
  if (r == -1)
    scan_fail_rm(s, ls, t);
  else if (fetch_job_done(j)) {
    scan_end_listing(s, ls, t);
    lua_settop(L, ls - 1);
    rm_listing_over(s, t);
  }
  lua_settop(L, ls - 1);
}
