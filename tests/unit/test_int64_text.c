/* int64_text_parse: exact int64 strings only. */
#include "check.h"
#include "text/int64_text.h"

#include <stdint.h>
#include <string.h>

static int ok(const char *s, int64_t want)
{
  int64_t v = 12345;
  return int64_text_parse(s, strlen(s), &v) == 0 && v == want;
}

static int bad(const char *s)
{
  int64_t v = 12345;
  return int64_text_parse(s, strlen(s), &v) == -1 && v == 12345;
}

int main(void)
{
  CHECK(ok("0", 0));
  CHECK(ok("-0", 0));
  CHECK(ok("7", 7));
  CHECK(ok("0010", 10));
  CHECK(ok("10737418240", 10737418240LL));
  CHECK(ok("9007199254740993", 9007199254740993LL)); /* beyond 2^53 */
  CHECK(ok("9223372036854775807", INT64_MAX));
  CHECK(ok("-9223372036854775808", INT64_MIN));
  CHECK(ok("-42", -42));
  CHECK(bad("9223372036854775808"));
  CHECK(bad("-9223372036854775809"));
  CHECK(bad("99999999999999999999"));
  CHECK(bad("00000000000000000001")); /* 20 digits */
  CHECK(bad(""));
  CHECK(bad("-"));
  CHECK(bad("+5"));
  CHECK(bad(" 5"));
  CHECK(bad("5 "));
  CHECK(bad("5.0"));
  CHECK(bad("1e3"));
  CHECK(bad("12abc"));
  CHECK(bad("0x10"));
  CHECK(bad("--1"));
  int64_t v;
  CHECK_EQ_INT(int64_text_parse(NULL, 0, &v), -1);
  CHECK_EQ_INT(int64_text_parse("123", 2, &v), 0); /* length honoured */
  CHECK_EQ_INT(v, 12);
  return check_summary();
}
