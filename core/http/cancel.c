#include "http/cancel.h"

#include "http/monotonic_clock.h"

#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#define SLICE_NS 50000000LL

/* Who raised the flag: a signal's raise is never taken back by moving
** the deadline, the deadline's is. */
enum { DOWN, BY_SIGNAL, BY_DEADLINE };

/* Atomic (lock-free, so async-signal-safe): the history's writer thread
** reads it too (SQLite's progress handler). */
static atomic_int cancel_flag = DOWN;
static atomic_uint raised = 0;
/* The deadline as monotonic_ns() (0: none) and the span it was set to. */
static atomic_llong deadline_at = 0;
static atomic_llong deadline_span_ms = -1;
/* When cancel_raise() last ran (monotonic_ns(); 0: never): the flag it
** raised is cleared by whoever makes the interruption's error, and a
** passed deadline raises it again, so only the time tells afterwards
** that the user's Ctrl-C came once the deadline had passed. */
static atomic_llong signal_at = 0;

/* cancel_raise() runs in a signal handler: no lock may hide behind these. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
               "cancel.c needs lock-free atomics");

void cancel_raise(void)
{
  /* clock_gettime() is async-signal-safe (POSIX) */
  atomic_store_explicit(&signal_at, monotonic_ns(), memory_order_relaxed);
  atomic_fetch_add_explicit(&raised, 1, memory_order_relaxed);
  atomic_store_explicit(&cancel_flag, BY_SIGNAL, memory_order_relaxed);
}

static int passed(long long at)
{
  return at != 0 && monotonic_ns() >= at;
}

int cancel_deadline_passed(void)
{
  return passed(atomic_load_explicit(&deadline_at, memory_order_relaxed));
}

/*
** A Ctrl-C before the deadline passed whose raise was taken (an earlier
** command of the REPL) is over: the deadline passing later is the
** deadline's.  One still up when it passed is what the wait ends for.
*/
int cancel_by_deadline(void)
{
  long long at = atomic_load_explicit(&deadline_at, memory_order_relaxed);
  if (!passed(at))
    return 0;
  if (atomic_load_explicit(&cancel_flag, memory_order_relaxed) == BY_SIGNAL)
    return 0;
  return atomic_load_explicit(&signal_at, memory_order_relaxed) < at;
}

/*
** The deadline is noticed by whoever asks next, not by a timer: no thread
** or signal of our own in a library, and every wait asks often enough.
** Raised once per clearing, so cancel_count() sees it as a Ctrl-C.
*/
static void check_deadline(void)
{
  int down = DOWN;
  if (cancel_deadline_passed() &&
      atomic_compare_exchange_strong(&cancel_flag, &down, BY_DEADLINE))
    atomic_fetch_add_explicit(&raised, 1, memory_order_relaxed);
}

unsigned cancel_count(void)
{
  check_deadline();
  return atomic_load_explicit(&raised, memory_order_relaxed);
}

int cancel_requested(void)
{
  check_deadline();
  return atomic_load_explicit(&cancel_flag, memory_order_relaxed) != DOWN;
}

void cancel_clear(void)
{
  atomic_store_explicit(&cancel_flag, DOWN, memory_order_relaxed);
}

void cancel_set_deadline_ms(long long ms)
{
  /* A raise by the deadline being replaced must not cancel the next
  ** wait, which the new deadline allows. */
  int by_deadline = BY_DEADLINE;
  atomic_compare_exchange_strong(&cancel_flag, &by_deadline, DOWN);
  atomic_store(&deadline_span_ms, ms < 0 ? -1 : ms);
  atomic_store(&deadline_at, ms < 0 ? 0 : monotonic_ns() + ms * 1000000LL);
}

long long cancel_deadline_ms(void)
{
  return atomic_load(&deadline_span_ms);
}

long long cancel_deadline_left_ms(void)
{
  long long at = atomic_load(&deadline_at);
  if (at == 0)
    return -1;
  long long left = at - monotonic_ns();
  return left <= 0 ? 0 : (left + 999999) / 1000000;
}

long cancel_cap_ms(long ms)
{
  long long left = cancel_deadline_left_ms();
  if (left < 0)
    return ms;
  if (left < 1)
    left = 1;
  return ms <= 0 || left < ms ? (long)left : ms;
}

/*
** Sleeps toward a monotonic deadline, so other signals interrupting
** nanosleep (EINTR) neither shorten nor lengthen the wait; a slice ends
** at the run's deadline, so that ends the sleep at once.
*/
int cancel_sleep_ms(long ms)
{
  long long end = monotonic_ns() + (ms > 0 ? ms : 0) * 1000000LL;
  for (;;) {
    if (cancel_requested())
      return -1;
    long long now = monotonic_ns();
    long long left = end - now;
    if (left <= 0)
      return 0;
    long long slice = left < SLICE_NS ? left : SLICE_NS;
    long long at = atomic_load(&deadline_at);
    if (at != 0 && at - now < slice)
      slice = at - now > 0 ? at - now : 1;
    struct timespec ts = {0, (long)slice};
    nanosleep(&ts, NULL);
  }
}
