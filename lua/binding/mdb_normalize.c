/*
** Turning a decoded API object into what scripts get: int64 fields sent
** as JSON strings become Lua integers, RFC 3339 timestamps gain a
** Unix-seconds twin (createdAt, startedAt, retainUntil, modifiedAt), and
** the engine is recorded.  Every other field passes
** through untouched.  A value that does not fit is an error naming the
** field, never a silent 0 or nil.
**
** The keys a kind's normalisation reads and writes are pushed once (per
** page, mdb_listing.c) and every item then costs raw table accesses with
** them: no lookup of a C string per field, and no metamethods (decoded
** tables have none).
*/
#include "mdb_binding.h"

#include "listing/list_url.h"

#include "text/int64_text.h"
#include "text/rfc3339.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The id of the object at `obj` (a policy's policyId), for messages ("?"
** when it has none). */
static const char *object_id(lua_State *L, int obj)
{
  if (lua_getfield(L, obj, "id") != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_getfield(L, obj, "policyId");
  }
  const char *id = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
  lua_pop(L, 1); /* still anchored by the object */
  return id;
}

/* Push obj[key] (key at stack index `key`); returns its type. */
static int raw_field(lua_State *L, int obj, int key)
{
  lua_pushvalue(L, key);
  return lua_rawget(L, obj);
}

static void raw_set_integer(lua_State *L, int obj, int key, lua_Integer v)
{
  lua_pushvalue(L, key);
  lua_pushinteger(L, v);
  lua_rawset(L, obj);
}

static const char *int64_field(lua_State *L, int obj, int key, char *err,
                               size_t errlen)
{
  int t = raw_field(L, obj, key);
  if (t == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    int64_t v;
    if (int64_text_parse(s, len, &v) != 0) {
      snprintf(err, errlen, "%s: field '%s' is not an int64 string: \"%.40s\"",
               object_id(L, obj), lua_tostring(L, key), s);
      lua_pop(L, 1);
      return err;
    }
    lua_pop(L, 1);
    raw_set_integer(L, obj, key, (lua_Integer)v);
  } else if (t == LUA_TNUMBER) {
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint) {
      snprintf(err, errlen, "%s: field '%s' is not an integer",
               object_id(L, obj), lua_tostring(L, key));
      return err;
    }
    raw_set_integer(L, obj, key, v);
  } else if (t == LUA_TNIL || t == LUA_TLIGHTUSERDATA) {
    lua_pop(L, 1); /* absent (proto3 omits zero) or JSON null */
  } else {
    snprintf(err, errlen, "%s: field '%s' is a %s, not an int64 string",
             object_id(L, obj), lua_tostring(L, key), luaL_typename(L, -1));
    lua_pop(L, 1);
    return err;
  }
  return NULL;
}

/* The timestamp at key `key` gains its Unix-seconds twin at key `as`. */
static const char *time_field(lua_State *L, int obj, int key, int as, char *err,
                              size_t errlen)
{
  int t = raw_field(L, obj, key);
  if (t == LUA_TNIL || t == LUA_TLIGHTUSERDATA) {
    lua_pop(L, 1);
    return NULL;
  }
  size_t len = 0;
  const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
  rfc3339_time tm;
  if (s == NULL || rfc3339_parse(s, len, &tm) != 0) {
    snprintf(err, errlen,
             "%s: field '%s' is not an RFC 3339 timestamp: "
             "\"%.40s\"",
             object_id(L, obj), lua_tostring(L, key),
             s ? s : luaL_typename(L, -1));
    lua_pop(L, 1);
    return err;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, as);
  lua_pushnumber(L, rfc3339_to_double(tm));
  lua_rawset(L, obj);
  return NULL;
}

