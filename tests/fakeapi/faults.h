/* --fault RULE: per-run fault injection.  A rule is ';'-separated
 * key=value pairs: selectors (path, offset, skip, times) saying which
 * requests it hits, and actions saying what happens to them.  Rules are
 * tried in command-line order; the first one that matches and has firings
 * left fires.  Counters are shared by all connection threads, hence the
 * mutex inside. */
#ifndef FAKEAPI_FAULTS_H
#define FAKEAPI_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

struct bomb;

/* What the fired rule asks for; strings point into the rule and live as
 * long as the fault set. */
struct fault_action {
  bool fired;
  int rule;                /* 1-based position on the command line */
  int status;              /* 0 = keep the normal status */
  const char *retry_after; /* Retry-After header value, verbatim */
  uint64_t delay_ms;
  bool truncate;
  uint64_t truncate_bytes;
  bool malformed;
  const char *body;
  bool html;
  bool cycle;
  uint32_t cycle_to;
  bool fresh; /* cycle_to's token with a nonce not sent before */
  bool empty;
  bool drop;
  uint64_t drip_ms; /* the body one byte every drip_ms */
  bool has_content_length;
  uint64_t content_length; /* announced instead of the real length */
  bool reset;              /* after reset_bytes body bytes, a TCP RST */
  uint64_t reset_bytes;
  bool gzip;
  bool deflate;
  const struct bomb *bomb; /* a gzip decompression bomb (encode.h) */
  uint64_t chunked;        /* >0: a body of this many bytes, chunked */
  int redirect;            /* 3xx status with a Location header */
  const char *location;    /* may hold {self} and {path} */
  bool hang;
};

struct fault_set;

struct fault_set *faults_new(void);
void faults_free(struct fault_set *fs);
/* Prints what is wrong with the rule on stderr and returns false. */
bool faults_add(struct fault_set *fs, const char *rule);
/* --quota SPEC (rate=R[,burst=B][,retry_after=S]): at most R requests a
 * second across all connections, a token bucket holding B (default R);
 * a request finding it empty gets 429 RESOURCE_EXHAUSTED, and with
 * retry_after=S, Retry-After: S and 429 for everything for S seconds.
 * Checked before the rules.  Prints what is wrong and returns false. */
bool faults_set_quota(struct fault_set *fs, const char *spec);

/* listing_offset: where the requested page starts, or -1 when the request
 * is not a listing that would succeed (rules with offset=, cycle_to= or
 * empty= never match those). */
void faults_match(struct fault_set *fs, const char *raw_target,
                  int64_t listing_offset, struct fault_action *out);

#endif
