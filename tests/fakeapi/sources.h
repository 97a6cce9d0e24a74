/* The three ways to fill the dataset.  Each prints a message naming the
 * problem on stderr and returns false on bad input. */
#ifndef FAKEAPI_SOURCES_H
#define FAKEAPI_SOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"

bool datafile_load(struct dataset *ds, const char *path);
/* now: seconds since the epoch, the reference for the default start. */
bool generate_load(struct dataset *ds, const char *spec, int64_t now);
bool demo_fleet_load(struct dataset *ds, int64_t now);
/* The demo fleet's retention policies and operations (demo_recovery.c). */
void demo_recovery_load(struct dataset *ds, int64_t now);

#endif
