#include "listing/page_cursor.h"

#include "listing/id_set.h"
#include "mdb_defaults.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct page_cursor {
  long page_size;
  long limit;     /* negative = none */
  long received;  /* items counted toward the limit */
  long stale_run; /* pages in a row that brought nothing new */
  int done;
  char *current; /* token the latest page was fetched with */
  char *next;    /* token for the next request */
  id_set tokens; /* every token sent */
  id_set firsts; /* the hash of each page's first item, 8 bytes each */
};

static char *dup_n(const char *s, size_t len)
{
  char *p = malloc(len + 1);
  if (p) {
    memcpy(p, s, len);
    p[len] = '\0';
  }
  return p;
}

/* 1 when `tok` was sent before, 0 when added now, or
** PAGE_CURSOR_NO_MEMORY. */
static int token_seen(page_cursor *c, const char *tok, size_t len)
{
  int r = id_set_add(&c->tokens, tok, len);
  return r < 0 ? PAGE_CURSOR_NO_MEMORY : !r;
}

/* 1 when `first` began an earlier page, 0 when added now, or
** PAGE_CURSOR_NO_MEMORY.  Its hash, not its text: a collision only counts
** one page toward a run of a hundred, and the set stays at a few bytes a
** page however large the items. */
static int first_seen(page_cursor *c, const char *first, size_t len)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)first[i]) * 1099511628211ULL;
  int r = id_set_add(&c->firsts, (const char *)&h, sizeof h);
  return r < 0 ? PAGE_CURSOR_NO_MEMORY : !r;
}

page_cursor *page_cursor_new(const char *start_token, long page_size,
                             long limit)
{
  page_cursor *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  id_set_init(&c->tokens);
  id_set_init(&c->firsts);
  c->page_size = page_size;
  c->limit = limit;
  const char *st = start_token ? start_token : "";
  c->current = dup_n("", 0);
  c->next = dup_n(st, strlen(st));
  if (c->current == NULL || c->next == NULL) {
    page_cursor_free(c);
    return NULL;
  }
  if (*st && token_seen(c, st, strlen(st)) != 0) {
    page_cursor_free(c);
    return NULL;
  }
  return c;
}

void page_cursor_free(page_cursor *c)
{
  if (c == NULL)
    return;
  id_set_free(&c->tokens);
  id_set_free(&c->firsts);
  free(c->current);
  free(c->next);
  free(c);
}

int page_cursor_done(const page_cursor *c)
{
  return c->done || (c->limit >= 0 && c->received >= c->limit);
}

const char *page_cursor_next_token(const page_cursor *c)
{
  return c->next;
}

const char *page_cursor_current_token(const page_cursor *c)
{
  return c->current;
}

long page_cursor_remaining(const page_cursor *c)
{
  if (c->limit < 0)
    return LONG_MAX;
  return c->received >= c->limit ? 0 : c->limit - c->received;
}

long page_cursor_request_size(const page_cursor *c)
{
  long want = c->page_size;
  long rem = page_cursor_remaining(c);
  long effective = want > 0 ? want : MDB_SERVER_PAGE_SIZE;
  if (rem < effective)
    want = rem;
  return want;
}

long page_cursor_request_size_after(const page_cursor *c, long assumed)
{
  if (c->limit < 0)
    return c->page_size;
  long rem = c->limit - c->received - assumed;
  if (rem <= 0)
    return -1;
  long effective = c->page_size > 0 ? c->page_size : MDB_SERVER_PAGE_SIZE;
  return rem < effective ? rem : c->page_size;
}

int page_cursor_advance(page_cursor *c, size_t items, const char *first,
                        size_t first_len, const char *next, size_t len)
{
  long add = items > (size_t)LONG_MAX ? LONG_MAX : (long)items;
  c->received = add > LONG_MAX - c->received ? LONG_MAX : c->received + add;
  char *tok = dup_n(next ? next : "", next ? len : 0);
  if (tok == NULL)
    return PAGE_CURSOR_NO_MEMORY;
  free(c->current);
  c->current = c->next;
  c->next = tok;
  if (len == 0) {
    c->done = 1;
    return PAGE_CURSOR_OK;
  }
  int stale = items == 0;
  if (!stale && first != NULL) {
    int r = first_seen(c, first, first_len);
    if (r < 0)
      return r;
    stale = r;
  }
  c->stale_run = stale ? c->stale_run + 1 : 0;
  if (c->stale_run >= PAGE_CURSOR_MAX_STALE_RUN) {
    c->done = 1;
    return PAGE_CURSOR_STALE_RUN;
  }
  int r = token_seen(c, tok, len);
  if (r != 0) {
    c->done = 1;
    return r == 1 ? PAGE_CURSOR_CYCLE : PAGE_CURSOR_NO_MEMORY;
  }
  return PAGE_CURSOR_OK;
}
