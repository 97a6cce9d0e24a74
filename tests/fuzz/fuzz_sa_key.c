/* libFuzzer target: the service-account key reader with any JSON text
** (a spec starting with '{' is read as the key itself, never as a path);
** it accepts or refuses with a message, and its messages never quote the
** private key. */
#include "auth/sa_key.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *spec = malloc(size + 2);
  spec[0] = '{'; /* always the JSON form: no file access */
  memcpy(spec + 1, data, size);
  spec[size + 1] = '\0';
  char warn[256], err[512];
  sa_key *k = sa_key_load(spec, "fuzz", warn, sizeof warn, err, sizeof err);
  if (k == NULL && strstr(err, "PRIVATE KEY") != NULL)
    abort();
  sa_key_free(k);
  free(spec);
  return 0;
}
