/* Fleet steps: the fleet as a series of datasets, all loaded at start-up
 * and never changed (request threads read them without locking).  A
 * `POST /fake/v1/step` makes every later request see the next one, so a
 * test or the demo can scan, change the fleet (backups deleted or added,
 * clusters gone, settings changed) and scan again against one server. */
#ifndef FAKEAPI_STEPS_H
#define FAKEAPI_STEPS_H

#include <stdbool.h>

#include "dataset.h"
#include "routes.h"

struct fleet_steps;

struct fleet_steps *steps_new(void);
/* Takes ownership of ds. */
void steps_add(struct fleet_steps *st, struct dataset *ds);
int steps_count(const struct fleet_steps *st);
struct dataset *steps_at(const struct fleet_steps *st, int i);
/* The dataset requests see now. */
const struct dataset *steps_current(const struct fleet_steps *st);
/* Handles POST /fake/v1/step (any method: 405; no next step: 409) and
 * returns true; false for any other target.  `owned` receives the body
 * the caller frees.  NULL `st` handles nothing. */
bool steps_route(struct fleet_steps *st, const char *method, const char *target,
                 struct route_result *r, char **owned);
void steps_free(struct fleet_steps *st);

/* --without GLOB: while a step's sources load (start-up, one thread), the
 * backups and clusters whose id matches one of these globs (fnmatch) are
 * left out; a cluster's id also leaves out its backups.  So a step can be
 * "the same fleet minus a deleted backup or cluster". */
void steps_without(const char *const *globs, int n);
bool steps_excluded(const char *cluster_id, const char *json, size_t len);

#endif
