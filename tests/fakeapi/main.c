/* fakeapi: a stand-in for the Yandex Cloud MDB REST API (backup and
 * cluster listings of all ten engines) for mdblua's tests and benchmark.
 * This file handles the command line, start-up and shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "faults.h"
#include "numparse.h"
#include "reqlog.h"
#include "rm.h"
#include "server.h"
#include "sources.h"
#include "steps.h"
#include "timefmt.h"
#include "xalloc.h"

#define EXIT_USAGE 2

static const char usage[] =
    "usage: fakeapi [--port N] [--token T] [--data FILE]... [--generate "
    "SPEC]... [--demo]\n"
    "               [--fault RULE]... [--quota SPEC] [--log FILE] "
    "[--log-detail] [--lifetime SECONDS]\n"
    "               [--empty-last-token] [--now RFC3339]\n"
    "               [--step[=SECONDS] [--without GLOB]... SOURCES...]...\n"
    "               [--iam-sa-key FILE] [--oauth-token T] [--metadata]\n"
    "               [--iam-token-ttl SECONDS] [--iam-token-revoke-after "
    "SECONDS]\n"
    "               [--tls-cert FILE --tls-key FILE] [--cloud "
    "CLOUD=FOLDER,...]...\n"
    "\n"
    "Serves a fake Yandex Cloud MDB REST API (and a fake IAM token exchange "
    "and\n"
    "metadata service) on 127.0.0.1 and prints one line, "
    "\"http://127.0.0.1:PORT PID\"\n"
    "(https with --tls-cert), once it is listening.  See "
    "tests/fakeapi/README.md.\n";

enum source_kind { SOURCE_DATA, SOURCE_GENERATE, SOURCE_DEMO };

struct source {
  enum source_kind kind;
  const char *arg;
  int step;        /* which fleet step it fills (--step) */
  int64_t advance; /* seconds added to --now for that step */
};

struct without { /* --without GLOB, for the step it follows */
  int step;
  const char *glob;
};

struct options {
  uint16_t port;
  const char *token;
  const char *log_path;
  bool log_detail;
  uint64_t lifetime;
  bool empty_last_token;
  int64_t now;
  struct iam_config iam;
  const char *tls_cert_file;
  const char *tls_key_file;
  struct source *sources; /* applied in command-line order */
  int nsources;
  int nsteps; /* --step: sources after it fill the next fleet */
  int64_t advance;
  struct without *without;
  int nwithout;
};

static void add_source(struct options *o, enum source_kind kind,
                       const char *arg)
{
  o->sources = xrealloc(o->sources,
                        (size_t)(o->nsources + 1) * sizeof *o->sources);
  o->sources[o->nsources++] = (struct source){kind, arg, o->nsteps, o->advance};
}

