/* Splits the raw request target ("/a/b%2Fc?x=1&y=%22z%22") into decoded
 * path segments and decoded query parameters.  We work from the raw target
 * rather than MHD's already-unescaped URL so that an encoded "/" inside a
 * cluster id stays inside that id instead of splitting the path. */
#ifndef FAKEAPI_TARGET_H
#define FAKEAPI_TARGET_H

#include <stdbool.h>
#include <stddef.h>

struct query_param {
  char *key;
  char *value;
};

struct target {
  char **segments; /* path split at '/', each percent-decoded */
  int nsegments;
  struct query_param *params;
  int nparams;
  bool has_nul; /* some part decoded to a NUL byte: unusable */
};

void target_parse(const char *raw, struct target *t);
void target_free(struct target *t);
/* The last value given for key, or NULL if absent. */
const char *target_param(const struct target *t, const char *key);

#endif
