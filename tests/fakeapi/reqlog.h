/* --log FILE: one line per request, "METHOD RAW-TARGET STATUS", flushed at
 * once so a test can read it while the server runs.  The raw target is
 * exactly what the client sent (still percent-encoded).  Dropped
 * connections are logged with status 000.  Headers are never logged, so
 * the bearer token can't leak into it; with --log-detail a line also says
 * whether an Authorization header was present (never its value) and which
 * Content-Encoding the response had. */
#ifndef FAKEAPI_REQLOG_H
#define FAKEAPI_REQLOG_H

#include <stdbool.h>

struct reqlog;

/* NULL path gives a log that discards everything.  Returns NULL (after a
 * message on stderr) if the file can't be opened. */
struct reqlog *reqlog_open(const char *path, bool detail);
void reqlog_close(struct reqlog *log);
/* auth: the request had an Authorization header; encoding: the response's
 * Content-Encoding, NULL for none.  Both are written only with detail. */
void reqlog_write(struct reqlog *log, const char *method, const char *target,
                  int status, bool auth, const char *encoding);

#endif
