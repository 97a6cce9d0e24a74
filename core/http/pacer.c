#include "http/pacer.h"

#include <math.h>

#define NS_PER_S 1000000000LL

void pacer_init(pacer *p, const pacer_config *cfg)
{
  *p = (pacer){.cfg = *cfg};
  if (p->cfg.cap < 0)
    p->cfg.cap = 0;
  if (p->cfg.max_pause_ms < 0)
    p->cfg.max_pause_ms = 0;
}

/* Move the one-second windows of sends up to `now` (a copy for readers). */
static void roll_windows(long long *start, long *cur, long *prev,
                         long long now)
{
  if (now - *start < NS_PER_S)
    return;
  long long windows = (now - *start) / NS_PER_S;
  *prev = windows == 1 ? *cur : 0;
  *cur = 0;
  *start += windows * NS_PER_S;
}

double pacer_sends_last_second(const pacer *p, long long now)
{
  long long start = p->win_start_ns;
  long cur = p->win_sends, prev = p->prev_sends;
  if (start == 0 && cur == 0)
    return 0;
  roll_windows(&start, &cur, &prev, now);
  /* The part of the previous window still inside the last second. */
  double left = 1.0 - (double)(now - start) / (double)NS_PER_S;
  if (left < 0)
    left = 0;
  return (double)cur + (double)prev * left;
}

/* The cubic curve through beta*w_max at the decrease and w_max at K. */
static double cubic_rate(const pacer *p, long long now)
{
  double t = (double)(now - p->decreased_ns) / (double)NS_PER_S;
  double k = cbrt((1.0 - PACER_BETA) / PACER_CUBIC_C);
  double d = t - k;
  double r = p->w_max * (1.0 + PACER_CUBIC_C * d * d * d);
  return r < PACER_MIN_RATE ? PACER_MIN_RATE : r;
}

double pacer_rate(const pacer *p, long long now)
{
  double r = p->engaged ? cubic_rate(p, now) : 0;
  if (p->cfg.cap > 0 && (r == 0 || r > p->cfg.cap))
    r = p->cfg.cap;
  return r;
}

long long pacer_next_start(const pacer *p, long long now)
{
  long long t = now;
  if (pacer_rate(p, now) > 0 && p->next_ns > t)
    t = p->next_ns;
  if (p->pause_until_ns > t)
    t = p->pause_until_ns;
  return t;
}

void pacer_on_send(pacer *p, long long now)
{
  if (p->win_start_ns == 0 && p->win_sends == 0)
    p->win_start_ns = now;
  roll_windows(&p->win_start_ns, &p->win_sends, &p->prev_sends, now);
  p->win_sends++;
  double r = pacer_rate(p, now);
  if (r > 0) {
    long long gap = (long long)((double)NS_PER_S / r);
    /* Time idle earns at most one start ahead: a burst of two at most. */
    long long from = p->next_ns > now - gap ? p->next_ns : now - gap;
    p->next_ns = from + gap;
  }
}

int pacer_on_response(pacer *p, long long now, long long sent_ns,
                      int throttled, long retry_after_s)
{
  if (!throttled || !p->cfg.adaptive)
    return 0;
  p->throttled++;
  if (retry_after_s > 0) {
    long long ms = retry_after_s * 1000LL;
    if (ms > p->cfg.max_pause_ms)
      ms = p->cfg.max_pause_ms;
    if (now + ms * 1000000LL > p->pause_until_ns)
      p->pause_until_ns = now + ms * 1000000LL;
  }
  /* Requests sent before the last cut were sent at the old rate. */
  if (p->engaged && sent_ns < p->decreased_ns)
    return 0;
  double sent = pacer_sends_last_second(p, now);
  double from = sent;
  if (p->engaged) {
    double r = cubic_rate(p, now);
    if (r < from)
      from = r;
  }
  if (p->cfg.cap > 0 && from > p->cfg.cap)
    from = p->cfg.cap;
  if (from < PACER_MIN_RATE / PACER_BETA)
    from = PACER_MIN_RATE / PACER_BETA;
  p->w_max = from;
  p->decreased_ns = now;
  p->engaged = 1;
  p->decreases++;
  /* Start the new spacing from now: the old one may be far shorter. */
  long long gap = (long long)((double)NS_PER_S / pacer_rate(p, now));
  if (p->next_ns < now + gap / 2)
    p->next_ns = now + gap / 2;
  return 1;
}
