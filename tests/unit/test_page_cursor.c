/*
** page_cursor: tokens, limits, request sizes and the cycle guard.
*/
#include "check.h"
#include "listing/page_cursor.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static page_cursor *new_or_die(const char *start, long page_size, long limit)
{
  page_cursor *c = page_cursor_new(start, page_size, limit);
  if (c == NULL) {
    fprintf(stderr, "page_cursor_new: out of memory\n");
    exit(2);
  }
  return c;
}

/* Advances with a NUL-terminated token (NULL for the last page) and no
** first item's text. */
static int adv(page_cursor *c, size_t items, const char *next)
{
  return page_cursor_advance(c, items, NULL, 0, next, next ? strlen(next) : 0);
}

/* Advances with the first item's text `first` too. */
static int adv_first(page_cursor *c, size_t items, const char *first,
                     const char *next)
{
  return page_cursor_advance(c, items, first, strlen(first), next,
                             next ? strlen(next) : 0);
}

static void test_first_page(void)
{
  page_cursor *c = new_or_die(NULL, 100, -1);
  CHECK_EQ_STR(page_cursor_next_token(c), "");
  CHECK_EQ_STR(page_cursor_current_token(c), "");
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(page_cursor_request_size(c), 100);
  CHECK_EQ_INT(page_cursor_remaining(c), LONG_MAX);
  page_cursor_free(c);

  c = new_or_die("", 100, -1);
  CHECK_EQ_STR(page_cursor_next_token(c), "");
  CHECK_EQ_STR(page_cursor_current_token(c), "");
  CHECK_EQ_INT(page_cursor_done(c), 0);
  page_cursor_free(c);

  page_cursor_free(NULL);
}

