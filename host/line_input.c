/*
** Line input for the prompt: libedit's readline-compatible API on a
** terminal, stdio otherwise.
**
** Signals.  libedit is told not to catch signals (rl_catch_signals = 0):
** its handler re-sends the signal to the whole process group.  Instead,
** while a line is being read, SIGINT and SIGWINCH get handlers installed
** without SA_RESTART, so the blocking read(2) returns EINTR; our getc
** function then ends the line for a SIGINT (reported as LINE_INTERRUPTED)
** or resizes and reads on for a SIGWINCH.  The previous handlers come
** back before the line is returned, so the evaluator's own Ctrl-C
** handling (docall in mdblua.c) is untouched.
**
** Input bytes are decoded from UTF-8 in our getc function: libedit's
** readline layer stores whatever it returns as one wide character.
*/
#include "line_input.h"

#include <editline/readline.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_HISTORY_MAX 1000

static volatile sig_atomic_t line_sigint = 0;
static volatile sig_atomic_t line_sigwinch = 0;

static int line_editing = 0;
static int line_utf8 = 0; /* the locale's characters are UTF-8 */
static char *line_history_path = NULL;
static line_completer line_complete_fn = NULL;
static void *line_complete_ud = NULL;

/* Candidates handed to libedit one by one by the generator. */
static char **line_candidates = NULL;
static size_t line_candidate_next = 0;

/* Characters that end a word for completion: not '.' and ':', so that
** "mdb.cl" and "client:ba" are completed as one word. */
static char line_word_breaks[] = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";

static void on_prompt_signal(int sig)
{
  if (sig == SIGINT)
    line_sigint = 1;
  else
    line_sigwinch = 1;
}

/*
** rl_getc_function: one character, UTF-8 sequences decoded to a code
** point in a UTF-8 locale (bytes as they are in any other); EOF at end of
** input or when Ctrl-C was pressed.
*/
static int line_getc(FILE *f)
{
  int fd = fileno(f);
  unsigned char b[4];
  int need = 1, have = 0;
  while (have < need) {
    ssize_t n = read(fd, b + have, 1);
    if (n == 1) {
      if (have == 0) {
        if (b[0] < 0x80 || !line_utf8)
          return b[0];
        else if (b[0] >= 0xC2 && b[0] <= 0xDF)
          need = 2;
        else if (b[0] >= 0xE0 && b[0] <= 0xEF)
          need = 3;
        else if (b[0] >= 0xF0 && b[0] <= 0xF4)
          need = 4;
        else
          return 0xFFFD; /* not a lead byte: a replacement character */
      } else if ((b[have] & 0xC0) != 0x80) {
        return 0xFFFD; /* a broken sequence */
      }
      have++;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      if (line_sigint)
        return EOF;
      if (line_sigwinch) {
        line_sigwinch = 0;
        rl_resize_terminal();
      }
      continue;
    }
    return EOF;
  }
  int cp = b[0] & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
  for (int i = 1; i < need; i++)
    cp = (cp << 6) | (b[i] & 0x3F);
  return cp;
}

static void free_candidates(void)
{
  if (line_candidates == NULL)
    return;
  for (size_t i = line_candidate_next; line_candidates[i]; i++)
    free(line_candidates[i]);
  free(line_candidates);
  line_candidates = NULL;
  line_candidate_next = 0;
}

/* rl_completion_matches generator: libedit takes ownership of each. */
static char *next_candidate(const char *text, int state)
{
  (void)text;
  (void)state;
  if (line_candidates == NULL || line_candidates[line_candidate_next] == NULL)
    return NULL;
  return line_candidates[line_candidate_next++];
}

static char **attempt_completion(const char *text, int start, int end)
{
  (void)end;
  rl_attempted_completion_over = 1; /* never fall back to file names */
  free_candidates();
  size_t blen = 0;
  if (rl_line_buffer != NULL && start > 0)
    blen = strnlen(rl_line_buffer, (size_t)start);
  char *before = malloc(blen + 1);
  if (before == NULL)
    return NULL;
  if (blen > 0)
    memcpy(before, rl_line_buffer, blen);
  before[blen] = '\0';
  line_candidates = line_complete_fn(line_complete_ud, text, before);
  free(before);
  if (line_candidates == NULL || line_candidates[0] == NULL) {
    free_candidates();
    return NULL;
  }
  char **matches = rl_completion_matches(text, next_candidate);
  free_candidates();
  return matches;
}

