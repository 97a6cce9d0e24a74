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

/* Counts per one-second window: the current one and the one before. */
typedef struct windows {
  long long start;
  long sends, prev_sends, ok, prev_ok, thr, prev_thr;
} windows;

static windows windows_at(const pacer *p, long long now)
{
  windows w = {p->win_start_ns, p->win_sends, p->prev_sends, p->win_ok,
               p->prev_ok,      p->win_thr,   p->prev_thr};
  if (w.start == 0)
    w.start = now; /* the first event opens the first window */
  if (now - w.start >= NS_PER_S) {
    long long n = (now - w.start) / NS_PER_S;
    w.prev_sends = n == 1 ? w.sends : 0;
    w.prev_ok = n == 1 ? w.ok : 0;
    w.prev_thr = n == 1 ? w.thr : 0;
    w.sends = w.ok = w.thr = 0;
    w.start += n * NS_PER_S;
  }
  return w;
}

static void windows_store(pacer *p, const windows *w)
{
  p->win_start_ns = w->start;
  p->win_sends = w->sends;
  p->prev_sends = w->prev_sends;
  p->win_ok = w->ok;
  p->prev_ok = w->prev_ok;
  p->win_thr = w->thr;
  p->prev_thr = w->prev_thr;
}

/* The count of the last second: this window's plus the part of the
** previous one still inside the last second. */
static double last_second(const windows *w, long cur, long prev, long long now)
{
  double left = 1.0 - (double)(now - w->start) / (double)NS_PER_S;
  return (double)cur + (double)prev * (left > 0 ? left : 0);
}

double pacer_sends_last_second(const pacer *p, long long now)
{
  windows w = windows_at(p, now);
  return last_second(&w, w.sends, w.prev_sends, now);
}

double pacer_ok_last_second(const pacer *p, long long now)
{
  windows w = windows_at(p, now);
  return last_second(&w, w.ok, w.prev_ok, now);
}

/* The cubic curve through beta*w_max at the decrease and w_max at K,
** scaled by w_max so that every quota is probed alike. */
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
  windows w = windows_at(p, now);
  w.sends++;
  windows_store(p, &w);
  double r = pacer_rate(p, now);
  if (r > 0) {
    long long gap = (long long)((double)NS_PER_S / r);
    /* Time idle earns at most one start ahead: a burst of two at most.
    ** A hold earns none: after a Retry-After the server's quota is empty,
    ** and two starts at its end would both meet it again. */
    long long from = p->next_ns > now - gap ? p->next_ns : now - gap;
    if (from < p->pause_until_ns)
      from = p->pause_until_ns;
    p->next_ns = from + gap;
  }
}

int pacer_on_response(pacer *p, long long now, long long sent_ns, int throttled,
                      long retry_after_s, int retry)
{
  if (!p->cfg.adaptive)
    return 0;
  windows w = windows_at(p, now);
  if (!throttled) {
    w.ok++;
    windows_store(p, &w);
    return 0;
  }
  w.thr++;
  windows_store(p, &w);
  p->throttled++;
  /* Not news about the rate: sent at the old rate, seen again by a
  ** retry that its own backoff answers, or part of the burst just cut
  ** for. */
  if (p->engaged && (sent_ns < p->decreased_ns || retry ||
                     now - p->decreased_ns < PACER_CUT_INTERVAL_NS))
    return 0;
  /* A stray 429 among many accepted requests is not a quota: a rate
  ** over the quota has a share of 429s that grows with the excess.  One
  ** with Retry-After is: the server says its quota is spent, and a scan
  ** that burst into it again after each wait would run at a fraction of
  ** the quota. */
  double ok = last_second(&w, w.ok, w.prev_ok, now);
  double thr = last_second(&w, w.thr, w.prev_thr, now);
  if (retry_after_s <= 0 && thr < PACER_CUT_SHARE * (thr + ok))
    return 0;
  if (retry_after_s > 0) {
    long long ms = retry_after_s * 1000LL;
    if (ms > p->cfg.max_pause_ms)
      ms = p->cfg.max_pause_ms;
    if (now + ms * 1000000LL > p->pause_until_ns)
      p->pause_until_ns = now + ms * 1000000LL;
  }
  double from = last_second(&w, w.sends, w.prev_sends, now);
  if (p->engaged) {
    double r = cubic_rate(p, now);
    if (r < from)
      from = r;
  }
  if (from < ok)
    from = ok;
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
