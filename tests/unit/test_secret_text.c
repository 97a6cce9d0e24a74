/*
** secret_token_is_valid and secret_free (cred_chain's tests
** cover where tokens come from).
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

int main(void)
{
  test_token_is_valid();
  test_free();
  return check_summary();
}
