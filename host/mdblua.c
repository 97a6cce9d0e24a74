/*
** mdblua: a Lua 5.4 interpreter with the `mdb` module built in, shaped
** like the standalone `lua`.  main() only creates the state; everything
** else runs inside a protected call, and the exit status is decided in
** one place:
**   the script's os.exit(n) -> n; normal end -> 0; uncaught error or
**   usage error -> 2; interrupted by Ctrl-C -> 130.
*/
#include "allocator.h"
#include "bundled_scripts.h"
#include "mdb_defaults.h"
#include "mdb_loader.h"
#include "preload.h"
#include "repl.h"

#include <lauxlib.h>
#include <lua.h>
#include <limits.h>
#include <lualib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_ERROR       2
#define EXIT_INTERRUPTED 130

static const char *progname = "mdblua";
static lua_State *global_L = NULL;
static volatile sig_atomic_t got_sigint = 0;

static void print_usage(FILE *f)
{
  fprintf(
      f,
      "usage: %s [options] [script [args...]]\n"
      "Runs a Lua 5.4 script with the mdb module (backups of managed\n"
      "database clusters) built in; with no script and a terminal on\n"
      "stdin, starts an interactive prompt.  The script gets its arguments\n"
      "in `arg` and as `...`, as with lua.  A script that is no file but\n"
      "names a bundled script (below) runs that: `%s audit --help`.\n"
      "\n"
      "Options:\n"
      "  -e CODE        run CODE (may be repeated; runs before the script)\n"
      "  -i             enter the interactive prompt after running the script\n"
      "  -              read the script from standard input\n"
      "  --             stop handling options\n"
      "  --trace        log each request to stderr, tokens redacted\n"
      "                 (the same as MDB_TRACE=1)\n"
      "  -v, --version  print the version of mdblua and Lua and exit\n"
      "  -h, --help     print this help and exit\n"
      "\n"
      "The prompt: expressions are printed (no `return` needed), unfinished\n"
      "lines continue, help() lists the API, Tab completes names, fields and\n"
      "methods, Up/Down recall history (~/.mdblua_history), Ctrl-C stops what\n"
      "is running and returns to the prompt, Ctrl-D exits.  A `client` is\n"
      "ready when credentials are in the environment.\n"
      "\n",
      progname, progname);
  char dir[PATH_MAX];
  if (bundled_scripts_dir(dir, sizeof dir) == 0) {
    fprintf(f, "Bundled scripts, each with --help (in %s):\n", dir);
    bundled_scripts_list(f, "  ");
  } else {
    fprintf(f, "Bundled scripts: none found (is %s installed completely?)\n",
            progname);
  }
  fprintf(
      f,
      "\n"
      "Exit status: the script's os.exit(n); 0 when it ends normally;\n"
      "2 on an uncaught error or a usage error; 130 when interrupted.\n"
      "\n"
      "Environment:\n"
      "  YC_IAM_TOKEN     an IAM token; or YC_TOKEN, "
      "YC_SERVICE_ACCOUNT_KEY_FILE,\n"
      "                   a token command or the VM metadata service (README)\n"
      "  YC_MDB_ENDPOINT  the API endpoint (default\n"
      "                   https://mdb.api.cloud.yandex.net)\n"
      "  YC_FOLDER_ID     the folder when none is given\n"
      "  MDBLUA_HISTORY   the prompt's history file (\"\" for none)\n"
      "  MDB_TRACE        1: log each request to stderr, as --trace\n"
      "  TERM             line editing needs a terminal that is not \"dumb\"\n"
      "\n"
      "See mdblua(1) and README.md.\n");
}

/* A usage error: the message, and where the whole help is. */
static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", progname);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\ntry '%s --help'\n", progname);
  va_end(ap);
}

static void report(const char *msg)
{
  fprintf(stderr, "%s: %s\n", progname, msg);
  fflush(stderr);
}

