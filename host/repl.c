/*
** The interactive prompt.  C keeps to what needs C: reading lines
** (line_input.c), compiling chunks, running them under docall so Ctrl-C
** stops them, and writing the text that the Lua half returns.  What a
** value looks like, what Tab offers and what help() says live in
** lua/mdb/repl.lua, kept in the registry under REPL_MODULE_KEY.
**
** A chunk is tried as an expression first ("return " .. chunk), then as
** a statement; when either is merely unfinished (a syntax error at
** <eof>) another line is read with the second prompt, so
**   mdb.client {
**      page_size = 100 }
** works as well as `for ... do` blocks.
*/
#include "repl.h"

#include "line_input.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPL_MODULE     "mdb.repl"
#define REPL_MODULE_KEY "mdblua.repl" /* registry: the mdb.repl table */
#define REPL_HISTORY    ".mdblua_history"
#define REPL_CHUNKNAME  "=stdin"

/* What reading and compiling a chunk came to. */
typedef enum repl_read {
  REPL_READ_OK,        /* the function is on the top, its source below */
  REPL_READ_ERROR,     /* the message is on the top, the source below */
  REPL_READ_CANCELLED, /* Ctrl-C: nothing to run, the stack is empty */
  REPL_READ_EOF        /* end of input: the stack is empty */
} repl_read;

/* The prompt: _PROMPT / _PROMPT2 when they are strings, as in lua.c.  The
** globals are read raw so no metamethod runs outside a protected call. */
static const char *get_prompt(lua_State *L, int first)
{
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushstring(L, first ? "_PROMPT" : "_PROMPT2");
  lua_rawget(L, -2);
  const char *p = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                  : first                        ? "> "
                                                 : ">> ";
  lua_pop(L, 2); /* a string global stays anchored by _G */
  return p;
}

/* Read one line onto the stack; LINE_OK or why not. */
static line_status push_line(lua_State *L, int first)
{
  char *line = NULL;
  line_status st = line_input_read(get_prompt(L, first), &line);
  if (st == LINE_OK) {
    lua_pushstring(L, line);
    free(line);
  }
  return st;
}

/* A syntax error at <eof> means the chunk is merely unfinished. */
static int is_incomplete(lua_State *L, int status)
{
  if (status != LUA_ERRSYNTAX)
    return 0;
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  static const char mark[] = "<eof>";
  return len >= sizeof mark - 1 &&
         strcmp(msg + len - (sizeof mark - 1), mark) == 0;
}

/*
** Compile the source on the top as an expression, then as a statement,
** reading more lines while it is unfinished.  See repl_read for the
** stack it leaves.
*/
static repl_read read_chunk(lua_State *L)
{
  line_status st = push_line(L, 1);
  if (st != LINE_OK)
    return st == LINE_EOF ? REPL_READ_EOF : REPL_READ_CANCELLED;
  /* "=expr" as in Lua 5.3 and earlier */
  if (lua_tostring(L, -1)[0] == '=') {
    lua_pushfstring(L, "return %s", lua_tostring(L, -1) + 1);
    lua_remove(L, -2);
  }
  for (;;) {
    size_t len;
    const char *src = lua_tolstring(L, -1, &len);
    const char *expr = lua_pushfstring(L, "return %s", src);
    int estatus = luaL_loadbuffer(L, expr, strlen(expr), REPL_CHUNKNAME);
    if (estatus == LUA_OK) {
      lua_remove(L, -2); /* the "return" text */
      return REPL_READ_OK;
    }
    int eopen = is_incomplete(L, estatus);
    lua_pop(L, 2);
    int status = luaL_loadbuffer(L, src, len, REPL_CHUNKNAME);
    if (status == LUA_OK)
      return REPL_READ_OK;
    if (!eopen && !is_incomplete(L, status))
      return REPL_READ_ERROR;
    lua_pop(L, 1); /* unfinished: read on */
    st = push_line(L, 0);
    if (st == LINE_EOF) {
      lua_pushliteral(L, "unfinished chunk at end of input");
      return REPL_READ_ERROR;
    }
    if (st == LINE_INTERRUPTED) {
      lua_settop(L, 0);
      return REPL_READ_CANCELLED;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

static int is_mdb_error(lua_State *L, int idx)
{
  int is = 0;
  if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    is = lua_type(L, -1) == LUA_TSTRING &&
         strcmp(lua_tostring(L, -1), "mdb.error") == 0;
    lua_pop(L, 1);
  }
  return is;
}

/*
** Message handler for the prompt: an mdb.error and a Ctrl-C say what
** happened in one line; any other error gets a traceback as in lua.c,
** without the prompt's own C frames at its end.
*/
static int repl_msghandler(lua_State *L)
{
  if (is_mdb_error(L, 1)) {
    luaL_tolstring(L, 1, NULL);
    return 1;
  }
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, 1));
  }
  size_t len = strlen(msg);
  static const char stop[] = "interrupted!";
  if (len >= sizeof stop - 1 &&
      strcmp(msg + len - (sizeof stop - 1), stop) == 0) {
    lua_pushstring(L, msg);
    return 1;
  }
  luaL_traceback(L, L, msg, 1);
  size_t tlen;
  const char *tb = lua_tolstring(L, -1, &tlen);
  static const char tail[] = "\n\t[C]: in ?";
  size_t keep = tlen;
  while (keep >= sizeof tail - 1 &&
         memcmp(tb + keep - (sizeof tail - 1), tail, sizeof tail - 1) == 0)
    keep -= sizeof tail - 1;
  lua_pushlstring(L, tb, keep);
  return 1;
}

