/*
** mdb._sqlite: the few SQLite calls the history store (lua/mdb/history*.lua)
** needs, over Debian's libsqlite3.  Every value reaches SQL as a bound
** parameter of a prepared statement; integers stay 64-bit integers (sizes
** are int64), which LuaDBI 0.7 does not do (it binds every number as a
** double).  Opening never creates a file unless asked, can be read-only,
** and always sets a busy timeout, so two writers wait for each other
** instead of failing or corrupting anything.  A long statement or a busy
** wait stops on Ctrl-C or at the run's deadline through the module's
** cancellation flag.
**
**   db = _sqlite.open(path, mode, busy_ms)    mode "ro", "rw", "rwc",
**        "immutable" (read-only, no lock: a file in a read-only directory),
**        "peek" (below)
**        or "memory" (a new in-memory database; path unused)
**   db:exec(sql)                              statements without parameters
**   db:busy(ms)        how long to wait for another connection's lock
**   db:readonly()      whether the file was opened read-only
**   st = db:prepare(sql)
**   st:run(...)        -> last insert rowid, rows changed
**   st:one(...)        -> the first row's columns, or nothing
**   st:rows(...)       -> iterator over rows as arrays (NULL is nil)
**   db:memory_copy()                          an in-memory copy (backup API)
**   db:close()
**   st:state_batch(...), batch:keep_changed(open), st:insert_batch(batch,
**   consts)     a listing's objects recorded by a writer thread (below)
** Plus what storing an API object needs, _sqlite.digest(t) and
** _sqlite.api_json(t, added, int64, encode), and what restoring it needs,
** _sqlite.int64_fields(engine) and _sqlite.normalize(kind, engine, t), the
** same normalisation a listing applies.
*/
#include "mdb_binding.h"

#include "http/cancel.h"
#include "text/g14_text.h"
#include "text/json_peek.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DB_MT    "mdb.sqlite.db"
#define STMT_MT  "mdb.sqlite.stmt"
#define BATCH_MT "mdb.sqlite.batch"

#define MAX_PARAMS  64
#define MAX_BUSY_MS (3600L * 1000) /* every wait has a bound: an hour */

typedef struct sq_writer sq_writer;

typedef struct sq_db {
  sqlite3 *db;
  sq_writer *w; /* the writer thread, once insert_batch started it */
  long busy_ms; /* how long to wait for another connection's lock */
  struct sq_db *prev, *next; /* open connections (close_at_exit) */
} sq_db;

typedef struct sq_stmt {
  sqlite3_stmt *st;
  sq_db *owner; /* (its userdata is the statement's first user value) */
  int busy;     /* an iterator is walking it */
  int np;       /* parameters, as state_batch binds them; -1: it cannot */
  unsigned char kind[MAX_PARAMS], cidx[MAX_PARAMS];
} sq_stmt;

static void drain(lua_State *L, sq_db *d, int raise);
static void drain_dropping(sq_db *d);
static void writer_stop(sq_db *d);
static void stmt_plan(lua_State *L, sq_stmt *s);

/*
** Every open connection, so that an exit through os.exit, which never
** closes the Lua state, still closes those at rest: a connection that is
** its file's last user removes the FILE-wal and FILE-shm beside it only
** when it closes.  One with a writer thread or a transaction is left to
** the exit, as a killed process would be.  Lua runs no more after exit's
** handlers, so statements finalized here are never used again.
*/
static sq_db *open_dbs;

static void dbs_link(sq_db *d)
{
  d->prev = NULL;
  d->next = open_dbs;
  if (open_dbs)
    open_dbs->prev = d;
  open_dbs = d;
}

static void dbs_unlink(sq_db *d)
{
  if (d->prev)
    d->prev->next = d->next;
  else if (open_dbs == d)
    open_dbs = d->next;
  if (d->next)
    d->next->prev = d->prev;
  d->prev = d->next = NULL;
}

static void close_at_exit(void)
{
  for (sq_db *d = open_dbs, *next; d != NULL; d = next) {
    next = d->next;
    if (d->w != NULL || d->db == NULL || !sqlite3_get_autocommit(d->db))
      continue;
    sqlite3_stmt *st;
    while ((st = sqlite3_next_stmt(d->db, NULL)) != NULL)
      sqlite3_finalize(st);
    sqlite3_close(d->db);
    d->db = NULL;
  }
  open_dbs = NULL;
}

static int sq_fail(lua_State *L, sqlite3 *db, const char *what)
{
  return luaL_error(L, "sqlite: %s: %s", what,
                    db ? sqlite3_errmsg(db) : "out of memory");
}

static sq_db *check_db(lua_State *L, int idx)
{
  sq_db *d = luaL_checkudata(L, idx, DB_MT);
  if (d->db == NULL)
    luaL_error(L, "sqlite: the database is closed");
  drain(L, d, 1);
  return d;
}

static sq_stmt *check_stmt(lua_State *L, int idx)
{
  sq_stmt *s = luaL_checkudata(L, idx, STMT_MT);
  if (s->st == NULL)
    luaL_error(L, "sqlite: the statement is finalized");
  drain(L, s->owner, 1);
  return s;
}

/*
** Waiting for another connection's lock (another recorder): sqlite3's own
** busy timeout, in slices that Ctrl-C or the deadline cuts short (a
** recorder may wait minutes for another one's scan).  `count` is how
** often this wait already slept.
*/
static int sq_busy(void *arg, int count)
{
  static const int slices[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  enum { NSLICES = sizeof slices / sizeof slices[0] };
  const sq_db *d = arg;
  long slept = 0;
  for (int i = 0; i < count && i < NSLICES; i++)
    slept += slices[i];
  if (count > NSLICES) /* the last slice repeats */
    slept += (long)(count - NSLICES) * slices[NSLICES - 1];
  if (slept >= d->busy_ms || cancel_requested())
    return 0;
  long slice = slices[count < NSLICES ? count : NSLICES - 1];
  if (slice > d->busy_ms - slept)
    slice = d->busy_ms - slept;
  return cancel_sleep_ms(slice) == 0;
}

/* Checked every few thousand VM steps: Ctrl-C ends a long statement. */
static int sq_progress(void *unused)
{
  (void)unused;
  return cancel_requested() ? 1 : 0;
}

/*
** The URI of the file named `path`, pushed: every name means that file,
** never a URI of its own (Debian's libsqlite3 takes any name starting
** with "file:" for one, so "file:x.db?mode=memory" would record into
** memory and say so).  Every byte but unreserved ones and '/' is
** percent-encoded; an absolute path follows an empty authority, so that
** "//host/x" stays a path.
*/
static const char *push_file_uri(lua_State *L, const char *path,
                                 const char *query)
{
  static const char hex[] = "0123456789ABCDEF";
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, path[0] == '/' ? "file://" : "file:");
  for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
        (*c >= '0' && *c <= '9') || strchr("/-._~", *c) != NULL) {
      luaL_addchar(&b, (char)*c);
    } else {
      luaL_addchar(&b, '%');
      luaL_addchar(&b, hex[*c >> 4]);
      luaL_addchar(&b, hex[*c & 15]);
    }
  }
  if (query != NULL)
    luaL_addstring(&b, query);
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

