/*
** mdb._sqlite: the few SQLite calls the history store (lua/mdb/history*.lua)
** needs, over Debian's libsqlite3.  Every value reaches SQL as a bound
** parameter of a prepared statement; integers stay 64-bit integers (sizes
** are int64), which LuaDBI 0.7 does not do (it binds every number as a
** double).  Opening never creates a file unless asked, can be read-only,
** and always sets a busy timeout, so two writers wait for each other
** instead of failing or corrupting anything.  A long statement stops on
** Ctrl-C through the module's cancellation flag.
**
**   db = _sqlite.open(path, mode, busy_ms)    mode "ro", "rw" or "rwc"
**   db:exec(sql)                              statements without parameters
**   st = db:prepare(sql)
**   st:run(...)        -> last insert rowid, rows changed
**   st:one(...)        -> the first row's columns, or nothing
**   st:rows(...)       -> iterator over rows as arrays (NULL is nil)
**   db:memory_copy()                          an in-memory copy (backup API)
**   db:close()
** Plus what storing an API object needs, _sqlite.digest(t) and
** _sqlite.api_json(t, added, int64, encode), and what restoring it needs,
** _sqlite.int64_fields(engine) and _sqlite.normalize(kind, engine, t), the
** same normalisation a listing applies.
*/
#include "mdb_binding.h"

#include "http/cancel.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_MT   "mdb.sqlite.db"
#define STMT_MT "mdb.sqlite.stmt"

typedef struct sq_db {
  sqlite3 *db;
} sq_db;

typedef struct sq_stmt {
  sqlite3_stmt *st;
  int busy; /* an iterator is walking it */
} sq_stmt;

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
  return d;
}

static sq_stmt *check_stmt(lua_State *L, int idx)
{
  sq_stmt *s = luaL_checkudata(L, idx, STMT_MT);
  if (s->st == NULL)
    luaL_error(L, "sqlite: the statement is finalized");
  return s;
}

/* Checked every few thousand VM steps: Ctrl-C ends a long statement. */
static int sq_progress(void *unused)
{
  (void)unused;
  return cancel_requested() ? 1 : 0;
}

static int sq_open(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  const char *mode = luaL_optstring(L, 2, "ro");
  lua_Integer busy = luaL_optinteger(L, 3, 10000);
  int flags;
  if (strcmp(mode, "ro") == 0)
    flags = SQLITE_OPEN_READONLY;
  else if (strcmp(mode, "rw") == 0)
    flags = SQLITE_OPEN_READWRITE;
  else if (strcmp(mode, "rwc") == 0)
    flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  else
    return luaL_argerror(L, 2, "mode must be ro, rw or rwc");
  sq_db *d = lua_newuserdatauv(L, sizeof *d, 0);
  d->db = NULL;
  luaL_setmetatable(L, DB_MT);
  int rc = sqlite3_open_v2(path, &d->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    lua_pushfstring(L, "sqlite: cannot open %s: %s", path,
                    d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
    sqlite3_close_v2(d->db);
    d->db = NULL;
    return lua_error(L);
  }
  sqlite3_extended_result_codes(d->db, 1);
  sqlite3_busy_timeout(d->db, busy < 0        ? 0
                              : busy > 600000 ? 600000
                                              : (int)busy);
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
  luaL_setmetatable(L, DB_MT);
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
  if (d->db) {
    /* _v2: statements still alive keep the connection until finalized */
    sqlite3_close_v2(d->db);
    d->db = NULL;
  }
  return 0;
}

static int sq_exec(lua_State *L)
{
  sq_db *d = check_db(L, 1);
  const char *sql = luaL_checkstring(L, 2);
  char *msg = NULL;
  if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    lua_pushfstring(L, "sqlite: %s", msg ? msg : sqlite3_errmsg(d->db));
    sqlite3_free(msg);
    return lua_error(L);
  }
  return 0;
}

