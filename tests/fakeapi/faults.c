#include "faults.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode.h"
#include "numparse.h"
#include "xalloc.h"

/* content_length=: up to 1 EB, well inside curl_off_t and MHD's sizes. */
#define MAX_CONTENT_LENGTH 1000000000000000000ULL

struct fault_rule {
  char *text;    /* the rule as given, for messages */
  char *storage; /* cut up by parsing; path and action strings point into it */
  const char *path;
  bool has_offset;
  uint64_t offset;
  uint64_t skip;
  uint64_t times; /* 0 = unlimited */
  struct fault_action action;

  struct bomb *bomb; /* owned; action.bomb points to it */

  uint64_t skipped;
  uint64_t fired;
};

#define QUOTA_MAX_RETRY_AFTER 60

/* --quota: a token bucket shared by every connection thread. */
struct quota {
  bool on;
  double rate, burst, tokens;
  double last;          /* seconds, CLOCK_MONOTONIC */
  uint64_t retry_after; /* 0 = no Retry-After, no penalty */
  double blocked_until; /* the Retry-After announced runs out */
  char seconds[QUOTA_MAX_RETRY_AFTER + 1][3]; /* "0".."60", header values */
};

struct fault_set {
  pthread_mutex_t mu;
  struct fault_rule *rules;
  int count;
  struct quota quota;
};

struct fault_set *faults_new(void)
{
  struct fault_set *fs = xcalloc(1, sizeof *fs);
  pthread_mutex_init(&fs->mu, NULL);
  return fs;
}

void faults_free(struct fault_set *fs)
{
  if (!fs)
    return;
  for (int i = 0; i < fs->count; i++) {
    free(fs->rules[i].text);
    free(fs->rules[i].storage);
    bomb_free(fs->rules[i].bomb);
  }
  free(fs->rules);
  pthread_mutex_destroy(&fs->mu);
  free(fs);
}

static bool flag_value(const char *key, const char *v, bool *out)
{
  if (strcmp(v, "1") == 0 || strcmp(v, "0") == 0) {
    *out = v[0] == '1';
    return true;
  }
  fprintf(stderr, "fakeapi: --fault: %s must be 0 or 1, got '%s'\n", key, v);
  return false;
}

static bool number_value(const char *key, const char *v, uint64_t max,
                         uint64_t *out)
{
  if (parse_u64(v, max, out))
    return true;
  fprintf(stderr, "fakeapi: --fault: %s must be an integer 0..%llu, got '%s'\n",
          key, (unsigned long long)max, v);
  return false;
}

/* Header values are sent verbatim: no CR, LF or other control bytes. */
static bool header_safe(const char *key, const char *v)
{
  for (const char *p = v; *p; p++) {
    if ((unsigned char)*p < 0x20 || *p == 0x7f) {
      fprintf(stderr,
              "fakeapi: --fault: %s must not contain control characters\n",
              key);
      return false;
    }
  }
  return true;
}

