/*
** One thread sleeps on a condition variable until the backstop is due or
** changed.  A thread, not alarm(2): a signal would land in whatever the
** process is doing (a libcurl call, an SQLite write, the Lua allocator)
** and an async-signal-safe handler could do no more than this thread
** does, while SIGALRM stays free for a script's own use.
*/
#include "http/backstop.h"

#include "http/monotonic_clock.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed;
static int started;
static int armed;
static long long due_ns; /* monotonic_ns() when it fires */
static int exit_status;
static char *out_text, *err_text; /* malloc'd, or NULL */
static char *remove_path;         /* malloc'd, or NULL */
static atomic_int removed;

static void write_all(int fd, const char *s)
{
  size_t left = s ? strlen(s) : 0;
  while (left > 0) {
    ssize_t n = write(fd, s, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; /* a closed pipe or a full disk: the status still tells */
    s += n;
    left -= (size_t)n;
  }
}

static void *unlink_path(void *path)
{
  unlink(path);
  atomic_store(&removed, 1);
  return NULL;
}

/*
** unlink(2) in a thread of its own, waited for up to a second: on a hung
** network file system it may never return, and the backstop must end the
** run all the same.  None of our locks is taken: a thread stuck in the
** middle of the run holds none of them for long.
*/
static void remove_bounded(const char *path)
{
  pthread_attr_t ta;
  pthread_t t;
  if (pthread_attr_init(&ta) != 0)
    return;
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  atomic_store(&removed, 0);
  int rc = pthread_create(&t, &ta, unlink_path, (void *)path);
  pthread_attr_destroy(&ta);
  if (rc != 0)
    return;
  struct timespec ms = {0, 1000000L};
  for (int i = 0; i < 1000 && !atomic_load(&removed); i++)
    nanosleep(&ms, NULL);
}

static void *watch(void *unused)
{
  (void)unused;
  pthread_mutex_lock(&lock);
  for (;;) {
    if (!armed) {
      pthread_cond_wait(&changed, &lock);
      continue;
    }
    if (monotonic_ns() >= due_ns) {
      if (remove_path != NULL)
        remove_bounded(remove_path);
      write_all(STDOUT_FILENO, out_text);
      write_all(STDERR_FILENO, err_text);
      _exit(exit_status);
    }
    struct timespec at = {(time_t)(due_ns / 1000000000LL),
                          (long)(due_ns % 1000000000LL)};
    pthread_cond_timedwait(&changed, &lock, &at);
  }
  return NULL;
}

/* The watching thread, once; with the lock held.  0, or -1. */
static int start_watch(void)
{
  if (started)
    return 0;
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0)
    return -1;
  /* the clock due_ns is on: a wall-clock step must not move the end */
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&changed, &attr);
  pthread_condattr_destroy(&attr);
  if (rc != 0)
    return -1;
  /* Ctrl-C and every other signal stay with the threads that wait on
  ** them: a SIGINT taken here would not break the main thread's poll. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t ta;
  pthread_t t;
  rc = pthread_attr_init(&ta);
  if (rc == 0) {
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &ta, watch, NULL);
    pthread_attr_destroy(&ta);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    pthread_cond_destroy(&changed);
    return -1;
  }
  started = 1;
  return 0;
}

static char *copy_text(const char *s, int *failed)
{
  if (s == NULL)
    return NULL;
  char *c = strdup(s);
  if (c == NULL)
    *failed = 1;
  return c;
}

int backstop_arm(long long ms, int status, const char *out, const char *err)
{
  int failed = 0;
  char *o = copy_text(out, &failed), *e = copy_text(err, &failed);
  pthread_mutex_lock(&lock);
  if (failed || start_watch() != 0) {
    pthread_mutex_unlock(&lock);
    free(o);
    free(e);
    return -1;
  }
  free(out_text);
  free(err_text);
  out_text = o;
  err_text = e;
  exit_status = status;
  due_ns = monotonic_ns() + (ms > 0 ? ms : 0) * 1000000LL;
  armed = 1;
  pthread_cond_signal(&changed);
  pthread_mutex_unlock(&lock);
  return 0;
}

void backstop_disarm(void)
{
  pthread_mutex_lock(&lock);
  armed = 0;
  free(out_text);
  free(err_text);
  out_text = err_text = NULL;
  if (started)
    pthread_cond_signal(&changed);
  pthread_mutex_unlock(&lock);
}

long long backstop_left_ms(void)
{
  pthread_mutex_lock(&lock);
  long long left = -1;
  if (armed) {
    long long ns = due_ns - monotonic_ns();
    left = ns > 0 ? (ns + 999999) / 1000000 : 0;
  }
  pthread_mutex_unlock(&lock);
  return left;
}

int backstop_remove_on_fire(const char *path)
{
  char *p = NULL;
  if (path != NULL && (p = strdup(path)) == NULL)
    return -1;
  pthread_mutex_lock(&lock);
  char *old = remove_path;
  remove_path = p;
  pthread_mutex_unlock(&lock);
  free(old);
  return 0;
}
