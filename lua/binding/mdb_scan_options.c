/*
** client:scan's options that need more than mdb_options.c: the engines,
** the clusters= list and the folders.  Each raises an argument error
** naming the option before any request is made.
*/
#include "mdb_scan.h"

#include "mdb_defaults.h"

#include <stdlib.h>
#include <string.h>

/* The engines to scan, from engine= or engines=; returns how many. */
int scan_engines(lua_State *L, const engine_info **out)
{
  int has_one = lua_getfield(L, S_OPTS, "engine") != LUA_TNIL;
  int has_many = lua_getfield(L, S_OPTS, "engines") != LUA_TNIL;
  lua_pop(L, 2);
  if (has_one && has_many)
    mdb_error_argument(L, "engines", "give engine= or engines=, not both");
  if (has_one) {
    out[0] = mdb_check_engine(L, S_OPTS, "engine");
    return 1;
  }
  if (!has_many)
    return 0;
  if (lua_getfield(L, S_OPTS, "engines") != LUA_TTABLE)
    mdb_error_argument(L, "engines", "expected an array of engine names");
  int n = 0;
  lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
  if (len == 0 || len > SCAN_MAX_ENGINES)
    mdb_error_argument(L, "engines", "expected 1 to %d engine names",
                       SCAN_MAX_ENGINES);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_createtable(L, 0, 1);
    lua_rawgeti(L, -2, i);
    lua_setfield(L, -2, "engines");
    const engine_info *e = mdb_check_engine(L, lua_gettop(L), "engines");
    lua_pop(L, 1);
    for (int k = 0; k < n; k++)
      if (out[k] == e)
        mdb_error_argument(L, "engines", "\"%s\" is listed twice", e->name);
    out[n++] = e;
  }
  lua_pop(L, 1);
  return n;
}

/*
** Check clusters= (at the top of the stack) and push a table of
** {engine_info lightuserdata, id} pairs, before any request.
*/
void scan_cluster_list(lua_State *L, const engine_info *const *engines,
                       int nengines)
{
  if (!lua_istable(L, -1))
    mdb_error_argument(L, "clusters",
                       "expected an array of cluster ids or "
                       "{engine=, id=} tables");
  int arr = lua_gettop(L);
  lua_newtable(L);
  int pairs = lua_gettop(L);
  lua_newtable(L); /* seen: "engine id" */
  int seen = lua_gettop(L);
  lua_Integer len = (lua_Integer)lua_rawlen(L, arr);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_rawgeti(L, arr, i);
    const engine_info *e = NULL;
    const char *id = NULL;
    size_t idlen = 0;
    if (lua_type(L, -1) == LUA_TSTRING) {
      if (nengines != 1)
        mdb_error_argument(L, "clusters",
                           "clusters[%lld] is a bare id: "
                           "give engine= too, or {engine=, id=}",
                           (long long)i);
      e = engines[0];
      id = lua_tolstring(L, -1, &idlen);
    } else if (lua_istable(L, -1)) {
      int item = lua_gettop(L);
      e = mdb_check_engine(L, item, "engine");
      if (lua_getfield(L, item, "id") == LUA_TSTRING)
        id = lua_tolstring(L, -1, &idlen);
      lua_pop(L, 1); /* still anchored by the item */
    }
    if (id == NULL || idlen == 0 || idlen > MDB_MAX_ID_LEN)
      mdb_error_argument(L, "clusters",
                         "clusters[%lld] needs an id of 1 "
                         "to %d characters",
                         (long long)i, MDB_MAX_ID_LEN);
    /* cut at the NUL, it would name another cluster */
    if (strlen(id) != idlen)
      mdb_error_argument(L, "clusters",
                         "clusters[%lld]: the id must not contain NUL bytes",
                         (long long)i);
    /* Listed twice, a cluster would be two entries: a history would
    ** record its backups twice in one scan. */
    lua_pushfstring(L, "%s %s", e->name, id);
    if (lua_rawget(L, seen) != LUA_TNIL)
      mdb_error_argument(L, "clusters", "%s cluster \"%s\" is listed twice",
                         e->name, id);
    lua_pop(L, 1);
    lua_pushfstring(L, "%s %s", e->name, id);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);
    lua_createtable(L, 2, 0);
    lua_pushlightuserdata(L, (void *)e);
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, id);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, pairs, i);
    lua_pop(L, 1);
  }
  lua_pop(L, 1); /* seen */
  lua_remove(L, arr);
}

