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
**   - Dormant until a 429 counts: no wait, no bucket, no cost for a scan
**     that is never throttled (only a fixed `cap` spaces starts then).
**   - A 429 counts only when 429s are at least 5% of the last second's
**     responses: a stray one among many accepted requests is not a quota
**     (its retry is enough), while a rate over a quota draws a share of
**     429s that grows with the excess.
**   - The first that counts engages it at beta (0.7) times the requests
**     actually sent in the last second — the best estimate of a
**     per-second quota.
**   - Then the rate grows along a cubic curve in the time since the last
**     decrease (CUBIC, as TCP and botocore do): fast back towards the rate
**     that was throttled, slowly around it, faster again beyond, so a
**     raised quota is found.  Unlike botocore the curve is scaled by that
**     rate, so a quota of 5/s and one of 500/s are probed alike.
**   - A later 429 multiplies by beta again, from the lower of the current
**     rate and the measured sends (but not below the requests the server
**     accepted in the last second: it has shown it takes that many), at
**     most once a second (a burst of 429s is one event, and a few stray
**     ones must not sink the rate), and only for a request sent after the
**     last decrease: the requests already in flight when the rate was cut
**     say nothing about the new rate (one cut per round, like TCP); and
**     not for a retry that went out on its own backoff without waiting
**     for the pacer: its 429 is the same throttling seen again, which its
**     backoff answers (else one page refused twenty times would leave a
**     lone listing crawling at the minimum rate).
**   - The Retry-After of a 429 that cuts (or engages) the rate pauses every
**     start, not only the throttled request's retry (bounded by
**     max_pause_ms); the others' Retry-After hold back their own retry.
**   - Starts are spaced by 1/rate with a burst of at most two, and the
**     fixed cap (client:scan's `rate`) always wins.
*/
#ifndef PACER_H
#define PACER_H

typedef struct pacer_config {
  double cap;        /* fixed limit in requests/s, 0 = none */
  int adaptive;      /* slow down on 429 (0: the cap alone) */
  long max_pause_ms; /* longest Retry-After pause applied to all */
} pacer_config;

typedef struct pacer {
  pacer_config cfg;
  int engaged;                /* a 429 was seen: the adaptive rate rules */
  double w_max;               /* the rate the last decrease started from */
  long long decreased_ns;     /* when the last decrease happened */
  long long next_ns;          /* earliest next start by the rate */
  long long pause_until_ns;   /* earliest next start by Retry-After */
  long long win_start_ns;     /* the current one-second window */
  long win_sends, prev_sends; /* requests sent in it and the one before */
  long win_ok, prev_ok;       /* responses not throttled, likewise */
  long win_thr, prev_thr;     /* 429s, likewise */
  long throttled;             /* 429s seen */
  long decreases;             /* times the rate was cut */
} pacer;

#define PACER_BETA            0.7 /* multiplicative decrease */
#define PACER_CUBIC_C         0.008 /* regrowth, relative: back to w_max in 3.3 s */
#define PACER_MIN_RATE        0.5          /* requests/s: never slower */
#define PACER_CUT_INTERVAL_NS 1000000000LL /* at most one cut a second */
#define PACER_CUT_SHARE \
  0.05 /* of the last second's responses: 429s
                               ** rarer than this are strays, not a quota */

void pacer_init(pacer *p, const pacer_config *cfg);

/* The earliest time a request may start: <= now means start it now. */
long long pacer_next_start(const pacer *p, long long now);

/* A request starts at `now` (call after pacer_next_start allowed it). */
void pacer_on_send(pacer *p, long long now);

/*
** A response to a request started at `sent_ns` arrived at `now`:
** `throttled` for a 429, `retry_after_s` its Retry-After (0 = none),
** `retry` when it was a retry that the pacer did not hold back.  Returns
** 1 when the rate was cut (for tracing), else 0.
*/
int pacer_on_response(pacer *p, long long now, long long sent_ns, int throttled,
                      long retry_after_s, int retry);

/* The rate in force at `now` in requests/s; 0 when nothing limits it. */
double pacer_rate(const pacer *p, long long now);

/* Requests started in the last second (an interpolated estimate). */
double pacer_sends_last_second(const pacer *p, long long now);
/* Responses other than 429 in the last second, likewise. */
double pacer_ok_last_second(const pacer *p, long long now);

#endif /* PACER_H */