/* Push mdb.repl's function `name`; 0 (nothing pushed) when there is none. */
static int push_repl_function(lua_State *L, const char *name)
{
  /* Pop exactly what was pushed: under the registry's value lie the
  ** caller's values (results to print), whatever their type. */
  if (lua_getfield(L, LUA_REGISTRYINDEX, REPL_MODULE_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  return 1;
}

/* Without mdb.repl: the results' tostring, tab-separated, as lua.c. */
static void plain_results(lua_State *L, int first, int n)
{
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 0; i < n; i++) {
    if (i > 0)
      luaL_addchar(&b, '\t');
    luaL_tolstring(L, first + i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
}

/*
** Run by docall, so Ctrl-C stops it: call the chunk (argument 1) under
** repl_msghandler, then turn its results into text with mdb.repl's
** show(n, ...).  Returns true and the text to print (nil: nothing), or
** false and the error text.
*/
static int repl_eval(lua_State *L)
{
  lua_pushcfunction(L, repl_msghandler);
  lua_insert(L, 1);
  if (lua_pcall(L, 0, LUA_MULTRET, 1) != LUA_OK) {
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  int n = lua_gettop(L) - 1;
  if (n == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  if (push_repl_function(L, "show")) {
    lua_insert(L, 2);
    lua_pushinteger(L, n);
    lua_insert(L, 3);
    if (lua_pcall(L, n + 1, 1, 1) != LUA_OK) {
      lua_pushfstring(L, "cannot print the result: %s", lua_tostring(L, -1));
      lua_pushboolean(L, 0);
      lua_insert(L, -2);
      return 2;
    }
  } else {
    plain_results(L, 2, n);
  }
  lua_pushboolean(L, 1);
  lua_insert(L, -2);
  return 2;
}

/* Load mdb.repl, keep it in the registry and call its start(): the
** session's globals and the lines to show under the banner. */
static int repl_setup(lua_State *L)
{
  lua_getglobal(L, "require");
  lua_pushliteral(L, REPL_MODULE);
  lua_call(L, 1, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, REPL_MODULE_KEY);
  lua_getfield(L, -1, "start");
  lua_call(L, 0, 1);
  return 1;
}

/* Everything the completer touches Lua with, run protected. */
typedef struct repl_completion {
  const char *text, *before;
  char **out;
  size_t n;
} repl_completion;

static int complete_protected(lua_State *L)
{
  repl_completion *c = lua_touserdata(L, 1);
  if (!push_repl_function(L, "complete"))
    return 0;
  lua_pushstring(L, c->text);
  lua_pushstring(L, c->before);
  lua_call(L, 2, 1);
  if (!lua_istable(L, -1))
    return 0;
  size_t n = lua_rawlen(L, -1);
  c->out = calloc(n + 1, sizeof *c->out);
  if (c->out == NULL)
    return luaL_error(L, "out of memory");
  for (size_t i = 0; i < n; i++) {
    if (lua_rawgeti(L, -1, (lua_Integer)i + 1) == LUA_TSTRING) {
      c->out[c->n] = strdup(lua_tostring(L, -1));
      if (c->out[c->n] == NULL)
        return luaL_error(L, "out of memory");
      c->n++;
    }
    lua_pop(L, 1);
  }
  return 0;
}

/* mdb.repl's keep_in_history(entry) (the entry a light userdata). */
static int keep_protected(lua_State *L)
{
  const char *entry = lua_touserdata(L, 1);
  if (!push_repl_function(L, "keep_in_history"))
    return luaL_error(L, "no keep_in_history");
  lua_pushstring(L, entry);
  lua_call(L, 1, 1);
  return 1;
}

/* Add `entry` to the history file unless it holds a secret (a token
** typed or pasted at the prompt must not land in a file).  When the
** check cannot run, the entry is not kept either. */
static void remember(lua_State *L, const char *entry)
{
  if (entry == NULL)
    return;
  int top = lua_gettop(L);
  lua_pushcfunction(L, keep_protected);
  lua_pushlightuserdata(L, (void *)entry);
  int keep = lua_pcall(L, 1, 1, 0) == LUA_OK && lua_toboolean(L, -1);
  lua_settop(L, top);
  if (keep)
    line_input_remember(entry);
}

/* line_completer: mdb.repl's complete(text, before).  Errors in there
** mean no candidates; the prompt goes on. */
static char **complete(void *ud, const char *text, const char *before)
{
  lua_State *L = ud;
  int top = lua_gettop(L);
  repl_completion c = {text, before, NULL, 0};
  lua_pushcfunction(L, complete_protected);
  lua_pushlightuserdata(L, &c);
  int status = lua_pcall(L, 1, 0, 0);
  lua_settop(L, top);
  if (status != LUA_OK && c.out != NULL) {
    for (size_t i = 0; i < c.n; i++)
      free(c.out[i]);
    free(c.out);
    c.out = NULL;
  }
  return c.out;
}

/* MDBLUA_HISTORY when set ("" for none), else ~/.mdblua_history. */
static const char *history_file(lua_State *L)
{
  const char *env = getenv("MDBLUA_HISTORY");
  if (env != NULL)
    return env;
  const char *home = getenv("HOME");
  if (home == NULL || *home == '\0')
    return NULL;
  return lua_pushfstring(L, "%s/%s", home, REPL_HISTORY);
}

static void write_text(FILE *f, const char *s)
{
  fputs(s, f);
  if (*s && s[strlen(s) - 1] != '\n')
    fputc('\n', f);
  fflush(f);
}

void repl_run(lua_State *L, repl_docall docall, const char *progname)
{
  line_input_open(history_file(L), complete, L);
  lua_settop(L, 0);
  lua_pushcfunction(L, repl_setup);
  if (docall(L, 0, 1) != LUA_OK)
    fprintf(stderr, "%s: cannot start the prompt's helpers (%s)\n", progname,
            lua_tostring(L, -1));
  else if (lua_type(L, -1) == LUA_TSTRING)
    write_text(stdout, lua_tostring(L, -1));
  fflush(stdout);
  for (;;) {
    lua_settop(L, 0);
    repl_read r = read_chunk(L);
    if (r == REPL_READ_EOF)
      break;
    if (r == REPL_READ_CANCELLED)
      continue;
    remember(L, lua_tostring(L, 1));
    if (r == REPL_READ_ERROR) {
      write_text(stderr, lua_tostring(L, -1));
      continue;
    }
    lua_pushcfunction(L, repl_eval);
    lua_insert(L, -2);
    int status = docall(L, 1, 2);
    if (status != LUA_OK)
      write_text(stderr, lua_tostring(L, -1));
    else if (lua_type(L, -1) == LUA_TSTRING)
      write_text(lua_toboolean(L, -2) ? stdout : stderr, lua_tostring(L, -1));
  }
  lua_settop(L, 0);
  line_input_close();
  fputc('\n', stdout);
  fflush(stdout);
}
