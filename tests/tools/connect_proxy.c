/*
** connect_proxy: a minimal HTTPS proxy for the tests (HTTP CONNECT
** tunnels only), so that HTTPS_PROXY is proved to carry TLS to the fake
** API end to end.  Listens on 127.0.0.1 and tunnels only to 127.0.0.1:
** to it, "localhost" and names under .test (RFC 6761), which resolve
** nowhere else, so a request to such a name can only have come through
** here.  Appends "CONNECT host:port" for each tunnel to LOG; prints
** "http://127.0.0.1:PORT PID" on its first line like the fake API.  Every
** wait is bounded: a silent client or tunnel is dropped after 10 s, and
** the whole process exits after LIFETIME seconds.
**
** usage: connect_proxy LOG [LIFETIME]
*/
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IDLE_MS 10000

static const char *log_path;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_line(const char *line)
{
  pthread_mutex_lock(&log_lock);
  FILE *f = fopen(log_path, "a");
  if (f) {
    fprintf(f, "%s\n", line);
    fclose(f);
  }
  pthread_mutex_unlock(&log_lock);
}

static int send_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Read the request head (up to the blank line) into buf; -1 on failure. */
static int read_head(int fd, char *buf, size_t cap)
{
  size_t len = 0;
  while (len + 1 < cap) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, IDLE_MS) <= 0)
      return -1;
    ssize_t r = recv(fd, buf + len, 1, 0); /* byte by byte: no over-read */
    if (r <= 0)
      return -1;
    len++;
    buf[len] = '\0';
    if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
      return 0;
  }
  return -1;
}

static void relay(int a, int b)
{
  char buf[16384];
  struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  for (;;) {
    int n = poll(p, 2, IDLE_MS);
    if (n <= 0)
      return;
    for (int i = 0; i < 2; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      ssize_t r = recv(p[i].fd, buf, sizeof buf, 0);
      if (r <= 0 || send_all(p[1 - i].fd, buf, (size_t)r) != 0)
        return;
    }
  }
}

static void *serve(void *arg)
{
  int client = (int)(long)arg;
  char head[8192], host[256], line[300];
  unsigned port = 0;
  int upstream = -1;
  if (read_head(client, head, sizeof head) != 0)
    goto done;
  if (sscanf(head, "CONNECT %255[^:]:%u HTTP/1.", host, &port) != 2 ||
      port == 0 || port > 65535) {
    static const char no[] = "HTTP/1.1 405 Method Not Allowed\r\n"
                             "Content-Length: 0\r\nConnection: close\r\n\r\n";
    send_all(client, no, sizeof no - 1);
    goto done;
  }
  snprintf(line, sizeof line, "CONNECT %s:%u", host, port);
  log_line(line);
  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  to.sin_port = htons((unsigned short)port);
  size_t hl = strlen(host);
  if (strcmp(host, "localhost") == 0 ||
      (hl > 5 && strcmp(host + hl - 5, ".test") == 0))
    strcpy(host, "127.0.0.1");
  if (inet_pton(AF_INET, host, &to.sin_addr) != 1 ||
      to.sin_addr.s_addr != htonl(INADDR_LOOPBACK) ||
      (upstream = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
      connect(upstream, (struct sockaddr *)&to, sizeof to) != 0) {
    static const char bad[] = "HTTP/1.1 502 Bad Gateway\r\n"
                              "Content-Length: 0\r\nConnection: close\r\n\r\n";
    send_all(client, bad, sizeof bad - 1);
    goto done;
  }
  static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  if (send_all(client, ok, sizeof ok - 1) == 0)
    relay(client, upstream);
done:
  if (upstream >= 0)
    close(upstream);
  close(client);
  return NULL;
}

int main(int argc, char **argv)
{
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: connect_proxy LOG [LIFETIME]\n");
    return 2;
  }
  log_path = argv[1];
  alarm(argc == 3 ? (unsigned)atoi(argv[2]) : 300); /* never outlive */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(s, 64) != 0 || getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
    perror("connect_proxy");
    return 1;
  }
  printf("http://127.0.0.1:%u %ld\n", ntohs(a.sin_port), (long)getpid());
  fflush(stdout);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR)
        continue;
      perror("connect_proxy: accept");
      return 1;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, serve, (void *)(long)c) != 0)
      close(c);
    else
      pthread_detach(t);
  }
}
