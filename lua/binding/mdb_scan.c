/*
** client:scan{...}: the backups of many clusters at once.  One fetch
** engine (core/fetch_engine.h) keeps up to `concurrency` requests in
** flight over reused connections; this file turns its pages into Lua
** tables and gathers one result per cluster, in a deterministic order:
** engines as given, clusters as Cluster.List returned them (or as given).
** A failure of one cluster is recorded in its result and the scan goes
** on; only misuse, Ctrl-C or an error raised by the progress callback
** ends the whole scan.
**
** Stack layout while scanning (absolute indices):
**   1 client, 2 options, 3 the to-be-closed scan state, 4 entries (every
**   result in creation order), 5 per-engine arrays of entry indices,
**   6 the progress function or nil, 7 per entry index the repeat guard's
**   {ids of the last page (repeats included), repeats skipped}
*/
#include "mdb_binding.h"

#include "http/cancel.h"
#include "mdb_defaults.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MDB_SCAN_MT "mdb.scan"
#define SCAN_MAX_ENGINES 32

enum { S_CLIENT = 1, S_OPTS, S_STATE, S_ENTRIES, S_ORDER, S_PROGRESS,
       S_SEEN };

typedef struct scan_state {
  fetch_engine *fe;
} scan_state;

static int scan_close(lua_State *L)
{
  scan_state *s = luaL_checkudata(L, 1, MDB_SCAN_MT);
  fetch_engine_free(s->fe);
  s->fe = NULL;
  return 0;
}

typedef struct scan {
  lua_State *L;
  mdb_client *client;
  fetch_engine *fe;
  long page_size, limit;
  lua_Integer done, total;
} scan;

/* A job's user data: its entry's index in S_ENTRIES, negated for a
** Cluster.List job (whose "entry" is the engine's position). */
static void *tag(lua_Integer i)
{
  return (void *)(intptr_t)i;
}

static lua_Integer untag(void *p)
{
  return (lua_Integer)(intptr_t)p;
}

static void set_stats(lua_State *L, int entry, const fetch_stats *st,
                      lua_Integer items, lua_Integer duplicates)
{
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, duplicates);
  lua_setfield(L, -2, "duplicates");
  lua_pushinteger(L, st->pages);
  lua_setfield(L, -2, "pages");
  lua_pushinteger(L, items);
  lua_setfield(L, -2, "items");
  lua_pushinteger(L, st->retries);
  lua_setfield(L, -2, "retries");
  lua_pushinteger(L, st->requests);
  lua_setfield(L, -2, "requests");
  lua_pushinteger(L, (lua_Integer)st->bytes);
  lua_setfield(L, -2, "bytes");
  lua_pushinteger(L, st->throttled);
  lua_setfield(L, -2, "throttled");
  lua_pushinteger(L, st->paced);
  lua_setfield(L, -2, "paced");
  if (st->rate > 0) {   /* only once a 429 engaged adaptive pacing */
    lua_pushnumber(L, st->rate);
    lua_setfield(L, -2, "rate");
  }
  lua_setfield(L, entry, "stats");
}

/* Call progress{done, total, engine, id, failed} if there is one. */
static void report_progress(scan *s, int entry)
{
  lua_State *L = s->L;
  if (lua_isnil(L, S_PROGRESS))
    return;
  lua_pushvalue(L, S_PROGRESS);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, s->done);
  lua_setfield(L, -2, "done");
  lua_pushinteger(L, s->total);
  lua_setfield(L, -2, "total");
  lua_getfield(L, entry, "engine");
  lua_setfield(L, -2, "engine");
  lua_getfield(L, entry, "id");
  lua_setfield(L, -2, "id");
  lua_getfield(L, entry, "error");
  lua_pushboolean(L, !lua_isnil(L, -1));
  lua_setfield(L, -3, "failed");
  lua_pop(L, 1);
  lua_call(L, 1, 0);   /* its errors end the scan; __close frees the engine */
}

