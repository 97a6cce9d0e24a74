/*
** The cancel flag, the deadline and cancel_sleep_ms.  Time bounds are
** generous: they tell "returned early because cancelled" from "slept the
** whole 5 s", and "slept at least as long as asked" (a lower bound, never
** a speed claim).
*/
#define _GNU_SOURCE
#include "http/cancel.h"
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_alarm_cancel(int sig)
{
  (void)sig;
  cancel_raise();
}

static volatile sig_atomic_t alarms;

static void on_alarm_count(int sig)
{
  (void)sig;
  alarms++;
}

static void set_alarm_handler(void (*fn)(int))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: nanosleep sees EINTR either way */
  sigaction(SIGALRM, &sa, NULL);
}

/* One-shot (interval_us 0) or repeating SIGALRM. */
static void set_timer(long first_us, long interval_us)
{
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = first_us / 1000000;
  it.it_value.tv_usec = first_us % 1000000;
  it.it_interval.tv_sec = interval_us / 1000000;
  it.it_interval.tv_usec = interval_us % 1000000;
  setitimer(ITIMER_REAL, &it, NULL);
}

static void test_flag(void)
{
  cancel_clear();
  CHECK_EQ_INT(cancel_requested(), 0);
  cancel_raise();
  CHECK_EQ_INT(cancel_requested(), 1);
  cancel_raise();
  CHECK_EQ_INT(cancel_requested(), 1);
  cancel_clear();
  CHECK_EQ_INT(cancel_requested(), 0);
  cancel_clear();
  CHECK_EQ_INT(cancel_requested(), 0);
  /* the count of raises outlives clearing the flag */
  unsigned before = cancel_count();
  cancel_raise();
  cancel_clear();
  CHECK_EQ_INT((int)(cancel_count() - before), 1);
}

static void test_short_sleep(void)
{
  cancel_clear();
  double t0 = now_s();
  CHECK_EQ_INT(cancel_sleep_ms(30), 0);
  CHECK(now_s() - t0 >= 0.030);
  /* More than one 50 ms slice. */
  t0 = now_s();
  CHECK_EQ_INT(cancel_sleep_ms(120), 0);
  CHECK(now_s() - t0 >= 0.120);
  CHECK_EQ_INT(cancel_sleep_ms(1), 0);
  CHECK_EQ_INT(cancel_sleep_ms(0), 0);
  CHECK_EQ_INT(cancel_sleep_ms(-5), 0);
  CHECK_EQ_INT(cancel_requested(), 0);
}

static void test_raised_before(void)
{
  cancel_clear();
  cancel_raise();
  double t0 = now_s();
  CHECK_EQ_INT(cancel_sleep_ms(5000), -1);
  CHECK(now_s() - t0 < 2.0);
  /* The flag stays raised for everyone else to see. */
  CHECK_EQ_INT(cancel_requested(), 1);
  CHECK_EQ_INT(cancel_sleep_ms(10), -1);
  CHECK_EQ_INT(cancel_sleep_ms(0), -1);
  cancel_clear();
  CHECK_EQ_INT(cancel_sleep_ms(10), 0);
}

static void test_raised_by_signal(void)
{
  cancel_clear();
  set_alarm_handler(on_alarm_cancel);
  set_timer(200000, 0); /* SIGALRM after 200 ms */
  double t0 = now_s();
  int r = cancel_sleep_ms(5000);
  double dt = now_s() - t0;
  set_timer(0, 0);
  CHECK_EQ_INT(r, -1);
  CHECK(dt < 2.0);
  CHECK(dt >= 0.15); /* it did sleep until the signal */
  CHECK_EQ_INT(cancel_requested(), 1);
  cancel_clear();
  signal(SIGALRM, SIG_DFL);
}

static void *raise_later(void *arg)
{
  (void)arg;
  struct timespec ts = {0, 150 * 1000000L};
  nanosleep(&ts, NULL);
  cancel_raise();
  return NULL;
}

/* Raised from another thread: no signal interrupts the sleep, the flag
** is still noticed at the next slice. */
static void test_raised_by_thread(void)
{
  cancel_clear();
  pthread_t th;
  if (!CHECK_EQ_INT(pthread_create(&th, NULL, raise_later, NULL), 0))
    return;
  double t0 = now_s();
  int r = cancel_sleep_ms(5000);
  double dt = now_s() - t0;
  pthread_join(th, NULL);
  CHECK_EQ_INT(r, -1);
  CHECK(dt < 2.0);
  cancel_clear();
}

