/*
** int64 values as the API's JSON sends them: decimal strings (proto3 JSON
** encodes int64 as a string).  Strict: an optional '-', 1 to 19 digits,
** nothing else (no spaces, '+', exponent or fraction), within int64.
*/
#ifndef INT64_TEXT_H
#define INT64_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Parse exactly `len` bytes of `s`; 0 and *out, or -1 when not an int64. */
int int64_text_parse(const char *s, size_t len, int64_t *out);

#endif /* INT64_TEXT_H */
