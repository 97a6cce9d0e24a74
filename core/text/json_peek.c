#define _GNU_SOURCE /* memmem */
#include "text/json_peek.h"

#include <string.h>

static size_t skip_ws(const char *s, size_t len, size_t i)
{
  while (i < len &&
         (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  return i;
}

/* Index just past the whitespace that ends at s[i - 1], going back. */
static size_t skip_back_ws(const char *s, size_t i)
{
  while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\n' ||
                   s[i - 1] == '\r'))
    i--;
  return i;
}

/* s[i] is '"': index after the closing quote, or len on bad input.  A
** backup's text is mostly strings, and most have no escape: memchr finds
** each quote, which closes the string unless an odd run of backslashes
** stands before it. */
static size_t skip_string(const char *s, size_t len, size_t i, int *escaped)
{
  size_t start = i + 1;
  *escaped = 0;
  for (size_t at = start; at < len;) {
    const char *q = memchr(s + at, '"', len - at);
    if (q == NULL)
      return len;
    size_t qi = (size_t)(q - s), run = 0;
    while (qi - run > start && s[qi - run - 1] == '\\')
      run++;
    if (run % 2 == 0) {
      *escaped = memchr(s + start, '\\', qi - start) != NULL;
      return qi + 1;
    }
    at = qi + 1;
  }
  return len;
}

/* What skip_value stops at inside an object or array. */
enum { PLAIN, QUOTE, OPEN, CLOSE };
static const unsigned char container_byte[256] = {
    ['"'] = QUOTE, ['{'] = OPEN, ['['] = OPEN, ['}'] = CLOSE, [']'] = CLOSE};

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
      switch (container_byte[(unsigned char)s[i]]) {
      case QUOTE: i = skip_string(s, len, i, &esc); continue;
      case OPEN: depth++; break;
      case CLOSE:
        if (--depth == 0)
          return i + 1;
        break;
      default: break;
      }
      i++;
    }
    return len;
  }
  while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
         s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
    i++;
  return i;
}

/*
** Fast path for the usual layout, where the member is the object's last:
** `..."key":"value"}` at the very end.  A member of a nested object could
** end the text the same way only if the outer object closed right after
** it, which a trailing `}}` would show; a wrong guess is still only a guess.
*/
static int peek_tail(const char *s, size_t len, const char *key, size_t klen,
                     const char **val, size_t *vlen)
{
  size_t end = len;
  while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\n' ||
                     s[end - 1] == '\r' || s[end - 1] == '\t'))
    end--;
  if (end < klen + 6 || s[end - 1] != '}')
    return 0;
  size_t i = skip_back_ws(s, end - 1);
  if (i == 0 || s[i - 1] != '"')
    return 0;
  size_t vend = i - 1; /* the closing quote */
  size_t v = vend;
  while (v > 0 && s[v - 1] != '"' && s[v - 1] != '\\' && vend - v < 4096)
    v--;
  if (v == 0 || s[v - 1] != '"')
    return 0; /* escapes or too long: no guess */
  size_t open = v - 1;
  i = skip_back_ws(s, open);
  if (i == 0 || s[i - 1] != ':')
    return 0;
  i = skip_back_ws(s, i - 1);
  if (i < klen + 2 || s[i - 1] != '"' || s[i - klen - 2] != '"' ||
      memcmp(s + i - klen - 1, key, klen) != 0)
    return 0;
  i = skip_back_ws(s, i - klen - 2);
  if (i == 0 || (s[i - 1] != ',' && s[i - 1] != '{'))
    return 0;
  *val = s + v;
  *vlen = vend - v;
  return 1;
}

/* At s[*i], a member's key: its text at s[*k..*k + *kn), whether it has an
** escape (*esc), and *i moved to the member's value.  -1 when s[*i..] is
** not `"key" :`. */
static int read_key(const char *s, size_t len, size_t *i, size_t *k, size_t *kn,
                    int *esc)
{
  if (*i >= len || s[*i] != '"')
    return -1;
  *k = *i + 1;
  size_t kend = skip_string(s, len, *i, esc);
  if (kend >= len)
    return -1;
  *kn = kend - 1 - *k;
  size_t j = skip_ws(s, len, kend);
  if (j >= len || s[j] != ':')
    return -1;
  *i = skip_ws(s, len, j + 1);
  return 0;
}

