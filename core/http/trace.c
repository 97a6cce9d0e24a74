#include "http/trace.h"

#include "http/cancel.h"
#include "text/secret_text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int trace_env_enabled(void)
{
  const char *v = getenv("MDB_TRACE");
  return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

int trace_on(const mdb_trace *t)
{
  return t != NULL && t->out != NULL;
}

/* The most bytes of a line that are written. */
#define TRACE_LINE_MAX 1023

/* One write per line, so lines of concurrent processes do not interleave.
** The line is scrubbed whole, then cut: a secret cut in two would match
** neither itself nor a pattern. */
static void emit(const mdb_trace *t, const char *line)
{
  char *clean = secret_scrub(line, NULL);
  const char *s = clean ? clean : "(trace line dropped: out of memory)";
  size_t n = strlen(s);
  if (n > TRACE_LINE_MAX)
    n = TRACE_LINE_MAX;
  char *buf = malloc(n + 7);
  if (buf != NULL) {
    memcpy(buf, "mdb: ", 5);
    memcpy(buf + 5, s, n);
    buf[n + 5] = '\n';
    fwrite(buf, 1, n + 6, t->out);
    free(buf);
  }
  fflush(t->out);
  free(clean);
}

void trace_printf(const mdb_trace *t, const char *fmt, ...)
{
  if (!trace_on(t))
    return;
  char small[TRACE_LINE_MAX + 1];
  char *line = small;
  int dropped = 0;
  va_list ap, again;
  va_start(ap, fmt);
  va_copy(again, ap);
  int len = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  /* whole, to be scrubbed before emit cuts it */
  if (len >= (int)sizeof small) {
    char *big = malloc((size_t)len + 1);
    if (big != NULL) {
      vsnprintf(big, (size_t)len + 1, fmt, again);
      line = big;
    } else {
      dropped = 1; /* not cut unscrubbed */
    }
  }
  va_end(again);
  for (char *p = line; *p; p++) /* a server's text stays on one line */
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = ' ';
  emit(t, dropped ? "(trace line dropped: out of memory)" : line);
  if (line != small)
    free(line);
}

void trace_http(const mdb_trace *t, const char *method, const char *url,
                const http_response *r, long long elapsed_ns, const char *what)
{
  if (!trace_on(t))
    return;
  char result[320];
  if (r->cancelled)
    snprintf(result, sizeof result, "%s",
             cancel_by_deadline() ? "cut short by the deadline"
                                  : "interrupted");
  else if (r->curl_code != 0 && r->status == 0)
    snprintf(result, sizeof result, "failed: %s", r->error);
  else if (r->curl_code != 0)
    snprintf(result, sizeof result, "%ld, then failed: %s", r->status,
             r->error);
  else
    snprintf(result, sizeof result, "%ld, %zu bytes", r->status, r->len);
  trace_printf(t, "%s %s -> %s, %.3f s%s%s%s%s%s", method, url ? url : "?",
               result, (double)elapsed_ns / 1e9,
               r->request_id[0] ? ", request id " : "", r->request_id,
               what ? " (" : "", what ? what : "", what ? ")" : "");
}

void trace_retry(const mdb_trace *t, const char *method, const char *url,
                 const char *why, long status, long delay_ms, int retries_left)
{
  char st[32] = "";
  if (status > 0)
    snprintf(st, sizeof st, ", HTTP %ld", status);
  trace_printf(t, "retry in %.2f s (%s%s), %d %s left: %s %s",
               (double)delay_ms / 1000.0, why, st, retries_left,
               retries_left == 1 ? "retry" : "retries", method,
               url ? url : "?");
}
