/*
** The pacer: dormant without 429s, the first 429 engages it at the
** measured send rate cut by beta, one cut per round, cubic regrowth,
** Retry-After pausing every start, the fixed cap winning, and a simulated
** scan against a quota converging on it.
*/
#include "check.h"
#include "http/pacer.h"

#include <math.h>

#define MS 1000000LL
#define S  1000000000LL

static pacer make(double cap, int adaptive)
{
  pacer p;
  pacer_config cfg = {cap, adaptive, 30000};
  pacer_init(&p, &cfg);
  return p;
}

static int near(double a, double b, double tol)
{
  return fabs(a - b) <= tol;
}

/* A scan that is never throttled is never held back. */
static void test_dormant_costs_nothing(void)
{
  pacer p = make(0, 1);
  long long t = 5 * S;
  for (int i = 0; i < 10000; i++) {
    if (!CHECK_EQ_INT(pacer_next_start(&p, t), t))
      break;
    pacer_on_send(&p, t);
    pacer_on_response(&p, t, t, 0, 0, 0);
    t += 100000; /* 10,000 requests a second */
  }
  CHECK_EQ_INT(p.engaged, 0);
  CHECK(pacer_rate(&p, t) == 0);
  CHECK_EQ_INT(p.throttled, 0);
}

/* The fixed cap alone spaces starts by 1/cap, as client:scan's rate did. */
static void test_cap_spaces_starts(void)
{
  pacer p = make(10, 1);
  long long t = 1 * S;
  CHECK(pacer_rate(&p, t) == 10);
  int started = 0;
  for (long long now = t; now < t + 10 * S; now += MS) {
    if (pacer_next_start(&p, now) <= now) {
      pacer_on_send(&p, now);
      started++;
    }
  }
  CHECK(started >= 100 && started <= 102);
  /* After a long idle time, at most two start back to back. */
  long long later = 60 * S;
  int burst = 0;
  while (pacer_next_start(&p, later) <= later && burst < 10) {
    pacer_on_send(&p, later);
    burst++;
  }
  CHECK_EQ_INT(burst, 2);
}

/* The first 429 engages the rate at beta times the sends of the last
** second, whatever their pace was. */
static void test_first_429_engages(void)
{
  pacer p = make(0, 1);
  long long t0 = 3 * S, t = t0;
  for (int i = 0; i < 60; i++, t += 2 * MS)
    pacer_on_send(&p, t); /* 60 in 120 ms: 500/s for a moment */
  CHECK(near(pacer_sends_last_second(&p, t), 60, 0.01));
  CHECK_EQ_INT(pacer_on_response(&p, t, t0, 1, 0, 0), 1);
  CHECK_EQ_INT(p.engaged, 1);
  CHECK(near(pacer_rate(&p, t), 0.7 * 60, 0.01));
  CHECK(pacer_next_start(&p, t) > t); /* spaced from now on */
  CHECK_EQ_INT(p.throttled, 1);
  CHECK_EQ_INT(p.decreases, 1);
}

/* 429s to requests sent before the cut don't cut again; a 429 to a
** request sent after it does, from the lower of rate and sends. */
static void test_one_cut_per_round(void)
{
  pacer p = make(0, 1);
  long long t = 2 * S;
  for (int i = 0; i < 100; i++)
    pacer_on_send(&p, t + i * MS);
  t += 100 * MS;
  long long cut = t;
  pacer_on_response(&p, cut, cut - 50 * MS, 1, 0, 0);
  double r1 = pacer_rate(&p, cut);
  CHECK(near(r1, 70, 0.01));
  for (int i = 1; i <= 15; i++) /* the rest of the requests in flight */
    CHECK_EQ_INT(pacer_on_response(&p, cut + i * MS, cut - i * MS, 1, 0, 0), 0);
  CHECK_EQ_INT(p.decreases, 1);
  CHECK_EQ_INT(p.throttled, 16);
  /* Sent after the cut, but within a second of it: the same burst. */
  CHECK_EQ_INT(pacer_on_response(&p, cut + 200 * MS, cut + 10 * MS, 1, 0, 0),
               0);
  CHECK_EQ_INT(p.decreases, 1);
  /* A second later: cut again, from the lower of the rate (about 91,
  ** regrowing) and the sends of the last second (80, interpolated). */
  long long t2 = cut + 1100 * MS;
  CHECK(near(pacer_rate(&p, t2), 90.9, 0.1));
  CHECK(near(pacer_sends_last_second(&p, t2), 80, 0.01));
  CHECK_EQ_INT(pacer_on_response(&p, t2, cut + 10 * MS, 1, 0, 0), 1);
  CHECK(near(pacer_rate(&p, t2), 0.7 * 80, 0.01));
  CHECK_EQ_INT(p.decreases, 2);
  CHECK_EQ_INT(p.throttled, 18);
}

