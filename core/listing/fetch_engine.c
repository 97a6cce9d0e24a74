#include "listing/fetch_engine.h"

#include "listing/fetch_step.h"
#include "listing/redirect.h"
#include "http/cancel.h"
#include "http/monotonic_clock.h"
#include "text/secret_text.h"
#include "text/json_peek.h"
#include "mdb_defaults.h"
#include "http/trace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_SLICE_MS 100 /* how long Ctrl-C may go unnoticed */

enum xfer_state {
  X_NONE,   /* no request for this job */
  X_QUEUED, /* waiting for its due time, a free slot or the rate limit */
  X_ACTIVE, /* on the multi handle */
  X_DONE,   /* a speculative page arrived before its token was confirmed */
  X_FAILED  /* a speculative request failed for good, unconfirmed */
};

struct fetch_job {
  fetch_engine *engine;
  fetch_job *prev, *next;   /* all jobs of the engine */
  fetch_job *qprev, *qnext; /* the start queue */
  list_target target;       /* strings owned */
  page_cursor *cursor;
  http_request req;
  http_response resp[2];
  char *url;                 /* of the latest request */
  char *ready_url;           /* of the request the ready page answered */
  fetch_origin ready_origin; /* the response it came in */
  char *taken_url;           /* of the page accepted last */
  fetch_origin taken_origin;
  void *ud;

  enum xfer_state xfer;
  int xfer_buf; /* response buffer of the transfer */
  char *xfer_token;
  long xfer_size;
  int xfer_spec;        /* speculative, token not confirmed */
  long long due_ns;     /* earliest start of a queued request */
  int attempts;         /* of the current request */
  int redirects;        /* followed for the current page */
  char *redirect_url;   /* where the next attempt goes, or NULL */
  int refreshed;        /* token refreshed once after a 401 */
  unsigned token_gen;   /* generation of the token sent */
  long long started_ns; /* when the transfer started */
  int paced;            /* this request waits for the pacer */
  int sent_paced;       /* the one in flight had waited */

  int ready; /* a page waits for the caller */
  int ready_buf;
  long ready_size; /* pageSize it was requested with */
  int failed;
  int event; /* news not yet returned by next() */
  fetch_error err;
  fetch_error spec_err;
  fetch_stats stats;
};

/* A response buffer let go of, for the next request to fill. */
typedef struct spare_body {
  char *body;
  size_t cap;
} spare_body;

struct fetch_engine {
  fetch_engine_config cfg;
  CURLM *multi;
  fetch_job *jobs;
  fetch_job *qhead, *qtail;
  int active;
  pacer pace; /* when the next request may start */
  uint32_t rng;
  /* The response buffers of ended jobs and of taken pages, reused: a
  ** page's buffer grows to its size once per engine, not once per
  ** listing (a fleet's listings would each realloc theirs up and fault
  ** the new pages in).  At most two per transfer slot are kept. */
  spare_body *spare;
  int nspare, maxspare;
};

static uint32_t next_random(fetch_engine *e)
{
  uint32_t x = e->rng ? e->rng : 2463534242u;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  e->rng = x;
  return x;
}

fetch_engine *fetch_engine_new(const fetch_engine_config *cfg)
{
  fetch_engine *e = calloc(1, sizeof *e);
  if (e == NULL)
    return NULL;
  e->cfg = *cfg;
  if (e->cfg.concurrency < 1)
    e->cfg.concurrency = 1;
  e->maxspare = 2 * e->cfg.concurrency;
  e->spare = calloc((size_t)e->maxspare, sizeof *e->spare);
  e->multi = e->spare ? curl_multi_init() : NULL;
  if (e->multi == NULL) {
    free(e->spare);
    free(e);
    return NULL;
  }
  /* No CURLMOPT_MAX_HOST_CONNECTIONS: start_due already keeps at most
  ** `concurrency` transfers, and a client's engines share one connection
  ** pool (http.share), where that limit counts the connections of every
  ** engine.  A second iterator's request then waited, unbounded by any
  ** timeout, for the connection of a first one's prefetch that nobody
  ** drives. */
  e->rng = (uint32_t)monotonic_ns() ^ (uint32_t)getpid() ^
           (uint32_t)(uintptr_t)e;
  pacer_config pc = {e->cfg.rate, e->cfg.adaptive_pacing,
                     e->cfg.policy.backoff.max_ms};
  pacer_init(&e->pace, &pc);
  return e;
}

