#define _GNU_SOURCE /* pipe2 */
#include "auth/token_command.h"

#include "http/cancel.h"
#include "http/monotonic_clock.h"
#include "text/secret_text.h"
#include "auth/iam_exchange.h"
#include "text/json_member.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STDERR_KEEP   2048
#define POLL_SLICE_MS 100 /* how long Ctrl-C may go unnoticed */

extern char **environ;

typedef struct capture {
  int fd;
  char *buf;
  size_t len, cap, limit;
  int overflow; /* more than `limit` bytes arrived */
} capture;

/* Read what is there; returns 0 at EOF, 1 while open. */
static int drain(capture *c)
{
  char tmp[4096];
  ssize_t n = read(c->fd, tmp, sizeof tmp);
  if (n < 0)
    return errno == EINTR || errno == EAGAIN ? 1 : 0;
  if (n == 0)
    return 0;
  size_t take = (size_t)n;
  if (c->len + take > c->limit) {
    c->overflow = 1;
    take = c->limit - c->len;
  }
  memcpy(c->buf + c->len, tmp, take);
  c->len += take;
  c->buf[c->len] = '\0';
  secret_wipe(tmp, sizeof tmp);
  return 1;
}

static void kill_group(pid_t pid)
{
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

/* The first line of the command's stderr, for a message. */
static void first_line(const char *s, char *out, size_t n)
{
  while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
    s++;
  size_t len = strcspn(s, "\r\n");
  if (len > 200)
    len = 200;
  snprintf(out, n, "%.*s", (int)len, s);
}

static int is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f' || c == '\0';
}

/*
** What the command printed, as secrets to scrub out of a message that
** quotes its stderr: each blank-separated word (so the bare token matches
** without the newline or blanks around it) and, for JSON, the decoded
** "iamToken" and "access_token".  NULL-terminated, entries wiped by
** free_output_secrets; NULL when out of memory.
*/
static char **output_secrets(const char *s, size_t len)
{
  size_t cap = 4; /* two JSON members, the last word, the NULL */
  for (size_t i = 0; i < len; i++)
    cap += is_blank(s[i]);
  char **v = calloc(cap, sizeof *v);
  if (v == NULL)
    return NULL;
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && is_blank(s[i]))
      i++;
    size_t j = i;
    while (j < len && !is_blank(s[j]))
      j++;
    if (j > i && (v[n++] = strndup(s + i, j - i)) == NULL)
      goto oom;
    i = j;
  }
  const char *const members[] = {"iamToken", "access_token"};
  for (size_t m = 0; m < 2; m++) {
    char *tok = NULL;
    if (json_member_string(s, len, members[m], &tok) == 1)
      v[n++] = tok;
    else
      secret_free(tok);
  }
  return v;
oom:
  for (size_t i = 0; i < n; i++)
    secret_free(v[i]);
  free(v);
  return NULL;
}

static void free_output_secrets(char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    secret_free(*p);
  free(v);
}