/* Create entry {engine, id, cluster, backups = {}} and its backups job. */
static void add_cluster(scan *s, const engine_info *e, int order_slot,
                        const char *id, int cluster_idx)
{
  lua_State *L = s->L;
  lua_createtable(L, 0, 6);
  int entry = lua_gettop(L);
  lua_pushstring(L, e->name);
  lua_setfield(L, entry, "engine");
  lua_pushstring(L, id);
  lua_setfield(L, entry, "id");
  if (cluster_idx) {
    lua_pushvalue(L, cluster_idx);
    lua_setfield(L, entry, "cluster");
  }
  lua_newtable(L);
  lua_setfield(L, entry, "backups");
  lua_Integer n = (lua_Integer)lua_rawlen(L, S_ENTRIES) + 1;
  lua_rawseti(L, S_ENTRIES, n);
  lua_rawgeti(L, S_ORDER, order_slot);
  lua_pushinteger(L, n);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
  s->total++;

  list_target t = {s->client->endpoint, e, LIST_CLUSTER_BACKUPS, id, NULL};
  fetch_job *j = fetch_job_new(s->fe, &t, s->page_size, s->limit, NULL,
                               tag(n));
  if (j == NULL || fetch_job_request(j) != 0)
    luaL_error(L, "out of memory starting a scan");
}

/* Record the error on the stack top in entry `entry`, finish the job. */
static void finish(scan *s, fetch_job *j, int entry, int has_error)
{
  lua_State *L = s->L;
  if (has_error)
    lua_setfield(L, entry, "error");
  lua_getfield(L, entry, "backups");
  lua_Integer items = (lua_Integer)lua_rawlen(L, -1);
  lua_pop(L, 1);
  lua_Integer idx = untag(fetch_job_ud(j)), dups = 0;
  if (idx > 0) {   /* a Cluster.List job has no repeat guard */
    if (lua_rawgeti(L, S_SEEN, idx) == LUA_TTABLE) {
      lua_rawgeti(L, -1, 2);
      dups = lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, S_SEEN, idx);
  }
  set_stats(L, entry, fetch_job_stats(j), items, dups);
  fetch_job_free(j);
  s->done++;
  report_progress(s, entry);
}

/* A page of Cluster.List for the engine at order slot `slot` arrived. */
static void on_clusters_page(scan *s, fetch_job *j, int slot,
                             const engine_info *e)
{
  lua_State *L = s->L;
  char err[320];
  const char *tok;
  size_t toklen;
  int failed_entry = 0;
  if (mdb_page_decode(L, LIST_CLUSTERS, fetch_job_page(j), &tok, &toklen,
                      err, sizeof err) != 0) {
    mdb_push_job_error(L, j, MDB_ERR_JSON, err);
    failed_entry = 1;
  } else {
    int items = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, items);
    for (lua_Integer i = 1; i <= n && !failed_entry; i++) {
      lua_rawgeti(L, items, i);
      int cl = lua_gettop(L);
      const char *id = NULL;
      if (lua_istable(L, cl) && lua_getfield(L, cl, "id") == LUA_TSTRING)
        id = lua_tostring(L, -1);
      lua_pop(L, lua_istable(L, cl) ? 1 : 0);
      const char *nerr = NULL;
      if (id == NULL || *id == '\0' || strlen(id) > MDB_MAX_ID_LEN)
        nerr = "clusters[] item has no usable id";
      else
        nerr = mdb_normalize_cluster(L, e, err, sizeof err);
      if (nerr) {
        lua_pop(L, 1);
        mdb_push_job_error(L, j, MDB_ERR_JSON, nerr);
        failed_entry = 1;
        break;
      }
      lua_getfield(L, cl, "id");
      add_cluster(s, e, slot, lua_tostring(L, -1), cl);
      lua_pop(L, 2);
    }
    if (!failed_entry) {
      int r = fetch_job_accept(j, (size_t)n, tok, toklen);
      if (r != PAGE_CURSOR_OK) {
        int cycle = r == PAGE_CURSOR_CYCLE;
        mdb_push_job_error(L, j, cycle ? MDB_ERR_CYCLE : MDB_ERR_MEMORY,
                           cycle ? "the server repeated a page token of "
                           "Cluster.List: the listing would loop"
                           : "out of memory");
        failed_entry = 1;
      }
    }
    lua_remove(L, items);
  }
  if (failed_entry) {
    /* The engine's listing failed: an entry with no id carries the error. */
    lua_createtable(L, 0, 3);
    lua_pushstring(L, e->name);
    lua_setfield(L, -2, "engine");
    lua_insert(L, -2);
    lua_setfield(L, -2, "error");
    lua_Integer n = (lua_Integer)lua_rawlen(L, S_ENTRIES) + 1;
    lua_pushvalue(L, -1);
    lua_rawseti(L, S_ENTRIES, n);
    lua_rawgeti(L, S_ORDER, slot);
    lua_pushinteger(L, n);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
    int entry = lua_gettop(L);
    s->total++;
    lua_newtable(L);
    lua_setfield(L, entry, "backups");
    finish(s, j, entry, 0);
    lua_pop(L, 1);
    return;
  }
  if (fetch_job_done(j))
    fetch_job_free(j);
  else if (fetch_job_request(j) != 0)
    luaL_error(L, "out of memory");
}