/* A backup's shard names are an array of strings, or absent: the checks
** and the restore plans compare and sort them, and a null or a number
** among them would end a whole audit with a Lua error instead of naming
** the backup. */
static const char *names_field(lua_State *L, int obj, int key, char *err,
                               size_t errlen)
{
  int t = raw_field(L, obj, key);
  const char *bad = NULL;
  lua_Integer at = 0;
  if (t == LUA_TTABLE) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; bad == NULL && i <= n; i++) {
      int et = lua_rawgeti(L, -1, i);
      if (et != LUA_TSTRING) {
        bad = et == LUA_TLIGHTUSERDATA ? "null" : lua_typename(L, et);
        at = i;
      }
      lua_pop(L, 1);
    }
  } else if (t != LUA_TNIL && t != LUA_TLIGHTUSERDATA) {
    bad = lua_typename(L, t);
  }
  lua_pop(L, 1);
  if (bad == NULL)
    return NULL;
  if (at > 0)
    snprintf(err, errlen,
             "%s: field '%s' is not an array of strings: item %lld is %s",
             object_id(L, obj), lua_tostring(L, key), (long long)at, bad);
  else
    snprintf(err, errlen, "%s: field '%s' is not an array of strings: %s",
             object_id(L, obj), lua_tostring(L, key), bad);
  return err;
}

/* Every API object has a string id (`field`: "id", a policy's
** "policyId"); without one it is not what it says.  `id` is the stack
** index of the id already fetched, or 0. */
static const char *require_id(lua_State *L, int obj, int key, int id, char *err,
                              size_t errlen)
{
  if (id == 0)
    raw_field(L, obj, key);
  int t = lua_type(L, id ? id : -1);
  size_t len = t == LUA_TSTRING ? lua_rawlen(L, id ? id : -1) : 0;
  if (id == 0)
    lua_pop(L, 1);
  if (t == LUA_TSTRING && len > 0)
    return NULL;
  snprintf(err, errlen, "an item has no id (field '%s' is %s)",
           lua_tostring(L, key),
           t == LUA_TSTRING ? "empty" : lua_typename(L, t));
  return err;
}

/* What each kind's items get, in the order the checks run. */
typedef struct norm_spec {
  const char *times[3][2]; /* {field, Unix-seconds twin}; NULL-ended */
  const char *int64;       /* its one int64 field, or NULL */
  int engine_int64;        /* the engine's int64 fields (a backup's) */
  int error_code;          /* an operation's error.code to an integer */
  int shards;              /* a backup's sourceShardNames */
} norm_spec;

static const norm_spec *spec_for(list_kind kind)
{
  static const norm_spec backup = {{{"createdAt", "created"},
                                    {"startedAt", "started"},
                                    /* PostgreSQL backups kept by a
                                    ** retention policy */
                                    {"retainUntil", "retain_until"}},
                                   NULL,
                                   1,
                                   0,
                                   1};
  static const norm_spec cluster = {{{"createdAt", "created"}}, NULL, 0, 0, 0};
  static const norm_spec policy = {
      {{"createdAt", "created"}}, "retainForDays", 0, 0, 0};
  static const norm_spec operation = {
      {{"createdAt", "created"}, {"modifiedAt", "modified"}}, NULL, 0, 1, 0};
  switch (kind) {
  case LIST_CLUSTER_BACKUPS:
  case LIST_FOLDER_BACKUPS: return &backup;
  case LIST_CLUSTERS: return &cluster;
  case LIST_CLUSTER_POLICIES:
  case LIST_FOLDER_POLICIES: return &policy;
  case LIST_OPERATIONS: return &operation;
  default: /* Resource Manager: kept as sent */ return NULL;
  }
}

void mdb_norm_keys_push(lua_State *L, list_kind kind, const engine_info *e,
                        mdb_norm_keys *k)
{
  const norm_spec *sp = spec_for(kind);
  memset(k, 0, sizeof *k);
  luaL_checkstack(L, 24, "normalising");
  lua_pushstring(L, list_id_field(kind));
  k->id = lua_gettop(L);
  k->active = sp != NULL;
  if (sp == NULL)
    return;
  k->int64 = lua_gettop(L) + 1;
  if (sp->int64) {
    lua_pushstring(L, sp->int64);
    k->nint64 = 1;
  } else if (sp->engine_int64) {
    for (const char *const *f = e->int64_fields; *f; f++) {
      lua_pushstring(L, *f);
      k->nint64++;
    }
  }
  k->times = lua_gettop(L) + 1;
  for (int i = 0; i < 3 && sp->times[i][0]; i++) {
    lua_pushstring(L, sp->times[i][0]);
    lua_pushstring(L, sp->times[i][1]);
    k->ntimes++;
  }
  if (sp->shards) {
    lua_pushliteral(L, "sourceShardNames");
    k->shards = lua_gettop(L);
  }
  if (sp->error_code) {
    lua_pushliteral(L, "error");
    k->error_code = lua_gettop(L);
    lua_pushliteral(L, "code");
  }
  lua_pushliteral(L, "engine");
  k->engine = lua_gettop(L);
  lua_pushstring(L, e->name);
}