static int sq_prepare(lua_State *L)
{
  sq_db *d = check_db(L, 1);
  size_t len;
  const char *sql = luaL_checklstring(L, 2, &len);
  sq_stmt *s = lua_newuserdatauv(L, sizeof *s, 1);
  s->st = NULL;
  s->busy = 0;
  luaL_setmetatable(L, STMT_MT);
  lua_pushvalue(L, 1); /* the connection outlives its statements */
  lua_setiuservalue(L, -2, 1);
  if (sqlite3_prepare_v3(d->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT,
                         &s->st, NULL) != SQLITE_OK)
    return sq_fail(L, d->db, "prepare");
  if (s->st == NULL)
    return luaL_error(L, "sqlite: prepare: no statement in the text");
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
  if (rc == SQLITE_INTERRUPT && cancel_requested())
    return luaL_error(L, "interrupted!");
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
    sqlite3_reset(s->st);
  s->busy = 0;
  return 0;
}

static int st_gc(lua_State *L)
{
  sq_stmt *s = luaL_checkudata(L, 1, STMT_MT);
  if (s->st) {
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

static uint64_t digest_value(lua_State *L, int idx, int depth);

static uint64_t digest_table(lua_State *L, int idx, int depth)
{
  if (depth > 50)
    luaL_error(L, "digest: tables nested too deep");
  luaL_checkstack(L, 4, "digest");
  idx = lua_absindex(L, idx);
  uint64_t sum = 0x9e3779b97f4a7c15ULL;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    uint64_t k = digest_value(L, -2, depth + 1);
    uint64_t v = digest_value(L, -1, depth + 1);
    uint64_t h = fnv(FNV_OFFSET, &k, sizeof k);
    sum += fnv(h, &v, sizeof v);
    lua_pop(L, 1);
  }
  return sum;
}

static uint64_t digest_value(lua_State *L, int idx, int depth)
{
  char buf[64];
  uint64_t h = FNV_OFFSET;
  int t = lua_type(L, idx);
  h = fnv(h, &t, sizeof t);
  switch (t) {
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    return fnv(h, s, n);
  }
  case LUA_TNUMBER: {
    size_t n;
    if (lua_isinteger(L, idx)) {
      n = int_text(buf, (long long)lua_tointeger(L, idx));
    } else {
      /* A whole number of fewer than 15 digits (times without a fraction)
      ** is what "%.14g" writes as an integer; -0.0 is "-0" there. */
      double d = (double)lua_tonumber(L, idx);
      if (d > -1e14 && d < 1e14 && d != 0 && d == (double)(long long)d)
        n = int_text(buf, (long long)d);
      else
        n = (size_t)snprintf(buf, sizeof buf, "%.14g", d);
    }
    return fnv(h, buf, n);
  }
  case LUA_TBOOLEAN: return fnv(h, lua_toboolean(L, idx) ? "t" : "f", 1);
  case LUA_TTABLE: {
    uint64_t d = digest_table(L, idx, depth);
    return fnv(h, &d, sizeof d);
  }
  default: /* JSON null (lightuserdata) and anything else: the type alone */
    return h;
  }
}