static int sq_open(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  const char *mode = luaL_optstring(L, 2, "ro");
  lua_Integer busy = luaL_optinteger(L, 3, 10000);
  if (busy < 0 || busy > MAX_BUSY_MS)
    return luaL_argerror(L, 3, "busy_ms out of range");
  int flags, memory = 0, peek = 0;
  const char *query = NULL, *vfs = NULL;
  if (strcmp(mode, "ro") == 0) {
    flags = SQLITE_OPEN_READONLY;
  } else if (strcmp(mode, "rw") == 0) {
    flags = SQLITE_OPEN_READWRITE;
  } else if (strcmp(mode, "rwc") == 0) {
    flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  } else if (strcmp(mode, "immutable") == 0) {
    flags = SQLITE_OPEN_READONLY;
    query = "?immutable=1";
  } else if (strcmp(mode, "peek") == 0) {
    /* A look at a file with a write-ahead log that may not be ours:
    ** its log read into memory (exclusive locking mode, which needs no
    ** lock here: "unix-none"), so no -shm is made, and never
    ** checkpointed on close, so the file and its log stay as they are. */
    flags = SQLITE_OPEN_READONLY;
    vfs = "unix-none";
    peek = 1;
  } else if (strcmp(mode, "memory") == 0) {
    flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    memory = 1;
  } else {
    return luaL_argerror(L, 2,
                         "mode must be ro, rw, rwc, immutable, peek or memory");
  }
  const char *uri = memory ? ":memory:" : push_file_uri(L, path, query);
  sq_db *d = lua_newuserdatauv(L, sizeof *d, 0);
  d->db = NULL;
  d->w = NULL;
  d->busy_ms = (long)busy;
  d->prev = d->next = NULL;
  luaL_setmetatable(L, DB_MT);
  dbs_link(d);
  int rc = sqlite3_open_v2(uri, &d->db,
                           flags | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc == SQLITE_OK && peek) {
    rc = sqlite3_db_config(d->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_exec(d->db, "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL,
                        NULL);
  }
  if (rc != SQLITE_OK) {
    /* the name as given: the URI is ours, not the caller's */
    lua_pushfstring(L, "sqlite: cannot open %s: %s", path,
                    d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
    sqlite3_close_v2(d->db);
    d->db = NULL;
    return lua_error(L);
  }
  sqlite3_extended_result_codes(d->db, 1);
  sqlite3_busy_handler(d->db, sq_busy, d);
  sqlite3_progress_handler(d->db, 10000, sq_progress, NULL);
  return 1;
}

/*
** db:memory_copy(): a new connection to an in-memory database holding a
** copy of db's main database (the online backup API), so that an older
** schema can be migrated for reading without writing the file.
*/
static int sq_memory_copy(lua_State *L)
{
  sq_db *src = check_db(L, 1);
  sq_db *d = lua_newuserdatauv(L, sizeof *d, 0);
  d->db = NULL;
  d->w = NULL;
  d->busy_ms = 0; /* in memory: no other connection */
  d->prev = d->next = NULL;
  luaL_setmetatable(L, DB_MT);
  dbs_link(d);
  if (sqlite3_open_v2(":memory:", &d->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                          SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK)
    return sq_fail(L, d->db, "memory copy");
  sqlite3_extended_result_codes(d->db, 1);
  sqlite3_progress_handler(d->db, 10000, sq_progress, NULL);
  sqlite3_backup *b = sqlite3_backup_init(d->db, "main", src->db, "main");
  if (b == NULL)
    return sq_fail(L, d->db, "memory copy");
  int rc = sqlite3_backup_step(b, -1);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE)
    return luaL_error(L, "sqlite: memory copy: %s", sqlite3_errstr(rc));
  return 1;
}

static int sq_close(lua_State *L)
{
  sq_db *d = luaL_checkudata(L, 1, DB_MT);
  writer_stop(d);
  dbs_unlink(d);
  if (d->db) {
    /* _v2: statements still alive keep the connection until finalized */
    sqlite3_close_v2(d->db);
    d->db = NULL;
  }
  return 0;
}

static int sq_exec(lua_State *L)
{
  sq_db *d = luaL_checkudata(L, 1, DB_MT);
  const char *sql = luaL_checkstring(L, 2);
  /* A ROLLBACK undoes what queued rows wrote anyway: the error one met is
  ** dropped, never raised instead of rolling back (the caller is already
  ** failing for a reason of its own, and would leave the transaction open,
  ** a later COMMIT keeping the rows before the error). */
  if (d->db != NULL && strcasecmp(sql, "ROLLBACK") == 0)
    drain_dropping(d);
  check_db(L, 1);
  char *msg = NULL;
  int rc = sqlite3_exec(d->db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    lua_pushfstring(L, "sqlite: %s", msg ? msg : sqlite3_errmsg(d->db));
    sqlite3_free(msg);
    if ((rc & 0xff) == SQLITE_BUSY && cancel_requested())
      return mdb_cancelled_error(L);
    return lua_error(L);
  }
  return 0;
}

static int sq_prepare(lua_State *L)
{
  sq_db *d = check_db(L, 1);
  size_t len;
  const char *sql = luaL_checklstring(L, 2, &len);
  sq_stmt *s = lua_newuserdatauv(L, sizeof *s, 2);
  s->st = NULL;
  s->owner = d;
  s->busy = 0;
  s->np = -1;
  luaL_setmetatable(L, STMT_MT);
  lua_pushvalue(L, 1); /* the connection outlives its statements */
  lua_setiuservalue(L, -2, 1);
  if (sqlite3_prepare_v3(d->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT,
                         &s->st, NULL) != SQLITE_OK)
    return sq_fail(L, d->db, "prepare");
  if (s->st == NULL)
    return luaL_error(L, "sqlite: prepare: no statement in the text");
  stmt_plan(L, s);
  return 1;
}

/* db:busy(ms): how long to wait for another connection's lock from now on. */
static int sq_set_busy(lua_State *L)
{
  sq_db *d = check_db(L, 1);
  lua_Integer ms = luaL_checkinteger(L, 2);
  luaL_argcheck(L, ms >= 0 && ms <= MAX_BUSY_MS, 2, "busy_ms out of range");
  d->busy_ms = (long)ms;
  return 0;
}

/* db:readonly(): whether SQLite opened the file read-only, which it does
** without a word when "rw" meets a file it may not write. */
static int sq_readonly(lua_State *L)
{
  sq_db *d = check_db(L, 1);
  lua_pushboolean(L, sqlite3_db_readonly(d->db, "main") == 1);
  return 1;
}

static int sq_last_rowid(lua_State *L)
{
  sq_db *d = check_db(L, 1);
  lua_pushinteger(L, (lua_Integer)sqlite3_last_insert_rowid(d->db));
  return 1;
}

/* Bind arguments from..top to the statement's parameters 1..n. */
static void bind_all(lua_State *L, sq_stmt *s, int from)
{
  sqlite3_stmt *st = s->st;
  int n = lua_gettop(L) - from + 1;
  if (n != sqlite3_bind_parameter_count(st))
    luaL_error(L, "sqlite: %d values for %d parameters in: %s", n,
               sqlite3_bind_parameter_count(st), sqlite3_sql(st));
  sqlite3_reset(st);
  for (int i = 1; i <= n; i++) {
    int idx = from + i - 1, rc;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: rc = sqlite3_bind_null(st, i); break;
    case LUA_TBOOLEAN:
      rc = sqlite3_bind_int(st, i, lua_toboolean(L, idx));
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx))
        rc = sqlite3_bind_int64(st, i, (sqlite3_int64)lua_tointeger(L, idx));
      else
        rc = sqlite3_bind_double(st, i, lua_tonumber(L, idx));
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *v = lua_tolstring(L, idx, &len);
      rc = sqlite3_bind_text64(st, i, v, len, SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
    default:
      luaL_error(L, "sqlite: cannot bind a %s (value %d)",
                 luaL_typename(L, idx), i);
      return;
    }
    if (rc != SQLITE_OK)
      sq_fail(L, sqlite3_db_handle(st), "bind");
  }
}

