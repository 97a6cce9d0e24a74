/*
** The interactive prompt: read a chunk (more lines while it is
** unfinished), run it as an expression when it is one and as a statement
** otherwise, and show the results through the pure-Lua half, `mdb.repl`
** (pretty-printing, completion candidates, help, the session's globals).
** Lines come from line_input.h: libedit on a terminal, stdio otherwise.
*/
#ifndef REPL_H
#define REPL_H

#include <lua.h>

/* `docall` runs the function below its `nargs` arguments on the stack top
** with SIGINT turned into a Lua error (mdblua.c); returns a lua status and
** leaves the error message on the stack on failure. */
typedef int (*repl_docall)(lua_State *L, int nargs, int nres);

/* Run the prompt until Ctrl-D or end of input. */
void repl_run(lua_State *L, repl_docall docall, const char *progname);

#endif /* REPL_H */
