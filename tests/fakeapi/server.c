#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "buf.h"
#include "encode.h"
#include "page.h"
#include "routes.h"
#include "status.h"
#include "tokens.h"
#include "xalloc.h"

#define CONTENT_JSON "application/json"
#define CONTENT_HTML "text/html"
/* Idle keep-alive connections each hold a thread; don't keep them forever. */
#define IDLE_TIMEOUT_S 120
/* Request bodies (only the IAM token exchange has one) are capped. */
#define MAX_BODY 65536
/* How often a hanging request checks whether its client has gone. */
#define HANG_POLL_MS 100

struct server {
  struct server_config cfg;
  struct MHD_Daemon *daemon;
  uint16_t port;

  pthread_mutex_t mu;  /* guards everything below */
  pthread_cond_t wake; /* signalled when stopping, to end delays early */
  bool stopping;
  uint64_t requests;                 /* for x-request-id */
  uint32_t nonce;                    /* makes each empty=1 token distinct */
  unsigned in_flight, max_in_flight; /* requests being answered; the most */
};

/* Created by the URI callback, which is the only place MHD shows the
 * request target before unescaping it and splitting off the query. */
struct request_ctx {
  char *target;
  bool headers_done;
  struct buf body; /* POST body, up to MAX_BODY */
  bool body_too_large;
};

struct reply {
  int status;
  const char *content_type;
  char *body;
  size_t len;
  const struct bomb *bomb; /* the body instead of `body` (bomb=) */
  uint64_t filler;         /* >0: the body instead of `body` (chunked=) */
  const char *encoding;    /* Content-Encoding, NULL for none */
  char *location;          /* Location header (redirect=), or NULL */
};

/* A body served through MHD's content reader: cut short (truncate=,
 * reset=, content_length= beyond the body), dripped (drip_ms=), or
 * generated (bomb=, chunked=). */
struct body_stream {
  struct server *server;
  struct MHD_Connection *conn;
  char *body;
  const struct bomb *bomb;
  uint64_t filler;   /* chunked=: the size of the generated body */
  bool unknown_size; /* sent chunked: the end must be said */
  uint64_t limit;    /* bytes to send before hanging up */
  bool reset;        /* hang up with a TCP RST rather than a clean close */
  uint64_t drip_ms;
};

static void next_request_id(struct server *s, char *out, size_t size)
{
  pthread_mutex_lock(&s->mu);
  uint64_t n = ++s->requests;
  pthread_mutex_unlock(&s->mu);
  snprintf(out, size, "fake-req-%06llu", (unsigned long long)n);
}

static uint32_t next_nonce(struct server *s)
{
  pthread_mutex_lock(&s->mu);
  uint32_t n = ++s->nonce;
  if (n == 0) /* nonce 0 is reserved for ordinary tokens */
    n = ++s->nonce;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* Returns false when cut short because the server is stopping. */
static bool sleep_unless_stopping(struct server *s, uint64_t ms)
{
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += (time_t)(ms / 1000);
  deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    if (pthread_cond_timedwait(&s->wake, &s->mu, &deadline) == ETIMEDOUT)
      break;
  }
  bool slept = !s->stopping;
  pthread_mutex_unlock(&s->mu);
  return slept;
}

static void reply_error(struct reply *rep, int status, const char *message,
                        const char *request_id)
{
  rep->status = status;
  rep->content_type = CONTENT_JSON;
  rep->body = status_body(status, message, request_id, &rep->len);
}

static void reply_copy(struct reply *rep, int status, const char *type,
                       const char *text, size_t len)
{
  rep->status = status;
  rep->content_type = type;
  rep->body = xstrndup(text, len);
  rep->len = len;
}

