/* The HTTP side: libmicrohttpd with a thread per connection (so a delayed
 * response never holds up another client), bound to 127.0.0.1 only. */
#ifndef FAKEAPI_SERVER_H
#define FAKEAPI_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"
#include "faults.h"
#include "iam.h"
#include "reqlog.h"
#include "steps.h"

struct server_config {
  struct fleet_steps *steps; /* the fleet, one dataset per --step */
  const char *token;         /* required bearer token */
  struct iam *iam;           /* token exchange and metadata routes, or NULL */
  const char *tls_cert;      /* PEM text: serve HTTPS when both are set */
  const char *tls_key;
  struct fault_set *faults;
  struct reqlog *log;
  bool
      empty_last_token; /* last page says "nextPageToken":"" instead of omitting it */
};

struct server;

/* port 0 picks a free one.  Returns NULL after a message on stderr. */
struct server *server_start(const struct server_config *cfg, uint16_t port);
uint16_t server_port(const struct server *s);
/* Cuts short any fault delays in progress, then stops and frees. */
void server_stop(struct server *s);

#endif
