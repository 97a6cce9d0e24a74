/*
** rfc3339_parse: shapes, ranges, calendar, offsets, fractions, length
** limits.  Expected epoch values were computed independently with
** `date -u -d ... +%s`; a calendar sweep cross-checks against timegm().
** Every string is parsed from an exactly-sized heap copy without a
** terminating NUL, so an over-read shows up under AddressSanitizer.
*/
#define _GNU_SOURCE
#include "check.h"
#include "text/rfc3339.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Parses the first `len` bytes of `s` from a heap copy of exactly that size. */
static int parse_n(const char *s, size_t len, rfc3339_time *out)
{
  char *copy = malloc(len ? len : 1);
  if (copy == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  memcpy(copy, s, len);
  int r = rfc3339_parse(copy, len, out);
  free(copy);
  return r;
}

#define PARSE_OK(s, esec, ensec)                         \
  do {                                                   \
    const char *s_ = (s);                                \
    rfc3339_time t_ = {-12345, -1};                      \
    CHECK_CONTEXT("%s", s_);                             \
    if (CHECK_EQ_INT(parse_n(s_, strlen(s_), &t_), 0)) { \
      CHECK_EQ_INT(t_.sec, (esec));                      \
      CHECK_EQ_INT(t_.nsec, (ensec));                    \
    }                                                    \
    CHECK_CONTEXT_CLEAR();                               \
  } while (0)

#define PARSE_BAD(s)                                \
  do {                                              \
    const char *s_ = (s);                           \
    rfc3339_time t_;                                \
    CHECK_CONTEXT("%s", s_);                        \
    CHECK_EQ_INT(parse_n(s_, strlen(s_), &t_), -1); \
    CHECK_CONTEXT_CLEAR();                          \
  } while (0)

static void test_basic_utc(void)
{
  PARSE_OK("1970-01-01T00:00:00Z", 0, 0);
  PARSE_OK("2024-01-01T00:00:00Z", 1704067200, 0);
  PARSE_OK("2000-02-29T12:34:56Z", 951827696, 0);
  PARSE_OK("2016-12-31T23:59:59Z", 1483228799, 0);
  PARSE_OK("2038-01-19T03:14:08Z", INT64_C(2147483648), 0); /* past int32 */
  PARSE_OK("2024-03-01T00:00:00Z", 1709251200, 0);
}

static void test_offsets(void)
{
  /* The design guide's own example. */
  PARSE_OK("2018-08-09T12:54:53+00:00", 1533819293, 0);
  PARSE_OK("2018-08-09T12:54:53-00:00", 1533819293, 0);
  PARSE_OK("2021-06-15T10:20:30+03:00", 1623741630, 0);
  PARSE_OK("2021-06-15T07:20:30Z", 1623741630, 0);
  PARSE_OK("1970-01-01T00:00:00+00:01", -60, 0);
  PARSE_OK("1970-01-01T00:00:00-00:01", 60, 0);
  PARSE_OK("1970-01-01T05:30:00+05:30", 0, 0);
  PARSE_OK("1970-01-01T00:00:00+23:59", -86340, 0);
  PARSE_OK("1970-01-01T00:00:00-23:59", 86340, 0);
  /* Offsets that move the instant across midnight and the year. */
  PARSE_OK("2023-12-31T23:30:00-01:00", 1704069000, 0); /* 2024-01-01T00:30Z */
  PARSE_OK("2024-01-01T00:30:00+01:00", 1704065400, 0); /* 2023-12-31T23:30Z */
  PARSE_OK("2024-03-01T00:30:00+01:00", 1709249400, 0); /* 2024-02-29T23:30Z */
  /* Fraction and offset together. */
  PARSE_OK("2021-06-15T10:20:30.5+03:00", 1623741630, 500000000);
  PARSE_OK("2021-06-15T10:20:30.000000001-00:00", 1623752430, 1);

  PARSE_BAD("2024-01-01T00:00:00+24:00");
  PARSE_BAD("2024-01-01T00:00:00+01:60");
  PARSE_BAD("2024-01-01T00:00:00+0100");
  PARSE_BAD("2024-01-01T00:00:00+01");
  PARSE_BAD("2024-01-01T00:00:00+1:00");
  PARSE_BAD("2024-01-01T00:00:00+01:0");
  PARSE_BAD("2024-01-01T00:00:00+01:000");
  PARSE_BAD("2024-01-01T00:00:00+01-00");
  PARSE_BAD("2024-01-01T00:00:00+a1:00");
  PARSE_BAD("2024-01-01T00:00:00++1:00");
  PARSE_BAD("2024-01-01T00:00:00 +01:00");
  PARSE_BAD("2024-01-01T00:00:00+01:00Z");
  PARSE_BAD("2024-01-01T00:00:00Z+01:00");
  PARSE_BAD("2024-01-01T00:00:00UTC");
}

static void test_fractions(void)
{
  static const char digits[] = "123456789";
  static const int32_t want[10] = {0,         100000000, 120000000, 123000000,
                                   123400000, 123450000, 123456000, 123456700,
                                   123456780, 123456789};
  char buf[64];
  for (int n = 1; n <= 9; n++) {
    snprintf(buf, sizeof buf, "2024-01-01T00:00:00.%.*sZ", n, digits);
    PARSE_OK(buf, 1704067200, want[n]);
  }
  PARSE_OK("2024-01-01T00:00:00.000000001Z", 1704067200, 1);
  PARSE_OK("2024-01-01T00:00:00.999999999Z", 1704067200, 999999999);
  PARSE_OK("2024-01-01T00:00:00.000000000Z", 1704067200, 0);
  PARSE_OK("2024-01-01T00:00:00.0Z", 1704067200, 0);
  PARSE_OK("2024-01-01T00:00:00.05Z", 1704067200, 50000000);
  PARSE_OK("2024-01-01T00:00:00.000001Z", 1704067200, 1000);

  PARSE_BAD("2024-01-01T00:00:00.1234567890Z"); /* 10 digits */
  PARSE_BAD("2024-01-01T00:00:00.0000000000Z");
  PARSE_BAD("2024-01-01T00:00:00.Z"); /* bare '.' */
  PARSE_BAD("2024-01-01T00:00:00.+01:00");
  PARSE_BAD("2024-01-01T00:00:00.");
  PARSE_BAD("2024-01-01T00:00:00..5Z");
  PARSE_BAD("2024-01-01T00:00:00,5Z");
  PARSE_BAD("2024-01-01T00:00:00.5aZ");
  PARSE_BAD("2024-01-01T00:00:00.-5Z");
  PARSE_BAD("2024-01-01T00:00:00.5 Z");
}

static void test_lowercase(void)
{
  PARSE_OK("2024-02-29t00:00:00z", 1709164800, 0);
  PARSE_OK("2024-02-29t00:00:00Z", 1709164800, 0);
  PARSE_OK("2024-02-29T00:00:00z", 1709164800, 0);
  PARSE_OK("2024-02-29t03:00:00.25+03:00", 1709164800, 250000000);
  PARSE_BAD("2024-02-29 00:00:00Z");
  PARSE_BAD("2024-02-29x00:00:00Z");
  PARSE_BAD("2024-02-29T00:00:00x");
}

static void test_leap_years(void)
{
  PARSE_OK("2024-02-29T00:00:00Z", 1709164800, 0);
  PARSE_OK("2000-02-29T00:00:00Z", 951782400, 0);
  PARSE_OK("1600-02-29T00:00:00Z", INT64_C(-135081) * 86400, 0);
  PARSE_BAD("2023-02-29T00:00:00Z");
  PARSE_BAD("1900-02-29T00:00:00Z");
  PARSE_BAD("2100-02-29T00:00:00Z");
  PARSE_BAD("2024-02-30T00:00:00Z");
  PARSE_OK("2023-02-28T00:00:00Z", 1677542400, 0);
  PARSE_OK("1900-02-28T00:00:00Z", INT64_C(-2203977600), 0);
}

static void test_field_ranges(void)
{
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  char buf[64];
  for (int m = 1; m <= 12; m++) {
    snprintf(buf, sizeof buf, "2023-%02d-%02dT00:00:00Z", m, dim[m - 1]);
    CHECK_CONTEXT("%s", buf);
    rfc3339_time t;
    CHECK_EQ_INT(parse_n(buf, strlen(buf), &t), 0);
    snprintf(buf, sizeof buf, "2023-%02d-%02dT00:00:00Z", m, dim[m - 1] + 1);
    PARSE_BAD(buf);
    snprintf(buf, sizeof buf, "2023-%02d-00T00:00:00Z", m);
    PARSE_BAD(buf);
  }
  PARSE_BAD("2024-00-10T00:00:00Z");
  PARSE_BAD("2024-13-10T00:00:00Z");
  PARSE_BAD("2024-99-10T00:00:00Z");
  PARSE_BAD("2024-01-32T00:00:00Z");
  PARSE_BAD("2024-04-31T00:00:00Z");
  PARSE_BAD("2024-01-01T24:00:00Z");
  PARSE_BAD("2024-01-01T25:00:00Z");
  PARSE_BAD("2024-01-01T00:60:00Z");
  PARSE_BAD("2024-01-01T00:00:61Z");
  PARSE_BAD("2024-01-01T00:00:99Z");
  PARSE_OK("2024-01-01T23:59:59Z", 1704067200 + 86399, 0);
  PARSE_OK("2024-12-31T00:00:00Z", 1735603200, 0);
}

static void test_leap_second(void)
{
  /* :60 counts as the first second of the next minute. */
  PARSE_OK("2016-12-31T23:59:60Z", 1483228800, 0);
  PARSE_OK("2017-01-01T00:00:00Z", 1483228800, 0);
  PARSE_OK("2016-12-31T23:59:60.5Z", 1483228800, 500000000);
  PARSE_OK("2017-01-01T02:59:60+03:00", 1483228800, 0);
}

static void test_extremes(void)
{
  PARSE_OK("0001-01-01T00:00:00Z", INT64_C(-62135596800), 0);
  PARSE_OK("9999-12-31T23:59:59.999999999Z", INT64_C(253402300799), 999999999);
  PARSE_OK("9999-12-31T23:59:59Z", INT64_C(253402300799), 0);
  /* Before 1970: negative seconds, nsec still 0..999999999. */
  PARSE_OK("1969-12-31T23:59:59Z", -1, 0);
  PARSE_OK("1969-12-31T23:59:59.5Z", -1, 500000000);
  PARSE_OK("1900-01-01T00:00:00Z", INT64_C(-2208988800), 0);
  PARSE_OK("1600-03-01T00:00:00Z", INT64_C(-11670912000), 0);
}

static void test_shape(void)
{
  PARSE_BAD("");
  PARSE_BAD("Z");
  PARSE_BAD("2024-01-01");
  PARSE_BAD("2024-01-01T00:00:00"); /* no zone */
  PARSE_BAD("2024-01-01T00:00Z");   /* no seconds */
  PARSE_BAD(" 2024-01-01T00:00:00Z");
  PARSE_BAD("2024/01/01T00:00:00Z");
  PARSE_BAD("2024-01-01T00.00.00Z");
  PARSE_BAD("24-01-01T00:00:00Z");
  PARSE_BAD("+2024-01-01T00:00:00Z");
  PARSE_BAD("-2024-01-01T00:00:00Z");
  PARSE_BAD("2024-1-01T00:00:00Z");
  PARSE_BAD("2024-01-1T00:00:00Z");
  PARSE_BAD("2024-01-01T0:00:00Z");
  PARSE_BAD("2024-01-01T00:0:00Z");
  PARSE_BAD("2024-01-01T00:00:0Z");
  PARSE_BAD("202a-01-01T00:00:00Z");
  PARSE_BAD("2024-0a-01T00:00:00Z");
  PARSE_BAD("2024-01-0aT00:00:00Z");
  PARSE_BAD("2024-01-01T0a:00:00Z");
  PARSE_BAD("2024-01-01T00:0a:00Z");
  PARSE_BAD("2024-01-01T00:00:0aZ");
  PARSE_BAD("2024-01-01T 0:00:00Z");
  PARSE_BAD("2024-01-01T-1:00:00Z");
  PARSE_BAD("12345-01-01T00:00:00Z");
  /* Trailing garbage. */
  PARSE_BAD("2024-01-01T00:00:00Zx");
  PARSE_BAD("2024-01-01T00:00:00Z ");
  PARSE_BAD("2024-01-01T00:00:00ZZ");
  PARSE_BAD("2024-01-01T00:00:00Z\n");
  PARSE_BAD("2024-01-01T00:00:00.5Zjunk");
  PARSE_BAD("2024-01-01T00:00:00+01:00 ");
}

/* Every proper prefix of a valid timestamp is rejected. */
static void test_truncated(void)
{
  static const char *const full[] = {
      "2024-01-01T00:00:00Z",
      "2024-01-01T00:00:00.123456789Z",
      "2021-06-15T10:20:30+03:00",
      "2021-06-15T10:20:30.5-03:00",
  };
  for (size_t k = 0; k < sizeof full / sizeof full[0]; k++) {
    size_t n = strlen(full[k]);
    rfc3339_time t;
    CHECK_CONTEXT("%s full", full[k]);
    CHECK_EQ_INT(parse_n(full[k], n, &t), 0);
    for (size_t len = 0; len < n; len++) {
      CHECK_CONTEXT("%s cut to %zu", full[k], len);
      CHECK_EQ_INT(parse_n(full[k], len, &t), -1);
    }
    CHECK_CONTEXT_CLEAR();
  }
}

/* Only `len` bytes count: what follows them is never looked at. */
static void test_length_limited(void)
{
  rfc3339_time t = {0, 0};
  const char *s = "2024-01-01T00:00:00Zjunk";
  CHECK_EQ_INT(parse_n(s, 20, &t), 0);
  CHECK_EQ_INT(t.sec, 1704067200);
  CHECK_EQ_INT(t.nsec, 0);
  CHECK_EQ_INT(rfc3339_parse(s, strlen(s), &t), -1);

  s = "2024-01-01T00:00:00.5Z\"}, {\"next\": 1}";
  CHECK_EQ_INT(parse_n(s, 22, &t), 0);
  CHECK_EQ_INT(t.sec, 1704067200);
  CHECK_EQ_INT(t.nsec, 500000000);

  /* A fraction cut short by len: the zone is outside the counted bytes. */
  s = "2024-01-01T00:00:00.123Z";
  CHECK_EQ_INT(parse_n(s, 22, &t), -1);
  CHECK_EQ_INT(parse_n(s, 23, &t), -1);
  CHECK_EQ_INT(parse_n(s, 24, &t), 0);
  CHECK_EQ_INT(t.nsec, 123000000);

  /* The valid prefix "…Z" of a longer timestamp with an offset. */
  s = "2024-01-01T00:00:00Z+01:00";
  CHECK_EQ_INT(parse_n(s, 20, &t), 0);
  CHECK_EQ_INT(t.sec, 1704067200);

  /* An offset cut inside the counted length. */
  s = "2024-01-01T01:00:00+01:00";
  CHECK_EQ_INT(parse_n(s, 25, &t), 0);
  CHECK_EQ_INT(t.sec, 1704067200);
  CHECK_EQ_INT(parse_n(s, 24, &t), -1);

  /* A NUL inside the counted bytes is not a terminator. */
  char withnul[21];
  memcpy(withnul, "2024-01-01T00:00:00Z", 20);
  withnul[20] = '\0';
  CHECK_EQ_INT(rfc3339_parse(withnul, 21, &t), -1);
  withnul[19] = '\0';
  CHECK_EQ_INT(rfc3339_parse(withnul, 20, &t), -1);
}

static void test_null(void)
{
  rfc3339_time t = {0, 0};
  CHECK_EQ_INT(rfc3339_parse(NULL, 0, &t), -1);
  CHECK_EQ_INT(rfc3339_parse(NULL, 20, &t), -1);
  CHECK_EQ_INT(rfc3339_parse(NULL, 30, &t), -1);
}

static void test_days_from_civil(void)
{
  CHECK_EQ_INT(rfc3339_days_from_civil(1970, 1, 1), 0);
  CHECK_EQ_INT(rfc3339_days_from_civil(1969, 12, 31), -1);
  CHECK_EQ_INT(rfc3339_days_from_civil(1970, 1, 2), 1);
  CHECK_EQ_INT(rfc3339_days_from_civil(2000, 3, 1), 11017);
  CHECK_EQ_INT(rfc3339_days_from_civil(2024, 2, 29), 19782);
  CHECK_EQ_INT(rfc3339_days_from_civil(2100, 3, 1), 47541);
  CHECK_EQ_INT(rfc3339_days_from_civil(1600, 2, 29), -135081);
  CHECK_EQ_INT(rfc3339_days_from_civil(1, 1, 1), -719162);
  CHECK_EQ_INT(rfc3339_days_from_civil(9999, 12, 31), 2932896);
}

static void test_to_double(void)
{
  rfc3339_time t = {1, 500000000};
  CHECK(rfc3339_to_double(t) == 1.5);
  t.sec = -1;
  CHECK(rfc3339_to_double(t) == -0.5);
  t.sec = 1704067200;
  t.nsec = 0;
  CHECK(rfc3339_to_double(t) == 1704067200.0);
  t.nsec = 250000000;
  CHECK(rfc3339_to_double(t) == 1704067200.25);
  t.sec = 0;
  t.nsec = 0;
  CHECK(rfc3339_to_double(t) == 0.0);
}

/*
** Every day of 1899-12-25 .. 2101-01-05 at 13:14:15, against glibc's
** timegm() (an independent implementation), plus the next day after the
** month's last day being rejected.
*/
static void test_calendar_sweep(void)
{
  int64_t start = rfc3339_days_from_civil(1899, 12, 25);
  int mismatches = 0, checked = 0;
  for (int64_t day = start; day < start + 73800; day++) {
    time_t tt = (time_t)(day * 86400 + 13 * 3600 + 14 * 60 + 15);
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL) {
      mismatches++;
      continue;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    rfc3339_time t = {0, -1};
    int r = parse_n(buf, strlen(buf), &t);
    if (r != 0 || t.sec != (int64_t)timegm(&tm) || t.nsec != 0) {
      if (mismatches++ < 5)
        fprintf(stderr, "sweep: %s -> r=%d sec=%lld\n", buf, r,
                (long long)t.sec);
    }
    checked++;
  }
  CHECK_EQ_INT(checked, 73800);
  CHECK_EQ_INT(mismatches, 0);
}

int main(void)
{
  test_basic_utc();
  test_offsets();
  test_fractions();
  test_lowercase();
  test_leap_years();
  test_field_ranges();
  test_leap_second();
  test_extremes();
  test_shape();
  test_truncated();
  test_length_limited();
  test_null();
  test_days_from_civil();
  test_to_double();
  test_calendar_sweep();
  return check_summary();
}
