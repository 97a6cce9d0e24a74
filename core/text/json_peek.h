/*
** Finding one top-level string member in raw JSON text without decoding
** it, so the next page can be requested while lua-cjson decodes this one.
** The result is only a guess to act on early: the decoded value is
** authoritative and a wrong guess costs a wasted request, never a wrong
** answer.  Values with escapes are not returned (no unescaping here).
*/
#ifndef JSON_PEEK_H
#define JSON_PEEK_H

#include <stddef.h>

/*
** Look for member `key` of the top-level object in s[0..len).  Returns 1
** and sets *val and *vlen to the raw bytes of its string value; 0 when the
** member is absent, not a plain string, or the text does not look like
** one JSON object.
*/
int json_peek_string(const char *s, size_t len, const char *key,
                     const char **val, size_t *vlen);

#endif /* JSON_PEEK_H */
