/*
** Lazy listing iterators: `client:backups{...}` and `client:clusters{...}`.
**
** An iterator is a callable userdata, returned as the first and the fourth
** value of a generic `for` (io.lines' shape), so `break` closes it.  Its
** user values keep what it depends on alive:
**   1  the client (endpoint, token, settings)
**   2  the items table of the current page
**   3  the error that ended it, re-raised by every later call
** A page is fetched only when the previous one has been consumed, with the
** same token on every retry, so an item is never yielded twice; a token
** seen before in the listing ends it with a "cycle" error.
*/
#include "mdb_binding.h"

#include "cancel.h"
#include "http_transport.h"
#include "list_url.h"
#include "mdb_defaults.h"
#include "page_cursor.h"
#include "page_fetch.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { UV_CLIENT = 1, UV_PAGE = 2, UV_ERROR = 3 };
enum iter_state { ITER_ACTIVE, ITER_DONE, ITER_FAILED, ITER_CLOSED };

typedef struct mdb_iter {
  enum iter_state state;
  list_kind kind;
  const engine_info *engine;
  char *id, *filter;
  char *url;                  /* of the latest request, for errors */
  page_cursor *cursor;
  page_fetcher fetcher;
  http_response resp;
  fetch_stats stats;
  lua_Integer pos, count;     /* next index and size of the current page */
  long items;                 /* yielded so far */
  int cut_short;              /* the page held more than the limit wanted */
} mdb_iter;

static mdb_iter *check_iter(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, MDB_ITER_MT);
}

/* Release the connection and buffers; keeps the cursor for :token(). */
static void iter_release(mdb_iter *it)
{
  http_transport_free(it->fetcher.transport);
  it->fetcher.transport = NULL;
  http_response_free(&it->resp);
  free(it->url);
  it->url = NULL;
}

static int iter_close(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  iter_release(it);
  if (it->state == ITER_ACTIVE)
    it->state = ITER_CLOSED;
  lua_pushnil(L);
  lua_setiuservalue(L, 1, UV_PAGE);
  return 0;
}

static int iter_gc(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  iter_release(it);
  page_cursor_free(it->cursor);
  it->cursor = NULL;
  free(it->id);
  free(it->filter);
  it->id = it->filter = NULL;
  return 0;
}

/*
** Fail the iterator with the error object on the top of the stack: keep
** it for later calls, let go of the connection, raise it.
*/
static int iter_fail(lua_State *L, mdb_iter *it)
{
  it->state = ITER_FAILED;
  iter_release(it);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, UV_ERROR);
  return lua_error(L);
}

static int iter_fail_with(lua_State *L, mdb_iter *it, mdb_error_kind kind,
                          const char *message)
{
  mdb_error_fields f = {.kind = kind, .message = message, .code = -1,
                        .url = it->url};
  mdb_error_push(L, &f);
  return iter_fail(L, it);
}

/* What a google.rpc.Status error body says, copied out of Lua. */
typedef struct status_body {
  long code;                /* -1 when the body has none */
  char message[320];        /* "" when none */
  char request_id[128];     /* x-request-id, else details[].requestId */
} status_body;

static void copy_field(lua_State *L, int t, const char *k, char *out,
                       size_t n)
{
  if (lua_getfield(L, t, k) == LUA_TSTRING)
    snprintf(out, n, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
}

static void read_status_body(lua_State *L, const http_response *r,
                             status_body *sb)
{
  int top = lua_gettop(L);
  sb->code = -1;
  sb->message[0] = '\0';
  snprintf(sb->request_id, sizeof sb->request_id, "%s", r->request_id);
  if (r->len == 0)
    return;
  lua_getfield(L, LUA_REGISTRYINDEX, MDB_DECODE_KEY);
  lua_pushlstring(L, r->body, r->len);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    int body = lua_gettop(L);
    int isint = 0;
    lua_Integer code = 0;
    if (lua_getfield(L, body, "code") == LUA_TNUMBER)
      code = lua_tointegerx(L, -1, &isint);   /* cjson gives floats */
    if (isint && code >= 0 && code < 1000)
      sb->code = (long)code;
    lua_pop(L, 1);
    copy_field(L, body, "message", sb->message, sizeof sb->message);
    if (sb->request_id[0] == '\0' &&
        lua_getfield(L, body, "details") == LUA_TTABLE) {
      for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TTABLE; i++) {
        copy_field(L, lua_gettop(L), "requestId", sb->request_id,
                   sizeof sb->request_id);
        lua_pop(L, 1);
        if (sb->request_id[0])
          break;
      }
    }
  }
  lua_settop(L, top);
}