static void test_walk(void)
{
  page_cursor *c = new_or_die(NULL, 2, -1);
  CHECK_EQ_INT(adv(c, 2, "t1"), 0);
  CHECK_EQ_STR(page_cursor_current_token(c), "");
  CHECK_EQ_STR(page_cursor_next_token(c), "t1");
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(page_cursor_request_size(c), 2);

  CHECK_EQ_INT(adv(c, 2, "t2"), 0);
  CHECK_EQ_STR(page_cursor_current_token(c), "t1");
  CHECK_EQ_STR(page_cursor_next_token(c), "t2");
  CHECK_EQ_INT(page_cursor_done(c), 0);

  /* A page may be empty and still have a next token. */
  CHECK_EQ_INT(adv(c, 0, "t3"), 0);
  CHECK_EQ_STR(page_cursor_current_token(c), "t2");
  CHECK_EQ_STR(page_cursor_next_token(c), "t3");
  CHECK_EQ_INT(page_cursor_done(c), 0);

  CHECK_EQ_INT(adv(c, 1, NULL), 0);
  CHECK_EQ_STR(page_cursor_current_token(c), "t3");
  CHECK_EQ_STR(page_cursor_next_token(c), "");
  CHECK_EQ_INT(page_cursor_done(c), 1);
  CHECK_EQ_INT(page_cursor_remaining(c), LONG_MAX);
  page_cursor_free(c);

  /* An empty (not absent) next token also ends the listing. */
  c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(page_cursor_advance(c, 3, NULL, 0, "", 0), 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  CHECK_EQ_STR(page_cursor_next_token(c), "");
  page_cursor_free(c);

  /* len 0 wins over the bytes at `next`. */
  c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(page_cursor_advance(c, 3, NULL, 0, "ignored", 0), 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  CHECK_EQ_STR(page_cursor_next_token(c), "");
  page_cursor_free(c);
}

static void test_token_len(void)
{
  /* Only `len` bytes of `next` are the token (it points into JSON). */
  const char json[] = "abcdef\",\"other\":1}";
  page_cursor *c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(page_cursor_advance(c, 1, NULL, 0, json, 6), 0);
  CHECK_EQ_STR(page_cursor_next_token(c), "abcdef");
  CHECK_EQ_INT(page_cursor_advance(c, 1, NULL, 0, json, 3), 0);
  CHECK_EQ_STR(page_cursor_current_token(c), "abcdef");
  CHECK_EQ_STR(page_cursor_next_token(c), "abc");
  /* "abc" again, from other bytes: a cycle. */
  CHECK_EQ_INT(page_cursor_advance(c, 1, NULL, 0, "abcxyz", 3),
               PAGE_CURSOR_CYCLE);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* Exactly-sized heap token without a NUL: no over-read. */
  char *raw = malloc(5);
  if (CHECK_NOT_NULL(raw)) {
    memcpy(raw, "12345", 5);
    c = new_or_die(NULL, 10, -1);
    CHECK_EQ_INT(page_cursor_advance(c, 1, NULL, 0, raw, 5), 0);
    CHECK_EQ_STR(page_cursor_next_token(c), "12345");
    page_cursor_free(c);
    free(raw);
  }
}

static void test_start_token(void)
{
  page_cursor *c = new_or_die("resume-here", 100, -1);
  CHECK_EQ_STR(page_cursor_next_token(c), "resume-here");
  CHECK_EQ_STR(page_cursor_current_token(c), "");
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(adv(c, 100, "p2"), 0);
  CHECK_EQ_STR(page_cursor_current_token(c), "resume-here");
  CHECK_EQ_STR(page_cursor_next_token(c), "p2");
  /* The start token counts as seen. */
  CHECK_EQ_INT(adv(c, 100, "resume-here"), PAGE_CURSOR_CYCLE);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* ... even when the very first page points back at it. */
  c = new_or_die("s", 100, -1);
  CHECK_EQ_INT(adv(c, 1, "s"), PAGE_CURSOR_CYCLE);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* The start token is copied. */
  char start[] = "mutable";
  c = new_or_die(start, 100, -1);
  start[0] = 'X';
  CHECK_EQ_STR(page_cursor_next_token(c), "mutable");
  CHECK_EQ_INT(adv(c, 1, "mutable"), PAGE_CURSOR_CYCLE);
  page_cursor_free(c);
}

static void test_limits(void)
{
  /* page 100, limit 250: 100, 100, then only the 50 still needed. */
  page_cursor *c = new_or_die(NULL, 100, 250);
  CHECK_EQ_INT(page_cursor_remaining(c), 250);
  CHECK_EQ_INT(page_cursor_request_size(c), 100);
  CHECK_EQ_INT(adv(c, 100, "a"), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), 150);
  CHECK_EQ_INT(page_cursor_request_size(c), 100);
  CHECK_EQ_INT(adv(c, 100, "b"), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), 50);
  CHECK_EQ_INT(page_cursor_request_size(c), 50);
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(adv(c, 50, "c"), 0);
  /* Limit met: done although the server has more. */
  CHECK_EQ_INT(page_cursor_done(c), 1);
  CHECK_EQ_INT(page_cursor_remaining(c), 0);
  CHECK_EQ_STR(page_cursor_next_token(c), "c");
  page_cursor_free(c);

  /* Limit smaller than the first page. */
  c = new_or_die(NULL, 1000, 7);
  CHECK_EQ_INT(page_cursor_request_size(c), 7);
  /* A server that sends more than asked: remaining never goes negative. */
  CHECK_EQ_INT(adv(c, 9, "more"), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* Fewer items than asked for (the server's own cap): asks again. */
  c = new_or_die(NULL, 1000, 2500);
  CHECK_EQ_INT(page_cursor_request_size(c), 1000);
  CHECK_EQ_INT(adv(c, 100, "a"), 0);
  CHECK_EQ_INT(page_cursor_request_size(c), 1000);
  CHECK_EQ_INT(page_cursor_remaining(c), 2400);
  CHECK_EQ_INT(adv(c, 1000, "b"), 0);
  CHECK_EQ_INT(adv(c, 1000, "c"), 0);
  CHECK_EQ_INT(page_cursor_request_size(c), 400);
  CHECK_EQ_INT(page_cursor_done(c), 0);
  /* The last page of the listing before the limit. */
  CHECK_EQ_INT(adv(c, 10, NULL), 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  CHECK_EQ_INT(page_cursor_remaining(c), 390);
  page_cursor_free(c);

  /* Limit 0: done before any request. */
  c = new_or_die(NULL, 100, 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  CHECK_EQ_INT(page_cursor_remaining(c), 0);
  page_cursor_free(c);
  c = new_or_die("tok", 0, 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* Negative limit: none. */
  c = new_or_die(NULL, 10, -1);
  for (int i = 0; i < 50; i++) {
    char t[16];
    snprintf(t, sizeof t, "n%d", i);
    CHECK_EQ_INT(adv(c, 10, t), 0);
  }
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), LONG_MAX);
  CHECK_EQ_INT(page_cursor_request_size(c), 10);
  page_cursor_free(c);
  c = new_or_die(NULL, 10, LONG_MIN);
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), LONG_MAX);
  page_cursor_free(c);
}

/* page_size 0 = the server's default, which is 100. */
static void test_server_default_page(void)
{
  page_cursor *c = new_or_die(NULL, 0, -1);
  CHECK_EQ_INT(page_cursor_request_size(c), 0);
  CHECK_EQ_INT(adv(c, 100, "a"), 0);
  CHECK_EQ_INT(page_cursor_request_size(c), 0);
  page_cursor_free(c);

  /* Limit over 100: the default is enough until fewer are needed. */
  c = new_or_die(NULL, 0, 250);
  CHECK_EQ_INT(page_cursor_request_size(c), 0);
  CHECK_EQ_INT(adv(c, 100, "a"), 0);
  CHECK_EQ_INT(page_cursor_request_size(c), 0);
  CHECK_EQ_INT(adv(c, 100, "b"), 0);
  CHECK_EQ_INT(page_cursor_request_size(c), 50);
  CHECK_EQ_INT(adv(c, 50, "c"), 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* Exactly 100: the default page fits exactly. */
  c = new_or_die(NULL, 0, 100);
  CHECK_EQ_INT(page_cursor_request_size(c), 0);
  page_cursor_free(c);
  c = new_or_die(NULL, 0, 99);
  CHECK_EQ_INT(page_cursor_request_size(c), 99);
  page_cursor_free(c);
  c = new_or_die(NULL, 0, 1);
  CHECK_EQ_INT(page_cursor_request_size(c), 1);
  page_cursor_free(c);
  c = new_or_die(NULL, 0, 101);
  CHECK_EQ_INT(page_cursor_request_size(c), 0);
  CHECK_EQ_INT(adv(c, 100, "x"), 0);
  CHECK_EQ_INT(page_cursor_request_size(c), 1);
  page_cursor_free(c);
}

static void test_huge_counts(void)
{
  page_cursor *c = new_or_die(NULL, 1000, 10);
  CHECK_EQ_INT(adv(c, SIZE_MAX, "a"), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  /* Counting past LONG_MAX again must saturate, not overflow. */
  CHECK_EQ_INT(adv(c, SIZE_MAX, "b"), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), 0);
  page_cursor_free(c);

  c = new_or_die(NULL, 1000, LONG_MAX);
  CHECK_EQ_INT(adv(c, (size_t)LONG_MAX - 1, "a"), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), 1);
  CHECK_EQ_INT(page_cursor_request_size(c), 1);
  CHECK_EQ_INT(adv(c, 5, "b"), 0);
  CHECK_EQ_INT(page_cursor_remaining(c), 0);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);
}