static bool set_pair(struct fault_rule *r, const char *key, char *v)
{
  struct fault_action *a = &r->action;
  uint64_t n;
  if (strcmp(key, "path") == 0) {
    r->path = v;
  } else if (strcmp(key, "offset") == 0) {
    r->has_offset = true;
    return number_value(key, v, UINT32_MAX, &r->offset);
  } else if (strcmp(key, "skip") == 0) {
    return number_value(key, v, UINT64_MAX, &r->skip);
  } else if (strcmp(key, "times") == 0) {
    return number_value(key, v, UINT64_MAX, &r->times);
  } else if (strcmp(key, "status") == 0) {
    if (!number_value(key, v, 599, &n))
      return false;
    if (n < 200) {
      fprintf(stderr, "fakeapi: --fault: status must be 200..599, got '%s'\n",
              v);
      return false;
    }
    a->status = (int)n;
  } else if (strcmp(key, "retry_after") == 0) {
    if (!header_safe(key, v))
      return false;
    a->retry_after = v;
  } else if (strcmp(key, "delay_ms") == 0) {
    return number_value(key, v, 3600000, &a->delay_ms);
  } else if (strcmp(key, "truncate") == 0) {
    a->truncate = true;
    return number_value(key, v, UINT64_MAX, &a->truncate_bytes);
  } else if (strcmp(key, "malformed") == 0) {
    return flag_value(key, v, &a->malformed);
  } else if (strcmp(key, "body") == 0) {
    a->body = v;
  } else if (strcmp(key, "html") == 0) {
    return flag_value(key, v, &a->html);
  } else if (strcmp(key, "cycle_to") == 0) {
    if (!number_value(key, v, UINT32_MAX, &n))
      return false;
    if (n == 0) {
      fprintf(stderr, "fakeapi: --fault: cycle_to must be greater than 0\n");
      return false;
    }
    a->cycle = true;
    a->cycle_to = (uint32_t)n;
  } else if (strcmp(key, "fresh") == 0) {
    return flag_value(key, v, &a->fresh);
  } else if (strcmp(key, "empty") == 0) {
    return flag_value(key, v, &a->empty);
  } else if (strcmp(key, "drop") == 0) {
    return flag_value(key, v, &a->drop);
  } else if (strcmp(key, "drip_ms") == 0) {
    if (!number_value(key, v, 60000, &a->drip_ms))
      return false;
    if (a->drip_ms == 0) {
      fprintf(stderr, "fakeapi: --fault: drip_ms must be greater than 0\n");
      return false;
    }
  } else if (strcmp(key, "content_length") == 0) {
    a->has_content_length = true;
    return number_value(key, v, MAX_CONTENT_LENGTH, &a->content_length);
  } else if (strcmp(key, "reset") == 0) {
    a->reset = true;
    return number_value(key, v, UINT64_MAX, &a->reset_bytes);
  } else if (strcmp(key, "gzip") == 0) {
    return flag_value(key, v, &a->gzip);
  } else if (strcmp(key, "deflate") == 0) {
    return flag_value(key, v, &a->deflate);
  } else if (strcmp(key, "bomb") == 0) {
    if (!number_value(key, v, BOMB_MAX_SIZE, &n))
      return false;
    if (n < BOMB_MIN_SIZE) {
      fprintf(stderr, "fakeapi: --fault: bomb must be at least %d bytes\n",
              BOMB_MIN_SIZE);
      return false;
    }
    bomb_free(r->bomb); /* given twice: the last one counts */
    a->bomb = r->bomb = bomb_new(n);
  } else if (strcmp(key, "chunked") == 0) {
    if (!number_value(key, v, BOMB_MAX_SIZE, &a->chunked))
      return false;
    if (a->chunked < BOMB_MIN_SIZE) {
      fprintf(stderr, "fakeapi: --fault: chunked must be at least %d bytes\n",
              BOMB_MIN_SIZE);
      return false;
    }
  } else if (strcmp(key, "redirect") == 0) {
    if (!number_value(key, v, 399, &n))
      return false;
    if (n != 301 && n != 302 && n != 303 && n != 307 && n != 308) {
      fprintf(stderr,
              "fakeapi: --fault: redirect must be 301, 302, 303, 307 or 308, "
              "got '%s'\n",
              v);
      return false;
    }
    a->redirect = (int)n;
  } else if (strcmp(key, "location") == 0) {
    if (!header_safe(key, v))
      return false;
    a->location = v;
  } else if (strcmp(key, "hang") == 0) {
    return flag_value(key, v, &a->hang);
  } else {
    fprintf(stderr,
            "fakeapi: --fault: unknown key '%s' (selectors: path offset skip "
            "times; actions: status retry_after delay_ms truncate malformed "
            "body html cycle_to fresh empty drop drip_ms content_length "
            "reset gzip deflate bomb chunked redirect location hang)\n",
            key);
    return false;
  }
  return true;
}

