#include "text/json_member.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32 /* nested values are skipped, not recursed into deeply */

static const char *skip_ws(const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* Overwrite n bytes before they are freed.  Not secret_wipe: the
** fake API links this file alone. */
static void wipe(char *p, size_t n)
{
  volatile char *q = p;
  while (n--)
    *q++ = 0;
}

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

static int hex4(const char *p, const char *end, unsigned *out)
{
  if (end - p < 4)
    return 0;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0)
      return 0;
    v = v << 4 | (unsigned)h;
  }
  *out = v;
  return 1;
}

/* p at the opening quote: returns the byte after the closing one, or NULL. */
static const char *scan_string(const char *p, const char *end)
{
  p++;
  while (p < end) {
    unsigned char c = (unsigned char)*p;
    if (c == '"')
      return p + 1;
    if (c < 0x20)
      return NULL; /* raw control characters are invalid */
    if (c == '\\') {
      if (++p >= end)
        return NULL;
      unsigned u;
      switch (*p) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't': p++; break;
      case 'u':
        if (!hex4(p + 1, end, &u))
          return NULL;
        p += 5;
        break;
      default: return NULL;
      }
      continue;
    }
    p++;
  }
  return NULL;
}

static const char *scan_number(const char *p, const char *end)
{
  const char *s = p;
  if (p < end && *p == '-')
    p++;
  if (p >= end || !(*p >= '0' && *p <= '9'))
    return NULL;
  if (*p == '0')
    p++;
  else
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  if (p < end && *p == '.') {
    p++;
    if (p >= end || !(*p >= '0' && *p <= '9'))
      return NULL;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p >= end || !(*p >= '0' && *p <= '9'))
      return NULL;
    while (p < end && *p >= '0' && *p <= '9')
      p++;
  }
  return p > s ? p : NULL;
}

static const char *skip_value(const char *p, const char *end, int depth);

/* p after '{' or '[': the members or elements, up to the closing bracket. */
static const char *skip_container(const char *p, const char *end, int depth,
                                  int object)
{
  char close = object ? '}' : ']';
  p = skip_ws(p, end);
  if (p < end && *p == close)
    return p + 1;
  for (;;) {
    if (object) {
      p = skip_ws(p, end);
      if (p >= end || *p != '"' || (p = scan_string(p, end)) == NULL)
        return NULL;
      p = skip_ws(p, end);
      if (p >= end || *p++ != ':')
        return NULL;
    }
    p = skip_value(p, end, depth + 1);
    if (p == NULL)
      return NULL;
    p = skip_ws(p, end);
    if (p >= end)
      return NULL;
    if (*p == close)
      return p + 1;
    if (*p++ != ',')
      return NULL;
  }
}

static const char *skip_value(const char *p, const char *end, int depth)
{
  if (depth > MAX_DEPTH)
    return NULL;
  p = skip_ws(p, end);
  if (p >= end)
    return NULL;
  switch (*p) {
  case '"': return scan_string(p, end);
  case '{': return skip_container(p + 1, end, depth, 1);
  case '[': return skip_container(p + 1, end, depth, 0);
  case 't': return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
  case 'f': return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
  case 'n': return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
  default: return scan_number(p, end);
  }
}

static void put_utf8(char **o, unsigned cp)
{
  char *q = *o;
  if (cp < 0x80) {
    *q++ = (char)cp;
  } else if (cp < 0x800) {
    *q++ = (char)(0xc0 | cp >> 6);
    *q++ = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *q++ = (char)(0xe0 | cp >> 12);
    *q++ = (char)(0x80 | (cp >> 6 & 0x3f));
    *q++ = (char)(0x80 | (cp & 0x3f));
  } else {
    *q++ = (char)(0xf0 | cp >> 18);
    *q++ = (char)(0x80 | (cp >> 12 & 0x3f));
    *q++ = (char)(0x80 | (cp >> 6 & 0x3f));
    *q++ = (char)(0x80 | (cp & 0x3f));
  }
  *o = q;
}

