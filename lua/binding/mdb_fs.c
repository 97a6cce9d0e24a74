/*
** mdb._fs: the few file-system questions the Lua libraries ask before they
** open or replace a file, which plain Lua (io, os) cannot answer: what a
** path names, whether two paths are one file, where a symbolic link leads,
** and giving a replacement file the mode of the one it replaces.
**
**   _fs.path_kind(path)        -> "file" | "directory" | "other" | nil
**   _fs.same_file(a, b)        -> boolean
**   _fs.link_target(path)      -> the link's target, or nil
**   _fs.keep_mode(old, new)    -> true, or nil and a message
*/
#include "mdb_binding.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
** path_kind(path) -> "file" | "directory" | "other", nil when there is
** no such file, or nil and stat's reason.  The history looks before it
** opens: opening a named pipe waits for a writer that may never come.
*/
static int fs_path_kind(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    lua_pushnil(L);
    if (e == ENOENT)
      return 1;
    lua_pushstring(L, strerror(e));
    return 2;
  }
  lua_pushstring(L, S_ISREG(st.st_mode)   ? "file"
                    : S_ISDIR(st.st_mode) ? "directory"
                                          : "other");
  return 1;
}

/* The absolute name of `path` with its directory resolved (the file
** itself may not exist yet); 0, or -1 when the directory cannot be. */
static int resolved_name(const char *path, char *out, size_t n)
{
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX], real[PATH_MAX];
  const char *base = slash ? slash + 1 : path;
  if (slash == NULL) {
    snprintf(dir, sizeof dir, ".");
  } else if (slash == path) {
    snprintf(dir, sizeof dir, "/");
  } else if ((size_t)(slash - path) < sizeof dir) {
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
  } else {
    return -1;
  }
  if (realpath(dir, real) == NULL)
    return -1;
  int w = snprintf(out, n, "%s/%s", real, base);
  return w < 0 || (size_t)w >= n ? -1 : 0;
}

/*
** link_target(path) -> the file a symbolic link `path` leads to (its last
** link followed, relative targets resolved), or nil when `path` is no
** link.  A report written over a link by renaming would replace the link
** with a file; written to its target, the link stays, as with a shell's
** `>`.  A dangling link gives the name it points at.  nil and a message
** when the chain of links does not end.
*/
static int fs_link_target(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  char cur[PATH_MAX], next[PATH_MAX];
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode) ||
      strlen(path) >= sizeof cur)
    return 0;
  strcpy(cur, path);
  for (int hops = 0; hops < 40; hops++) { /* 40: the kernel's own bound */
    ssize_t n = readlink(cur, next, sizeof next - 1);
    if (n < 0)
      break;
    next[n] = '\0';
    if (next[0] != '/') { /* relative to the link's own directory */
      const char *slash = strrchr(cur, '/');
      size_t dlen = slash ? (size_t)(slash - cur) + 1 : 0;
      if (dlen + (size_t)n + 1 > sizeof cur)
        break;
      memmove(cur + dlen, next, (size_t)n + 1);
    } else {
      memcpy(cur, next, (size_t)n + 1);
    }
    if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
      lua_pushstring(L, cur);
      return 1;
    }
  }
  lua_pushnil(L);
  lua_pushliteral(L, "too many levels of symbolic links");
  return 2;
}

/*
** same_file(a, b) -> true when the two paths name one file: the same
** inode when both exist (links and "./" spellings included), else the
** same name once their directories are resolved.  A report written with
** --output over the history file would replace every scan it holds.
*/
static int fs_same_file(lua_State *L)
{
  const char *a = luaL_checkstring(L, 1), *b = luaL_checkstring(L, 2);
  struct stat sa, sb;
  int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
  int same;
  if (ea && eb) {
    same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  } else if (ea != eb) {
    same = 0;
  } else {
    char ra[PATH_MAX + 2], rb[PATH_MAX + 2];
    same = resolved_name(a, ra, sizeof ra) == 0 &&
           resolved_name(b, rb, sizeof rb) == 0 && strcmp(ra, rb) == 0;
  }
  lua_pushboolean(L, same);
  return 1;
}

/*
** keep_mode(old, new) -> true: `new` (the report's temporary file) gets
** the permission bits of the regular file `old` it is about to replace,
** and its owner and group where the process may set them.  Renamed over
** a report an administrator made 0600 or 0640 for node_exporter's group,
** a file made with the umask's mode would widen or break its access.
** Nothing is done when `old` is no regular file.  nil and a message when
** the bits cannot be set.
*/
static int fs_keep_mode(lua_State *L)
{
  const char *old = luaL_checkstring(L, 1), *tmp = luaL_checkstring(L, 2);
  struct stat st;
  if (stat(old, &st) != 0 || !S_ISREG(st.st_mode)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  /* best effort: only root may give a file away, and others a group
  ** only to one of their own; the mode bits follow either way */
  if (chown(tmp, st.st_uid, st.st_gid) != 0)
    (void)!chown(tmp, (uid_t)-1, st.st_gid);
  if (chmod(tmp, st.st_mode & 0777) != 0) {
    int e = errno;
    lua_pushnil(L);
    lua_pushstring(L, strerror(e));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg functions[] = {{"path_kind", fs_path_kind},
                                     {"same_file", fs_same_file},
                                     {"link_target", fs_link_target},
                                     {"keep_mode", fs_keep_mode},
                                     {NULL, NULL}};

/* Sets mdb._fs on the module table at the top of the stack. */
void mdb_fs_register(lua_State *L)
{
  luaL_newlib(L, functions);
  lua_setfield(L, -2, "_fs");
}
