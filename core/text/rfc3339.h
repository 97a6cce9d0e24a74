/*
** RFC 3339 timestamps as the API sends them (google.protobuf.Timestamp in
** JSON): "YYYY-MM-DDTHH:MM:SS", an optional fraction of 1 to 9 digits, then
** "Z" or a "+hh:mm"/"-hh:mm" offset.  Lowercase "t" and "z" are accepted,
** as RFC 3339 section 5.6 allows.  A leap second (":60") is accepted and
** counts as the first second of the next minute.
*/
#ifndef RFC3339_H
#define RFC3339_H

#include <stddef.h>
#include <stdint.h>

typedef struct rfc3339_time {
  int64_t sec;  /* seconds since 1970-01-01T00:00:00Z (may be negative) */
  int32_t nsec; /* 0 .. 999999999 */
} rfc3339_time;

/*
** Parse exactly `len` bytes of `s`.  Returns 0 and fills *out, or -1 when
** the text is not a valid timestamp (bad shape, field out of range, day not
** in that month, trailing bytes).
*/
int rfc3339_parse(const char *s, size_t len, rfc3339_time *out);

/* The same instant as a float number of seconds (sub-microsecond lost). */
double rfc3339_to_double(rfc3339_time t);

/*
** Days since 1970-01-01 of a proleptic Gregorian date (no validation).
** Shared with the formatting side so both agree on the calendar.
*/
int64_t rfc3339_days_from_civil(int64_t y, int m, int d);

#endif /* RFC3339_H */