static int iter_fail_fetch(lua_State *L, mdb_iter *it, const mdb_client *c,
                           const fetch_error *fe)
{
  if (fe->kind == MDB_ERR_INTERRUPTED)
    cancel_clear();   /* consumed: this error is the interruption */
  status_body sb;
  read_status_body(L, &it->resp, &sb);
  const char *what = fe->message;
  char text[800];
  if (fe->kind == MDB_ERR_HTTP && sb.message[0])
    what = sb.message;
  snprintf(text, sizeof text, "%s%s%s%s", what,
           fe->kind == MDB_ERR_HTTP && !sb.message[0] && it->resp.len > 0
             ? ", with a body that is not a google.rpc.Status" : "",
           fe->note[0] ? "; " : "", fe->note);
  mdb_error_fields f = {.kind = fe->kind, .message = text,
                        .status = fe->status, .code = sb.code,
                        .request_id = sb.request_id, .url = it->url,
                        .attempts = fe->attempts, .redact = c->token};
  mdb_error_push(L, &f);
  return iter_fail(L, it);
}

/*
** Fetch and decode the next page into user value 2.  On return the page
** table is set and pos/count describe it; raises on any failure.
*/
static void iter_fetch_page(lua_State *L, mdb_iter *it)
{
  lua_getiuservalue(L, 1, UV_CLIENT);
  mdb_client *c = luaL_checkudata(L, -1, MDB_CLIENT_MT);
  lua_pop(L, 1);   /* anchored by user value 1 */

  list_target target = {c->endpoint, it->engine, it->kind, it->id,
                        it->filter};
  free(it->url);
  it->url = list_url_build(&target, page_cursor_request_size(it->cursor),
                           page_cursor_next_token(it->cursor));
  if (it->url == NULL)
    iter_fail_with(L, it, MDB_ERR_MEMORY, "out of memory building a URL");

  fetch_error fe;
  if (page_fetch(&it->fetcher, it->url, c->token, &it->resp, &it->stats,
                 &fe) != 0)
    iter_fail_fetch(L, it, c, &fe);

  lua_getfield(L, LUA_REGISTRYINDEX, MDB_DECODE_KEY);
  lua_pushlstring(L, it->resp.body ? it->resp.body : "", it->resp.len);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    char msg[320];
    snprintf(msg, sizeof msg, "response is not valid JSON: %s",
             lua_tostring(L, -1));
    iter_fail_with(L, it, MDB_ERR_JSON, msg);
  }
  if (!lua_istable(L, -1) || lua_rawlen(L, -1) > 0)
    iter_fail_with(L, it, MDB_ERR_JSON, "response is not a JSON object");
  int body = lua_gettop(L);

  const char *field = list_items_field(it->kind);
  int t = lua_getfield(L, body, field);
  if (t == LUA_TNIL || t == LUA_TLIGHTUSERDATA) {
    lua_pop(L, 1);
    lua_newtable(L);   /* proto3 JSON omits an empty list */
  } else if (t != LUA_TTABLE ||
             (lua_rawlen(L, -1) == 0 &&
              (lua_pushnil(L), lua_next(L, -2) != 0))) {
    char msg[96];
    snprintf(msg, sizeof msg, "'%s' in the response is not an array", field);
    iter_fail_with(L, it, MDB_ERR_JSON, msg);
  }
  int items = lua_gettop(L);
  lua_Integer count = (lua_Integer)lua_rawlen(L, items);

  size_t toklen = 0;
  const char *tok = NULL;
  t = lua_getfield(L, body, "nextPageToken");
  if (t == LUA_TSTRING) {
    tok = lua_tolstring(L, -1, &toklen);
    if (strlen(tok) != toklen)
      iter_fail_with(L, it, MDB_ERR_JSON, "nextPageToken contains a NUL byte");
  } else if (t != LUA_TNIL && t != LUA_TLIGHTUSERDATA) {
    iter_fail_with(L, it, MDB_ERR_JSON, "nextPageToken is not a string");
  }

  long remaining = page_cursor_remaining(it->cursor);
  it->cut_short = count > remaining;
  if (it->cut_short)
    count = remaining;
  int r = page_cursor_advance(it->cursor, (size_t)count, tok, toklen);
  if (r == -1) {
    char msg[200];
    snprintf(msg, sizeof msg, "the server repeated page token \"%.100s\" "
             "after %ld pages: the listing would loop", tok,
             it->stats.pages);
    iter_fail_with(L, it, MDB_ERR_CYCLE, msg);
  } else if (r != 0) {
    iter_fail_with(L, it, MDB_ERR_MEMORY, "out of memory");
  }
  lua_pop(L, 1);                          /* token */
  lua_pushvalue(L, items);
  lua_setiuservalue(L, 1, UV_PAGE);
  lua_settop(L, body - 1);
  it->pos = 1;
  it->count = count;
}

