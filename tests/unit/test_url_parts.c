/*
** url_parts_parse and url_parts_same_origin: the one URL parser of core.
*/
#include "check.h"
#include "http/url_parts.h"

static void test_parts(void)
{
  url_parts u;
  CHECK_EQ_INT(url_parts_parse("https://h.example:8443/a/b?q=1#f", &u),
               URL_PARTS_OK);
  CHECK_EQ_STR(u.scheme, "https");
  CHECK_EQ_STR(u.host, "h.example");
  CHECK_EQ_STR(u.port, "8443");
  CHECK_EQ_STR(u.origin_port, "8443");
  CHECK_EQ_STR(u.path, "/a/b");
  CHECK_EQ_STR(u.query, "q=1");
  CHECK_EQ_STR(u.fragment, "f");
  CHECK_NULL(u.user);
  url_parts_free(&u);

  CHECK_EQ_INT(url_parts_parse("http://[::1]/", &u), URL_PARTS_OK);
  CHECK_EQ_STR(u.host, "[::1]");
  CHECK_NULL(u.port);
  CHECK_EQ_STR(u.origin_port, "80");
  url_parts_free(&u);

  /* No scheme is guessed, and NULL is no URL. */
  CHECK_EQ_INT(url_parts_parse("mdb.example", &u), URL_PARTS_INVALID);
  CHECK_NULL(u.scheme);
  url_parts_free(&u);
  CHECK_EQ_INT(url_parts_parse(NULL, &u), URL_PARTS_INVALID);
  url_parts_free(&u);
}

static int same(const char *a, const char *b)
{
  url_parts pa, pb;
  int ra = url_parts_parse(a, &pa), rb = url_parts_parse(b, &pb);
  int r = ra == URL_PARTS_OK && rb == URL_PARTS_OK &&
          url_parts_same_origin(&pa, &pb);
  url_parts_free(&pa);
  url_parts_free(&pb);
  return r;
}

static void test_same_origin(void)
{
  CHECK(same("https://h/a", "https://h:443/b?x"));
  CHECK(same("HTTPS://H.example/a", "https://h.EXAMPLE/b"));
  CHECK(!same("https://h/a", "http://h/a"));
  CHECK(!same("https://h/a", "https://h:444/a"));
  CHECK(!same("https://h/a", "https://g/a"));
  CHECK(!same("https://h.example/a", "https://h.example.evil/a"));
}

int main(void)
{
  test_parts();
  test_same_origin();
  return check_summary();
}
