/* g14_text: byte for byte what snprintf's "%.14g" writes. */
#include "check.h"
#include "text/g14_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned long mismatches;

static int same(double d)
{
  char want[64], got[G14_TEXT_SIZE];
  snprintf(want, sizeof want, "%.14g", d);
  size_t n = g14_text(got, d);
  if (n == strlen(want) && memcmp(got, want, n) == 0)
    return 1;
  if (mismatches++ < 5)
    fprintf(stderr, "g14_text(%.17g): \"%.*s\", printf: \"%s\"\n", d, (int)n,
            got, want);
  return 0;
}

/* xorshift64*: the same values on every run */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545f4914f6cdd1dULL;
}

static int all_same(double (*gen)(void), long count)
{
  unsigned long before = mismatches;
  for (long i = 0; i < count; i++) {
    double d = gen();
    same(d);
    same(-d);
  }
  return mismatches == before;
}

/* Unix times to the microsecond and nanosecond, as listings carry. */
static double time_us(void)
{
  return (double)(1.5e9 + (double)(next() % 400000000)) +
         (double)(next() % 1000000) / 1e6;
}
static double time_ns(void)
{
  return (double)(1.5e9 + (double)(next() % 400000000)) +
         (double)(next() % 1000000000) / 1e9;
}
/* Any double of 1 to 1e14 (and beyond, where printf writes it). */
static double any_bits(void)
{
  uint64_t u = next();
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}
static double any_scale(void)
{
  return ldexp((double)(next() >> 11) / 9007199254740992.0,
               (int)(next() % 60) - 4);
}
/* A number of 1 to 14 digits then a binary fraction: ties of the last
** digit printf keeps, rounded to even. */
static double ties(void)
{
  int digits = 1 + (int)(next() % 14);
  double whole = floor(pow(10, digits - 1) + (double)(next() % 1000));
  int bits = 1 + (int)(next() % 52);
  return whole +
         ldexp((double)(next() % ((uint64_t)1 << (bits > 20 ? 20 : bits))),
               -bits);
}

int main(void)
{
  static const double fixed[] = {1.0,
                                 1.5,
                                 2.5,
                                 10.0,
                                 0.5,
                                 0.1,
                                 0.0,
                                 1e14,
                                 1e14 - 1,
                                 1e14 - 0.5,
                                 99999999999999.5,
                                 9.999999999999995,
                                 9.99999999999999,
                                 9.9999999999999,
                                 1796399224.340833,
                                 1796399224.3408,
                                 1796569200.0,
                                 1.00006103515625,
                                 1.00000000000005,
                                 1.00000000000015,
                                 1.00000000000025,
                                 123456789012.345,
                                 12345678901234.5,
                                 1234567890123.45,
                                 0.999999999999999,
                                 1e-5,
                                 1e300,
                                 4503599627370495.5,
                                 1.7976931348623157e308,
                                 5e-324,
                                 2.2250738585072014e-308};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    CHECK(same(fixed[i]));
    CHECK(same(-fixed[i]));
  }
  CHECK(same(-0.0));
  CHECK(same(INFINITY));
  CHECK(same(-INFINITY));
  CHECK(same(NAN));
  CHECK(all_same(time_us, 300000));
  CHECK(all_same(time_ns, 300000));
  CHECK(all_same(any_bits, 300000));
  CHECK(all_same(any_scale, 300000));
  CHECK(all_same(ties, 300000));
  return check_summary();
}