/* A page of backups of the cluster of entry `idx` arrived. */
static void on_backups_page(scan *s, fetch_job *j, lua_Integer idx)
{
  lua_State *L = s->L;
  lua_rawgeti(L, S_ENTRIES, idx);
  int entry = lua_gettop(L);
  lua_getfield(L, entry, "engine");
  const engine_info *e = engines_find(lua_tostring(L, -1));
  lua_pop(L, 1);
  char err[320];
  const char *tok;
  size_t toklen;
  if (mdb_page_decode(L, LIST_CLUSTER_BACKUPS, fetch_job_page(j), &tok,
                      &toklen, err, sizeof err) != 0) {
    mdb_push_job_error(L, j, MDB_ERR_JSON, err);
    finish(s, j, entry, 1);
    lua_settop(L, entry - 1);
    return;
  }
  int items = lua_gettop(L);
  lua_getfield(L, entry, "backups");
  int out = lua_gettop(L);
  lua_Integer have = (lua_Integer)lua_rawlen(L, out);
  lua_Integer n = (lua_Integer)lua_rawlen(L, items);
  long remaining = page_cursor_remaining(fetch_job_cursor(j));
  if (n > remaining)
    n = remaining;
  /* the repeat guard: this page's ids become the previous page's */
  if (lua_rawgeti(L, S_SEEN, idx) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 2, 0);
    lua_pushinteger(L, 0);
    lua_rawseti(L, -2, 2);
    lua_pushvalue(L, -1);
    lua_rawseti(L, S_SEEN, idx);
  }
  int guard = lua_gettop(L);
  lua_rawgeti(L, guard, 1);               /* guard + 1: previous ids */
  mdb_page_ids(L, items, n);
  lua_rawseti(L, guard, 1);               /* this page's, for the next */
  lua_Integer dups = 0;
  int in_prefix = 1;
  for (lua_Integer i = 1; i <= n; i++) {
    const char *nerr = NULL;
    if (in_prefix) {
      int dup = lua_rawgeti(L, items, i) == LUA_TTABLE &&
                mdb_page_seen(L, lua_gettop(L), guard + 1, &in_prefix);
      lua_pop(L, 1);
      if (dup) {
        dups++;
        continue;
      }
    }
    if (lua_rawgeti(L, items, i) != LUA_TTABLE) {
      snprintf(err, sizeof err, "backups[%lld] in the response is not an "
               "object", (long long)i);
      nerr = err;
    } else {
      nerr = mdb_normalize_backup(L, e, err, sizeof err);
    }
    if (nerr) {
      lua_pop(L, 1);
      mdb_push_job_error(L, j, MDB_ERR_JSON, nerr);
      finish(s, j, entry, 1);
      lua_settop(L, entry - 1);
      return;
    }
    lua_rawseti(L, out, ++have);
  }
  lua_rawgeti(L, guard, 2);
  lua_pushinteger(L, lua_tointeger(L, -1) + dups);
  lua_rawseti(L, guard, 2);
  lua_pop(L, 1);
  int r = fetch_job_accept(j, (size_t)n, tok, toklen);
  if (r != PAGE_CURSOR_OK) {
    int cycle = r == PAGE_CURSOR_CYCLE;
    mdb_push_job_error(L, j, cycle ? MDB_ERR_CYCLE : MDB_ERR_MEMORY,
                       cycle ? "the server repeated a page token: the "
                       "listing would loop" : "out of memory");
    finish(s, j, entry, 1);
  } else if (fetch_job_done(j)) {
    finish(s, j, entry, 0);
  } else if (fetch_job_request(j) != 0) {
    luaL_error(L, "out of memory");
  }
  lua_settop(L, entry - 1);
}

