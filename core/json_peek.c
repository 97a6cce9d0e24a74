#include "json_peek.h"

#include <string.h>

static size_t skip_ws(const char *s, size_t len, size_t i)
{
  while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
                     s[i] == '\r'))
    i++;
  return i;
}

/* s[i] is '"': index after the closing quote, or len on bad input. */
static size_t skip_string(const char *s, size_t len, size_t i, int *escaped)
{
  *escaped = 0;
  for (i++; i < len; i++) {
    if (s[i] == '\\') {
      *escaped = 1;
      i++;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return len;
}

/* Index after the value starting at s[i], or len on bad input. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
  int esc;
  if (i >= len)
    return len;
  if (s[i] == '"')
    return skip_string(s, len, i, &esc);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < len) {
      char c = s[i];
      if (c == '"') {
        i = skip_string(s, len, i, &esc);
        continue;
      }
      if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']') {
        if (--depth == 0)
          return i + 1;
      }
      i++;
    }
    return len;
  }
  while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
         s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
    i++;
  return i;
}

int json_peek_string(const char *s, size_t len, const char *key,
                     const char **val, size_t *vlen)
{
  size_t klen = strlen(key);
  size_t i = skip_ws(s, len, 0);
  if (i >= len || s[i] != '{')
    return 0;
  i = skip_ws(s, len, i + 1);
  while (i < len && s[i] == '"') {
    int esc;
    size_t kstart = i + 1;
    size_t kend = skip_string(s, len, i, &esc);
    if (kend >= len)
      return 0;
    int match = !esc && kend - 1 - kstart == klen &&
                memcmp(s + kstart, key, klen) == 0;
    i = skip_ws(s, len, kend);
    if (i >= len || s[i] != ':')
      return 0;
    i = skip_ws(s, len, i + 1);
    if (match) {
      if (i >= len || s[i] != '"')
        return 0;
      size_t vend = skip_string(s, len, i, &esc);
      if (vend >= len || esc)   /* a value can't end the document */
        return 0;
      *val = s + i + 1;
      *vlen = vend - i - 2;
      return 1;
    }
    i = skip_ws(s, len, skip_value(s, len, i));
    if (i < len && s[i] == ',')
      i = skip_ws(s, len, i + 1);
    else
      return 0;
  }
  return 0;
}
