/*
** Lazy listing iterators: `client:backups{...}`, `client:clusters{...}`,
** `client:retention_policies{...}` and `client:operations{...}`.
**
** An iterator is a callable userdata, returned as the first and the fourth
** value of a generic `for` (io.lines' shape), so `break` closes it.  Its
** user values keep what it depends on alive:
**   1  the client (endpoint, token, settings)
**   2  the listing (mdb_listing.c: the page, the repeat guard, counters)
**   3  the error that ended it, re-raised by every later call
** Pages come from a fetch engine (core/listing/fetch_engine.h) that
** requests the next page while this one is decoded and consumed, and
** retries with the same token, so an item is never yielded twice; a
** token seen before in the listing, or a hundred empty pages in a row
** (page_cursor.h), ends it with a "cycle" error.
*/
#include "mdb_binding.h"

#include "http/cancel.h"
#include "listing/list_url.h"
#include "mdb_defaults.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { UV_CLIENT = 1, UV_LISTING = 2, UV_ERROR = 3 };
enum iter_state { ITER_ACTIVE, ITER_DONE, ITER_FAILED, ITER_CLOSED };

typedef struct mdb_iter {
  enum iter_state state;
  list_kind kind;
  const engine_info *engine;
  char *id;         /* for __tostring */
  fetch_engine *fe; /* NULL once released */
  fetch_job *job;
  mdb_listing *ls;   /* user value 2 */
  fetch_stats stats; /* copied when released */
  char *resume;      /* token() after release; NULL = nil */
} mdb_iter;

static mdb_iter *check_iter(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, MDB_ITER_MT);
}

/*
** The token to resume from, so that a new listing started with it yields
** what this one has not: "" before the first page, the current page's own
** token in the middle of a page (its first items will come again), the
** next page's token between pages, NULL once the listing is complete.
*/
static const char *resume_token(const mdb_iter *it)
{
  const page_cursor *c = fetch_job_cursor(it->job);
  if (it->ls->pos <= it->ls->count || it->ls->cut_short)
    return page_cursor_current_token(c);
  const char *next = page_cursor_next_token(c);
  if (page_cursor_done(c) && *next == '\0' &&
      fetch_job_stats(it->job)->pages > 0)
    return NULL;
  return next;
}

/* Let go of the connection and buffers; keep stats and the resume token. */
static void iter_release(mdb_iter *it)
{
  if (it->fe == NULL)
    return;
  it->stats = *fetch_job_stats(it->job);
  const char *tok = resume_token(it);
  it->resume = tok ? strdup(tok) : NULL;
  fetch_engine_free(it->fe); /* frees the job too */
  it->fe = NULL;
  it->job = NULL;
  it->ls->job = NULL;
  id_guard_free(&it->ls->guard);
}

/* Release, and let go of the page too. */
static void iter_end(lua_State *L, mdb_iter *it)
{
  iter_release(it);
  lua_getiuservalue(L, 1, UV_LISTING);
  mdb_listing_drop_page(L, lua_gettop(L));
  lua_pop(L, 1);
}

static int iter_close(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  iter_end(L, it);
  if (it->state == ITER_ACTIVE)
    it->state = ITER_CLOSED;
  return 0;
}

static int iter_gc(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  iter_release(it);
  free(it->resume);
  free(it->id);
  it->resume = it->id = NULL;
  return 0;
}

/*
** Fail the iterator with the error object on the top of the stack: keep
** it for later calls, let go of the connection, raise it.
*/
static int iter_fail(lua_State *L, mdb_iter *it)
{
  it->state = ITER_FAILED;
  iter_end(L, it);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, 1, UV_ERROR);
  return lua_error(L);
}

/* For a failure of the next page's request before any response to it:
** the status and request id of the page before are not this one's. */
static int iter_fail_with(lua_State *L, mdb_iter *it, mdb_error_kind kind,
                          const char *message)
{
  mdb_push_url_error(L, fetch_job_page_url(it->job), kind, message);
  return iter_fail(L, it);
}

