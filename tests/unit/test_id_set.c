/*
** A listing's ids: an id is added once and found again however far back
** it came; ids are compared in full (a prefix, a longer id and an id with
** the same hash are other ids); the table grows and every id stays found.
*/
#include "check.h"
#include "listing/id_set.h"

#include <stdio.h>

static int add(id_set *s, const char *id)
{
  return id_set_add(s, id, strlen(id));
}

int main(void)
{
  id_set s;
  id_set_init(&s);
  CHECK_EQ_INT(add(&s, "c1:000"), 1);
  CHECK_EQ_INT(add(&s, "c1:001"), 1);
  CHECK_EQ_INT(add(&s, "c1:000"), 0);  /* again: already there */
  CHECK_EQ_INT(add(&s, "c1:00"), 1);   /* a prefix is another id */
  CHECK_EQ_INT(add(&s, "c1:0001"), 1); /* so is a longer one */
  CHECK_EQ_INT(add(&s, ""), 1);        /* an empty id is still an id */
  CHECK_EQ_INT(add(&s, ""), 0);
  CHECK_EQ_INT(id_set_add(&s, "a\0b", 3), 1); /* bytes, not C strings */
  CHECK_EQ_INT(id_set_add(&s, "a\0c", 3), 1);
  CHECK_EQ_INT(id_set_add(&s, "a\0b", 3), 0);
  CHECK_EQ_INT(add(&s, "a"), 1);
  CHECK_EQ_INT((long long)s.ids.n, 8);

  /* two ids with the same hash (found by search): both are kept */
  const char *x = "c1:b1680113", *y = "c1:b1936688";
  CHECK_EQ_INT(id_set_hash(x, strlen(x)), id_set_hash(y, strlen(y)));
  CHECK_EQ_INT(add(&s, x), 1);
  CHECK_EQ_INT(add(&s, y), 1);
  CHECK_EQ_INT(add(&s, x), 0);
  CHECK_EQ_INT(add(&s, y), 0);

  /* many ids: the table grows (at most half full), every one is found
  ** once, and the earliest ones as well as the latest */
  char id[32];
  int added = 0, again = 0;
  for (int i = 0; i < 20000; i++) {
    snprintf(id, sizeof id, "cluster-%d:%06d", i % 7, i);
    added += add(&s, id);
  }
  CHECK_EQ_INT(added, 20000);
  CHECK(2 * s.ids.n <= s.nslots);
  for (int i = 19999; i >= 0; i--) {
    snprintf(id, sizeof id, "cluster-%d:%06d", i % 7, i);
    again += add(&s, id) == 0;
  }
  CHECK_EQ_INT(again, 20000);
  CHECK_EQ_INT(add(&s, "c1:000"), 0);
  CHECK_EQ_INT(add(&s, "cluster-0:020000"), 1);

  /* freed: empty again, and usable again */
  id_set_free(&s);
  CHECK_EQ_INT((long long)s.ids.n, 0);
  CHECK_EQ_INT(add(&s, "c1:000"), 1);
  CHECK_EQ_INT(add(&s, "c1:000"), 0);
  id_set_free(&s);
  id_set_free(&s); /* twice is harmless */
  return check_summary();
}
