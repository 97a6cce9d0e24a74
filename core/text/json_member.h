/*
** Reading one top-level member of a small JSON object, decoded: the
** authorized key file, and the token answers of the IAM endpoint, the
** metadata service and a token command.  The core has no JSON library
** (lua-cjson lives on the Lua side), and these documents are flat, so a
** strict scanner that skips nested values is enough.
*/
#ifndef JSON_MEMBER_H
#define JSON_MEMBER_H

#include <stddef.h>

/*
** Member `key` of the object in s[0..len) as a string.  Returns 1 and a
** malloc'd, NUL-terminated, unescaped copy in *out (wipe secrets with
** secret_free); 0 when the member is absent or not a string; -1 when
** the text is not one well-formed JSON object, the string holds \u0000,
** or memory ran out.  The first occurrence of a repeated key wins.
*/
int json_member_string(const char *s, size_t len, const char *key, char **out);

/* The same for a number member: 1 and *out, 0 absent or not a number,
** -1 malformed. */
int json_member_number(const char *s, size_t len, const char *key, double *out);

/* 1 when s[0..len) is one well-formed JSON object (blanks around it). */
int json_member_is_object(const char *s, size_t len);

#endif /* JSON_MEMBER_H */
