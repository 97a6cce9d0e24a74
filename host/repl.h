/*
** The interactive loop: read a line, run it as an expression when it is
** one (printing the values) and as a statement otherwise, and keep
** reading while a statement is incomplete.
*/
#ifndef REPL_H
#define REPL_H

#include <lua.h>

/* `docall` runs the function on the stack top with `nargs` args, keeping
** results (LUA_MULTRET); returns a lua status and leaves the error message
** on the stack on failure. */
typedef int (*repl_docall)(lua_State *L, int nargs, int nres);

void repl_run(lua_State *L, repl_docall docall, const char *progname);

#endif /* REPL_H */