/* Refuse combinations whose meaning would be a guess. */
static bool consistent(const struct fault_rule *r)
{
  const struct fault_action *a = &r->action;
  int replacements = (a->body != NULL) + a->html + a->malformed;
  bool page_change = a->cycle || a->empty;
  bool silent = a->drop || a->hang; /* no response at all */
  bool delivery = a->truncate || a->reset || a->drip_ms ||
                  a->has_content_length;
  bool encoding = a->gzip || a->deflate;
  bool generated = a->bomb || a->chunked; /* a body of its own */
  const char *problem = NULL;
  if (replacements > 1)
    problem = "body, html and malformed exclude each other";
  else if (a->cycle && a->empty)
    problem = "cycle_to and empty exclude each other";
  else if (a->fresh && !a->cycle)
    problem = "fresh modifies cycle_to and needs it";
  else if (page_change &&
           (replacements || a->status || silent || generated || a->redirect))
    problem =
        "cycle_to/empty change the normal page; they can't be combined with "
        "status, body, html, malformed, drop, hang, bomb, chunked or redirect";
  else if (a->drop && a->hang)
    problem = "drop and hang exclude each other";
  else if (silent && (replacements || a->status || a->retry_after || delivery ||
                      encoding || generated || a->redirect))
    problem =
        "drop and hang send nothing; they can only be combined with delay_ms";
  else if (a->truncate && a->reset)
    problem = "truncate and reset exclude each other";
  else if (a->gzip && a->deflate)
    problem = "gzip and deflate exclude each other";
  else if (a->bomb && (replacements || encoding || a->redirect))
    problem =
        "bomb is its own gzip body; it can't be combined with body, html, "
        "malformed, gzip, deflate or redirect";
  else if (a->chunked && (replacements || encoding || a->bomb || a->redirect ||
                          a->has_content_length))
    problem =
        "chunked is its own body, sent without a length; it can't be combined "
        "with body, html, malformed, gzip, deflate, bomb, redirect or "
        "content_length";
  else if ((a->redirect != 0) != (a->location != NULL))
    problem = "redirect and location go together";
  else if (a->redirect && (replacements || a->status))
    problem =
        "redirect sets the status and the body; it can't be combined with "
        "status, body, html or malformed";
  else if (!a->status && !a->retry_after && !a->delay_ms && !delivery &&
           !replacements && !page_change && !silent && !encoding &&
           !generated && !a->redirect)
    problem = "the rule has no action";
  if (problem)
    fprintf(stderr, "fakeapi: --fault '%s': %s\n", r->text, problem);
  return problem == NULL;
}

bool faults_add(struct fault_set *fs, const char *rule)
{
  struct fault_rule r = {
      .times = 1, .text = xstrdup(rule), .storage = xstrdup(rule)};
  bool ok = true;
  for (char *save = NULL, *pair = strtok_r(r.storage, ";", &save); ok && pair;
       pair = strtok_r(NULL, ";", &save)) {
    char *eq = strchr(pair, '=');
    if (!eq) {
      fprintf(stderr, "fakeapi: --fault: '%s' is not key=value\n", pair);
      ok = false;
      break;
    }
    *eq = '\0';
    ok = set_pair(&r, pair, eq + 1);
  }
  if (ok)
    ok = consistent(&r);
  if (!ok) {
    free(r.text);
    free(r.storage);
    bomb_free(r.bomb);
    return false;
  }
  fs->rules = xrealloc(fs->rules, (size_t)(fs->count + 1) * sizeof *fs->rules);
  r.action.rule = fs->count + 1;
  fs->rules[fs->count++] = r;
  return true;
}

