#include "auth/cred_provider.h"

#include "auth/auth_http.h"
#include "http/cancel.h"
#include "http/monotonic_clock.h"
#include "text/secret_text.h"
#include "auth/iam_exchange.h"
#include "auth/jwt_ps256.h"
#include "auth/metadata_token.h"
#include "auth/sa_key.h"
#include "auth/token_command.h"
#include "mdb_defaults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REFRESH_MAX_MS     (3600L * 1000) /* renew at least hourly */
#define REFRESH_MARGIN_MS  (300L * 1000)  /* ... and 5 min before expiry */
#define UNKNOWN_LIFETIME_S 3600L          /* a command's bare token */
#define RETRY_REFRESH_MS   (30L * 1000)   /* after a failed early refresh */

typedef enum source_kind {
  SRC_FIXED,
  SRC_OAUTH,
  SRC_SA_KEY,
  SRC_COMMAND,
  SRC_METADATA
} source_kind;

struct cred_provider {
  source_kind kind;
  char *source; /* cred_provider_source() */
  char describe[256];

  char *token;             /* cached; wiped (and retired) when replaced */
  unsigned gen;            /* bumped with every new token */
  int stale;               /* rejected by the server: never reuse */
  long long refresh_at_ms; /* monotonic */
  long long expires_at_ms;

  char *oauth; /* SRC_OAUTH: the OAuth token */
  sa_key *key; /* SRC_SA_KEY */
  char **argv; /* SRC_COMMAND */
  long timeout_ms;

  char *ca_file;
  char *iam_token_url;
  char *metadata_url;
  int probe;
  mdb_trace trace;
};

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

/* The part every source shares: its kind, its name for messages, and
** copies of the network settings (`net` may be NULL). */
static cred_provider *provider_new(source_kind kind, const char *source,
                                   const cred_net *net)
{
  cred_provider *p = calloc(1, sizeof *p);
  if (p == NULL)
    return NULL;
  p->kind = kind;
  p->source = strdup(source);
  if (net) {
    p->ca_file = dup_or_null(net->ca_file);
    p->iam_token_url = dup_or_null(net->iam_token_url);
    p->metadata_url = dup_or_null(net->metadata_url);
    p->probe = net->probe;
    p->trace.out = net->trace ? stderr : NULL;
  }
  if (p->source == NULL || (net && net->ca_file && !p->ca_file) ||
      (net && net->iam_token_url && !p->iam_token_url) ||
      (net && net->metadata_url && !p->metadata_url)) {
    cred_provider_free(p);
    return NULL;
  }
  return p;
}

cred_provider *cred_provider_new_static_named(const char *token,
                                              const char *source,
                                              const cred_net *net)
{
  cred_provider *p = provider_new(SRC_FIXED, source, net);
  if (p == NULL)
    return NULL;
  p->token = strdup(token);
  if (p->token == NULL || secret_live_add(p->token) != 0) {
    cred_provider_free(p);
    return NULL;
  }
  snprintf(p->describe, sizeof p->describe, "a fixed IAM token from %s",
           source);
  return p;
}

cred_provider *cred_provider_new_oauth(const char *oauth, const char *source,
                                       const cred_net *net)
{
  cred_provider *p = provider_new(SRC_OAUTH, source, net);
  if (p == NULL)
    return NULL;
  p->oauth = strdup(oauth);
  if (p->oauth == NULL || p->iam_token_url == NULL ||
      secret_live_add(p->oauth) != 0) {
    cred_provider_free(p);
    return NULL;
  }
  snprintf(p->describe, sizeof p->describe,
           "an OAuth token from %s, "
           "exchanged at %s",
           source, p->iam_token_url);
  return p;
}

cred_provider *cred_provider_new_sa_key(sa_key *key, const char *source,
                                        const cred_net *net)
{
  cred_provider *p = provider_new(SRC_SA_KEY, source, net);
  if (p == NULL || p->iam_token_url == NULL) {
    sa_key_free(key);
    cred_provider_free(p);
    return NULL;
  }
  p->key = key;
  snprintf(p->describe, sizeof p->describe,
           "service account %.60s (key "
           "%.60s) from %s, exchanged at %s",
           key->service_account_id, key->key_id, source, p->iam_token_url);
  return p;
}