static int sq_digest(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushinteger(L, (lua_Integer)digest_table(L, 1, 0));
  return 1;
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
static int sq_api_json(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checkany(L, 4);
  lua_settop(L, 4);
  /* Each field taken out: three slots, its name, its value and whether
  ** it is an int64 to append. */
  int saved = 5;
  for (int list = 2; list <= 3; list++) {
    lua_Integer n = luaL_len(L, list);
    for (lua_Integer i = 1; i <= n; i++) {
      luaL_checkstack(L, 4, "api_json");
      if (lua_geti(L, list, i) != LUA_TSTRING)
        return luaL_error(L, "api_json: field names must be strings");
      lua_pushvalue(L, -1);
      if (lua_rawget(L, 1) == LUA_TNIL ||
          (list == 3 && !lua_isinteger(L, -1))) {
        lua_pop(L, 2);
        continue;
      }
      lua_pushboolean(L, list == 3);
      lua_pushvalue(L, -3);
      lua_pushnil(L);
      lua_rawset(L, 1);
    }
  }
  int top = lua_gettop(L);
  lua_pushvalue(L, 4);
  lua_pushvalue(L, 1);
  int rc = lua_pcall(L, 1, 1, 0);
  for (int i = saved; i < top; i += 3) {
    lua_pushvalue(L, i);
    lua_pushvalue(L, i + 1);
    lua_rawset(L, 1);
  }
  if (rc != LUA_OK)
    return lua_error(L);
  size_t len;
  const char *json = lua_tolstring(L, -1, &len);
  if (json == NULL || len < 2 || json[len - 1] != '}')
    return luaL_error(L, "api_json: encode did not give a JSON object");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, json, len - 1);
  int first = len == 2; /* "{}" */
  for (int i = saved; i < top; i += 3) {
    if (!lua_toboolean(L, i + 2))
      continue;
    char num[24];
    if (!first)
      luaL_addchar(&b, ',');
    first = 0;
    luaL_addchar(&b, '"');
    luaL_addstring(&b, lua_tostring(L, i));
    luaL_addstring(&b, "\":\"");
    luaL_addlstring(&b, num, int_text(num, (long long)lua_tointeger(L, i + 1)));
    luaL_addchar(&b, '"');
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return 1;
}

/*
** st:insert_states(list, open, consts, added, int64, encode): the recording of one
** listing's objects (backups of a cluster) in one call, instead of a Lua
** step, a digest call, an encode call and a bind call per object: a 1M
** backup scan spends more in those crossings than in SQLite.
**
** The statement's parameters say what each is bound to: ":name" the
** object's field `name` (a table value binds NULL), "@digest" digest(obj),
** "@data" api_json(obj, added, int64, encode), "@N" consts[N].  An object whose
** `id` is a key of `open` (id -> {id, rowid, digest}) is the same object
** when the digests agree (nothing inserted); either way open[id] becomes
** false, so that a repeated id is skipped and the states still in open
** are what the listing no longer has.  Objects without a string id are
** skipped; the statement should be an INSERT OR IGNORE, so that a new id
** repeated in the listing keeps its first state.
** Returns the rowids of the open states that changed (to close).
*/
typedef struct names {
  int n;
  const char *s[32];
  size_t len[32];
} names;

/* The strings of array `idx` (alive while the array is). */
static void names_of(lua_State *L, int idx, names *ns)
{
  lua_Integer n = luaL_len(L, idx);
  ns->n = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    if (ns->n == 32)
      luaL_error(L, "insert_states: more than 32 field names");
    lua_geti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "insert_states: field names must be strings");
    ns->s[ns->n] = lua_tolstring(L, -1, &ns->len[ns->n]);
    ns->n++;
    lua_pop(L, 1);
  }
}

static int names_has(const names *ns, const char *k, size_t n)
{
  for (int i = 0; i < ns->n; i++)
    if (ns->len[i] == n && memcmp(ns->s[i], k, n) == 0)
      return 1;
  return 0;
}

/* A growable byte buffer in a userdata at stack slot `slot`. */
typedef struct jbuf {
  int slot;
  char *p;
  size_t len, cap;
} jbuf;

static void jbuf_need(lua_State *L, jbuf *b, size_t more)
{
  if (b->len + more <= b->cap)
    return;
  size_t cap = b->cap * 2;
  while (cap < b->len + more)
    cap *= 2;
  char *p = lua_newuserdatauv(L, cap, 0);
  memcpy(p, b->p, b->len);
  lua_replace(L, b->slot);
  b->p = p;
  b->cap = cap;
}

static void jbuf_add(lua_State *L, jbuf *b, const char *s, size_t n)
{
  jbuf_need(L, b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

/* s as a JSON string. */
static void jbuf_string(lua_State *L, jbuf *b, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  jbuf_need(L, b, n * 6 + 2);
  char *o = b->p + b->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = (char)c;
    } else if (c < 0x20) {
      memcpy(o, "\\u00", 4);
      o[4] = hex[c >> 4];
      o[5] = hex[c & 15];
      o += 6;
    } else {
      *o++ = (char)c;
    }
  }
  *o++ = '"';
  b->len = (size_t)(o - b->p);
}