/* Take the token out of the command's output. */
static int parse_output(char *s, size_t len, cred_token *out, char *err,
                        size_t errlen)
{
  while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
                 s[len - 1] == ' ' || s[len - 1] == '\t'))
    s[--len] = '\0';
  char *p = s;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  len -= (size_t)(p - s);
  if (*p == '{') {
    char why[160];
    if (iam_parse_token_response(p, len, out, why, sizeof why) == 0)
      return 0;
    char *tok = NULL;
    double expires_in = -1;
    if (json_member_string(p, len, "access_token", &tok) == 1 && *tok &&
        secret_token_is_valid(tok)) {
      if (json_member_number(p, len, "expires_in", &expires_in) == 1 &&
          expires_in >= 0 && expires_in < 86400.0 * 7)
        out->lifetime_ms = (long long)(expires_in * 1000.0);
      out->value = tok;
      return 0;
    }
    secret_free(tok);
    snprintf(err, errlen,
             "printed JSON without a usable \"iamToken\" or "
             "\"access_token\"");
    return -1;
  }
  if (len == 0) {
    snprintf(err, errlen, "printed nothing");
    return -1;
  }
  if (!secret_token_is_valid(p)) {
    snprintf(err, errlen,
             "printed more than one token (expected a single "
             "line, like 'yc iam create-token' prints)");
    return -1;
  }
  out->value = strdup(p);
  out->lifetime_ms = -1;
  if (out->value == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

int token_command_run(char *const argv[], long timeout_ms,
                      const mdb_trace *trace, cred_token *out, char *err,
                      size_t errlen)
{
  const char *prog = argv[0];
  int outp[2] = {-1, -1}, errp[2] = {-1, -1};
  int rc = AUTH_HTTP_FAILED;
  pid_t pid = -1;
  char stderr_line[256] = "";
  char why[200] = "";
  capture co = {.limit = TOKEN_COMMAND_MAX_OUTPUT};
  capture ce = {.limit = STDERR_KEEP};
  out->value = NULL;
  out->lifetime_ms = -1;
  co.buf = malloc(co.limit + 1);
  ce.buf = malloc(ce.limit + 1);
  if (co.buf == NULL || ce.buf == NULL) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  co.buf[0] = ce.buf[0] = '\0';
  if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "token_command: cannot make a pipe: %s",
             strerror(errno));
    goto done;
  }

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
  posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
  posix_spawnattr_init(&at);
  sigset_t none, dflt;
  sigemptyset(&none);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGPIPE);
  sigaddset(&dflt, SIGINT);
  sigaddset(&dflt, SIGTERM);
  sigaddset(&dflt, SIGQUIT);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &dflt);
  posix_spawnattr_setpgroup(&at, 0); /* Ctrl-C at the terminal is ours */
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                    POSIX_SPAWN_SETPGROUP);
  long long t0 = monotonic_ms();
  int se = posix_spawnp(&pid, prog, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(outp[1]);
  close(errp[1]);
  outp[1] = errp[1] = -1;
  if (se != 0) {
    pid = -1;
    snprintf(err, errlen, "token_command: cannot run '%s': %s", prog,
             strerror(se));
    goto done;
  }

  co.fd = outp[0];
  ce.fd = errp[0];
  fcntl(co.fd, F_SETFL, O_NONBLOCK);
  fcntl(ce.fd, F_SETFL, O_NONBLOCK);
  int open_out = 1, open_err = 1, status = 0, exited = 0;
  long long deadline = t0 + timeout_ms;
  for (;;) {
    if (cancel_requested()) {
      snprintf(why, sizeof why, "interrupted");
      rc = AUTH_HTTP_INTERRUPTED;
      break;
    }
    long long left = deadline - monotonic_ms();
    if (left <= 0) {
      snprintf(why, sizeof why,
               "did not finish within %.1f s (the "
               "token_command_timeout)",
               (double)timeout_ms / 1000.0);
      break;
    }
    if (!open_out && !open_err) {
      /* Both pipes closed: wait for the exit itself, still bounded. */
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = 1;
        break;
      }
      struct timespec ts = {0, 10 * 1000000L};
      nanosleep(&ts, NULL);
      continue;
    }
    struct pollfd pf[2] = {{open_out ? co.fd : -1, POLLIN, 0},
                           {open_err ? ce.fd : -1, POLLIN, 0}};
    int slice = (int)cancel_cap_ms(left < POLL_SLICE_MS ? (long)left
                                                        : POLL_SLICE_MS);
    if (poll(pf, 2, slice) < 0 && errno != EINTR)
      break;
    if (open_out && pf[0].revents)
      open_out = drain(&co);
    if (open_err && pf[1].revents)
      open_err = drain(&ce);
    if (co.overflow) {
      snprintf(why, sizeof why, "printed more than %d bytes",
               TOKEN_COMMAND_MAX_OUTPUT);
      break;
    }
  }
  if (!exited) {
    kill_group(pid);
    waitpid(pid, &status, 0); /* prompt after SIGKILL */
  }
  double secs = (double)(monotonic_ms() - t0) / 1000.0;
  /* The stderr line may quote the token the command printed (or any
  ** token): its whole text is scrubbed before the line is cut, as a token
  ** cut in two would match neither itself nor a pattern; when that cannot
  ** be done, no line is quoted. */
  if (ce.len) {
    char **secrets = co.len ? output_secrets(co.buf, co.len) : NULL;
    char *clean = co.len && secrets == NULL
                      ? NULL
                      : secret_scrub(ce.buf, (const char *const *)secrets);
    if (clean)
      first_line(clean, stderr_line, sizeof stderr_line);
    secret_free(clean);
    free_output_secrets(secrets);
  }
  if (!exited) {
    trace_printf(trace, "token_command '%s': %s, killed after %.3f s", prog,
                 why, secs);
    snprintf(err, errlen, "token_command '%s' %s", prog, why);
    goto done;
  }
  if (WIFSIGNALED(status)) {
    trace_printf(trace,
                 "token_command '%s': killed by signal %d after "
                 "%.3f s",
                 prog, WTERMSIG(status), secs);
    snprintf(err, errlen, "token_command '%s' was killed by signal %d%s%s",
             prog, WTERMSIG(status), stderr_line[0] ? ": " : "", stderr_line);
    goto done;
  }
  int code = WEXITSTATUS(status);
  trace_printf(trace,
               "token_command '%s': exit status %d, %zu bytes of "
               "output, %.3f s",
               prog, code, co.len, secs);
  if (code != 0) {
    snprintf(err, errlen, "token_command '%s' exited with status %d%s%s", prog,
             code, stderr_line[0] ? ": " : "", stderr_line);
    goto done;
  }
  if (parse_output(co.buf, co.len, out, why, sizeof why) != 0) {
    snprintf(err, errlen, "token_command '%s' %s", prog, why);
    goto done;
  }
  rc = AUTH_HTTP_OK;
done:
  if (rc != AUTH_HTTP_OK && err[0]) {
    /* The stderr line may quote the token the command printed before it
    ** failed (or any token): scrub the whole message of every word of
    ** the output, and of anything shaped like a secret. */
    char **secrets = co.len ? output_secrets(co.buf, co.len) : NULL;
    char *clean = co.len && secrets == NULL
                      ? NULL
                      : secret_scrub(err, (const char *const *)secrets);
    if (clean)
      snprintf(err, errlen, "%s", clean);
    else
      snprintf(err, errlen,
               "token_command '%s' failed (its message was "
               "dropped: out of memory)",
               prog);
    free(clean);
    free_output_secrets(secrets);
  }
  for (int i = 0; i < 2; i++) {
    if (outp[i] >= 0)
      close(outp[i]);
    if (errp[i] >= 0)
      close(errp[i]);
  }
  if (co.buf) {
    secret_wipe(co.buf, co.limit + 1);
    free(co.buf);
  }
  if (ce.buf) {
    secret_wipe(ce.buf, ce.limit + 1);
    free(ce.buf);
  }
  return rc;
}
