/*
** Internals shared by the files of the `mdb` Lua module.  Only lua/
** includes Lua headers; everything network- or format-related lives in
** core/ and is called from here.
*/
#ifndef MDB_BINDING_H
#define MDB_BINDING_H

#include "auth/cred_provider.h"
#include "engines.h"
#include "listing/fetch_engine.h"
#include "listing/id_guard.h"
#include "listing/id_set.h"
#include "mdb_errors.h"

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

#define MDB_CLIENT_MT  "mdb.client"
#define MDB_ITER_MT    "mdb.iterator"
#define MDB_ERROR_MT   "mdb.error"
#define MDB_DECODE_KEY "mdb.json_decode" /* registry: private cjson decode */

/* ---- error objects (mdb_error.c) ---- */

/* Fields of an error object; unset ones are left out of the table. */
typedef struct mdb_error_fields {
  mdb_error_kind kind;
  const char *message;
  long status;            /* HTTP status, 0 = none */
  long code;              /* google.rpc code, -1 = none */
  const char *request_id; /* NULL or "" = none */
  const char *url;
  const char *argument; /* the bad argument, for kind "argument" */
  int attempts;         /* 0 = not a request */
  const char *redact;   /* the current token, scrubbed from message and
                            ** request_id besides every secret-shaped
                            ** run (secret_scrub), or NULL */
} mdb_error_fields;

void mdb_error_push(lua_State *L, const mdb_error_fields *f);
int mdb_error_raise(lua_State *L, const mdb_error_fields *f);
/* Raise kind "argument" naming `arg`: "bad argument 'arg': <fmt...>",
** formatted in full (printf's conversions, no length limit). */
int mdb_error_argument(lua_State *L, const char *arg, const char *fmt, ...);
void mdb_error_register(lua_State *L);
int mdb_error_is(lua_State *L, int idx);

/* ---- option tables (mdb_options.c) ---- */

/* Raise an argument error unless the value at `idx` is a table. */
void mdb_opt_table(lua_State *L, int idx);
/* Raise naming the first key of the table at `idx` not in `allowed`
** (NULL-terminated). */
void mdb_opt_check_keys(lua_State *L, int idx, const char *const allowed[]);
/* The same for an array of option specs, `stride` bytes each, whose first
** member is the name (const char *); a NULL name ends it. */
void mdb_opt_check_names(lua_State *L, int idx, const void *specs,
                         size_t stride);
/* Each returns 1 and sets *out when the field is present, 0 when absent
** (nil); raises an argument error for a wrong type or out-of-range value. */
int mdb_opt_string(lua_State *L, int idx, const char *field, size_t maxlen,
                   const char **out);
int mdb_opt_integer(lua_State *L, int idx, const char *field, lua_Integer min,
                    lua_Integer max, lua_Integer *out);
int mdb_opt_number(lua_State *L, int idx, const char *field, double min,
                   double max, double *out);
/*
** An endpoint: option `field` of the table at `idx`, else the environment
** variable `env` when set and not empty, else `fallback`; returned
** normalised (http/endpoint_url.h), malloc'd.  A bad one raises an
** argument error naming `field`, and `env` when the value came from it.
*/
char *mdb_opt_endpoint(lua_State *L, int idx, const char *field,
                       const char *env, const char *fallback);

/* ---- client (mdb_client.c) ---- */

typedef struct mdb_client {
  char *endpoint;       /* normalised, no trailing slash */
  cred_provider *creds; /* holds the secret; freed (wiped) on __gc */
  CURLSH *share;        /* connections, DNS and TLS sessions reused */
  long page_size;
  int retries;
  long timeout_ms, connect_timeout_ms;
  size_t max_body;
  long backoff_base_ms, backoff_max_ms;
  int pacing; /* adaptive pacing on 429 (core/http/pacer.h) */
} mdb_client;

void mdb_client_register(lua_State *L);
int mdb_client_new(lua_State *L);
mdb_client *mdb_client_check(lua_State *L, int idx);

/* A fetch engine configured from the client's settings. */
fetch_engine *mdb_client_engine(const mdb_client *c, int concurrency,
                                double rate);

/* ---- pages and fetch errors (mdb_page.c) ---- */

/*
** Decode the page text (a string at stack index `text`) with the private
** cjson: on success pushes the
** items table, sets *tok and *toklen to the nextPageToken (NULL/0 for none;
** the string stays valid while the items table's page is referenced —
** it is anchored in the registry until the next decode) and returns 0;
** on failure pushes nothing, returns -1 and writes a message to `err`.
*/
int mdb_page_decode(lua_State *L, list_kind kind, int text, const char **tok,
                    size_t *toklen, char *err, size_t errlen);