/*
** The hook a SIGINT installs: raise "interrupted!" in Lua code, unless
** the mdb module already turned the interruption into its own error (it
** clears the flag when it does), so one Ctrl-C gives one error.
*/
static void stop_hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (mdb_loader_cancel_requested()) {
    mdb_loader_cancel_clear();
    luaL_error(L, "interrupted!");
  }
}

/*
** SIGINT during a call: stop Lua at its next instruction and any transfer
** or backoff wait in the core at its next check.  The default action is
** restored first, so a second Ctrl-C kills a process that is stuck.
*/
static void on_sigint(int sig)
{
  signal(sig, SIG_DFL);
  got_sigint = 1;
  mdb_loader_cancel_raise();
  lua_sethook(global_L, stop_hook,
              LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* Message handler: any error value becomes text with a traceback. */
static int msghandler(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static int docall(lua_State *L, int nargs, int nres)
{
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  global_L = L;
  signal(SIGINT, on_sigint);
  int status = lua_pcall(L, nargs, nres, base);
  signal(SIGINT, SIG_DFL);
  lua_sethook(L, NULL, 0, 0); /* a pending interruption is spent */
  mdb_loader_cancel_clear();
  lua_remove(L, base);
  return status;
}

/*
** A failed call is reported with its message and traceback, except after
** Ctrl-C: whatever the error says then (the mdb module's error object of
** kind "interrupted", the stop hook's "interrupted!", or a script's own
** error after catching either), the user stopped the program and knows
** where; one line says so.
*/
static int report_status(lua_State *L, int status)
{
  if (status != LUA_OK) {
    /* the terminal echoed ^C where the cursor was: start a line */
    if (got_sigint && isatty(STDERR_FILENO))
      fputc('\n', stderr);
    report(got_sigint ? "interrupted" : lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return status;
}

/* The `arg` table: script at 0, its arguments above, options below. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

typedef struct options {
  int interactive; /* -i */
  int version;
  int help;
  int trace;  /* --trace */
  int script; /* argv index of the script, 0 = none */
} options;

/*
** Scan argv without running anything; returns 0, or -1 after printing a
** usage error.
*/
static int collect_args(int argc, char **argv, options *o)
{
  memset(o, 0, sizeof *o);
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) {
      o->script = i;
      return 0;
    }
    if (strcmp(a, "--") == 0) {
      if (i + 1 < argc)
        o->script = i + 1;
      return 0;
    }
    if (strcmp(a, "-e") == 0) {
      if (++i >= argc) {
        usage_error("'%s' needs an argument", a);
        return -1;
      }
    } else if (strcmp(a, "-i") == 0) {
      o->interactive = 1;
    } else if (strcmp(a, "--trace") == 0) {
      o->trace = 1;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      o->version = 1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      o->help = 1;
    } else {
      usage_error("unrecognized option '%s'", a);
      return -1;
    }
  }
  return 0;
}

/* Run each -e CODE in order; stops at the first failure. */
static int run_e_options(lua_State *L, char **argv, int last)
{
  for (int i = 1; i < last; i++) {
    if (strcmp(argv[i], "-e") != 0)
      continue;
    const char *code = argv[++i];
    int status = luaL_loadbuffer(L, code, strlen(code), "=(command line)");
    if (status == LUA_OK)
      status = docall(L, 0, 0);
    if (report_status(L, status) != LUA_OK)
      return status;
  }
  return LUA_OK;
}

static int run_script(lua_State *L, char **argv, int argc, int script)
{
  const char *fname = argv[script];
  if (strcmp(fname, "-") == 0)
    fname = NULL; /* stdin */
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = argc - script - 1;
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = script + 1; i < argc; i++)
      lua_pushstring(L, argv[i]);
    status = docall(L, n, 0);
  }
  return report_status(L, status);
}

