#include "cred_provider.h"

#include "credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cred_provider {
  char *token;
};

cred_provider *cred_provider_new_static(const char *token)
{
  cred_provider *p = calloc(1, sizeof *p);
  if (p == NULL)
    return NULL;
  p->token = strdup(token);
  if (p->token == NULL) {
    free(p);
    return NULL;
  }
  return p;
}

void cred_provider_free(cred_provider *p)
{
  if (p == NULL)
    return;
  credentials_free(p->token);
  free(p);
}

char *cred_provider_token(cred_provider *p, char *err, size_t errlen)
{
  char *copy = strdup(p->token);
  if (copy == NULL)
    snprintf(err, errlen, "out of memory");
  return copy;
}

int cred_provider_invalidate(cred_provider *p, const char *token)
{
  (void)p;
  (void)token;
  return 0;
}

const char *cred_provider_secret(const cred_provider *p)
{
  return p->token;
}

const char *cred_provider_source(const cred_provider *p)
{
  (void)p;
  return "a fixed token";
}
