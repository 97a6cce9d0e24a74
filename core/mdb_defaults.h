/*
** Compile-time defaults shared by the core and the Lua binding, the one
** place they are written (Lua reads them as mdb.defaults).  Every one of
** them can be changed per client; none is process-wide state.
*/
#ifndef MDB_DEFAULTS_H
#define MDB_DEFAULTS_H

/* The version comes from the build: project(VERSION) in CMakeLists.txt. */
#ifndef MDB_VERSION
#error "MDB_VERSION must be defined by the build"
#endif
#define MDB_DEFAULT_ENDPOINT                 "https://mdb.api.cloud.yandex.net"
#define MDB_DEFAULT_PAGE_SIZE                1000
#define MDB_MAX_PAGE_SIZE                    1000 /* the API rejects larger pages */
#define MDB_SERVER_PAGE_SIZE                 100 /* what the API uses for pageSize 0 */
#define MDB_DEFAULT_RETRIES                  5
#define MDB_MAX_RETRIES                      100
#define MDB_DEFAULT_TIMEOUT_MS               30000L
#define MDB_DEFAULT_CONNECT_MS               10000L
#define MDB_DEFAULT_MAX_BODY                 (64L * 1024 * 1024)
#define MDB_DEFAULT_BACKOFF_MS               200L
#define MDB_DEFAULT_BACKOFF_MAX_MS           30000L
#define MDB_DEFAULT_CONCURRENCY              16 /* scan: listings in flight */
#define MDB_MAX_CONCURRENCY                  256
#define MDB_DEFAULT_TOKEN_COMMAND_TIMEOUT_MS 30000L
#define MDB_PROBE_CONNECT_MS                 250L /* the metadata service's probe at */
#define MDB_PROBE_TIMEOUT_MS                 1000L /* client creation: off a VM, fail fast */
#define MDB_MAX_ID_LEN                       50 /* clusterId / folderId limit */
#define MDB_MAX_FILTER_LEN                   1000
#define MDB_MAX_TOKEN_LEN                    100 /* pageToken: the protos' <=100 */
#define MDB_MAX_SCAN_FOLDERS                 1000 /* folders= of one scan */
#define MDB_MAX_DEADLINE_S                   86400 /* mdb.deadline, --timeout: a day */

#endif /* MDB_DEFAULTS_H */