/*
** One pass over the first `count` items of the page at `items`, while it
** is fresh in the cache: the repeat guard (`g` starts a new page; a
** listing that shifts while it is paged shows the repeats as the first
** items of the next page, listing/id_guard.h), the page's ids collected
** for the next page's guard, and every other item normalised for `kind`
** with the keys pushed once.  Returns 0 with *skip the number of repeats
** at the page's head and *bad 0, or the index of the first item that
** failed with its message in `err`; -1 when out of memory (the guard could
** not hold an id: going on could repeat an item).  The iterator, the scan
** and the page_decode fuzz target all go through it.
*/
int mdb_page_pass(lua_State *L, list_kind kind, const engine_info *engine,
                  id_guard *g, int items, lua_Integer count, lua_Integer *skip,
                  lua_Integer *bad, char *err, size_t errlen);

/* Push the mdb.error describing a failed job (error body decoded). */
void mdb_push_fetch_error(lua_State *L, const mdb_client *c,
                          const fetch_job *j);

/* Push an mdb.error of `kind` about the page fetched from `url`, with
** the status, request id and attempts of the response `o` it came in
** (NULL when none arrived). */
void mdb_push_page_error(lua_State *L, const char *url, const fetch_origin *o,
                         mdb_error_kind kind, const char *message);
/* Push an mdb.error of `kind` about a request to `url` (no response). */
void mdb_push_url_error(lua_State *L, const char *url, mdb_error_kind kind,
                        const char *message);
/* Push an mdb.error of `kind` about the page the job accepted last (its
** URL and response; before any, its latest request's URL alone). */
void mdb_push_job_error(lua_State *L, const fetch_job *j, mdb_error_kind kind,
                        const char *message);

/* ---- one listing consumed item by item (mdb_listing.c) ---- */

/*
** The page consumer the iterator and the scan share.  A listing is a
** userdata (its Lua side in its user values) over a fetch job owned by a
** fetch engine; `job` is cleared by whoever frees the job.
*/
typedef struct mdb_listing {
  list_kind kind;
  const engine_info *engine;
  fetch_job *job;
  lua_Integer pos, count; /* next index and size of the current page */
  long items;             /* handed out so far */
  long duplicates;        /* skipped: id already handed out */
  int cut_short;          /* the page held more than the limit wanted */
  lua_Integer bad;        /* the page's item that failed, 0 = none */
  id_guard guard;         /* ids of this page and the previous one */
  id_set seen; /* a scan's: every id its list took (mdb_scan.c take_pages) */
  struct held_page *held, *held_last; /* pages held undecoded, in order */
  int page_held;                      /* the current page was held */
  long held_pages; /* the pages before it and it, when taken */
  int held_failed; /* the listing failed at that page */
  int texts;       /* keep each item's raw text (mdb_listing_push_text) */
} mdb_listing;

/* Push a new listing of `job`. */
mdb_listing *mdb_listing_new(lua_State *L, list_kind kind,
                             const engine_info *engine, fetch_job *job);
/*
** Take the job's ready page (fetch_job_page non-NULL) for the listing at
** `idx`: decode it, cut it to the limit, accept it and request the next
** page.  0, or -1 with an mdb.error pushed (the job's URL in it).
*/
int mdb_listing_take_page(lua_State *L, int idx);
/*
** Hold the job's ready page undecoded when its nextPageToken can be read
** from the raw text (json_peek.h) and no limit needs its item count: the
** page is accepted on that token and the next one requested, and
** mdb_listing_take_page takes the held pages first, in order, checking
** each decoded token against the one it was accepted with.  1 held; 0
** not (take it now); -1 with an mdb.error pushed (the pages held before
** it are still to be taken).
*/
int mdb_listing_hold_page(lua_State *L, int idx);
/*
** The stats of the listing's job into `out`.  A listing that failed at a
** held page counts the pages up to that one, as taking it at once would
** have (the iterator's count), but all of its traffic: the requests and
** bytes of the pages fetched after it on its raw token were made.
*/
void mdb_listing_stats(const mdb_listing *ls, fetch_stats *out);
/* 1 while pages are held. */
int mdb_listing_held(const mdb_listing *ls);
/* Let go of the held pages (a listing that ends early). */
void mdb_listing_free_held(mdb_listing *ls);
/*
** Push the next item of the current page, repeats skipped, normalised:
** returns 1; 0 when the page is used up (nothing pushed); -1 with an
** mdb.error pushed (the item is not consumed).
*/
int mdb_listing_next_item(lua_State *L, int idx);
/*
** With `texts` set before its first page: push the JSON text the server
** sent for the item mdb_listing_next_item pushed last, a string; false
** when the page's raw text could not be cut into as many items as
** lua-cjson decoded (then nothing of that page has a text).
*/
void mdb_listing_push_text(lua_State *L, int idx);
/* Let go of the current page (counters kept). */
void mdb_listing_drop_page(lua_State *L, int idx);
void mdb_listing_register(lua_State *L);

