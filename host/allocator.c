#include "allocator.h"

#ifdef MDB_MIMALLOC
#include <mimalloc.h>
#endif

void allocator_setup(void)
{
#ifdef MDB_MIMALLOC
  /* A response body grows by doubling up to max_response_bytes, each
  ** step a block of its own (mimalloc's realloc copies where glibc's
  ** mremaps).  By default mimalloc keeps a freed block's memory for a
  ** while in case it is wanted again, so a body refused at the 64 MiB cap
  ** peaked at 108 MiB with its smaller predecessors still held; given
  ** back at once, it stays under cap + 32 MiB as README promises.  Only
  ** whole segments (large blocks) are affected: small objects' pages keep
  ** the default. */
  mi_option_set(mi_option_segment_decommit_delay, 0);
#endif
}