static void push_column(lua_State *L, sqlite3_stmt *st, int i)
{
  switch (sqlite3_column_type(st, i)) {
  case SQLITE_INTEGER:
    lua_pushinteger(L, (lua_Integer)sqlite3_column_int64(st, i));
    break;
  case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(st, i)); break;
  case SQLITE_NULL: lua_pushnil(L); break;
  default: {
    const void *v = sqlite3_column_blob(st, i);
    lua_pushlstring(L, v ? v : "", (size_t)sqlite3_column_bytes(st, i));
  }
  }
}

/* Step once: 1 a row, 0 done; raises (after a reset) on an error. */
static int step(lua_State *L, sq_stmt *s)
{
  int rc = sqlite3_step(s->st);
  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  sqlite3 *db = sqlite3_db_handle(s->st);
  lua_pushfstring(L, "sqlite: %s", sqlite3_errmsg(db));
  sqlite3_reset(s->st);
  s->busy = 0;
  if (((rc & 0xff) == SQLITE_INTERRUPT || (rc & 0xff) == SQLITE_BUSY) &&
      cancel_requested())
    return mdb_cancelled_error(L);
  return lua_error(L);
}

static void not_busy(lua_State *L, sq_stmt *s)
{
  if (s->busy)
    luaL_error(L, "sqlite: statement in use by an unfinished rows() loop");
}

static int st_run(lua_State *L)
{
  sq_stmt *s = check_stmt(L, 1);
  not_busy(L, s);
  bind_all(L, s, 2);
  while (step(L, s))
    ;
  sqlite3 *db = sqlite3_db_handle(s->st);
  sqlite3_reset(s->st);
  lua_pushinteger(L, (lua_Integer)sqlite3_last_insert_rowid(db));
  lua_pushinteger(L, (lua_Integer)sqlite3_changes64(db));
  return 2;
}

static int st_one(lua_State *L)
{
  sq_stmt *s = check_stmt(L, 1);
  not_busy(L, s);
  bind_all(L, s, 2);
  if (!step(L, s)) {
    sqlite3_reset(s->st);
    return 0;
  }
  int n = sqlite3_column_count(s->st);
  luaL_checkstack(L, n, "too many columns");
  for (int i = 0; i < n; i++)
    push_column(L, s->st, i);
  sqlite3_reset(s->st);
  return n;
}

static int rows_next(lua_State *L)
{
  sq_stmt *s = check_stmt(L, lua_upvalueindex(1));
  if (!s->busy)
    return 0;
  if (!step(L, s)) {
    sqlite3_reset(s->st);
    s->busy = 0;
    return 0;
  }
  int n = sqlite3_column_count(s->st);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    push_column(L, s->st, i);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int st_rows(lua_State *L)
{
  sq_stmt *s = check_stmt(L, 1);
  not_busy(L, s);
  bind_all(L, s, 2);
  s->busy = 1;
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, rows_next, 1);
  return 1;
}

/* Ends an unfinished rows() loop (a for loop's close value). */
static int st_reset(lua_State *L)
{
  sq_stmt *s = luaL_checkudata(L, 1, STMT_MT);
  if (s->st)
    drain(L, s->owner, 0);
  if (s->st)
    sqlite3_reset(s->st);
  s->busy = 0;
  return 0;
}

static int st_gc(lua_State *L)
{
  sq_stmt *s = luaL_checkudata(L, 1, STMT_MT);
  if (s->st) {
    drain(L, s->owner, 0); /* a queued batch may still use it */
    sqlite3_finalize(s->st);
    s->st = NULL;
  }
  return 0;
}

static int sq_int64_fields(lua_State *L)
{
  const engine_info *e = engines_find(luaL_checkstring(L, 1));
  if (e == NULL)
    return luaL_argerror(L, 1, "unknown engine");
  lua_newtable(L);
  int i = 0;
  for (const char *const *f = e->int64_fields; *f; f++) {
    lua_pushstring(L, *f);
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

/*
** digest(t): a 64-bit digest of a decoded API object that does not depend
** on the order pairs() visits its keys (that order differs from process
** to process), so "is this backup unchanged since the last scan?" is one
** integer comparison instead of decoding the stored JSON.  Per pair, FNV-1a
** of key and value; pairs combined by a sum (order-free), nested tables
** digested the same way.  Numbers as "%lld" or "%.14g" (what lua-cjson
** stores), JSON null as null.
*/
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ c[i]) * FNV_PRIME;
  return h;
}

/* "%lld" of v into buf (at least 21 bytes), without printf's cost. */
static size_t int_text(char *buf, long long v)
{
  char tmp[24];
  size_t n = 0, len = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                               : (unsigned long long)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    buf[len++] = '-';
  while (n)
    buf[len++] = tmp[--n];
  return len;
}

/* FNV-1a of a value's type, the prefix of every value's digest. */
static uint64_t type_prefix(int t)
{
  return fnv(FNV_OFFSET, &t, sizeof t);
}

/* The digests of the strings met in one walk, by address, each also in
** its form as a key: the same few keys and values ("id", "status", the
** folder) recur in every object of a listing, and hashing them byte by
** byte again was most of the digest's cost.  An address stands for its
** text only while the string lives, so a memo lasts one call, over tables
** that call does not change. */
#define MEMO_SLOTS 256
typedef struct digest_memo {
  const char *s[MEMO_SLOTS];
  uint64_t h[MEMO_SLOTS], key[MEMO_SLOTS];
} digest_memo;

static uint64_t digest_value(lua_State *L, int idx, int depth,
                             digest_memo *memo);

/* The memo's slot of the string at idx, filled with its digest (h) and
** its contribution as a pair's key (key) when it held another string. */
static int memo_slot(lua_State *L, int idx, digest_memo *memo)
{
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  uintptr_t a = (uintptr_t)s;
  int slot = (int)(((a >> 4) ^ (a >> 12)) & (MEMO_SLOTS - 1));
  if (memo->s[slot] != s) {
    memo->s[slot] = s;
    memo->h[slot] = fnv(type_prefix(LUA_TSTRING), s, n);
    memo->key[slot] = fnv(FNV_OFFSET, &memo->h[slot], sizeof memo->h[slot]);
  }
  return slot;
}

