/*
** `mdb.client{...}`: a userdata holding one client's configuration and
** its token source (core/auth/cred_chain.h picks it, core/auth/cred_provider.h
** caches and refreshes its tokens).  Tokens never leave C: no field,
** method or __tostring exposes them, and they are wiped when the client
** is collected.
*/
#include "mdb_binding.h"

#include "auth/cred_chain.h"
#include "auth/cred_provider.h"
#include "text/secret_text.h"
#include "mdb_defaults.h"
#include "http/trace.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_COMMAND_MAX_ARGS 64

/* How an option is read: the numbers straight into mdb_client from the
** table below; the others by code in mdb_client_new. */
typedef enum {
  BY_CODE,
  SECONDS_MS, /* a number of seconds, kept as long ms */
  COUNT_LONG, /* an integer, kept as long */
  COUNT_INT,  /* an integer, kept as int */
  BYTES       /* an integer, kept as size_t */
} option_kind;

typedef struct client_option {
  const char *name; /* first: mdb_opt_check_names reads it */
  option_kind kind;
  double min, max;    /* accepted range, in the Lua unit */
  long long fallback; /* the default, in the kept unit */
  size_t offset;      /* where in mdb_client it is kept */
} client_option;

/* Every option of mdb.client, in the order "known: ..." lists them. */
static const client_option client_options[] = {
    {"backoff_base", SECONDS_MS, 0, 3600, MDB_DEFAULT_BACKOFF_MS,
     offsetof(mdb_client, backoff_base_ms)},
    {"backoff_max", SECONDS_MS, 0, 3600, MDB_DEFAULT_BACKOFF_MAX_MS,
     offsetof(mdb_client, backoff_max_ms)},
    {"ca_file", BY_CODE, 0, 0, 0, 0},
    {"connect_timeout", SECONDS_MS, 0.001, 3600, MDB_DEFAULT_CONNECT_MS,
     offsetof(mdb_client, connect_timeout_ms)},
    {"credentials", BY_CODE, 0, 0, 0, 0},
    {"endpoint", BY_CODE, 0, 0, 0, 0},
    {"iam_endpoint", BY_CODE, 0, 0, 0, 0},
    {"max_response_bytes", BYTES, 1024, (double)((lua_Integer)1 << 40),
     MDB_DEFAULT_MAX_BODY, offsetof(mdb_client, max_body)},
    {"pacing", BY_CODE, 0, 0, 0, 0},
    {"page_size", COUNT_LONG, 0, MDB_MAX_PAGE_SIZE, MDB_DEFAULT_PAGE_SIZE,
     offsetof(mdb_client, page_size)},
    {"retries", COUNT_INT, 0, MDB_MAX_RETRIES, MDB_DEFAULT_RETRIES,
     offsetof(mdb_client, retries)},
    {"sa_key_file", BY_CODE, 0, 0, 0, 0},
    {"timeout", SECONDS_MS, 0.001, 86400, MDB_DEFAULT_TIMEOUT_MS,
     offsetof(mdb_client, timeout_ms)},
    {"token", BY_CODE, 0, 0, 0, 0},
    {"token_command", BY_CODE, 0, 0, 0, 0},
    {"token_command_timeout", BY_CODE, 0, 0, 0, 0},
    {"trace", BY_CODE, 0, 0, 0, 0},
    {NULL, BY_CODE, 0, 0, 0, 0}};

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

/*
** token_command= as a NULL-terminated argv whose strings are anchored on
** the stack: a table of strings as given, or a string split at blanks
** (no shell, so no quoting: use a table for arguments with spaces).
** Pushes the anchor (a table) and returns the argv (inside a userdata the
** table holds); when the option is absent, pushes nil and returns NULL.
*/
static char **token_command_argv(lua_State *L, int opts)
{
  int t = lua_getfield(L, opts, "token_command");
  if (t == LUA_TNIL)
    return NULL;
  int src = lua_gettop(L);
  if (t != LUA_TSTRING && t != LUA_TTABLE)
    mdb_error_argument(L, "token_command",
                       "expected an array of strings "
                       "(e.g. {\"yc\", \"iam\", \"create-token\"}) or a "
                       "string, got %s",
                       luaL_typename(L, -1));
  lua_newtable(L); /* anchor */
  int anchor = lua_gettop(L);
  int n = 0;
  if (t == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, src, &len);
    if (strlen(s) != len)
      mdb_error_argument(L, "token_command", "must not contain NUL bytes");
    for (const char *p = s; *p;) {
      p += strspn(p, " \t\n");
      size_t w = strcspn(p, " \t\n");
      if (w == 0)
        break;
      if (n == TOKEN_COMMAND_MAX_ARGS)
        mdb_error_argument(L, "token_command", "more than %d words",
                           TOKEN_COMMAND_MAX_ARGS);
      lua_pushlstring(L, p, w);
      lua_rawseti(L, anchor, ++n);
      p += w;
    }
  } else {
    lua_Integer len = luaL_len(L, src);
    if (len > TOKEN_COMMAND_MAX_ARGS)
      mdb_error_argument(L, "token_command", "more than %d words",
                         TOKEN_COMMAND_MAX_ARGS);
    for (lua_Integer i = 1; i <= len; i++) {
      size_t wl;
      if (lua_geti(L, src, i) != LUA_TSTRING)
        mdb_error_argument(L, "token_command",
                           "element %d is %s, not a "
                           "string",
                           (int)i, luaL_typename(L, -1));
      const char *w = lua_tolstring(L, -1, &wl);
      if (strlen(w) != wl || (i == 1 && wl == 0))
        mdb_error_argument(L, "token_command",
                           "element %d is empty or "
                           "holds a NUL byte",
                           (int)i);
      lua_rawseti(L, anchor, ++n);
    }
  }
  if (n == 0)
    mdb_error_argument(L, "token_command", "names no program");
  char **argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, anchor, i);
    argv[i - 1] = (char *)lua_tostring(L, -1); /* anchored by the table */
    lua_pop(L, 1);
  }
  argv[n] = NULL;
  lua_setfield(L, anchor, "argv"); /* keep the userdata */
  lua_remove(L, src);
  return argv;
}

