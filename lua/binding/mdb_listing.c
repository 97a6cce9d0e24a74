/*
** One listing consumed page by page and item by item: the path the lazy
** iterator and the scan share.  A page is decoded, cut to the limit,
** accepted (the cycle guard) and the next one requested at once.  Then one
** pass over the page, while it is fresh in the cache, skips the repeats of
** the previous page (the repeat guard, listing/id_guard.h: the ids in C,
** nothing for the collector), collects the page's ids for the next page's
** guard and normalises every item with the keys pushed once
** (mdb_norm_item); the consumer then takes the items one at a time.  An
** item that fails the pass is remembered with its error and raised when
** the consumer reaches it, so the items before it are handed out and a
** resume starts at its page, as if it had failed then.
**
** A scan, which wants a cluster's backups only once all are in, may hold
** pages undecoded instead (mdb_listing_hold_page): accepted on the token
** read from the raw text, then decoded in order when taken, each decoded
** token checked against the one it was accepted with.  Sixteen running
** listings then cost their raw text, not sixteen clusters' backups as
** Lua values: the collector's cycles and Lua's string table stay as small
** as for one listing, which is where a scan's CPU went.
**
** A listing is a userdata (its __gc frees the guard, a scan's set of ids
** and the held pages) whose user values hold its Lua side:
**   1  the items table of the current page
**   2  the error of the item at `bad`
**   3  with `texts`, the raw text of each item of the page (or nil)
** so that a consumer keeps one value per listing and memory stays at one
** page and the ids of two (a scan's listing also keeps the ids its list
** took, until it ends).
*/
#include "mdb_binding.h"

#include "listing/list_url.h"
#include "text/json_peek.h"
#include "text/secret_text.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MDB_LISTING_MT "mdb.listing"

enum { LV_PAGE = 1, LV_ERROR = 2, LV_TEXTS = 3, LV_COUNT = 3 };

/* A page held undecoded (mdb_listing_hold_page) in C memory, which the
** collector neither counts nor walks: holding pages does not space its
** cycles out, so garbage strings do not pile up in Lua's string table.
** Its text is the response buffer itself, taken over from the job
** (fetch_job_take_page_body), not a copy, and given back once taken. */
struct held_page {
  struct held_page *next;
  char *text;          /* NUL-terminated; NULL for an empty body */
  size_t len, cap;     /* of text */
  const char *tok;     /* the token it was accepted with, in the same block */
  const char *url;     /* where it came from, for errors */
  fetch_origin origin; /* the response it came in, for errors */
  long pages;          /* the job's page count when it came */
  char strings[];      /* tok and url */
};

mdb_listing *mdb_listing_new(lua_State *L, list_kind kind,
                             const engine_info *engine, fetch_job *job)
{
  mdb_listing *ls = lua_newuserdatauv(L, sizeof *ls, LV_COUNT);
  memset(ls, 0, sizeof *ls);
  id_guard_init(&ls->guard);
  id_set_init(&ls->seen);
  ls->kind = kind;
  ls->engine = engine;
  ls->job = job;
  ls->pos = 1; /* nothing buffered */
  luaL_setmetatable(L, MDB_LISTING_MT);
  return ls;
}

void mdb_listing_drop_page(lua_State *L, int idx)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  if (ls == NULL) /* an iterator whose building failed */
    return;
  lua_pushnil(L);
  lua_setiuservalue(L, idx, LV_PAGE);
  lua_pushnil(L);
  lua_setiuservalue(L, idx, LV_ERROR);
  lua_pushnil(L);
  lua_setiuservalue(L, idx, LV_TEXTS);
  ls->count = 0;
  ls->pos = 1;
  ls->bad = 0;
  ls->page_held = 0;
}

/* Where a page being taken came from: a held page's URL and response,
** or NULLs for the job's ready page. */
typedef struct page_src {
  const char *url;
  const fetch_origin *origin;
} page_src;

/* An mdb.error about the page being taken, once it is accepted: `src`'s
** when it was held, else the job's accepted page's. */
static void push_page_error(lua_State *L, const mdb_listing *ls,
                            const page_src *src, mdb_error_kind kind,
                            const char *message)
{
  if (src->url != NULL)
    mdb_push_page_error(L, src->url, src->origin, kind, message);
  else
    mdb_push_job_error(L, ls->job, kind, message);
}