/*
** Digest (as digest()) and the api_json text of the object at `obj` into b,
** in one walk.  Returns 0 when the object is not flat (a table or a
** non-finite number as a value, a key not a string): the caller then
** encodes it with lua-cjson, which also says what is wrong with it.
*/
static int flat_json(lua_State *L, int obj, const names *added,
                     const names *int64, jbuf *b, uint64_t *digest)
{
  uint64_t sum = 0x9e3779b97f4a7c15ULL;
  int flat = 1;
  b->len = 0;
  jbuf_add(L, b, "{", 1);
  lua_pushnil(L);
  while (lua_next(L, obj)) {
    uint64_t k = digest_value(L, -2, 1);
    uint64_t v = digest_value(L, -1, 1);
    sum += fnv(fnv(FNV_OFFSET, &k, sizeof k), &v, sizeof v);
    if (!flat || lua_type(L, -2) != LUA_TSTRING) {
      flat = 0;
      lua_pop(L, 1);
      continue;
    }
    size_t kn;
    const char *key = lua_tolstring(L, -2, &kn);
    if (names_has(added, key, kn)) {
      lua_pop(L, 1);
      continue;
    }
    if (b->len > 1)
      jbuf_add(L, b, ",", 1);
    jbuf_string(L, b, key, kn);
    jbuf_add(L, b, ":", 1);
    char num[64];
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, -1, &n);
      jbuf_string(L, b, s, n);
      break;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, -1)) {
        int quoted = names_has(int64, key, kn);
        if (quoted)
          jbuf_add(L, b, "\"", 1);
        jbuf_add(L, b, num, int_text(num, (long long)lua_tointeger(L, -1)));
        if (quoted)
          jbuf_add(L, b, "\"", 1);
      } else {
        double d = (double)lua_tonumber(L, -1);
        if (d != d || d - d != 0) /* NaN, inf: as lua-cjson says */
          flat = 0;
        else
          jbuf_add(L, b, num, (size_t)snprintf(num, sizeof num, "%.14g", d));
      }
      break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, -1))
        jbuf_add(L, b, "true", 4);
      else
        jbuf_add(L, b, "false", 5);
      break;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, -1) == NULL) { /* cjson.null */
        jbuf_add(L, b, "null", 4);
        break;
      }
      flat = 0;
      break;
    default: flat = 0;
    }
    lua_pop(L, 1);
  }
  jbuf_add(L, b, "}", 1);
  *digest = sum;
  return flat;
}

enum { P_FIELD, P_DIGEST, P_DATA, P_CONST };

