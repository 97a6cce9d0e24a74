#include "text/secret_text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REDACTED       "[REDACTED]"
#define MIN_SECRET_LEN 6 /* shorter "secrets" would mangle ordinary words */

int secret_token_is_valid(const char *token)
{
  if (token == NULL)
    return 0;
  for (const unsigned char *p = (const unsigned char *)token; *p; p++)
    if (*p < 0x21 || *p == 0x7f) /* CR/LF would inject headers */
      return 0;
  return 1;
}

int secret_is_iam_token(const char *token)
{
  if (token == NULL || strncmp(token, "t1.", 3) != 0)
    return 0;
  int dots = 0;
  for (const char *p = token; *p; p++)
    dots += *p == '.';
  return dots == 2;
}

void secret_wipe(void *p, size_t n)
{
  volatile unsigned char *q = p;
  while (n--)
    *q++ = 0;
}

void secret_free(char *token)
{
  if (token == NULL)
    return;
  secret_wipe(token, strlen(token));
  free(token);
}

/* The live secrets (secret_live_add), guarded by live_mu. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static const char **live;
static size_t live_n, live_cap;

int secret_live_add(const char *s)
{
  if (s == NULL || strlen(s) < MIN_SECRET_LEN)
    return 0;
  int rc = 0;
  pthread_mutex_lock(&live_mu);
  size_t i = 0;
  while (i < live_n && live[i] != s)
    i++;
  if (i == live_n) {
    if (live_n == live_cap) {
      size_t cap = live_cap ? 2 * live_cap : 8;
      const char **grown = realloc(live, cap * sizeof *live);
      if (grown == NULL)
        rc = -1;
      else {
        live = grown;
        live_cap = cap;
      }
    }
    if (rc == 0)
      live[live_n++] = s;
  }
  pthread_mutex_unlock(&live_mu);
  return rc;
}

static void live_remove_locked(const char *s)
{
  for (size_t i = 0; i < live_n; i++) {
    if (live[i] == s) {
      live[i] = live[--live_n];
      break;
    }
  }
  if (live_n == 0) {
    free(live);
    live = NULL;
    live_cap = 0;
  }
}

void secret_live_remove(const char *s)
{
  if (s == NULL)
    return;
  pthread_mutex_lock(&live_mu);
  live_remove_locked(s);
  pthread_mutex_unlock(&live_mu);
}

/*
** The retired secrets (secret_live_retire), oldest first, guarded by
** live_mu too: copies, as their owners wipe theirs.  Bounded, as a process
** may run for days.  A replaced token matters while the server still takes
** it, and a provider refreshes after min(1 h, 4/5 of the lifetime), so at
** most about 12 of one provider's retired tokens are still good (12-hour
** IAM tokens renewed hourly; a shorter life leaves one or two), plus one
** per 401.  32 covers two busy clients and the tokens of clients already
** freed (an equal token is kept once), while a scrub (a trace line, an
** error message: never a page) stays cheap.
*/
static char *retired[SECRET_RETIRED_MAX];
static size_t retired_n;
static int retired_at_exit; /* wipe_retired registered */

/* At exit (and at dlclose of the Lua module): no copy of a token stays in
** memory.  A thread still scrubbing keeps the lock: then they are left,
** rather than exit waiting on it. */
static void wipe_retired(void)
{
  if (pthread_mutex_trylock(&live_mu) != 0)
    return;
  for (size_t i = 0; i < retired_n; i++) {
    secret_free(retired[i]);
    retired[i] = NULL;
  }
  retired_n = 0;
  pthread_mutex_unlock(&live_mu);
}

int secret_live_retire(const char *s)
{
  if (s == NULL)
    return 0;
  int keep = strlen(s) >= MIN_SECRET_LEN;
  char *copy = keep ? strdup(s) : NULL;
  if (keep && copy == NULL)
    return -1;
  pthread_mutex_lock(&live_mu);
  if (copy != NULL) {
    if (!retired_at_exit)
      retired_at_exit = atexit(wipe_retired) == 0;
    size_t i = 0;
    while (i < retired_n && strcmp(retired[i], copy) != 0)
      i++;
    if (i < retired_n || retired_n == SECRET_RETIRED_MAX) {
      /* the same one again moves to the newest end; else the oldest goes */
      size_t drop = i < retired_n ? i : 0;
      secret_free(retired[drop]);
      memmove(retired + drop, retired + drop + 1,
              (retired_n - drop - 1) * sizeof *retired);
      retired_n--;
    }
    retired[retired_n++] = copy;
  }
  live_remove_locked(s);
  pthread_mutex_unlock(&live_mu);
  return 0;
}

