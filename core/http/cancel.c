#include "http/cancel.h"

#include "http/monotonic_clock.h"

#include <signal.h>
#include <stdatomic.h>
#include <time.h>

/* Atomic (lock-free, so async-signal-safe): the history's writer thread
** reads it too (SQLite's progress handler). */
static atomic_int cancel_flag = 0;
static atomic_uint raised = 0;

void cancel_raise(void)
{
  atomic_fetch_add_explicit(&raised, 1, memory_order_relaxed);
  atomic_store_explicit(&cancel_flag, 1, memory_order_relaxed);
}

unsigned cancel_count(void)
{
  return atomic_load_explicit(&raised, memory_order_relaxed);
}

int cancel_requested(void)
{
  return atomic_load_explicit(&cancel_flag, memory_order_relaxed) != 0;
}

void cancel_clear(void)
{
  atomic_store_explicit(&cancel_flag, 0, memory_order_relaxed);
}

/*
** Sleeps toward a monotonic deadline, so other signals interrupting
** nanosleep (EINTR) neither shorten nor lengthen the wait.
*/
int cancel_sleep_ms(long ms)
{
  long long deadline = monotonic_ns() + (ms > 0 ? ms : 0) * 1000000LL;
  for (;;) {
    if (cancel_flag)
      return -1;
    long long left = deadline - monotonic_ns();
    if (left <= 0)
      return 0;
    long long slice = left < 50000000LL ? left : 50000000LL;
    struct timespec ts = {0, (long)slice};
    nanosleep(&ts, NULL);
  }
}