static int st_insert_states(lua_State *L)
{
  sq_stmt *s = check_stmt(L, 1);
  not_busy(L, s);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  luaL_checktype(L, 5, LUA_TTABLE);
  luaL_checktype(L, 6, LUA_TTABLE);
  luaL_checkany(L, 7);
  lua_settop(L, 7);
  sqlite3_stmt *st = s->st;
  names added, int64;
  names_of(L, 5, &added);
  names_of(L, 6, &int64);
  lua_newtable(L); /* 8: rowids to close */
  jbuf b = {9, lua_newuserdatauv(L, 512, 0), 0, 512};
  lua_pushstring(L, "id"); /* 10 */
  /* 11..: per parameter, its kind and (a field's) name */
  int np = sqlite3_bind_parameter_count(st);
  int kind[64], arg[64];
  if (np > 64)
    return luaL_error(L, "insert_states: too many parameters");
  luaL_checkstack(L, np + 8, "insert_states");
  for (int i = 1; i <= np; i++) {
    const char *name = sqlite3_bind_parameter_name(st, i);
    if (name == NULL)
      return luaL_error(L, "insert_states: parameter %d has no name", i);
    if (name[0] == ':') {
      kind[i - 1] = P_FIELD;
      lua_pushstring(L, name + 1);
      arg[i - 1] = lua_gettop(L);
    } else if (strcmp(name, "@digest") == 0) {
      kind[i - 1] = P_DIGEST;
    } else if (strcmp(name, "@data") == 0) {
      kind[i - 1] = P_DATA;
    } else if (name[0] == '@' && name[1] >= '1' && name[1] <= '9' &&
               name[2] == 0) {
      kind[i - 1] = P_CONST;
      lua_geti(L, 4, name[1] - '0');
      arg[i - 1] = lua_gettop(L);
    } else {
      return luaL_error(L, "insert_states: unknown parameter %s", name);
    }
  }
  int base = lua_gettop(L);
  lua_Integer n = luaL_len(L, 2), closes = 0;
  sqlite3_reset(st);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_geti(L, 2, i) != LUA_TTABLE) {
      lua_settop(L, base);
      continue;
    }
    int obj = base + 1;
    lua_pushvalue(L, 10);
    if (lua_rawget(L, obj) != LUA_TSTRING) {
      lua_settop(L, base);
      continue;
    }
    int id = base + 2;
    uint64_t digest;
    int flat = flat_json(L, obj, &added, &int64, &b, &digest);
    lua_pushvalue(L, id);
    int open = lua_rawget(L, 3);
    if (open == LUA_TBOOLEAN) { /* seen before in this listing */
      lua_settop(L, base);
      continue;
    }
    if (open == LUA_TTABLE) { /* an open state: {id, rowid, digest} */
      lua_geti(L, -1, 3);
      int same = lua_isinteger(L, -1) &&
                 (uint64_t)lua_tointeger(L, -1) == digest;
      lua_pop(L, 1);
      lua_pushvalue(L, id);
      lua_pushboolean(L, 0);
      lua_rawset(L, 3);
      if (same) {
        lua_settop(L, base);
        continue;
      }
      lua_geti(L, -1, 2);
      lua_rawseti(L, 8, ++closes);
    }
    lua_settop(L, id);
    const char *data;
    size_t data_len;
    if (flat) {
      data = b.p;
      data_len = b.len;
    } else { /* lua-cjson through api_json */
      lua_pushcfunction(L, sq_api_json);
      lua_pushvalue(L, obj);
      lua_pushvalue(L, 5);
      lua_pushvalue(L, 6);
      lua_pushvalue(L, 7);
      lua_call(L, 4, 1);
      data = lua_tolstring(L, -1, &data_len);
    }
    for (int p = 1; p <= np; p++) {
      int rc = SQLITE_OK;
      switch (kind[p - 1]) {
      case P_DIGEST:
        rc = sqlite3_bind_int64(st, p, (sqlite3_int64)digest);
        break;
      case P_DATA:
        rc = sqlite3_bind_text64(st, p, data, data_len, SQLITE_STATIC,
                                 SQLITE_UTF8);
        break;
      default: {
        int at = arg[p - 1];
        if (kind[p - 1] == P_FIELD) {
          lua_pushvalue(L, at);
          lua_rawget(L, obj);
          at = -1;
        } else {
          lua_pushvalue(L, at);
        }
        switch (lua_type(L, -1)) {
        case LUA_TNUMBER:
          if (lua_isinteger(L, -1))
            rc = sqlite3_bind_int64(st, p, (sqlite3_int64)lua_tointeger(L, -1));
          else
            rc = sqlite3_bind_double(st, p, lua_tonumber(L, -1));
          break;
        case LUA_TSTRING: {
          size_t len;
          const char *v = lua_tolstring(L, -1, &len);
          /* static: the object (or consts) holds the string until step */
          rc = sqlite3_bind_text64(st, p, v, len, SQLITE_STATIC, SQLITE_UTF8);
          break;
        }
        case LUA_TBOOLEAN:
          rc = sqlite3_bind_int(st, p, lua_toboolean(L, -1));
          break;
        default: rc = sqlite3_bind_null(st, p);
        }
        lua_pop(L, 1);
      }
      }
      if (rc != SQLITE_OK)
        return sq_fail(L, sqlite3_db_handle(st), "bind");
    }
    while (step(L, s))
      ;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    lua_settop(L, base);
  }
  lua_pushvalue(L, 8);
  return 1;
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
                                      {"memory_copy", sq_memory_copy},
                                      {"close", sq_close},
                                      {NULL, NULL}};

static const luaL_Reg stmt_methods[] = {
    {"run", st_run},
    {"one", st_one},
    {"rows", st_rows},
    {"insert_states", st_insert_states},
    {"reset", st_reset},
    {"finalize", st_gc},
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
  new_class(L, DB_MT, db_methods, sq_close, sq_close);
  new_class(L, STMT_MT, stmt_methods, st_gc, st_reset);
  luaL_newlib(L, functions);
  lua_pushstring(L, sqlite3_libversion());
  lua_setfield(L, -2, "version");
  lua_setfield(L, -2, "_sqlite");
}
