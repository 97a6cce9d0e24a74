/*
** client:scan{...}: the backups of many clusters at once.  One fetch
** engine (core/listing/fetch_engine.h) keeps up to `concurrency` requests in
** flight over reused connections; each listing's pages go through the
** page consumer the iterator uses (mdb_listing.c), and each cluster's
** result becomes an entry.  A finished entry is either handed to `each`
** at once and let go (a streaming scan, in completion order) or kept for
** the result array, in a deterministic order: folders as given, engines
** as given, clusters as Cluster.List returned them (or as given).  A
** failure of one cluster is recorded in its entry and the scan goes on;
** only misuse, Ctrl-C or an error raised by `each` or `progress` ends the
** whole scan.
**
** Backups listings run `concurrency` at a time (each has at most one
** request in flight), the other clusters waiting in a queue: a fleet of
** thousands of clusters holds only that many handles and buffers, and in a
** streaming scan only that many clusters' backups.
**
** Stack layout while scanning (absolute indices):
**   1 client, 2 options, 3 the to-be-closed scan state, 4 entries by
**   index (in a streaming scan, only those not finished yet), 5 per
**   slot the entry indices in result order (kept only when not
**   streaming), 6 progress or nil, 7 each or nil, 8 the listing
**   (mdb_listing.c) of every job by its tag, 9 the queue of entry
**   indices waiting for a job, 10 the folders (folder scans), 11 the
**   clouds (cloud scans), 12 the retention policies listed by folder
**   (mdb_scan.h: FP_TAG)
** A folder scan has a slot per (folder, engine) pair, folder-major; its
** Cluster.List listings, too, run `concurrency` at a time.  A folder is a
** record {id, cloud, ci, fi}: a cloud scan learns its folders from
** Resource Manager (Cloud.List, then Folder.List of each cloud) as the
** pages come, and the result order is then by (ci, fi) = (the cloud's
** place in Cloud.List, the folder's in Folder.List).  A failed Resource
** Manager listing gets a record with no id, so its error entries have a
** place in that order too.
*/
#include "mdb_scan.h"

#include "http/cancel.h"
#include "http/pacer.h"
#include "listing/list_url.h"
#include "mdb_defaults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MDB_SCAN_MT "mdb.scan"

typedef struct scan_state {
  fetch_engine *fe;
  /* malloc'd while it is copied into a Lua string: the copy can raise
  ** (out of memory), and this state is closed on the way out */
  char *rm_endpoint;
} scan_state;

static int scan_close(lua_State *L)
{
  scan_state *s = luaL_checkudata(L, 1, MDB_SCAN_MT);
  fetch_engine_free(s->fe);
  s->fe = NULL;
  free(s->rm_endpoint);
  s->rm_endpoint = NULL;
  return 0;
}

