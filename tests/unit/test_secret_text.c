/*
** secret_token_is_valid, secret_free and the live and retired secrets
** every scrub redacts (cred_chain's tests cover where tokens come from).
*/
#define _GNU_SOURCE
#include "check.h"
#include "text/secret_text.h"

#include <stdlib.h>
#include <string.h>

static void test_token_is_valid(void)
{
  CHECK_EQ_INT(secret_token_is_valid("t1.9euelZqJ-abc_DEF~123.xyz"), 1);
  CHECK_EQ_INT(secret_token_is_valid("a"), 1);
  CHECK_EQ_INT(secret_token_is_valid("!#$%&'*+-.^_`|~"), 1);
  CHECK_EQ_INT(secret_token_is_valid("a/b=c+d"), 1);
  CHECK_EQ_INT(secret_token_is_valid(""), 1); /* nothing bad in it */
  CHECK_EQ_INT(secret_token_is_valid("a b"), 0);
  CHECK_EQ_INT(secret_token_is_valid("a\rb"), 0);
  CHECK_EQ_INT(secret_token_is_valid("a\nb"), 0);
  CHECK_EQ_INT(secret_token_is_valid("a\tb"), 0);
  CHECK_EQ_INT(secret_token_is_valid("a\x7f"), 0);
  CHECK_EQ_INT(secret_token_is_valid("\x1f"), 0);
  CHECK_EQ_INT(secret_token_is_valid("\x01"), 0);
  /* Every byte 0x01..0x20 and 0x7f is refused; 0x21..0x7e accepted. */
  int wrong = 0;
  for (int b = 1; b < 0x80; b++) {
    char s[4] = {'a', (char)b, 'z', '\0'};
    int want = b >= 0x21 && b != 0x7f;
    if (secret_token_is_valid(s) != want) {
      fprintf(stderr, "byte 0x%02x: got %d\n", b, !want);
      wrong++;
    }
  }
  CHECK_EQ_INT(wrong, 0);
}

static void test_free(void)
{
  secret_free(NULL); /* no-op */
  /* A token is wiped and freed (a leak or double free shows up under
  ** ASan). */
  char *t = strdup("t1.to-wipe");
  CHECK_NOT_NULL(t);
  secret_free(t);
}

static void check_scrub(const char *text, const char *want)
{
  char *got = secret_scrub(text, NULL);
  CHECK_EQ_STR(got, want);
  free(got);
}

static void test_live(void)
{
  char *tok = strdup("SECRETTOKEN-live-1");
  char *other = strdup("y0_other-live-2");
  CHECK_NOT_NULL(tok);
  CHECK_NOT_NULL(other);
  check_scrub("a SECRETTOKEN-live-1 b", "a SECRETTOKEN-live-1 b");
  CHECK_EQ_INT(secret_live_add(tok), 0);
  CHECK_EQ_INT(secret_live_add(tok), 0); /* kept once */
  CHECK_EQ_INT(secret_live_add(other), 0);
  CHECK_EQ_INT(secret_live_add("short"), 0); /* too short: not kept */
  check_scrub("a SECRETTOKEN-live-1 b", "a [REDACTED] b");
  check_scrub("?pageToken=SECRETTOKEN-live-1&x=y0_other-live-2",
              "?pageToken=[REDACTED]&x=[REDACTED]");
  check_scrub("a short word", "a short word");
  /* secret_redact_into: the secrets only, patterns left alone */
  const char *url = "/b?pageToken=eyJhbGciOiJQUzI1NiJ9&t=SECRETTOKEN-live-1";
  char out[CREDENTIALS_SCRUB_SIZE(64)];
  secret_redact_into(url, NULL, out);
  CHECK_EQ_STR(out, "/b?pageToken=eyJhbGciOiJQUzI1NiJ9&t=[REDACTED]");
  const char *listed[] = {"eyJhbGciOiJQUzI1NiJ9", NULL};
  secret_redact_into(url, listed, out);
  CHECK_EQ_STR(out, "/b?pageToken=[REDACTED]&t=[REDACTED]");
  secret_live_remove(tok);
  secret_live_remove(tok); /* no longer there: a no-op */
  check_scrub("a SECRETTOKEN-live-1 b", "a SECRETTOKEN-live-1 b");
  check_scrub("y0_other-live-2", "[REDACTED]");
  secret_live_remove(other);
  check_scrub("y0_other-live-2", "y0_other-live-2");
  secret_live_remove(NULL);
  secret_free(tok);
  secret_free(other);
}

