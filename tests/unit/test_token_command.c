/*
** token_command_run: no shell, output forms, failures, timeouts that kill
** the whole process group, and messages that never quote the output.
*/
#include "check.h"
#include "http/cancel.h"
#include "text/secret_text.h"
#include "auth/token_command.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Run argv; expect success with `token` and lifetime, or a failure whose
** message contains `part`. */
static void run(char *const argv[], long timeout_ms, const char *token,
                long long lifetime_ms, const char *part)
{
  cred_token t;
  char err[512] = "";
  CHECK_CONTEXT("%s %s", argv[0], argv[1] ? argv[1] : "");
  int rc = token_command_run(argv, timeout_ms, NULL, &t, err, sizeof err);
  if (token) {
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(t.value, token);
    if (lifetime_ms >= 0)
      CHECK(t.lifetime_ms > lifetime_ms - 5000 && t.lifetime_ms <= lifetime_ms);
    else
      CHECK_EQ_INT(t.lifetime_ms, -1);
    secret_free(t.value);
  } else {
    CHECK_EQ_INT(rc, -1);
    CHECK_NULL(t.value);
    CHECK_CONTAINS(err, part);
  }
  CHECK_CONTEXT_CLEAR();
}

static void test_outputs(void)
{
  char *plain[] = {"printf", "  t1.abc.def\n\n", NULL};
  run(plain, 5000, "t1.abc.def", -1, NULL);
  char *iam[] = {"printf",
                 "{\"iamToken\":\"t1.x.y\",\"expiresAt\":"
                 "\"2999-01-01T00:00:00Z\"}",
                 NULL};
  run(iam, 5000, "t1.x.y", 7LL * 86400 * 1000, NULL);
  char *meta[] = {"printf", "{\"access_token\":\"tok\",\"expires_in\":600}",
                  NULL};
  run(meta, 5000, "tok", 600000, NULL);
  /* no shell: the argument is not expanded */
  char *noshell[] = {"printf", "%s", "$HOME", NULL};
  run(noshell, 5000, "$HOME", -1, NULL);
}

static void test_failures(void)
{
  char *missing[] = {"/nonexistent/mdb-cmd", NULL};
  run(missing, 5000, NULL, 0, "cannot run '/nonexistent/mdb-cmd'");
  char *status[] = {"sh", "-c",
                    "echo 'first line' >&2; echo more >&2; "
                    "exit 4",
                    NULL};
  run(status, 5000, NULL, 0, "exited with status 4: first line");
  char *empty[] = {"true", NULL};
  run(empty, 5000, NULL, 0, "printed nothing");
  char *two[] = {"printf", "a b", NULL};
  run(two, 5000, NULL, 0, "more than one token");
  char *badjson[] = {"printf", "{\"iamToken\":5}", NULL};
  run(badjson, 5000, NULL, 0, "printed JSON without");
  char *sig[] = {"sh", "-c", "kill -TERM $$", NULL};
  run(sig, 5000, NULL, 0, "killed by signal 15");
  /* a flood of output is cut off */
  char *flood[] = {"sh", "-c", "yes tttttttttttttttttttt", NULL};
  run(flood, 5000, NULL, 0, "printed more than 65536 bytes");
  /* a token in stderr is scrubbed from the message */
  char *leak[] = {"sh", "-c", "echo 'got t1.leakedleaked.zzzz' >&2; exit 1",
                  NULL};
  cred_token t;
  char err[512];
  CHECK_EQ_INT(token_command_run(leak, 5000, NULL, &t, err, sizeof err),
               AUTH_HTTP_FAILED);
  CHECK_NOT_CONTAINS(err, "leakedleaked");
  CHECK_CONTAINS(err, "[REDACTED]");
}

static void test_timeout(void)
{
  /* the grandchild holds the pipe open: killed with its process group */
  char *hang[] = {"sh", "-c", "sleep 20 & sleep 20", NULL};
  long long t0 = now_ms();
  run(hang, 300, NULL, 0, "did not finish within 0.3 s");
  CHECK(now_ms() - t0 < 3000);
  /* Ctrl-C (cancel.h) stops it too */
  cancel_raise();
  cred_token t;
  char err[256];
  t0 = now_ms();
  CHECK_EQ_INT(token_command_run(hang, 10000, NULL, &t, err, sizeof err),
               AUTH_HTTP_INTERRUPTED);
  CHECK(now_ms() - t0 < 3000);
  CHECK_CONTAINS(err, "interrupted");
  cancel_clear();
}

int main(void)
{
  test_outputs();
  test_failures();
  test_timeout();
  return check_summary();
}
