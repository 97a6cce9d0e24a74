/*
** The backstop: if the process still runs at a set time, it writes a
** last word and ends with a set status.  The deadline (cancel.h) ends
** every wait; this ends what waits on nothing the core can cancel, such
** as Lua code that loops or an open(2) of a named pipe that no one
** writes, so a run with a bound ends by then whatever it is doing.
*/
#ifndef BACKSTOP_H
#define BACKSTOP_H

/*
** `ms` milliseconds from now, unless backstop_disarm() or another
** backstop_arm() comes first: `out_text` (or NULL) is written to standard
** output, `err_text` (or NULL) to standard error, and the process ends
** with _exit(`status`), as a SIGKILL would end it: no atexit handlers, no
** buffered output flushed, files in the middle of a write left to their
** own crash safety.  0, or -1 when the watching thread or memory for the
** texts could not be had (nothing is armed then).
*/
int backstop_arm(long long ms, int status, const char *out_text,
                 const char *err_text);
void backstop_disarm(void);
/*
** `path` (NULL: none) is removed as the backstop fires, before the process
** ends: the temporary file a run writes its report into, which a stuck
** run would otherwise leave beside the report.  Kept across arm and
** disarm; the owner clears it once the file is renamed or removed.  The
** removal is waited for a second at most (a hung file system may hold
** it); the process ends then regardless.  0, or -1 without memory for it
** (the previous one is kept then).
*/
int backstop_remove_on_fire(const char *path);
/* Milliseconds left until it fires (0 when due), or -1 when unarmed. */
long long backstop_left_ms(void);

#endif /* BACKSTOP_H */
