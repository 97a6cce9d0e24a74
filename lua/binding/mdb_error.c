/*
** `mdb.error` objects: plain tables with kind, message, status, code,
** request_id, url, argument and attempts, and a metatable whose
** __tostring renders one line.  Tables rather than userdata so scripts can
** read every field and pcall handlers can inspect them with no API.
*/
#include "mdb_binding.h"

#include "text/secret_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const grpc_names[] = {"OK",
                                         "CANCELLED",
                                         "UNKNOWN",
                                         "INVALID_ARGUMENT",
                                         "DEADLINE_EXCEEDED",
                                         "NOT_FOUND",
                                         "ALREADY_EXISTS",
                                         "PERMISSION_DENIED",
                                         "RESOURCE_EXHAUSTED",
                                         "FAILED_PRECONDITION",
                                         "ABORTED",
                                         "OUT_OF_RANGE",
                                         "UNIMPLEMENTED",
                                         "INTERNAL",
                                         "UNAVAILABLE",
                                         "DATA_LOSS",
                                         "UNAUTHENTICATED"};

/* Longest message kept from elsewhere (a server, a proxy's HTML page). */
#define MESSAGE_MAX 400

/* The length of the valid UTF-8 sequence at `p` (`n` bytes left): 1 for
** ASCII, 2..4, or 0 when the byte starts none (a stray continuation byte,
** a cut sequence, an overlong form, a surrogate, above U+10FFFF). */
static size_t utf8_valid_len(const unsigned char *p, size_t n)
{
  size_t len;
  unsigned long cp;
  if (p[0] < 0x80)
    return 1;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) {
    len = 2;
    cp = p[0] & 0x1f;
  } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
    len = 3;
    cp = p[0] & 0x0f;
  } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
    len = 4;
    cp = p[0] & 0x07;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return len;
}

/*
** Push `msg` made fit for one line of a terminal: scrubbed as trace lines
** are (`secret`, when given, and anything shaped like a bearer header, an
** IAM token, a JWT or a PEM block: text/secret_text.h), control bytes turned
** into spaces, and, when `max` is non-zero, cut at `max` bytes so a huge
** HTML error page does not flood a log.  Scrubbed before it is cut, so
** no cut-off secret escapes the patterns.  No malloc: nothing leaks if
** Lua raises.
*/
static void push_clean(lua_State *L, const char *msg, const char *secret,
                       size_t max)
{
  const char *secrets[] = {secret, NULL};
  size_t len = strlen(msg);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, CREDENTIALS_SCRUB_SIZE(len));
  size_t n = secret_scrub_into(msg, secrets, p);
  /* Control characters are blanks, the C1 ones too (U+0080..U+009F, two
  ** bytes in UTF-8; U+009B is a CSI to a UTF-8 terminal), and each byte
  ** that is not part of valid UTF-8 is a "?" (0x9B alone is a CSI to a
  ** terminal not in UTF-8): a server's message reaches terminals, logs and
  ** reports. */
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)p[i];
    size_t seq = utf8_valid_len((const unsigned char *)p + i, n - i);
    if (seq == 0) {
      p[k++] = '?';
      i++;
    } else if (seq == 1) {
      p[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
      i++;
    } else if (c == 0xc2 && (unsigned char)p[i + 1] < 0xa0) {
      p[k++] = ' ';
      i += 2;
    } else {
      memmove(p + k, p + i, seq);
      k += seq;
      i += seq;
    }
  }
  n = k;
  if (max && n > max) {
    /* before a character, not inside its UTF-8 sequence */
    while (max > 0 && ((unsigned char)p[max] & 0xc0) == 0x80)
      max--;
    memcpy(p + max, "...", 3);
    n = max + 3;
  }
  luaL_pushresultsize(&b, n);
}