static _Noreturn void usage_error(struct options *o, struct fault_set *faults,
                                  const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static _Noreturn void usage_error(struct options *o, struct fault_set *faults,
                                  const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("fakeapi: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs("\n(run 'fakeapi --help' for usage)\n", stderr);
  free(o->sources);
  free(o->without);
  faults_free(faults);
  exit(EXIT_USAGE);
}

/* Accepts both "--name VALUE" and "--name=VALUE". */
static const char *option_value(int argc, char **argv, int *i, const char *name,
                                struct options *o, struct fault_set *faults)
{
  size_t n = strlen(name);
  const char *arg = argv[*i];
  if (arg[n] == '=')
    return arg + n + 1;
  if (*i + 1 >= argc)
    usage_error(o, faults, "%s needs a value", name);
  return argv[++*i];
}

static bool is_option(const char *arg, const char *name)
{
  size_t n = strlen(name);
  return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static void parse_options(int argc, char **argv, struct options *o,
                          struct fault_set *faults)
{
  *o = (struct options){.token = "fake-iam-token",
                        .lifetime = 600,
                        .now = time(NULL),
                        .iam = {.ttl = 43200}};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v;
    uint64_t n;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      free(o->sources);
      free(o->without);
      faults_free(faults);
      exit(0);
    } else if (is_option(a, "--port")) {
      v = option_value(argc, argv, &i, "--port", o, faults);
      if (!parse_u64(v, 65535, &n))
        usage_error(o, faults, "--port: expected an integer 0..65535, got '%s'",
                    v);
      o->port = (uint16_t)n;
    } else if (is_option(a, "--token")) {
      o->token = option_value(argc, argv, &i, "--token", o, faults);
      if (!*o->token)
        usage_error(o, faults, "%s: must not be empty", "--token");
    } else if (is_option(a, "--data")) {
      add_source(o, SOURCE_DATA,
                 option_value(argc, argv, &i, "--data", o, faults));
    } else if (is_option(a, "--generate")) {
      add_source(o, SOURCE_GENERATE,
                 option_value(argc, argv, &i, "--generate", o, faults));
    } else if (strcmp(a, "--demo") == 0) {
      add_source(o, SOURCE_DEMO, NULL);
    } else if (strcmp(a, "--step") == 0 || strncmp(a, "--step=", 7) == 0) {
      if (a[6] == '=' && !parse_u64(a + 7, 366 * 86400, &n))
        usage_error(o, faults, "--step: expected seconds 0..31622400, got '%s'",
                    a + 7);
      o->nsteps++;
      o->advance += a[6] == '=' ? (int64_t)n : 0;
    } else if (is_option(a, "--without")) {
      o->without = xrealloc(o->without,
                            (size_t)(o->nwithout + 1) * sizeof *o->without);
      o->without[o->nwithout++] = (struct without){
          o->nsteps, option_value(argc, argv, &i, "--without", o, faults)};
    } else if (is_option(a, "--cloud")) {
      v = option_value(argc, argv, &i, "--cloud", o, faults);
      if (!rm_add_cloud(v))
        usage_error(o, faults,
                    "--cloud: expected CLOUD=FOLDER,... (ids of "
                    "[a-z0-9-], 1..50 characters, each cloud once), got '%s'",
                    v);
    } else if (is_option(a, "--fault")) {
      v = option_value(argc, argv, &i, "--fault", o, faults);
      if (!faults_add(faults, v))
        usage_error(o, faults, "--fault: bad rule '%s'", v);
    } else if (is_option(a, "--quota")) {
      v = option_value(argc, argv, &i, "--quota", o, faults);
      if (!faults_set_quota(faults, v))
        usage_error(o, faults, "--quota: bad spec '%s'", v);
    } else if (is_option(a, "--log")) {
      o->log_path = option_value(argc, argv, &i, "--log", o, faults);
    } else if (strcmp(a, "--log-detail") == 0) {
      o->log_detail = true;
    } else if (is_option(a, "--lifetime")) {
      v = option_value(argc, argv, &i, "--lifetime", o, faults);
      if (!parse_u64(v, 30 * 86400, &n) || n == 0)
        usage_error(o, faults,
                    "--lifetime: expected seconds 1..2592000, got '%s'", v);
      o->lifetime = n;
    } else if (strcmp(a, "--empty-last-token") == 0) {
      o->empty_last_token = true;
    } else if (is_option(a, "--now")) {
      v = option_value(argc, argv, &i, "--now", o, faults);
      if (!time_parse_rfc3339(v, &o->now))
        usage_error(o, faults, "--now: '%s' is not an RFC 3339 time", v);
    } else if (is_option(a, "--iam-sa-key")) {
      o->iam.sa_key_file = option_value(argc, argv, &i, "--iam-sa-key", o,
                                        faults);
    } else if (is_option(a, "--oauth-token")) {
      o->iam.oauth_token = option_value(argc, argv, &i, "--oauth-token", o,
                                        faults);
      if (!*o->iam.oauth_token)
        usage_error(o, faults, "%s: must not be empty", "--oauth-token");
    } else if (strcmp(a, "--metadata") == 0) {
      o->iam.metadata = true;
    } else if (is_option(a, "--iam-token-ttl")) {
      v = option_value(argc, argv, &i, "--iam-token-ttl", o, faults);
      if (!parse_u64(v, 7 * 86400, &n) || n == 0)
        usage_error(o, faults,
                    "--iam-token-ttl: expected seconds 1..604800, got '%s'", v);
      o->iam.ttl = n;
    } else if (is_option(a, "--iam-token-revoke-after")) {
      v = option_value(argc, argv, &i, "--iam-token-revoke-after", o, faults);
      if (!parse_u64(v, 7 * 86400, &n) || n == 0)
        usage_error(
            o, faults,
            "--iam-token-revoke-after: expected seconds 1..604800, got '%s'",
            v);
      o->iam.revoke_after = n;
    } else if (is_option(a, "--tls-cert")) {
      o->tls_cert_file = option_value(argc, argv, &i, "--tls-cert", o, faults);
    } else if (is_option(a, "--tls-key")) {
      o->tls_key_file = option_value(argc, argv, &i, "--tls-key", o, faults);
    } else if (a[0] == '-') {
      usage_error(o, faults, "unknown option '%s'", a);
    } else {
      usage_error(o, faults, "unexpected argument '%s'", a);
    }
  }
  if ((o->tls_cert_file != NULL) != (o->tls_key_file != NULL))
    usage_error(o, faults, "--tls-cert and --tls-key go together");
}

/* A whole PEM file as a string; NULL after a message on stderr. */
static char *read_pem(const char *opt, const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "fakeapi: %s %s: %s\n", opt, path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *text = xmalloc(cap);
  size_t n;
  while ((n = fread(text + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2)
      text = xrealloc(text, cap *= 2);
  }
  fclose(f);
  text[len] = '\0';
  return text;
}

static bool load_sources(const struct options *o, struct fleet_steps *steps)
{
  for (int k = 0; k <= o->nsteps; k++)
    steps_add(steps, dataset_new());
  const char **globs = xmalloc((size_t)(o->nwithout + 1) * sizeof *globs);
  for (int i = 0; i < o->nsources; i++) {
    const struct source *src = &o->sources[i];
    struct dataset *ds = steps_at(steps, src->step);
    int n = 0;
    for (int w = 0; w < o->nwithout; w++)
      if (o->without[w].step == src->step)
        globs[n++] = o->without[w].glob;
    steps_without(globs, n);
    int64_t now = o->now + src->advance;
    bool ok = src->kind == SOURCE_DATA       ? datafile_load(ds, src->arg)
              : src->kind == SOURCE_GENERATE ? generate_load(ds, src->arg, now)
                                             : demo_fleet_load(ds, now);
    if (!ok) {
      steps_without(NULL, 0);
      free(globs);
      return false;
    }
  }
  steps_without(NULL, 0);
  free(globs);
  return true;
}

/* Blocks until SIGTERM/SIGINT or the lifetime runs out.  The signals are
 * blocked in every thread (MHD's inherit the mask) and taken here
 * synchronously, so shutdown runs in normal context, not a handler. */
static void wait_for_end(const sigset_t *stop, uint64_t lifetime)
{
  struct timespec deadline, now;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += (time_t)lifetime;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct timespec left = {deadline.tv_sec - now.tv_sec,
                            deadline.tv_nsec - now.tv_nsec};
    if (left.tv_nsec < 0) {
      left.tv_sec--;
      left.tv_nsec += 1000000000L;
    }
    if (left.tv_sec < 0) {
      fprintf(stderr, "fakeapi: lifetime of %llu s is over, stopping\n",
              (unsigned long long)lifetime);
      return;
    }
    int sig = sigtimedwait(stop, NULL, &left);
    if (sig > 0) {
      fprintf(stderr, "fakeapi: %s, stopping\n",
              sig == SIGTERM ? "SIGTERM" : "SIGINT");
      return;
    }
    if (errno != EAGAIN && errno != EINTR) {
      perror("fakeapi: sigtimedwait");
      return;
    }
  }
}

int main(int argc, char **argv)
{
  struct fault_set *faults = faults_new();
  struct options o;
  parse_options(argc, argv, &o, faults);

  struct fleet_steps *steps = steps_new();
  struct reqlog *log = NULL;
  struct server *server = NULL;
  struct iam *iam = NULL;
  char *tls_cert = NULL, *tls_key = NULL;
  int status = EXIT_USAGE;
  if (!load_sources(&o, steps) ||
      !(log = reqlog_open(o.log_path, o.log_detail)) ||
      !(iam = iam_new(&o.iam)))
    goto out;
  if (o.tls_cert_file &&
      (!(tls_cert = read_pem("--tls-cert", o.tls_cert_file)) ||
       !(tls_key = read_pem("--tls-key", o.tls_key_file))))
    goto out;

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN); /* a client hanging up must not kill us */

  struct server_config cfg = {
      .steps = steps,
      .token = o.token,
      .iam = iam,
      .tls_cert = tls_cert,
      .tls_key = tls_key,
      .faults = faults,
      .log = log,
      .empty_last_token = o.empty_last_token,
  };
  server = server_start(&cfg, o.port);
  if (!server) {
    status = EXIT_FAILURE;
    goto out;
  }
  const struct dataset *ds = steps_current(steps);
  fprintf(stderr, "fakeapi: %zu clusters, %zu backups\n",
          dataset_cluster_count(ds), dataset_backup_count(ds));
  printf("%s://127.0.0.1:%u %ld\n", tls_cert ? "https" : "http",
         (unsigned)server_port(server), (long)getpid());
  fflush(stdout);

  wait_for_end(&stop, o.lifetime);
  status = EXIT_SUCCESS;

out:
  server_stop(server);
  iam_free(iam);
  free(tls_cert);
  free(tls_key);
  reqlog_close(log);
  steps_free(steps);
  rm_free();
  faults_free(faults);
  free(o.sources);
  free(o.without);
  return status;
}