/*
** Push the array of folders to list: folders=, folder=, or YC_FOLDER_ID;
** raises before any request.
*/
void scan_folders(lua_State *L)
{
  const char *folder = NULL;
  if (lua_getfield(L, S_OPTS, "folders") == LUA_TNIL) {
    lua_pop(L, 1);
    if (!mdb_opt_string(L, S_OPTS, "folder", MDB_MAX_ID_LEN, &folder)) {
      folder = getenv("YC_FOLDER_ID");
      if (folder == NULL || *folder == '\0')
        mdb_error_argument(L, "folder",
                           "missing: give folder=, folders=, "
                           "clusters=, or set YC_FOLDER_ID");
      if (strlen(folder) > MDB_MAX_ID_LEN)
        mdb_error_argument(L, "folder",
                           "YC_FOLDER_ID is longer than %d "
                           "characters",
                           MDB_MAX_ID_LEN);
    }
    lua_createtable(L, 1, 0);
    lua_pushstring(L, folder);
    lua_rawseti(L, -2, 1);
    return;
  }
  int arr = lua_gettop(L);
  lua_Integer len = lua_istable(L, arr) ? (lua_Integer)lua_rawlen(L, arr) : 0;
  if (len < 1 || len > MDB_MAX_SCAN_FOLDERS)
    mdb_error_argument(L, "folders",
                       "expected an array of 1 to %d folder "
                       "ids",
                       MDB_MAX_SCAN_FOLDERS);
  lua_createtable(L, (int)len, 0);
  lua_createtable(L, 0, (int)len); /* seen */
  for (lua_Integer i = 1; i <= len; i++) {
    size_t n = 0;
    const char *id = lua_rawgeti(L, arr, i) == LUA_TSTRING
                         ? lua_tolstring(L, -1, &n)
                         : NULL;
    if (id == NULL || n == 0 || n > MDB_MAX_ID_LEN || strlen(id) != n)
      mdb_error_argument(L, "folders",
                         "folders[%lld] needs an id of 1 to "
                         "%d characters",
                         (long long)i, MDB_MAX_ID_LEN);
    if (lua_getfield(L, -2, id) != LUA_TNIL)
      mdb_error_argument(L, "folders", "\"%s\" is listed twice", id);
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -3, id);
    lua_rawseti(L, -3, i);
  }
  lua_pop(L, 1);
  lua_remove(L, arr);
}

void scan_with(lua_State *L, int with[PART_COUNT])
{
  static const char *const names[PART_COUNT] = {
      [PART_POLICIES] = "retention_policies", [PART_OPERATIONS] = "operations"};
  with[PART_BACKUPS] = 1;
  with[PART_POLICIES] = with[PART_OPERATIONS] = 0;
  int t = lua_getfield(L, S_OPTS, "with");
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (t != LUA_TTABLE)
    mdb_error_argument(L, "with",
                       "expected an array of \"retention_policies\""
                       " and/or \"operations\", got %s",
                       luaL_typename(L, -1));
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) { /* {operations = true} is not a list */
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
        lua_tointeger(L, -1) > n)
      mdb_error_argument(L, "with",
                         "expected an array of names, e.g. "
                         "{ \"retention_policies\", \"operations\" }");
  }
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                      : NULL;
    int part = 0;
    for (int k = PART_POLICIES; k < PART_COUNT && name; k++)
      if (strcmp(name, names[k]) == 0)
        part = k;
    if (part == 0)
      mdb_error_argument(L, "with",
                         "item %d is %s%s%s: expected "
                         "\"retention_policies\" or \"operations\"",
                         (int)i, name ? "\"" : "a ",
                         name ? name : luaL_typename(L, -1), name ? "\"" : "");
    with[part] = 1;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}
