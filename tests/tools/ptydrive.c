/*
** ptydrive: run a command on a pseudo-terminal and talk to it from a
** script, the way a person at a terminal would (a tiny expect(1)).  The
** REPL tests use it: line editing, completion and Ctrl-C only happen on a
** real terminal.
**
**   ptydrive [-t SECONDS] [-o TRANSCRIPT] [-s SCRIPT] [-c COLS] -- CMD [ARG...]
**
** The script (a file, or stdin) has one action per line:
**   send TEXT     write TEXT to the terminal (C escapes: \n \r \t \e \\
**                 \xHH, so \x03 is Ctrl-C, \x04 Ctrl-D, \t a Tab)
**   expect TEXT   wait until TEXT appears in the output after the end of
**                 the previous match (same escapes)
**   sleep MS      wait MS milliseconds, collecting output
**   wait          wait for the command to exit
**   # ...         a comment; blank lines are skipped
** Every wait is bounded by -t (default 10 s).
**
** Everything the command wrote (raw, with the terminal's \r\n) goes to
** TRANSCRIPT or stdout.  Exit status: the command's (128+N when killed by
** signal N), 3 when an expect timed out, 4 when the command did not exit
** in time after the script ended (it is then killed), 2 on a usage error.
*/
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PTYDRIVE_EXIT_USAGE   2
#define PTYDRIVE_EXIT_TIMEOUT 3
#define PTYDRIVE_EXIT_HUNG    4

typedef struct ptydrive {
  int master;
  pid_t pid;
  int exited; /* waitpid collected the child */
  int status; /* its wait status */
  int eof;    /* the slave side is closed */
  char *out;  /* everything read so far */
  size_t len, cap;
  size_t mark; /* expect searches from here */
  long timeout_ms;
} ptydrive;

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *msg)
{
  fprintf(stderr, "ptydrive: %s: %s\n", msg, strerror(errno));
  exit(PTYDRIVE_EXIT_USAGE);
}

static void append(ptydrive *d, const char *buf, size_t n)
{
  if (d->len + n + 1 > d->cap) {
    size_t cap = d->cap ? d->cap : 4096;
    while (cap < d->len + n + 1)
      cap *= 2;
    char *p = realloc(d->out, cap);
    if (p == NULL)
      die("out of memory");
    d->out = p;
    d->cap = cap;
  }
  memcpy(d->out + d->len, buf, n);
  d->len += n;
  d->out[d->len] = '\0';
}

static void reap(ptydrive *d, int block)
{
  if (d->exited)
    return;
  if (waitpid(d->pid, &d->status, block ? 0 : WNOHANG) == d->pid)
    d->exited = 1;
}

/* Read what is available for up to `ms` (0: only what is there now). */
static void pump(ptydrive *d, long ms)
{
  long deadline = now_ms() + ms;
  for (;;) {
    long left = deadline - now_ms();
    if (left < 0)
      left = 0;
    if (d->eof) {
      reap(d, 0);
      if (left > 0 && !d->exited) {
        usleep(10000);
        continue;
      }
      return;
    }
    struct pollfd p = {d->master, POLLIN, 0};
    int r = poll(&p, 1, (int)(left > 50 ? 50 : left));
    if (r < 0 && errno != EINTR)
      die("poll");
    if (r > 0) {
      char buf[4096];
      ssize_t n = read(d->master, buf, sizeof buf);
      if (n > 0) {
        append(d, buf, (size_t)n);
        continue; /* drain before checking the clock */
      }
      if (n == 0 || errno == EIO)
        d->eof = 1; /* Linux reports a closed slave as EIO */
      else if (errno != EINTR && errno != EAGAIN)
        die("read");
    }
    reap(d, 0);
    if (now_ms() >= deadline)
      return;
  }
}

/* Decode C escapes in place; returns the new length. */
static size_t unescape(char *s)
{
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r != '\\' || r[1] == '\0') {
      *w++ = *r;
      continue;
    }
    r++;
    switch (*r) {
    case 'n': *w++ = '\n'; break;
    case 'r': *w++ = '\r'; break;
    case 't': *w++ = '\t'; break;
    case 'e': *w++ = '\033'; break;
    case 'x': {
      char hex[3] = {0, 0, 0};
      if (r[1] && r[2]) {
        hex[0] = r[1];
        hex[1] = r[2];
        r += 2;
      }
      *w++ = (char)strtol(hex, NULL, 16);
      break;
    }
    default: *w++ = *r; break;
    }
  }
  *w = '\0';
  return (size_t)(w - s);
}

