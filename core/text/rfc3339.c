#include "text/rfc3339.h"

/* Reads `n` decimal digits at *p; -1 when any of them is not a digit. */
static int digits(const char *p, int n)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

static int is_leap(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Howard Hinnant's days_from_civil: exact for every proleptic date. */
int64_t rfc3339_days_from_civil(int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int rfc3339_parse(const char *s, size_t len, rfc3339_time *out)
{
  /* Shortest form: "YYYY-MM-DDTHH:MM:SSZ" (20 bytes). */
  if (s == NULL || len < 20)
    return -1;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return -1;
  int year = digits(s, 4), mon = digits(s + 5, 2), day = digits(s + 8, 2);
  int hour = digits(s + 11, 2), min = digits(s + 14, 2),
      sec = digits(s + 17, 2);
  if (year < 0 || mon < 1 || mon > 12 || day < 1 ||
      day > days_in_month(year, mon) || hour < 0 || hour > 23 || min < 0 ||
      min > 59 || sec < 0 || sec > 60)
    return -1;

  size_t i = 19;
  int32_t nsec = 0;
  if (i < len && s[i] == '.') {
    i++;
    int n = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      if (++n > 9)
        return -1;
      nsec = nsec * 10 + (s[i] - '0');
      i++;
    }
    if (n == 0)
      return -1;
    for (; n < 9; n++)
      nsec *= 10;
  }

  int offset = 0; /* seconds east of UTC */
  if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
    i++;
  } else if (i < len && (s[i] == '+' || s[i] == '-')) {
    if (len - i < 6 || s[i + 3] != ':')
      return -1;
    int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59)
      return -1;
    offset = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return -1;
  }
  if (i != len)
    return -1;

  int64_t days = rfc3339_days_from_civil(year, mon, day);
  out->sec = days * 86400 + hour * 3600 + min * 60 + sec - offset;
  out->nsec = nsec;
  return 0;
}

double rfc3339_to_double(rfc3339_time t)
{
  return (double)t.sec + (double)t.nsec / 1e9;
}
