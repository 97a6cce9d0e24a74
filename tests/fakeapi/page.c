#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static char *put(char *p, const char *s, size_t n)
{
  memcpy(p, s, n);
  return p + n;
}

char *page_render(const char *list_key, const struct item_list *items,
                  size_t offset, size_t count, const char *next_token,
                  size_t *len)
{
  static const char token_open[] = "],\"nextPageToken\":\"";
  size_t key_len = strlen(list_key);
  size_t token_len = next_token ? strlen(next_token) : 0;

  size_t total = 2 + key_len + 3 + (count ? count - 1 : 0) + 1 + 1;
  for (size_t i = 0; i < count; i++)
    total += items->items[items->idx[offset + i]].len;
  if (next_token)
    total += sizeof token_open - 2 + token_len + 1;

  char *body = xmalloc(total + 1);
  char *p = body;
  p = put(p, "{\"", 2);
  p = put(p, list_key, key_len);
  p = put(p, "\":[", 3);
  for (size_t i = 0; i < count; i++) {
    const struct json_item *it = &items->items[items->idx[offset + i]];
    if (i)
      *p++ = ',';
    p = put(p, it->json, it->len);
  }
  if (next_token) {
    p = put(p, token_open, sizeof token_open - 1);
    p = put(p, next_token, token_len);
    *p++ = '"';
  } else {
    *p++ = ']';
  }
  *p++ = '}';
  *p = '\0';
  *len = (size_t)(p - body);
  return body;
}
