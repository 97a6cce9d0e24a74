/*
** luaopen_mdb: the `mdb` module table (client, deadline, backstop, engines,
** capabilities, defaults, parse_time, is_error, isatty, redact, version)
** and the metatables of its objects.  JSON is decoded by a private
** lua-cjson instance, so a script's cjson settings never change how API
** responses are read.
*/
#include "mdb.h"
#include "mdb_binding.h"

#include "http/cancel.h"
#include "mdb_defaults.h"
#include "text/rfc3339.h"
#include "text/secret_text.h"

#include <curl/curl.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* mdb.parse_time(s) -> Unix seconds (float), or nil and a message. */
static int mdb_parse_time(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  rfc3339_time t;
  if (rfc3339_parse(s, len, &t) != 0) {
    luaL_pushfail(L);
    lua_pushfstring(L, "not an RFC 3339 timestamp: \"%s\"", s);
    return 2;
  }
  lua_pushnumber(L, rfc3339_to_double(t));
  return 1;
}

/*
** mdb.redact(s) -> s with every token a client of this process holds, and
** anything shaped like a bearer header, an IAM token, a JWT or a PEM
** block, replaced by "[REDACTED]": the scrub mdblua's own messages get,
** for scripts that print text from elsewhere (and the prompt's history).
*/
static int mdb_redact(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (strlen(s) != len)
    return luaL_argerror(L, 1, "holds a NUL byte");
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, CREDENTIALS_SCRUB_SIZE(len));
  luaL_pushresultsize(&b, secret_scrub_into(s, NULL, p));
  return 1;
}

/*
** mdb.isatty(file) -> true when the Lua file handle is a terminal, so
** scripts show progress on a terminal and stay quiet in cron and pipes.
*/
static int mdb_isatty(lua_State *L)
{
  luaL_Stream *s = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  lua_pushboolean(L, s->closef != NULL && s->f != NULL && isatty(fileno(s->f)));
  return 1;
}

static int mdb_is_error(lua_State *L)
{
  luaL_checkany(L, 1);
  lua_pushboolean(L, mdb_error_is(L, 1));
  return 1;
}

static const luaL_Reg mdb_functions[] = {
    {"client", mdb_client_new}, {"deadline", mdb_deadline},
    {"backstop", mdb_backstop}, {"is_error", mdb_is_error},
    {"isatty", mdb_isatty},     {"parse_time", mdb_parse_time},
    {"redact", mdb_redact},     {NULL, NULL}};

/*
** mdb.capabilities[engine]: what the engine's Backup and Cluster objects
** carry, from the engine table (engines.h), so Lua policy never keeps a
** second list: { size = "size"|"sizeBytes"|nil, type = true|nil,
** status = true|nil, shards = true|nil, retention = {path...}|nil }.
*/
static void push_capabilities(lua_State *L)
{
  lua_createtable(L, 0, (int)engines_count());
  for (size_t i = 0; i < engines_count(); i++) {
    const engine_info *e = engines_at(i);
    lua_createtable(L, 0, 5);
    if (e->size_field) {
      lua_pushstring(L, e->size_field);
      lua_setfield(L, -2, "size");
    }
    const struct {
      const char *name;
      int on;
    } flags[] = {{"type", e->has_type},
                 {"status", e->has_status},
                 {"shards", e->has_shards}};
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
      if (flags[f].on) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, flags[f].name);
      }
    }
    if (e->retention) {
      lua_newtable(L);
      for (int k = 0; e->retention[k]; k++) {
        lua_pushstring(L, e->retention[k]);
        lua_rawseti(L, -2, k + 1);
      }
      lua_setfield(L, -2, "retention");
    }
    lua_setfield(L, -2, e->name);
  }
}