/*
** The one way an entry is made: push {engine, id, cluster, backups = {}}
** (id and cluster when given; backup_texts = {} when asked for),
** register it under a new index in S_ENTRIES and, when results are kept,
** at the end of its slot's order.
** Returns the index; the entry stays on the stack.
*/
lua_Integer scan_new_entry(scan *s, int slot, const engine_info *e,
                           const char *id, int cluster_idx)
{
  lua_State *L = s->L;
  lua_createtable(L, 0, 6);
  int entry = lua_gettop(L);
  lua_pushstring(L, e->name);
  lua_setfield(L, entry, "engine");
  if (id) {
    lua_pushstring(L, id);
    lua_setfield(L, entry, "id");
  }
  if (cluster_idx) {
    lua_pushvalue(L, cluster_idx);
    lua_setfield(L, entry, "cluster");
  }
  if (lua_rawgeti(L, S_FOLDERS, (slot - 1) / s->nengines + 1) == LUA_TTABLE) {
    lua_getfield(L, -1, "id");
    lua_setfield(L, entry, "folder");
    lua_getfield(L, -1, "cloud");
    lua_setfield(L, entry, "cloud");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setfield(L, entry, "backups");
  if (s->backup_texts) {
    lua_newtable(L);
    lua_setfield(L, entry, "backup_texts");
  }
  if (s->last_entry + 1 >= PART_STRIDE)
    luaL_error(L, "a scan of more than %d clusters: split it",
               (int)(PART_STRIDE - 1));
  lua_Integer idx = ++s->last_entry;
  lua_pushvalue(L, entry);
  lua_rawseti(L, S_ENTRIES, idx);
  if (s->folder_policies && lua_rawgeti(L, S_FP, slot) == LUA_TTABLE) {
    lua_pushinteger(L, slot);
    lua_rawseti(L, S_FP, -idx);
  }
  if (s->folder_policies)
    lua_pop(L, 1);
  if (!s->streaming) {
    lua_rawgeti(L, S_ORDER, slot);
    lua_pushinteger(L, idx);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
  }
  s->total++;
  return idx;
}

/* The entry field holding part `part`'s items. */
static const char *part_field(int part)
{
  return part == PART_POLICIES     ? "policies"
         : part == PART_OPERATIONS ? "operations"
                                   : "backups";
}

/*
** Start part `part` of entry `idx`'s listings: its job, its listing in
** S_LISTINGS and a fresh table for its items in the entry (backups were
** made with the entry).  Policies and operations are listed in full: the
** scan's limit is about backups.
*/
static void start_part(scan *s, lua_Integer idx, int part)
{
  static const list_kind kinds[PART_COUNT] = {
      LIST_CLUSTER_BACKUPS, LIST_CLUSTER_POLICIES, LIST_OPERATIONS};
  lua_State *L = s->L;
  lua_rawgeti(L, S_ENTRIES, idx);
  lua_getfield(L, -1, "engine");
  const engine_info *e = engines_find(lua_tostring(L, -1));
  lua_getfield(L, -2, "id");
  list_target t = {s->client->endpoint, e, kinds[part], lua_tostring(L, -1),
                   NULL};
  lua_Integer tag = idx + part * PART_STRIDE;
  fetch_job *j = fetch_job_new(s->fe, &t, s->page_size,
                               part == PART_BACKUPS ? s->limit : -1, NULL,
                               scan_tag(tag));
  lua_pop(L, 2);
  if (j == NULL || fetch_job_request(j) != 0)
    luaL_error(L, "out of memory starting a scan");
  if (part != PART_BACKUPS) {
    lua_newtable(L);
    lua_setfield(L, -2, part_field(part));
  }
  lua_pop(L, 1);
  mdb_listing *ls = mdb_listing_new(L, kinds[part], e, j);
  ls->texts = part == PART_BACKUPS && s->backup_texts;
  lua_rawseti(L, S_LISTINGS, tag);
}

/* The slot whose folder policies listing entry `idx` waits for, or 0. */
static int fp_slot(scan *s, lua_Integer idx)
{
  if (!s->folder_policies)
    return 0;
  lua_rawgeti(s->L, S_FP, -idx);
  int slot = (int)lua_tointeger(s->L, -1);
  lua_pop(s->L, 1);
  return slot;
}

/* The part to list after `part` for entry `idx` (at `entry`), or 0: only
** what with= asks for and the engine has, and its policies only when its
** folder's are not listed at once. */
static int next_part(scan *s, int entry, lua_Integer idx, int part)
{
  lua_getfield(s->L, entry, "engine");
  const engine_info *e = engines_find(lua_tostring(s->L, -1));
  lua_pop(s->L, 1);
  for (int p = part + 1; p < PART_COUNT; p++)
    if (s->with[p] &&
        (p != PART_POLICIES || (list_kind_supported(LIST_CLUSTER_POLICIES, e) &&
                                fp_slot(s, idx) == 0)))
      return p;
  return 0;
}

static void finish(scan *s, int ls, lua_Integer t, int has_error);

/* Start the listings of queued entries while the window allows.  With
** limit = 0 a backups listing asks for nothing and no page will come: it
** is finished here, complete and empty, so the entry still gets its stats
** and its with= parts and is handed over.  Finishing starts queued
** entries again: that inner call returns at once, and this loop goes on
** (no recursion as deep as the fleet). */
static void start_queued(scan *s)
{
  lua_State *L = s->L;
  if (s->starting)
    return;
  s->starting = 1;
  while (s->running < s->window && s->queue_head <= s->queue_tail) {
    lua_rawgeti(L, S_QUEUE, s->queue_head);
    lua_Integer idx = lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, S_QUEUE, s->queue_head++);
    start_part(s, idx, PART_BACKUPS);
    s->running++;
    lua_rawgeti(L, S_LISTINGS, idx);
    int ls = lua_gettop(L);
    if (fetch_job_done(((mdb_listing *)lua_touserdata(L, ls))->job))
      finish(s, ls, idx, 0);
    lua_settop(L, ls - 1);
  }
  s->starting = 0;
}

/* Start the listing of a folder's retention policies for `slot`, beside
** its Cluster.List (and in the same window). */
static void start_folder_policies(scan *s, int slot, const engine_info *e,
                                  const char *folder)
{
  lua_State *L = s->L;
  lua_createtable(L, 0, 4); /* by cluster id, entries waiting, done, error */
  lua_newtable(L);
  lua_setfield(L, -2, "by");
  lua_newtable(L);
  lua_setfield(L, -2, "waiting");
  lua_rawseti(L, S_FP, slot);
  list_target lt = {s->client->endpoint, e, LIST_FOLDER_POLICIES, folder, NULL};
  fetch_job *j = fetch_job_new(s->fe, &lt, s->page_size, -1, NULL,
                               scan_tag(FP_TAG + slot));
  if (j == NULL || fetch_job_request(j) != 0)
    luaL_error(L, "out of memory starting a scan");
  mdb_listing_new(L, LIST_FOLDER_POLICIES, e, j);
  lua_rawseti(L, S_LISTINGS, FP_TAG + slot);
  s->lists_running++;
}

