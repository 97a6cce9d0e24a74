/*
** cred_chain_resolve without a network: which source each combination of
** options and environment selects, the errors, and the metadata address
** rules; secret_scrub and secret_is_iam_token; the trace format.
*/
#define _GNU_SOURCE
#include "check.h"
#include "auth/cred_chain.h"
#include "text/secret_text.h"
#include "auth/metadata_token.h"
#include "http/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const VARS[] = {
    "YC_IAM_TOKEN",    "YC_TOKEN",         "YC_SERVICE_ACCOUNT_KEY_FILE",
    "YC_IAM_ENDPOINT", "YC_METADATA_ADDR", NULL};

static void clear_env(void)
{
  for (const char *const *v = VARS; *v; v++)
    unsetenv(*v);
}

/* Resolve; expect source `want` or an error naming `arg` and `part`. */
static void expect(const cred_options *o, const char *want, const char *arg,
                   const char *part)
{
  cred_outcome out;
  char err[700] = "";
  cred_provider *p = cred_chain_resolve(o, &out, err, sizeof err);
  if (want) {
    if (CHECK_NOT_NULL(p))
      CHECK_EQ_STR(cred_provider_source(p), want);
    else
      fprintf(stderr, "  %s\n", err);
  } else {
    CHECK_NULL(p);
    CHECK_EQ_STR(out.argument, arg);
    CHECK_CONTAINS(err, part);
  }
  cred_provider_free(p);
}

static void test_order(void)
{
  cred_options o = {.api_endpoint = "http://127.0.0.1:1",
                    .command_timeout_ms = 1000};
  char *cmd[] = {"true", NULL};
  clear_env();
  expect(&o, NULL, "token", "no IAM token: tried token=, YC_IAM_TOKEN");
  expect(&o, NULL, "token", "skipped for a loopback endpoint");
  setenv("YC_SERVICE_ACCOUNT_KEY_FILE", "/nonexistent/key.json", 1);
  expect(&o, NULL, "sa_key_file", "YC_SERVICE_ACCOUNT_KEY_FILE: cannot open");
  setenv("YC_TOKEN", "y0_oauth", 1);
  expect(&o, "YC_TOKEN", NULL, NULL);
  setenv("YC_TOKEN", "t1.a.b", 1);
  expect(&o, "YC_TOKEN", NULL, NULL);
  setenv("YC_IAM_TOKEN", "t1.iam.x", 1);
  expect(&o, "YC_IAM_TOKEN", NULL, NULL);
  setenv("YC_IAM_TOKEN", "bad token", 1);
  expect(&o, NULL, "token", "from YC_IAM_TOKEN contains spaces");
  setenv("YC_IAM_TOKEN", "t1.iam.x", 1);
  o.token = "t1.opt.x";
  expect(&o, "token", NULL, NULL);
  o.token = NULL;
  o.command = cmd;
  expect(&o, "token_command", NULL, NULL);
  o.token = "x";
  expect(&o, NULL, "token_command", "give only one of");
  o.token = NULL;
  o.command = NULL;
  o.select = "YC_TOKEN";
  expect(&o, "YC_TOKEN", NULL, NULL);
  o.select = "token";
  expect(&o, NULL, "credentials", "but token= is not set");
  o.select = "metadata";
  expect(&o, "metadata", NULL, NULL);
  o.token = "x";
  expect(&o, NULL, "credentials", "conflicts with token=");
  o.token = NULL;
  o.select = "auto";
  o.iam_endpoint = "http://iam.example";
  expect(&o, NULL, "iam_endpoint", "plain http");
  clear_env();
}

static void test_none_message_fits(void)
{
  /* the error object caps messages at 400 characters: the whole of this
  ** one, after "bad argument 'token': ", must fit */
  cred_options o = {.api_endpoint = "https://mdb.example"};
  clear_env();
  setenv("YC_METADATA_ADDR", "127.0.0.1:9", 1); /* refused at once */
  cred_outcome out;
  char err[700];
  CHECK_NULL(cred_chain_resolve(&o, &out, err, sizeof err));
  CHECK_CONTAINS(err, "metadata service (no answer within 0.25 s)");
  CHECK(strlen(err) + strlen("bad argument 'token': ") < 400);
  clear_env();
}

static void test_metadata_url(void)
{
  char err[256];
  char *u = metadata_token_url(NULL, err, sizeof err);
  CHECK_EQ_STR(u, "http://169.254.169.254/computeMetadata/v1/instance/"
                  "service-accounts/default/token");
  free(u);
  u = metadata_token_url("127.0.0.1:8080", err, sizeof err);
  CHECK_EQ_STR(u, "http://127.0.0.1:8080/computeMetadata/v1/instance/"
                  "service-accounts/default/token");
  free(u);
  u = metadata_token_url("https://meta.example", err, sizeof err);
  CHECK_NOT_NULL(u);
  free(u);
  static const char *const bad[] = {
      "10.0.0.1",    "http://meta.example",  "ftp://127.0.0.1",
      "127.0.0.1/x", "http://u:p@127.0.0.1", NULL};
  for (const char *const *b = bad; *b; b++) {
    CHECK_CONTEXT("%s", *b);
    CHECK_NULL(metadata_token_url(*b, err, sizeof err));
    CHECK_CONTAINS(err, "YC_METADATA_ADDR");
  }
  CHECK_CONTEXT_CLEAR();
}