/*
** mdb.defaults: the client and scan defaults of mdb_defaults.h, in the
** units of the options they are defaults of (seconds, bytes, counts).
*/
static void push_defaults(lua_State *L)
{
  const struct {
    const char *name;
    double value;
  } numbers[] = {
      {"page_size", MDB_DEFAULT_PAGE_SIZE},
      {"max_page_size", MDB_MAX_PAGE_SIZE},
      {"retries", MDB_DEFAULT_RETRIES},
      {"max_retries", MDB_MAX_RETRIES},
      {"timeout", MDB_DEFAULT_TIMEOUT_MS / 1000.0},
      {"connect_timeout", MDB_DEFAULT_CONNECT_MS / 1000.0},
      {"max_response_bytes", (double)MDB_DEFAULT_MAX_BODY},
      {"backoff_base", MDB_DEFAULT_BACKOFF_MS / 1000.0},
      {"backoff_max", MDB_DEFAULT_BACKOFF_MAX_MS / 1000.0},
      {"token_command_timeout", MDB_DEFAULT_TOKEN_COMMAND_TIMEOUT_MS / 1000.0},
      {"probe_connect_timeout", MDB_PROBE_CONNECT_MS / 1000.0},
      {"probe_timeout", MDB_PROBE_TIMEOUT_MS / 1000.0},
      {"concurrency", MDB_DEFAULT_CONCURRENCY},
      {"max_concurrency", MDB_MAX_CONCURRENCY},
      {"max_id_length", MDB_MAX_ID_LEN},
      {"max_folders", MDB_MAX_SCAN_FOLDERS},
      {"max_deadline", MDB_MAX_DEADLINE_S}};
  lua_createtable(L, 0, (int)(sizeof numbers / sizeof numbers[0]) + 1);
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
    lua_Number v = numbers[i].value;
    lua_Integer n;
    if (lua_numbertointeger(v, &n) && (lua_Number)n == v)
      lua_pushinteger(L, n); /* 16, not 16.0, in messages */
    else
      lua_pushnumber(L, v);
    lua_setfield(L, -2, numbers[i].name);
  }
  lua_pushliteral(L, MDB_DEFAULT_ENDPOINT);
  lua_setfield(L, -2, "endpoint");
}

/* Call cjson-instance method `name` with one argument. */
static void cjson_set(lua_State *L, const char *name, int value, int isbool)
{
  lua_getfield(L, -1, name);
  if (isbool)
    lua_pushboolean(L, value);
  else
    lua_pushinteger(L, value);
  lua_call(L, 1, 0);
}

static void register_decoder(lua_State *L)
{
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  lua_getfield(L, -1, "new");
  lua_call(L, 0, 1);
  cjson_set(L, "decode_invalid_numbers", 0, 1); /* strict JSON: no NaN */
  cjson_set(L, "decode_max_depth", 100, 0);
  lua_getfield(L, -1, "decode");
  lua_setfield(L, LUA_REGISTRYINDEX, MDB_DECODE_KEY);
  lua_pop(L, 2);
}

int luaopen_mdb(lua_State *L)
{
  /* libcurl's global init is not thread-safe before 7.84; once per state
  ** is cheap and safe since libcurl counts the calls. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "cannot initialise libcurl");
  register_decoder(L);
  mdb_error_register(L);
  mdb_client_register(L);
  mdb_iter_register(L);
  mdb_scan_register(L);

  luaL_newlib(L, mdb_functions);
  lua_createtable(L, (int)engines_count(), 0);
  for (size_t i = 0; i < engines_count(); i++) {
    lua_pushstring(L, engines_at(i)->name);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "engines");
  push_capabilities(L);
  lua_setfield(L, -2, "capabilities");
  push_defaults(L);
  lua_setfield(L, -2, "defaults");
  lua_pushliteral(L, MDB_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushliteral(L, "mdb " MDB_VERSION);
  lua_setfield(L, -2, "_VERSION");
  mdb_sqlite_register(L);
  mdb_fs_register(L);
  return 1;
}

const mdb_host_api mdb_host_exports = {
    .version = MDB_HOST_API_VERSION,
    .open = luaopen_mdb,
    .cancel_raise = cancel_raise,
    .cancel_requested = cancel_requested,
    .cancel_clear = cancel_clear,
};