/* Start Cluster.List listings of the slots not started, as many as the
** window allows. */
static void start_lists(scan *s)
{
  lua_State *L = s->L;
  while (s->lists_running < s->window && s->next_slot <= s->slots) {
    int slot = s->next_slot++;
    const engine_info *e = s->engines[(slot - 1) % s->nengines];
    lua_rawgeti(L, S_FOLDERS, (slot - 1) / s->nengines + 1);
    if (lua_getfield(L, -1, "id") != LUA_TSTRING) { /* an error's place */
      lua_pop(L, 2);
      continue;
    }
    list_target lt = {s->client->endpoint, e, LIST_CLUSTERS,
                      lua_tostring(L, -1), NULL};
    fetch_job *j = fetch_job_new(s->fe, &lt, MDB_MAX_PAGE_SIZE, -1, NULL,
                                 scan_tag(-slot));
    if (j == NULL || fetch_job_request(j) != 0)
      luaL_error(L, "out of memory starting a scan");
    mdb_listing_new(L, LIST_CLUSTERS, e, j);
    lua_rawseti(L, S_LISTINGS, -slot);
    s->lists_running++;
    if (s->folder_policies && list_kind_supported(LIST_FOLDER_POLICIES, e))
      start_folder_policies(s, slot, e, lua_tostring(L, -1));
    lua_pop(L, 2);
  }
}

/*
** Add a folder record {id, cloud, ci, fi} (id or cloud may be NULL) with a
** slot per engine; returns its index.  Its Cluster.List listings start as
** the window allows.
*/
lua_Integer scan_add_folder(scan *s, const char *id, const char *cloud,
                            lua_Integer ci, lua_Integer fi)
{
  lua_State *L = s->L;
  lua_createtable(L, 0, 4);
  lua_pushstring(L, id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, cloud);
  lua_setfield(L, -2, "cloud");
  lua_pushinteger(L, ci);
  lua_setfield(L, -2, "ci");
  lua_pushinteger(L, fi);
  lua_setfield(L, -2, "fi");
  lua_Integer n = (lua_Integer)lua_rawlen(L, S_FOLDERS) + 1;
  lua_rawseti(L, S_FOLDERS, n);
  for (int k = 1; k <= s->nengines; k++) {
    lua_newtable(L);
    lua_rawseti(L, S_ORDER, (n - 1) * s->nengines + k);
  }
  s->slots = (int)n * s->nengines;
  start_lists(s);
  return n;
}

/* Queue the backups listing of entry `idx`. */
static void enqueue(scan *s, lua_Integer idx)
{
  lua_pushinteger(s->L, idx);
  lua_rawseti(s->L, S_QUEUE, ++s->queue_tail);
  start_queued(s);
}

void scan_set_stats(lua_State *L, int entry, const fetch_stats *st,
                    const mdb_listing *ls)
{
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, ls->duplicates);
  lua_setfield(L, -2, "duplicates");
  lua_pushinteger(L, st->pages);
  lua_setfield(L, -2, "pages");
  lua_pushinteger(L, ls->kind == LIST_CLUSTER_BACKUPS ? ls->items : 0);
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
  if (st->rate > 0) { /* only once a 429 engaged adaptive pacing */
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
  lua_call(L, 1, 0); /* its errors end the scan; __close frees the engine */
}

/* The entry at `entry` (index `idx`) is complete: hand it to `each` and
** let go of it, or keep it; tell progress. */
void scan_deliver(scan *s, int entry, lua_Integer idx)
{
  lua_State *L = s->L;
  s->done++;
  if (s->folder_policies) { /* its slot, for every way an entry ends */
    lua_pushnil(L);
    lua_rawseti(L, S_FP, -idx);
  }
  if (s->streaming) {
    lua_pushnil(L);
    lua_rawseti(L, S_ENTRIES, idx); /* the callback's to keep or drop */
    lua_pushvalue(L, S_EACH);
    lua_pushvalue(L, entry);
    lua_pushinteger(
        L, idx); /* its number: sorts a slot's entries into result order */
    lua_call(L, 2, 0); /* its errors end the scan, as progress's do */
  }
  report_progress(s, entry);
}

void scan_end_listing(scan *s, int ls, lua_Integer t)
{
  lua_State *L = s->L;
  mdb_listing *l = lua_touserdata(L, ls);
  fetch_job_free(l->job);
  l->job = NULL;
  id_guard_free(&l->guard);
  id_set_free(&l->seen);
  mdb_listing_free_held(l);
  mdb_listing_drop_page(L, ls);
  lua_pushnil(L);
  lua_rawseti(L, S_LISTINGS, t);
}

