/*
** secret_token_is_valid, secret_free and the live secrets every scrub
** redacts (cred_chain's tests cover where tokens come from).
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

int main(void)
{
  test_token_is_valid();
  test_free();
  test_live();
  return check_summary();
}
