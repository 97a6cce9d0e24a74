#include "target.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Invalid escapes are kept literally, as MHD and most servers do. '+' is
 * a space only in the query (form encoding), never in the path. */
static char *decode(const char *s, size_t n, bool plus_is_space, bool *has_nul)
{
  char *out = xmalloc(n + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
        (lo = hexval(s[i + 2])) >= 0) {
      char c = (char)(hi * 16 + lo);
      if (c == '\0')
        *has_nul = true;
      out[o++] = c;
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out[o++] = ' ';
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
}

void target_parse(const char *raw, struct target *t)
{
  memset(t, 0, sizeof *t);
  size_t path_len = strcspn(raw, "?#");
  const char *query = raw[path_len] == '?' ? raw + path_len + 1 : NULL;

  /* Segments after the leading '/'; "a//b" yields an empty segment. */
  const char *p = raw[0] == '/' ? raw + 1 : raw;
  const char *end = raw + path_len;
  if (p < end || (p == end && raw[0] != '/')) {
    for (;;) {
      const char *slash = memchr(p, '/', (size_t)(end - p));
      const char *seg_end = slash ? slash : end;
      t->segments = xrealloc(t->segments,
                             (size_t)(t->nsegments + 1) * sizeof *t->segments);
      t->segments[t->nsegments++] = decode(p, (size_t)(seg_end - p), false,
                                           &t->has_nul);
      if (!slash)
        break;
      p = slash + 1;
    }
  }

  if (!query)
    return;
  size_t qlen = strcspn(query, "#");
  const char *q = query, *qend = query + qlen;
  while (q < qend) {
    const char *amp = memchr(q, '&', (size_t)(qend - q));
    const char *pair_end = amp ? amp : qend;
    if (pair_end > q) {
      const char *eq = memchr(q, '=', (size_t)(pair_end - q));
      const char *key_end = eq ? eq : pair_end;
      t->params = xrealloc(t->params,
                           (size_t)(t->nparams + 1) * sizeof *t->params);
      struct query_param *qp = &t->params[t->nparams++];
      qp->key = decode(q, (size_t)(key_end - q), true, &t->has_nul);
      qp->value = eq ? decode(eq + 1, (size_t)(pair_end - eq - 1), true,
                              &t->has_nul)
                     : xstrdup("");
    }
    q = pair_end + 1;
  }
}

void target_free(struct target *t)
{
  for (int i = 0; i < t->nsegments; i++)
    free(t->segments[i]);
  free(t->segments);
  for (int i = 0; i < t->nparams; i++) {
    free(t->params[i].key);
    free(t->params[i].value);
  }
  free(t->params);
  memset(t, 0, sizeof *t);
}

const char *target_param(const struct target *t, const char *key)
{
  for (int i = t->nparams - 1; i >= 0; i--) {
    if (strcmp(t->params[i].key, key) == 0)
      return t->params[i].value;
  }
  return NULL;
}