static uint64_t digest_table(lua_State *L, int idx, int depth,
                             digest_memo *memo)
{
  if (depth > 50)
    luaL_error(L, "digest: tables nested too deep");
  luaL_checkstack(L, 4, "digest");
  idx = lua_absindex(L, idx);
  uint64_t sum = 0x9e3779b97f4a7c15ULL;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    uint64_t h;
    if (lua_type(L, -2) == LUA_TSTRING) {
      h = memo->key[memo_slot(L, -2, memo)];
    } else {
      uint64_t k = digest_value(L, -2, depth + 1, memo);
      h = fnv(FNV_OFFSET, &k, sizeof k);
    }
    uint64_t v = digest_value(L, -1, depth + 1, memo);
    sum += fnv(h, &v, sizeof v);
    lua_pop(L, 1);
  }
  return sum;
}

static uint64_t digest_value(lua_State *L, int idx, int depth,
                             digest_memo *memo)
{
  char buf[64];
  int t = lua_type(L, idx);
  uint64_t h = type_prefix(t);
  switch (t) {
  case LUA_TSTRING: return memo->h[memo_slot(L, idx, memo)];
  case LUA_TNUMBER: {
    size_t n;
    if (lua_isinteger(L, idx)) {
      n = int_text(buf, (long long)lua_tointeger(L, idx));
    } else {
      n = g14_text(buf, (double)lua_tonumber(L, idx));
    }
    return fnv(h, buf, n);
  }
  case LUA_TBOOLEAN: return fnv(h, lua_toboolean(L, idx) ? "t" : "f", 1);
  case LUA_TTABLE: {
    uint64_t d = digest_table(L, idx, depth, memo);
    return fnv(h, &d, sizeof d);
  }
  default: /* JSON null (lightuserdata) and anything else: the type alone */
    return h;
  }
}

static int sq_digest(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  digest_memo memo;
  memset(&memo, 0, sizeof memo);
  lua_pushinteger(L, (lua_Integer)digest_table(L, 1, 0, &memo));
  return 1;
}

/* A growable malloc'd byte buffer; a batch (its user values: the
** statement it was made for, then the listing, api_json's arguments and
** the texts while its rows wait for their values), or scratch space. */
typedef struct sq_batch {
  unsigned char *p;
  size_t len, cap;
  int pending;  /* rows whose values keep_changed has yet to write */
  int compared; /* keep_changed ran: it marks rows, so it runs once */
} sq_batch;

static void buf_need(lua_State *L, sq_batch *b, size_t more)
{
  if (b->len + more <= b->cap)
    return;
  size_t cap = b->cap ? b->cap * 2 : 4096;
  while (cap < b->len + more)
    cap *= 2;
  unsigned char *p = realloc(b->p, cap);
  if (p == NULL)
    luaL_error(L, "state_batch: out of memory");
  b->p = p;
  b->cap = cap;
}