/*
** The pass over the page at `items` (see the top of the file).  0, or -1
** when out of memory (going on could repeat an item).
*/
static int page_pass(lua_State *L, int idx, mdb_listing *ls, int items,
                     const page_src *src)
{
  char err[256];
  lua_Integer skip, bad;
  if (mdb_page_pass(L, ls->kind, ls->engine, &ls->guard, items, ls->count,
                    &skip, &bad, err, sizeof err) != 0)
    return -1;
  ls->pos = skip + 1;
  ls->duplicates += (long)skip;
  if (bad) {
    ls->bad = bad;
    push_page_error(L, ls, src, MDB_ERR_JSON, err);
    lua_setiuservalue(L, idx, LV_ERROR);
  }
  return 0;
}

/* `tok` fit to quote in `out` (n bytes; a message shows 100): a server
** may have put the bearer token into it, which is redacted before the
** cut, as a token cut in two would match nothing. */
static void quote_token(const char *tok, char *out, size_t n)
{
  char *clean = tok ? malloc(CREDENTIALS_SCRUB_SIZE(strlen(tok))) : NULL;
  if (clean)
    secret_redact_into(tok, NULL, clean);
  snprintf(out, n, "%s", clean ? clean : tok ? "(not shown)" : "");
  free(clean);
}

/* The error of fetch_job_accept's result `r` for the job's latest page,
** whose token is `tok`, already fit to quote (quote_token). */
static void push_accept_error(lua_State *L, fetch_job *j, int r,
                              const char *tok)
{
  char err[320];
  if (r == PAGE_CURSOR_STALE_RUN) {
    snprintf(err, sizeof err,
             "the server sent %d pages in a row with nothing new (no items, "
             "or the first item of an earlier page again), each with a new "
             "page token (the latest \"%.100s\"), after %ld pages: the "
             "listing would never end",
             PAGE_CURSOR_MAX_STALE_RUN, tok, fetch_job_stats(j)->pages);
    mdb_push_job_error(L, j, MDB_ERR_CYCLE, err);
    return;
  }
  if (r != PAGE_CURSOR_CYCLE) {
    mdb_push_job_error(L, j, MDB_ERR_MEMORY, "out of memory");
    return;
  }
  snprintf(err, sizeof err,
           "the server repeated page token \"%.100s\" "
           "after %ld pages: the listing would loop",
           tok, fetch_job_stats(j)->pages);
  mdb_push_job_error(L, j, MDB_ERR_CYCLE, err);
}

/* Each item's text as a string in the table on the stack top. */
typedef struct text_cut {
  lua_State *L;
  const char *s;
  lua_Integer n;
} text_cut;

static int cut_one(void *ud, size_t start, size_t end)
{
  text_cut *c = ud;
  luaL_checkstack(c->L, 1, "page texts");
  lua_pushlstring(c->L, c->s + start, end - start);
  lua_rawseti(c->L, -2, ++c->n);
  return 0;
}

/* The raw text of each of the `n` items of the page whose body is the
** string at `text`, into LV_TEXTS; none when the text does not cut into
** exactly n elements. */
static void keep_texts(lua_State *L, int idx, list_kind kind, int text,
                       lua_Integer n)
{
  size_t len;
  text_cut c = {L, lua_tolstring(L, text, &len), 0};
  lua_createtable(L, n < INT_MAX ? (int)n : 0, 0);
  if (json_peek_array(c.s, len, list_items_field(kind), cut_one, &c) != 0 ||
      c.n != n) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  lua_setiuservalue(L, idx, LV_TEXTS);
}