/* Stray 429s among many accepted requests are not a quota: they never
** engage the pacer.  A share of 5% does, and the cut never goes below what
** the server accepted in the last second: it has shown it takes that many. */
static void test_strays_and_accepted_floor(void)
{
  pacer p = make(0, 1);
  long long t = 1 * S;
  for (int k = 0; k < 10; k++) { /* 1 in 150, ten seconds */
    for (int i = 0; i < 150; i++) {
      long long at = t + i * (S / 150);
      pacer_on_send(&p, at);
      pacer_on_response(&p, at + MS, at, i == 75, 0, 0);
    }
    t += S;
  }
  CHECK_EQ_INT(p.engaged, 0);
  CHECK_EQ_INT(p.throttled, 10);
  CHECK_EQ_INT(pacer_next_start(&p, t), t);
  /* Now 200 accepted and then 12 refused within a second (5.7%). */
  for (int i = 0; i < 200; i++) {
    long long at = t + i * 4 * MS;
    pacer_on_send(&p, at);
    pacer_on_response(&p, at + MS, at, 0, 0, 0);
  }
  t += 900 * MS;
  int cut = 0;
  for (int i = 0; i < 12; i++)
    cut += pacer_on_response(&p, t + i * MS, t - 50 * MS, 1, 0, 0);
  CHECK_EQ_INT(cut, 1);
  CHECK_EQ_INT(p.engaged, 1);
  CHECK(pacer_ok_last_second(&p, t) >= 199);
  CHECK(pacer_rate(&p, t + 11 * MS) >= 0.7 * 199);
}

/* The 429 of a retry that went out on its own backoff is the same
** throttling seen again: it never cuts, so a page refused many times in a
** row leaves the rate where the first cut put it. */
static void test_retries_do_not_cut(void)
{
  pacer p = make(0, 1);
  long long t = 1 * S;
  for (int i = 0; i < 40; i++)
    pacer_on_send(&p, t + i * 10 * MS);
  t += 400 * MS;
  CHECK_EQ_INT(pacer_on_response(&p, t, t, 1, 0, 0), 1);
  double r = pacer_rate(&p, t);
  for (int k = 1; k <= 20; k++) {
    long long sent = t + k * 100 * MS;
    pacer_on_send(&p, sent);
    CHECK_EQ_INT(pacer_on_response(&p, sent + 10 * MS, sent, 1, 0, 1), 0);
  }
  CHECK_EQ_INT(p.decreases, 1);
  CHECK_EQ_INT(p.throttled, 21);
  CHECK(pacer_rate(&p, t + 3 * S) >= r);
  /* A first attempt sent after the cut does cut. */
  long long later = t + 3 * S;
  CHECK_EQ_INT(pacer_on_response(&p, later, later - MS, 1, 0, 0), 1);
}

/* After a cut the rate grows back along the cubic: back to where it was
** cut after K seconds, never shrinking, then beyond. */
static void test_cubic_regrowth(void)
{
  pacer p = make(0, 1);
  long long t = 1 * S;
  for (int i = 0; i < 50; i++)
    pacer_on_send(&p, t + i * 10 * MS);
  t += 500 * MS;
  pacer_on_response(&p, t, t, 1, 0, 0);
  double wmax = p.w_max;
  CHECK(near(wmax, 50, 0.01));
  double k = cbrt((1 - PACER_BETA) / PACER_CUBIC_C);
  double prev = 0;
  int monotone = 1;
  for (long long dt = 0; dt < 10 * S; dt += 100 * MS) {
    double r = pacer_rate(&p, t + dt);
    monotone &= r >= prev;
    prev = r;
  }
  CHECK(monotone);
  CHECK(near(pacer_rate(&p, t), 35, 0.01));
  CHECK(near(pacer_rate(&p, t + (long long)(k * S)), 50, 0.01));
  CHECK(pacer_rate(&p, t + 1 * S) < 50);
  CHECK(pacer_rate(&p, t + 8 * S) > 60);
}

