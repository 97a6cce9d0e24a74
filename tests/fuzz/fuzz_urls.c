/* libFuzzer target: endpoint validation and list URL building with any
** bytes; a built URL never contains a raw space, CR, LF or '#', and only
** accepted endpoints are used. */
#include "http/endpoint_url.h"
#include "engines.h"
#include "listing/list_url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  /* input: kind/engine byte, then three NUL-separated strings:
  ** endpoint, id, token (and the rest as a filter) */
  char *buf = malloc(size + 4);
  memcpy(buf, data + 1, size - 1);
  memset(buf + size - 1, 0, 5);
  const char *parts[4] = {buf, "", "", ""};
  size_t k = 1;
  for (size_t i = 0; i < size - 1 && k < 4; i++)
    if (buf[i] == '\0')
      parts[k++] = buf + i + 1;
  char err[256];
  char *ep = endpoint_normalize(parts[0], err, sizeof err);
  if (ep == NULL)
    ep = strdup("https://mdb.api.cloud.yandex.net");
  list_target t = {ep, engines_at(data[0] % engines_count()),
                   (list_kind)(data[0] / 16 % 6), parts[1], parts[3]};
  char *url = list_url_build(&t, (long)(data[0]) * 7 - 100, parts[2]);
  if (url) {
    size_t base = strlen(ep);
    for (const char *p = url + base; *p; p++)
      if (*p == ' ' || *p == '\r' || *p == '\n' || *p == '#')
        abort();
  }
  free(url);
  free(ep);
  free(buf);
  return 0;
}