/* Give the entry at `entry` its policies from its slot's listing (the
** state at `state`): the cluster's, or policies_error when the listing
** failed; never a partial list. */
static void fp_attach(scan *s, int entry, int state)
{
  lua_State *L = s->L;
  if (lua_getfield(L, state, "error") != LUA_TNIL) {
    lua_setfield(L, entry, "policies_error");
    return;
  }
  lua_pop(L, 1);
  lua_getfield(L, state, "by");
  lua_getfield(L, entry, "id");
  lua_pushvalue(L, -1);
  if (lua_rawget(L, -3) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
  }
  lua_setfield(L, entry, "policies");
  lua_pushnil(L); /* by[id]: handed over */
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* Entry `idx` is new: when its folder's policies are still being listed,
** it waits for them before its backups listing starts (returns 1), so a
** streaming scan holds no more clusters' backups than the window, however
** long that listing takes; else 0: queue it now. */
static int fp_hold(scan *s, lua_Integer idx)
{
  lua_State *L = s->L;
  int slot = fp_slot(s, idx);
  if (slot == 0)
    return 0;
  int top = lua_gettop(L);
  lua_rawgeti(L, S_FP, slot);
  int held = 0;
  if (lua_getfield(L, top + 1, "done") == LUA_TNIL) {
    lua_getfield(L, top + 1, "waiting");
    lua_pushinteger(L, idx);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    held = 1;
  }
  lua_settop(L, top);
  return held;
}

/* Entry `idx` (at `entry`) has its own listings done: it gets its
** policies from its slot's listing, over by now (fp_hold). */
static void fp_give(scan *s, int entry, lua_Integer idx)
{
  lua_State *L = s->L;
  int slot = fp_slot(s, idx);
  if (slot == 0)
    return;
  lua_rawgeti(L, S_FP, slot);
  fp_attach(s, entry, lua_gettop(L));
  lua_pop(L, 1);
}

/* The policies listing of `slot` (at `ls`, tag `t`) is over, failed when
** an error is on the stack top (popped): the backups listings of the
** entries waiting for it are queued. */
static void fp_finish(scan *s, int ls, lua_Integer t, int has_error)
{
  lua_State *L = s->L;
  int err = has_error ? lua_gettop(L) : 0;
  int base = err ? err - 1 : lua_gettop(L);
  scan_end_listing(s, ls, t);
  s->lists_running--;
  lua_rawgeti(L, S_FP, t - FP_TAG);
  int state = lua_gettop(L);
  lua_pushboolean(L, 1);
  lua_setfield(L, state, "done");
  if (err) {
    lua_pushvalue(L, err);
    lua_setfield(L, state, "error");
    lua_pushnil(L);
    lua_setfield(L, state, "by"); /* no partial list */
  }
  lua_getfield(L, state, "waiting");
  int waiting = lua_gettop(L);
  lua_pushnil(L);
  lua_setfield(L, state, "waiting");
  lua_Integer n = (lua_Integer)lua_rawlen(L, waiting);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, waiting, i);
    lua_Integer idx = lua_tointeger(L, -1);
    lua_pop(L, 1);
    enqueue(s, idx);
  }
  lua_settop(L, base);
  start_queued(s);
  start_lists(s);
}

/*
** 1 when the item on the stack top has an id the listing's list already
** took (then it is dropped, and counted in duplicates); else 0, the id now
** taken.  `key` is the kind's id key.  -1 when out of memory.
*/
static int repeated(lua_State *L, mdb_listing *l, int key)
{
  lua_pushvalue(L, key);
  size_t len = 0;
  const char *id = lua_rawget(L, -2) == LUA_TSTRING ? lua_tolstring(L, -1, &len)
                                                    : NULL;
  int r = id ? id_set_add(&l->seen, id, len) : 1; /* no id: never a repeat */
  lua_pop(L, 1);
  if (r == 0) {
    l->duplicates++;
    l->items--; /* not handed out after all */
  }
  return r < 0 ? -1 : r == 0;
}

/* A page of the policies listing of `slot` (at `ls`): each policy filed
** under its clusterId.  Returns -1 with an error pushed. */
static int fp_page(scan *s, int ls, fetch_job *j, lua_Integer t)
{
  lua_State *L = s->L;
  lua_rawgeti(L, S_FP, t - FP_TAG);
  lua_getfield(L, -1, "by");
  int by = lua_gettop(L);
  mdb_listing *l = lua_touserdata(L, ls);
  lua_pushstring(L, list_id_field(l->kind));
  int key = lua_gettop(L);
  int r;
  while ((r = mdb_listing_next_item(L, ls)) == 1) {
    /* a folder's policy sent twice is one policy, as in a cluster's list */
    int rep = repeated(L, l, key);
    if (rep != 0) {
      lua_settop(L, key);
      if (rep == 1)
        continue;
      mdb_push_job_error(L, j, MDB_ERR_MEMORY, "out of memory");
      return -1;
    }
    int item = lua_gettop(L);
    size_t len = 0;
    if (lua_getfield(L, item, "clusterId") != LUA_TSTRING ||
        (lua_tolstring(L, -1, &len), len == 0)) {
      lua_settop(L, key);
      mdb_push_job_error(L, j, MDB_ERR_JSON,
                         "policies[] item has no clusterId");
      return -1;
    }
    lua_pushvalue(L, -1);
    if (lua_rawget(L, by) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -2);
      lua_pushvalue(L, -2);
      lua_rawset(L, by);
    }
    lua_pushvalue(L, item);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_settop(L, key);
  }
  if (r == -1)
    return -1;
  lua_settop(L, by - 2);
  return 0;
}