/* Retry-After holds every start, bounded by max_pause_ms. */
static void test_retry_after_pauses_all(void)
{
  pacer p = make(0, 1);
  long long t = 10 * S;
  pacer_on_send(&p, t);
  pacer_on_response(&p, t + 20 * MS, t, 1, 2, 0);
  long long now = t + 30 * MS;
  CHECK_EQ_INT(pacer_next_start(&p, now), t + 20 * MS + 2 * S);
  /* A 429 without Retry-After or one from before doesn't shorten it. */
  pacer_on_response(&p, now, t, 1, 1, 0);
  CHECK_EQ_INT(pacer_next_start(&p, now), t + 20 * MS + 2 * S);
  long long after = t + 3 * S;
  CHECK(pacer_next_start(&p, after) <= after + S); /* only the rate left */

  pacer q;
  pacer_config cfg = {0, 1, 5000};
  pacer_init(&q, &cfg);
  pacer_on_send(&q, t);
  pacer_on_response(&q, t, t, 1, 3600, 0);
  CHECK_EQ_INT(pacer_next_start(&q, t), t + 5 * S);
}

/* A stray 429 is ignored, but one with Retry-After is the server saying
** its quota is spent: it engages the pacer however many were accepted (a
** scan of one request at a time otherwise met every lockout). */
static void test_retry_after_is_never_a_stray(void)
{
  pacer p = make(0, 1);
  long long t = 1 * S;
  for (int i = 0; i < 150; i++) { /* 150 accepted in a second */
    long long at = t + i * (S / 150);
    pacer_on_send(&p, at);
    pacer_on_response(&p, at + MS, at, 0, 0, 0);
  }
  t += S;
  pacer_on_send(&p, t);
  CHECK_EQ_INT(pacer_on_response(&p, t + MS, t, 1, 0, 0), 0); /* a stray */
  CHECK_EQ_INT(p.engaged, 0);
  t += 10 * MS;
  pacer_on_send(&p, t);
  CHECK_EQ_INT(pacer_on_response(&p, t + MS, t, 1, 2, 0), 1);
  CHECK_EQ_INT(p.engaged, 1);
  CHECK_EQ_INT(pacer_next_start(&p, t + 2 * MS), t + MS + 2 * S);
}

/* When a hold ends, starts are spaced by the rate from its end: the one
** start ahead that idle time earns would send two into a quota the server
** just said is spent. */
static void test_no_burst_after_a_hold(void)
{
  pacer p = make(0, 1);
  long long t = 1 * S;
  for (int i = 0; i < 20; i++) { /* 20 a second, every other refused */
    long long at = t + i * (S / 20);
    pacer_on_send(&p, at);
    if (i % 2 == 0)
      pacer_on_response(&p, at + MS, at, 0, 0, 0);
  }
  t += S;
  CHECK_EQ_INT(pacer_on_response(&p, t + MS, t - 50 * MS, 1, 3, 0), 1);
  long long end = t + MS + 3 * S;
  CHECK_EQ_INT(pacer_next_start(&p, end - MS), end);
  pacer_on_send(&p, end); /* the first start at the hold's end */
  long long second = pacer_next_start(&p, end);
  double r = pacer_rate(&p, end);
  CHECK_CONTEXT("rate %.2f/s, second start %lld ns after the hold", r,
                second - end);
  CHECK(r > 0);
  CHECK(second >= end + (long long)(0.99 * (double)S / r));
  CHECK_CONTEXT_CLEAR();
}

/* The fixed cap is an upper bound on the adaptive rate at every moment. */
static void test_cap_wins(void)
{
  pacer p = make(20, 1);
  long long t = 1 * S;
  for (int i = 0; i < 40; i++)
    pacer_on_send(&p, t + i * 25 * MS);
  t += 1 * S;
  pacer_on_response(&p, t, t, 1, 0, 0);
  CHECK(p.w_max <= 20);
  int capped = 1;
  for (long long dt = 0; dt < 600 * S; dt += S / 2)
    capped &= pacer_rate(&p, t + dt) <= 20.0;
  CHECK(capped);
  CHECK(pacer_rate(&p, t + 600 * S) == 20.0);
}