/* The items of a page decoded and passed; `text` its body (a string on
** the stack).  A held page comes with the token it was accepted with and
** where it came from; else (NULLs) it is accepted now and the next page
** asked for.  0, or -1 with an mdb.error pushed. */
static int take_text(lua_State *L, int idx, int text, const char *held_tok,
                     const page_src *src)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  fetch_job *j = ls->job;
  char err[320];
  const char *tok;
  size_t toklen;
  if (mdb_page_decode(L, ls->kind, text, &tok, &toklen, err, sizeof err) != 0) {
    if (src->url != NULL)
      push_page_error(L, ls, src, MDB_ERR_JSON, err);
    else /* not accepted: the ready page */
      mdb_push_page_error(L, fetch_job_page_url(j), fetch_job_page_origin(j),
                          MDB_ERR_JSON, err);
    return -1;
  }
  int items = lua_gettop(L);
  lua_Integer count = (lua_Integer)lua_rawlen(L, items);
  int cut_short = 0;
  if (held_tok != NULL) {
    ls->held_pages++; /* where fetch_job_accept would count it */
    /* accepted on the token read from the raw text: the decoded one must
    ** be the same, or pages were asked for on a wrong token */
    if (tok == NULL || strlen(held_tok) != toklen ||
        memcmp(held_tok, tok, toklen) != 0) {
      lua_pop(L, 1);
      push_page_error(L, ls, src, MDB_ERR_JSON,
                      "nextPageToken decodes differently from its raw "
                      "text: the pages after this one cannot be trusted");
      return -1;
    }
  } else {
    long remaining = page_cursor_remaining(fetch_job_cursor(j));
    cut_short = count > remaining;
    if (cut_short)
      count = remaining;
    size_t len, first = 0, end = 0;
    const char *raw = lua_tolstring(L, text, &len);
    int shown = count > 0 &&
                json_peek_first_element(raw, len, list_items_field(ls->kind),
                                        &first, &end) == 1;
    int r = fetch_job_accept(j, (size_t)count, shown ? raw + first : NULL,
                             end - first, tok, toklen);
    if (r != PAGE_CURSOR_OK) {
      lua_pop(L, 1);
      char quoted[101];
      quote_token(tok, quoted, sizeof quoted);
      push_accept_error(L, j, r, quoted);
      return -1;
    }
  }
  ls->cut_short = cut_short;
  ls->pos = 1;
  ls->count = count;
  if (page_pass(L, idx, ls, items, src) != 0) {
    lua_pop(L, 1);
    push_page_error(L, ls, src, MDB_ERR_MEMORY, "out of memory");
    return -1;
  }
  if (ls->texts)
    keep_texts(L, idx, ls->kind, text, (lua_Integer)lua_rawlen(L, -1));
  lua_setiuservalue(L, idx, LV_PAGE);
  /* ask for the next page now, unless speculation already did */
  if (held_tok == NULL && fetch_job_request(j) != 0) {
    push_page_error(L, ls, src, MDB_ERR_MEMORY, "out of memory");
    return -1;
  }
  return 0;
}

void mdb_listing_stats(const mdb_listing *ls, fetch_stats *out)
{
  *out = *fetch_job_stats(ls->job);
  if (ls->held_failed) /* its pages end there; its traffic does not */
    out->pages = ls->held_pages;
}

int mdb_listing_held(const mdb_listing *ls)
{
  return ls->held != NULL;
}

void mdb_listing_free_held(mdb_listing *ls)
{
  while (ls->held) {
    struct held_page *h = ls->held;
    ls->held = h->next;
    free(h->text);
    free(h);
  }
  ls->held_last = NULL;
}

int mdb_listing_take_page(lua_State *L, int idx)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  int top = lua_gettop(L);
  /* The consumed page is garbage now: let the collector reclaim it while
  ** the next one is decoded, so only one page is live at a time. */
  mdb_listing_drop_page(L, idx);
  int r;
  struct held_page *h = ls->held;
  if (h != NULL) {
    /* pushed while still linked: a memory error raised here leaves it to
    ** be freed with the others */
    lua_pushlstring(L, h->text ? h->text : "", h->len);
    lua_pushstring(L, h->tok);
    lua_pushstring(L, h->url);
    fetch_origin origin = h->origin;
    ls->held = h->next;
    if (ls->held == NULL)
      ls->held_last = NULL;
    ls->page_held = 1;
    ls->held_pages = h->pages;
    if (ls->job)
      fetch_job_give_body(ls->job, h->text, h->cap);
    else
      free(h->text);
    free(h);
    page_src src = {lua_tostring(L, top + 3), &origin};
    r = take_text(L, idx, top + 1, lua_tostring(L, top + 2), &src);
    ls->held_failed = r != 0;
  } else {
    const http_response *p = fetch_job_page(ls->job);
    lua_pushlstring(L, p->body ? p->body : "", p->len);
    page_src src = {NULL, NULL};
    r = take_text(L, idx, top + 1, NULL, &src);
  }
  /* the error, if any, in place of what was pushed */
  if (r != 0)
    lua_copy(L, -1, top + 1);
  lua_settop(L, top + (r != 0));
  return r;
}