/* The numeric options of the table at `opts`, or their defaults, into c. */
static void read_numbers(lua_State *L, int opts, mdb_client *c)
{
  for (const client_option *o = client_options; o->name; o++) {
    char *at = (char *)c + o->offset;
    lua_Integer v = (lua_Integer)o->fallback;
    double d;
    switch (o->kind) {
    case BY_CODE: break;
    case SECONDS_MS:
      *(long *)at = mdb_opt_number(L, opts, o->name, o->min, o->max, &d)
                        ? seconds_to_ms(d)
                        : (long)o->fallback;
      break;
    case COUNT_LONG:
    case COUNT_INT:
    case BYTES:
      mdb_opt_integer(L, opts, o->name, (lua_Integer)o->min,
                      (lua_Integer)o->max, &v);
      if (o->kind == COUNT_LONG)
        *(long *)at = (long)v;
      else if (o->kind == COUNT_INT)
        *(int *)at = (int)v;
      else
        *(size_t *)at = (size_t)v;
      break;
    }
  }
}

/* credentials= must name a source of the chain; the message lists them. */
static void check_source(lua_State *L, const char *select)
{
  for (const char *const *n = cred_chain_names; *n; n++)
    if (strcmp(*n, select) == 0)
      return;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (const char *const *n = cred_chain_names; *n; n++) {
    luaL_addstring(&b, n == cred_chain_names ? "" : ", ");
    luaL_addstring(&b, *n);
  }
  luaL_pushresult(&b);
  /* A typo is quoted back; a token put here by mistake is not. */
  size_t len = strlen(select);
  if (len <= 24 && strspn(select, "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == len)
    mdb_error_argument(L, "credentials", "unknown source \"%s\" (known: %s)",
                       select, lua_tostring(L, -1));
  mdb_error_argument(L, "credentials",
                     "unknown source (a string of %d characters, not "
                     "quoted: it may be a token; known: %s)",
                     (int)len, lua_tostring(L, -1));
}

/* ca_file= or SSL_CERT_FILE, checked to be readable; NULL = system CAs. */
static const char *ca_file_option(lua_State *L, int opts)
{
  const char *ca = NULL;
  const char *from = "ca_file";
  if (!mdb_opt_string(L, opts, "ca_file", 0, &ca)) {
    ca = getenv("SSL_CERT_FILE");
    from = "SSL_CERT_FILE";
    if (ca == NULL || *ca == '\0')
      return NULL;
  }
  if (access(ca, R_OK) != 0)
    mdb_error_argument(L, "ca_file", "%s names '%s', which cannot be read",
                       from, ca);
  /* TLS reads the bundle as it connects, where a named pipe would hold the
  ** request (and every deadline) until a writer came. */
  struct stat st;
  if (stat(ca, &st) != 0 || !S_ISREG(st.st_mode))
    mdb_error_argument(L, "ca_file",
                       "%s names '%s', which is not a regular file (a "
                       "PEM bundle is)",
                       from, ca);
  return ca;
}

/*
** mdb.client{...}.  Any bad option raises an argument error naming it; the
** userdata owns whatever was allocated before, and its __gc frees it.
*/
int mdb_client_new(lua_State *L)
{
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0); /* mdb.client(nil) too: the table must be at 1 */
    lua_newtable(L);
  } else if (!lua_istable(L, 1))
    return mdb_error_argument(L, "options",
                              "expected a table of options, "
                              "got %s",
                              luaL_typename(L, 1));
  lua_settop(L, 1);
  mdb_opt_check_names(L, 1, client_options, sizeof client_options[0]);

  /* The userdata exists, empty and with its metatable, before anything is
  ** allocated, so __gc can always clean up (liolib's newprefile). */
  mdb_client *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, MDB_CLIENT_MT);

  c->endpoint = mdb_opt_endpoint(L, 1, "endpoint", "YC_MDB_ENDPOINT",
                                 MDB_DEFAULT_ENDPOINT);

  read_numbers(L, 1, c);

  c->pacing = 1;
  int pt = lua_getfield(L, 1, "pacing");
  if (pt != LUA_TNIL && pt != LUA_TBOOLEAN)
    return mdb_error_argument(L, "pacing", "expected a boolean, got %s",
                              luaL_typename(L, -1));
  c->pacing = pt == LUA_TNIL || lua_toboolean(L, -1);
  lua_pop(L, 1);

  /* Credentials last: every other argument is checked before the chain
  ** may probe the metadata service. */
  cred_options co = {
      .api_endpoint = c->endpoint,
      .command_timeout_ms = MDB_DEFAULT_TOKEN_COMMAND_TIMEOUT_MS};
  int t = lua_getfield(L, 1, "token");
  if (t != LUA_TNIL && t != LUA_TSTRING)
    return mdb_error_argument(L, "token", "expected a string, got %s",
                              luaL_typename(L, -1));
  co.token = lua_tostring(L, -1); /* anchored by the options table */
  if (co.token && *co.token == '\0')
    co.token = NULL; /* "" counts as not given */
  lua_pop(L, 1);
  mdb_opt_string(L, 1, "sa_key_file", 0, &co.sa_key);
  mdb_opt_string(L, 1, "iam_endpoint", 0, &co.iam_endpoint);
  double d;
  if (mdb_opt_number(L, 1, "token_command_timeout", 0.1, 3600, &d))
    co.command_timeout_ms = seconds_to_ms(d);
  if (mdb_opt_string(L, 1, "credentials", 0, &co.select))
    check_source(L, co.select);
  co.trace = trace_env_enabled();
  t = lua_getfield(L, 1, "trace");
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    return mdb_error_argument(L, "trace", "expected a boolean, got %s",
                              luaL_typename(L, -1));
  if (t == LUA_TBOOLEAN)
    co.trace = lua_toboolean(L, -1);
  lua_pop(L, 1);
  co.ca_file = ca_file_option(L, 1);
  co.command = token_command_argv(L, 1); /* pushes its anchor */

  cred_outcome out;
  char err[700];
  c->creds = cred_chain_resolve(&co, &out, err, sizeof err);
  if (out.warning[0]) {
    fprintf(stderr, "mdb: warning: %s\n", out.warning);
    fflush(stderr);
  }
  if (c->creds == NULL)
    return mdb_error_argument(L, out.argument, "%s", err);
  lua_pop(L, 1); /* the argv anchor */
  c->share = curl_share_init();
  if (c->share == NULL) {
    mdb_error_fields f = {.kind = MDB_ERR_MEMORY,
                          .code = -1,
                          .message = "out of memory creating a client"};
    return mdb_error_raise(L, &f);
  }
  /* Single-threaded use: no lock callbacks needed. */
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return 1;
}

