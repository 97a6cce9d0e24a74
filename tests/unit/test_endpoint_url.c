/*
** endpoint_normalize and endpoint_host_is_loopback.
*/
#include "check.h"
#include "http/endpoint_url.h"

#include <stdlib.h>
#include <string.h>

#define ERR_SENTINEL "<untouched>"

#define NORM_OK(url, want)                                   \
  do {                                                       \
    char err_[256] = ERR_SENTINEL;                           \
    CHECK_CONTEXT("%s", (url));                              \
    char *o_ = endpoint_normalize((url), err_, sizeof err_); \
    if (!CHECK_EQ_STR(o_, (want)))                           \
      fprintf(stderr, "    error: %s\n", err_);              \
    free(o_);                                                \
    CHECK_CONTEXT_CLEAR();                                   \
  } while (0)

/* Rejected with a message containing `part` (and never `secret`). */
#define NORM_BAD(url, part, secret)                          \
  do {                                                       \
    char err_[256] = ERR_SENTINEL;                           \
    CHECK_CONTEXT("%s", (url) ? (url) : "(null)");           \
    char *o_ = endpoint_normalize((url), err_, sizeof err_); \
    CHECK_NULL(o_);                                          \
    free(o_);                                                \
    CHECK_NOT_CONTAINS(err_, ERR_SENTINEL);                  \
    CHECK(err_[0] != '\0');                                  \
    CHECK_CONTAINS(err_, (part));                            \
    if ((secret) != NULL)                                    \
      CHECK_NOT_CONTAINS(err_, (const char *)(secret));      \
    CHECK_CONTEXT_CLEAR();                                   \
  } while (0)

static void test_https(void)
{
  NORM_OK("https://mdb.api.cloud.yandex.net",
          "https://mdb.api.cloud.yandex.net");
  NORM_OK("https://mdb.api.cloud.yandex.net/",
          "https://mdb.api.cloud.yandex.net");
  NORM_OK("https://mdb.api.cloud.yandex.net///",
          "https://mdb.api.cloud.yandex.net");
  NORM_OK("https://example.com/base/v1", "https://example.com/base/v1");
  NORM_OK("https://example.com/base/v1/", "https://example.com/base/v1");
  NORM_OK("https://example.com/base/v1///", "https://example.com/base/v1");
  NORM_OK("https://example.com:8443", "https://example.com:8443");
  NORM_OK("https://example.com:8443/", "https://example.com:8443");
  NORM_OK("https://example.com:8443/api/", "https://example.com:8443/api");
  NORM_OK("https://example.com:443", "https://example.com:443");
  NORM_OK("https://10.1.2.3:9443/x", "https://10.1.2.3:9443/x");
  NORM_OK("https://[2001:db8::1]:8443/", "https://[2001:db8::1]:8443");
  /* The scheme is case-insensitive. */
  NORM_OK("HTTPS://example.com/", "https://example.com");
  /* An encoded path stays encoded. */
  NORM_OK("https://example.com/a%20b/", "https://example.com/a%20b");
  /* An empty fragment marker is not a fragment. */
  NORM_OK("https://example.com/#", "https://example.com");
}

static void test_http_loopback(void)
{
  NORM_OK("http://127.0.0.1", "http://127.0.0.1");
  NORM_OK("http://127.0.0.1:8080", "http://127.0.0.1:8080");
  NORM_OK("http://127.0.0.1:8080/", "http://127.0.0.1:8080");
  NORM_OK("http://127.0.0.1:8080/fake/", "http://127.0.0.1:8080/fake");
  NORM_OK("http://127.1.2.3:9000", "http://127.1.2.3:9000");
  NORM_OK("http://127.255.255.255", "http://127.255.255.255");
  NORM_OK("http://localhost", "http://localhost");
  NORM_OK("http://localhost:8080/", "http://localhost:8080");
  NORM_OK("http://[::1]", "http://[::1]");
  NORM_OK("http://[::1]:9000/api/", "http://[::1]:9000/api");
  NORM_OK("HTTP://127.0.0.1/", "http://127.0.0.1");
}