/*
** A script named by a word that is no file (no '/', nothing of that name
** here) is the bundled script of that name: argv[script] becomes its path
** in `found`, so arg[0] and error messages show where it is.  Returns 0,
** or -1 after saying that there is neither.
*/
static int resolve_script(char **argv, int script, char *found, size_t n)
{
  const char *name = argv[script];
  struct stat st;
  if (strcmp(name, "-") == 0 || strchr(name, '/') != NULL ||
      stat(name, &st) == 0)
    return 0; /* stdin, a path or a file: lua_load says what is wrong */
  if (bundled_script_path(name, found, n) == 0) {
    argv[script] = found;
    return 0;
  }
  char dir[PATH_MAX];
  if (bundled_scripts_dir(dir, sizeof dir) != 0) {
    fprintf(stderr,
            "%s: cannot open %s: no such file, and no bundled "
            "scripts found (is %s installed completely?)\n",
            progname, name, progname);
    return -1;
  }
  fprintf(stderr,
          "%s: cannot open %s: no such file, and no bundled "
          "script of that name; the scripts in %s:\n",
          progname, name, dir);
  bundled_scripts_list(stderr, "  ");
  return -1;
}

/* Everything that can raise runs here, under lua_pcall from main. */
static int pmain(lua_State *L)
{
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  options o;
  if (collect_args(argc, argv, &o) != 0) {
    lua_pushinteger(L, EXIT_ERROR);
    return 1;
  }
  if (o.help || o.version) {
    if (o.help)
      print_usage(stdout);
    else
      printf("mdblua %s (%s)\n", MDB_VERSION, LUA_RELEASE);
    lua_pushinteger(L, EXIT_SUCCESS);
    return 1;
  }
  char script_path[PATH_MAX];
  if (o.script &&
      resolve_script(argv, o.script, script_path, sizeof script_path) != 0) {
    lua_pushinteger(L, EXIT_ERROR);
    return 1;
  }
  if (o.trace) /* every client reads it (core/trace.h) */
    setenv("MDB_TRACE", "1", 1);
  luaL_checkversion(L);
  luaL_openlibs(L);
  preload_register(L);
  create_arg_table(L, argv, argc, o.script);
  lua_gc(L, LUA_GCRESTART);
  /* Incremental, unlike lua.c's generational mode: a listing's objects
  ** all live for exactly one page, long enough to be promoted to old and
  ** then need major collections; measured, incremental spends about 10%
  ** less CPU on a deep listing. */
  lua_gc(L, LUA_GCINC, 0, 0, 0);

  int status = run_e_options(L, argv, o.script ? o.script : argc);
  if (status == LUA_OK && o.script)
    status = run_script(L, argv, argc, o.script);
  int has_e = 0;
  for (int i = 1; i < (o.script ? o.script : argc); i++)
    if (strcmp(argv[i], "-e") == 0)
      has_e = 1;
  if (status == LUA_OK && (o.interactive || (!o.script && !has_e))) {
    if (o.interactive || isatty(STDIN_FILENO)) {
      printf("mdblua %s (%s) - backups of managed databases; "
             "help() for help, Ctrl-D to exit\n",
             MDB_VERSION, LUA_RELEASE);
      repl_run(L, docall, progname);
    } else {
      status = luaL_loadfile(L, NULL);
      if (status == LUA_OK)
        status = docall(L, 0, 0);
      report_status(L, status);
    }
  }
  int code = EXIT_SUCCESS;
  if (status != LUA_OK)
    code = got_sigint ? EXIT_INTERRUPTED : EXIT_ERROR;
  lua_pushinteger(L, code);
  return 1;
}

int main(int argc, char **argv)
{
  allocator_setup();
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    report("cannot create state: not enough memory");
    return EXIT_ERROR;
  }
  lua_gc(L, LUA_GCSTOP); /* no collection while building the state */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int code = status == LUA_OK ? (int)lua_tointeger(L, -1) : EXIT_ERROR;
  if (status != LUA_OK)
    report(lua_tostring(L, -1));
  lua_close(L);
  return code;
}
