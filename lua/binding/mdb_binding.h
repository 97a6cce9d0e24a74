/*
** Internals shared by the files of the `mdb` Lua module.  Only lua/
** includes Lua headers; everything network- or format-related lives in
** core/ and is called from here.
*/
#ifndef MDB_BINDING_H
#define MDB_BINDING_H

#include "engines.h"
#include "mdb_errors.h"

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

#define MDB_CLIENT_MT "mdb.client"
#define MDB_ITER_MT   "mdb.iterator"
#define MDB_ERROR_MT  "mdb.error"
#define MDB_DECODE_KEY "mdb.json_decode"   /* registry: private cjson decode */

/* ---- error objects (mdb_error.c) ---- */

/* Fields of an error object; unset ones are left out of the table. */
typedef struct mdb_error_fields {
  mdb_error_kind kind;
  const char *message;
  long status;              /* HTTP status, 0 = none */
  long code;                /* google.rpc code, -1 = none */
  const char *request_id;   /* NULL or "" = none */
  const char *url;
  const char *argument;     /* the bad argument, for kind "argument" */
  int attempts;             /* 0 = not a request */
  const char *redact;       /* a secret to scrub from message, or NULL */
} mdb_error_fields;

void mdb_error_push(lua_State *L, const mdb_error_fields *f);
int mdb_error_raise(lua_State *L, const mdb_error_fields *f);
/* Raise kind "argument" naming `arg`: "bad argument 'arg': <fmt...>". */
int mdb_error_argument(lua_State *L, const char *arg, const char *fmt, ...);
void mdb_error_register(lua_State *L);
int mdb_error_is(lua_State *L, int idx);

/* ---- option tables (mdb_options.c) ---- */

/* Raise naming the first key of the table at `idx` not in `allowed`. */
void mdb_opt_check_keys(lua_State *L, int idx, const char *const allowed[]);
/* Each returns 1 and sets *out when the field is present, 0 when absent
** (nil); raises an argument error for a wrong type or out-of-range value. */
int mdb_opt_string(lua_State *L, int idx, const char *field,
                   size_t maxlen, const char **out);
int mdb_opt_integer(lua_State *L, int idx, const char *field,
                    lua_Integer min, lua_Integer max, lua_Integer *out);
int mdb_opt_number(lua_State *L, int idx, const char *field,
                   double min, double max, double *out);

/* ---- client (mdb_client.c) ---- */

typedef struct mdb_client {
  char *endpoint;           /* normalised, no trailing slash */
  char *token;              /* the secret; wiped on __gc */
  long page_size;
  int retries;
  long timeout_ms, connect_timeout_ms;
  size_t max_body;
  long backoff_base_ms, backoff_max_ms;
} mdb_client;

void mdb_client_register(lua_State *L);
int mdb_client_new(lua_State *L);
mdb_client *mdb_client_check(lua_State *L, int idx);

/* ---- iterators (mdb_iter.c) ---- */

void mdb_iter_register(lua_State *L);
int mdb_client_backups(lua_State *L);
int mdb_client_clusters(lua_State *L);

/* ---- normalisation of API objects (mdb_normalize.c) ---- */

/*
** Normalise the item at the top of the stack in place: int64 strings of
** `engine` to integers, createdAt/startedAt to `created`/`started`, and
** `engine`.  Returns NULL, or a message (in a static-free buffer `err`)
** naming the bad field.
*/
const char *mdb_normalize_backup(lua_State *L, const engine_info *engine,
                                 char *err, size_t errlen);
const char *mdb_normalize_cluster(lua_State *L, const engine_info *engine,
                                  char *err, size_t errlen);

#endif /* MDB_BINDING_H */