/*
** A signal that does not cancel (a handler for something else) must not
** cut the sleep short: "returns 0 after the full sleep".
*/
static void test_other_signal_does_not_shorten(void)
{
  cancel_clear();
  alarms = 0;
  set_alarm_handler(on_alarm_count);
  set_timer(2000, 2000); /* SIGALRM every 2 ms */
  double t0 = now_s();
  int r = cancel_sleep_ms(300);
  double dt = now_s() - t0;
  set_timer(0, 0);
  signal(SIGALRM, SIG_DFL);
  CHECK_EQ_INT(r, 0);
  CHECK(alarms > 0);
  if (!CHECK(dt >= 0.300))
    fprintf(stderr,
            "    cancel_sleep_ms(300) returned 0 after %.0f ms "
            "(%d signals handled)\n",
            dt * 1000, (int)alarms);
}

/* A deadline raises the flag when it passes, and a sleep ends there. */
static void test_deadline_ends_sleep(void)
{
  cancel_clear();
  CHECK_EQ_INT((int)cancel_deadline_ms(), -1);
  CHECK_EQ_INT((int)cancel_deadline_left_ms(), -1);
  cancel_set_deadline_ms(200);
  CHECK_EQ_INT((int)cancel_deadline_ms(), 200);
  CHECK(cancel_deadline_left_ms() > 100 && cancel_deadline_left_ms() <= 200);
  CHECK_EQ_INT(cancel_requested(), 0);
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  double t0 = now_s();
  int r = cancel_sleep_ms(5000);
  double dt = now_s() - t0;
  CHECK_EQ_INT(r, -1);
  CHECK(dt >= 0.195);
  CHECK(dt < 1.0);
  CHECK_EQ_INT(cancel_by_deadline(), 1);
  CHECK_EQ_INT((int)cancel_deadline_left_ms(), 0);
  CHECK_EQ_INT(cancel_requested(), 1);
  /* Cleared, it comes back: the deadline has still passed, and the
  ** raise counts again for work that watches cancel_count(). */
  unsigned before = cancel_count();
  cancel_clear();
  CHECK_EQ_INT(cancel_requested(), 1);
  CHECK_EQ_INT((int)(cancel_count() - before), 1);
  CHECK_EQ_INT(cancel_sleep_ms(0), -1);
  /* A new deadline takes the old one's raise back; a later one is not
  ** passed yet. */
  cancel_set_deadline_ms(5000);
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  CHECK_EQ_INT(cancel_requested(), 0);
  CHECK_EQ_INT(cancel_sleep_ms(20), 0);
  /* Removed: no deadline at all. */
  cancel_set_deadline_ms(-1);
  CHECK_EQ_INT((int)cancel_deadline_ms(), -1);
  CHECK_EQ_INT((int)cancel_deadline_left_ms(), -1);
  CHECK_EQ_INT(cancel_requested(), 0);
}

/* Moving the deadline never takes back a Ctrl-C. */
static void test_deadline_keeps_signal(void)
{
  cancel_clear();
  cancel_raise();
  cancel_set_deadline_ms(5000);
  CHECK_EQ_INT(cancel_requested(), 1);
  cancel_set_deadline_ms(-1);
  CHECK_EQ_INT(cancel_requested(), 1);
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  CHECK_EQ_INT(cancel_deadline_passed(), 0);
  cancel_clear();
}

/* Timeouts that cannot poll the flag are capped at the deadline. */
static void test_cap(void)
{
  cancel_set_deadline_ms(-1);
  CHECK_EQ_INT((int)cancel_cap_ms(30000), 30000);
  CHECK_EQ_INT((int)cancel_cap_ms(0), 0); /* no deadline, no timeout */
  cancel_set_deadline_ms(1000);
  long c = cancel_cap_ms(30000);
  CHECK(c > 500 && c <= 1000);
  CHECK_EQ_INT((int)cancel_cap_ms(10), 10);
  c = cancel_cap_ms(0); /* "no timeout" gets the deadline's */
  CHECK(c > 500 && c <= 1000);
  cancel_set_deadline_ms(0); /* passed at once: never 0, "no timeout" */
  CHECK_EQ_INT((int)cancel_cap_ms(30000), 1);
  CHECK_EQ_INT(cancel_requested(), 1);
  cancel_set_deadline_ms(-1);
  cancel_clear();
}

