/*
** credentials_resolve, credentials_token_is_valid, credentials_free.
** YC_IAM_TOKEN is set and unset here; the test never reads a real token
** from the environment it was started with (it is unset first).
*/
#define _GNU_SOURCE
#include "check.h"
#include "text/secret_text.h"

#include <stdlib.h>
#include <string.h>

#define ENV "YC_IAM_TOKEN"
#define ERR_SENTINEL "<untouched>"

static void env_set(const char *v)
{
  if (setenv(ENV, v, 1) != 0) {
    perror("setenv");
    exit(2);
  }
}

static void env_unset(void)
{
  unsetenv(ENV);
}

/* Resolves and expects `want`; frees the copy. */
#define RESOLVE_OK(option, want) do {                                   \
    char err_[256] = ERR_SENTINEL;                                      \
    const char *opt_ = (option);                                        \
    char *t_ = credentials_resolve(opt_, err_, sizeof err_);            \
    if (!CHECK_EQ_STR(t_, (want)))                                      \
      fprintf(stderr, "    error: %s\n", err_);                         \
    CHECK(t_ == NULL || t_ != opt_);   /* a copy */                     \
    credentials_free(t_);                                               \
  } while (0)

/*
** Expects a refusal whose message contains `part` and none of the
** token's characters that make it recognisable (`secret`).
*/
#define RESOLVE_BAD(option, part, secret) do {                          \
    char err_[512] = ERR_SENTINEL;                                      \
    char *t_ = credentials_resolve((option), err_, sizeof err_);        \
    CHECK_NULL(t_);                                                     \
    credentials_free(t_);                                               \
    CHECK_NOT_CONTAINS(err_, ERR_SENTINEL);                             \
    CHECK_CONTAINS(err_, (part));                                       \
    if ((secret) != NULL)                                               \
      CHECK_NOT_CONTAINS(err_, (const char *)(secret));                 \
  } while (0)

static void test_option_wins(void)
{
  env_set("t1.from-env");
  RESOLVE_OK("t1.from-option", "t1.from-option");
  env_unset();
  RESOLVE_OK("t1.from-option", "t1.from-option");
}

static void test_env_fallback(void)
{
  env_set("t1.from-env_A-Z~.+/=");
  RESOLVE_OK(NULL, "t1.from-env_A-Z~.+/=");
  RESOLVE_OK("", "t1.from-env_A-Z~.+/=");

  /* The copy does not follow later changes of the environment. */
  char err[256];
  char *t = credentials_resolve(NULL, err, sizeof err);
  env_set("t1.changed");
  CHECK_EQ_STR(t, "t1.from-env_A-Z~.+/=");
  credentials_free(t);
  RESOLVE_OK(NULL, "t1.changed");
  env_unset();
}

static void test_none(void)
{
  env_unset();
  RESOLVE_BAD(NULL, ENV, NULL);
  RESOLVE_BAD("", ENV, NULL);
  /* Set but empty counts as not set. */
  env_set("");
  RESOLVE_BAD(NULL, ENV, NULL);
  RESOLVE_BAD("", ENV, NULL);
  env_unset();
}

static void test_invalid_tokens(void)
{
  static const char *const bad[] = {
    "secret token",          /* space */
    "secrettoken\r",
    "secrettoken\n",
    "secret\r\nX-Injected: 1",
    "secret\ttoken",
    "secret\x7ftoken",
    "secret\x01token",
    " secrettoken",
    "secrettoken ",
  };
  env_unset();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_CONTEXT("bad token %zu", i);
    CHECK_EQ_INT(credentials_token_is_valid(bad[i]), 0);
    /* From the option: refused, the value never echoed. */
    RESOLVE_BAD(bad[i], "token", "secret");
    RESOLVE_BAD(bad[i], "control characters", "Injected");
    /* From the environment: the message names the variable. */
    env_set(bad[i]);
    RESOLVE_BAD(NULL, ENV, "secret");
    RESOLVE_BAD("", "spaces", "secret");
    env_unset();
  }
  CHECK_CONTEXT_CLEAR();

  /* An invalid option is refused even with a valid YC_IAM_TOKEN. */
  env_set("t1.valid-env");
  RESOLVE_BAD("secret token", "token", "secret");
  env_unset();

  /* The message for a bad option does not blame the environment. */
  char err[512] = "";
  CHECK_NULL(credentials_resolve("bad token", err, sizeof err));
  CHECK_NOT_CONTAINS(err, ENV);
}

static void test_token_is_valid(void)
{
  CHECK_EQ_INT(credentials_token_is_valid("t1.9euelZqJ-abc_DEF~123.xyz"), 1);
  CHECK_EQ_INT(credentials_token_is_valid("a"), 1);
  CHECK_EQ_INT(credentials_token_is_valid("!#$%&'*+-.^_`|~"), 1);
  CHECK_EQ_INT(credentials_token_is_valid("a/b=c+d"), 1);
  CHECK_EQ_INT(credentials_token_is_valid(""), 1);   /* nothing bad in it */
  CHECK_EQ_INT(credentials_token_is_valid("a b"), 0);
  CHECK_EQ_INT(credentials_token_is_valid("a\rb"), 0);
  CHECK_EQ_INT(credentials_token_is_valid("a\nb"), 0);
  CHECK_EQ_INT(credentials_token_is_valid("a\tb"), 0);
  CHECK_EQ_INT(credentials_token_is_valid("a\x7f"), 0);
  CHECK_EQ_INT(credentials_token_is_valid("\x1f"), 0);
  CHECK_EQ_INT(credentials_token_is_valid("\x01"), 0);
  /* Every byte 0x01..0x20 and 0x7f is refused; 0x21..0x7e accepted. */
  int wrong = 0;
  for (int b = 1; b < 0x80; b++) {
    char s[4] = {'a', (char)b, 'z', '\0'};
    int want = b >= 0x21 && b != 0x7f;
    if (credentials_token_is_valid(s) != want) {
      fprintf(stderr, "byte 0x%02x: got %d\n", b, !want);
      wrong++;
    }
  }
  CHECK_EQ_INT(wrong, 0);
}

/* A long token is copied whole. */
static void test_long_token(void)
{
  static char tok[4097];
  for (size_t i = 0; i < sizeof tok - 1; i++)
    tok[i] = "t1.ABCxyz-_09"[i % 13];
  env_unset();
  RESOLVE_OK(tok, tok);
  env_set(tok);
  RESOLVE_OK(NULL, tok);
  env_unset();
}

/* A short error buffer is truncated and terminated. */
static void test_small_err_buffer(void)
{
  env_unset();
  char full[512] = "";
  CHECK_NULL(credentials_resolve(NULL, full, sizeof full));
  CHECK(strlen(full) > 5);
  char err[6];
  memset(err, 'x', sizeof err);
  CHECK_NULL(credentials_resolve(NULL, err, sizeof err));
  CHECK_EQ_INT(strlen(err), 5);
  CHECK(strncmp(err, full, 5) == 0);
}

static void test_free(void)
{
  credentials_free(NULL);   /* no-op */
  /* A resolved token is wiped and freed (a leak or double free shows
  ** up under ASan). */
  char err[256];
  char *t = credentials_resolve("t1.to-wipe", err, sizeof err);
  CHECK_EQ_STR(t, "t1.to-wipe");
  credentials_free(t);
}

int main(void)
{
  test_option_wins();
  test_env_fallback();
  test_none();
  test_invalid_tokens();
  test_token_is_valid();
  test_long_token();
  test_small_err_buffer();
  test_free();
  env_unset();
  return check_summary();
}
