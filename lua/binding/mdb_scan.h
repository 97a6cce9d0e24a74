/*
** Internals shared by the files of client:scan: mdb_scan.c (the scan
** loop and its entries), mdb_scan_clouds.c (folders learnt from Resource
** Manager) and mdb_scan_options.c (checking the options).
*/
#ifndef MDB_SCAN_H
#define MDB_SCAN_H

#include "mdb_binding.h"

#include <stdint.h>

#define SCAN_MAX_ENGINES 32
/* Job tags of Resource Manager listings: Cloud.List; Folder.List of cloud
** n is RM_TAG - n (below every Cluster.List tag, -slot). */
#define RM_TAG              (-(1L << 30))
#define LAST_KEY            1000000000 /* orders a listing's error after its items */
#define DEFAULT_RM_ENDPOINT "https://resource-manager.api.cloud.yandex.net"
/*
** A cluster's listings run one after another in its place in the window:
** its backups (part 0), then, when with= asks, its retention policies
** (part 1) and its operations (part 2).  Part p of entry i is tagged
** i + p * PART_STRIDE, so a scan has fewer than PART_STRIDE entries.
*/
#define PART_STRIDE ((lua_Integer)1 << 29)
enum { PART_BACKUPS, PART_POLICIES, PART_OPERATIONS, PART_COUNT };
/*
** Where the engine lists a folder's retention policies at once
** (ListByFolder: MySQL, MongoDB, Redis), a folder scan with= them lists
** each (folder, engine) slot's policies in one listing tagged FP_TAG +
** slot (above every part's tag), not one per cluster: a tenth or less of
** the requests on a fleet of small clusters.  A cluster's backups listing
** then waits until its slot's policies are in (a streaming scan holds no
** more clusters' backups than the window, however slow that listing).
*/
#define FP_TAG (PART_STRIDE * PART_COUNT)

/* Fixed stack slots while scanning (see mdb_scan.c). */
enum {
  S_CLIENT = 1,
  S_OPTS,
  S_STATE,
  S_ENTRIES,
  S_ORDER,
  S_PROGRESS,
  S_EACH,
  S_LISTINGS,
  S_QUEUE,
  S_FOLDERS,
  S_CLOUDS,
  S_FP /* [slot] its policies listing's state; [-entry] the entry's slot */
};

typedef struct scan {
  lua_State *L;
  mdb_client *client;
  fetch_engine *fe;
  const engine_info *const *engines;
  int nengines;
  int slots, next_slot; /* slots so far; next to start */
  int lists_running;
  const char *rm_endpoint; /* anchored in S_CLOUDS */
  lua_Integer nclouds;
  lua_Integer clouds_started; /* Folder.List started for clouds 1..this */
  int folder_lists_running;   /* at most `window` (mdb_scan_clouds.c) */
  long page_size, limit;
  int streaming;                      /* each= given: entries are not kept */
  int backup_texts;                   /* backup_texts= asked for */
  int with[PART_COUNT];               /* parts with= asked for (backups: 1) */
  int folder_policies;                /* policies by folder where it can */
  int window;                         /* backups listings running at most */
  int running;                        /* backups listings running now */
  int starting;                       /* in start_queued (mdb_scan.c) */
  lua_Integer queue_head, queue_tail; /* S_QUEUE[head..tail] waiting */
  lua_Integer last_entry;             /* entry indices given out */
  lua_Integer done, total;
} scan;

/*
** A job's tag (its user data, and its key in S_LISTINGS): the index of its
** entry, or minus the engine slot for a Cluster.List job (whose entry
** exists only if it fails).
*/
static inline void *scan_tag(lua_Integer i)
{
  return (void *)(intptr_t)i;
}

static inline lua_Integer scan_untag(void *p)
{
  return (lua_Integer)(intptr_t)p;
}

/* The one way an entry is made; pushes it, returns its index. */
lua_Integer scan_new_entry(scan *s, int slot, const engine_info *e,
                           const char *id, int cluster_idx);
/* A folder record with a slot per engine; returns its index. */
lua_Integer scan_add_folder(scan *s, const char *id, const char *cloud,
                            lua_Integer ci, lua_Integer fi);
void scan_set_stats(lua_State *L, int entry, const fetch_stats *st,
                    const mdb_listing *ls);
/* The listing at `ls` (tag t) is over: its job freed, its guard and last
** page let go now (a listing has a finalizer, and what it still held
** would live through one more collection), its place in S_LISTINGS freed. */
void scan_end_listing(scan *s, int ls, lua_Integer t);
/* Hand a complete entry to each= (and let go of it) or keep it. */
void scan_deliver(scan *s, int entry, lua_Integer idx);

/* mdb_scan_clouds.c */
void scan_add_cloud(scan *s, const char *id);
void scan_fail_rm(scan *s, int ls, lua_Integer t);
void scan_on_rm_page(scan *s, fetch_job *j, lua_Integer t);

/* mdb_scan_options.c: each raises an argument error before any request */
int scan_engines(lua_State *L, const engine_info **out);
void scan_cluster_list(lua_State *L, const engine_info *const *engines,
                       int nengines);
void scan_folders(lua_State *L);
/* with= (an array of "retention_policies", "operations"): sets with[]. */
void scan_with(lua_State *L, int with[PART_COUNT]);

#endif /* MDB_SCAN_H */