/* Retries go to the trace (fetch_engine's on_retry hook). */
static void trace_retry_hook(void *ud, const char *url, retry_reason why,
                             long status, long delay_ms, int retries_left)
{
  trace_retry(ud, "GET", url, retry_reason_name(why), status, delay_ms,
              retries_left);
}

fetch_engine *mdb_client_engine(const mdb_client *c, int concurrency,
                                double rate)
{
  const mdb_trace *trace = cred_provider_trace(c->creds);
  fetch_engine_config cfg = {
      .http = {.timeout_ms = c->timeout_ms,
               .connect_timeout_ms = c->connect_timeout_ms,
               .max_body = c->max_body,
               .max_body_option = "max_response_bytes",
               .share = c->share,
               .ca_file = cred_provider_ca_file(c->creds),
               .trace = trace},
      .policy = {c->retries, {c->backoff_base_ms, c->backoff_max_ms}},
      .concurrency = concurrency,
      .rate = rate,
      .adaptive_pacing = c->pacing,
      .creds = c->creds,
      .on_retry = trace_on(trace) ? trace_retry_hook : NULL,
      .hook_ud = (void *)trace,
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

/* The token source's name and a description for people; never a token. */
static int client_credentials(lua_State *L)
{
  mdb_client *c = mdb_client_check(L, 1);
  lua_pushstring(L, cred_provider_source(c->creds));
  lua_pushstring(L, cred_provider_describe(c->creds));
  return 2;
}

static const luaL_Reg client_methods[] = {
    {"backups", mdb_client_backups},
    {"clusters", mdb_client_clusters},
    {"credentials", client_credentials},
    {"endpoint", client_endpoint},
    {"operations", mdb_client_operations},
    {"retention_policies", mdb_client_retention_policies},
    {"scan", mdb_client_scan},
    {NULL, NULL}};

static const luaL_Reg client_metamethods[] = {{"__gc", client_gc},
                                              {"__index", NULL},
                                              {"__tostring", client_tostring},
                                              {NULL, NULL}};

void mdb_client_register(lua_State *L)
{
  luaL_newmetatable(L, MDB_CLIENT_MT);
  luaL_setfuncs(L, client_metamethods, 0);
  luaL_newlib(L, client_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