cred_provider *cred_provider_new_command(char *const argv[], long timeout_ms,
                                         const cred_net *net)
{
  cred_provider *p = provider_new(SRC_COMMAND, "token_command", net);
  if (p == NULL)
    return NULL;
  size_t n = 0;
  while (argv[n])
    n++;
  p->argv = calloc(n + 1, sizeof *p->argv);
  if (p->argv == NULL) {
    cred_provider_free(p);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if ((p->argv[i] = strdup(argv[i])) == NULL) {
      cred_provider_free(p);
      return NULL;
    }
  }
  p->timeout_ms = timeout_ms;
  snprintf(p->describe, sizeof p->describe,
           "the output of token_command "
           "'%.100s'",
           argv[0]);
  return p;
}

cred_provider *cred_provider_new_metadata(const cred_net *net)
{
  cred_provider *p = provider_new(SRC_METADATA, "metadata", net);
  if (p == NULL || p->metadata_url == NULL) {
    cred_provider_free(p);
    return NULL;
  }
  snprintf(p->describe, sizeof p->describe,
           "the VM metadata service at "
           "%.200s",
           p->metadata_url);
  return p;
}

/* Take `s` off the live secrets before it is freed, kept redacted if
** memory allows: the client is gone, but its tokens are still good at the
** server, and text it produced may still be printed. */
static void retire(const char *s)
{
  if (secret_live_retire(s) != 0)
    secret_live_remove(s);
}

void cred_provider_free(cred_provider *p)
{
  if (p == NULL)
    return;
  retire(p->token);
  retire(p->oauth);
  secret_free(p->token);
  secret_free(p->oauth);
  sa_key_free(p->key);
  if (p->argv) {
    for (char **a = p->argv; *a; a++)
      free(*a);
    free(p->argv);
  }
  free(p->source);
  free(p->ca_file);
  free(p->iam_token_url);
  free(p->metadata_url);
  free(p);
}

/* Ask the source for a new token.  0, or an AUTH_HTTP_* code. */
static int fetch(cred_provider *p, cred_token *t, char *err, size_t errlen)
{
  auth_http a;
  auth_http_defaults(&a, p->ca_file, &p->trace);
  t->value = NULL;
  t->lifetime_ms = -1;
  switch (p->kind) {
  case SRC_OAUTH:
    return iam_exchange(&a, p->iam_token_url, IAM_GRANT_OAUTH, p->oauth, t, err,
                        errlen);
  case SRC_SA_KEY: {
    char *jwt = jwt_ps256_sign(
        p->key->pkey, p->key->key_id, p->key->service_account_id, JWT_AUDIENCE,
        (long long)time(NULL), JWT_MAX_LIFETIME_S, err, errlen);
    if (jwt == NULL)
      return AUTH_HTTP_FAILED;
    int rc = iam_exchange(&a, p->iam_token_url, IAM_GRANT_JWT, jwt, t, err,
                          errlen);
    secret_free(jwt);
    return rc;
  }
  case SRC_COMMAND: {
    return token_command_run(p->argv, p->timeout_ms, &p->trace, t, err, errlen);
  }
  case SRC_METADATA:
    a.http.no_proxy = 1; /* link-local: a proxy could not reach it */
    if (p->probe) {
      a.http.connect_timeout_ms = MDB_PROBE_CONNECT_MS;
      a.http.timeout_ms = MDB_PROBE_TIMEOUT_MS;
      a.retries = 0;
    }
    return metadata_token_fetch(&a, p->metadata_url, t, err, errlen);
  case SRC_FIXED: break;
  }
  snprintf(err, errlen, "BUG: a fixed token cannot be fetched");
  return AUTH_HTTP_FAILED;
}

/* Refresh after min(1 h, lifetime - min(5 min, lifetime/5)). */
static void schedule(cred_provider *p, long long lifetime_ms, long long now)
{
  long long life = lifetime_ms >= 0 ? lifetime_ms : UNKNOWN_LIFETIME_S * 1000LL;
  long long margin = life / 5 < REFRESH_MARGIN_MS ? life / 5
                                                  : REFRESH_MARGIN_MS;
  long long after = life - margin;
  if (after > REFRESH_MAX_MS)
    after = REFRESH_MAX_MS;
  p->refresh_at_ms = now + after;
  p->expires_at_ms = now + life;
}