/* "RETIRED-<i>-0123": distinct, never a prefix of one another. */
static char *numbered(int i)
{
  char buf[32];
  snprintf(buf, sizeof buf, "RETIRED-%03d-0123", i);
  return strdup(buf);
}

static void test_retired(void)
{
  /* Retired: still redacted once the owner's buffer is wiped and freed;
  ** and off the live list, or the scrub would read freed memory (ASan). */
  char *old = strdup("SECRETTOKEN-replaced-1");
  char *live = strdup("SECRETTOKEN-current-2");
  CHECK_NOT_NULL(old);
  CHECK_NOT_NULL(live);
  CHECK_EQ_INT(secret_live_add(old), 0);
  CHECK_EQ_INT(secret_live_add(live), 0);
  CHECK_EQ_INT(secret_live_retire(old), 0);
  secret_free(old);
  check_scrub("a SECRETTOKEN-replaced-1 b", "a [REDACTED] b");
  char out[CREDENTIALS_SCRUB_SIZE(64)];
  secret_redact_into("/b?pageToken=SECRETTOKEN-replaced-1&x=1", NULL, out);
  CHECK_EQ_STR(out, "/b?pageToken=[REDACTED]&x=1");
  CHECK_EQ_INT(secret_live_retire(NULL), 0);
  CHECK_EQ_INT(secret_live_retire("short"), 0); /* too short: not kept */
  check_scrub("a short word", "a short word");

  /* The bound: the oldest copy goes first; retiring an equal string again
  ** keeps one copy and makes it the newest.  A live secret stays redacted
  ** whatever happens to its copies.  `again` (equal to `live`, a pointer
  ** never made live) is retired as a freed client's token would be. */
  char *again = strdup("SECRETTOKEN-current-2");
  CHECK_NOT_NULL(again);
  CHECK_EQ_INT(secret_live_retire(again), 0);
  for (int i = 0; i < SECRET_RETIRED_MAX - 2; i++) {
    char *t = numbered(i);
    CHECK_NOT_NULL(t);
    CHECK_EQ_INT(secret_live_retire(t), 0);
    secret_free(t);
  }
  /* full now: replaced-1 (the oldest), current-2, RETIRED-000..029 */
  check_scrub("SECRETTOKEN-replaced-1", "[REDACTED]");
  char *first = numbered(0);
  CHECK_NOT_NULL(first);
  CHECK_EQ_INT(secret_live_retire(first), 0); /* the same again: no room made */
  secret_free(first);
  check_scrub("SECRETTOKEN-replaced-1", "[REDACTED]");
  char *next = numbered(SECRET_RETIRED_MAX);
  CHECK_NOT_NULL(next);
  CHECK_EQ_INT(secret_live_retire(next), 0);
  secret_free(next);
  check_scrub("a SECRETTOKEN-replaced-1 b", "a SECRETTOKEN-replaced-1 b");
  check_scrub("RETIRED-000-0123 RETIRED-001-0123", "[REDACTED] [REDACTED]");
  /* Oldest now: current-2's copy, then RETIRED-001 (000 moved to the
  ** newest end).  Its copy gone, current-2 is still redacted: it is live. */
  next = numbered(SECRET_RETIRED_MAX + 1);
  CHECK_NOT_NULL(next);
  CHECK_EQ_INT(secret_live_retire(next), 0);
  secret_free(next);
  check_scrub("SECRETTOKEN-current-2", "[REDACTED]");
  next = numbered(SECRET_RETIRED_MAX + 2);
  CHECK_NOT_NULL(next);
  CHECK_EQ_INT(secret_live_retire(next), 0);
  secret_free(next);
  check_scrub("RETIRED-000-0123 RETIRED-001-0123",
              "[REDACTED] RETIRED-001-0123");
  secret_free(again);

  /* A secret that begins with a shorter one goes whole, whichever list
  ** has which. */
  char *longer = strdup("SECRETTOKEN-current-2-and-more");
  CHECK_NOT_NULL(longer);
  CHECK_EQ_INT(secret_live_retire(longer), 0);
  secret_free(longer);
  check_scrub("(SECRETTOKEN-current-2-and-more)", "([REDACTED])");
  const char *listed[] = {"SECRETTOKEN-current", NULL};
  secret_redact_into("SECRETTOKEN-current-2-and-more", listed, out);
  CHECK_EQ_STR(out, "[REDACTED]");
  secret_live_remove(live);
  secret_free(live);
}

int main(void)
{
  test_token_is_valid();
  test_free();
  test_live();
  test_retired();
  return check_summary();
}