static void reply_listing(struct server *s, const struct route_result *r,
                          const struct fault_action *f, struct reply *rep)
{
  char token[TOKEN_MAX_LEN + 1];
  const char *next = NULL;
  size_t count = 0;
  size_t remaining = r->items.n - r->offset;

  if (f->empty) {
    /* Same offset again, but a token the client hasn't seen. */
    token_make(token, r->listing, r->offset, next_nonce(s));
    next = token;
  } else {
    count = remaining < r->page_size ? remaining : r->page_size;
    if (f->cycle) {
      /* fresh: the same page again under a token never sent, which no
      ** token comparison can tell from progress */
      token_make(token, r->listing, f->cycle_to, f->fresh ? next_nonce(s) : 0);
      next = token;
    } else if (count < remaining) {
      token_make(token, r->listing, (uint32_t)(r->offset + count), 0);
      next = token;
    } else if (s->cfg.empty_last_token) {
      next = "";
    }
  }
  rep->status = 200;
  rep->content_type = CONTENT_JSON;
  rep->body = page_render(r->list_key, &r->items, r->offset, count, next,
                          &rep->len);
}

static void build_reply(struct server *s, const struct route_result *r,
                        const struct fault_action *f, const char *request_id,
                        struct reply *rep)
{
  static const char html[] =
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
      "<center><h1>502 Bad "
      "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
      "</body>\r\n</html>\r\n";

  if (f->html) {
    reply_copy(rep, f->status ? f->status : 502, CONTENT_HTML, html,
               sizeof html - 1);
  } else if (f->body) {
    reply_copy(rep, f->status ? f->status : 200, CONTENT_JSON, f->body,
               strlen(f->body));
  } else if (f->malformed) {
    /* Cut off mid-object, the way a broken proxy or buffer would. */
    struct buf b;
    buf_init(&b);
    if (r->kind == ROUTE_LISTING)
      buf_printf(&b, "{\"%s\": [{\"id\": \"x\",", r->list_key);
    else
      buf_puts(&b, "{\"id\": \"x\",");
    rep->status = f->status ? f->status : 200;
    rep->content_type = CONTENT_JSON;
    rep->body = buf_steal(&b, &rep->len);
  } else if (f->status) {
    reply_error(rep, f->status, status_default_message(f->status), request_id);
  } else if (r->kind == ROUTE_ERROR) {
    reply_error(rep, r->status, r->message, request_id);
  } else if (r->kind == ROUTE_OBJECT) {
    reply_copy(rep, 200, CONTENT_JSON, r->object.json, r->object.len);
  } else {
    reply_listing(s, r, f, rep);
  }
}

static int connection_fd(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
      conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  return ci ? (int)ci->connect_fd : -1;
}

/* SO_LINGER 0 makes the close a reset; the AF_UNSPEC connect aborts the
 * connection (RST) right now, before MHD's own shutdown() could send a
 * FIN that a client would read as a clean end of file. */
static void reset_connection(struct MHD_Connection *conn)
{
  int fd = connection_fd(conn);
  if (fd < 0)
    return;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  struct sockaddr unspec;
  memset(&unspec, 0, sizeof unspec);
  unspec.sa_family = AF_UNSPEC;
  connect(fd, &unspec, sizeof unspec);
}

static ssize_t read_stream(void *cls, uint64_t pos, char *out, size_t max)
{
  struct body_stream *b = cls;
  if (pos >= b->limit && b->unknown_size && b->limit == b->filler)
    return MHD_CONTENT_READER_END_OF_STREAM; /* the whole chunked body */
  if (pos >= b->limit) {
    if (b->reset)
      reset_connection(b->conn);
    return MHD_CONTENT_READER_END_WITH_ERROR; /* MHD closes the connection */
  }
  if (b->drip_ms) {
    if (!sleep_unless_stopping(b->server, b->drip_ms))
      return MHD_CONTENT_READER_END_WITH_ERROR;
    max = 1;
  }
  if (max > b->limit - pos)
    max = (size_t)(b->limit - pos);
  if (b->bomb)
    return (ssize_t)bomb_read(b->bomb, pos, out, max);
  if (b->filler)
    return (ssize_t)filler_read(b->filler, pos, out, max);
  memcpy(out, b->body + pos, max);
  return (ssize_t)max;
}

static void free_stream(void *cls)
{
  struct body_stream *b = cls;
  free(b->body);
  free(b);
}

