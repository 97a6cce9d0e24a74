/*
** A double as printf's "%.14g" writes it (what Lua's tostring and
** lua-cjson write), without printf's cost for the values a listing has:
** times with a fraction of a second.  printf works out every digit in
** multi-precision arithmetic; a value of 1 to 1e14 needs only one 128-bit
** product, done here exactly, ties to even as printf rounds them.
*/
#ifndef G14_TEXT_H
#define G14_TEXT_H

#include <stddef.h>

#define G14_TEXT_SIZE 32

/* Writes the text (no NUL) into buf; returns its length. */
size_t g14_text(char buf[G14_TEXT_SIZE], double d);

#endif /* G14_TEXT_H */
