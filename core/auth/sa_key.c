#include "auth/sa_key.h"

#include "text/secret_text.h"
#include "text/json_member.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Never prompt for a passphrase: a key file for automation has none. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)u;
  return 0;
}

/* The whole file into a malloc'd buffer (wiped by the caller). */
static char *read_key_file(const char *path, const char *origin, size_t *len,
                           char *warn, size_t warnlen, char *err, size_t errlen)
{
  /* O_NONBLOCK: opening a named pipe would wait for a writer for ever,
  ** before fstat could tell it is not a key file (regular files ignore
  ** the flag). */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot open key file '%s': %s", origin, path,
             strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: '%s' is not a regular file", origin, path);
    close(fd);
    return NULL;
  }
  if (st.st_size > SA_KEY_MAX_FILE) {
    snprintf(err, errlen,
             "%s: '%s' is larger than %d bytes: not an "
             "authorized key file",
             origin, path, SA_KEY_MAX_FILE);
    close(fd);
    return NULL;
  }
  if (st.st_mode & 077)
    snprintf(warn, warnlen,
             "key file '%s' is accessible by group or "
             "others (permissions %04o are too open; chmod 600 it)",
             path, (unsigned)(st.st_mode & 07777));
  char *buf = malloc((size_t)st.st_size + 1);
  if (buf == NULL) {
    snprintf(err, errlen, "out of memory");
    close(fd);
    return NULL;
  }
  size_t n = 0;
  while (n < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* First of the names that holds a string; -1 when the JSON is broken. */
static int get_field(const char *s, size_t len, const char *a, const char *b,
                     char **out)
{
  int r = json_member_string(s, len, a, out);
  if (r == 0 && b != NULL)
    r = json_member_string(s, len, b, out);
  return r;
}

static sa_key *parse_key(const char *text, size_t len, const char *what,
                         char *err, size_t errlen)
{
  if (!json_member_is_object(text, len)) {
    snprintf(err, errlen,
             "%s is not JSON: expected an authorized key "
             "file from 'yc iam key create --output key.json'",
             what);
    return NULL;
  }
  sa_key *k = calloc(1, sizeof *k);
  char *pem = NULL, *user = NULL;
  if (k == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  get_field(text, len, "id", NULL, &k->key_id);
  get_field(text, len, "service_account_id", "serviceAccountId",
            &k->service_account_id);
  get_field(text, len, "private_key", "privateKey", &pem);
  get_field(text, len, "user_account_id", "userAccountId", &user);
  if (k->service_account_id == NULL && user != NULL) {
    snprintf(err, errlen,
             "%s is a user account's key: only service "
             "account keys can sign for an IAM token",
             what);
    goto fail;
  }
  if (k->key_id == NULL || !*k->key_id || k->service_account_id == NULL ||
      !*k->service_account_id || pem == NULL) {
    snprintf(err, errlen,
             "%s lacks %s: expected an authorized key file "
             "from 'yc iam key create --output key.json'",
             what,
             k->key_id == NULL || !*k->key_id ? "\"id\""
             : pem == NULL                    ? "\"private_key\""
                                              : "\"service_account_id\"");
    goto fail;
  }
  BIO *bio = BIO_new_mem_buf(pem, -1);
  if (bio == NULL) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  /* PEM_read skips text before the BEGIN line, such as the "PLEASE DO NOT
  ** REMOVE THIS LINE!" line that yc puts first. */
  k->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
  BIO_free(bio);
  ERR_clear_error(); /* OpenSSL's queue may name the key's bytes */
  if (k->pkey == NULL) {
    snprintf(err, errlen,
             "%s: \"private_key\" is not a PEM private key "
             "without a passphrase",
             what);
    goto fail;
  }
  if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA) {
    snprintf(err, errlen,
             "%s: the private key is not an RSA key (PS256 "
             "needs RSA_2048 or RSA_4096)",
             what);
    goto fail;
  }
  secret_free(pem);
  free(user);
  return k;
fail:
  secret_free(pem);
  free(user);
  sa_key_free(k);
  return NULL;
}

sa_key *sa_key_load(const char *spec, const char *origin, char *warn,
                    size_t warnlen, char *err, size_t errlen)
{
  if (warnlen)
    warn[0] = '\0';
  const char *p = spec;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  if (*p == '{') {
    char what[96];
    snprintf(what, sizeof what, "the key JSON in %s", origin);
    return parse_key(p, strlen(p), what, err, errlen);
  }
  if (*p == '\0') {
    snprintf(err, errlen,
             "%s is empty: give the path of an authorized key "
             "file (or its JSON)",
             origin);
    return NULL;
  }
  size_t len = 0;
  char *text = read_key_file(spec, origin, &len, warn, warnlen, err, errlen);
  if (text == NULL)
    return NULL;
  char what[600];
  snprintf(what, sizeof what, "%s: key file '%s'", origin, spec);
  sa_key *k = parse_key(text, len, what, err, errlen);
  secret_wipe(text, len);
  free(text);
  return k;
}

void sa_key_free(sa_key *k)
{
  if (k == NULL)
    return;
  free(k->key_id);
  free(k->service_account_id);
  EVP_PKEY_free(k->pkey);
  free(k);
}