/* pacing off: 429s change nothing, Retry-After stays the request's own. */
static void test_off(void)
{
  pacer p = make(0, 0);
  long long t = 1 * S;
  pacer_on_send(&p, t);
  CHECK_EQ_INT(pacer_on_response(&p, t, t, 1, 5, 0), 0);
  CHECK_EQ_INT(pacer_next_start(&p, t), t);
  CHECK(pacer_rate(&p, t) == 0);
  CHECK_EQ_INT(p.engaged, 0);
}

/*
** A scan of `seconds` against a server allowing `quota` requests a
** second (a token bucket holding one second's worth), `conc` requests in
** flight, `rtt` each, a 429 retried after `retry_ms`.  Millisecond steps.
*/
typedef struct sim_result {
  long ok, throttled;
} sim_result;

static sim_result simulate(pacer *p, double quota, int conc, long rtt_ms,
                           long retry_ms, long seconds)
{
  enum { MAXC = 64 };
  long long done_at[MAXC], sent_at[MAXC];
  int was_429[MAXC], was_retry[MAXC];
  long long retry_due[MAXC]; /* a throttled request waiting its turn */
  int nretry = 0;
  int busy = 0;
  double tokens = quota;
  sim_result res = {0, 0};
  for (int i = 0; i < MAXC; i++)
    done_at[i] = -1;
  for (long long ms = 1; ms <= seconds * 1000; ms++) {
    long long now = ms * MS;
    tokens += quota / 1000.0;
    if (tokens > quota)
      tokens = quota;
    for (int i = 0; i < conc; i++) {
      if (done_at[i] != now)
        continue;
      done_at[i] = -1;
      busy--;
      pacer_on_response(p, now, sent_at[i], was_429[i], 0, was_retry[i]);
      if (was_429[i]) {
        res.throttled++;
        if (nretry < MAXC)
          retry_due[nretry++] = now + retry_ms * MS;
      } else {
        res.ok++;
      }
    }
    for (int i = 0; i < conc && busy < conc; i++) {
      if (done_at[i] != -1 || pacer_next_start(p, now) > now)
        continue;
      /* A retry that is due goes first; else new work (always some). */
      was_retry[i] = 0;
      for (int k = 0; k < nretry; k++)
        if (retry_due[k] <= now) {
          was_retry[i] = retry_due[k] == now; /* not held by the pacer */
          retry_due[k] = retry_due[--nretry];
          break;
        }
      pacer_on_send(p, now);
      sent_at[i] = now;
      done_at[i] = now + rtt_ms * MS;
      busy++;
      was_429[i] = tokens < 1;
      if (!was_429[i])
        tokens -= 1;
    }
  }
  return res;
}

/* Pacing on: the scan runs at the quota with few 429s.  Off: most of
** the requests are 429s (what a big scan did before). */
static void test_converges_on_quota(void)
{
  pacer p = make(0, 1);
  sim_result on = simulate(&p, 50, 16, 20, 200, 120);
  CHECK_CONTEXT("on: %ld ok, %ld throttled", on.ok, on.throttled);
  CHECK(on.ok >= 0.93 * 50 * 120);
  CHECK(on.throttled * 20 < on.ok + on.throttled); /* under 5% */
  CHECK_CONTEXT_CLEAR();

  pacer off = make(0, 0);
  sim_result o = simulate(&off, 50, 16, 20, 200, 120);
  CHECK_CONTEXT("off: %ld ok, %ld throttled", o.ok, o.throttled);
  CHECK(o.throttled > 5 * o.ok);
  CHECK_CONTEXT_CLEAR();

  /* A quota above what 16 requests in flight can use never engages it. */
  pacer idle = make(0, 1);
  sim_result i = simulate(&idle, 2000, 16, 20, 200, 20);
  CHECK_EQ_INT(i.throttled, 0);
  CHECK_EQ_INT(i.ok, 16 * 999); /* every slot busy all along */
  CHECK_EQ_INT(idle.engaged, 0);
}

int main(void)
{
  test_dormant_costs_nothing();
  test_cap_spaces_starts();
  test_first_429_engages();
  test_one_cut_per_round();
  test_retries_do_not_cut();
  test_strays_and_accepted_floor();
  test_cubic_regrowth();
  test_retry_after_pauses_all();
  test_retry_after_is_never_a_stray();
  test_no_burst_after_a_hold();
  test_cap_wins();
  test_off();
  test_converges_on_quota();
  return check_summary();
}