static void buf_free(sq_batch *b)
{
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static void buf_add(lua_State *L, sq_batch *b, const void *s, size_t n)
{
  buf_need(L, b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

/*
** api_json(obj, added, int64, encode): obj as the API sent it, as JSON:
** the fields normalisation added (array `added`) left out, the int64
** fields (array `int64`) that hold integers written as strings, the rest
** as encode(obj) (lua-cjson) writes it.  The integers are appended here,
** not turned into Lua strings for encode: interning a string per field
** per backup costs more than the rest of the encoding.  obj is changed for
** the moment of encoding and put back, also when encode raises.
*/
#define API_MAX_FIELDS 32

/* The names in `added` then `int64`, pushed once for many objects. */
typedef struct api_names {
  int base, n_added, n; /* stack slots base .. base+n-1 */
} api_names;

static void api_names_push(lua_State *L, int added, int int64, api_names *nm)
{
  nm->base = lua_gettop(L) + 1;
  nm->n = nm->n_added = 0;
  for (int k = 0; k < 2; k++) {
    int list = k == 0 ? added : int64;
    luaL_checkstack(L, 1, "api_json"); /* luaL_len's moment on the stack */
    lua_Integer len = luaL_len(L, list);
    for (lua_Integer i = 1; i <= len; i++) {
      if (nm->n == API_MAX_FIELDS)
        luaL_error(L, "api_json: more than %d fields to set apart",
                   API_MAX_FIELDS);
      luaL_checkstack(L, 1, "api_json");
      if (lua_geti(L, list, i) != LUA_TSTRING)
        luaL_error(L, "api_json: field names must be strings");
      nm->n++;
    }
    if (k == 0)
      nm->n_added = nm->n;
  }
}

/* The api_json text of the table at slot obj, appended to out: the
** Lua-facing api_json and state_batch share it, and state_batch copies no
** Lua string of it (a second string per backup fed the collector). */
static void api_json_into(lua_State *L, int obj, const api_names *nm,
                          int encode, sq_batch *out)
{
  int top = lua_gettop(L), slot[API_MAX_FIELDS];
  luaL_checkstack(L, nm->n + 4, "api_json");
  for (int i = 0; i < nm->n; i++) {
    slot[i] = 0;
    lua_pushvalue(L, nm->base + i);
    if (lua_rawget(L, obj) == LUA_TNIL ||
        (i >= nm->n_added && !lua_isinteger(L, -1))) {
      lua_pop(L, 1);
      continue;
    }
    slot[i] = lua_gettop(L);
    lua_pushvalue(L, nm->base + i);
    lua_pushnil(L);
    lua_rawset(L, obj);
  }
  lua_pushvalue(L, encode);
  lua_pushvalue(L, obj);
  int rc = lua_pcall(L, 1, 1, 0);
  for (int i = 0; i < nm->n; i++) {
    if (slot[i] == 0)
      continue;
    lua_pushvalue(L, nm->base + i);
    lua_pushvalue(L, slot[i]);
    lua_rawset(L, obj);
  }
  if (rc != LUA_OK)
    lua_error(L);
  size_t len;
  const char *json = lua_tolstring(L, -1, &len);
  if (json == NULL || len < 2 || json[len - 1] != '}')
    luaL_error(L, "api_json: encode did not give a JSON object");
  buf_add(L, out, json, len - 1);
  int first = len == 2; /* "{}" */
  for (int i = nm->n_added; i < nm->n; i++) {
    if (slot[i] == 0)
      continue;
    char num[24];
    size_t nlen;
    const char *name = lua_tolstring(L, nm->base + i, &nlen);
    if (!first)
      buf_add(L, out, ",", 1);
    first = 0;
    buf_add(L, out, "\"", 1);
    buf_add(L, out, name, nlen);
    buf_add(L, out, "\":\"", 3);
    buf_add(L, out, num, int_text(num, (long long)lua_tointeger(L, slot[i])));
    buf_add(L, out, "\"", 1);
  }
  buf_add(L, out, "}", 1);
  lua_settop(L, top);
}

/* A row's values: V_LATER, all of them, which keep_changed writes only
** for the rows it keeps, as a u32 index into the listing. */
enum { V_NULL, V_INT, V_REAL, V_TEXT, V_LATER }; /* V_LATER: u32 index */

/* A @data value: V_TEXT, then the api_json text of the table at obj. */
static void put_api_json(lua_State *L, sq_batch *b, int obj,
                         const api_names *nm, int encode)
{
  unsigned char t = V_TEXT;
  uint32_t n32 = 0;
  buf_add(L, b, &t, 1);
  size_t at = b->len;
  buf_add(L, b, &n32, 4);
  api_json_into(L, obj, nm, encode, b);
  if (b->len - at - 4 > UINT32_MAX)
    luaL_error(L, "state_batch: an object too large");
  n32 = (uint32_t)(b->len - at - 4);
  memcpy(b->p + at, &n32, 4);
}

static int sq_api_json(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checkany(L, 4);
  lua_settop(L, 4);
  /* the text's buffer, freed by the collector if encode raises */
  sq_batch *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, BATCH_MT);
  api_names nm;
  api_names_push(L, 2, 3, &nm);
  api_json_into(L, 1, &nm, 4, b);
  lua_pushlstring(L, (const char *)b->p, b->len);
  buf_free(b);
  return 1;
}

/*
** Recording a listing's objects (a cluster's backups) without a Lua step
** per object, and with SQLite's work on a second thread: on a 1M-backup
** scan the per-object crossings and the inserts each cost about as much as
** the scan, and the scan leaves the second core idle.
**
**   b = st:state_batch(list, added, int64, encode [, later [, texts]])
**       walks the objects once: per object with a string `id`, its digest
**       (as digest()), its text and the values of st's parameters, copied
**       into C memory.  No SQLite call: it may run while the writer works.
**       The text is texts[i], the JSON the API sent for list[i] (a scan's
**       backup_texts), when that is a string with the object's id; else
**       the api_json text (lua-cjson): encoding cost more than the rest of
**       a first recording.  With `later` the values wait for
**       keep_changed, which writes them only for the objects that changed:
**       an unchanged re-scan then copies or encodes nothing.
**   closes = b:keep_changed(open, ...)
**       open: a statement of the same connection whose rows, for the
**       parameters `...`, are the listing's open states: id, rowid,
**       digest.  An object whose open state has its digest is dropped
**       from b, and so is a repeat of an id b already has (its first
**       state stays).  Returns the rowids of the open states to close:
**       those whose object changed or is no longer listed.
**   st:insert_batch(b, consts)
**       queues b's rows for the connection's writer thread, which binds
**       and steps st once per row; b is empty afterwards.
**
** st's parameters say what each is bound to: ":name" the object's field
** `name` (a table binds NULL), "@digest", "@data" (the api_json text), "@N"
** consts[N].  st should be an INSERT OR IGNORE: a new id the listing
** repeats keeps its first state.
**
** The writer is invisible otherwise: every other call on the connection or
** its statements first waits until the queue is empty (a bounded wait: the
** writer only steps statements, inside the caller's transaction), and
** raises the error a queued row met, if any (rows queued after it are
** dropped: the caller rolls the transaction back).  The connection is used
** by one thread at a time.
*/
enum { P_FIELD, P_DIGEST, P_DATA, P_CONST };

#define QUEUE_LIMIT (64u << 20) /* bytes of rows queued before waiting */

typedef struct job {
  struct job *next;
  sqlite3_stmt *st;
  int np;
  unsigned char kind[MAX_PARAMS];
  unsigned char *consts, *rows; /* malloc'd values */
  size_t rows_len;
  unsigned cancels; /* cancel_count() when it was queued */
} job;

struct sq_writer {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t work, idle;
  job *head, *tail;
  size_t queued;
  int running, stop;
  int rc;    /* the first error a row met */
  char *msg; /* its message */
};

static void job_free(job *j)
{
  free(j->consts);
  free(j->rows);
  free(j);
}

/* A value as written by put_value; returns the bytes after it. */
static const unsigned char *bind_value(sqlite3_stmt *st, int p,
                                       const unsigned char *v, int *rc)
{
  int64_t i;
  double d;
  uint32_t n;
  switch (*v++) {
  case V_INT:
    memcpy(&i, v, sizeof i);
    *rc = sqlite3_bind_int64(st, p, i);
    return v + sizeof i;
  case V_REAL:
    memcpy(&d, v, sizeof d);
    *rc = sqlite3_bind_double(st, p, d);
    return v + sizeof d;
  case V_TEXT:
    memcpy(&n, v, sizeof n);
    v += sizeof n;
    *rc = sqlite3_bind_text64(st, p, (const char *)v, n, SQLITE_STATIC,
                              SQLITE_UTF8);
    return v + n;
  default: *rc = sqlite3_bind_null(st, p); return v;
  }
}

/* Row layout: u8 keep, u32 length of the row, u32 id length, id, u64
** digest, then one value per parameter that is not a constant. */
#define ROW_HEAD (1 + 4 + 4)

static int run_job(sqlite3 *db, job *j, char **msg)
{
  sqlite3_stmt *st = j->st;
  const unsigned char *r = j->rows, *end = j->rows + j->rows_len;
  int rc = SQLITE_OK;
  while (r < end && rc == SQLITE_OK) {
    /* Ctrl-C since the rows were queued, even when the flag the progress
    ** handler reads is already cleared (the host's hook, or a transfer,
    ** took the interruption): the caller is abandoning the transaction,
    ** and would otherwise wait for rows it rolls back. */
    if (cancel_count() != j->cancels) {
      *msg = NULL;
      return SQLITE_INTERRUPT;
    }
    uint32_t len, idlen;
    memcpy(&len, r + 1, 4);
    memcpy(&idlen, r + 5, 4);
    const unsigned char *next = r + len;
    if (!r[0]) {
      r = next;
      continue;
    }
    const unsigned char *v = r + ROW_HEAD + idlen + 8, *c = j->consts;
    for (int p = 1; p <= j->np && rc == SQLITE_OK; p++) {
      if (j->kind[p - 1] == P_CONST)
        c = bind_value(st, p, c, &rc);
      else
        v = bind_value(st, p, v, &rc);
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(st);
      rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    r = next;
  }
  if (rc != SQLITE_OK) {
    const char *m = sqlite3_errmsg(db);
    *msg = malloc(strlen(m) + 1);
    if (*msg)
      strcpy(*msg, m);
  }
  return rc;
}

static void *writer_main(void *arg)
{
  sq_db *d = arg;
  sq_writer *w = d->w;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (w->head == NULL && !w->stop)
      pthread_cond_wait(&w->work, &w->mu);
    if (w->head == NULL)
      break;
    job *j = w->head;
    w->head = j->next;
    if (w->head == NULL)
      w->tail = NULL;
    w->running = 1;
    int failed = w->rc != SQLITE_OK;
    pthread_mutex_unlock(&w->mu);
    char *msg = NULL;
    int rc = failed ? SQLITE_OK : run_job(d->db, j, &msg);
    pthread_mutex_lock(&w->mu);
    w->queued -= j->rows_len;
    if (rc != SQLITE_OK && w->rc == SQLITE_OK) {
      w->rc = rc;
      w->msg = msg;
    } else {
      free(msg);
    }
    w->running = 0;
    job_free(j);
    pthread_cond_broadcast(&w->idle);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* Wait until the writer has nothing to do; then raise (or, in a
** finalizer, drop) the error a row met. */
static void drain(lua_State *L, sq_db *d, int raise)
{
  sq_writer *w = d->w;
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->mu);
  while (w->head != NULL || w->running)
    pthread_cond_wait(&w->idle, &w->mu);
  int rc = w->rc;
  char *msg = w->msg;
  if (raise) {
    w->rc = SQLITE_OK;
    w->msg = NULL;
  }
  pthread_mutex_unlock(&w->mu);
  if (rc == SQLITE_OK || !raise)
    return;
  if ((rc & 0xff) == SQLITE_INTERRUPT) { /* only cancel.h interrupts it */
    free(msg);
    mdb_cancelled_error(L);
  }
  lua_pushfstring(L, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
  free(msg);
  lua_error(L);
}

/* Wait until the writer has nothing to do, and forget the error a row
** met. */
static void drain_dropping(sq_db *d)
{
  sq_writer *w = d->w;
  drain(NULL, d, 0);
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->mu);
  free(w->msg);
  w->msg = NULL;
  w->rc = SQLITE_OK;
  pthread_mutex_unlock(&w->mu);
}

static void writer_stop(sq_db *d)
{
  sq_writer *w = d->w;
  if (w == NULL)
    return;
  drain(NULL, d, 0);
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  free(w->msg);
  pthread_cond_destroy(&w->work);
  pthread_cond_destroy(&w->idle);
  pthread_mutex_destroy(&w->mu);
  free(w);
  d->w = NULL;
}

/* Queue j (run it here when no thread can be had). */
static void writer_queue(lua_State *L, sq_db *d, job *j)
{
  if (d->w == NULL) {
    sq_writer *w = calloc(1, sizeof *w);
    if (w != NULL) {
      pthread_mutex_init(&w->mu, NULL);
      pthread_cond_init(&w->work, NULL);
      pthread_cond_init(&w->idle, NULL);
      d->w = w;
      /* signals stay the Lua thread's, as they were */
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &old);
      int rc = pthread_create(&w->thread, NULL, writer_main, d);
      pthread_sigmask(SIG_SETMASK, &old, NULL);
      if (rc != 0) {
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->idle);
        pthread_mutex_destroy(&w->mu);
        free(w);
        d->w = NULL;
      }
    }
    if (d->w == NULL) {
      char *msg = NULL;
      int rc = run_job(d->db, j, &msg);
      job_free(j);
      if (rc != SQLITE_OK) {
        lua_pushfstring(L, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        free(msg);
        lua_error(L);
      }
      return;
    }
  }
  sq_writer *w = d->w;
  pthread_mutex_lock(&w->mu);
  while (w->queued > QUEUE_LIMIT && w->rc == SQLITE_OK)
    pthread_cond_wait(&w->idle, &w->mu);
  w->queued += j->rows_len;
  if (w->tail)
    w->tail->next = j;
  else
    w->head = j;
  w->tail = j;
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->mu);
}

/* The parameters of a freshly prepared statement, for state_batch;
** s->np < 0 when they are not all of the kinds above. */
static void stmt_plan(lua_State *L, sq_stmt *s)
{
  int np = sqlite3_bind_parameter_count(s->st);
  s->np = -1;
  if (np == 0 || np > MAX_PARAMS)
    return;
  lua_createtable(L, np, 0); /* per parameter: a field's name */
  for (int i = 1; i <= np; i++) {
    const char *name = sqlite3_bind_parameter_name(s->st, i);
    unsigned char k;
    if (name == NULL) {
      lua_pop(L, 1);
      return;
    }
    if (name[0] == ':') {
      k = P_FIELD;
      lua_pushstring(L, name + 1);
      lua_rawseti(L, -2, i);
    } else if (strcmp(name, "@digest") == 0) {
      k = P_DIGEST;
    } else if (strcmp(name, "@data") == 0) {
      k = P_DATA;
    } else if (name[0] == '@' && name[1] >= '1' && name[1] <= '9' &&
               name[2] == 0) {
      k = P_CONST;
      s->cidx[i - 1] = (unsigned char)(name[1] - '0');
    } else {
      lua_pop(L, 1);
      return;
    }
    s->kind[i - 1] = k;
  }
  lua_setiuservalue(L, -2, 2);
  s->np = np;
}

/* A value as bind_value reads it. */
static void put_value(lua_State *L, sq_batch *b, int idx)
{
  unsigned char t = V_NULL;
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      int64_t i = (int64_t)lua_tointeger(L, idx);
      t = V_INT;
      buf_add(L, b, &t, 1);
      buf_add(L, b, &i, sizeof i);
    } else {
      double d = (double)lua_tonumber(L, idx);
      t = V_REAL;
      buf_add(L, b, &t, 1);
      buf_add(L, b, &d, sizeof d);
    }
    return;
  case LUA_TBOOLEAN: {
    int64_t i = lua_toboolean(L, idx);
    t = V_INT;
    buf_add(L, b, &t, 1);
    buf_add(L, b, &i, sizeof i);
    return;
  }
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    uint32_t n32 = (uint32_t)n;
    if (n > UINT32_MAX)
      luaL_error(L, "state_batch: a value of %zu bytes", n);
    t = V_TEXT;
    buf_add(L, b, &t, 1);
    buf_add(L, b, &n32, sizeof n32);
    buf_add(L, b, s, n);
    return;
  }
  default: buf_add(L, b, &t, 1);
  }
}

