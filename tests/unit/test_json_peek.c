/*
** json_peek_string: the early guess of nextPageToken.  A guess may be
** missing (then the page is simply fetched after decoding) but must never
** come from anywhere except the top-level member with a plain string.
*/
#include "check.h"
#include "text/json_peek.h"

#include <stdlib.h>
#include <string.h>

static const char *KEY = "nextPageToken";

/* The guessed value, or "(none)". */
static const char *peek(const char *s)
{
  static char out[256];
  const char *v;
  size_t n;
  if (!json_peek_string(s, strlen(s), KEY, &v, &n))
    return "(none)";
  memcpy(out, v, n);
  out[n] = '\0';
  return out;
}

int main(void)
{
  /* the usual layout: the token last */
  CHECK_EQ_STR(peek("{\"backups\":[{\"id\":\"a\"}],\"nextPageToken\":\"t1\"}"),
               "t1");
  CHECK_EQ_STR(peek("{\"backups\":[] , \"nextPageToken\" : \"t2\" }\n"), "t2");
  /* strings with braces, brackets and quotes inside values */
  CHECK_EQ_STR(
      peek("{\"backups\":[{\"a\":\"}]\\\"{[\"}],\"nextPageToken\":\"t3\"}"),
      "t3");
  /* the token first, or in the middle */
  CHECK_EQ_STR(peek("{\"nextPageToken\":\"t4\",\"backups\":[{\"x\":1}]}"),
               "t4");
  CHECK_EQ_STR(
      peek("{\"a\":[1,{\"b\":null}],\"nextPageToken\":\"t5\",\"c\":true}"),
      "t5");
  /* only top-level members count */
  CHECK_EQ_STR(peek("{\"backups\":[{\"nextPageToken\":\"inner\"}]}"), "(none)");
  CHECK_EQ_STR(peek("{\"x\":{\"nextPageToken\":\"inner\"}}"), "(none)");
  CHECK_EQ_STR(
      peek("{\"x\":{\"nextPageToken\":\"inner\"},\"nextPageToken\":\"outer\"}"),
      "outer");
  /* not a plain string: no guess */
  CHECK_EQ_STR(peek("{\"backups\":[],\"nextPageToken\":\"a\\\"b\"}"), "(none)");
  CHECK_EQ_STR(peek("{\"backups\":[],\"nextPageToken\":5}"), "(none)");
  CHECK_EQ_STR(peek("{\"backups\":[],\"nextPageToken\":null}"), "(none)");
  CHECK_EQ_STR(peek("{\"backups\":[],\"nextPageToken\":\"\"}"), "");
  CHECK_EQ_STR(peek("{\"backups\":[]}"), "(none)");
  CHECK_EQ_STR(peek("{\"backups\":[],\"nextPageTokenX\":\"no\"}"), "(none)");
  CHECK_EQ_STR(peek("{\"backups\":[],\"next\\u0050ageToken\":\"no\"}"),
               "(none)");
  /* not one JSON object, or cut short */
  CHECK_EQ_STR(peek("[\"nextPageToken\",\"x\"]"), "(none)");
  CHECK_EQ_STR(peek("\"nextPageToken\":\"x\"}"), "(none)");
  CHECK_EQ_STR(peek(""), "(none)");
  CHECK_EQ_STR(peek("{\"nextPageToken\":\"unterminated"), "(none)");
  CHECK_EQ_STR(peek("{\"backups\":[{\"a\":\"b\"},\"nextPageToken\":\"t\""),
               "(none)");
  /* a length shorter than the text is honoured */
  const char *s = "{\"nextPageToken\":\"abc\"}";
  const char *v;
  size_t n;
  CHECK_EQ_INT(json_peek_string(s, strlen(s) - 1, KEY, &v, &n), 0);
  /* every prefix of a valid page is handled without reading past it */
  const char *page =
      "{\"backups\":[{\"id\":\"x\",\"s\":\"}\"}],\"nextPageToken\":\"zz\"}";
  for (size_t len = 0; len < strlen(page); len++) {
    char *buf = malloc(len ? len : 1); /* exact size: ASan sees overreads */
    memcpy(buf, page, len);
    int r = json_peek_string(buf, len, KEY, &v, &n);
    CHECK(r == 0 || (v >= buf && v + n <= buf + len));
    free(buf);
  }
  /* an empty response may come without a buffer (UBSan: no NULL to mem*) */
  CHECK_EQ_INT(json_peek_string(NULL, 0, KEY, &v, &n), 0);
  /* no quoted key anywhere: no member, whatever else the page holds */
  CHECK_EQ_INT(
      json_peek_string("{\"backups\":[{\"nextPageToke\":\"x\"}]}",
                       strlen("{\"backups\":[{\"nextPageToke\":\"x\"}]}"), KEY,
                       &v, &n),
      0);
  return check_summary();
}
