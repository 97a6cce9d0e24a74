#include "cancel.h"

#include <signal.h>
#include <time.h>

static volatile sig_atomic_t cancel_flag = 0;

void cancel_raise(void)
{
  cancel_flag = 1;
}

int cancel_requested(void)
{
  return cancel_flag != 0;
}

void cancel_clear(void)
{
  cancel_flag = 0;
}

int cancel_sleep_ms(long ms)
{
  while (ms > 0) {
    if (cancel_flag)
      return -1;
    long slice = ms < 50 ? ms : 50;
    struct timespec ts = {0, slice * 1000000L};
    nanosleep(&ts, NULL);   /* EINTR just ends the slice early */
    ms -= slice;
  }
  return cancel_flag ? -1 : 0;
}