static int batch_gc(lua_State *L)
{
  buf_free(luaL_checkudata(L, 1, BATCH_MT));
  return 0;
}

/* @data from texts[i], the text the API sent for the object, when it is
** a string whose "id" member is the object's: 1 when written.  The id
** check keeps a list the caller reordered or filtered apart from its
** texts from storing one object's text as another's (then api_json). */
static int put_api_text(lua_State *L, sq_batch *b, int texts, lua_Integer i,
                        const char *id, size_t idlen)
{
  if (texts == 0)
    return 0;
  size_t len, vlen;
  const char *text, *v;
  if (lua_rawgeti(L, texts, i) != LUA_TSTRING ||
      (text = lua_tolstring(L, -1, &len),
       !json_peek_string(text, len, "id", &v, &vlen)) ||
      vlen != idlen || memcmp(v, id, idlen) != 0) {
    lua_pop(L, 1);
    return 0;
  }
  put_value(L, b, -1);
  lua_pop(L, 1);
  return 1;
}

/* The stack slots put_params reads: each field parameter's name (from
** `fields`, the first parameter's slot), api_json's names and encode, and
** the texts (0: none). */
typedef struct param_src {
  int fields, encode, texts;
  api_names nm;
} param_src;

/* The values of st's parameters (st_state_batch's layout) for the object
** at `obj`, list item `i`. */
static void put_params(lua_State *L, sq_batch *b, const sq_stmt *s,
                       const param_src *src, int obj, lua_Integer i,
                       uint64_t digest, const char *id, size_t idlen)
{
  for (int p = 1; p <= s->np; p++) {
    switch (s->kind[p - 1]) {
    case P_CONST: break;
    case P_DIGEST: {
      unsigned char t = V_INT;
      buf_add(L, b, &t, 1);
      buf_add(L, b, &digest, 8);
      break;
    }
    case P_DATA:
      if (!put_api_text(L, b, src->texts, i, id, idlen))
        put_api_json(L, b, obj, &src->nm, src->encode);
      break;
    default:
      lua_pushvalue(L, src->fields + p - 1);
      lua_rawget(L, obj);
      put_value(L, b, -1);
      lua_pop(L, 1);
    }
  }
}

/* Push each field parameter's name (nil for the others): the first at
** the returned slot. */
static int push_field_names(lua_State *L, const sq_stmt *s, int stmt)
{
  luaL_checkstack(L, s->np + 2, "state_batch");
  lua_getiuservalue(L, stmt, 2); /* field names */
  int names = lua_gettop(L);
  for (int p = 1; p <= s->np; p++)
    if (s->kind[p - 1] == P_FIELD)
      lua_geti(L, names, p);
    else
      lua_pushnil(L);
  return names + 1;
}