void mdb_error_push(lua_State *L, const mdb_error_fields *f)
{
  /* The core says only "cancelled": when the run's deadline did it, the
  ** run ran out of time, which is no Ctrl-C (the host's status 130). */
  mdb_error_fields by_deadline;
  char text[64];
  double deadline = 0;
  if (f->kind == MDB_ERR_INTERRUPTED &&
      mdb_deadline_passed(text, sizeof text, &deadline)) {
    by_deadline = *f;
    by_deadline.kind = MDB_ERR_TIMEOUT;
    by_deadline.message = text;
    f = &by_deadline;
  }
  lua_createtable(L, 0, 8);
  lua_pushstring(L, mdb_error_kind_name(f->kind));
  lua_setfield(L, -2, "kind");
  /* Argument messages are ours and whole sentences: never cut. */
  push_clean(L, f->message ? f->message : "", f->redact,
             f->kind == MDB_ERR_ARGUMENT ? 0 : MESSAGE_MAX);
  lua_setfield(L, -2, "message");
  if (f->status > 0) {
    lua_pushinteger(L, f->status);
    lua_setfield(L, -2, "status");
  }
  if (f->code >= 0) {
    lua_pushinteger(L, f->code);
    lua_setfield(L, -2, "code");
  }
  if (f->request_id && *f->request_id) {
    push_clean(L, f->request_id, f->redact, MESSAGE_MAX);
    lua_setfield(L, -2, "request_id");
  }
  if (f->url && *f->url) {
    /* A server may have put the token into it (a page token, a redirect's
    ** location): the token goes, a page token shaped like a JWT stays. */
    const char *secrets[] = {f->redact, NULL};
    size_t len = strlen(f->url);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, CREDENTIALS_SCRUB_SIZE(len));
    luaL_pushresultsize(&b, secret_redact_into(f->url, secrets, p));
    lua_setfield(L, -2, "url");
  }
  if (f->argument) {
    lua_pushstring(L, f->argument);
    lua_setfield(L, -2, "argument");
  }
  if (f->attempts > 0) {
    lua_pushinteger(L, f->attempts);
    lua_setfield(L, -2, "attempts");
  }
  if (deadline > 0) {
    mdb_push_seconds(L, deadline);
    lua_setfield(L, -2, "deadline");
  }
  luaL_setmetatable(L, MDB_ERROR_MT);
}

int mdb_error_raise(lua_State *L, const mdb_error_fields *f)
{
  mdb_error_push(L, f);
  return lua_error(L);
}

int mdb_error_argument(lua_State *L, const char *arg, const char *fmt, ...)
{
  luaL_Buffer b;
  va_list ap;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "bad argument '");
  luaL_addstring(&b, arg);
  luaL_addstring(&b, "': ");
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n > 0) {
    char *p = luaL_prepbuffsize(&b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    luaL_addsize(&b, (size_t)n);
  }
  luaL_pushresult(&b);
  mdb_error_fields f = {.kind = MDB_ERR_ARGUMENT,
                        .message = lua_tostring(L, -1),
                        .code = -1,
                        .argument = arg};
  return mdb_error_raise(L, &f);
}

int mdb_error_is(lua_State *L, int idx)
{
  if (!lua_getmetatable(L, idx))
    return 0;
  luaL_getmetatable(L, MDB_ERROR_MT);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same;
}

/* Field `k` of the table at 1 as a string, or NULL; leaves it on the stack. */
static const char *field_str(lua_State *L, const char *k)
{
  lua_getfield(L, 1, k);
  return lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
}

static lua_Integer field_int(lua_State *L, const char *k)
{
  lua_getfield(L, 1, k);
  lua_Integer v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
  lua_pop(L, 1);
  return v;
}

/*
** "http error: Cluster c1 not found (HTTP 404 NOT_FOUND, request id r-1,
** 1 attempt, GET http://...)".  Built only from the table's own fields,
** none of which ever holds a token (mdb_error_push scrubbed them).
*/
static int error_tostring(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  int top = lua_gettop(L);
  const char *kind = field_str(L, "kind");
  const char *message = field_str(L, "message");
  const char *rid = field_str(L, "request_id");
  const char *url = field_str(L, "url");
  lua_Integer status = field_int(L, "status");
  lua_Integer code = field_int(L, "code");
  lua_Integer attempts = field_int(L, "attempts");

  luaL_Buffer b;
  luaL_buffinit(L, &b);
  /* "bad argument ..." and "interrupted" say what they are already. */
  if (kind && strcmp(kind, "argument") != 0 &&
      strcmp(kind, "interrupted") != 0) {
    luaL_addstring(&b, kind);
    luaL_addstring(&b, " error: ");
  }
  luaL_addstring(&b, message ? message : "unknown error");
  char part[96];
  const char *sep = " (";
  if (status > 0) {
    snprintf(part, sizeof part, "%sHTTP %lld", sep, (long long)status);
    luaL_addstring(&b, part);
    sep = ", ";
    if (code >= 0 &&
        code < (lua_Integer)(sizeof grpc_names / sizeof grpc_names[0])) {
      luaL_addchar(&b, ' ');
      luaL_addstring(&b, grpc_names[code]);
    }
  }
  if (rid) {
    luaL_addstring(&b, sep);
    luaL_addstring(&b, "request id ");
    luaL_addstring(&b, rid);
    sep = ", ";
  }
  if (attempts > 0) {
    snprintf(part, sizeof part, "%s%lld attempt%s", sep, (long long)attempts,
             attempts == 1 ? "" : "s");
    luaL_addstring(&b, part);
    sep = ", ";
  }
  if (url) {
    luaL_addstring(&b, sep);
    luaL_addstring(&b, "GET ");
    luaL_addstring(&b, url);
    sep = ", ";
  }
  if (sep[0] == ',')
    luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  return 1;
}

void mdb_error_register(lua_State *L)
{
  luaL_newmetatable(L, MDB_ERROR_MT);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}