/* __call: the next item, or nil when the listing is over. */
static int iter_call(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  lua_settop(L, 1);
  switch (it->state) {
  case ITER_DONE:
    return 0;
  case ITER_FAILED:
    lua_getiuservalue(L, 1, UV_ERROR);
    return lua_error(L);
  case ITER_CLOSED:
    return luaL_error(L, "attempt to use a closed iterator");
  default:
    break;
  }
  while (it->pos > it->count) {
    if (page_cursor_done(it->cursor)) {
      it->state = ITER_DONE;
      iter_release(it);
      lua_pushnil(L);
      lua_setiuservalue(L, 1, UV_PAGE);
      return 0;
    }
    iter_fetch_page(L, it);
  }
  lua_getiuservalue(L, 1, UV_PAGE);
  if (lua_rawgeti(L, -1, it->pos) != LUA_TTABLE) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s[%lld] in the response is not an object",
             list_items_field(it->kind), (long long)it->pos);
    iter_fail_with(L, it, MDB_ERR_JSON, msg);
  }
  char err[256];
  const char *e = it->kind == LIST_CLUSTERS
                ? mdb_normalize_cluster(L, it->engine, err, sizeof err)
                : mdb_normalize_backup(L, it->engine, err, sizeof err);
  if (e != NULL)
    iter_fail_with(L, it, MDB_ERR_JSON, e);
  it->pos++;
  it->items++;
  return 1;
}

/*
** The token to resume from, so that a new listing started with it yields
** what this one has not: "" before the first page, the current page's own
** token in the middle of a page (its first items will come again), nil
** once the listing is complete.
*/
static int iter_token(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  if (it->cursor == NULL) {
    lua_pushnil(L);
    return 1;
  }
  if (it->pos <= it->count || it->cut_short) {
    lua_pushstring(L, page_cursor_current_token(it->cursor));
    return 1;
  }
  const char *next = page_cursor_next_token(it->cursor);
  if (page_cursor_done(it->cursor) && *next == '\0' && it->stats.pages > 0)
    lua_pushnil(L);
  else
    lua_pushstring(L, next);
  return 1;
}

static int iter_stats(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, it->stats.pages);
  lua_setfield(L, -2, "pages");
  lua_pushinteger(L, it->items);
  lua_setfield(L, -2, "items");
  lua_pushinteger(L, it->stats.retries);
  lua_setfield(L, -2, "retries");
  lua_pushinteger(L, it->stats.requests);
  lua_setfield(L, -2, "requests");
  lua_pushinteger(L, (lua_Integer)it->stats.bytes);
  lua_setfield(L, -2, "bytes");
  return 1;
}

