#include "auth/cred_chain.h"

#include "auth/auth_http.h"
#include "text/secret_text.h"
#include "http/endpoint_url.h"
#include "http/url_parts.h"
#include "auth/iam_exchange.h"
#include "auth/metadata_token.h"
#include "auth/sa_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cred_chain_names[] = {
    "auto",        "token",         "YC_IAM_TOKEN", "YC_TOKEN",
    "sa_key_file", "token_command", "metadata",     NULL};

static const char *env(const char *name)
{
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

static int endpoint_is_loopback(const char *url)
{
  url_parts u;
  int r = url_parts_parse(url, &u) == URL_PARTS_OK &&
          endpoint_host_is_loopback(u.host);
  url_parts_free(&u);
  return r;
}

/* Fill net's IAM token URL (malloc'd into *owned). */
static int iam_url(const cred_options *o, char **owned, cred_outcome *out,
                   char *err, size_t errlen)
{
  const char *base = o->iam_endpoint;
  const char *from = "iam_endpoint";
  if (base == NULL && (base = env("YC_IAM_ENDPOINT")) != NULL)
    from = "YC_IAM_ENDPOINT";
  if (base == NULL)
    base = IAM_DEFAULT_ENDPOINT;
  char why[300];
  char *norm = endpoint_normalize(base, why, sizeof why);
  if (norm == NULL) {
    out->argument = "iam_endpoint";
    snprintf(err, errlen, "%s: %s", from, why);
    return -1;
  }
  size_t n = strlen(norm) + sizeof IAM_TOKENS_PATH;
  *owned = malloc(n);
  if (*owned == NULL) {
    free(norm);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  snprintf(*owned, n, "%s%s", norm, IAM_TOKENS_PATH);
  free(norm);
  return 0;
}

static cred_provider *oom(char *err, size_t errlen)
{
  snprintf(err, errlen, "out of memory");
  return NULL;
}

static cred_provider *fixed(const char *token, const char *source,
                            const cred_net *net, cred_outcome *out, char *err,
                            size_t errlen)
{
  if (!secret_token_is_valid(token)) {
    out->argument = "token";
    snprintf(err, errlen,
             "the IAM token from %s contains spaces or "
             "control characters",
             strcmp(source, "token") == 0 ? "the token option" : source);
    return NULL;
  }
  cred_provider *p = cred_provider_new_static_named(token, source, net);
  return p ? p : oom(err, errlen);
}

static cred_provider *from_yc_token(const char *tok, const cred_net *net,
                                    cred_outcome *out, char *err, size_t errlen)
{
  if (secret_is_iam_token(tok))
    return fixed(tok, "YC_TOKEN", net, out, err, errlen);
  if (!secret_token_is_valid(tok)) {
    out->argument = "token";
    snprintf(err, errlen,
             "the OAuth token in YC_TOKEN contains spaces or "
             "control characters");
    return NULL;
  }
  cred_provider *p = cred_provider_new_oauth(tok, "YC_TOKEN", net);
  return p ? p : oom(err, errlen);
}

static cred_provider *from_key(const char *spec, const char *origin,
                               const cred_net *net, cred_outcome *out,
                               char *err, size_t errlen)
{
  sa_key *k = sa_key_load(spec, origin, out->warning, sizeof out->warning, err,
                          errlen);
  if (k == NULL) {
    out->argument = "sa_key_file";
    return NULL;
  }
  cred_provider *p = cred_provider_new_sa_key(k, origin, net);
  return p ? p : oom(err, errlen);
}

static cred_provider *from_command(const cred_options *o, const cred_net *net,
                                   char *err, size_t errlen)
{
  cred_provider *p = cred_provider_new_command(o->command,
                                               o->command_timeout_ms, net);
  return p ? p : oom(err, errlen);
}

/* The metadata source; `probe`: try it now, short timeouts, and say why
** not in `why` when it does not answer. */
static cred_provider *from_metadata(cred_net *net, int probe, char *why,
                                    size_t whylen, cred_outcome *out, char *err,
                                    size_t errlen)
{
  char msg[400];
  char *url = metadata_token_url(env("YC_METADATA_ADDR"), msg, sizeof msg);
  if (url == NULL) {
    out->argument = "credentials";
    snprintf(err, errlen, "%s", msg);
    return NULL;
  }
  net->metadata_url = url;
  net->probe = probe;
  cred_provider *p = cred_provider_new_metadata(net);
  net->metadata_url = NULL;
  free(url);
  if (p == NULL)
    return oom(err, errlen);
  if (!probe)
    return p;
  int rc = cred_provider_prime(p, msg, sizeof msg);
  if (rc == AUTH_HTTP_OK)
    return p;
  cred_provider_free(p);
  if (rc == AUTH_HTTP_UNREACHABLE)
    snprintf(why, whylen, "no answer within %.2g s", 0.25);
  else
    snprintf(why, whylen, "%.90s", msg);
  return NULL;
}

static int count_given(const cred_options *o)
{
  return (o->token != NULL) + (o->sa_key != NULL) + (o->command != NULL);
}

/* credentials = NAME: that source or an error, nothing else consulted. */
static cred_provider *selected(const cred_options *o, cred_net *net,
                               cred_outcome *out, char *err, size_t errlen)
{
  const char *s = o->select;
  const char *opt = strcmp(s, "token") == 0           ? "token"
                    : strcmp(s, "sa_key_file") == 0   ? "sa_key_file"
                    : strcmp(s, "token_command") == 0 ? "token_command"
                                                      : NULL;
  const char *given = o->token     ? "token"
                      : o->sa_key  ? "sa_key_file"
                      : o->command ? "token_command"
                                   : NULL;
  if (count_given(o) > 1 || (given && (opt == NULL || strcmp(given, opt)))) {
    out->argument = "credentials";
    snprintf(err, errlen, "credentials = \"%s\" conflicts with %s=", s, given);
    return NULL;
  }
  const char *v;
  if (strcmp(s, "token") == 0) {
    if (o->token == NULL)
      goto missing;
    return fixed(o->token, "token", net, out, err, errlen);
  }
  if (strcmp(s, "YC_IAM_TOKEN") == 0) {
    if ((v = env("YC_IAM_TOKEN")) == NULL)
      goto missing;
    return fixed(v, "YC_IAM_TOKEN", net, out, err, errlen);
  }
  if (strcmp(s, "YC_TOKEN") == 0) {
    if ((v = env("YC_TOKEN")) == NULL)
      goto missing;
    return from_yc_token(v, net, out, err, errlen);
  }
  if (strcmp(s, "sa_key_file") == 0) {
    if (o->sa_key)
      return from_key(o->sa_key, "sa_key_file", net, out, err, errlen);
    if ((v = env("YC_SERVICE_ACCOUNT_KEY_FILE")) == NULL)
      goto missing;
    return from_key(v, "YC_SERVICE_ACCOUNT_KEY_FILE", net, out, err, errlen);
  }
  if (strcmp(s, "token_command") == 0) {
    if (o->command == NULL)
      goto missing;
    return from_command(o, net, err, errlen);
  }
  if (strcmp(s, "metadata") == 0)
    return from_metadata(net, 0, NULL, 0, out, err, errlen);
  out->argument = "credentials";
  snprintf(err, errlen, "unknown source \"%s\"", s);
  return NULL;
missing:
  out->argument = "credentials";
  snprintf(err, errlen, "credentials = \"%s\", but %s is not set", s,
           strcmp(s, "token") == 0           ? "token="
           : strcmp(s, "token_command") == 0 ? "token_command="
           : strcmp(s, "sa_key_file") == 0
               ? "neither sa_key_file= nor YC_SERVICE_ACCOUNT_KEY_FILE"
               : s);
  return NULL;
}

cred_provider *cred_chain_resolve(const cred_options *o, cred_outcome *out,
                                  char *err, size_t errlen)
{
  out->argument = "token";
  out->warning[0] = '\0';
  char *token_url = NULL;
  if (iam_url(o, &token_url, out, err, errlen) != 0)
    return NULL;
  cred_net net = {
      .ca_file = o->ca_file, .iam_token_url = token_url, .trace = o->trace};
  cred_provider *p = NULL;
  const char *v;
  if (o->select && strcmp(o->select, "auto") != 0) {
    p = selected(o, &net, out, err, errlen);
  } else if (count_given(o) > 1) {
    out->argument = o->command ? "token_command" : "sa_key_file";
    snprintf(err, errlen,
             "give only one of token=, sa_key_file= and "
             "token_command=");
  } else if (o->token) {
    p = fixed(o->token, "token", &net, out, err, errlen);
  } else if (o->sa_key) {
    p = from_key(o->sa_key, "sa_key_file", &net, out, err, errlen);
  } else if (o->command) {
    p = from_command(o, &net, err, errlen);
  } else if ((v = env("YC_IAM_TOKEN")) != NULL) {
    p = fixed(v, "YC_IAM_TOKEN", &net, out, err, errlen);
  } else if ((v = env("YC_TOKEN")) != NULL) {
    p = from_yc_token(v, &net, out, err, errlen);
  } else if ((v = env("YC_SERVICE_ACCOUNT_KEY_FILE")) != NULL) {
    p = from_key(v, "YC_SERVICE_ACCOUNT_KEY_FILE", &net, out, err, errlen);
  } else {
    char why[120] = "";
    err[0] = '\0';
    if (env("YC_METADATA_ADDR") == NULL && o->api_endpoint &&
        endpoint_is_loopback(o->api_endpoint))
      snprintf(why, sizeof why,
               "skipped for a loopback endpoint; set "
               "YC_METADATA_ADDR to try it");
    else
      p = from_metadata(&net, 1, why, sizeof why, out, err, errlen);
    if (p == NULL && err[0] == '\0') {
      out->argument = "token";
      snprintf(err, errlen,
               "no IAM token: tried token=, YC_IAM_TOKEN, "
               "YC_TOKEN, sa_key_file=, YC_SERVICE_ACCOUNT_KEY_FILE, "
               "token_command= (none set) and the metadata service (%s). "
               "Set YC_IAM_TOKEN=$(yc iam create-token) or "
               "YC_SERVICE_ACCOUNT_KEY_FILE=key.json, or pass token=, "
               "sa_key_file= or token_command= to mdb.client",
               why);
    }
  }
  free(token_url);
  return p;
}
