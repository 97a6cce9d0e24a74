#include "repl.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#define REPL_MAXLINE 4096

static int read_line(lua_State *L, const char *prompt)
{
  char buf[REPL_MAXLINE];
  fputs(prompt, stdout);
  fflush(stdout);
  if (fgets(buf, sizeof buf, stdin) == NULL)
    return 0;
  size_t n = strlen(buf);
  if (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  lua_pushlstring(L, buf, n);
  return 1;
}

/* A syntax error at <eof> means the chunk is merely unfinished. */
static int incomplete(lua_State *L, int status)
{
  if (status != LUA_ERRSYNTAX)
    return 0;
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  static const char mark[] = "<eof>";
  if (len >= sizeof mark - 1 &&
      strcmp(msg + len - (sizeof mark - 1), mark) == 0) {
    lua_pop(L, 1);
    return 1;
  }
  return 0;
}

/* Compile the line on the top as "return <line>"; leaves the function. */
static int try_expression(lua_State *L)
{
  const char *line = lua_tostring(L, -1);
  const char *code = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, code, strlen(code), "=stdin");
  if (status == LUA_OK)
    lua_remove(L, -2);   /* the "return" text; keep the line below */
  else
    lua_pop(L, 2);
  return status;
}

/* Compile the line on the top, reading more lines while unfinished. */
static int load_statement(lua_State *L)
{
  for (;;) {
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    int status = luaL_loadbuffer(L, code, len, "=stdin");
    if (!incomplete(L, status))
      return status;
    if (!read_line(L, ">> ")) {
      lua_pushliteral(L, "unfinished statement at end of input");
      return status;
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

static void print_results(lua_State *L, int n)
{
  if (n == 0)
    return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "print");
  lua_insert(L, -(n + 1));
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    fprintf(stderr, "error calling 'print' (%s)\n", lua_tostring(L, -1));
}

void repl_run(lua_State *L, repl_docall docall, const char *progname)
{
  (void)progname;
  for (;;) {
    lua_settop(L, 0);
    if (!read_line(L, "> "))
      break;
    int status = try_expression(L);
    if (status == LUA_OK) {
      lua_remove(L, 1);        /* the line */
    } else {
      status = load_statement(L);
      if (status == LUA_OK)
        lua_remove(L, 1);
    }
    if (status == LUA_OK)
      status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) {
      print_results(L, lua_gettop(L));
    } else {
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
      fflush(stderr);
    }
  }
  lua_settop(L, 0);
  fputc('\n', stdout);
  fflush(stdout);
}