void fetch_engine_free(fetch_engine *e)
{
  if (e == NULL)
    return;
  while (e->jobs)
    fetch_job_free(e->jobs);
  curl_multi_cleanup(e->multi);
  while (e->nspare > 0)
    free(e->spare[--e->nspare].body);
  free(e->spare);
  free(e);
}

/* Keep `body` for a later response, or free it when enough are kept. */
static void give_spare(fetch_engine *e, char *body, size_t cap)
{
  if (body == NULL)
    return;
  if (e->nspare == e->maxspare) {
    free(body);
    return;
  }
  e->spare[e->nspare].body = body;
  e->spare[e->nspare].cap = cap;
  e->nspare++;
}

/* A response about to be filled gets a kept buffer if it has none. */
static void take_spare(fetch_engine *e, http_response *r)
{
  if (r->body != NULL || e->nspare == 0)
    return;
  e->nspare--;
  r->body = e->spare[e->nspare].body;
  r->cap = e->spare[e->nspare].cap;
  r->len = 0;
  r->body[0] = '\0';
}

static void keep_response(fetch_engine *e, http_response *r)
{
  give_spare(e, r->body, r->cap);
  r->body = NULL;
  r->len = r->cap = 0;
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

fetch_job *fetch_job_new(fetch_engine *e, const list_target *t, long page_size,
                         long limit, const char *start_token, void *ud)
{
  fetch_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->engine = e;
  j->ud = ud;
  j->target = *t;
  j->target.endpoint = dup_or_null(t->endpoint);
  j->target.id = dup_or_null(t->id);
  j->target.filter = dup_or_null(t->filter);
  j->cursor = page_cursor_new(start_token, page_size, limit);
  int ok = j->target.endpoint && j->target.id &&
           (t->filter == NULL || j->target.filter) && j->cursor &&
           http_request_init(&j->req, &e->cfg.http, j) == 0;
  j->next = e->jobs;
  if (e->jobs)
    e->jobs->prev = j;
  e->jobs = j;
  if (!ok) {
    fetch_job_free(j);
    return NULL;
  }
  return j;
}

static void queue_remove(fetch_job *j)
{
  fetch_engine *e = j->engine;
  if (j->qprev)
    j->qprev->qnext = j->qnext;
  else if (e->qhead == j)
    e->qhead = j->qnext;
  if (j->qnext)
    j->qnext->qprev = j->qprev;
  else if (e->qtail == j)
    e->qtail = j->qprev;
  j->qprev = j->qnext = NULL;
}

/* Continuations go first, so started listings finish before new ones. */
static void queue_add(fetch_job *j, int front, long long due)
{
  fetch_engine *e = j->engine;
  j->xfer = X_QUEUED;
  j->due_ns = due;
  if (front) {
    j->qnext = e->qhead;
    if (e->qhead)
      e->qhead->qprev = j;
    e->qhead = j;
    if (e->qtail == NULL)
      e->qtail = j;
  } else {
    j->qprev = e->qtail;
    if (e->qtail)
      e->qtail->qnext = j;
    e->qtail = j;
    if (e->qhead == NULL)
      e->qhead = j;
  }
}

/* Stop whatever request the job has; the job keeps its ready page. */
static void xfer_abort(fetch_job *j)
{
  if (j->xfer == X_QUEUED)
    queue_remove(j);
  else if (j->xfer == X_ACTIVE) {
    curl_multi_remove_handle(j->engine->multi, j->req.curl);
    http_request_complete(&j->req, CURLE_ABORTED_BY_CALLBACK);
    j->engine->active--;
  }
  j->xfer = X_NONE;
  j->xfer_spec = 0;
  j->paced = 0;
  free(j->xfer_token);
  j->xfer_token = NULL;
  free(j->redirect_url);
  j->redirect_url = NULL;
}

void fetch_job_free(fetch_job *j)
{
  if (j == NULL)
    return;
  fetch_engine *e = j->engine;
  xfer_abort(j);
  if (j->prev)
    j->prev->next = j->next;
  else
    e->jobs = j->next;
  if (j->next)
    j->next->prev = j->prev;
  http_request_cleanup(&j->req);
  keep_response(e, &j->resp[0]);
  keep_response(e, &j->resp[1]);
  page_cursor_free(j->cursor);
  free((char *)j->target.endpoint);
  free((char *)j->target.id);
  free((char *)j->target.filter);
  free(j->url);
  free(j->ready_url);
  free(j->taken_url);
  free(j);
}

static void kick(fetch_engine *e);

/* Queue a request for `token` asking `size` items. */
static int request(fetch_job *j, const char *token, long size, int spec,
                   int front)
{
  char *tok = strdup(token);
  if (tok == NULL)
    return -1;
  free(j->xfer_token);
  j->xfer_token = tok;
  j->xfer_size = size;
  j->xfer_spec = spec;
  j->xfer_buf = j->ready ? j->ready_buf ^ 1 : 0;
  j->attempts = 0;
  j->refreshed = 0;
  j->redirects = 0;
  free(j->redirect_url);
  j->redirect_url = NULL;
  queue_add(j, front, monotonic_ns());
  return 0;
}

int fetch_job_request(fetch_job *j)
{
  if (j->failed || j->ready || j->xfer != X_NONE || page_cursor_done(j->cursor))
    return 0;
  if (request(j, page_cursor_next_token(j->cursor),
              page_cursor_request_size(j->cursor), 0, 0) != 0)
    return -1;
  kick(j->engine);
  return 0;
}

static void set_error(fetch_error *err, mdb_error_kind kind, long status,
                      int attempts, const char *message)
{
  err->kind = kind;
  err->status = status;
  err->attempts = attempts;
  snprintf(err->message, sizeof err->message, "%s", message);
  err->note[0] = '\0';
}

static void post_event(fetch_job *j)
{
  j->event = 1;
}

static void fail(fetch_job *j, const fetch_error *err)
{
  j->err = *err;
  j->failed = 1;
  post_event(j);
}

/* Describe a failed attempt from the response it left. */
static void describe(const http_response *r, int attempts, fetch_error *err)
{
  if (r->cancelled)
    set_error(err, MDB_ERR_INTERRUPTED, 0, attempts, "interrupted");
  else if (r->over_limit)
    set_error(err, MDB_ERR_LIMIT, r->status, attempts, r->error);
  else if (r->curl_code == CURLE_OPERATION_TIMEDOUT)
    set_error(err, MDB_ERR_TIMEOUT, r->status, attempts, r->error);
  else if (r->curl_code == CURLE_OUT_OF_MEMORY)
    set_error(err, MDB_ERR_MEMORY, r->status, attempts, "out of memory");
  else if (r->curl_code != CURLE_OK)
    set_error(err, MDB_ERR_NETWORK, r->status, attempts, r->error);
  else {
    char msg[64];
    snprintf(msg, sizeof msg, "HTTP status %ld", r->status);
    set_error(err, MDB_ERR_HTTP, r->status, attempts, msg);
  }
}

/* A ready page came with a nextPageToken we can read without decoding:
** ask for the following page now, while the caller decodes this one. */
static void speculate(fetch_job *j)
{
  const http_response *r = &j->resp[j->ready_buf];
  const char *tok;
  size_t len;
  if (j->xfer != X_NONE || page_cursor_done(j->cursor) ||
      !json_peek_string(r->body, r->len, "nextPageToken", &tok, &len) ||
      len == 0 || len > 4096 || memchr(tok, '\0', len) != NULL)
    return;
  long assumed = j->ready_size > 0 ? j->ready_size : MDB_SERVER_PAGE_SIZE;
  long size = page_cursor_request_size_after(j->cursor, assumed);
  if (size < 0)
    return;
  char token[4097];
  memcpy(token, tok, len);
  token[len] = '\0';
  request(j, token, size, 1, 1);
}

/* Request `location` next, with the token, as a same-origin redirect.
** 0, or -1 when out of memory. */
static int follow_redirect(fetch_engine *e, fetch_job *j, long status,
                           const char *location)
{
  char *url = strdup(location);
  if (url == NULL)
    return -1;
  trace_printf(e->cfg.http.trace,
               "HTTP %ld: following the redirect to "
               "the same host: GET %s",
               status, url);
  free(j->redirect_url);
  j->redirect_url = url;
  j->redirects++;
  j->attempts--; /* a redirect is not a failed attempt */
  queue_add(j, 1, monotonic_ns());
  return 0;
}

/* The message of the failure is ours, not the 3xx body's. */
static void drop_body(http_response *r)
{
  r->len = 0;
  if (r->body)
    r->body[0] = '\0';
}

/* The transfer's response becomes the page the caller gets next. */
static void make_ready(fetch_job *j)
{
  j->ready = 1;
  j->ready_buf = j->xfer_buf;
  j->ready_size = j->xfer_size;
  free(j->ready_url);
  j->ready_url = j->url ? strdup(j->url) : NULL;
  const http_response *r = &j->resp[j->xfer_buf];
  j->ready_origin.status = r->status;
  j->ready_origin.attempts = j->attempts;
  snprintf(j->ready_origin.request_id, sizeof j->ready_origin.request_id, "%s",
           r->request_id);
  post_event(j);
  speculate(j);
}

static void on_done(fetch_engine *e, fetch_job *j, CURLcode rc)
{
  curl_multi_remove_handle(e->multi, j->req.curl);
  http_request_complete(&j->req, rc);
  e->active--;
  http_response *r = &j->resp[j->xfer_buf];
  j->attempts++;
  j->stats.requests++;
  long long now = monotonic_ns();
  int throttled = rc == CURLE_OK && r->status == 429;
  j->stats.throttled += throttled;
  if (pacer_on_response(&e->pace, now, j->started_ns, throttled,
                        r->retry_after_s, j->attempts > 1 && !j->sent_paced))
    trace_printf(e->cfg.http.trace,
                 "HTTP 429: pacing every request to "
                 "%.1f/s from now on",
                 pacer_rate(&e->pace, now));
  if (e->pace.engaged)
    j->stats.rate = pacer_rate(&e->pace, now);
  trace_http(e->cfg.http.trace, "GET", j->url, r,
             monotonic_ns() - j->started_ns, j->xfer_spec ? "prefetch" : NULL);

  fetch_attempt a = {.curl_code = (int)rc,
                     .status = r->status,
                     .cancelled = r->cancelled,
                     .speculative = j->xfer_spec,
                     .attempts = j->attempts,
                     .retries = e->cfg.policy.retries,
                     .redirects = j->redirects,
                     .refreshed = j->refreshed,
                     .backoff = e->cfg.policy.backoff,
                     .retry_after_s = r->retry_after_s,
                     .random = next_random(e)};
  char *location = NULL;
  char origin[160] = "";
  if (rc == CURLE_OK && redirect_status(r->status) &&
      curl_easy_getinfo(j->req.curl, CURLINFO_REDIRECT_URL, &location) ==
          CURLE_OK)
    a.location = redirect_classify(j->url, location, origin, sizeof origin);
  /* Asking marks the rejected token stale: only when a 401 may use a new
  ** one (once per request). */
  if (r->status == 401 && !j->refreshed && e->cfg.creds)
    a.renewable = cred_provider_invalidate(e->cfg.creds, j->token_gen);
  fetch_step step = fetch_next_step(&a);

  fetch_error err;
  switch (step.kind) {
  case FETCH_PAGE:
  case FETCH_HOLD_PAGE:
    j->stats.bytes += (long long)r->len;
    if (step.kind == FETCH_HOLD_PAGE) {
      j->xfer = X_DONE; /* surfaces once the caller confirms the token */
      return;
    }
    j->xfer = X_NONE;
    free(j->xfer_token);
    j->xfer_token = NULL;
    make_ready(j);
    return;
  case FETCH_REDIRECT:
    if (follow_redirect(e, j, r->status, location) == 0)
      return;
    set_error(&err, MDB_ERR_MEMORY, r->status, j->attempts, "out of memory");
    drop_body(r);
    step.kind = j->xfer_spec ? FETCH_HOLD_FAILURE : FETCH_FAIL;
    break;
  case FETCH_NEW_TOKEN:
    j->refreshed = 1;
    trace_printf(e->cfg.http.trace,
                 "HTTP 401: retrying the same page "
                 "with a new token: GET %s",
                 j->url);
    queue_add(j, 1, monotonic_ns());
    return;
  case FETCH_RETRY:
    if (e->cfg.on_retry)
      e->cfg.on_retry(e->cfg.hook_ud, j->url, step.why, r->status,
                      step.delay_ms, e->cfg.policy.retries - j->attempts + 1);
    j->stats.retries++;
    queue_add(j, 1, monotonic_ns() + step.delay_ms * 1000000LL);
    return;
  case FETCH_HOLD_FAILURE:
  case FETCH_FAIL:
    describe(r, j->attempts, &err);
    if (step.refused != REDIRECT_NONE) {
      char msg[320];
      redirect_refusal(step.refused, r->status, origin, msg, sizeof msg);
      set_error(&err, MDB_ERR_HTTP, r->status, j->attempts, msg);
      drop_body(r);
    }
    if (step.retry_after_too_long)
      snprintf(err.note, sizeof err.note,
               "the server asked to retry "
               "after %ld s, longer than backoff_max (%ld s)",
               r->retry_after_s, e->cfg.policy.backoff.max_ms / 1000);
    break;
  }
  if (step.kind == FETCH_HOLD_FAILURE) {
    j->xfer = X_FAILED; /* matters only if the token is confirmed */
    j->spec_err = err;
    return;
  }
  j->xfer = X_NONE;
  fail(j, &err);
}

/* Start queued requests that are due, while slots and the rate allow. */
static void start_due(fetch_engine *e, long long now)
{
  fetch_job *j = e->qhead;
  while (j && e->active < e->cfg.concurrency) {
    fetch_job *nxt = j->qnext;
    if (j->due_ns > now) {
      j = nxt;
      continue;
    }
    if (pacer_next_start(&e->pace, now) > now) {
      j->paced = 1; /* the queue keeps its order meanwhile */
      return;
    }
    pacer_on_send(&e->pace, now);
    j->stats.paced += j->paced;
    j->sent_paced = j->paced;
    j->paced = 0;
    queue_remove(j);
    fetch_error err;
    char msg[320] = "";
    /* A followed redirect is requested once; retries go back to the
    ** page's own URL. */
    char *url = j->redirect_url
                    ? j->redirect_url
                    : list_url_build(&j->target, j->xfer_size, j->xfer_token);
    j->redirect_url = NULL;
    /* May block to refresh the token (bounded: auth_http.h). */
    char *bearer = e->cfg.creds
                       ? cred_provider_token(e->cfg.creds, &j->token_gen, msg,
                                             sizeof msg)
                       : NULL;
    free(j->url);
    j->url = url;
    take_spare(e, &j->resp[j->xfer_buf]);
    int ok = url && (bearer || !e->cfg.creds) &&
             http_request_prepare(&j->req, url, bearer,
                                  &j->resp[j->xfer_buf]) == 0 &&
             curl_multi_add_handle(e->multi, j->req.curl) == CURLM_OK;
    int got_token = bearer != NULL;
    secret_free(bearer);
    if (!ok) {
      mdb_error_kind kind = cancel_requested() ? MDB_ERR_INTERRUPTED
                            : msg[0]           ? MDB_ERR_AUTH
                                               : MDB_ERR_MEMORY;
      set_error(&err, kind, 0, j->attempts,
                kind == MDB_ERR_INTERRUPTED ? "interrupted"
                : msg[0]                    ? msg
                                            : "out of memory");
      if (!got_token) { /* no request went out: no stale response */
        http_response *r = &j->resp[j->xfer_buf];
        r->status = 0;
        r->len = 0;
        r->request_id[0] = '\0';
      }
      j->xfer = X_NONE;
      fail(j, &err);
    } else {
      j->started_ns = monotonic_ns();
      j->xfer = X_ACTIVE;
      e->active++;
    }
    j = nxt;
  }
}

/* Milliseconds until something queued could start (capped). */
static long next_wait_ms(fetch_engine *e, long long now)
{
  long long wait = (long long)POLL_SLICE_MS * 1000000LL;
  if (e->active < e->cfg.concurrency) {
    long long paced = pacer_next_start(&e->pace, now) - now;
    for (fetch_job *j = e->qhead; j; j = j->qnext) {
      long long d = j->due_ns - now;
      if (paced > d)
        d = paced;
      if (d < wait)
        wait = d;
    }
  }
  return wait <= 0 ? 0 : (long)((wait + 999999) / 1000000);
}

/*
** Put due requests on the wire now, so they travel while the caller
** decodes and consumes: libcurl sends only when driven.
*/
static void kick(fetch_engine *e)
{
  int running;
  start_due(e, monotonic_ns());
  curl_multi_perform(e->multi, &running);
}

static fetch_job *take_event(fetch_engine *e, fetch_job *want, int *failed)
{
  for (fetch_job *j = want ? want : e->jobs; j; j = want ? NULL : j->next) {
    if (j->event) {
      j->event = 0;
      *failed = j->failed;
      return j;
    }
  }
  return NULL;
}

static int pending(fetch_engine *e, fetch_job *want)
{
  if (want)
    return want->xfer == X_QUEUED || want->xfer == X_ACTIVE;
  return e->active > 0 || e->qhead != NULL;
}

static void cancel_all(fetch_engine *e)
{
  for (fetch_job *j = e->jobs; j; j = j->next) {
    if (j->xfer == X_QUEUED || j->xfer == X_ACTIVE) {
      int spec = j->xfer_spec;
      xfer_abort(j);
      if (!spec) {
        fetch_error err;
        set_error(&err, MDB_ERR_INTERRUPTED, 0, j->attempts, "interrupted");
        j->err = err;
        j->failed = 1;
      }
    }
  }
}

fetch_job *fetch_engine_next(fetch_engine *e, fetch_job *want, int *failed)
{
  *failed = 0;
  for (;;) {
    fetch_job *j = take_event(e, want, failed);
    if (j) {
      kick(e);
      return j;
    }
    if (cancel_requested()) {
      cancel_all(e);
      *failed = -1;
      return NULL;
    }
    if (!pending(e, want))
      return NULL;
    start_due(e, monotonic_ns());
    int running = 0;
    curl_multi_perform(e->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
      if (m->msg != CURLMSG_DONE)
        continue;
      fetch_job *done = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&done);
      on_done(e, done, m->data.result);
    }
    if ((j = take_event(e, want, failed)) != NULL) {
      kick(e);
      return j;
    }
    kick(e);
    curl_multi_poll(e->multi, NULL, 0, (int)next_wait_ms(e, monotonic_ns()),
                    NULL);
  }
}

