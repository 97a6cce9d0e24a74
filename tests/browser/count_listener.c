/* count_listener: a loopback TCP listener that records every connection
 * made to it, for the browser test: Chromium is pointed at it as its
 * proxy, so any request a report page makes (an image, a font, a script,
 * a CONNECT for https) lands here and is written to the log, one line per
 * connection with the first request line.  It answers 502 and closes.
 *
 *   count_listener LOG [LIFETIME_SECONDS]
 *
 * Prints "http://127.0.0.1:PORT PID" on stdout once listening (the shape
 * the tests' H.spawn reads), exits after LIFETIME_SECONDS (default 120) or
 * on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void cl_record(FILE *log, int fd)
{
  char buf[1024];
  size_t used = 0;
  /* Read the first line, waiting at most a second in all. */
  for (int round = 0; round < 10 && used < sizeof buf - 1; round++) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0)
      continue;
    ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
    if (n <= 0)
      break;
    used += (size_t)n;
    if (memchr(buf, '\n', used))
      break;
  }
  buf[used] = '\0';
  char *eol = strpbrk(buf, "\r\n");
  if (eol)
    *eol = '\0';
  fprintf(log, "connection %s\n", used ? buf : "(nothing sent)");
  fflush(log);
  static const char reply[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: "
                              "0\r\nConnection: close\r\n\r\n";
  ssize_t w = write(fd, reply, sizeof reply - 1);
  (void)w;
}

int main(int argc, char **argv)
{
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: count_listener LOG [LIFETIME_SECONDS]\n");
    return 2;
  }
  int lifetime = argc == 3 ? atoi(argv[2]) : 120;
  if (lifetime < 1)
    lifetime = 120;
  FILE *log = fopen(argv[1], "a");
  if (!log) {
    fprintf(stderr, "count_listener: %s: %s\n", argv[1], strerror(errno));
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  alarm((unsigned)lifetime); /* never outlive a forgotten test */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(s, 64) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0) {
    fprintf(stderr, "count_listener: cannot listen: %s\n", strerror(errno));
    return 1;
  }
  printf("http://127.0.0.1:%d %ld\n", ntohs(a.sin_port), (long)getpid());
  fflush(stdout);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR)
        continue;
      return 1;
    }
    cl_record(log, c);
    close(c);
  }
}