/*
** The job of the listing at `ls` (tag `t`) is over; the error that ended
** it, if any, is on the stack top (popped).  A failed backups listing
** sets the entry's error (and nothing more is listed for it); a failed
** policies or operations listing leaves that field nil and sets
** policies_error or operations_error, so a list on an entry is always
** complete.  The entry's next part starts in the same place of the
** window; after its last one the entry (stats: of its backups) is handed
** to `each` and let go, or kept, and progress is told.  A failed
** Cluster.List gets an entry of its own now.
*/
static void finish(scan *s, int ls, lua_Integer t, int has_error)
{
  lua_State *L = s->L;
  if (t >= FP_TAG) {
    fp_finish(s, ls, t, has_error);
    return;
  }
  int err = has_error ? lua_gettop(L) : 0;
  mdb_listing *l = lua_touserdata(L, ls);
  lua_Integer idx = t > 0 ? t % PART_STRIDE : t;
  int part = t > 0 ? (int)(t / PART_STRIDE) : PART_BACKUPS;
  if (t < 0) /* only a failed Cluster.List ends here */
    idx = scan_new_entry(s, (int)-t, l->engine, NULL, 0);
  else
    lua_rawgeti(L, S_ENTRIES, idx);
  int entry = lua_gettop(L);
  if (err && part == PART_BACKUPS) {
    lua_pushvalue(L, err);
    lua_setfield(L, entry, "error");
  } else if (err) {
    lua_pushnil(L);
    lua_setfield(L, entry, part_field(part));
    lua_pushvalue(L, err);
    lua_setfield(L, entry,
                 part == PART_POLICIES ? "policies_error" : "operations_error");
  }
  if (part == PART_BACKUPS) {
    fetch_stats st;
    mdb_listing_stats(l, &st);
    scan_set_stats(L, entry, &st, l);
  }
  scan_end_listing(s, ls, t);
  int listed = t > 0 && !(err && part == PART_BACKUPS);
  int next = listed ? next_part(s, entry, idx, part) : 0;
  if (next) {
    start_part(s, idx, next);
  } else {
    if (t > 0)
      s->running--;
    else
      s->lists_running--;
    if (listed)
      fp_give(s, entry, idx);
    scan_deliver(s, entry, idx);
  }
  lua_settop(L, err ? err - 1 : entry - 1);
  start_queued(s);
  start_lists(s);
}

/* An item of a Cluster.List page (on the stack top): its entry, queued. */
static int on_cluster(scan *s, int slot, const engine_info *e)
{
  lua_State *L = s->L;
  int cl = lua_gettop(L);
  size_t len = 0;
  const char *id = lua_getfield(L, cl, "id") == LUA_TSTRING
                       ? lua_tolstring(L, -1, &len)
                       : NULL;
  if (id == NULL || len == 0 || len > MDB_MAX_ID_LEN || strlen(id) != len) {
    lua_pop(L, 1);
    return -1;
  }
  lua_Integer idx = scan_new_entry(s, slot, e, id, cl);
  lua_pop(L, 3);
  if (!fp_hold(s, idx))
    enqueue(s, idx);
  return 0;
}

/* The Cluster.List of `slot` completed: call listed(engine, folder,
** cloud) if given.  Only this tells a folder listed whole from one never
** listed when it has no cluster of the engine (no entry comes of it): a
** history closes the clusters of the folders listed whole. */
static void tell_listed(scan *s, int slot, const engine_info *e)
{
  lua_State *L = s->L;
  int top = lua_gettop(L);
  if (lua_getfield(L, S_OPTS, "listed") == LUA_TFUNCTION &&
      lua_rawgeti(L, S_FOLDERS, (slot - 1) / s->nengines + 1) == LUA_TTABLE) {
    int rec = lua_gettop(L);
    lua_pushvalue(L, rec - 1);
    lua_pushstring(L, e->name);
    lua_getfield(L, rec, "id");
    lua_getfield(L, rec, "cloud");
    lua_call(L, 3, 0); /* its errors end the scan, as each's do */
  }
  lua_settop(L, top);
}

