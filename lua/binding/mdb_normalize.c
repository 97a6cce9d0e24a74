/*
** Turning a decoded API object into what scripts get: int64 fields sent
** as JSON strings become Lua integers, RFC 3339 timestamps gain a
** Unix-seconds twin (createdAt, startedAt, retainUntil, modifiedAt), and
** the engine is recorded.  Every other field passes
** through untouched.  A value that does not fit is an error naming the
** field, never a silent 0 or nil.
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

static const char *int64_field(lua_State *L, int obj, const char *field,
                               char *err, size_t errlen)
{
  int t = lua_getfield(L, obj, field);
  if (t == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    int64_t v;
    if (int64_text_parse(s, len, &v) != 0) {
      snprintf(err, errlen, "%s: field '%s' is not an int64 string: \"%.40s\"",
               object_id(L, obj), field, s);
      lua_pop(L, 1);
      return err;
    }
    lua_pop(L, 1);
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, obj, field);
  } else if (t == LUA_TNUMBER) {
    int isint;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint) {
      snprintf(err, errlen, "%s: field '%s' is not an integer",
               object_id(L, obj), field);
      return err;
    }
    lua_pushinteger(L, v);
    lua_setfield(L, obj, field);
  } else if (t == LUA_TNIL || t == LUA_TLIGHTUSERDATA) {
    lua_pop(L, 1); /* absent (proto3 omits zero) or JSON null */
  } else {
    snprintf(err, errlen, "%s: field '%s' is a %s, not an int64 string",
             object_id(L, obj), field, luaL_typename(L, -1));
    lua_pop(L, 1);
    return err;
  }
  return NULL;
}

static const char *time_field(lua_State *L, int obj, const char *field,
                              const char *as, char *err, size_t errlen)
{
  int t = lua_getfield(L, obj, field);
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
             object_id(L, obj), field, s ? s : luaL_typename(L, -1));
    lua_pop(L, 1);
    return err;
  }
  lua_pop(L, 1);
  lua_pushnumber(L, rfc3339_to_double(tm));
  lua_setfield(L, obj, as);
  return NULL;
}

/* Every API object has a string id (`field`: "id", a policy's
** "policyId"); without one it is not what it says. */
static const char *require_id(lua_State *L, int obj, const char *field,
                              char *err, size_t errlen)
{
  int t = lua_getfield(L, obj, field);
  size_t len = 0;
  if (t == LUA_TSTRING)
    lua_tolstring(L, -1, &len);
  lua_pop(L, 1);
  if (t == LUA_TSTRING && len > 0)
    return NULL;
  snprintf(err, errlen, "an item has no id (field '%s' is %s)", field,
           t == LUA_TSTRING ? "empty" : lua_typename(L, t));
  return err;
}

/* The last step of every normaliser: record the engine; no error. */
static const char *set_engine(lua_State *L, int obj, const engine_info *engine)
{
  lua_pushstring(L, engine->name);
  lua_setfield(L, obj, "engine");
  return NULL;
}

const char *mdb_normalize_backup(lua_State *L, const engine_info *engine,
                                 char *err, size_t errlen)
{
  int obj = lua_gettop(L);
  const char *e = require_id(L, obj, "id", err, errlen);
  if (e != NULL)
    return e;
  for (const char *const *f = engine->int64_fields; *f; f++)
    if ((e = int64_field(L, obj, *f, err, errlen)) != NULL)
      return e;
  /* retainUntil: PostgreSQL backups kept by a retention policy. */
  if ((e = time_field(L, obj, "createdAt", "created", err, errlen)) != NULL ||
      (e = time_field(L, obj, "startedAt", "started", err, errlen)) != NULL ||
      (e = time_field(L, obj, "retainUntil", "retain_until", err, errlen)) !=
          NULL)
    return e;
  return set_engine(L, obj, engine);
}

const char *mdb_normalize_cluster(lua_State *L, const engine_info *engine,
                                  char *err, size_t errlen)
{
  int obj = lua_gettop(L);
  const char *e = require_id(L, obj, "id", err, errlen);
  if (e == NULL)
    e = time_field(L, obj, "createdAt", "created", err, errlen);
  if (e != NULL)
    return e;
  return set_engine(L, obj, engine);
}

const char *mdb_normalize_policy(lua_State *L, const engine_info *engine,
                                 char *err, size_t errlen)
{
  int obj = lua_gettop(L);
  const char *e = require_id(L, obj, "policyId", err, errlen);
  if (e != NULL)
    return e;
  e = int64_field(L, obj, "retainForDays", err, errlen);
  if (e == NULL)
    e = time_field(L, obj, "createdAt", "created", err, errlen);
  if (e != NULL)
    return e;
  return set_engine(L, obj, engine);
}

const char *mdb_normalize_operation(lua_State *L, const engine_info *engine,
                                    char *err, size_t errlen)
{
  int obj = lua_gettop(L);
  const char *e = require_id(L, obj, "id", err, errlen);
  if (e == NULL)
    e = time_field(L, obj, "createdAt", "created", err, errlen);
  if (e == NULL)
    e = time_field(L, obj, "modifiedAt", "modified", err, errlen);
  if (e != NULL)
    return e;
  /* error.code is a google.rpc code (int32): 13, not lua-cjson's 13.0 */
  if (lua_getfield(L, obj, "error") == LUA_TTABLE) {
    lua_getfield(L, -1, "code");
    lua_Integer code;
    if (lua_type(L, -1) == LUA_TNUMBER &&
        lua_numbertointeger(lua_tonumber(L, -1), &code)) {
      lua_pushinteger(L, code);
      lua_setfield(L, -3, "code");
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return set_engine(L, obj, engine);
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
