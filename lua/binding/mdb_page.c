/*
** From HTTP responses to Lua values: decoding a list page with the
** private lua-cjson instance and checking its shape, and turning a failed
** fetch into an mdb.error (with the google.rpc.Status body's code,
** message and request id when the server sent one).  Shared by the lazy
** iterators and the fan-out.
*/
#include "mdb_binding.h"

#include "http/cancel.h"
#include "text/json_peek.h"
#include "text/secret_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MDB_LAST_PAGE_KEY "mdb.last_page" /* registry: anchors the token */

int mdb_page_decode(lua_State *L, list_kind kind, int text, const char **tok,
                    size_t *toklen, char *err, size_t errlen)
{
  int top = lua_gettop(L);
  *tok = NULL;
  *toklen = 0;
  lua_getfield(L, LUA_REGISTRYINDEX, MDB_DECODE_KEY);
  lua_pushvalue(L, text);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    snprintf(err, errlen, "response is not valid JSON: %s",
             lua_tostring(L, -1));
    lua_settop(L, top);
    return -1;
  }
  /* lua-cjson decodes [] and {} alike: an empty array is not a page, an
  ** empty object (or an empty `field`) is; the raw text tells them apart */
  size_t rawlen;
  const char *raw = lua_tolstring(L, text, &rawlen);
  size_t lead = 0;
  while (lead < rawlen && (raw[lead] == ' ' || raw[lead] == '\t' ||
                           raw[lead] == '\n' || raw[lead] == '\r'))
    lead++;
  if (!lua_istable(L, -1) || lua_rawlen(L, -1) > 0 || lead == rawlen ||
      raw[lead] != '{') {
    snprintf(err, errlen, "response is not a JSON object");
    lua_settop(L, top);
    return -1;
  }
  int body = lua_gettop(L);
  const char *field = list_items_field(kind);
  int t = lua_getfield(L, body, field);
  if (t == LUA_TNIL || t == LUA_TLIGHTUSERDATA) {
    lua_pop(L, 1);
    lua_newtable(L); /* proto3 JSON omits an empty list */
  } else if (t != LUA_TTABLE ||
             (lua_rawlen(L, -1) == 0 &&
              ((lua_pushnil(L), lua_next(L, -2) != 0) ||
               json_peek_first_element(raw, rawlen, field, NULL, NULL) != 0))) {
    snprintf(err, errlen, "'%s' in the response is not an array", field);
    lua_settop(L, top);
    return -1;
  }
  int items = lua_gettop(L);
  t = lua_getfield(L, body, "nextPageToken");
  if (t == LUA_TSTRING) {
    *tok = lua_tolstring(L, -1, toklen);
    if (strlen(*tok) != *toklen) {
      snprintf(err, errlen, "nextPageToken contains a NUL byte");
      lua_settop(L, top);
      return -1;
    }
  } else if (t != LUA_TNIL && t != LUA_TLIGHTUSERDATA) {
    snprintf(err, errlen, "nextPageToken is not a string");
    lua_settop(L, top);
    return -1;
  }
  /* keep the token string alive after the body table is dropped */
  lua_setfield(L, LUA_REGISTRYINDEX, MDB_LAST_PAGE_KEY);
  lua_pushvalue(L, items);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  return 0;
}

int mdb_page_pass(lua_State *L, list_kind kind, const engine_info *engine,
                  id_guard *g, int items, lua_Integer count, lua_Integer *skip,
                  lua_Integer *bad, char *err, size_t errlen)
{
  int top = lua_gettop(L);
  mdb_norm_keys k;
  mdb_norm_keys_push(L, kind, engine, &k);
  id_guard_next_page(g);
  int in_prefix = 1;
  const char *e = NULL;
  *skip = 0;
  *bad = 0;
  for (lua_Integer i = 1; i <= count; i++) {
    if (lua_rawgeti(L, items, i) != LUA_TTABLE) {
      snprintf(err, errlen, "%s[%lld] in the response is not an object",
               list_items_field(kind), (long long)i);
      e = err;
    }
    int item = lua_gettop(L);
    if (e == NULL) {
      lua_pushvalue(L, k.id);
      size_t len = 0;
      const char *id = lua_rawget(L, item) == LUA_TSTRING
                           ? lua_tolstring(L, item + 1, &len)
                           : NULL;
      if (id && id_guard_add(g, id, len) != 0) {
        lua_settop(L, top);
        return -1;
      }
      /* no id to compare: never a repeat, and the prefix is over */
      in_prefix = in_prefix && id && id_guard_seen(g, id, len);
      if (in_prefix) {
        *skip = i; /* repeats are a prefix of the page */
        lua_settop(L, item - 1);
        continue;
      }
      if (k.active)
        e = mdb_norm_item(L, item, &k, item + 1, err, errlen);
    }
    lua_settop(L, item - 1);
    if (e != NULL) {
      if (e != err)
        snprintf(err, errlen, "%s", e);
      *bad = i;
      break;
    }
  }
  lua_settop(L, top);
  return 0;
}

