/* The Resource Manager side of the fake: clouds and their folders, from
 * --cloud CLOUD_ID=FOLDER_ID,FOLDER_ID... (repeatable, in order).  Serves
 * Cloud.List (GET /resource-manager/v1/clouds) and Folder.List
 * (GET /resource-manager/v1/folders?cloudId=), paginated like the MDB
 * listings.  Loaded before the server starts, read-only afterwards. */
#ifndef FAKEAPI_RM_H
#define FAKEAPI_RM_H

#include <stdbool.h>

#include "routes.h"
#include "target.h"

/* False (adding nothing) for a malformed spec or a cloud given twice. */
bool rm_add_cloud(const char *spec);
/* Is this a Resource Manager path (whatever its validity)? */
bool rm_path(const struct target *t);
/* Route a request for an rm_path() target; the caller checked auth. */
void rm_route(const struct target *t, struct route_result *r);
void rm_free(void);

#endif
