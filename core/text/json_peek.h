/*
** Reading raw JSON text beside lua-cjson, never instead of it: one
** top-level string member, so the next page can be requested while
** lua-cjson decodes this one, and the text of each element of a
** top-level array, which a history stores as the object the API sent.
** The decoded value is authoritative: a wrong guess costs a wasted
** request, and element texts whose count differs from the decoded
** array's are not used.  Values with escapes are not returned (no
** unescaping here).
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

/*
** The raw text of each element of member `key`'s array in the top-level
** object of s[0..len): each(ud, start, end) per element in order, with
** s[start..end) the element's text (blanks around it left out); a
** nonzero return from each stops the walk and is returned.  Returns 0
** after the last element; -1 when the member is absent, not an array, or
** the text does not look like one JSON object, or when a later member may
** be the one lua-cjson decodes (`key` again, or any key with an escape:
** it keeps the last of repeated keys); each may have run by then, so a
** caller keeps what it made only on 0.  Like json_peek_string a reading
** of the raw text beside the decoded value, never instead of it: its
** caller checks the element count against the decoded array's.
*/
typedef int (*json_element_fn)(void *ud, size_t start, size_t end);
int json_peek_array(const char *s, size_t len, const char *key,
                    json_element_fn each, void *ud);

/* json_peek_array stopped at the first element: 1 when member `key`'s
** array shows one, with s[*start..*end) its text (start and end may be
** NULL), 0 when it is empty, -1 as json_peek_array. */
int json_peek_first_element(const char *s, size_t len, const char *key,
                            size_t *start, size_t *end);

#endif /* JSON_PEEK_H */