/*
** Wait for the listing's next page (at `ls` on the stack) and take it.
** Raises on any failure.
*/
static void iter_fetch_page(lua_State *L, mdb_iter *it, int ls)
{
  lua_getiuservalue(L, 1, UV_CLIENT);
  mdb_client *c = luaL_checkudata(L, -1, MDB_CLIENT_MT);
  lua_pop(L, 1);                /* anchored by user value 1 */
  mdb_listing_drop_page(L, ls); /* garbage while the next one comes */

  if (fetch_job_page(it->job) == NULL) {
    if (fetch_job_request(it->job) != 0)
      iter_fail_with(L, it, MDB_ERR_MEMORY, "out of memory");
    int failed;
    fetch_job *j = fetch_engine_next(it->fe, it->job, &failed);
    if (failed == -1) {
      cancel_clear();
      iter_fail_with(L, it, MDB_ERR_INTERRUPTED, "interrupted");
    }
    if (j == NULL) /* fetch_job_request() queued the page, so the engine
                   ** has it: a defect of mdblua, not of the network. */
      iter_fail_with(L, it, MDB_ERR_INTERNAL,
                     "mdblua internal error: a listing's next page was "
                     "neither pending nor ready (please report it)");
    if (failed) {
      mdb_push_fetch_error(L, c, j);
      iter_fail(L, it);
    }
  }
  if (mdb_listing_take_page(L, ls) != 0)
    iter_fail(L, it);
}

/* __call: the next item, or nil when the listing is over. */
static int iter_call(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  lua_settop(L, 1);
  switch (it->state) {
  case ITER_DONE: return 0;
  case ITER_FAILED: lua_getiuservalue(L, 1, UV_ERROR); return lua_error(L);
  case ITER_CLOSED: return luaL_error(L, "attempt to use a closed iterator");
  default: break;
  }
  lua_getiuservalue(L, 1, UV_LISTING);
  for (;;) {
    int r = mdb_listing_next_item(L, 2);
    if (r == 1)
      return 1;
    if (r == -1)
      iter_fail(L, it);
    if (page_cursor_done(fetch_job_cursor(it->job))) {
      it->state = ITER_DONE;
      iter_end(L, it);
      return 0;
    }
    iter_fetch_page(L, it, 2);
  }
}

static int iter_token(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  const char *tok = it->fe ? resume_token(it) : it->resume;
  if (tok)
    lua_pushstring(L, tok);
  else
    lua_pushnil(L);
  return 1;
}

static int iter_stats(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  fetch_stats st = it->fe ? *fetch_job_stats(it->job) : it->stats;
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, st.pages);
  lua_setfield(L, -2, "pages");
  lua_pushinteger(L, it->ls->items);
  lua_setfield(L, -2, "items");
  lua_pushinteger(L, st.retries);
  lua_setfield(L, -2, "retries");
  lua_pushinteger(L, st.requests);
  lua_setfield(L, -2, "requests");
  lua_pushinteger(L, (lua_Integer)st.bytes);
  lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, it->ls->duplicates);
  lua_setfield(L, -2, "duplicates");
  return 1;
}

static int iter_tostring(lua_State *L)
{
  mdb_iter *it = check_iter(L, 1);
  static const char *const states[] = {"active", "done", "failed", "closed"};
  static const char *const what[] = {
      [LIST_CLUSTER_BACKUPS] = "backups of cluster",
      [LIST_FOLDER_BACKUPS] = "backups of folder",
      [LIST_CLUSTERS] = "clusters of folder",
      [LIST_CLUSTER_POLICIES] = "retention policies of cluster",
      [LIST_FOLDER_POLICIES] = "retention policies of folder",
      [LIST_OPERATIONS] = "operations of cluster",
      [LIST_CLOUDS] = "clouds",
      [LIST_CLOUD_FOLDERS] = "folders of cloud"};
  lua_pushfstring(L, "mdb.iterator (%s %s %s, %I items, %s)", it->engine->name,
                  what[it->kind], it->id ? it->id : "?",
                  (lua_Integer)it->ls->items, states[it->state]);
  return 1;
}

const engine_info *mdb_check_engine(lua_State *L, int opts, const char *field)
{
  const char *name = NULL;
  if (!mdb_opt_string(L, opts, field, 0, &name))
    mdb_error_argument(L, field,
                       "missing (one of the names in "
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
    mdb_error_argument(L, field, "unknown engine \"%s\" (known: %s)", name,
                       lua_tostring(L, -1));
  }
  return e;
}

