#include "exe_dir.h"

#include <string.h>
#include <unistd.h>

int exe_dir(char *out, size_t n)
{
  ssize_t len = readlink("/proc/self/exe", out, n - 1);
  if (len <= 0 || (size_t)len >= n - 1)
    return -1;
  out[len] = '\0';
  char *slash = strrchr(out, '/');
  if (slash == NULL)
    return -1;
  slash[1] = '\0';
  return 0;
}