static const char *const scan_options[] = {
  "clusters", "concurrency", "engine", "engines", "folder", "limit",
  "page_size", "progress", "rate", NULL};

/* The engines to scan, from engine= or engines=; returns how many. */
static int scan_engines(lua_State *L, const engine_info **out)
{
  int has_one = lua_getfield(L, S_OPTS, "engine") != LUA_TNIL;
  int has_many = lua_getfield(L, S_OPTS, "engines") != LUA_TNIL;
  lua_pop(L, 2);
  if (has_one && has_many)
    mdb_error_argument(L, "engines", "give engine= or engines=, not both");
  if (has_one) {
    out[0] = mdb_check_engine(L, S_OPTS, "engine");
    return 1;
  }
  if (!has_many)
    return 0;
  if (lua_getfield(L, S_OPTS, "engines") != LUA_TTABLE)
    mdb_error_argument(L, "engines", "expected an array of engine names");
  int n = 0;
  lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
  if (len == 0 || len > SCAN_MAX_ENGINES)
    mdb_error_argument(L, "engines", "expected 1 to %d engine names",
                       SCAN_MAX_ENGINES);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_createtable(L, 0, 1);
    lua_rawgeti(L, -2, i);
    lua_setfield(L, -2, "engines");
    const engine_info *e = mdb_check_engine(L, lua_gettop(L), "engines");
    lua_pop(L, 1);
    for (int k = 0; k < n; k++)
      if (out[k] == e)
        mdb_error_argument(L, "engines", "\"%s\" is listed twice", e->name);
    out[n++] = e;
  }
  lua_pop(L, 1);
  return n;
}

/*
** Check clusters= (at the top of the stack) and push a table of
** {engine_info lightuserdata, id} pairs, before any request.
*/
static void scan_cluster_list(lua_State *L, const engine_info *const *engines,
                              int nengines)
{
  if (!lua_istable(L, -1))
    mdb_error_argument(L, "clusters", "expected an array of cluster ids or "
                       "{engine=, id=} tables");
  int arr = lua_gettop(L);
  lua_newtable(L);
  int pairs = lua_gettop(L);
  lua_Integer len = (lua_Integer)lua_rawlen(L, arr);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_rawgeti(L, arr, i);
    const engine_info *e = NULL;
    const char *id = NULL;
    if (lua_type(L, -1) == LUA_TSTRING) {
      if (nengines != 1)
        mdb_error_argument(L, "clusters", "clusters[%lld] is a bare id: "
                           "give engine= too, or {engine=, id=}",
                           (long long)i);
      e = engines[0];
      id = lua_tostring(L, -1);
    } else if (lua_istable(L, -1)) {
      int item = lua_gettop(L);
      e = mdb_check_engine(L, item, "engine");
      if (lua_getfield(L, item, "id") == LUA_TSTRING)
        id = lua_tostring(L, -1);
      lua_pop(L, 1);   /* still anchored by the item */
    }
    if (id == NULL || *id == '\0' || strlen(id) > MDB_MAX_ID_LEN)
      mdb_error_argument(L, "clusters", "clusters[%lld] needs an id of 1 "
                         "to %d characters", (long long)i, MDB_MAX_ID_LEN);
    lua_createtable(L, 2, 0);
    lua_pushlightuserdata(L, (void *)e);
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, id);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, pairs, i);
    lua_pop(L, 1);
  }
  lua_remove(L, arr);
}