/*
** Take the held pages of the listing at `ls` (tag `t`), then with `ready`
** the job's ready page: into the entry's list, or for a Cluster.List as
** new entries.  An item whose id the list already has is dropped, however
** far back the first came (the repeat guard sees only the previous
** page's), and its text with it: the first copy stays.  0, or -1 with an
** mdb.error on the stack top.
*/
static int take_pages(scan *s, int ls, fetch_job *j, lua_Integer t, int ready)
{
  lua_State *L = s->L;
  mdb_listing *l = lua_touserdata(L, ls);
  int top = lua_gettop(L);
  int out = 0, texts = 0, key = 0;
  if (t > 0) {
    lua_rawgeti(L, S_ENTRIES, t % PART_STRIDE);
    int entry = lua_gettop(L);
    lua_getfield(L, entry, part_field((int)(t / PART_STRIDE)));
    out = entry + 1;
    if (l->texts) {
      lua_getfield(L, entry, "backup_texts");
      texts = entry + 2;
    }
  }
  /* a Cluster.List too: a cluster listed twice is one cluster, not two
  ** entries whose backups would be listed and handed over twice */
  lua_pushstring(L, list_id_field(l->kind));
  key = lua_gettop(L);
  lua_Integer have = out ? (lua_Integer)lua_rawlen(L, out) : 0;
  int r = 0;
  while (r == 0 && (ready || mdb_listing_held(l))) {
    if (!mdb_listing_held(l))
      ready = 0; /* this one is the ready page */
    if (mdb_listing_take_page(L, ls) != 0) {
      r = -1;
      break;
    }
    while ((r = mdb_listing_next_item(L, ls)) == 1) {
      int rep = repeated(L, l, key);
      if (rep == -1) {
        mdb_push_job_error(L, j, MDB_ERR_MEMORY, "out of memory");
        r = -1;
        break;
      } else if (rep) {
        lua_pop(L, 1);
      } else if (out) {
        lua_rawseti(L, out, ++have);
        if (texts) {
          mdb_listing_push_text(L, ls);
          lua_rawseti(L, texts, have);
        }
      } else if (on_cluster(s, (int)-t, l->engine) != 0) {
        mdb_push_job_error(L, j, MDB_ERR_JSON,
                           "clusters[] item has no usable id");
        r = -1;
        break;
      }
    }
  }
  if (r == -1) {
    lua_copy(L, -1, top + 1);
    lua_settop(L, top + 1);
    return -1;
  }
  lua_settop(L, top);
  return 0;
}

/* The listing at `ls` (tag `t`) failed with the error on the stack top:
** the pages held before the failure are taken first (a failure among them
** is the one reported), then it ends. */
static void fail_listing(scan *s, int ls, fetch_job *j, lua_Integer t)
{
  if (mdb_listing_held(lua_touserdata(s->L, ls)) &&
      take_pages(s, ls, j, t, 0) != 0)
    lua_remove(s->L, -2);
  finish(s, ls, t, 1);
}

/* The job tagged `t` has a page ready: consume all of it, or hold it
** undecoded until the listing's last page (a backups listing): a scan then
** keeps the raw text of its running listings, not their backups as Lua
** values, and the collector and Lua's string table stay as small as for
** one listing. */
static void on_page(scan *s, fetch_job *j, lua_Integer t)
{
  lua_State *L = s->L;
  lua_rawgeti(L, S_LISTINGS, t);
  int ls = lua_gettop(L);
  mdb_listing *l = lua_touserdata(L, ls);
  if (t >= FP_TAG) {
    if (mdb_listing_take_page(L, ls) != 0 || fp_page(s, ls, j, t) != 0)
      finish(s, ls, t, 1);
    else if (fetch_job_done(j))
      finish(s, ls, t, 0);
    lua_settop(L, ls - 1);
    return;
  }
  int held = t > 0 && t < PART_STRIDE ? mdb_listing_hold_page(L, ls) : 0;
  if (held == 1) { /* taken with the listing's last page */
    lua_settop(L, ls - 1);
    return;
  }
  if (held == -1)
    fail_listing(s, ls, j, t);
  else if (take_pages(s, ls, j, t, 1) != 0)
    finish(s, ls, t, 1);
  else if (fetch_job_done(j) && t > 0)
    finish(s, ls, t, 0);
  else if (fetch_job_done(j)) { /* a complete Cluster.List: no entry */
    tell_listed(s, (int)-t, l->engine);
    scan_end_listing(s, ls, t);
    s->lists_running--;
    start_lists(s);
  }
  lua_settop(L, ls - 1);
}

typedef struct folder_key {
  lua_Integer ci, fi;
  int rec;
} folder_key;

static int by_key(const void *a, const void *b)
{
  const folder_key *x = a, *y = b;
  if (x->ci != y->ci)
    return x->ci < y->ci ? -1 : 1;
  if (x->fi != y->fi)
    return x->fi < y->fi ? -1 : 1;
  return x->rec - y->rec;
}