/*
** Decode the already validated string p..q (quotes included).  NULL when
** out of memory or when it holds U+0000, which no C string can carry.
*/
static char *decode_string(const char *p, const char *q)
{
  /* Escapes never grow: \uXXXX (6 bytes) is at most 4 bytes of UTF-8. */
  char *out = malloc((size_t)(q - p) + 1);
  if (out == NULL)
    return NULL;
  char *o = out;
  const char *end = q - 1;
  for (p++; p < end;) {
    if (*p != '\\') {
      *o++ = *p++;
      continue;
    }
    p++;
    char c = *p++;
    unsigned cp = 0; /* hex4 checked the digits when the string was scanned */
    switch (c) {
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u':
      hex4(p, end, &cp);
      p += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' &&
          p[1] == 'u') {
        unsigned lo;
        if (hex4(p + 2, end, &lo) && lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          p += 6;
        }
      }
      if (cp == 0) {
        /* What was decoded so far may be most of a secret. */
        wipe(out, (size_t)(o - out));
        free(out);
        return NULL;
      }
      if (cp >= 0xd800 && cp < 0xe000)
        cp = 0xfffd; /* a lone surrogate */
      put_utf8(&o, cp);
      break;
    default: *o++ = c; break; /* " \ / */
    }
  }
  *o = '\0';
  return out;
}

/*
** Walk the object: 1 with the value's bounds when `key` is found (the rest
** of the object is still checked), 0 when absent, -1 when malformed.
*/
static int find_member(const char *s, size_t len, const char *key,
                       const char **vbeg, const char **vend)
{
  const char *end = s + len;
  const char *p = skip_ws(s, end);
  int found = 0;
  if (p >= end || *p++ != '{')
    return -1;
  p = skip_ws(p, end);
  if (p < end && *p == '}') {
    p++;
  } else {
    for (;;) {
      p = skip_ws(p, end);
      if (p >= end || *p != '"')
        return -1;
      const char *kb = p;
      if ((p = scan_string(p, end)) == NULL)
        return -1;
      const char *ke = p;
      p = skip_ws(p, end);
      if (p >= end || *p++ != ':')
        return -1;
      p = skip_ws(p, end);
      const char *vb = p;
      if ((p = skip_value(p, end, 1)) == NULL)
        return -1;
      if (!found && key != NULL) {
        char *k = decode_string(kb, ke);
        if (k != NULL && strcmp(k, key) == 0) {
          found = 1;
          *vbeg = vb;
          *vend = p;
        }
        free(k);
      }
      p = skip_ws(p, end);
      if (p >= end)
        return -1;
      if (*p == '}') {
        p++;
        break;
      }
      if (*p++ != ',')
        return -1;
    }
  }
  if (skip_ws(p, end) != end)
    return -1; /* trailing garbage */
  return found;
}

int json_member_string(const char *s, size_t len, const char *key, char **out)
{
  const char *vb, *ve;
  *out = NULL;
  int r = find_member(s, len, key, &vb, &ve);
  if (r <= 0)
    return r;
  if (*vb != '"')
    return 0;
  *out = decode_string(vb, ve);
  return *out ? 1 : -1;
}

int json_member_number(const char *s, size_t len, const char *key, double *out)
{
  const char *vb, *ve;
  int r = find_member(s, len, key, &vb, &ve);
  if (r <= 0)
    return r;
  if (!(*vb == '-' || (*vb >= '0' && *vb <= '9')))
    return 0;
  char num[64];
  size_t n = (size_t)(ve - vb);
  if (n >= sizeof num)
    return -1;
  memcpy(num, vb, n);
  num[n] = '\0';
  *out = strtod(num, NULL);
  return 1;
}

int json_member_is_object(const char *s, size_t len)
{
  const char *vb, *ve;
  return find_member(s, len, NULL, &vb, &ve) == 0;
}
