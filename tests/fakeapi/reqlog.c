#include "reqlog.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct reqlog {
  FILE *f;
  bool detail;
  pthread_mutex_t mu;
};

struct reqlog *reqlog_open(const char *path, bool detail)
{
  FILE *f = NULL;
  if (path && !(f = fopen(path, "a"))) {
    fprintf(stderr, "fakeapi: --log %s: %s\n", path, strerror(errno));
    return NULL;
  }
  struct reqlog *log = xmalloc(sizeof *log);
  log->f = f;
  log->detail = detail;
  pthread_mutex_init(&log->mu, NULL);
  return log;
}

void reqlog_close(struct reqlog *log)
{
  if (!log)
    return;
  if (log->f)
    fclose(log->f);
  pthread_mutex_destroy(&log->mu);
  free(log);
}

void reqlog_write(struct reqlog *log, const char *method, const char *target,
                  int status, bool auth, const char *encoding)
{
  if (!log->f)
    return;
  pthread_mutex_lock(&log->mu);
  if (log->detail)
    fprintf(log->f, "%s %s %03d auth=%s encoding=%s\n", method, target, status,
            auth ? "yes" : "no", encoding ? encoding : "identity");
  else
    fprintf(log->f, "%s %s %03d\n", method, target, status);
  fflush(log->f);
  pthread_mutex_unlock(&log->mu);
}
