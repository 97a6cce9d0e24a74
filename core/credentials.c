#include "credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int credentials_token_is_valid(const char *token)
{
  if (token == NULL)
    return 0;
  for (const unsigned char *p = (const unsigned char *)token; *p; p++)
    if (*p < 0x21 || *p == 0x7f)   /* CR/LF would inject headers */
      return 0;
  return 1;
}

char *credentials_resolve(const char *option, char *err, size_t errlen)
{
  const char *src = "the token option";
  const char *tok = option;
  if (tok == NULL || *tok == '\0') {
    tok = getenv("YC_IAM_TOKEN");
    src = "YC_IAM_TOKEN";
  }
  if (tok == NULL || *tok == '\0') {
    snprintf(err, errlen, "no IAM token: pass token= to mdb.client or set "
             "YC_IAM_TOKEN (for example: export YC_IAM_TOKEN=$(yc iam "
             "create-token))");
    return NULL;
  }
  if (!credentials_token_is_valid(tok)) {
    snprintf(err, errlen, "the IAM token from %s contains spaces or "
             "control characters", src);
    return NULL;
  }
  char *copy = strdup(tok);
  if (copy == NULL)
    snprintf(err, errlen, "out of memory");
  return copy;
}

void credentials_free(char *token)
{
  if (token == NULL)
    return;
  volatile char *p = token;
  while (*p)
    *p++ = 0;
  free(token);
}