/* Create the history file 0600 before libedit writes it with fopen. */
static void save_history(void)
{
  if (line_history_path == NULL)
    return;
  int fd = open(line_history_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd >= 0)
    close(fd);
  write_history(line_history_path);
}

void line_input_open(const char *history_file, line_completer complete,
                     void *ud)
{
  const char *term = getenv("TERM");
  line_editing = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
                 term != NULL && *term != '\0' && strcmp(term, "dumb") != 0;
  if (!line_editing)
    return;
  /* libedit converts its wide characters with the locale's encoding.  In
  ** the C locale it would drop every non-ASCII key; terminals are UTF-8
  ** nearly everywhere, so use C.UTF-8 then, as Python does (PEP 538). */
  setlocale(LC_CTYPE, "");
  if (strcmp(nl_langinfo(CODESET), "ANSI_X3.4-1968") == 0)
    setlocale(LC_CTYPE, "C.UTF-8");
  line_utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  line_complete_fn = complete;
  line_complete_ud = ud;
  rl_readline_name = "mdblua"; /* for "mdblua:" lines in ~/.editrc */
  rl_catch_signals = 0;
  rl_getc_function = line_getc;
  rl_attempted_completion_function = attempt_completion;
  rl_basic_word_break_characters = line_word_breaks;
  rl_completion_append_character = '\0';
  rl_initialize();
  using_history();
  stifle_history(LINE_HISTORY_MAX);
  struct stat st;
  if (history_file != NULL && *history_file != '\0' &&
      stat(history_file, &st) == 0 && !S_ISREG(st.st_mode)) {
    /* A named pipe would hold the prompt until a writer came, and
    ** /dev/zero or /dev/full never end: only a regular file is read. */
    if (strcmp(history_file, "/dev/null") != 0)
      fprintf(stderr,
              "mdblua: the history file %s is not a regular file: the "
              "prompt keeps no history\n",
              history_file);
  } else if (history_file != NULL && *history_file != '\0') {
    line_history_path = strdup(history_file);
    read_history(line_history_path);
  }
}

static line_status read_plain(const char *prompt, char **line)
{
  fputs(prompt, stdout);
  fflush(stdout);
  size_t cap = 0;
  *line = NULL;
  ssize_t n = getline(line, &cap, stdin);
  if (n < 0) {
    free(*line);
    *line = NULL;
    if (line_sigint || (ferror(stdin) && errno == EINTR)) {
      clearerr(stdin);
      return LINE_INTERRUPTED;
    }
    return LINE_EOF;
  }
  if (n > 0 && (*line)[n - 1] == '\n')
    (*line)[n - 1] = '\0';
  return LINE_OK;
}

line_status line_input_read(const char *prompt, char **line)
{
  struct sigaction sa, old_int, old_winch;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prompt_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: a Ctrl-C must end the read */
  line_sigint = 0;
  line_sigwinch = 0;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGWINCH, &sa, &old_winch);
  fflush(stdout);

  line_status st;
  if (line_editing) {
    *line = readline(prompt);
    st = *line ? LINE_OK : line_sigint ? LINE_INTERRUPTED : LINE_EOF;
    if (st == LINE_INTERRUPTED) {
      fputs("^C\n", stdout); /* the terminal is raw here: no echo */
      fflush(stdout);
    }
  } else {
    st = read_plain(prompt, line);
    if (st == LINE_INTERRUPTED) {
      fputc('\n', stdout);
      fflush(stdout);
    }
  }
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGWINCH, &old_winch, NULL);
  return st;
}

void line_input_remember(const char *entry)
{
  if (!line_editing || entry == NULL || strspn(entry, " \t\n") == strlen(entry))
    return;
  HIST_ENTRY *last = history_get(history_base + history_length - 1);
  if (last != NULL && last->line != NULL && strcmp(last->line, entry) == 0)
    return; /* no runs of the same entry */
  add_history(entry);
  save_history();
}

void line_input_close(void)
{
  free_candidates();
  if (line_editing)
    clear_history();
  free(line_history_path);
  line_history_path = NULL;
  line_editing = 0;
}