/* Print `s` with control characters visible, for failure messages. */
static void show(FILE *f, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n')
      fputs("\\n\n", f);
    else if (c == '\\')
      fputs("\\\\", f);
    else if (c < 32 || c == 127)
      fprintf(f, "\\x%02x", c);
    else
      fputc(c, f);
  }
}

static int expect(ptydrive *d, const char *text, size_t n)
{
  long deadline = now_ms() + d->timeout_ms;
  for (;;) {
    if (d->len >= d->mark + n) {
      char *hit = memmem(d->out + d->mark, d->len - d->mark, text, n);
      if (hit) {
        d->mark = (size_t)(hit - d->out) + n;
        return 0;
      }
    }
    if (now_ms() >= deadline || (d->eof && d->exited)) {
      fprintf(stderr, "ptydrive: timed out waiting for \"");
      show(stderr, text, n);
      fprintf(stderr, "\"%s; output since the last match:\n",
              d->eof ? " (the command has exited)" : "");
      show(stderr, d->out + d->mark, d->len - d->mark);
      fputc('\n', stderr);
      return -1;
    }
    pump(d, 100);
  }
}

static void send_text(ptydrive *d, const char *text, size_t n)
{
  while (n > 0) {
    ssize_t w = write(d->master, text, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      die("write");
    }
    text += w;
    n -= (size_t)w;
  }
}

static int run_script(ptydrive *d, FILE *script)
{
  char line[8192];
  while (fgets(line, sizeof line, script)) {
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\n')
      line[--n] = '\0';
    if (n == 0 || line[0] == '#')
      continue;
    char *arg = strchr(line, ' ');
    if (arg)
      *arg++ = '\0';
    else
      arg = line + n;
    if (strcmp(line, "send") == 0) {
      send_text(d, arg, unescape(arg));
      pump(d, 0);
    } else if (strcmp(line, "expect") == 0) {
      if (expect(d, arg, unescape(arg)) != 0)
        return PTYDRIVE_EXIT_TIMEOUT;
    } else if (strcmp(line, "sleep") == 0) {
      pump(d, atol(arg));
    } else if (strcmp(line, "wait") == 0) {
      break;
    } else {
      fprintf(stderr, "ptydrive: unknown action '%s'\n", line);
      return PTYDRIVE_EXIT_USAGE;
    }
  }
  return 0;
}

static void usage(void)
{
  fputs("usage: ptydrive [-t SECONDS] [-o TRANSCRIPT] [-s SCRIPT] [-c COLS] "
        "-- CMD [ARG...]\n",
        stderr);
  exit(PTYDRIVE_EXIT_USAGE);
}

int main(int argc, char **argv)
{
  ptydrive d;
  memset(&d, 0, sizeof d);
  d.timeout_ms = 10000;
  const char *transcript = NULL, *script_path = NULL;
  struct winsize ws = {24, 80, 0, 0};
  int opt;
  while ((opt = getopt(argc, argv, "+t:o:s:c:")) != -1) {
    switch (opt) {
    case 't': d.timeout_ms = (long)(atof(optarg) * 1000); break;
    case 'o': transcript = optarg; break;
    case 's': script_path = optarg; break;
    case 'c': ws.ws_col = (unsigned short)atoi(optarg); break;
    default: usage();
    }
  }
  if (optind >= argc)
    usage();
  FILE *script = stdin;
  if (script_path && (script = fopen(script_path, "r")) == NULL)
    die(script_path);

  d.pid = forkpty(&d.master, NULL, NULL, &ws);
  if (d.pid < 0)
    die("forkpty");
  if (d.pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[optind], argv + optind);
    fprintf(stderr, "ptydrive: cannot run %s: %s\n", argv[optind],
            strerror(errno));
    _exit(127);
  }

  int code = run_script(&d, script);
  if (code == 0) {
    long deadline = now_ms() + d.timeout_ms;
    while (!(d.eof && d.exited) && now_ms() < deadline)
      pump(&d, 100);
    if (!d.exited) {
      fprintf(stderr, "ptydrive: the command did not exit within %ld ms\n",
              d.timeout_ms);
      code = PTYDRIVE_EXIT_HUNG;
    }
  }
  if (!d.exited) {
    kill(d.pid, SIGKILL);
    reap(&d, 1);
  }
  pump(&d, 0);
  if (code == 0)
    code = WIFEXITED(d.status) ? WEXITSTATUS(d.status)
                               : 128 + WTERMSIG(d.status);

  FILE *out = stdout;
  if (transcript && (out = fopen(transcript, "wb")) == NULL)
    die(transcript);
  fwrite(d.out ? d.out : "", 1, d.len, out);
  if (out != stdout)
    fclose(out);
  if (script != stdin)
    fclose(script);
  free(d.out);
  close(d.master);
  return code;
}
