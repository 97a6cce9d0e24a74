#include "text/g14_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { PRECISION = 14 };

static const uint64_t pow10_u64[] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL};

static size_t by_printf(char *buf, double d)
{
  int n = snprintf(buf, G14_TEXT_SIZE, "%.14g", d);
  return n > 0 && n < G14_TEXT_SIZE ? (size_t)n : 0;
}

/* Digits of v, most significant first, exactly `width` of them. */
static void put_digits(char *out, uint64_t v, int width)
{
  for (int i = width - 1; i >= 0; i--) {
    out[i] = (char)('0' + v % 10);
    v /= 10;
  }
}

size_t g14_text(char buf[G14_TEXT_SIZE], double d)
{
  double a = fabs(d);
  /* 1 <= a < 1e14: "%.14g" writes it as a fixed-point number */
  if (!(a >= 1.0 && a < 1e14))
    return by_printf(buf, d);
  int e2;
  double frac = frexp(a, &e2);            /* a = frac * 2^e2, 0.5 <= frac < 1 */
  uint64_t m = (uint64_t)ldexp(frac, 53); /* a = m * 2^(e2 - 53), exactly */
  int shift = e2 - 53;
  uint64_t whole = (uint64_t)a;
  int digits = 1;
  while (digits < PRECISION && whole >= pow10_u64[digits])
    digits++;
  int decimals = PRECISION - digits;
  /* n = a * 10^decimals = m * 5^decimals * 2^(shift + decimals), rounded
  ** to an integer, ties to even */
  unsigned __int128 p = (unsigned __int128)m;
  for (int i = 0; i < decimals; i++)
    p *= 5;
  int s = shift + decimals;
  uint64_t n;
  if (s >= 0) {
    if (s > 20)
      return by_printf(buf, d);
    p <<= s;
    n = (uint64_t)p;
    if (p >= pow10_u64[PRECISION])
      return by_printf(buf, d);
  } else {
    int r = -s;
    if (r > 120)
      return by_printf(buf, d);
    unsigned __int128 q = p >> r, rem = p - (q << r);
    unsigned __int128 half = (unsigned __int128)1 << (r - 1);
    if (rem > half || (rem == half && (q & 1)))
      q++;
    if (q >= pow10_u64[PRECISION]) /* rounded up to one more digit */
      return by_printf(buf, d);
    n = (uint64_t)q;
  }
  size_t len = 0;
  if (d < 0)
    buf[len++] = '-';
  uint64_t scale = pow10_u64[decimals];
  uint64_t int_part = n / scale, frac_part = n % scale;
  if (int_part >= pow10_u64[digits]) /* 9.99.. rounded up to 10 */
    return by_printf(buf, d);
  put_digits(buf + len, int_part, digits);
  len += (size_t)digits;
  if (frac_part != 0) {
    int keep = decimals;
    while (frac_part % 10 == 0) { /* %g drops trailing zeros */
      frac_part /= 10;
      keep--;
    }
    buf[len++] = '.';
    put_digits(buf + len, frac_part, keep);
    len += (size_t)keep;
  }
  return len;
}
