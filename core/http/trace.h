/*
** The request log behind `mdblua --trace` and MDB_TRACE=1: one line per
** HTTP request on stderr (method, URL, status, bytes, time, request id),
** one per retry (reason and delay) and one per token event (which source,
** how long the token lives).  Every line passes through
** secret_scrub() on its way out, and no caller hands it a header or
** a body, so no token, JWT or key can reach the log.
*/
#ifndef TRACE_H
#define TRACE_H

#include "http/http_request.h"

#include <stdio.h>

typedef struct mdb_trace {
  FILE *out; /* NULL: tracing off */
} mdb_trace;

/* 1 when the environment asks for tracing (MDB_TRACE set, not "" or "0"). */
int trace_env_enabled(void);

/* 1 when `t` is non-NULL and on. */
int trace_on(const mdb_trace *t);

/* A free-form line ("mdb: " is prepended, a newline appended). */
void trace_printf(const mdb_trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
** A finished request: "mdb: GET URL -> 200, 5120 bytes, 0.031 s, request
** id X" or "... -> failed: <libcurl's reason>, 0.002 s".  `what` tags it
** (e.g. "prefetch"), or NULL.
*/
void trace_http(const mdb_trace *t, const char *method, const char *url,
                const http_response *r, long long elapsed_ns, const char *what);

/* A retry about to wait: "mdb: retry in 0.20 s (server error, HTTP 503),
** 4 retries left: GET URL". */
void trace_retry(const mdb_trace *t, const char *method, const char *url,
                 const char *why, long status, long delay_ms, int retries_left);

#endif /* TRACE_H */