static struct MHD_Response *make_response(struct server *s,
                                          struct MHD_Connection *conn,
                                          struct reply *rep,
                                          const struct fault_action *f)
{
  uint64_t total = rep->bomb     ? bomb_length(rep->bomb)
                   : rep->filler ? rep->filler
                                 : rep->len;
  uint64_t announced = f->has_content_length ? f->content_length : total;
  uint64_t limit = total < announced ? total : announced;
  if (f->truncate && f->truncate_bytes < limit)
    limit = f->truncate_bytes;
  if (f->reset && f->reset_bytes < limit)
    limit = f->reset_bytes;
  if (rep->bomb || rep->filler || f->drip_ms || announced != rep->len ||
      limit < announced) {
    /* Announce `announced` bytes (none when chunked), send `limit` of
         * them (dripping if asked), and hang up if that is short. */
    struct body_stream *b = xcalloc(1, sizeof *b);
    *b = (struct body_stream){.server = s,
                              .conn = conn,
                              .body = rep->body,
                              .bomb = rep->bomb,
                              .filler = rep->filler,
                              .unknown_size = rep->filler != 0,
                              .limit = limit,
                              .reset = f->reset,
                              .drip_ms = f->drip_ms};
    rep->body = NULL;
    struct MHD_Response *resp = MHD_create_response_from_callback(
        rep->filler ? MHD_SIZE_UNKNOWN : announced, f->drip_ms ? 1 : 65536,
        read_stream, b, free_stream);
    if (!resp)
      free_stream(b);
    return resp;
  }
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
  if (resp)
    rep->body = NULL;
  return resp;
}

/* An absolute-form target ("http://host:port/path?q", what a client sends
 * to a proxy) is routed by its path, so the fake can stand in for an HTTP
 * proxy in tests of http_proxy/no_proxy; the log keeps the raw form. */
static const char *origin_form(const char *target)
{
  const char *p = strstr(target, "://");
  if (target[0] == '/' || !p)
    return target;
  const char *slash = strchr(p + 3, '/');
  return slash ? slash : "/";
}

/* hang=1: keep the request unanswered until the client hangs up or the
 * server stops. */
static void hang_until_gone(struct server *s, struct MHD_Connection *conn)
{
  int fd = connection_fd(conn);
  while (sleep_unless_stopping(s, HANG_POLL_MS)) {
    char c;
    ssize_t n = fd >= 0 ? recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) : -1;
    if (n == 0 || (n < 0 && fd >= 0 && errno != EAGAIN &&
                   errno != EWOULDBLOCK && errno != EINTR))
      return; /* end of file or an error: the client is gone */
  }
}

/* redirect=: the Location with {self} (this server's base URL), {port}
 * (its port) and {path} (the request's path and query) filled in. */
static char *expand_location(struct server *s, const char *tmpl,
                             const char *target)
{
  struct buf b;
  buf_init(&b);
  for (const char *p = tmpl; *p;) {
    if (strncmp(p, "{self}", 6) == 0) {
      bool tls = s->cfg.tls_cert && s->cfg.tls_key;
      buf_printf(&b, "%s://127.0.0.1:%u", tls ? "https" : "http",
                 (unsigned)s->port);
      p += 6;
    } else if (strncmp(p, "{port}", 6) == 0) {
      buf_printf(&b, "%u", (unsigned)s->port);
      p += 6;
    } else if (strncmp(p, "{path}", 6) == 0) {
      buf_puts(&b, target);
      p += 6;
    } else {
      buf_putc(&b, *p++);
    }
  }
  return buf_steal(&b, NULL);
}

/* chunked=: a generated JSON body of that size, whatever was asked. */
static void chunked_reply(const struct fault_action *f, struct reply *rep)
{
  if (!f->chunked)
    return;
  free(rep->body);
  rep->body = NULL;
  rep->len = 0;
  rep->filler = f->chunked;
  rep->status = f->status ? f->status : 200;
  rep->content_type = CONTENT_JSON;
}