/* Whether a key read by read_key is `key`, unescaped as written. */
static int key_is(const char *s, size_t k, size_t kn, int esc, const char *key,
                  size_t klen)
{
  return !esc && kn == klen && memcmp(s + k, key, klen) == 0;
}

/* Index of the value of the first top-level member `key` of the object
** s[0..len), or len when it has none or the text is not one object. */
static size_t member_value(const char *s, size_t len, const char *key,
                           size_t klen)
{
  size_t i = skip_ws(s, len, 0), k, kn;
  int esc;
  if (i >= len || s[i] != '{')
    return len;
  i = skip_ws(s, len, i + 1);
  while (read_key(s, len, &i, &k, &kn, &esc) == 0) {
    if (key_is(s, k, kn, esc, key, klen))
      return i;
    i = skip_ws(s, len, skip_value(s, len, i));
    if (i >= len || s[i] != ',')
      return len;
    i = skip_ws(s, len, i + 1);
  }
  return len;
}

int json_peek_string(const char *s, size_t len, const char *key,
                     const char **val, size_t *vlen)
{
  size_t klen = strlen(key);
  if (peek_tail(s, len, key, klen, val, vlen))
    return 1;
  /* Where the quoted key occurs nowhere no member can match (an escaped
  ** key never does): the last page of a listing, which has no token, is
  ** answered at memmem's speed instead of by walking every value. */
  char quoted[64];
  if (len < klen + 2) /* an empty body may have no buffer at all */
    return 0;
  if (klen + 2 <= sizeof quoted) {
    quoted[0] = '"';
    memcpy(quoted + 1, key, klen);
    quoted[klen + 1] = '"';
    if (memmem(s, len, quoted, klen + 2) == NULL)
      return 0;
  }
  size_t i = member_value(s, len, key, klen);
  if (i >= len || s[i] != '"')
    return 0;
  int esc;
  size_t vend = skip_string(s, len, i, &esc);
  if (vend >= len || esc) /* a value can't end the document */
    return 0;
  *val = s + i + 1;
  *vlen = vend - i - 2;
  return 1;
}

/*
** After a member's value, ending just before s[i]: 0 when the members
** left close the object and none of their keys may read as `key`, -1
** otherwise.  lua-cjson keeps the last of repeated keys, and unescapes
** keys first: a later `key`, or any later key with an escape, may be the
** member it decodes, which the raw reading must then not stand for.
*/
static int no_later_member(const char *s, size_t len, size_t i, const char *key,
                           size_t klen)
{
  size_t k, kn;
  int esc;
  i = skip_ws(s, len, i);
  while (i < len && s[i] == ',') {
    i = skip_ws(s, len, i + 1);
    if (read_key(s, len, &i, &k, &kn, &esc) != 0 || esc ||
        key_is(s, k, kn, esc, key, klen))
      return -1;
    i = skip_ws(s, len, skip_value(s, len, i));
  }
  return i < len && s[i] == '}' ? 0 : -1;
}

int json_peek_array(const char *s, size_t len, const char *key,
                    json_element_fn each, void *ud)
{
  if (s == NULL)
    return -1;
  size_t klen = strlen(key);
  size_t i = member_value(s, len, key, klen);
  if (i >= len || s[i] != '[')
    return -1;
  i = skip_ws(s, len, i + 1);
  if (i < len && s[i] == ']')
    return no_later_member(s, len, i + 1, key, klen);
  while (i < len) {
    size_t end = skip_value(s, len, i);
    if (end >= len || end == i) /* unclosed, or an empty element */
      return -1;
    int r = each(ud, i, end);
    if (r != 0)
      return r;
    i = skip_ws(s, len, end);
    if (i < len && s[i] == ']')
      return no_later_member(s, len, i + 1, key, klen);
    if (i >= len || s[i] != ',')
      return -1;
    i = skip_ws(s, len, i + 1);
  }
  return -1;
}

static int first_element(void *ud, size_t start, size_t end)
{
  size_t *span = ud;
  span[0] = start;
  span[1] = end;
  return 1;
}

int json_peek_first_element(const char *s, size_t len, const char *key,
                            size_t *start, size_t *end)
{
  size_t span[2] = {0, 0};
  int r = json_peek_array(s, len, key, first_element, span);
  if (start)
    *start = span[0];
  if (end)
    *end = span[1];
  return r;
}
