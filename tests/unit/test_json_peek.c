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

/* The element texts json_peek_array gives for member "backups" of `s`,
** joined by '|', then "=R" with its return value. */
static char elements_out[512];
struct elements_ud {
  const char *s;
  int stop_at; /* return 7 at this element (1-based), 0: never */
  int n;
};

static int on_element(void *ud, size_t start, size_t end)
{
  struct elements_ud *e = ud;
  size_t used = strlen(elements_out);
  snprintf(elements_out + used, sizeof elements_out - used, "%s%.*s",
           e->n ? "|" : "", (int)(end - start), e->s + start);
  return ++e->n == e->stop_at ? 7 : 0;
}

static const char *elements(const char *s, int stop_at)
{
  struct elements_ud e = {s, stop_at, 0};
  elements_out[0] = '\0';
  int r = json_peek_array(s, strlen(s), "backups", on_element, &e);
  size_t used = strlen(elements_out);
  snprintf(elements_out + used, sizeof elements_out - used, "=%d", r);
  return elements_out;
}

/* Pages and what elements() makes of them: the elements cut, joined by
** "|", then "=" and json_peek_array's return. */
static const struct {
  const char *page, *want;
} array_cases[] = {
    {"{\"backups\":[]}", "=0"},
    {"{\"backups\":[ ]}", "=0"},
    {"{\"backups\":[{\"id\":\"a\"},{\"id\":\"b\"}]}",
     "{\"id\":\"a\"}|{\"id\":\"b\"}=0"},
    /* blanks around elements are left out, kept inside them */
    {"{ \"backups\" : [\n  {\"id\": \"a\"} ,\n\t{ }\n ] }",
     "{\"id\": \"a\"}|{ }=0"},
    /* brackets, braces and escaped quotes inside strings; nested values */
    {"{\"backups\":[{\"s\":\"]},[{\\\"\",\"n\":[1,[2]],"
     "\"o\":{\"p\":{}}},3,"
     "\"x\",null,true,-1.5e3]}",
     "{\"s\":\"]},[{\\\"\",\"n\":[1,[2]],\"o\":{\"p\":{}}}|3|\"x\"|"
     "null|true|-1.5e3=0"},
    /* a quote closes a string after an even run of backslashes (escaped
    ** backslashes), not after an odd one (an escaped quote) */
    {"{\"backups\":[{\"s\":\"a\\\\\"},"
     "{\"s\":\"b\\\\\\\"]\"},\"\\\\\\\\\",\"\"]}",
     "{\"s\":\"a\\\\\"}|{\"s\":\"b\\\\\\\"]\"}|\"\\\\\\\\\"|\"\"=0"},
    /* a later member lua-cjson may decode instead (it keeps the last of
    ** repeated keys, unescaped): refused, after the elements were cut */
    {"{\"backups\":[{\"id\":\"a\"}],"
     "\"backups\":[{\"id\":\"b\"}]}",
     "{\"id\":\"a\"}=-1"},
    {"{\"backups\":[],\"backups\":[1]}", "=-1"},
    {"{\"backups\":[1],\"back\\u0075ps\":[2]}", "1=-1"},
    {"{\"backups\":[1],\"n\\\"\":2}", "1=-1"},
    /* ... but not an earlier escaped one (the later member is this one), a
    ** nested one, or other members after it */
    {"{\"back\\u0075ps\":[0],\"backups\":[1]}", "1=0"},
    {"{\"backups\":[1],\"x\":{\"backups\":[2]},"
     "\"nextPageToken\":\"t\",\"n\":[{\"backups\":3}]}",
     "1=0"},
    /* after the array, the object must close */
    {"{\"backups\":[1],\"x\":2", "1=-1"},
    {"{\"backups\":[1],}", "1=-1"},
    {"{\"backups\":[1]", "1=-1"},
    /* the member is found after others, and only at the top level */
    {"{\"x\":{\"backups\":[1]},\"backups\":[2],\"nextPageToken\":\"t\"}",
     "2=0"},
    {"{\"x\":{\"backups\":[1]}}", "=-1"},
    /* absent, not an array, not an object, malformed: -1 */
    {"{\"clusters\":[1]}", "=-1"},
    {"{\"backups\":{\"a\":1}}", "=-1"},
    {"[{\"backups\":[1]}]", "=-1"},
    {"{\"backups\":[1,,2]}", "1=-1"},
    {"{\"backups\":[1 2]}", "1=-1"},
    {"{\"backups\":[{\"a\":1}", "=-1"},
    {"{\"backups\":[{\"a\":\"1}]}", "=-1"},
    {"", "=-1"},
};

static void test_array_elements(void)
{
  for (size_t i = 0; i < sizeof array_cases / sizeof array_cases[0]; i++) {
    CHECK_CONTEXT("%s", array_cases[i].page);
    CHECK_EQ_STR(elements(array_cases[i].page, 0), array_cases[i].want);
  }
  CHECK_CONTEXT_CLEAR();
  CHECK_EQ_INT(json_peek_array(NULL, 0, "backups", on_element, NULL), -1);
  /* each's nonzero return stops the walk and is returned */
  CHECK_EQ_STR(elements("{\"backups\":[1,2,3]}", 2), "1|2=7");
  /* every prefix of a valid page is handled without reading past it */
  const char *page =
      "{\"backups\":[{\"id\":\"x\",\"s\":\"]\"},[1]],\"t\":\"zz\"}";
  for (size_t len = 0; len <= strlen(page); len++) {
    char *buf = malloc(len ? len : 1); /* exact size: ASan sees overreads */
    memcpy(buf, page, len);
    struct elements_ud e = {buf, 0, 0};
    elements_out[0] = '\0';
    int r = json_peek_array(buf, len, "backups", on_element, &e);
    CHECK_CONTEXT("prefix of %zu bytes", len);
    /* only the whole object: a later member may yet be cut short */
    CHECK_EQ_INT(r, len == strlen(page) ? 0 : -1);
    free(buf);
  }
  CHECK_CONTEXT_CLEAR();
}

/* The first element's text, "(empty)", or "(-1)". */
static const char *first_of(const char *s)
{
  static char out[64];
  size_t start = 99, end = 99;
  int r = json_peek_first_element(s, strlen(s), "backups", &start, &end);
  if (r == 1)
    snprintf(out, sizeof out, "%.*s", (int)(end - start), s + start);
  else
    snprintf(out, sizeof out, "(%s)", r == 0 ? "empty" : "-1");
  return out;
}

static void test_first_element(void)
{
  CHECK_EQ_STR(first_of("{\"backups\":[ {\"id\":\"a\"} ,{\"id\":\"b\"}],"
                        "\"nextPageToken\":\"t\"}"),
               "{\"id\":\"a\"}");
  CHECK_EQ_STR(first_of("{\"nextPageToken\":\"t\",\"backups\":[[1],2]}"),
               "[1]");
  CHECK_EQ_STR(first_of("{\"backups\":[],\"nextPageToken\":\"t\"}"), "(empty)");
  CHECK_EQ_STR(first_of("{\"clusters\":[1]}"), "(-1)");
  const char *one = "{\"backups\":[7]}";
  CHECK_EQ_INT(json_peek_first_element(one, strlen(one), "backups", NULL, NULL),
               1);
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
  test_array_elements();
  test_first_element();
  return check_summary();
}