/* The writer thread of the history sees a passed deadline by itself,
** through cancel_count(), while the main thread only waits for it. */
static void *count_later(void *arg)
{
  unsigned *seen = arg;
  struct timespec ts = {0, 150 * 1000000L};
  nanosleep(&ts, NULL);
  *seen = cancel_count();
  return NULL;
}

static void test_deadline_seen_by_thread(void)
{
  cancel_clear();
  unsigned before = cancel_count(), seen = before;
  cancel_set_deadline_ms(50);
  pthread_t th;
  if (!CHECK_EQ_INT(pthread_create(&th, NULL, count_later, &seen), 0))
    return;
  pthread_join(th, NULL);
  CHECK(seen != before);
  cancel_set_deadline_ms(-1);
  cancel_clear();
}

/* Sleeps `ms` without looking at the flag, as code stuck outside any
** wait (or a stopped process) does; a signal does not shorten it. */
static void sleep_blind_ms(long ms)
{
  double end = now_s() + (double)ms / 1000.0;
  for (double left; (left = end - now_s()) > 0;) {
    struct timespec ts = {(time_t)left, (long)((left - (time_t)left) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

/*
** Ctrl-C once the deadline has passed is the user's, not the deadline's:
** also after whoever made its error cleared the flag, though the passed
** deadline raises the flag again at once (every wait still ends).
*/
static void test_signal_after_deadline(void)
{
  cancel_clear();
  cancel_set_deadline_ms(30);
  CHECK_EQ_INT(cancel_deadline_passed(), 0);
  sleep_blind_ms(60);
  CHECK_EQ_INT(cancel_by_deadline(), 1);
  cancel_raise();
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  /* passed all the same: a transfer's timeout there is no timeout */
  CHECK_EQ_INT(cancel_deadline_passed(), 1);
  cancel_clear(); /* consumed, as a listing's error does */
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  CHECK_EQ_INT(cancel_requested(), 1);
  CHECK_EQ_INT(cancel_sleep_ms(10), -1);
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  /* A new deadline is not that Ctrl-C's: when it passes, it is blamed. */
  cancel_clear();
  cancel_set_deadline_ms(30);
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  sleep_blind_ms(60);
  CHECK_EQ_INT(cancel_by_deadline(), 1);
  cancel_set_deadline_ms(-1);
  cancel_clear();
}

/* The same from a real signal handler, the deadline passing while the
** process could not look (both pending when it runs again). */
static void test_signal_handler_after_deadline(void)
{
  cancel_clear();
  set_alarm_handler(on_alarm_cancel);
  cancel_set_deadline_ms(30);
  set_timer(100000, 0); /* SIGALRM after 100 ms: the deadline has passed */
  sleep_blind_ms(200);
  set_timer(0, 0);
  signal(SIGALRM, SIG_DFL);
  CHECK_EQ_INT(cancel_requested(), 1);
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  cancel_set_deadline_ms(-1);
  cancel_clear();
}

/*
** Ctrl-C before the deadline passed: while its raise is up, a wait it
** ends is the user's whenever it is classified; once the raise was taken
** (an earlier command of the REPL), the deadline passing later is the
** deadline's.
*/
static void test_signal_before_deadline(void)
{
  cancel_clear();
  cancel_set_deadline_ms(30);
  cancel_raise();
  sleep_blind_ms(60);
  CHECK_EQ_INT(cancel_by_deadline(), 0);
  cancel_clear();
  cancel_set_deadline_ms(30);
  cancel_raise();
  cancel_clear();
  sleep_blind_ms(60);
  CHECK_EQ_INT(cancel_by_deadline(), 1);
  cancel_set_deadline_ms(-1);
  cancel_clear();
}

int main(void)
{
  test_flag();
  test_short_sleep();
  test_raised_before();
  test_raised_by_signal();
  test_raised_by_thread();
  test_other_signal_does_not_shorten();
  test_deadline_ends_sleep();
  test_deadline_keeps_signal();
  test_cap();
  test_deadline_seen_by_thread();
  test_signal_after_deadline();
  test_signal_handler_after_deadline();
  test_signal_before_deadline();
  return check_summary();
}