static void test_cycles(void)
{
  /* Length 1: a page that points at itself. */
  page_cursor *c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(adv(c, 10, "a"), 0);
  CHECK_EQ_INT(adv(c, 10, "a"), PAGE_CURSOR_CYCLE);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* Length 2: a -> b -> a. */
  c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(adv(c, 10, "a"), 0);
  CHECK_EQ_INT(adv(c, 10, "b"), 0);
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(adv(c, 10, "a"), PAGE_CURSOR_CYCLE);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* Long: 500 distinct tokens, then the 3rd again. */
  c = new_or_die(NULL, 10, -1);
  char t[32];
  int failures = 0;
  for (int i = 0; i < 500; i++) {
    snprintf(t, sizeof t, "token-%03d", i);
    if (adv(c, 10, t) != 0)
      failures++;
  }
  CHECK_EQ_INT(failures, 0);
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_STR(page_cursor_current_token(c), "token-498");
  CHECK_EQ_STR(page_cursor_next_token(c), "token-499");
  CHECK_EQ_INT(adv(c, 10, "token-002"), PAGE_CURSOR_CYCLE);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* Tokens differing only in a late byte or in length are distinct. */
  c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(adv(c, 1, "abc"), 0);
  CHECK_EQ_INT(adv(c, 1, "abd"), 0);
  CHECK_EQ_INT(adv(c, 1, "ab"), 0);
  CHECK_EQ_INT(adv(c, 1, "abcd"), 0);
  CHECK_EQ_INT(adv(c, 1, "ABC"), 0);
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(adv(c, 1, "abd"), PAGE_CURSOR_CYCLE);
  page_cursor_free(c);
}