/*
** Build an iterator for `kind` (client at 1) and return it as the four
** values of a generic for.
*/
static int new_iter(lua_State *L, list_kind kind, const char *id,
                    const char *filter, const engine_info *engine,
                    long page_size, long limit, const char *start_token)
{
  mdb_client *c = mdb_client_check(L, 1);
  mdb_iter *it = lua_newuserdatauv(L, sizeof *it, 3);
  memset(it, 0, sizeof *it);
  it->state = ITER_CLOSED; /* safe for __gc until fully built */
  luaL_setmetatable(L, MDB_ITER_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, UV_CLIENT);
  it->ls = mdb_listing_new(L, kind, engine, NULL); /* nothing buffered */
  lua_setiuservalue(L, -2, UV_LISTING);

  it->kind = kind;
  it->engine = engine;
  it->id = strdup(id);
  it->fe = mdb_client_engine(c, 1, 0);
  list_target target = {c->endpoint, engine, kind, id, filter};
  if (it->fe)
    it->job = fetch_job_new(it->fe, &target, page_size, limit, start_token,
                            NULL);
  if (it->id == NULL || it->job == NULL) {
    fetch_engine_free(it->fe);
    it->fe = NULL;
    return luaL_error(L, "out of memory creating an iterator");
  }
  it->ls->job = it->job;
  it->state = ITER_ACTIVE;
  lua_pushnil(L);
  lua_pushnil(L);
  lua_pushvalue(L, -3); /* to-be-closed: `break` releases the connection */
  return 4;
}

static const char *const backups_options[] = {
    "cluster", "engine", "folder", "limit", "page_size", "page_token", NULL};
static const char *const clusters_options[] = {
    "engine", "filter", "folder", "limit", "page_size", "page_token", NULL};
static const char *const operations_options[] = {
    "cluster", "engine", "limit", "page_size", "page_token", NULL};

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
  int t = lua_getfield(L, 2, "page_token"); /* "" is allowed: first page */
  if (t != LUA_TNIL && t != LUA_TSTRING)
    mdb_error_argument(L, "page_token", "expected a string, got %s",
                       luaL_typename(L, -1));
  size_t len = 0;
  *token = lua_tolstring(L, -1, &len);
  if (*token != NULL && strlen(*token) != len)
    mdb_error_argument(L, "page_token", "must not contain NUL bytes");
  if (len > MDB_MAX_TOKEN_LEN)
    mdb_error_argument(L, "page_token",
                       "must be at most %d characters "
                       "(the API's limit), got %zu",
                       MDB_MAX_TOKEN_LEN, len);
  lua_pop(L, 1); /* anchored by the options table */
}

static const char *folder_option(lua_State *L, int required)
{
  const char *folder = NULL;
  if (!mdb_opt_string(L, 2, "folder", MDB_MAX_ID_LEN, &folder)) {
    folder = getenv("YC_FOLDER_ID");
    if (folder != NULL && *folder == '\0')
      folder = NULL;
    if (folder != NULL && strlen(folder) > MDB_MAX_ID_LEN)
      mdb_error_argument(L, "folder",
                         "YC_FOLDER_ID is longer than %d "
                         "characters",
                         MDB_MAX_ID_LEN);
    if (folder == NULL && required)
      mdb_error_argument(L, "folder",
                         "missing: pass folder= or set "
                         "YC_FOLDER_ID");
  }
  return folder;
}

/* cluster= or folder= (YC_FOLDER_ID when neither): one of them, raising
** otherwise.  Returns 1 for a cluster, 0 for a folder. */
static int cluster_or_folder(lua_State *L, const char **cluster,
                             const char **folder)
{
  int has_cluster = mdb_opt_string(L, 2, "cluster", MDB_MAX_ID_LEN, cluster);
  lua_getfield(L, 2, "folder");
  int has_folder = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (has_cluster && has_folder)
    mdb_error_argument(L, "cluster",
                       "give either cluster= or "
                       "folder=, not both");
  if (!has_cluster)
    *folder = folder_option(L, 0);
  if (!has_cluster && *folder == NULL)
    mdb_error_argument(L, "cluster",
                       "missing: give cluster= (one "
                       "cluster) or folder= (a folder; YC_FOLDER_ID "
                       "is used when set)");
  return has_cluster;
}