/* ---- iterators (mdb_iter.c) ---- */

void mdb_iter_register(lua_State *L);
int mdb_client_backups(lua_State *L);
int mdb_client_clusters(lua_State *L);
int mdb_client_retention_policies(lua_State *L);
int mdb_client_operations(lua_State *L);
const engine_info *mdb_check_engine(lua_State *L, int opts, const char *field);

/* ---- fan-out (mdb_scan.c) ---- */

int mdb_client_scan(lua_State *L);
void mdb_scan_register(lua_State *L);
/* mdb._sqlite, for the history store (mdb_sqlite.c) */
void mdb_sqlite_register(lua_State *L);
/* mdb._fs, what a path names before it is opened or replaced (mdb_fs.c) */
void mdb_fs_register(lua_State *L);

/* ---- the run's deadline (mdb_deadline.c) ---- */

int mdb_deadline(lua_State *L); /* mdb.deadline */
int mdb_backstop(lua_State *L); /* mdb.backstop */
/* 1 when the deadline cancelled the waits: `text` then says which
** deadline ("deadline of 20 s passed"), `seconds` what it was set to. */
int mdb_deadline_passed(char *text, size_t len, double *seconds);
/* Raise for a wait cancel.h ended outside a listing (SQLite's): the
** deadline's timeout error, or after Ctrl-C the host's "interrupted!". */
int mdb_cancelled_error(lua_State *L);
/* Seconds as an integer when whole: "20", not "20.0", in messages. */
void mdb_push_seconds(lua_State *L, double s);

/* ---- normalisation of API objects (mdb_normalize.c) ---- */

/*
** Normalise the item at the top of the stack in place: int64 strings of
** `engine` to integers, createdAt/startedAt/retainUntil to
** `created`/`started`/`retain_until`, and `engine`.  Returns NULL, or a message (in a static-free buffer `err`)
** naming the bad field.
*/
const char *mdb_normalize_backup(lua_State *L, const engine_info *engine,
                                 char *err, size_t errlen);
const char *mdb_normalize_cluster(lua_State *L, const engine_info *engine,
                                  char *err, size_t errlen);
/* A retention policy: policyId required, retainForDays to an integer,
** createdAt to `created`, and `engine`. */
const char *mdb_normalize_policy(lua_State *L, const engine_info *engine,
                                 char *err, size_t errlen);
/* An operation: id required, createdAt/modifiedAt to `created`/`modified`,
** and `engine`. */
const char *mdb_normalize_operation(lua_State *L, const engine_info *engine,
                                    char *err, size_t errlen);
/*
** The same, a page at a time: the keys of `kind`'s normalisation pushed
** once (stack indices in `k`; k->id is list_id_field's key, and nothing
** more is pushed for Resource Manager's kinds, whose items are kept as
** sent: k->active 0), then mdb_norm_item for each item (at `obj`).
*/
typedef struct mdb_norm_keys {
  int active;        /* the kind has a normalisation */
  int id;            /* the id key */
  int int64, nint64; /* int64 field keys */
  int times, ntimes; /* pairs: timestamp key, its twin's key */
  int error_code;    /* "error", "code" (operations), or 0 */
  int shards;        /* "sourceShardNames" (backups), or 0 */
  int engine;        /* "engine", then the engine's name */
} mdb_norm_keys;
void mdb_norm_keys_push(lua_State *L, list_kind kind, const engine_info *e,
                        mdb_norm_keys *k);
/* `id`: the stack index of obj's id when already fetched, else 0. */
const char *mdb_norm_item(lua_State *L, int obj, const mdb_norm_keys *k, int id,
                          char *err, size_t errlen);
/* The normaliser for the items of `kind`; NULL for Resource Manager's
** (kept as sent). */
typedef const char *(*mdb_normalizer)(lua_State *L, const engine_info *engine,
                                      char *err, size_t errlen);
mdb_normalizer mdb_normalizer_for(list_kind kind);

#endif /* MDB_BINDING_H */