static void test_scrub(void)
{
  const char *secrets[] = {"y0_oauth_secret", "abc", NULL};
  char *s = secret_scrub("a y0_oauth_secret b abc Bearer xyz "
                         "t1.9euelZqJabcdef.zz eyJhbGciOiJQUzI1NiJ9.e30 "
                         "-----BEGIN PRIVATE KEY-----\nMIIE\n"
                         "-----END PRIVATE KEY----- end",
                         secrets);
  CHECK_EQ_STR(s, "a [REDACTED] b abc Bearer [REDACTED] [REDACTED] "
                  "[REDACTED] [REDACTED] end");
  free(s);
  s = secret_scrub("no secrets t1.short here", NULL);
  CHECK_EQ_STR(s, "no secrets t1.short here");
  free(s);
  CHECK_EQ_INT(secret_is_iam_token("t1.abc.def"), 1);
  CHECK_EQ_INT(secret_is_iam_token("t1.abc"), 0);
  CHECK_EQ_INT(secret_is_iam_token("t1.a.b.c"), 0);
  CHECK_EQ_INT(secret_is_iam_token("y0_AgAAAA"), 0);
  CHECK_EQ_INT(secret_is_iam_token(NULL), 0);
}

static void test_trace(void)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  mdb_trace t = {f};
  http_response r = {0};
  r.status = 200;
  r.len = 42;
  snprintf(r.request_id, sizeof r.request_id, "rid-1");
  trace_http(&t, "GET", "https://h/x?pageToken=p", &r, 1500000LL, NULL);
  r.curl_code = 7;
  r.status = 0;
  r.request_id[0] = '\0';
  snprintf(r.error, sizeof r.error, "Connection refused");
  trace_http(&t, "POST", "https://h/iam", &r, 2000000LL, "iam");
  trace_retry(&t, "GET", "https://h/x", "throttled", 429, 1500, 1);
  trace_printf(&t, "token t1.secretsecret.x and Bearer abc\nnext");
  mdb_trace off = {NULL};
  trace_printf(&off, "never printed");
  fclose(f);
  CHECK_EQ_STR(
      buf,
      "mdb: GET https://h/x?pageToken=p -> 200, 42 bytes, 0.002 s, "
      "request id rid-1\n"
      "mdb: POST https://h/iam -> failed: Connection refused, 0.002 s (iam)\n"
      "mdb: retry in 1.50 s (throttled, HTTP 429), 1 retry left: GET "
      "https://h/x\n"
      "mdb: token [REDACTED] and Bearer [REDACTED] next\n");
  free(buf);
  setenv("MDB_TRACE", "0", 1);
  CHECK_EQ_INT(trace_env_enabled(), 0);
  setenv("MDB_TRACE", "1", 1);
  CHECK_EQ_INT(trace_env_enabled(), 1);
  unsetenv("MDB_TRACE");
  CHECK_EQ_INT(trace_env_enabled(), 0);
}

/* A token that would break the Authorization header is refused wherever
** it comes from, and the message never quotes it. */
static void test_invalid_tokens(void)
{
  static const char *const bad[] = {
      "secret token",    "secrettoken\r",
      "secrettoken\n",   "secret\r\nX-Injected: 1",
      "secret\ttoken",   "secret\x7ftoken",
      "secret\x01token", " secrettoken",
      "secrettoken ",
  };
  cred_options o = {.api_endpoint = "http://127.0.0.1:1",
                    .command_timeout_ms = 1000};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_CONTEXT("bad token %zu", i);
    CHECK_EQ_INT(secret_token_is_valid(bad[i]), 0);
    for (int from_env = 0; from_env < 2; from_env++) {
      clear_env();
      /* An invalid option is refused even with a valid YC_IAM_TOKEN. */
      setenv("YC_IAM_TOKEN", from_env ? bad[i] : "t1.valid.env", 1);
      o.token = from_env ? NULL : bad[i];
      cred_outcome out;
      char err[700] = "";
      cred_provider *p = cred_chain_resolve(&o, &out, err, sizeof err);
      CHECK_NULL(p);
      cred_provider_free(p);
      CHECK_EQ_STR(out.argument, "token");
      CHECK_CONTAINS(err, "control characters");
      CHECK_CONTAINS(err, from_env ? "from YC_IAM_TOKEN" : "the token option");
      CHECK_NOT_CONTAINS(err, "secret");
      CHECK_NOT_CONTAINS(err, "Injected");
    }
  }
  CHECK_CONTEXT_CLEAR();
  o.token = NULL;
  clear_env();
}

int main(void)
{
  test_order();
  test_invalid_tokens();
  test_none_message_fits();
  test_metadata_url();
  test_scrub();
  test_trace();
  return check_summary();
}
