/* Strict unsigned integer parsing for options, fault rules and query
 * parameters: digits only, no sign, no spaces, no overflow. */
#ifndef FAKEAPI_NUMPARSE_H
#define FAKEAPI_NUMPARSE_H

#include <stdbool.h>
#include <stdint.h>

bool parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
