#include "bundled_scripts.h"
#include "exe_dir.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MDB_SCRIPTS_BUILD_DIR
#error "MDB_SCRIPTS_BUILD_DIR must name the build tree's scripts directory"
#endif
#ifndef MDB_SCRIPTS_INSTALL_DIR
#error "MDB_SCRIPTS_INSTALL_DIR must name the installed scripts directory"
#endif

#define SCRIPT_SUFFIX ".lua"
#define LIST_WIDTH    72

static int is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* `path` when it is a directory, canonical (no "bin/.."), in out. */
static int found_dir(const char *path, char *out, size_t n)
{
  char real[PATH_MAX];
  if (!is_dir(path) || realpath(path, real) == NULL || strlen(real) >= n)
    return -1;
  strcpy(out, real);
  return 0;
}

int bundled_scripts_dir(char *out, size_t n)
{
  char dir[PATH_MAX], path[2 * PATH_MAX];
  if (exe_dir(dir, sizeof dir) == 0) {
    snprintf(path, sizeof path, "%s%s", dir, MDB_SCRIPTS_BUILD_DIR);
    if (found_dir(path, out, n) == 0)
      return 0;
    if (MDB_SCRIPTS_INSTALL_DIR[0] != '/') {
      snprintf(path, sizeof path, "%s../%s", dir, MDB_SCRIPTS_INSTALL_DIR);
      if (found_dir(path, out, n) == 0)
        return 0;
    }
  }
  if (MDB_SCRIPTS_INSTALL_DIR[0] == '/')
    return found_dir(MDB_SCRIPTS_INSTALL_DIR, out, n);
  return -1;
}

static int has_suffix(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

int bundled_script_path(const char *name, char *out, size_t n)
{
  char dir[PATH_MAX];
  if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL ||
      bundled_scripts_dir(dir, sizeof dir) != 0)
    return -1;
  const char *suffix = has_suffix(name, SCRIPT_SUFFIX) ? "" : SCRIPT_SUFFIX;
  if ((size_t)snprintf(out, n, "%s/%s%s", dir, name, suffix) >= n)
    return -1;
  return is_file(out) ? 0 : -1;
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void bundled_scripts_list(FILE *f, const char *indent)
{
  char dir[PATH_MAX], path[PATH_MAX + 256];
  char **names = NULL;
  size_t count = 0, cap = 0;
  DIR *d = bundled_scripts_dir(dir, sizeof dir) == 0 ? opendir(dir) : NULL;
  for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (e->d_name[0] == '.' || !has_suffix(e->d_name, SCRIPT_SUFFIX) ||
        !is_file(path))
      continue;
    if (count == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      char **p = realloc(names, ncap * sizeof *names);
      if (p == NULL)
        break; /* list what fits: this is help text */
      names = p;
      cap = ncap;
    }
    names[count] = strndup(e->d_name,
                           strlen(e->d_name) - strlen(SCRIPT_SUFFIX));
    if (names[count] != NULL)
      count++;
  }
  if (d)
    closedir(d);
  qsort(names, count, sizeof *names, compare_names);
  size_t col = 0;
  for (size_t i = 0; i < count; i++) {
    size_t len = strlen(names[i]);
    if (col > 0 && col + 2 + len > LIST_WIDTH) {
      fputc('\n', f);
      col = 0;
    }
    col += (size_t)fprintf(f, "%s%s", col ? "  " : indent, names[i]);
    free(names[i]);
  }
  if (count == 0)
    fprintf(f, "%s(none)", indent);
  fputc('\n', f);
  free(names);
}