/* 100000 distinct tokens: no false cycle; then a real one is still seen. */
static void test_many_tokens(void)
{
  page_cursor *c = new_or_die("start", 1000, -1);
  char t[32], cur[32];
  int failures = 0, mismatched = 0;
  snprintf(cur, sizeof cur, "start");
  for (int i = 0; i < 100000; i++) {
    snprintf(t, sizeof t, "%08x.%d", (unsigned)i * 2654435761u, i);
    int r = adv(c, 1000, t);
    if (r != 0) {
      if (failures++ < 3)
        fprintf(stderr, "token %d (%s): advance returned %d\n", i, t, r);
    }
    if (strcmp(page_cursor_next_token(c), t) != 0 ||
        strcmp(page_cursor_current_token(c), cur) != 0)
      mismatched++;
    memcpy(cur, t, sizeof cur);
  }
  CHECK_EQ_INT(failures, 0);
  CHECK_EQ_INT(mismatched, 0);
  CHECK_EQ_INT(page_cursor_done(c), 0);
  snprintf(t, sizeof t, "%08x.%d", 50000u * 2654435761u, 50000);
  CHECK_EQ_INT(adv(c, 1, t), PAGE_CURSOR_CYCLE);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* The start token is still remembered after many pages. */
  c = new_or_die("start", 1000, -1);
  for (int i = 0; i < 5000; i++) {
    snprintf(t, sizeof t, "p%d", i);
    adv(c, 1, t);
  }
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(adv(c, 1, "start"), PAGE_CURSOR_CYCLE);
  page_cursor_free(c);
}

/*
** Empty pages with fresh tokens: each is followed, up to a run of
** PAGE_CURSOR_MAX_STALE_RUN, which ends the listing; a page with items
** starts the count again.
*/
static void test_empty_run(void)
{
  char t[32];
  page_cursor *c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(adv(c, 10, "first"), 0);
  for (int i = 1; i < PAGE_CURSOR_MAX_STALE_RUN; i++) {
    snprintf(t, sizeof t, "e%d", i);
    CHECK_EQ_INT(adv(c, 0, t), 0);
  }
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(adv(c, 1, "items"), 0); /* the run is over */
  for (int i = 1; i < PAGE_CURSOR_MAX_STALE_RUN; i++) {
    snprintf(t, sizeof t, "f%d", i);
    CHECK_EQ_INT(adv(c, 0, t), 0);
  }
  CHECK_EQ_INT(adv(c, 0, "one-too-many"), PAGE_CURSOR_STALE_RUN);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* An empty last page (no token) is the end, not part of a run. */
  c = new_or_die(NULL, 10, -1);
  for (int i = 1; i < PAGE_CURSOR_MAX_STALE_RUN; i++) {
    snprintf(t, sizeof t, "e%d", i);
    CHECK_EQ_INT(adv(c, 0, t), 0);
  }
  CHECK_EQ_INT(adv(c, 0, NULL), PAGE_CURSOR_OK);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);
}

