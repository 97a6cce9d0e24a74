/* Decides what a request gets, independent of HTTP plumbing and faults:
 * an error (status + message), one object (Cluster.Get), or a slice of a
 * listing.  Checks run in this order, so tests can rely on it:
 * method (405), route (404), Authorization (401), arguments (400),
 * existence (404). */
#ifndef FAKEAPI_ROUTES_H
#define FAKEAPI_ROUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"

enum route_kind { ROUTE_ERROR, ROUTE_OBJECT, ROUTE_LISTING };

struct route_result {
  enum route_kind kind;

  /* ROUTE_ERROR */
  int status;
  char *message;

  /* ROUTE_OBJECT */
  struct json_item object;

  /* ROUTE_LISTING */
  const char *list_key;   /* "backups" or "clusters" */
  struct item_list items; /* the whole listing */
  uint32_t *owned_idx;    /* set when items.idx was built for this request */
  char *listing;          /* identity of the listing, for page tokens */
  uint32_t offset;        /* where this page starts */
  uint32_t page_size;     /* effective: 0 already replaced by 100 */
};

/* `authorized`: the request's Authorization header carries a token the
 * server accepts (checked by the caller: the static --token or a token
 * the fake IAM issued and that is still valid). */
void route_request(const struct dataset *ds, bool authorized,
                   const char *method, const char *raw_target,
                   struct route_result *out);
void route_result_free(struct route_result *r);

#endif
