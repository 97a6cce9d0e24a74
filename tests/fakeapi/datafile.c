/* --data FILE: hand-written records whose JSON is served verbatim.  The
 * JSON is deliberately never parsed, so tests can feed the client
 * malformed or oddly shaped objects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "sources.h"

static char *skip_blanks(char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Cuts the next blank-separated word out of *p. */
static char *next_word(char **p)
{
  char *start = skip_blanks(*p);
  if (!*start)
    return NULL;
  char *end = start;
  while (*end && *end != ' ' && *end != '\t')
    end++;
  if (*end)
    *end++ = '\0';
  *p = end;
  return start;
}

static bool load_line(struct dataset *ds, const char *path,
                      unsigned long lineno, char *line)
{
  char *p = line;
  char *kind = next_word(&p);
  if (!kind || kind[0] == '#')
    return true;

  bool is_cluster = strcmp(kind, "cluster") == 0;
  bool is_policy = strcmp(kind, "policy") == 0,
       is_operation = strcmp(kind, "operation") == 0;
  if (!is_cluster && !is_policy && !is_operation &&
      strcmp(kind, "backup") != 0) {
    fprintf(stderr,
            "fakeapi: %s:%lu: unknown record type '%s' "
            "(want 'cluster', 'backup', 'policy' or 'operation')\n",
            path, lineno, kind);
    return false;
  }
  char *engine_word = next_word(&p);
  char *folder = next_word(&p);
  char *cluster = next_word(&p);
  char *name = is_cluster ? next_word(&p) : NULL;
  char *json = skip_blanks(p);
  if (!engine_word || !folder || !cluster || (is_cluster && !name) || !*json) {
    fprintf(stderr, "fakeapi: %s:%lu: expected '%s' record with %s\n", path,
            lineno, kind,
            is_cluster ? "ENGINE FOLDER_ID CLUSTER_ID NAME JSON"
                       : "ENGINE FOLDER_ID CLUSTER_ID JSON");
    return false;
  }
  enum engine e;
  if (!engine_from_name(engine_word, &e)) {
    fprintf(stderr, "fakeapi: %s:%lu: unknown engine '%s'\n", path, lineno,
            engine_word);
    return false;
  }
  size_t len = strlen(json);
  while (len && (json[len - 1] == ' ' || json[len - 1] == '\t'))
    len--;
  json[len] = '\0';

  if (is_cluster) {
    if (!dataset_add_cluster(ds, e, folder, cluster, name, json, len)) {
      fprintf(stderr, "fakeapi: %s:%lu: duplicate %s cluster '%s'\n", path,
              lineno, engine_word, cluster);
      return false;
    }
  } else if (is_policy || is_operation) {
    struct record_set *rs = dataset_records(ds);
    bool ok = is_policy
                  ? record_set_add_policy(rs, e, folder, cluster, json, len)
                  : record_set_add(rs, RECORD_OPERATIONS, e, cluster, json,
                                   len);
    if (!ok) {
      fprintf(stderr, "fakeapi: %s:%lu: too many records\n", path, lineno);
      return false;
    }
  } else if (!dataset_add_backup(ds, e, folder, cluster, json, len)) {
    fprintf(stderr, "fakeapi: %s:%lu: too many backups\n", path, lineno);
    return false;
  }
  return true;
}

bool datafile_load(struct dataset *ds, const char *path)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "fakeapi: --data %s: %s\n", path, strerror(errno));
    return false;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  unsigned long lineno = 0;
  bool ok = true;
  while (ok && (n = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    if (memchr(line, '\0', (size_t)n)) {
      fprintf(stderr, "fakeapi: %s:%lu: NUL byte in line\n", path, lineno);
      ok = false;
      break;
    }
    ok = load_line(ds, path, lineno, line);
  }
  if (ok && ferror(f)) {
    fprintf(stderr, "fakeapi: --data %s: read error\n", path);
    ok = false;
  }
  free(line);
  fclose(f);
  return ok;
}