static int refresh(cred_provider *p, char *err, size_t errlen)
{
  cred_token t;
  char why[600] = "";
  long long t0 = monotonic_ms();
  int rc = fetch(p, &t, why, sizeof why);
  if (rc != AUTH_HTTP_OK) {
    secret_free(t.value);
    if (rc == AUTH_HTTP_INTERRUPTED)
      snprintf(err, errlen, "interrupted");
    else
      snprintf(err, errlen, "no IAM token from %s: %s", p->source, why);
    return rc;
  }
  if (secret_live_add(t.value) != 0) {
    secret_free(t.value);
    snprintf(err, errlen, "out of memory");
    return AUTH_HTTP_FAILED;
  }
  /* The old token stays good at the server for hours, and text made from
  ** now on may still hold it (a request in flight, a page token or a
  ** redirect's location a server echoed): it stays redacted, or it stays
  ** the token. */
  if (secret_live_retire(p->token) != 0) {
    secret_live_remove(t.value);
    secret_free(t.value);
    snprintf(err, errlen, "out of memory");
    return AUTH_HTTP_FAILED;
  }
  secret_free(p->token);
  p->token = t.value;
  p->gen++;
  p->stale = 0;
  schedule(p, t.lifetime_ms, t0);
  trace_printf(&p->trace,
               "token: a new token from %s, valid %s%.1f s, "
               "refresh in %.1f s",
               p->source, t.lifetime_ms < 0 ? "about " : "",
               (double)(t.lifetime_ms < 0 ? UNKNOWN_LIFETIME_S * 1000LL
                                          : t.lifetime_ms) /
                   1000.0,
               (double)(p->refresh_at_ms - t0) / 1000.0);
  return AUTH_HTTP_OK;
}

int cred_provider_prime(cred_provider *p, char *err, size_t errlen)
{
  if (p->kind == SRC_FIXED)
    return AUTH_HTTP_OK;
  int rc = refresh(p, err, errlen);
  if (rc == AUTH_HTTP_OK)
    p->probe = 0; /* it answered: later refreshes may wait */
  return rc;
}

char *cred_provider_token(cred_provider *p, unsigned *gen, char *err,
                          size_t errlen)
{
  long long now = monotonic_ms();
  if (p->kind != SRC_FIXED &&
      (p->token == NULL || p->stale || now >= p->refresh_at_ms)) {
    char why[700];
    if (refresh(p, why, sizeof why) != AUTH_HTTP_OK) {
      /* An early refresh failed: the cached token still works for now. */
      if (p->token && !p->stale && now < p->expires_at_ms - 1000 &&
          !cancel_requested()) {
        long long left = p->expires_at_ms - now;
        p->refresh_at_ms = now + (left / 4 < RETRY_REFRESH_MS
                                      ? left / 4
                                      : RETRY_REFRESH_MS);
        trace_printf(&p->trace,
                     "token: refresh failed (%s); the current "
                     "token stays valid %lld s more",
                     why, left / 1000);
      } else {
        snprintf(err, errlen, "%s", why);
        return NULL;
      }
    }
  }
  if (gen)
    *gen = p->gen;
  char *copy = strdup(p->token);
  if (copy == NULL)
    snprintf(err, errlen, "out of memory");
  return copy;
}

int cred_provider_invalidate(cred_provider *p, unsigned gen)
{
  if (p->kind == SRC_FIXED)
    return 0;
  if (gen == p->gen && p->token && !p->stale) {
    p->stale = 1;
    trace_printf(&p->trace,
                 "token: the server rejected the token from %s "
                 "(HTTP 401); getting a new one",
                 p->source);
  }
  return 1;
}

const char *cred_provider_secret(const cred_provider *p)
{
  return p->token;
}

const char *cred_provider_source(const cred_provider *p)
{
  return p->source;
}

const char *cred_provider_describe(const cred_provider *p)
{
  return p->describe;
}

const char *cred_provider_ca_file(const cred_provider *p)
{
  return p->ca_file;
}

const mdb_trace *cred_provider_trace(const cred_provider *p)
{
  return &p->trace;
}