/*
** Pages whose first item began an earlier page, each with a fresh token:
** the same items again (or two pages in turn) count as a run like empty
** pages do; a page beginning with a new item ends the run, and only the
** first item's bytes count.
*/
static void test_stale_run(void)
{
  char t[32];
  page_cursor *c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(adv_first(c, 10, "{\"id\":\"a\"}", "t0"), 0);
  for (int i = 1; i < PAGE_CURSOR_MAX_STALE_RUN; i++) {
    snprintf(t, sizeof t, "a%d", i);
    CHECK_EQ_INT(adv_first(c, 10, "{\"id\":\"a\"}", t), 0);
  }
  CHECK_EQ_INT(page_cursor_done(c), 0);
  CHECK_EQ_INT(adv_first(c, 10, "{\"id\":\"a\"}", "too-many"),
               PAGE_CURSOR_STALE_RUN);
  CHECK_EQ_INT(page_cursor_done(c), 1);
  page_cursor_free(c);

  /* two pages in turn: the second time round each is stale */
  c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(adv_first(c, 10, "{\"id\":\"x\"}", "x0"), 0);
  CHECK_EQ_INT(adv_first(c, 10, "{\"id\":\"y\"}", "y0"), 0);
  int r = 0, pages = 2;
  while (r == 0 && pages < 1000) {
    snprintf(t, sizeof t, "p%d", pages);
    r = adv_first(c, 10, pages % 2 ? "{\"id\":\"y\"}" : "{\"id\":\"x\"}", t);
    pages++;
  }
  CHECK_EQ_INT(r, PAGE_CURSOR_STALE_RUN);
  CHECK_EQ_INT(pages, 2 + PAGE_CURSOR_MAX_STALE_RUN);
  page_cursor_free(c);

  /* a shifted listing that begins a page with an old item now and then,
  ** and a mix of empty and stale pages: a new first item ends the run */
  c = new_or_die(NULL, 10, -1);
  CHECK_EQ_INT(adv_first(c, 10, "{\"id\":\"b0\"}", "s0"), 0);
  for (int i = 1; i < 3 * PAGE_CURSOR_MAX_STALE_RUN; i++) {
    snprintf(t, sizeof t, "s%d", i);
    if (i % PAGE_CURSOR_MAX_STALE_RUN == 0) {
      char first[32];
      snprintf(first, sizeof first, "{\"id\":\"b%d\"}", i);
      CHECK_EQ_INT(adv_first(c, 10, first, t), 0);
    } else if (i % 2) {
      CHECK_EQ_INT(adv(c, 0, t), 0);
    } else {
      CHECK_EQ_INT(adv_first(c, 10, "{\"id\":\"b0\"}", t), 0);
    }
  }
  CHECK_EQ_INT(page_cursor_done(c), 0);
  page_cursor_free(c);

  /* with no first item's text, a page with items is progress */
  c = new_or_die(NULL, 10, -1);
  for (int i = 0; i < 2 * PAGE_CURSOR_MAX_STALE_RUN; i++) {
    snprintf(t, sizeof t, "n%d", i);
    CHECK_EQ_INT(adv(c, 10, t), 0);
  }
  page_cursor_free(c);
}

int main(void)
{
  test_first_page();
  test_walk();
  test_token_len();
  test_start_token();
  test_limits();
  test_server_default_page();
  test_huge_counts();
  test_cycles();
  test_many_tokens();
  test_empty_run();
  test_stale_run();
  return check_summary();
}