int mdb_client_scan(lua_State *L)
{
  mdb_client *c = mdb_client_check(L, 1);
  mdb_opt_table(L, 2);
  lua_settop(L, 2);
  mdb_opt_check_keys(L, S_OPTS, scan_options);

  const engine_info *engines[SCAN_MAX_ENGINES];
  int nengines = scan_engines(L, engines);
  lua_Integer v;
  int concurrency = MDB_DEFAULT_CONCURRENCY;
  if (mdb_opt_integer(L, S_OPTS, "concurrency", 1, MDB_MAX_CONCURRENCY, &v))
    concurrency = (int)v;
  double rate = 0;
  mdb_opt_number(L, S_OPTS, "rate", 0, 100000, &rate);
  scan s = {L, c, NULL, c->page_size, -1, 0, 0};
  if (mdb_opt_integer(L, S_OPTS, "page_size", 0, MDB_MAX_PAGE_SIZE, &v))
    s.page_size = (long)v;
  if (mdb_opt_integer(L, S_OPTS, "limit", 0, 0x7fffffffL, &v))
    s.limit = (long)v;
  int t = lua_getfield(L, S_OPTS, "progress");
  if (t != LUA_TNIL && t != LUA_TFUNCTION)
    return mdb_error_argument(L, "progress", "expected a function, got %s",
                              luaL_typename(L, -1));
  lua_pop(L, 1);
  int has_clusters = lua_getfield(L, S_OPTS, "clusters") != LUA_TNIL;
  int has_folder = lua_getfield(L, S_OPTS, "folder") != LUA_TNIL;
  lua_pop(L, 2);
  const char *folder = NULL;
  if (has_clusters && has_folder)
    return mdb_error_argument(L, "clusters", "give clusters= or folder=, "
                              "not both");
  if (!has_clusters) {
    if (nengines == 0)
      return mdb_error_argument(L, "engines", "missing: give engine= or "
                                "engines= (names from mdb.engines)");
    if (!mdb_opt_string(L, S_OPTS, "folder", MDB_MAX_ID_LEN, &folder)) {
      folder = getenv("YC_FOLDER_ID");
      if (folder == NULL || *folder == '\0')
        return mdb_error_argument(L, "folder", "missing: give folder=, "
                                  "clusters=, or set YC_FOLDER_ID");
      if (strlen(folder) > MDB_MAX_ID_LEN)
        return mdb_error_argument(L, "folder", "YC_FOLDER_ID is longer "
                                  "than %d characters", MDB_MAX_ID_LEN);
    }
  }

  /* Fixed slots (see the top of the file); the state closes the engine
  ** whatever way this function is left. */
  scan_state *st = lua_newuserdatauv(L, sizeof *st, 0);
  st->fe = NULL;
  luaL_setmetatable(L, MDB_SCAN_MT);
  lua_toclose(L, S_STATE);
  lua_newtable(L);                                  /* S_ENTRIES */
  lua_newtable(L);                                  /* S_ORDER */
  lua_getfield(L, S_OPTS, "progress");              /* S_PROGRESS */
  lua_newtable(L);                                  /* S_SEEN */
  int npairs = 0;
  if (has_clusters) {
    lua_getfield(L, S_OPTS, "clusters");
    scan_cluster_list(L, engines, nengines);        /* S_SEEN + 1 */
    npairs = (int)lua_rawlen(L, -1);
  }

  st->fe = s.fe = mdb_client_engine(c, concurrency, rate);
  if (s.fe == NULL)
    return luaL_error(L, "out of memory starting a scan");
  int nslots = has_clusters ? 1 : nengines;
  for (int k = 1; k <= nslots; k++) {
    lua_newtable(L);
    lua_rawseti(L, S_ORDER, k);
  }
  if (has_clusters) {
    int pairs = S_SEEN + 1;
    for (int i = 1; i <= npairs; i++) {
      lua_rawgeti(L, pairs, i);
      lua_rawgeti(L, -1, 1);
      const engine_info *e = lua_touserdata(L, -1);
      lua_rawgeti(L, -2, 2);
      add_cluster(&s, e, 1, lua_tostring(L, -1), 0);
      lua_pop(L, 3);
    }
    lua_settop(L, S_SEEN);
  } else {
    for (int k = 0; k < nengines; k++) {
      list_target lt = {c->endpoint, engines[k], LIST_CLUSTERS, folder, NULL};
      fetch_job *j = fetch_job_new(s.fe, &lt, MDB_MAX_PAGE_SIZE, -1, NULL,
                                   tag(-(k + 1)));
      if (j == NULL || fetch_job_request(j) != 0)
        return luaL_error(L, "out of memory starting a scan");
    }
  }

  for (;;) {
    int failed;
    fetch_job *j = fetch_engine_next(s.fe, NULL, &failed);
    if (j == NULL && failed == -1) {
      cancel_clear();
      mdb_error_fields f = {.kind = MDB_ERR_INTERRUPTED,
                            .message = "interrupted", .code = -1};
      return mdb_error_raise(L, &f);
    }
    if (j == NULL)
      break;
    lua_Integer idx = untag(fetch_job_ud(j));
    if (failed) {
      mdb_push_fetch_error(L, c, j);
      if (idx > 0) {
        lua_rawgeti(L, S_ENTRIES, idx);
        lua_insert(L, -2);
        finish(&s, j, lua_gettop(L) - 1, 1);
        lua_pop(L, 1);
      } else {
        /* reuse the Cluster.List failure path with a decoded-nothing page */
        const engine_info *e = engines[-idx - 1];
        lua_createtable(L, 0, 3);
        lua_pushstring(L, e->name);
        lua_setfield(L, -2, "engine");
        lua_insert(L, -2);
        lua_setfield(L, -2, "error");
        lua_newtable(L);
        lua_setfield(L, -2, "backups");
        lua_Integer n = (lua_Integer)lua_rawlen(L, S_ENTRIES) + 1;
        lua_pushvalue(L, -1);
        lua_rawseti(L, S_ENTRIES, n);
        lua_rawgeti(L, S_ORDER, -idx);
        lua_pushinteger(L, n);
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        lua_pop(L, 1);
        s.total++;
        finish(&s, j, lua_gettop(L), 0);
        lua_pop(L, 1);
      }
    } else if (idx > 0) {
      on_backups_page(&s, j, idx);
    } else {
      on_clusters_page(&s, j, (int)-idx, engines[-idx - 1]);
    }
  }

  /* The results, in the order promised. */
  lua_createtable(L, (int)lua_rawlen(L, S_ENTRIES), 0);
  lua_Integer out = 0;
  for (int k = 1; k <= nslots; k++) {
    lua_rawgeti(L, S_ORDER, k);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      lua_rawgeti(L, S_ENTRIES, lua_tointeger(L, -1));
      lua_rawseti(L, -4, ++out);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_closeslot(L, S_STATE);
  return 1;
}

void mdb_scan_register(lua_State *L)
{
  luaL_newmetatable(L, MDB_SCAN_MT);
  lua_pushcfunction(L, scan_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, scan_close);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}
