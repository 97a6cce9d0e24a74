#include "timefmt.h"

#include <ctype.h>
#include <string.h>

/* Howard Hinnant's civil-calendar algorithms; exact for the proleptic
 * Gregorian calendar over the whole int64 day range we care about. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void split(int64_t secs, int64_t *y, unsigned *mo, unsigned *d,
                  unsigned *h, unsigned *mi, unsigned *s)
{
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  civil_from_days(days, y, mo, d);
  *h = (unsigned)(rem / 3600);
  *mi = (unsigned)(rem / 60 % 60);
  *s = (unsigned)(rem % 60);
}

static char *put2(char *p, unsigned v)
{
  p[0] = (char)('0' + v / 10 % 10);
  p[1] = (char)('0' + v % 10);
  return p + 2;
}

/* Writes straight into reserved space: this runs twice per generated
 * backup, a couple of million times at start-up. */
static void put_time(struct buf *b, int64_t secs, int micros, bool compact)
{
  int64_t y;
  unsigned mo, d, h, mi, s;
  split(secs, &y, &mo, &d, &h, &mi, &s);
  unsigned year = (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y);
  buf_reserve(b, 32);
  char *p = b->data + b->len;
  p = put2(p, year / 100);
  p = put2(p, year % 100);
  if (!compact)
    *p++ = '-';
  p = put2(p, mo);
  if (!compact)
    *p++ = '-';
  p = put2(p, d);
  *p++ = 'T';
  p = put2(p, h);
  if (!compact)
    *p++ = ':';
  p = put2(p, mi);
  if (!compact)
    *p++ = ':';
  p = put2(p, s);
  if (micros >= 0 && !compact) {
    unsigned us = (unsigned)micros % 1000000;
    *p++ = '.';
    p = put2(p, us / 10000);
    p = put2(p, us / 100 % 100);
    p = put2(p, us % 100);
  }
  *p++ = 'Z';
  *p = '\0';
  b->len = (size_t)(p - b->data);
}

void time_put_rfc3339(struct buf *b, int64_t secs, int micros)
{
  put_time(b, secs, micros, false);
}

void time_put_compact(struct buf *b, int64_t secs)
{
  put_time(b, secs, -1, true);
}

static bool digits(const char *s, int n, unsigned *out)
{
  unsigned v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  *out = v;
  return true;
}

bool time_parse_rfc3339(const char *s, int64_t *secs)
{
  unsigned y, mo, d, h, mi, sec;
  if (strlen(s) < 20)
    return false;
  if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
      s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) ||
      s[16] != ':' || !digits(s + 17, 2, &sec))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return false;
  const char *p = s + 19;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p))
      return false;
    while (isdigit((unsigned char)*p))
      p++;
  }
  int64_t offset = 0;
  if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
    offset = 0;
  } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
    unsigned oh, om;
    if (!digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
      return false;
    offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
  } else {
    return false;
  }
  *secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  return true;
}
