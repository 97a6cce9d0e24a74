/*
** Where the running mdblua is: the build tree and an install both find
** their module and scripts relative to it.
*/
#ifndef MDB_EXE_DIR_H
#define MDB_EXE_DIR_H

#include <stddef.h>

/* The directory of the running executable, with a trailing '/', in `out`
** (`n` bytes).  0, or -1 when it cannot be found or does not fit. */
int exe_dir(char *out, size_t n);

#endif