static const char *const scan_options[] = {
    "all_clouds",  "backup_texts",
    "cloud",       "clusters",
    "concurrency", "each",
    "engine",      "engines",
    "folder",      "folders",
    "limit",       "listed",
    "page_size",   "progress",
    "rate",        "resource_manager_endpoint",
    "with",        NULL};

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
  int t = lua_getfield(L, S_OPTS, "rate");
  lua_pop(L, 1);
  if (t != LUA_TNIL && t != LUA_TNUMBER)
    return mdb_error_argument(L, "rate",
                              "expected a number of requests "
                              "per second (0 = no pacing), got %s",
                              lua_typename(L, t));
  /* Below the adaptive rate's floor a request would wait longer than any
  ** other wait of the client, and 1e9 / rate would overflow the pacer's
  ** nanoseconds; a smaller rate is a mistake, not a wish. */
  if (t == LUA_TNUMBER) {
    lua_getfield(L, S_OPTS, "rate");
    rate = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(rate == 0 || (rate >= PACER_MIN_RATE && rate <= 100000)))
      return mdb_error_argument(L, "rate",
                                "expected 0 (no fixed limit) or %g to "
                                "100000 requests per second, got %g",
                                PACER_MIN_RATE, rate);
  }
  scan s = {0};
  s.L = L;
  s.client = c;
  s.engines = engines;
  s.nengines = nengines > 0 ? nengines : 1;
  s.page_size = c->page_size;
  s.limit = -1;
  s.window = concurrency;
  s.queue_head = 1;
  if (mdb_opt_integer(L, S_OPTS, "page_size", 0, MDB_MAX_PAGE_SIZE, &v))
    s.page_size = (long)v;
  if (mdb_opt_integer(L, S_OPTS, "limit", 0, 0x7fffffffL, &v))
    s.limit = (long)v;
  scan_with(L, s.with);
  t = lua_getfield(L, S_OPTS, "backup_texts");
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    return mdb_error_argument(L, "backup_texts", "expected a boolean, got %s",
                              luaL_typename(L, -1));
  s.backup_texts = lua_toboolean(L, -1);
  lua_pop(L, 1);
  static const char *const callbacks[] = {"progress", "each", "listed"};
  for (int k = 0; k < 3; k++) {
    t = lua_getfield(L, S_OPTS, callbacks[k]);
    if (t != LUA_TNIL && t != LUA_TFUNCTION)
      return mdb_error_argument(L, callbacks[k],
                                "expected a function, "
                                "got %s",
                                luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  /* Where the clusters come from: exactly one of these, or none (then
  ** folder= from YC_FOLDER_ID). */
  static const char *const sources[] = {"clusters", "folder", "folders",
                                        "cloud", "all_clouds"};
  int given[5];
  for (int k = 0; k < 5; k++) {
    given[k] = lua_getfield(L, S_OPTS, sources[k]) != LUA_TNIL;
    lua_pop(L, 1);
    for (int m = 0; m < k && given[k]; m++)
      if (given[m])
        return mdb_error_argument(L, sources[m],
                                  "give %s= or %s=, not "
                                  "both",
                                  sources[m], sources[k]);
  }
  int has_clusters = given[0], by_cloud = given[3] || given[4];
  if (!has_clusters && nengines == 0)
    return mdb_error_argument(L, "engines",
                              "missing: give engine= or "
                              "engines= (names from mdb.engines)");
  const char *cloud = NULL;
  if (given[3])
    mdb_opt_string(L, S_OPTS, "cloud", MDB_MAX_ID_LEN, &cloud);
  if (given[4]) {
    lua_getfield(L, S_OPTS, "all_clouds");
    if (!lua_toboolean(L, -1) || !lua_isboolean(L, -1))
      return mdb_error_argument(L, "all_clouds",
                                "expected true (every "
                                "cloud the credentials can see)");
    lua_pop(L, 1);
  }
  /* Fixed slots (see the top of the file); the state closes the engine
  ** whatever way this function is left. */
  luaL_checkstack(L, 40, "scanning");
  scan_state *st = lua_newuserdatauv(L, sizeof *st, 0);
  st->fe = NULL;
  st->rm_endpoint = NULL;
  luaL_setmetatable(L, MDB_SCAN_MT);
  lua_toclose(L, S_STATE);
  lua_newtable(L);                     /* S_ENTRIES */
  lua_newtable(L);                     /* S_ORDER */
  lua_getfield(L, S_OPTS, "progress"); /* S_PROGRESS */
  lua_getfield(L, S_OPTS, "each");     /* S_EACH */
  s.streaming = !lua_isnil(L, S_EACH);
  lua_newtable(L); /* S_LISTINGS */
  lua_newtable(L); /* S_QUEUE */
  lua_newtable(L); /* S_FOLDERS */
  lua_newtable(L); /* S_CLOUDS */
  lua_newtable(L); /* S_FP */
  if (by_cloud) {  /* checked before any request, kept in S_CLOUDS */
    st->rm_endpoint = mdb_opt_endpoint(L, S_OPTS, "resource_manager_endpoint",
                                       "YC_RESOURCE_MANAGER_ENDPOINT",
                                       DEFAULT_RM_ENDPOINT);
    lua_pushstring(L, st->rm_endpoint);
    free(st->rm_endpoint);
    st->rm_endpoint = NULL;
    s.rm_endpoint = lua_tostring(L, -1);
    lua_setfield(L, S_CLOUDS, "endpoint");
  } else { /* unused, but a wrong type is still a mistake to name */
    const char *unused;
    mdb_opt_string(L, S_OPTS, "resource_manager_endpoint", 0, &unused);
  }
  if (has_clusters) {
    lua_getfield(L, S_OPTS, "clusters");
    scan_cluster_list(L, engines, nengines); /* S_FP + 1 */
  } else if (!by_cloud) {
    scan_folders(L); /* S_FP + 1 */
  }
  s.folder_policies = s.with[PART_POLICIES] && !has_clusters;

  st->fe = s.fe = mdb_client_engine(c, concurrency, rate);
  if (s.fe == NULL)
    return luaL_error(L, "out of memory starting a scan");
  s.next_slot = 1;
  if (has_clusters) {
    lua_newtable(L);
    lua_rawseti(L, S_ORDER, 1);
    int pairs = S_FP + 1;
    lua_Integer npairs = (lua_Integer)lua_rawlen(L, pairs);
    for (lua_Integer i = 1; i <= npairs; i++) {
      lua_rawgeti(L, pairs, i);
      lua_rawgeti(L, -1, 1);
      const engine_info *e = lua_touserdata(L, -1);
      lua_rawgeti(L, -2, 2);
      lua_Integer idx = scan_new_entry(&s, 1, e, lua_tostring(L, -1), 0);
      lua_pop(L, 4);
      enqueue(&s, idx);
    }
    lua_settop(L, S_FP);
  } else if (cloud) {
    scan_add_cloud(&s, cloud);
  } else if (by_cloud) {
    list_target lt = {s.rm_endpoint, NULL, LIST_CLOUDS, "", NULL};
    fetch_job *j = fetch_job_new(s.fe, &lt, s.page_size, -1, NULL,
                                 scan_tag(RM_TAG));
    if (j == NULL || fetch_job_request(j) != 0)
      return luaL_error(L, "out of memory starting a scan");
    mdb_listing_new(L, LIST_CLOUDS, NULL, j);
    lua_rawseti(L, S_LISTINGS, RM_TAG);
  } else {
    int ids = S_FP + 1;
    lua_Integer n = (lua_Integer)lua_rawlen(L, ids);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, ids, i);
      scan_add_folder(&s, lua_tostring(L, -1), NULL, 0, i);
      lua_pop(L, 1);
    }
    lua_settop(L, S_FP);
  }

  for (;;) {
    int failed;
    fetch_job *j = fetch_engine_next(s.fe, NULL, &failed);
    if (j == NULL && failed == -1) {
      cancel_clear();
      mdb_error_fields f = {
          .kind = MDB_ERR_INTERRUPTED, .message = "interrupted", .code = -1};
      return mdb_error_raise(L, &f);
    }
    if (j == NULL)
      break;
    lua_Integer tg = scan_untag(fetch_job_ud(j));
    if (failed) {
      lua_rawgeti(L, S_LISTINGS, tg);
      mdb_push_fetch_error(L, c, j);
      if (tg <= RM_TAG)
        scan_fail_rm(&s, lua_gettop(L) - 1, tg);
      else
        fail_listing(&s, lua_gettop(L) - 1, j, tg);
      lua_pop(L, 1);
    } else if (tg <= RM_TAG) {
      scan_on_rm_page(&s, j, tg);
    } else {
      on_page(&s, j, tg);
    }
  }

  if (s.streaming) {
    lua_closeslot(L, S_STATE);
    return 0;
  }
  /* The results, in the order promised: folders by (ci, fi), then the
  ** engines of each. */
  int nrec = has_clusters ? 1 : (int)lua_rawlen(L, S_FOLDERS);
  folder_key *keys = lua_newuserdatauv(L, sizeof *keys * (size_t)(nrec + 1), 0);
  for (int r = 1; r <= nrec; r++) {
    keys[r - 1].rec = r;
    keys[r - 1].ci = keys[r - 1].fi = 0;
    if (!has_clusters && lua_rawgeti(L, S_FOLDERS, r) == LUA_TTABLE) {
      lua_getfield(L, -1, "ci");
      lua_getfield(L, -2, "fi");
      keys[r - 1].ci = lua_tointeger(L, -2);
      keys[r - 1].fi = lua_tointeger(L, -1);
      lua_pop(L, 2);
    }
    if (!has_clusters)
      lua_pop(L, 1);
  }
  qsort(keys, (size_t)nrec, sizeof *keys, by_key);
  int per = has_clusters ? 1 : s.nengines;
  lua_createtable(L, (int)lua_rawlen(L, S_ENTRIES), 0);
  lua_Integer out = 0;
  for (int q = 0; q < nrec * per; q++) {
    lua_rawgeti(L, S_ORDER,
                (lua_Integer)(keys[q / per].rec - 1) * per + q % per + 1);
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
