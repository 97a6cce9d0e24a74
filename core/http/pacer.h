/*
** When the next request may start: one pacer for all the requests of a
** scan, so that a scan bigger than the API's request quota converges on
** the quota instead of spending every page's retries on 429s.
**
** Pure: the caller passes the monotonic time (ns) and what happened, so
** every path is unit-tested without a network (tests/unit/test_pacer.c).
**
** The shape follows botocore's "adaptive" retry mode, with our own
** choices:
**   - Dormant until the first 429: no wait, no bucket, no cost for a scan
**     that is never throttled (only a fixed `cap` spaces starts then).
**   - The first 429 engages it at beta (0.7) times the requests actually
**     sent in the last second — the best estimate of a per-second quota.
**   - Then the rate grows along a cubic curve in the time since the last
**     decrease (CUBIC, as TCP and botocore do): fast back towards the rate
**     that was throttled, slowly around it, faster again beyond, so a
**     raised quota is found.  Unlike botocore the curve is scaled by that
**     rate, so a quota of 5/s and one of 500/s are probed alike.
**   - A later 429 multiplies by beta again, from the lower of the current
**     rate and the measured sends, but only for a request sent after the
**     last decrease: the requests already in flight when the rate was cut
**     say nothing about the new rate (one cut per round, like TCP).
**   - Retry-After pauses every start, not only the throttled request's
**     retry (bounded by max_pause_ms).
**   - Starts are spaced by 1/rate with a burst of at most two, and the
**     fixed cap (client:scan's `rate`) always wins.
*/
#ifndef PACER_H
#define PACER_H

typedef struct pacer_config {
  double cap;             /* fixed limit in requests/s, 0 = none */
  int adaptive;           /* slow down on 429 (0: the cap alone) */
  long max_pause_ms;      /* longest Retry-After pause applied to all */
} pacer_config;

typedef struct pacer {
  pacer_config cfg;
  int engaged;                 /* a 429 was seen: the adaptive rate rules */
  double w_max;                /* the rate the last decrease started from */
  long long decreased_ns;      /* when the last decrease happened */
  long long next_ns;           /* earliest next start by the rate */
  long long pause_until_ns;    /* earliest next start by Retry-After */
  long long win_start_ns;      /* the current one-second window of sends */
  long win_sends, prev_sends;  /* sends in it and in the window before */
  long throttled;              /* 429s seen */
  long decreases;              /* times the rate was cut */
} pacer;

#define PACER_BETA 0.7         /* multiplicative decrease */
#define PACER_CUBIC_C 0.008   /* regrowth, relative: back to w_max in 3.3 s */
#define PACER_MIN_RATE 0.5     /* requests/s: never slower */

void pacer_init(pacer *p, const pacer_config *cfg);

/* The earliest time a request may start: <= now means start it now. */
long long pacer_next_start(const pacer *p, long long now);

/* A request starts at `now` (call after pacer_next_start allowed it). */
void pacer_on_send(pacer *p, long long now);

/*
** A response to a request started at `sent_ns` arrived at `now`:
** `throttled` for a 429, `retry_after_s` its Retry-After (0 = none).
** Returns 1 when the rate was cut (for tracing), else 0.
*/
int pacer_on_response(pacer *p, long long now, long long sent_ns,
                      int throttled, long retry_after_s);

/* The rate in force at `now` in requests/s; 0 when nothing limits it. */
double pacer_rate(const pacer *p, long long now);

/* Requests started in the last second (an interpolated estimate). */
double pacer_sends_last_second(const pacer *p, long long now);

#endif /* PACER_H */