int mdb_listing_hold_page(lua_State *L, int idx)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  fetch_job *j = ls->job;
  const http_response *p = fetch_job_page(j);
  const char *tok;
  size_t toklen;
  if (page_cursor_remaining(fetch_job_cursor(j)) != LONG_MAX ||
      !json_peek_string(p->body, p->len, "nextPageToken", &tok, &toklen) ||
      toklen == 0 || memchr(tok, '\0', toklen) != NULL)
    return 0;
  const char *url = fetch_job_page_url(j);
  size_t urllen = strlen(url);
  struct held_page *h = malloc(sizeof *h + toklen + 1 + urllen + 1);
  if (h == NULL) /* then take it now */
    return 0;
  h->next = NULL;
  char *t = h->strings;
  memcpy(t, tok, toklen);
  t[toklen] = '\0';
  h->tok = t;
  memcpy(t + toklen + 1, url, urllen + 1);
  h->url = t + toklen + 1;
  h->origin = *fetch_job_page_origin(j);
  h->pages = fetch_job_stats(j)->pages;
  /* The cursor's guard against endless runs of pages that bring nothing
  ** new needs a page's first item, before it is decoded: the raw text
  ** shows it, or the page counts as empty (as one whose items are absent,
  ** as proto3 sends an empty list, is).  With no limit nothing else
  ** counts a held page's items.  A page with items that the raw text
  ** cannot show (a repeated or escaped top-level key) counts as empty:
  ** only a hundred of those in a row would end a listing, loudly. */
  size_t first = 0, end = 0;
  size_t some = json_peek_first_element(p->body, p->len,
                                        list_items_field(ls->kind), &first,
                                        &end) == 1;
  /* the token is copied out of the text: the job may let go of it; the
  ** first item is read before the text changes hands */
  h->text = fetch_job_take_page_body(j, &h->len, &h->cap);
  int r = fetch_job_accept(j, some, some ? h->text + first : NULL, end - first,
                           h->tok, toklen);
  if (r != PAGE_CURSOR_OK) {
    /* not held: the pages before it are taken, then this error; freed
    ** before it is pushed, which may raise */
    char shown[101];
    quote_token(h->tok, shown, sizeof shown);
    fetch_job_give_body(j, h->text, h->cap);
    free(h);
    push_accept_error(L, j, r, shown);
    return -1;
  }
  if (ls->held_last)
    ls->held_last->next = h;
  else
    ls->held = h;
  ls->held_last = h;
  if (fetch_job_request(j) != 0) {
    mdb_push_job_error(L, j, MDB_ERR_MEMORY, "out of memory");
    return -1;
  }
  return 1;
}

int mdb_listing_next_item(lua_State *L, int idx)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  if (ls->pos > ls->count)
    return 0;
  if (ls->pos == ls->bad) { /* not consumed: a resume starts here again */
    ls->held_failed = ls->page_held;
    lua_getiuservalue(L, idx, LV_ERROR);
    return -1;
  }
  lua_getiuservalue(L, idx, LV_PAGE);
  lua_rawgeti(L, -1, ls->pos);
  lua_remove(L, -2);
  ls->pos++;
  ls->items++;
  return 1;
}

void mdb_listing_push_text(lua_State *L, int idx)
{
  mdb_listing *ls = lua_touserdata(L, idx);
  if (lua_getiuservalue(L, idx, LV_TEXTS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushboolean(L, 0);
    return;
  }
  if (lua_rawgeti(L, -1, ls->pos - 1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushboolean(L, 0);
  }
  lua_remove(L, -2);
}

static int listing_gc(lua_State *L)
{
  mdb_listing *ls = luaL_checkudata(L, 1, MDB_LISTING_MT);
  id_guard_free(&ls->guard);
  id_set_free(&ls->seen);
  mdb_listing_free_held(ls);
  return 0;
}

void mdb_listing_register(lua_State *L)
{
  luaL_newmetatable(L, MDB_LISTING_MT);
  lua_pushcfunction(L, listing_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}
