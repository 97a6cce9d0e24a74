/*
** Reading option tables the way loslib's getfield does: absent means the
** default, a wrong type or an out-of-range value is an argument error
** naming the field, and an unknown key is an error too, because a typo
** such as `page_szie` silently ignored would be a wrong answer.
*/
#include "mdb_binding.h"

#include "http/endpoint_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mdb_opt_table(lua_State *L, int idx)
{
  if (!lua_istable(L, idx))
    mdb_error_argument(L, "options",
                       "expected a table of options "
                       "(e.g. {engine = \"mysql\", cluster = id}), got %s",
                       luaL_typename(L, idx));
}

/* The name of spec i: each spec starts with its name. */
static const char *spec_name(const void *specs, size_t stride, size_t i)
{
  return *(const char *const *)((const char *)specs + i * stride);
}

void mdb_opt_check_keys(lua_State *L, int idx, const char *const allowed[])
{
  mdb_opt_check_names(L, idx, allowed, sizeof allowed[0]);
}

void mdb_opt_check_names(lua_State *L, int idx, const void *specs,
                         size_t stride)
{
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      mdb_error_argument(L, "options",
                         "keys must be option names "
                         "(e.g. {engine = \"mongodb\"}), found a %s key",
                         luaL_typename(L, -1));
    const char *k = lua_tostring(L, -1);
    int ok = 0;
    for (size_t i = 0; spec_name(specs, stride, i); i++)
      if (strcmp(spec_name(specs, stride, i), k) == 0)
        ok = 1;
    if (!ok) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (size_t i = 0; spec_name(specs, stride, i); i++) {
        luaL_addstring(&b, i == 0 ? "" : ", ");
        luaL_addstring(&b, spec_name(specs, stride, i));
      }
      luaL_pushresult(&b);
      mdb_error_argument(L, k, "unknown option (known: %s)",
                         lua_tostring(L, -1));
    }
  }
}

int mdb_opt_string(lua_State *L, int idx, const char *field, size_t maxlen,
                   const char **out)
{
  int t = lua_getfield(L, idx, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (t != LUA_TSTRING)
    return mdb_error_argument(L, field, "expected a string, got %s",
                              luaL_typename(L, -1));
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  if (len == 0)
    return mdb_error_argument(L, field, "must not be empty");
  if (maxlen && len > maxlen)
    return mdb_error_argument(L, field,
                              "must be at most %zu characters, "
                              "got %zu",
                              maxlen, len);
  if (strlen(s) != len)
    return mdb_error_argument(L, field, "must not contain NUL bytes");
  *out = s; /* anchored by the options table, which the caller keeps */
  lua_pop(L, 1);
  return 1;
}

/* Field `field` of the table at idx pushed when it is a number: 1; 0,
** nothing pushed, when it is absent.  Another type is an argument error:
** expected `want`, got the type's name. */
static int push_number(lua_State *L, int idx, const char *field,
                       const char *want)
{
  int t = lua_getfield(L, idx, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (t != LUA_TNUMBER)
    return mdb_error_argument(L, field, "expected %s, got %s", want,
                              luaL_typename(L, -1));
  return 1;
}

int mdb_opt_integer(lua_State *L, int idx, const char *field, lua_Integer min,
                    lua_Integer max, lua_Integer *out)
{
  char want[96];
  snprintf(want, sizeof want, "an integer between %lld and %lld",
           (long long)min, (long long)max);
  if (!push_number(L, idx, field, want))
    return 0;
  int isint = 0;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint) /* 1.5, or too large for an integer: its own text */
    return mdb_error_argument(L, field, "expected %s, got %s", want,
                              lua_tostring(L, -1));
  if (v < min || v > max)
    return mdb_error_argument(L, field, "expected %s, got %lld", want,
                              (long long)v);
  *out = v;
  lua_pop(L, 1);
  return 1;
}

int mdb_opt_number(lua_State *L, int idx, const char *field, double min,
                   double max, double *out)
{
  if (!push_number(L, idx, field, "a number of seconds"))
    return 0;
  double v = lua_tonumber(L, -1);
  if (!(v >= min && v <= max)) /* also rejects NaN */
    return mdb_error_argument(L, field,
                              "expected a number between %g "
                              "and %g, got %g",
                              min, max, v);
  *out = v;
  lua_pop(L, 1);
  return 1;
}

char *mdb_opt_endpoint(lua_State *L, int idx, const char *field,
                       const char *env, const char *fallback)
{
  const char *url = NULL, *from = "", *sep = "";
  if (!mdb_opt_string(L, idx, field, 0, &url)) {
    url = getenv(env);
    if (url == NULL || *url == '\0') {
      url = fallback;
    } else { /* not typed in a script: say where it came from */
      from = env;
      sep = ": ";
    }
  }
  char err[700];
  char *norm = endpoint_normalize(url, err, sizeof err);
  if (norm == NULL)
    mdb_error_argument(L, field, "%s%s%s", from, sep, err);
  return norm;
}
