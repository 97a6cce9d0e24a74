/* libFuzzer target: RFC 3339 parsing never reads past `len`, and every
** accepted text has a time of day and nanoseconds in range. */
#include "text/rfc3339.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  rfc3339_time t;
  if (rfc3339_parse((const char *)data, size, &t) == 0) {
    if (t.nsec < 0 || t.nsec > 999999999)
      abort();
    /* the same text parses the same way again */
    rfc3339_time u;
    if (rfc3339_parse((const char *)data, size, &u) != 0 || u.sec != t.sec ||
        u.nsec != t.nsec)
      abort();
    (void)rfc3339_to_double(t);
  }
  return 0;
}
