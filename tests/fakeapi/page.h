/* List response bodies, built by concatenating pre-rendered items so a page
 * of a million-backup listing costs one allocation and a few memcpys. */
#ifndef FAKEAPI_PAGE_H
#define FAKEAPI_PAGE_H

#include <stddef.h>

#include "dataset.h"

/* {"KEY":[items offset..offset+count-1],"nextPageToken":"TOKEN"}; the token
 * member is left out when next_token is NULL.  malloc'ed. */
char *page_render(const char *list_key, const struct item_list *items,
                  size_t offset, size_t count, const char *next_token,
                  size_t *len);

#endif