static int iter_tostring(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  static const char *const states[] = {"active", "done", "failed", "closed"};
  lua_pushfstring(L, "mdb.iterator (%s %s %s, %I items, %s)",
                  it->engine->name,
                  it->kind == LIST_CLUSTERS ? "clusters of folder"
                  : it->kind == LIST_FOLDER_BACKUPS ? "backups of folder"
                                                    : "backups of cluster",
                  it->id ? it->id : "?", (lua_Integer)it->items,
                  states[it->state]);
  return 1;
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static const engine_info *check_engine(lua_State *L, int opts)
{
  const char *name = NULL;
  if (!mdb_opt_string(L, opts, "engine", 0, &name))
    mdb_error_argument(L, "engine", "missing (one of the names in "
                       "mdb.engines, e.g. \"postgresql\")");
  const engine_info *e = engines_find(name);
  if (e == NULL) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < engines_count(); i++) {
      luaL_addstring(&b, i ? ", " : "");
      luaL_addstring(&b, engines_at(i)->name);
    }
    luaL_pushresult(&b);
    mdb_error_argument(L, "engine", "unknown engine \"%s\" (known: %s)",
                       name, lua_tostring(L, -1));
  }
  return e;
}

/*
** Build an iterator for `kind` from the options table at 2 (client at 1)
** and return it as the four values of a generic for.
*/
static int new_iter(lua_State *L, list_kind kind, const char *id,
                    const char *filter, const engine_info *engine,
                    long page_size, long limit, const char *start_token)
{
  mdb_client *c = mdb_client_check(L, 1);
  mdb_iter *it = lua_newuserdatauv(L, sizeof *it, 3);
  memset(it, 0, sizeof *it);
  it->state = ITER_CLOSED;   /* safe for __gc until fully built */
  luaL_setmetatable(L, MDB_ITER_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, UV_CLIENT);

  it->kind = kind;
  it->engine = engine;
  it->id = dup_or_null(id);
  it->filter = dup_or_null(filter);
  it->cursor = page_cursor_new(start_token, page_size, limit);
  http_config hc = {c->timeout_ms, c->connect_timeout_ms, c->max_body};
  it->fetcher.transport = http_transport_new(&hc);
  it->fetcher.policy.retries = c->retries;
  it->fetcher.policy.backoff.base_ms = c->backoff_base_ms;
  it->fetcher.policy.backoff.max_ms = c->backoff_max_ms;
  it->fetcher.rng = (uint32_t)time(NULL) ^ (uint32_t)getpid() ^
                    (uint32_t)(uintptr_t)it;
  if (it->id == NULL || (filter && it->filter == NULL) ||
      it->cursor == NULL || it->fetcher.transport == NULL)
    return luaL_error(L, "out of memory creating an iterator");
  it->pos = 1;   /* nothing buffered: the first call fetches */
  it->state = ITER_ACTIVE;
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushvalue(L, -3);   /* to-be-closed: `break` releases the connection */
  return 4;
}

static const char *const backups_options[] = {
  "cluster", "engine", "folder", "limit", "page_size", "page_token", NULL};
static const char *const clusters_options[] = {
  "engine", "filter", "folder", "limit", "page_size", "page_token", NULL};

/* Options common to both listings; raises before any request. */
static void paging_options(lua_State *L, const mdb_client *c, long *page_size,
                           long *limit, const char **token)
{
  lua_Integer v;
  *page_size = c->page_size;
  if (mdb_opt_integer(L, 2, "page_size", 0, MDB_MAX_PAGE_SIZE, &v))
    *page_size = (long)v;
  *limit = -1;
  if (mdb_opt_integer(L, 2, "limit", 0, LONG_MAX, &v))
    *limit = (long)v;
  *token = NULL;
  int t = lua_getfield(L, 2, "page_token");   /* "" is allowed: first page */
  if (t != LUA_TNIL && t != LUA_TSTRING)
    mdb_error_argument(L, "page_token", "expected a string, got %s",
                       luaL_typename(L, -1));
  size_t len = 0;
  *token = lua_tolstring(L, -1, &len);
  if (*token != NULL && strlen(*token) != len)
    mdb_error_argument(L, "page_token", "must not contain NUL bytes");
  lua_pop(L, 1);   /* anchored by the options table */
}