int mdb_client_backups(lua_State *L)
{
  mdb_client *c = mdb_client_check(L, 1);
  mdb_opt_table(L, 2);
  lua_settop(L, 2);
  mdb_opt_check_keys(L, 2, backups_options);
  const engine_info *engine = mdb_check_engine(L, 2, "engine");
  const char *cluster = NULL, *folder = NULL;
  int has_cluster = cluster_or_folder(L, &cluster, &folder);
  long page_size, limit;
  const char *token;
  paging_options(L, c, &page_size, &limit, &token);
  return has_cluster ? new_iter(L, LIST_CLUSTER_BACKUPS, cluster, NULL, engine,
                                page_size, limit, token)
                     : new_iter(L, LIST_FOLDER_BACKUPS, folder, NULL, engine,
                                page_size, limit, token);
}

int mdb_client_clusters(lua_State *L)
{
  mdb_client *c = mdb_client_check(L, 1);
  mdb_opt_table(L, 2);
  lua_settop(L, 2);
  mdb_opt_check_keys(L, 2, clusters_options);
  const engine_info *engine = mdb_check_engine(L, 2, "engine");
  const char *folder = folder_option(L, 1);
  const char *filter = NULL;
  mdb_opt_string(L, 2, "filter", MDB_MAX_FILTER_LEN, &filter);
  long page_size, limit;
  const char *token;
  paging_options(L, c, &page_size, &limit, &token);
  return new_iter(L, LIST_CLUSTERS, folder, filter, engine, page_size, limit,
                  token);
}

/*
** client:retention_policies{engine=, cluster= | folder=}: the options and
** rules of client:backups, for the engines that have policies; by folder
** only where the API has ListByFolder (not PostgreSQL).
*/
int mdb_client_retention_policies(lua_State *L)
{
  mdb_client *c = mdb_client_check(L, 1);
  mdb_opt_table(L, 2);
  lua_settop(L, 2);
  mdb_opt_check_keys(L, 2, backups_options);
  const engine_info *engine = mdb_check_engine(L, 2, "engine");
  if (!list_kind_supported(LIST_CLUSTER_POLICIES, engine))
    return mdb_error_argument(L, "engine",
                              "%s has no retention policies "
                              "(the API has them for postgresql, mysql, "
                              "mongodb and redis)",
                              engine->name);
  const char *cluster = NULL, *folder = NULL;
  int has_cluster = cluster_or_folder(L, &cluster, &folder);
  if (!has_cluster && !list_kind_supported(LIST_FOLDER_POLICIES, engine))
    return mdb_error_argument(L, "folder",
                              "%s retention policies can only "
                              "be listed by cluster (the API has no "
                              "ListByFolder for it): give cluster=",
                              engine->name);
  long page_size, limit;
  const char *token;
  paging_options(L, c, &page_size, &limit, &token);
  return has_cluster ? new_iter(L, LIST_CLUSTER_POLICIES, cluster, NULL, engine,
                                page_size, limit, token)
                     : new_iter(L, LIST_FOLDER_POLICIES, folder, NULL, engine,
                                page_size, limit, token);
}

/* client:operations{engine=, cluster=}: Cluster.ListOperations (every
** engine has it; there is no folder-wide listing). */
int mdb_client_operations(lua_State *L)
{
  mdb_client *c = mdb_client_check(L, 1);
  mdb_opt_table(L, 2);
  lua_settop(L, 2);
  mdb_opt_check_keys(L, 2, operations_options);
  const engine_info *engine = mdb_check_engine(L, 2, "engine");
  const char *cluster = NULL;
  if (!mdb_opt_string(L, 2, "cluster", MDB_MAX_ID_LEN, &cluster))
    return mdb_error_argument(L, "cluster",
                              "missing: give cluster= (the "
                              "API lists operations per cluster)");
  long page_size, limit;
  const char *token;
  paging_options(L, c, &page_size, &limit, &token);
  return new_iter(L, LIST_OPERATIONS, cluster, NULL, engine, page_size, limit,
                  token);
}

static const luaL_Reg iter_methods[] = {{"close", iter_close},
                                        {"stats", iter_stats},
                                        {"token", iter_token},
                                        {NULL, NULL}};

static const luaL_Reg iter_metamethods[] = {
    {"__call", iter_call}, {"__close", iter_close},       {"__gc", iter_gc},
    {"__index", NULL},     {"__tostring", iter_tostring}, {NULL, NULL}};

void mdb_iter_register(lua_State *L)
{
  mdb_listing_register(L);
  luaL_newmetatable(L, MDB_ITER_MT);
  luaL_setfuncs(L, iter_metamethods, 0);
  luaL_newlib(L, iter_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