static void test_rejections(void)
{
  /* Plain http off loopback. */
  NORM_BAD("http://mdb.api.cloud.yandex.net", "http", NULL);
  NORM_BAD("http://mdb.api.cloud.yandex.net", "mdb.api.cloud.yandex.net", NULL);
  NORM_BAD("http://example.com:8080/", "only https", NULL);
  NORM_BAD("http://10.0.0.1", "only https", NULL);
  NORM_BAD("http://128.0.0.1", "only https", NULL);
  NORM_BAD("http://126.255.255.255", "only https", NULL);
  NORM_BAD("http://0.0.0.0", "only https", NULL);
  NORM_BAD("http://localhost.evil.com", "only https", NULL);
  NORM_BAD("http://127.0.0.1.nip.io", "only https", NULL);
  NORM_BAD("http://[2001:db8::1]", "only https", NULL);

  /* Other schemes. */
  NORM_BAD("ftp://example.com", "'ftp'", NULL);
  NORM_BAD("ftp://127.0.0.1", "is not https", NULL);
  NORM_BAD("ws://127.0.0.1", "https", NULL);
  NORM_BAD("file:///etc/passwd", "endpoint", NULL);

  /* No scheme: never guessed. */
  NORM_BAD("mdb.api.cloud.yandex.net", "scheme", NULL);
  NORM_BAD("mdb.api.cloud.yandex.net/", "scheme", NULL);
  NORM_BAD("127.0.0.1:8080", "scheme", NULL);
  NORM_BAD("//example.com", "scheme", NULL);
  NORM_BAD("https://", "host", NULL);
  NORM_BAD("https://exa mple.com", "endpoint", NULL);

  /* User info: rejected, and the password never echoed. */
  NORM_BAD("https://user:hunter2@example.com", "user info", "hunter2");
  NORM_BAD("https://user@example.com", "user info", NULL);
  NORM_BAD("https://:hunter2@example.com", "user info", "hunter2");
  NORM_BAD("http://user:hunter2@127.0.0.1:8080", "user info", "hunter2");
  NORM_BAD("http://user:hunter2@10.0.0.1", "user info", "hunter2");

  /* Query and fragment. */
  NORM_BAD("https://example.com/?a=b", "query", NULL);
  NORM_BAD("https://example.com/api?token=x", "query", NULL);
  NORM_BAD("https://example.com/#frag", "fragment", NULL);
  NORM_BAD("http://127.0.0.1:8080/?x", "query", NULL);

  /* Empty. */
  NORM_BAD("", "empty", NULL);
  NORM_BAD((const char *)NULL, "empty", NULL);
}

/* A short error buffer is filled, truncated and terminated. */
static void test_small_err_buffer(void)
{
  char err[9];
  memset(err, 'x', sizeof err);
  CHECK_NULL(endpoint_normalize("ftp://example.com", err, sizeof err));
  CHECK_EQ_INT(strlen(err), 8);
  CHECK_EQ_STR(err, "endpoint");

  char one[1] = {'x'};
  CHECK_NULL(endpoint_normalize("", one, sizeof one));
  CHECK_EQ_INT(one[0], '\0');
}

static void test_loopback(void)
{
  CHECK_EQ_INT(endpoint_host_is_loopback("127.0.0.1"), 1);
  CHECK_EQ_INT(endpoint_host_is_loopback("127.0.0.2"), 1);
  CHECK_EQ_INT(endpoint_host_is_loopback("127.255.255.255"), 1);
  CHECK_EQ_INT(endpoint_host_is_loopback("127.1.2.3"), 1);
  CHECK_EQ_INT(endpoint_host_is_loopback("localhost"), 1);
  CHECK_EQ_INT(endpoint_host_is_loopback("LocalHost"), 1);
  CHECK_EQ_INT(endpoint_host_is_loopback("[::1]"), 1);

  CHECK_EQ_INT(endpoint_host_is_loopback(NULL), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback(""), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("126.255.255.255"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("128.0.0.1"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("0.0.0.0"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("10.0.0.1"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("1.2.3.127"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("127.0.0.1.evil.com"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("localhost.evil.com"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("evil-localhost"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("[::2]"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("[2001:db8::1]"), 0);
  CHECK_EQ_INT(endpoint_host_is_loopback("mdb.api.cloud.yandex.net"), 0);
}

int main(void)
{
  test_https();
  test_http_loopback();
  test_rejections();
  test_small_err_buffer();
  test_loopback();
  return check_summary();
}
