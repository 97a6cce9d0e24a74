/*
** `mdb.client{...}`: a userdata holding one client's configuration and
** its token.  The token never leaves C: no field, method or __tostring
** exposes it, and it is wiped when the client is collected.
*/
#include "mdb_binding.h"

#include "cred_provider.h"
#include "credentials.h"
#include "endpoint_url.h"
#include "mdb_defaults.h"

#include <stdlib.h>
#include <string.h>

static const char *const client_options[] = {
  "backoff_base", "backoff_max", "connect_timeout", "endpoint",
  "max_response_bytes", "page_size", "retries", "timeout", "token", NULL};

mdb_client *mdb_client_check(lua_State *L, int idx)
{
  mdb_client *c = luaL_checkudata(L, idx, MDB_CLIENT_MT);
  if (c->endpoint == NULL)
    luaL_error(L, "attempt to use an uninitialised client");
  return c;
}

static long seconds_to_ms(double s)
{
  return (long)(s * 1000.0 + 0.5);
}

/* Raise an argument error about `arg` after freeing nothing: the userdata
** owns whatever was allocated so far and __gc releases it. */
int mdb_client_new(lua_State *L)
{
  if (lua_isnoneornil(L, 1))
    lua_newtable(L);
  else if (!lua_istable(L, 1))
    return mdb_error_argument(L, "options", "expected a table of options, "
                              "got %s", luaL_typename(L, 1));
  lua_settop(L, 1);
  mdb_opt_check_keys(L, 1, client_options);

  /* The userdata exists, empty and with its metatable, before anything is
  ** allocated, so __gc can always clean up (liolib's newprefile). */
  mdb_client *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, MDB_CLIENT_MT);

  const char *endpoint = NULL;
  if (!mdb_opt_string(L, 1, "endpoint", 0, &endpoint)) {
    endpoint = getenv("YC_MDB_ENDPOINT");
    if (endpoint == NULL || *endpoint == '\0')
      endpoint = MDB_DEFAULT_ENDPOINT;
  }
  char err[320];
  char *norm = endpoint_normalize(endpoint, err, sizeof err);
  if (norm == NULL)
    return mdb_error_argument(L, "endpoint", "%s", err);
  c->endpoint = norm;

  lua_Integer v;
  double d;
  c->page_size = MDB_DEFAULT_PAGE_SIZE;
  if (mdb_opt_integer(L, 1, "page_size", 0, MDB_MAX_PAGE_SIZE, &v))
    c->page_size = (long)v;
  c->retries = MDB_DEFAULT_RETRIES;
  if (mdb_opt_integer(L, 1, "retries", 0, MDB_MAX_RETRIES, &v))
    c->retries = (int)v;
  c->timeout_ms = MDB_DEFAULT_TIMEOUT_MS;
  if (mdb_opt_number(L, 1, "timeout", 0.001, 86400, &d))
    c->timeout_ms = seconds_to_ms(d);
  c->connect_timeout_ms = MDB_DEFAULT_CONNECT_MS;
  if (mdb_opt_number(L, 1, "connect_timeout", 0.001, 3600, &d))
    c->connect_timeout_ms = seconds_to_ms(d);
  c->max_body = MDB_DEFAULT_MAX_BODY;
  if (mdb_opt_integer(L, 1, "max_response_bytes", 1024,
                      (lua_Integer)1 << 40, &v))
    c->max_body = (size_t)v;
  c->backoff_base_ms = MDB_DEFAULT_BACKOFF_MS;
  if (mdb_opt_number(L, 1, "backoff_base", 0, 3600, &d))
    c->backoff_base_ms = seconds_to_ms(d);
  c->backoff_max_ms = MDB_DEFAULT_BACKOFF_MAX_MS;
  if (mdb_opt_number(L, 1, "backoff_max", 0, 3600, &d))
    c->backoff_max_ms = seconds_to_ms(d);

  const char *token = NULL;
  int t = lua_getfield(L, 1, "token");
  if (t != LUA_TNIL && t != LUA_TSTRING)
    return mdb_error_argument(L, "token", "expected a string, got %s",
                              luaL_typename(L, -1));
  token = lua_tostring(L, -1);
  char *resolved = credentials_resolve(token, err, sizeof err);
  lua_pop(L, 1);
  if (resolved == NULL)
    return mdb_error_argument(L, "token", "%s", err);
  c->creds = cred_provider_new_static(resolved);
  credentials_free(resolved);
  c->share = curl_share_init();
  if (c->creds == NULL || c->share == NULL)
    return luaL_error(L, "out of memory creating a client");
  /* Single-threaded use: no lock callbacks needed. */
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return 1;
}

fetch_engine *mdb_client_engine(const mdb_client *c, int concurrency,
                                double rate)
{
  fetch_engine_config cfg = {
    .http = {c->timeout_ms, c->connect_timeout_ms, c->max_body, c->share},
    .policy = {c->retries, {c->backoff_base_ms, c->backoff_max_ms}},
    .concurrency = concurrency,
    .rate = rate,
    .creds = c->creds,
  };
  return fetch_engine_new(&cfg);
}

static int client_gc(lua_State *L)
{
  mdb_client *c = luaL_checkudata(L, 1, MDB_CLIENT_MT);
  cred_provider_free(c->creds);
  c->creds = NULL;
  if (c->share)
    curl_share_cleanup(c->share);
  c->share = NULL;
  free(c->endpoint);
  c->endpoint = NULL;
  return 0;
}

/* Never shows the token: only where the client talks to. */
static int client_tostring(lua_State *L)
{
  mdb_client *c = luaL_checkudata(L, 1, MDB_CLIENT_MT);
  lua_pushfstring(L, "mdb.client (%s)", c->endpoint ? c->endpoint : "closed");
  return 1;
}

static int client_endpoint(lua_State *L)
{
  lua_pushstring(L, mdb_client_check(L, 1)->endpoint);
  return 1;
}

static const luaL_Reg client_methods[] = {
  {"backups", mdb_client_backups},
  {"clusters", mdb_client_clusters},
  {"endpoint", client_endpoint},
  {"scan", mdb_client_scan},
  {NULL, NULL}
};

static const luaL_Reg client_metamethods[] = {
  {"__gc", client_gc},
  {"__index", NULL},
  {"__tostring", client_tostring},
  {NULL, NULL}
};

void mdb_client_register(lua_State *L)
{
  luaL_newmetatable(L, MDB_CLIENT_MT);
  luaL_setfuncs(L, client_metamethods, 0);
  luaL_newlib(L, client_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
