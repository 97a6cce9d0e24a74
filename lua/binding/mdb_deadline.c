/*
** mdb.deadline: the run's deadline (core's cancel.h) from Lua, and how an
** error tells that the deadline, not Ctrl-C, cancelled a wait.  The
** deadline is process-wide, as Ctrl-C is: it bounds a run, whatever
** clients, scans and history files the run uses.
*/
#include "mdb_binding.h"

#include "http/backstop.h"
#include "http/cancel.h"
#include "mdb_defaults.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void mdb_push_seconds(lua_State *L, double s)
{
  lua_Integer n;
  if (lua_numbertointeger(s, &n) && (lua_Number)n == s)
    lua_pushinteger(L, n);
  else
    lua_pushnumber(L, s);
}

/*
** mdb.deadline(seconds): from now, every wait ends `seconds` later at the
** latest; mdb.deadline(false) removes it; mdb.deadline() -> the seconds
** left (0 once it passed), the seconds it was set to and whether a wait
** it ends now is its doing (false before it passed, and once Ctrl-C came
** after it passed: the user's), or nil.  The third is how a script tells
** a text error that a cancelled wait became (SQLite's "interrupted")
** the deadline's from the user's.
*/
int mdb_deadline(lua_State *L)
{
  if (lua_isnoneornil(L, 1)) {
    long long span = cancel_deadline_ms();
    if (span < 0) {
      lua_pushnil(L);
      return 1;
    }
    mdb_push_seconds(L, (double)cancel_deadline_left_ms() / 1000.0);
    mdb_push_seconds(L, (double)span / 1000.0);
    lua_pushboolean(L, cancel_by_deadline());
    return 3;
  }
  if (lua_isboolean(L, 1) && !lua_toboolean(L, 1)) {
    cancel_set_deadline_ms(-1);
    return 0;
  }
  if (lua_type(L, 1) != LUA_TNUMBER)
    return mdb_error_argument(L, "deadline",
                              "expected a number of seconds, or false to "
                              "remove it, got %s",
                              luaL_typename(L, 1));
  double s = lua_tonumber(L, 1);
  if (!(s > 0 && s <= MDB_MAX_DEADLINE_S)) /* also rejects NaN */
    return mdb_error_argument(L, "deadline",
                              "expected a number of seconds above 0 and "
                              "at most %d, got %g",
                              MDB_MAX_DEADLINE_S, s);
  cancel_set_deadline_ms((long long)ceil(s * 1000.0));
  return 0;
}

/*
** mdb.backstop(seconds, status, err_text [, out_text]): if the process
** still runs `seconds` from now, err_text goes to stderr (out_text to
** stdout) and the process ends with `status` at once, Lua or no Lua;
** mdb.backstop(false) disarms it; mdb.backstop() -> the seconds left, or
** nil.  The scripts' --timeout arms it a few seconds after their
** deadline, for what the deadline cannot end (core's backstop.h).
** mdb.backstop{remove = path} names a file removed as it fires (the
** temporary file of a report being written), {remove = false} none.
*/
static int backstop_remove(lua_State *L)
{
  luaL_checkany(L, 1);
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING ||
        strcmp(lua_tostring(L, -1), "remove") != 0)
      return mdb_error_argument(L, "backstop",
                                "unknown option '%s' (known: remove)",
                                luaL_tolstring(L, -1, NULL));
  }
  lua_getfield(L, 1, "remove");
  int t = lua_type(L, -1);
  if (t != LUA_TSTRING && !(t == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
    return mdb_error_argument(L, "backstop",
                              "option 'remove': expected a path, or false "
                              "for none, got %s",
                              luaL_typename(L, -1));
  const char *path = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  if (path != NULL && (path[0] == '\0' || strlen(path) != lua_rawlen(L, -1)))
    return mdb_error_argument(L, "backstop",
                              "option 'remove': expected a path, got an "
                              "empty text or one with a NUL byte");
  if (backstop_remove_on_fire(path) != 0) {
    mdb_error_fields f = {.kind = MDB_ERR_MEMORY,
                          .message = "backstop: no memory for the path",
                          .code = -1};
    return mdb_error_raise(L, &f);
  }
  return 0;
}

int mdb_backstop(lua_State *L)
{
  if (lua_type(L, 1) == LUA_TTABLE)
    return backstop_remove(L);
  if (lua_isnoneornil(L, 1)) {
    long long left = backstop_left_ms();
    if (left < 0)
      lua_pushnil(L);
    else
      mdb_push_seconds(L, (double)left / 1000.0);
    return 1;
  }
  if (lua_isboolean(L, 1) && !lua_toboolean(L, 1)) {
    backstop_disarm();
    return 0;
  }
  const double max = 2.0 * MDB_MAX_DEADLINE_S;
  double s = lua_tonumber(L, 1);
  if (lua_type(L, 1) != LUA_TNUMBER || !(s > 0 && s <= max))
    return mdb_error_argument(L, "backstop",
                              "expected a number of seconds above 0 and "
                              "at most %g, or false to disarm it, got %s",
                              max, luaL_tolstring(L, 1, NULL));
  int isint;
  lua_Integer status = lua_tointegerx(L, 2, &isint);
  if (!isint || status < 0 || status > 255)
    return mdb_error_argument(L, "backstop",
                              "expected an exit status from 0 to 255, got %s",
                              luaL_tolstring(L, 2, NULL));
  const char *err = luaL_optstring(L, 3, NULL);
  const char *out = luaL_optstring(L, 4, NULL);
  if (backstop_arm((long long)ceil(s * 1000.0), (int)status, out, err) != 0) {
    mdb_error_fields f = {.kind = MDB_ERR_MEMORY,
                          .message = "backstop: no thread or memory to "
                                     "watch the time",
                          .code = -1};
    return mdb_error_raise(L, &f);
  }
  return 0;
}

int mdb_deadline_passed(char *text, size_t len, double *seconds)
{
  if (!cancel_by_deadline())
    return 0;
  *seconds = (double)cancel_deadline_ms() / 1000.0;
  snprintf(text, len, "deadline of %g s passed", *seconds);
  return 1;
}

int mdb_cancelled_error(lua_State *L)
{
  if (cancel_by_deadline()) {
    mdb_error_fields f = {
        .kind = MDB_ERR_INTERRUPTED, .message = "interrupted", .code = -1};
    return mdb_error_raise(L, &f); /* made the deadline's by mdb_error_push */
  }
  return luaL_error(L, "interrupted!");
}