static int st_state_batch(lua_State *L)
{
  sq_stmt *s = luaL_checkudata(L, 1, STMT_MT);
  if (s->st == NULL)
    return luaL_error(L, "sqlite: the statement is finalized");
  if (s->np < 0)
    return luaL_error(L, "state_batch: the statement's parameters are not "
                         ":field, @digest, @data or @N");
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  luaL_checkany(L, 5);
  int later = lua_toboolean(L, 6);
  if (!lua_isnoneornil(L, 7))
    luaL_checktype(L, 7, LUA_TTABLE);
  lua_settop(L, 7);
  int texts = lua_istable(L, 7) ? 7 : 0;
  sq_batch *b = lua_newuserdatauv(L, sizeof *b, 6); /* 8 */
  int bidx = lua_gettop(L);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, BATCH_MT);
  /* the statement itself, not its address: a finalized one's is reused */
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, bidx, 1);
  if (later)
    for (int u = 2; u <= 6; u++) { /* list, added, int64, encode, texts */
      lua_pushvalue(L, u == 6 ? 7 : u);
      lua_setiuservalue(L, bidx, u);
    }
  lua_pushstring(L, "id");
  int id_key = lua_gettop(L);
  param_src src = {0, 5, texts, {0, 0, 0}};
  src.fields = push_field_names(L, s, 1);
  api_names_push(L, 3, 4, &src.nm);
  /* each object's slots: luaL_len's moment, then the object, its id and
  ** a field's value (digest_table and api_json_into ask for their own) */
  luaL_checkstack(L, 3, "state_batch");
  digest_memo memo;
  memset(&memo, 0, sizeof memo);
  int base = lua_gettop(L);
  lua_Integer n = luaL_len(L, 2);
  if (later && n > (lua_Integer)UINT32_MAX)
    return luaL_error(L, "state_batch: more than %u objects", UINT32_MAX);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_settop(L, base);
    if (lua_geti(L, 2, i) != LUA_TTABLE)
      continue;
    int obj = base + 1;
    lua_pushvalue(L, id_key);
    if (lua_rawget(L, obj) != LUA_TSTRING)
      continue;
    size_t idlen;
    const char *id = lua_tolstring(L, -1, &idlen);
    uint64_t digest = digest_table(L, obj, 0, &memo);
    size_t start = b->len;
    unsigned char keep = 1;
    uint32_t len = 0, idlen32 = (uint32_t)idlen;
    buf_add(L, b, &keep, 1);
    buf_add(L, b, &len, 4);
    buf_add(L, b, &idlen32, 4);
    buf_add(L, b, id, idlen);
    buf_add(L, b, &digest, 8);
    if (later) { /* most rows of a later recording are dropped unread */
      unsigned char t = V_LATER;
      uint32_t ix = (uint32_t)i;
      buf_add(L, b, &t, 1);
      buf_add(L, b, &ix, 4);
      b->pending++;
    } else {
      put_params(L, b, s, &src, obj, i, digest, id, idlen);
    }
    if (b->len - start > UINT32_MAX)
      return luaL_error(L, "state_batch: an object too large");
    len = (uint32_t)(b->len - start);
    memcpy(b->p + start + 1, &len, 4);
  }
  lua_settop(L, bidx);
  return 1;
}

/*
** A batch's rows by id, for keep_changed: open addressing over the rows'
** offsets (plus one; 0 is an empty slot), in a userdata so that an error
** while the open states are read leaks nothing.
*/
typedef struct id_slot {
  size_t at1;
  uint64_t hash;
  int met; /* an open state of its id was compared with it */
} id_slot;

static uint64_t id_hash(const unsigned char *id, size_t n)
{
  return fnv(FNV_OFFSET, id, n);
}

static const unsigned char *row_id(const unsigned char *r, uint32_t *idlen)
{
  memcpy(idlen, r + 5, 4);
  return r + ROW_HEAD;
}

/* The slot of id: the row that has it, or the empty slot it would take. */
static id_slot *id_find(id_slot *map, size_t mask, const unsigned char *rows,
                        const unsigned char *id, size_t n, uint64_t h)
{
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    id_slot *e = &map[i];
    if (e->at1 == 0)
      return e;
    uint32_t len;
    const unsigned char *other = row_id(rows + e->at1 - 1, &len);
    if (e->hash == h && len == n && memcmp(other, id, n) == 0)
      return e;
  }
}

/* Rewrite b with only the rows it keeps, each @data that waits written
** (lua-cjson may raise: the new rows are in a collectable buffer until
** they replace b's). */
static void batch_compact(lua_State *L, sq_batch *b, int bidx)
{
  sq_stmt *s;
  lua_getiuservalue(L, bidx, 1);
  s = luaL_checkudata(L, -1, STMT_MT);
  int top = lua_gettop(L);
  sq_batch *nb = lua_newuserdatauv(L, sizeof *nb, 0);
  memset(nb, 0, sizeof *nb);
  luaL_setmetatable(L, BATCH_MT);
  int list = 0;
  param_src src = {0, 0, 0, {0, 0, 0}};
  if (b->pending) {
    list = lua_gettop(L) + 1;
    for (int u = 2; u <= 6; u++)
      lua_getiuservalue(L, bidx, u);
    src.encode = list + 3;
    src.texts = lua_istable(L, list + 4) ? list + 4 : 0;
    api_names_push(L, list + 1, list + 2, &src.nm);
    src.fields = push_field_names(L, s, top);
  }
  luaL_checkstack(L, 3, "keep_changed");
  int base = lua_gettop(L);
  for (size_t at = 0; at < b->len;) {
    const unsigned char *r = b->p + at;
    uint32_t len, idlen;
    memcpy(&len, r + 1, 4);
    at += len;
    if (!r[0])
      continue;
    const unsigned char *id = row_id(r, &idlen);
    size_t start = nb->len, head = ROW_HEAD + idlen + 8;
    buf_add(L, nb, r, head);
    const unsigned char *v = r + head;
    if (v[0] != V_LATER) {
      buf_add(L, nb, v, len - head);
    } else { /* a later recording's row: its values from the object now */
      uint32_t ix;
      uint64_t digest;
      size_t n;
      memcpy(&ix, v + 1, 4);
      memcpy(&digest, id + idlen, 8);
      const char *oid = NULL;
      if (lua_geti(L, list, (lua_Integer)ix) == LUA_TTABLE &&
          lua_getfield(L, base + 1, "id") == LUA_TSTRING)
        oid = lua_tolstring(L, -1, &n);
      if (oid == NULL || n != idlen || memcmp(oid, id, idlen) != 0)
        luaL_error(L, "keep_changed: the listing changed since state_batch");
      put_params(L, nb, s, &src, base + 1, (lua_Integer)ix, digest,
                 (const char *)id, idlen);
      lua_settop(L, base);
    }
    if (nb->len - start > UINT32_MAX)
      luaL_error(L, "state_batch: an object too large");
    uint32_t nlen = (uint32_t)(nb->len - start);
    memcpy(nb->p + start + 1, &nlen, 4);
  }
  buf_free(b);
  *b = *nb;
  nb->p = NULL;
  nb->len = nb->cap = 0;
  b->pending = 0;
  b->compared = 1;
  for (int u = 2; u <= 6; u++) { /* the listing may go */
    lua_pushnil(L);
    lua_setiuservalue(L, bidx, u);
  }
  lua_settop(L, top - 1);
}

