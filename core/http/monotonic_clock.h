/*
** The one clock core measures waits and durations with: monotonic, so a
** wall-clock step (NTP, a suspended laptop's catch-up) neither fires a
** deadline early nor stretches a backoff.
*/
#ifndef MONOTONIC_CLOCK_H
#define MONOTONIC_CLOCK_H

#include <time.h>

/* Nano- and milliseconds since an arbitrary fixed point. */
static inline long long monotonic_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline long long monotonic_ms(void)
{
  return monotonic_ns() / 1000000;
}

#endif /* MONOTONIC_CLOCK_H */
