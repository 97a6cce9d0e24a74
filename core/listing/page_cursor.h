/*
** The pagination state of one listing, without any I/O: which token to
** ask for next, how many items to ask for (a `limit` makes the last
** request ask only for what is still needed), when the listing is over,
** and the cycle guard (a token seen before in the same listing, after any
** number of pages, is an error rather than an endless or repeating loop,
** and so is a long run of pages, each with a new token, that bring nothing
** new: empty, or beginning with an item that began an earlier page).
*/
#ifndef PAGE_CURSOR_H
#define PAGE_CURSOR_H

#include <stddef.h>

typedef struct page_cursor page_cursor;

/*
** `start_token` may be NULL or "" (first page).  `page_size` is 0..1000
** (0 = the server's default), `limit` negative for none.  NULL when out of memory.
*/
page_cursor *page_cursor_new(const char *start_token, long page_size,
                             long limit);
void page_cursor_free(page_cursor *c);

/* 1 once no further request is needed (last page seen or limit met). */
int page_cursor_done(const page_cursor *c);

/* Token for the next request ("" = first page). */
const char *page_cursor_next_token(const page_cursor *c);

/* Token the most recent page was requested with ("" = first page). */
const char *page_cursor_current_token(const page_cursor *c);

/* pageSize for the next request. */
long page_cursor_request_size(const page_cursor *c);

/*
** pageSize for the request after the one in flight, assuming that one
** returns `assumed` items; -1 when the limit would then be met.
*/
long page_cursor_request_size_after(const page_cursor *c, long assumed);

/* Items still wanted under the limit (LONG_MAX with no limit). */
long page_cursor_remaining(const page_cursor *c);

/*
** Pages in a row that bring nothing new, each with a next token, that end
** a listing.  A page brings nothing new when it has no items, or when its
** first item is the first item of an earlier page of the listing.  An API
** may send an empty page with a token now and then (rows that a filter or
** the caller's permissions dropped from a page), and a listing that
** shifts while it is paged (backups created meanwhile) may begin a page
** with an item seen before; a hundred in a row is a server handing out
** fresh tokens without getting anywhere (empty pages, or the same items
** again), which no token comparison catches and which would never end.
** A hundred such requests take seconds, not minutes, and keep a hundred
** tokens in the cycle guard's set.
*/
#define PAGE_CURSOR_MAX_STALE_RUN 100

enum {
  PAGE_CURSOR_OK = 0,
  PAGE_CURSOR_CYCLE = -1, /* the token repeats one of this listing */
  PAGE_CURSOR_NO_MEMORY = -2,
  PAGE_CURSOR_STALE_RUN = -3 /* PAGE_CURSOR_MAX_STALE_RUN pages in a row
                             ** that brought nothing new, each with a new
                             ** token */
};

/*
** Record a fetched page: `items` it held, the raw text of its first item
** (`first`, `first_len` bytes; NULL when it has none or its text could not
** be read: then only an empty page counts toward a stale run) and its
** nextPageToken (`next`, `len` bytes, may be NULL/0 for the last page).
** Returns PAGE_CURSOR_OK, PAGE_CURSOR_CYCLE or PAGE_CURSOR_STALE_RUN (the
** listing is then done) or PAGE_CURSOR_NO_MEMORY.
*/
int page_cursor_advance(page_cursor *c, size_t items, const char *first,
                        size_t first_len, const char *next, size_t len);

#endif /* PAGE_CURSOR_H */