static int batch_keep_changed(lua_State *L)
{
  sq_batch *b = luaL_checkudata(L, 1, BATCH_MT);
  sq_stmt *open = check_stmt(L, 2);
  not_busy(L, open);
  if (sqlite3_column_count(open->st) != 3)
    return luaL_argerror(L, 2, "the open states: id, rowid, digest");
  if (b->compared)
    return luaL_error(L, "keep_changed: the batch was compared already");
  bind_all(L, open, 3);
  b->compared = 1;
  lua_settop(L, 2);
  size_t rows = 0;
  for (size_t at = 0; at < b->len; rows++) {
    uint32_t len;
    memcpy(&len, b->p + at + 1, 4);
    at += len;
  }
  size_t cap = 16;
  while (cap < 2 * rows)
    cap *= 2;
  id_slot *map = lua_newuserdatauv(L, cap * sizeof *map, 0); /* 3 */
  memset(map, 0, cap * sizeof *map);
  lua_newtable(L); /* 4: rowids to close */
  int dropped = 0;
  for (size_t at = 0; at < b->len;) {
    unsigned char *r = b->p + at;
    uint32_t len, idlen;
    memcpy(&len, r + 1, 4);
    const unsigned char *id = row_id(r, &idlen);
    uint64_t h = id_hash(id, idlen);
    id_slot *e = id_find(map, cap - 1, b->p, id, idlen, h);
    if (e->at1 != 0) { /* a repeat: the first state stays */
      r[0] = 0;
      dropped = 1;
    } else {
      e->at1 = at + 1;
      e->hash = h;
    }
    at += len;
  }
  lua_Integer closes = 0;
  while (step(L, open)) {
    const unsigned char *id = sqlite3_column_text(open->st, 0);
    size_t n = (size_t)sqlite3_column_bytes(open->st, 0);
    sqlite3_int64 rowid = sqlite3_column_int64(open->st, 1);
    uint64_t digest = (uint64_t)sqlite3_column_int64(open->st, 2);
    id_slot *e = id ? id_find(map, cap - 1, b->p, id, n, id_hash(id, n)) : NULL;
    if (e != NULL && e->at1 != 0 && !e->met) {
      unsigned char *r = b->p + e->at1 - 1;
      uint32_t idlen;
      uint64_t has;
      memcpy(&has, row_id(r, &idlen) + idlen, 8);
      e->met = 1; /* a second open state of the id is closed */
      if (has == digest) {
        r[0] = 0;
        dropped = 1;
        continue;
      }
    }
    lua_pushinteger(L, (lua_Integer)rowid);
    lua_rawseti(L, 4, ++closes);
  }
  sqlite3_reset(open->st);
  if (dropped || b->pending)
    batch_compact(L, b, 1);
  lua_settop(L, 4);
  return 1;
}

static int st_insert_batch(lua_State *L)
{
  sq_stmt *s = luaL_checkudata(L, 1, STMT_MT);
  if (s->st == NULL)
    return luaL_error(L, "sqlite: the statement is finalized");
  sq_batch *b = luaL_checkudata(L, 2, BATCH_MT);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_getiuservalue(L, 2, 1);
  if (!lua_rawequal(L, -1, 1))
    return luaL_argerror(L, 2, "a batch of another statement");
  if (b->pending)
    return luaL_argerror(L, 2, "keep_changed has not written its data yet");
  lua_settop(L, 3);
  int kept = 0;
  for (size_t at = 0; at < b->len && !kept;) {
    uint32_t len;
    memcpy(&len, b->p + at + 1, 4);
    kept = b->p[at];
    at += len;
  }
  if (!kept)
    return 0;
  /* the constants, in a collectable buffer until the job owns them */
  sq_batch *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, BATCH_MT);
  for (int p = 1; p <= s->np; p++) {
    if (s->kind[p - 1] != P_CONST)
      continue;
    lua_geti(L, 3, s->cidx[p - 1]);
    put_value(L, c, -1);
    lua_pop(L, 1);
  }
  job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return luaL_error(L, "insert_batch: out of memory");
  j->st = s->st;
  j->np = s->np;
  memcpy(j->kind, s->kind, (size_t)s->np);
  j->consts = c->p;
  c->p = NULL;
  j->rows = b->p;
  j->rows_len = b->len;
  j->cancels = cancel_count();
  b->p = NULL;
  b->len = b->cap = 0;
  writer_queue(L, s->owner, j);
  return 0;
}

/*
** normalize("backup"|"cluster"|"policy"|"operation", engine, t): t as a
** listing yields it.
*/
static int sq_normalize(lua_State *L)
{
  static const char *const kinds[] = {"backup", "cluster", "policy",
                                      "operation", NULL};
  static const mdb_normalizer normalizers[] = {
      mdb_normalize_backup, mdb_normalize_cluster, mdb_normalize_policy,
      mdb_normalize_operation};
  int kind = luaL_checkoption(L, 1, NULL, kinds);
  const engine_info *e = engines_find(luaL_checkstring(L, 2));
  if (e == NULL)
    return luaL_argerror(L, 2, "unknown engine");
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  char err[256];
  const char *msg = normalizers[kind](L, e, err, sizeof err);
  if (msg != NULL) {
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    return 2;
  }
  lua_settop(L, 3);
  return 1;
}

static const luaL_Reg db_methods[] = {{"exec", sq_exec},
                                      {"prepare", sq_prepare},
                                      {"last_rowid", sq_last_rowid},
                                      {"busy", sq_set_busy},
                                      {"readonly", sq_readonly},
                                      {"memory_copy", sq_memory_copy},
                                      {"close", sq_close},
                                      {NULL, NULL}};

static const luaL_Reg stmt_methods[] = {{"run", st_run},
                                        {"one", st_one},
                                        {"rows", st_rows},
                                        {"state_batch", st_state_batch},
                                        {"insert_batch", st_insert_batch},
                                        {"reset", st_reset},
                                        {"finalize", st_gc},
                                        {NULL, NULL}};

static const luaL_Reg batch_methods[] = {{"keep_changed", batch_keep_changed},
                                         {NULL, NULL}};

static const luaL_Reg functions[] = {
    {"open", sq_open},           {"int64_fields", sq_int64_fields},
    {"normalize", sq_normalize}, {"digest", sq_digest},
    {"api_json", sq_api_json},   {NULL, NULL}};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      lua_CFunction gc, lua_CFunction close)
{
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

/* Sets mdb._sqlite on the module table at the top of the stack. */
void mdb_sqlite_register(lua_State *L)
{
  static int at_exit;
  if (!at_exit)
    at_exit = atexit(close_at_exit) == 0;
  new_class(L, DB_MT, db_methods, sq_close, sq_close);
  new_class(L, STMT_MT, stmt_methods, st_gc, st_reset);
  new_class(L, BATCH_MT, batch_methods, batch_gc, batch_gc);
  luaL_newlib(L, functions);
  lua_pushstring(L, sqlite3_libversion());
  lua_setfield(L, -2, "version");
  lua_setfield(L, -2, "_sqlite");
}
