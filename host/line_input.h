/*
** Reading the prompt's lines.  On a terminal (stdin and stdout are ttys
** and TERM is set and not "dumb") lines are read with libedit: editing,
** a persistent history file and Tab completion.  Otherwise a plain
** fgets, so pipes, `script -c` transcripts and dumb terminals get exactly
** what they typed.  Ctrl-C while reading abandons the line.  No Lua here:
** the completer is a callback.
*/
#ifndef LINE_INPUT_H
#define LINE_INPUT_H

typedef enum line_status {
  LINE_OK,         /* *line holds the text, without the newline */
  LINE_EOF,        /* Ctrl-D on an empty line, or end of input */
  LINE_INTERRUPTED /* Ctrl-C: the line is abandoned */
} line_status;

/*
** Completion candidates for `text`, the word that ends at the cursor;
** `before` is the line up to the start of that word.  Returns a
** NULL-terminated malloc'd array of malloc'd strings (the caller frees
** them), or NULL for none.
*/
typedef char **(*line_completer)(void *ud, const char *text,
                                 const char *before);

/*
** Start reading.  `history_file` (NULL: no history) is loaded now and
** rewritten after each remembered entry, created mode 0600 since people
** type tokens at prompts.
*/
void line_input_open(const char *history_file, line_completer complete,
                     void *ud);

/* Read one line after `prompt`; on LINE_OK *line is malloc'd. */
line_status line_input_read(const char *prompt, char **line);

/* Add an entry (one or more lines) to the history and save it. */
void line_input_remember(const char *entry);

void line_input_close(void);

#endif /* LINE_INPUT_H */