bool faults_set_quota(struct fault_set *fs, const char *spec)
{
  struct quota *q = &fs->quota;
  uint64_t rate = 0, burst = 0, ra = 0;
  char *copy = xstrdup(spec);
  bool ok = true;
  for (char *save = NULL, *pair = strtok_r(copy, ",", &save); ok && pair;
       pair = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(pair, '=');
    if (eq)
      *eq = '\0';
    if (!eq) {
      fprintf(stderr, "fakeapi: --quota: '%s' is not key=value\n", pair);
      ok = false;
    } else if (strcmp(pair, "rate") == 0) {
      ok = parse_u64(eq + 1, 100000, &rate) && rate > 0;
      if (!ok)
        fprintf(stderr, "fakeapi: --quota: rate must be 1..100000, got '%s'\n",
                eq + 1);
    } else if (strcmp(pair, "burst") == 0) {
      ok = parse_u64(eq + 1, 1000000, &burst) && burst > 0;
      if (!ok)
        fprintf(stderr,
                "fakeapi: --quota: burst must be 1..1000000, got '%s'\n",
                eq + 1);
    } else if (strcmp(pair, "retry_after") == 0) {
      ok = parse_u64(eq + 1, QUOTA_MAX_RETRY_AFTER, &ra) && ra > 0;
      if (!ok)
        fprintf(stderr,
                "fakeapi: --quota: retry_after must be 1..%d, got '%s'\n",
                QUOTA_MAX_RETRY_AFTER, eq + 1);
    } else {
      fprintf(stderr,
              "fakeapi: --quota: unknown key '%s' (rate burst retry_after)\n",
              pair);
      ok = false;
    }
  }
  free(copy);
  if (ok && rate == 0) {
    fprintf(stderr, "fakeapi: --quota: rate= is required\n");
    ok = false;
  }
  if (!ok)
    return false;
  q->on = true;
  q->rate = (double)rate;
  q->burst = q->tokens = (double)(burst ? burst : rate);
  q->retry_after = ra;
  for (int i = 0; i <= QUOTA_MAX_RETRY_AFTER; i++)
    snprintf(q->seconds[i], sizeof q->seconds[i], "%d", i);
  return true;
}

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Take a token, or say 429 (with the mutex held). */
static bool quota_refuses(struct quota *q, struct fault_action *out)
{
  if (!q->on)
    return false;
  double now = now_seconds();
  if (q->last > 0) {
    q->tokens += (now - q->last) * q->rate;
    if (q->tokens > q->burst)
      q->tokens = q->burst;
  }
  q->last = now;
  if (now >= q->blocked_until && q->tokens >= 1) {
    q->tokens -= 1;
    return false;
  }
  out->fired = true;
  out->status = 429;
  if (q->retry_after) {
    if (now >= q->blocked_until)
      q->blocked_until = now + (double)q->retry_after;
    /* What is left of the wait, rounded up: never early. */
    double left = q->blocked_until - now;
    uint64_t s = (uint64_t)left + ((double)(uint64_t)left < left);
    out->retry_after = q->seconds[s > q->retry_after ? q->retry_after : s];
  }
  return true;
}

void faults_match(struct fault_set *fs, const char *raw_target,
                  int64_t listing_offset, struct fault_action *out)
{
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&fs->mu);
  if (quota_refuses(&fs->quota, out)) {
    pthread_mutex_unlock(&fs->mu);
    return;
  }
  for (int i = 0; i < fs->count; i++) {
    struct fault_rule *r = &fs->rules[i];
    bool needs_listing = r->has_offset || r->action.cycle || r->action.empty;
    if (r->times && r->fired >= r->times)
      continue;
    if (r->path && !strstr(raw_target, r->path))
      continue;
    if (needs_listing && listing_offset < 0)
      continue;
    if (r->has_offset && (uint64_t)listing_offset != r->offset)
      continue;
    /* A skipped request is only skipped by this rule; later rules
         * still get to look at it. */
    if (r->skipped < r->skip) {
      r->skipped++;
      continue;
    }
    r->fired++;
    *out = r->action;
    out->fired = true;
    break;
  }
  pthread_mutex_unlock(&fs->mu);
}
