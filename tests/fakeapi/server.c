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
#include "page.h"
#include "routes.h"
#include "status.h"
#include "tokens.h"
#include "xalloc.h"

#define CONTENT_JSON "application/json"
#define CONTENT_HTML "text/html"
/* Idle keep-alive connections each hold a thread; don't keep them forever. */
#define IDLE_TIMEOUT_S 120

struct server {
    struct server_config cfg;
    struct MHD_Daemon *daemon;
    uint16_t port;

    pthread_mutex_t mu;   /* guards everything below */
    pthread_cond_t wake;  /* signalled when stopping, to end delays early */
    bool stopping;
    uint64_t requests;    /* for x-request-id */
    uint32_t nonce;       /* makes each empty=1 token distinct */
};

/* Created by the URI callback, which is the only place MHD shows the
 * request target before unescaping it and splitting off the query. */
struct request_ctx {
    char *target;
    bool headers_done;
};

struct reply {
    int status;
    const char *content_type;
    char *body;
    size_t len;
};

struct truncated_body {
    char *body;
    size_t limit;
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

static void sleep_unless_stopping(struct server *s, uint64_t ms)
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
    pthread_mutex_unlock(&s->mu);
}

static void reply_error(struct reply *rep, int status, const char *message,
                        const char *request_id)
{
    rep->status = status;
    rep->content_type = CONTENT_JSON;
    rep->body = status_body(status, message, request_id, &rep->len);
}

static void reply_copy(struct reply *rep, int status, const char *type, const char *text,
                       size_t len)
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
            token_make(token, r->listing, f->cycle_to, 0);
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
    rep->body = page_render(r->list_key, &r->items, r->offset, count, next, &rep->len);
}

static void build_reply(struct server *s, const struct route_result *r,
                        const struct fault_action *f, const char *request_id,
                        struct reply *rep)
{
    static const char html[] =
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n";

    if (f->html) {
        reply_copy(rep, f->status ? f->status : 502, CONTENT_HTML, html, sizeof html - 1);
    } else if (f->body) {
        reply_copy(rep, f->status ? f->status : 200, CONTENT_JSON, f->body, strlen(f->body));
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

static ssize_t read_truncated(void *cls, uint64_t pos, char *out, size_t max)
{
    struct truncated_body *t = cls;
    if (pos >= t->limit)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* MHD closes the connection */
    size_t n = t->limit - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(out, t->body + pos, n);
    return (ssize_t)n;
}

static void free_truncated(void *cls)
{
    struct truncated_body *t = cls;
    free(t->body);
    free(t);
}

static struct MHD_Response *make_response(struct reply *rep, const struct fault_action *f)
{
    if (f->truncate && f->truncate_bytes < rep->len) {
        /* Announce the full length, then hang up early. */
        struct truncated_body *t = xmalloc(sizeof *t);
        t->body = rep->body;
        t->limit = (size_t)f->truncate_bytes;
        rep->body = NULL;
        struct MHD_Response *resp =
            MHD_create_response_from_callback(rep->len, 4096, read_truncated, t, free_truncated);
        if (!resp)
            free_truncated(t);
        return resp;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
    if (resp)
        rep->body = NULL;
    return resp;
}

static enum MHD_Result respond(struct server *s, struct MHD_Connection *conn,
                               const char *method, const char *target)
{
    char request_id[32];
    next_request_id(s, request_id, sizeof request_id);
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

    struct route_result r;
    route_request(s->cfg.dataset, s->cfg.token, method, target, auth, &r);
    struct fault_action f;
    faults_match(s->cfg.faults, target, r.kind == ROUTE_LISTING ? (int64_t)r.offset : -1, &f);

    if (f.delay_ms)
        sleep_unless_stopping(s, f.delay_ms);
    if (f.drop) {
        reqlog_write(s->cfg.log, method, target, 0);
        route_result_free(&r);
        return MHD_NO; /* MHD closes the socket without a response */
    }

    struct reply rep = {0};
    build_reply(s, &r, &f, request_id, &rep);
    route_result_free(&r);

    struct MHD_Response *resp = make_response(&rep, &f);
    free(rep.body);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep.content_type);
    MHD_add_response_header(resp, "x-request-id", request_id);
    if (f.retry_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, f.retry_after);
    if (rep.status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned int)rep.status, resp);
    MHD_destroy_response(resp);
    reqlog_write(s->cfg.log, method, target, rep.status);
    return ok;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    struct request_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->target = xstrdup(uri);
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
        free(ctx);
        *req_cls = NULL;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    (void)upload_data;
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
        *upload_data_size = 0;
        return MHD_YES;
    }
    return respond(cls, conn, method, ctx->target);
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

    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO |
            MHD_USE_ERROR_LOG,
        port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
        MHD_OPTION_END);
    if (!s->daemon) {
        fprintf(stderr, "fakeapi: cannot listen on 127.0.0.1:%u\n", (unsigned)port);
        server_stop(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
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
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