/* gzip=, deflate= and bomb=: only for a client whose Accept-Encoding
 * allows the coding; any other client gets the plain response. */
static void encode_reply(struct MHD_Connection *conn,
                         const struct fault_action *f, struct reply *rep)
{
  const char *accept = MHD_lookup_connection_value(
      conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
  if (f->bomb && encode_accepted(accept, "gzip")) {
    free(rep->body);
    rep->body = NULL;
    rep->len = 0;
    rep->bomb = f->bomb;
    rep->status = f->status ? f->status : 200;
    rep->content_type = CONTENT_JSON;
    rep->encoding = "gzip";
  } else if ((f->gzip || f->deflate) &&
             encode_accepted(accept, f->gzip ? "gzip" : "deflate")) {
    size_t len;
    char *packed = encode_compress(rep->body, rep->len, f->gzip, &len);
    free(rep->body);
    rep->body = packed;
    rep->len = len;
    rep->encoding = f->gzip ? "gzip" : "deflate";
  }
}

/* The fake IAM and metadata routes: their answer as a route result. */
static bool route_iam(struct server *s, struct MHD_Connection *conn,
                      const char *method, const char *target,
                      struct request_ctx *ctx, struct route_result *r,
                      char **owned)
{
  size_t plen = strcspn(target, "?");
  char *path = xstrndup(target, plen);
  bool mine = iam_handles(path);
  if (mine) {
    memset(r, 0, sizeof *r);
    const char *flavor = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Metadata-Flavor");
    int status = 0;
    size_t len = 0;
    char *message = NULL;
    if (ctx->body_too_large) {
      r->kind = ROUTE_ERROR;
      r->status = 413;
      r->message = xstrdup("Request body too large");
    } else {
      iam_respond(s->cfg.iam, method, path,
                  ctx->body.data ? ctx->body.data : "", ctx->body.len, flavor,
                  &status, owned, &len, &message);
      if (message) {
        r->kind = ROUTE_ERROR;
        r->status = status;
        r->message = message;
      } else {
        r->kind = ROUTE_OBJECT;
        r->object.json = *owned;
        r->object.len = len;
      }
    }
  }
  free(path);
  return mine;
}

static enum MHD_Result respond(struct server *s, struct MHD_Connection *conn,
                               const char *method, const char *raw_target,
                               struct request_ctx *ctx)
{
  char request_id[32];
  next_request_id(s, request_id, sizeof request_id);
  const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_AUTHORIZATION);
  const char *target = origin_form(raw_target);

  struct route_result r;
  char *iam_body = NULL;
  if (!route_iam(s, conn, method, target, ctx, &r, &iam_body) &&
      !steps_route(s->cfg.steps, method, target, &r, &iam_body))
    route_request(steps_current(s->cfg.steps),
                  iam_authorized(s->cfg.iam, s->cfg.token, auth), method,
                  target, &r);
  struct fault_action f;
  faults_match(s->cfg.faults, target,
               r.kind == ROUTE_LISTING ? (int64_t)r.offset : -1, &f);

  if (f.delay_ms)
    sleep_unless_stopping(s, f.delay_ms);
  if (f.drop || f.hang) {
    /* Logged now, so a test can see that a hanging request arrived. */
    reqlog_write(s->cfg.log, method, raw_target, 0, auth != NULL, NULL);
    route_result_free(&r);
    free(iam_body);
    if (f.hang)
      hang_until_gone(s, conn);
    return MHD_NO; /* MHD closes the socket without a response */
  }

  struct reply rep = {0};
  if (f.redirect) {
    reply_error(&rep, f.redirect, status_default_message(f.redirect),
                request_id);
    rep.location = expand_location(s, f.location, target);
  } else {
    build_reply(s, &r, &f, request_id, &rep);
  }
  route_result_free(&r);
  chunked_reply(&f, &rep);
  encode_reply(conn, &f, &rep);
  if (iam_body) { /* it may hold a token: overwrite before freeing */
    memset(iam_body, 0, strlen(iam_body));
    free(iam_body);
  }

  struct MHD_Response *resp = make_response(s, conn, &rep, &f);
  free(rep.body);
  if (!resp) {
    free(rep.location);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep.content_type);
  MHD_add_response_header(resp, "x-request-id", request_id);
  if (f.retry_after)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, f.retry_after);
  if (rep.status == 405)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET");
  if (rep.encoding)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
                            rep.encoding);
  if (rep.location)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rep.location);
  free(rep.location);
  enum MHD_Result ok = MHD_queue_response(conn, (unsigned int)rep.status, resp);
  MHD_destroy_response(resp);
  reqlog_write(s->cfg.log, method, raw_target, rep.status, auth != NULL,
               rep.encoding);
  return ok;
}

