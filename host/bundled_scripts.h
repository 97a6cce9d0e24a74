/*
** The bundled scripts (scripts/ in the sources, share/mdblua/scripts when
** installed), so `mdblua audit ...` runs scripts/audit.lua and --help can
** list them.  The directory is found next to the running binary, as
** mdb_loader.c finds mdb.so: the build tree's `scripts` link first, then
** the install's data directory.  Anything else an administrator copies
** into that directory is listed and run the same way.
*/
#ifndef BUNDLED_SCRIPTS_H
#define BUNDLED_SCRIPTS_H

#include <stddef.h>
#include <stdio.h>

/* The scripts' directory (no trailing '/') in out; -1 when there is none. */
int bundled_scripts_dir(char *out, size_t n);

/*
** The path of the script `name` ("audit" or "audit.lua"; never a name
** with a '/') in out; -1 when there is no such script.
*/
int bundled_script_path(const char *name, char *out, size_t n);

/*
** Write the scripts' names (without .lua), sorted, indented and wrapped,
** each line ending in '\n'; writes "(none)" when there are none.
*/
void bundled_scripts_list(FILE *f, const char *indent);

#endif /* BUNDLED_SCRIPTS_H */
