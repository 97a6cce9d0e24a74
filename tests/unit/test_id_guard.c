/*
** The repeat guard's memory: a page's ids are seen on the next page only,
** compared in full (a prefix or a same-length neighbour is no repeat),
** and buffers are reused from page to page.
*/
#include "check.h"
#include "listing/id_guard.h"

#include <stdio.h>

static int add(id_guard *g, const char *id)
{
  return id_guard_add(g, id, strlen(id));
}

static int seen(const id_guard *g, const char *id)
{
  return id_guard_seen(g, id, strlen(id));
}

int main(void)
{
  id_guard g;
  id_guard_init(&g);
  CHECK(!seen(&g, "a")); /* nothing before the first page */
  CHECK_EQ_INT(add(&g, "c1:000"), 0);
  CHECK_EQ_INT(add(&g, "c1:001"), 0);
  CHECK(!seen(&g, "c1:001")); /* the current page is not the previous */
  id_guard_next_page(&g);
  CHECK(seen(&g, "c1:001"));
  CHECK(seen(&g, "c1:000"));
  CHECK(!seen(&g, "c1:00"));   /* a prefix is another id */
  CHECK(!seen(&g, "c1:0011")); /* so is a longer one */
  CHECK(!seen(&g, "c1:002"));
  CHECK(!seen(&g, ""));
  CHECK_EQ_INT(add(&g, "c1:002"), 0);
  id_guard_next_page(&g); /* two pages back is forgotten */
  CHECK(!seen(&g, "c1:001"));
  CHECK(seen(&g, "c1:002"));
  /* many ids: the buffers grow, and every one is found */
  char id[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(id, sizeof id, "cluster-%d:%06d", i % 7, i);
    CHECK_EQ_INT(add(&g, id), 0);
  }
  id_guard_next_page(&g);
  int found = 0;
  for (int i = 0; i < 5000; i++) {
    snprintf(id, sizeof id, "cluster-%d:%06d", i % 7, i);
    found += seen(&g, id);
  }
  CHECK_EQ_INT(found, 5000);
  snprintf(id, sizeof id, "cluster-%d:%06d", 1, 5000);
  CHECK(!seen(&g, id));
  CHECK_EQ_INT(add(&g, ""), 0); /* an empty id is still an id */
  id_guard_next_page(&g);
  CHECK(seen(&g, ""));
  id_guard_free(&g);
  CHECK(!seen(&g, ""));
  return check_summary();
}