/* Requests being answered (delays included) and the most at once, printed
 * at shutdown so a test can hold a client to its concurrency bound. */
static void count_in_flight(struct server *s, int delta)
{
  pthread_mutex_lock(&s->mu);
  s->in_flight = (unsigned)((int)s->in_flight + delta);
  if (s->in_flight > s->max_in_flight)
    s->max_in_flight = s->in_flight;
  pthread_mutex_unlock(&s->mu);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
  (void)cls;
  (void)conn;
  struct request_ctx *ctx = xcalloc(1, sizeof *ctx);
  ctx->target = xstrdup(uri);
  buf_init(&ctx->body);
  return ctx;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode why)
{
  (void)cls;
  (void)conn;
  (void)why;
  struct request_ctx *ctx = *req_cls;
  if (ctx) {
    free(ctx->target);
    if (ctx->body.data)
      memset(ctx->body.data, 0, ctx->body.len); /* a JWT or OAuth token */
    buf_free(&ctx->body);
    free(ctx);
    *req_cls = NULL;
  }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
  (void)version;
  struct request_ctx *ctx = *req_cls;
  if (!ctx) /* not expected: the URI callback runs first */
    *req_cls = ctx = on_uri(cls, url, conn);
  /* Answer only once the whole request is in, so bodies sent with other
     * methods don't force MHD to close the keep-alive connection. */
  if (!ctx->headers_done) {
    ctx->headers_done = true;
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (ctx->body.len + *upload_data_size > MAX_BODY)
      ctx->body_too_large = true;
    else
      buf_put(&ctx->body, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  count_in_flight(cls, 1);
  enum MHD_Result ok = respond(cls, conn, method, ctx->target, ctx);
  count_in_flight(cls, -1);
  return ok;
}

struct server *server_start(const struct server_config *cfg, uint16_t port)
{
  struct server *s = xcalloc(1, sizeof *s);
  s->cfg = *cfg;
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&s->wake, &attr);
  pthread_condattr_destroy(&attr);

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
                       MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO |
                       MHD_USE_ERROR_LOG;
  bool tls = cfg->tls_cert && cfg->tls_key;
  if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
    fprintf(stderr, "fakeapi: this libmicrohttpd has no TLS support\n");
    server_stop(s);
    return NULL;
  }
  if (tls)
    s->daemon = MHD_start_daemon(
        flags | MHD_USE_TLS, port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
        MHD_OPTION_HTTPS_MEM_CERT, cfg->tls_cert, MHD_OPTION_HTTPS_MEM_KEY,
        cfg->tls_key, MHD_OPTION_END);
  else
    s->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)s,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                                 (void *)s, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned int)IDLE_TIMEOUT_S, MHD_OPTION_END);
  if (!s->daemon) {
    fprintf(stderr, "fakeapi: cannot listen on 127.0.0.1:%u\n", (unsigned)port);
    server_stop(s);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(
      s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : port;
  return s;
}

uint16_t server_port(const struct server *s)
{
  return s->port;
}

void server_stop(struct server *s)
{
  if (!s)
    return;
  pthread_mutex_lock(&s->mu);
  s->stopping = true;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->mu);
  if (s->daemon) {
    MHD_stop_daemon(s->daemon);
    fprintf(stderr, "fakeapi: at most %u requests in flight at once\n",
            s->max_in_flight);
  }
  pthread_cond_destroy(&s->wake);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
