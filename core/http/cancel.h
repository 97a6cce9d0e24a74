/*
** Cancellation of whatever the core is waiting on.  A signal handler (the
** host's SIGINT) raises the flag, or a deadline passes; transfers in
** progress abort at their next progress callback and backoff sleeps end
** early.  Process-wide on purpose: signals are process-wide, a deadline
** bounds a whole run, and this is the only global state in the core.
*/
#ifndef CANCEL_H
#define CANCEL_H

void cancel_raise(void); /* async-signal-safe */
/* Also raises the flag once the deadline has passed. */
int cancel_requested(void);
void cancel_clear(void);
/* How many times the flag was raised, never cleared: work started before
** a raise can tell it came, after whoever took it cleared the flag.  Sees
** a passed deadline as cancel_requested() does. */
unsigned cancel_count(void);

/*
** A deadline on every wait: `ms` milliseconds from now the flag counts as
** raised, and is raised again whenever it is cleared, until the deadline
** is set again or removed (`ms` < 0).  No timer: every wait polls the
** flag anyway, and those that cannot poll often enough take
** cancel_cap_ms().  Set from one thread at a time.
*/
void cancel_set_deadline_ms(long long ms);
/* What the deadline was set to (ms), or -1 when there is none. */
long long cancel_deadline_ms(void);
/* Milliseconds left until the deadline (rounded up; 0 once it passed),
** or -1 when there is none. */
long long cancel_deadline_left_ms(void);
/* 1 when a deadline is set and has passed (whatever else raised the
** flag): a timeout capped by cancel_cap_ms() then ended at it. */
int cancel_deadline_passed(void);
/*
** 1 when a cancellation now is the deadline's doing, not the user's: it
** has passed, and no Ctrl-C (cancel_raise) is up or came once it had
** passed.  A Ctrl-C stays the user's after whoever took it cleared the
** flag (the passed deadline raises it again at once), so an interruption
** at the deadline is never reported as running out of time.
*/
int cancel_by_deadline(void);
/*
** `ms`, or the time left until the deadline when that is sooner, for a
** wait bounded by a timeout rather than by polling (a libcurl transfer
** whose progress callback may come only once a second).  At least 1,
** because a timeout of 0 means "none" to libcurl; `ms` <= 0 ("no
** timeout") is capped too when a deadline is set.
*/
long cancel_cap_ms(long ms);

/*
** Sleep `ms` milliseconds in short slices so a raised flag is noticed
** within about 50 ms, and a deadline at once.  Returns 0 after the full
** sleep, -1 when cancelled.
*/
int cancel_sleep_ms(long ms);

#endif /* CANCEL_H */