static const char *folder_option(lua_State *L, int required)
{
  const char *folder = NULL;
  if (!mdb_opt_string(L, 2, "folder", MDB_MAX_ID_LEN, &folder)) {
    folder = getenv("YC_FOLDER_ID");
    if (folder != NULL && *folder == '\0')
      folder = NULL;
    if (folder != NULL && strlen(folder) > MDB_MAX_ID_LEN)
      mdb_error_argument(L, "folder", "YC_FOLDER_ID is longer than %d "
                         "characters", MDB_MAX_ID_LEN);
    if (folder == NULL && required)
      mdb_error_argument(L, "folder", "missing: pass folder= or set "
                         "YC_FOLDER_ID");
  }
  return folder;
}

int mdb_client_backups(lua_State *L)
{
  mdb_client *c = mdb_client_check(L, 1);
  if (!lua_istable(L, 2))
    return mdb_error_argument(L, "options", "expected a table of options "
                              "(e.g. {engine = \"mysql\", cluster = id}), "
                              "got %s", luaL_typename(L, 2));
  lua_settop(L, 2);
  mdb_opt_check_keys(L, 2, backups_options);
  const engine_info *engine = check_engine(L, 2);
  const char *cluster = NULL, *folder = NULL;
  int has_cluster = mdb_opt_string(L, 2, "cluster", MDB_MAX_ID_LEN, &cluster);
  lua_getfield(L, 2, "folder");
  int has_folder = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (has_cluster && has_folder)
    return mdb_error_argument(L, "cluster", "give either cluster= or "
                              "folder=, not both");
  if (!has_cluster)
    folder = folder_option(L, 0);
  if (!has_cluster && folder == NULL)
    return mdb_error_argument(L, "cluster", "missing: give cluster= (one "
                              "cluster) or folder= (a folder; YC_FOLDER_ID "
                              "is used when set)");
  long page_size, limit;
  const char *token;
  paging_options(L, c, &page_size, &limit, &token);
  return has_cluster
       ? new_iter(L, LIST_CLUSTER_BACKUPS, cluster, NULL, engine, page_size,
                  limit, token)
       : new_iter(L, LIST_FOLDER_BACKUPS, folder, NULL, engine, page_size,
                  limit, token);
}

int mdb_client_clusters(lua_State *L)
{
  mdb_client *c = mdb_client_check(L, 1);
  if (!lua_istable(L, 2))
    return mdb_error_argument(L, "options", "expected a table of options "
                              "(e.g. {engine = \"mysql\", cluster = id}), "
                              "got %s", luaL_typename(L, 2));
  lua_settop(L, 2);
  mdb_opt_check_keys(L, 2, clusters_options);
  const engine_info *engine = check_engine(L, 2);
  const char *folder = folder_option(L, 1);
  const char *filter = NULL;
  mdb_opt_string(L, 2, "filter", MDB_MAX_FILTER_LEN, &filter);
  long page_size, limit;
  const char *token;
  paging_options(L, c, &page_size, &limit, &token);
  return new_iter(L, LIST_CLUSTERS, folder, filter, engine, page_size,
                  limit, token);
}

static const luaL_Reg iter_methods[] = {
  {"close", iter_close},
  {"stats", iter_stats},
  {"token", iter_token},
  {NULL, NULL}
};

static const luaL_Reg iter_metamethods[] = {
  {"__call", iter_call},
  {"__close", iter_close},
  {"__gc", iter_gc},
  {"__index", NULL},
  {"__tostring", iter_tostring},
  {NULL, NULL}
};

void mdb_iter_register(lua_State *L)
{
  luaL_newmetatable(L, MDB_ITER_MT);
  luaL_setfuncs(L, iter_metamethods, 0);
  luaL_newlib(L, iter_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