const http_response *fetch_job_page(const fetch_job *j)
{
  return j->ready ? &j->resp[j->ready_buf] : NULL;
}

char *fetch_job_take_page_body(fetch_job *j, size_t *len, size_t *cap)
{
  http_response *r = &j->resp[j->ready_buf];
  char *body = r->body;
  *len = r->len;
  *cap = r->cap;
  r->body = NULL;
  r->len = r->cap = 0;
  return body;
}

void fetch_job_give_body(fetch_job *j, char *body, size_t cap)
{
  give_spare(j->engine, body, cap);
}

int fetch_job_accept(fetch_job *j, size_t items, const char *first,
                     size_t first_len, const char *next, size_t len)
{
  j->ready = 0;
  j->stats.pages++;
  /* before a confirmed prefetch becomes the ready page */
  free(j->taken_url);
  j->taken_url = j->ready_url ? strdup(j->ready_url) : NULL;
  j->taken_origin = j->ready_origin;
  int r = page_cursor_advance(j->cursor, items, first, first_len, next, len);
  if (j->xfer == X_NONE)
    return r;
  int confirmed = r == 0 && !page_cursor_done(j->cursor) && j->xfer_spec &&
                  j->xfer_token && strlen(j->xfer_token) == len &&
                  memcmp(j->xfer_token, next, len) == 0;
  if (!confirmed) {
    xfer_abort(j); /* a wrong guess costs only this request */
    return r;
  }
  j->xfer_spec = 0;
  if (j->xfer == X_DONE) {
    j->xfer = X_NONE;
    make_ready(j);
  } else if (j->xfer == X_FAILED) {
    j->xfer = X_NONE;
    fail(j, &j->spec_err);
  }
  return r;
}

const fetch_error *fetch_job_error(const fetch_job *j)
{
  return &j->err;
}

const http_response *fetch_job_last_response(const fetch_job *j)
{
  return &j->resp[j->xfer_buf];
}

const fetch_stats *fetch_job_stats(const fetch_job *j)
{
  return &j->stats;
}

const page_cursor *fetch_job_cursor(const fetch_job *j)
{
  return j->cursor;
}

const char *fetch_job_url(const fetch_job *j)
{
  return j->url;
}

const char *fetch_job_page_url(const fetch_job *j)
{
  return j->ready_url ? j->ready_url : j->url;
}

const fetch_origin *fetch_job_page_origin(const fetch_job *j)
{
  return &j->ready_origin;
}

const char *fetch_job_taken_url(const fetch_job *j)
{
  return j->taken_url;
}

const fetch_origin *fetch_job_taken_origin(const fetch_job *j)
{
  return &j->taken_origin;
}

void *fetch_job_ud(const fetch_job *j)
{
  return j->ud;
}

int fetch_job_done(const fetch_job *j)
{
  return page_cursor_done(j->cursor) && !j->ready && j->xfer == X_NONE;
}
