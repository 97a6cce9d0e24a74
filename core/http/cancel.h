/*
** Cancellation of whatever the core is waiting on.  A signal handler (the
** host's SIGINT) raises the flag; transfers in progress abort at their next
** progress callback and backoff sleeps end early.  Process-wide on purpose:
** signals are process-wide, and this is the only global state in the core.
*/
#ifndef CANCEL_H
#define CANCEL_H

void cancel_raise(void); /* async-signal-safe */
int cancel_requested(void);
void cancel_clear(void);
/* How many times the flag was raised, never cleared: work started before
** a raise can tell it came, after whoever took it cleared the flag. */
unsigned cancel_count(void);

/*
** Sleep `ms` milliseconds in short slices so a raised flag is noticed
** within about 50 ms.  Returns 0 after the full sleep, -1 when cancelled.
*/
int cancel_sleep_ms(long ms);

#endif /* CANCEL_H */