/* What a google.rpc.Status error body says, copied out of Lua. */
typedef struct status_body {
  long code;            /* -1 when the body has none */
  char message[320];    /* "" when none */
  char request_id[128]; /* x-request-id, else details[].requestId */
} status_body;

static void copy_field(lua_State *L, int t, const char *k, char *out, size_t n)
{
  if (lua_getfield(L, t, k) == LUA_TSTRING)
    snprintf(out, n, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
}

/* The "message" field, scrubbed of `secret` (and of anything shaped like
** one) before it is cut to fit: a token cut in two matches nothing.  A
** message too long is cut before a character, never inside its UTF-8
** sequence, and ends in "..." (the text is not the whole message). */
static void copy_message(lua_State *L, int t, const char *secret, char *out,
                         size_t n)
{
  if (lua_getfield(L, t, "message") == LUA_TSTRING) {
    const char *secrets[] = {secret, NULL};
    char *clean = secret_scrub(lua_tostring(L, -1), secrets);
    const char *text = clean ? clean : "(message dropped: out of memory)";
    size_t len = strlen(text);
    if (len < n || n < 8) {
      snprintf(out, n, "%s", text);
    } else {
      size_t cut = n - 4; /* room for "..." and the NUL */
      while (cut > 0 && ((unsigned char)text[cut] & 0xc0) == 0x80)
        cut--;
      memcpy(out, text, cut);
      memcpy(out + cut, "...", 4);
    }
    free(clean);
  }
  lua_pop(L, 1);
}

static void read_status_body(lua_State *L, const http_response *r,
                             const char *secret, status_body *sb)
{
  int top = lua_gettop(L);
  sb->code = -1;
  sb->message[0] = '\0';
  snprintf(sb->request_id, sizeof sb->request_id, "%s", r->request_id);
  if (r->len == 0 || r->status == 0)
    return;
  lua_getfield(L, LUA_REGISTRYINDEX, MDB_DECODE_KEY);
  lua_pushlstring(L, r->body, r->len);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    int body = lua_gettop(L);
    int isint = 0;
    lua_Integer code = 0;
    if (lua_getfield(L, body, "code") == LUA_TNUMBER)
      code = lua_tointegerx(L, -1, &isint); /* cjson gives floats */
    if (isint && code >= 0 && code < 1000)
      sb->code = (long)code;
    lua_pop(L, 1);
    copy_message(L, body, secret, sb->message, sizeof sb->message);
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

void mdb_push_fetch_error(lua_State *L, const mdb_client *c, const fetch_job *j)
{
  const fetch_error *fe = fetch_job_error(j);
  const http_response *r = fetch_job_last_response(j);
  if (fe->kind == MDB_ERR_INTERRUPTED)
    cancel_clear(); /* consumed: this error is the interruption */
  status_body sb;
  read_status_body(L, r, cred_provider_secret(c->creds), &sb);
  const char *what = fe->message;
  if (fe->kind == MDB_ERR_HTTP && sb.message[0])
    what = sb.message;
  char text[800];
  snprintf(text, sizeof text, "%s%s%s%s", what,
           fe->kind == MDB_ERR_HTTP && !sb.message[0] && r->len > 0
               ? ", with a body that is not a google.rpc.Status"
               : "",
           fe->note[0] ? "; " : "", fe->note);
  mdb_error_fields f = {.kind = fe->kind,
                        .message = text,
                        .status = fe->status,
                        .code = sb.code,
                        .request_id = sb.request_id,
                        .url = fetch_job_url(j),
                        .attempts = fe->attempts,
                        .redact = cred_provider_secret(c->creds)};
  mdb_error_push(L, &f);
}

void mdb_push_page_error(lua_State *L, const char *url, const fetch_origin *o,
                         mdb_error_kind kind, const char *message)
{
  mdb_error_fields f = {.kind = kind,
                        .message = message,
                        .status = o ? o->status : 0,
                        .code = -1,
                        .request_id = o ? o->request_id : NULL,
                        .url = url,
                        .attempts = o ? o->attempts : 0};
  mdb_error_push(L, &f);
}

void mdb_push_url_error(lua_State *L, const char *url, mdb_error_kind kind,
                        const char *message)
{
  mdb_push_page_error(L, url, NULL, kind, message);
}

void mdb_push_job_error(lua_State *L, const fetch_job *j, mdb_error_kind kind,
                        const char *message)
{
  const char *url = fetch_job_taken_url(j);
  if (url != NULL)
    mdb_push_page_error(L, url, fetch_job_taken_origin(j), kind, message);
  else
    mdb_push_url_error(L, fetch_job_page_url(j), kind, message);
}
