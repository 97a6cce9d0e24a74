/*
** A tiny assertion helper for the unit tests (no framework).
**
**   CHECK(cond)              cond is true
**   CHECK_EQ_INT(a, b)       a == b as integers (printed as long long)
**   CHECK_EQ_STR(a, b)       strings equal (NULL equals only NULL)
**   CHECK_NULL(p), CHECK_NOT_NULL(p)
**   CHECK_CONTAINS(s, sub), CHECK_NOT_CONTAINS(s, sub)
**
** Every macro counts a pass or a failure, prints file:line and the values
** on failure, and evaluates to 1 on pass and 0 on failure, so a test can
** stop before dereferencing a NULL it just failed to get:
**
**   if (!CHECK_NOT_NULL(p)) return;
**
** CHECK_CONTEXT(fmt, ...) names what is being checked (an input string,
** a loop index); failures print it until CHECK_CONTEXT_CLEAR().
** check_summary() prints "N passed, N failed" and returns the exit status:
** failure when any check failed, and also when none ran at all (a test
** whose checks were all skipped or compiled out proves nothing).
*/
#ifndef CHECK_H
#define CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_passed_;
static int check_failed_;
static char check_context_[512];

static inline void check_context_set_(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(check_context_, sizeof check_context_, fmt, ap);
  va_end(ap);
}

#define CHECK_CONTEXT(...)    check_context_set_(__VA_ARGS__)
#define CHECK_CONTEXT_CLEAR() (check_context_[0] = '\0')

/* Prints `s` quoted, with non-printable bytes as \xNN; NULL as (null). */
static inline void check_print_str_(const char *s)
{
  if (s == NULL) {
    fputs("(null)", stderr);
    return;
  }
  fputc('"', stderr);
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
    if (n >= 200) {
      fputs("...", stderr);
      break;
    }
    if (*p == '"' || *p == '\\')
      fprintf(stderr, "\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f)
      fprintf(stderr, "\\x%02X", *p);
    else
      fputc(*p, stderr);
  }
  fputc('"', stderr);
}

static inline int check_fail_head_(const char *file, int line)
{
  check_failed_++;
  fprintf(stderr, "%s:%d: FAIL", file, line);
  if (check_context_[0])
    fprintf(stderr, " [%s]", check_context_);
  fputs(": ", stderr);
  return 0;
}

static inline int check_bool_(int ok, const char *expr, const char *file,
                              int line)
{
  if (ok) {
    check_passed_++;
    return 1;
  }
  check_fail_head_(file, line);
  fprintf(stderr, "CHECK(%s)\n", expr);
  return 0;
}

static inline int check_int_(long long a, long long b, const char *ea,
                             const char *eb, const char *file, int line)
{
  if (a == b) {
    check_passed_++;
    return 1;
  }
  check_fail_head_(file, line);
  fprintf(stderr, "%s == %s: got %lld, expected %lld\n", ea, eb, a, b);
  return 0;
}

static inline int check_str_(const char *a, const char *b, const char *ea,
                             const char *eb, const char *file, int line)
{
  if ((a == NULL && b == NULL) ||
      (a != NULL && b != NULL && strcmp(a, b) == 0)) {
    check_passed_++;
    return 1;
  }
  check_fail_head_(file, line);
  fprintf(stderr, "%s == %s:\n    got      ", ea, eb);
  check_print_str_(a);
  fputs("\n    expected ", stderr);
  check_print_str_(b);
  fputc('\n', stderr);
  return 0;
}

static inline int check_null_(const void *p, int want_null, const char *expr,
                              const char *file, int line)
{
  if ((p == NULL) == (want_null != 0)) {
    check_passed_++;
    return 1;
  }
  check_fail_head_(file, line);
  fprintf(stderr, "%s is %s\n", expr, want_null ? "not NULL" : "NULL");
  return 0;
}

static inline int check_contains_(const char *s, const char *sub, int want,
                                  const char *es, const char *file, int line)
{
  int has = s != NULL && sub != NULL && strstr(s, sub) != NULL;
  if (has == want) {
    check_passed_++;
    return 1;
  }
  check_fail_head_(file, line);
  fprintf(stderr, "%s %s ", es, want ? "does not contain" : "contains");
  check_print_str_(sub);
  fputs(":\n    ", stderr);
  check_print_str_(s);
  fputc('\n', stderr);
  return 0;
}

#define CHECK(cond) check_bool_((cond) ? 1 : 0, #cond, __FILE__, __LINE__)
#define CHECK_EQ_INT(a, b) \
  check_int_((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_EQ_STR(a, b) check_str_((a), (b), #a, #b, __FILE__, __LINE__)
#define CHECK_NULL(p)      check_null_((p), 1, #p, __FILE__, __LINE__)
#define CHECK_NOT_NULL(p)  check_null_((p), 0, #p, __FILE__, __LINE__)
#define CHECK_CONTAINS(s, sub) \
  check_contains_((s), (sub), 1, #s, __FILE__, __LINE__)
#define CHECK_NOT_CONTAINS(s, sub) \
  check_contains_((s), (sub), 0, #s, __FILE__, __LINE__)

/* Prints the closing line and returns the process exit status. */
static inline int check_summary(void)
{
  if (check_passed_ + check_failed_ == 0)
    fputs("FAIL: no check ran\n", stderr);
  fflush(stderr);
  printf("%d passed, %d failed\n", check_passed_, check_failed_);
  fflush(stdout);
  return check_failed_ == 0 && check_passed_ > 0 ? 0 : 1;
}

#endif /* CHECK_H */
