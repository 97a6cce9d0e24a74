/* RFC 3339 timestamps in UTC.  Done by hand (days-from-civil arithmetic)
 * rather than with gmtime/strftime because a million backups are rendered
 * at start-up and the range must cover years before 1970. */
#ifndef FAKEAPI_TIMEFMT_H
#define FAKEAPI_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* Earliest and latest instants an RFC 3339 four-digit year can express. */
#define TIME_MIN_SECS (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define TIME_MAX_SECS (253402300799LL) /* 9999-12-31T23:59:59Z */

/* Appends YYYY-MM-DDTHH:MM:SSZ, or YYYY-MM-DDTHH:MM:SS.ffffffZ when
 * micros >= 0. */
void time_put_rfc3339(struct buf *b, int64_t secs, int micros);

/* Accepts YYYY-MM-DDTHH:MM:SS[.fraction](Z|z|+hh:mm|-hh:mm); the fraction
 * is dropped. */
bool time_parse_rfc3339(const char *s, int64_t *secs);

/* Compact form for ids: YYYYMMDDTHHMMSSZ. */
void time_put_compact(struct buf *b, int64_t secs);

#endif