const char *mdb_norm_item(lua_State *L, int obj, const mdb_norm_keys *k, int id,
                          char *err, size_t errlen)
{
  const char *e = require_id(L, obj, k->id, id, err, errlen);
  for (int i = 0; e == NULL && i < k->nint64; i++)
    e = int64_field(L, obj, k->int64 + i, err, errlen);
  for (int i = 0; e == NULL && i < k->ntimes; i++)
    e = time_field(L, obj, k->times + 2 * i, k->times + 2 * i + 1, err, errlen);
  if (e == NULL && k->shards)
    e = names_field(L, obj, k->shards, err, errlen);
  if (e != NULL)
    return e;
  /* error.code is a google.rpc code (int32): 13, not lua-cjson's 13.0 */
  if (k->error_code && raw_field(L, obj, k->error_code) == LUA_TTABLE) {
    int error = lua_gettop(L);
    raw_field(L, error, k->error_code + 1);
    lua_Integer code;
    if (lua_type(L, -1) == LUA_TNUMBER &&
        lua_numbertointeger(lua_tonumber(L, -1), &code)) {
      raw_set_integer(L, error, k->error_code + 1, code);
    }
    lua_pop(L, 1);
  }
  if (k->error_code)
    lua_pop(L, 1);
  lua_pushvalue(L, k->engine); /* the last step: record the engine */
  lua_pushvalue(L, k->engine + 1);
  lua_rawset(L, obj);
  return NULL;
}

/* The item at the top of the stack, normalised as an item of `kind`. */
static const char *normalize_top(lua_State *L, list_kind kind,
                                 const engine_info *engine, char *err,
                                 size_t errlen)
{
  int obj = lua_gettop(L);
  mdb_norm_keys k;
  mdb_norm_keys_push(L, kind, engine, &k);
  const char *e = k.active ? mdb_norm_item(L, obj, &k, 0, err, errlen) : NULL;
  lua_settop(L, obj);
  return e;
}

const char *mdb_normalize_backup(lua_State *L, const engine_info *engine,
                                 char *err, size_t errlen)
{
  return normalize_top(L, LIST_CLUSTER_BACKUPS, engine, err, errlen);
}

const char *mdb_normalize_cluster(lua_State *L, const engine_info *engine,
                                  char *err, size_t errlen)
{
  return normalize_top(L, LIST_CLUSTERS, engine, err, errlen);
}

const char *mdb_normalize_policy(lua_State *L, const engine_info *engine,
                                 char *err, size_t errlen)
{
  return normalize_top(L, LIST_CLUSTER_POLICIES, engine, err, errlen);
}

const char *mdb_normalize_operation(lua_State *L, const engine_info *engine,
                                    char *err, size_t errlen)
{
  return normalize_top(L, LIST_OPERATIONS, engine, err, errlen);
}

mdb_normalizer mdb_normalizer_for(list_kind kind)
{
  switch (kind) {
  case LIST_CLUSTER_BACKUPS:
  case LIST_FOLDER_BACKUPS: return mdb_normalize_backup;
  case LIST_CLUSTERS: return mdb_normalize_cluster;
  case LIST_CLUSTER_POLICIES:
  case LIST_FOLDER_POLICIES: return mdb_normalize_policy;
  case LIST_OPERATIONS: return mdb_normalize_operation;
  default: /* Resource Manager: kept as sent */ return NULL;
  }
}