static int is_token_char(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '=' || c == '+' || c == '/' || c == '~';
}

/* Length of a token-shaped run at p (at least `min` chars, else 0). */
static size_t run_len(const char *p, size_t min)
{
  size_t n = 0;
  while (is_token_char(p[n]))
    n++;
  return n >= min ? n : 0;
}

/* The length of the longest secret of `list` (n entries, or
** NULL-terminated when n is (size_t)-1) that starts at p and is longer
** than `longest`, else `longest`: a secret that begins with a shorter
** one must not leave its tail behind. */
static size_t listed_at(const char *p, const char *const *list, size_t n,
                        size_t longest)
{
  for (size_t i = 0; list && i < n && list[i]; i++) {
    const char *s = list[i];
    if (s[0] != p[0])
      continue;
    size_t len = strlen(s);
    if (len > longest && len >= MIN_SECRET_LEN && strncmp(p, s, len) == 0)
      longest = len;
  }
  return longest;
}

/* How many bytes at p to replace, 0 when nothing secret starts there;
** `patterns` 0: the secrets themselves only. */
static size_t secret_at(const char *p, const char *const *secrets, int patterns,
                        size_t *keep)
{
  *keep = 0;
  size_t listed = listed_at(p, secrets, (size_t)-1, 0);
  listed = listed_at(p, live, live_n, listed);
  listed = listed_at(p, (const char *const *)retired, retired_n, listed);
  if (listed || !patterns)
    return listed;
  if (strncasecmp(p, "Bearer ", 7) == 0) {
    size_t n = run_len(p + 7, 1);
    if (n) {
      *keep = 7; /* "Bearer [REDACTED]" */
      return 7 + n;
    }
  }
  if (strncmp(p, "t1.", 3) == 0) {
    size_t n = run_len(p + 3, 8);
    if (n)
      return 3 + n;
  }
  if (strncmp(p, "eyJ", 3) == 0) { /* base64url of '{"': a JWT part */
    size_t n = run_len(p + 3, 10);
    if (n)
      return 3 + n;
  }
  if (strncmp(p, "-----BEGIN", 10) == 0) {
    const char *e = strstr(p + 10, "-----END");
    if (e != NULL) {
      const char *close = strstr(e + 8, "-----");
      if (close != NULL)
        return (size_t)(close + 5 - p);
    }
    return strlen(p); /* a cut-off key: drop the rest */
  }
  return 0;
}

char *secret_scrub(const char *text, const char *const *secrets)
{
  if (text == NULL)
    text = "";
  char *out = malloc(CREDENTIALS_SCRUB_SIZE(strlen(text)));
  if (out != NULL)
    secret_scrub_into(text, secrets, out);
  return out;
}

/* The worst growth is "Bearer x" (8 bytes) becoming 17: under 3x. */
static size_t scrub(const char *text, const char *const *secrets, int patterns,
                    char *out)
{
  if (text == NULL)
    text = "";
  size_t o = 0;
  pthread_mutex_lock(&live_mu);
  for (const char *p = text; *p;) {
    size_t keep;
    size_t n = secret_at(p, secrets, patterns, &keep);
    if (n) {
      memcpy(out + o, p, keep);
      o += keep;
      memcpy(out + o, REDACTED, sizeof REDACTED - 1);
      o += sizeof REDACTED - 1;
      p += n;
    } else {
      out[o++] = *p++;
    }
  }
  pthread_mutex_unlock(&live_mu);
  out[o] = '\0';
  return o;
}

size_t secret_scrub_into(const char *text, const char *const *secrets,
                         char *out)
{
  return scrub(text, secrets, 1, out);
}

size_t secret_redact_into(const char *text, const char *const *secrets,
                          char *out)
{
  return scrub(text, secrets, 0, out);
}
