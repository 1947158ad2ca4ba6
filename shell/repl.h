/*
 * repl.h — the interactive shell: libedit line editing, persistent history,
 * multi-line statements, backslash commands, HELP, tab completion, and
 * Ctrl-C that stops the running query but not the shell. See docs/shell.md.
 */
#ifndef SLUICE_SHELL_REPL_H
#define SLUICE_SHELL_REPL_H

#include <signal.h>
#include <stddef.h>

#include "runtime/session.h"
#include "shell/render.h"
#include "shell/status.h"

/* Defined in main.c. */
extern volatile sig_atomic_t shell_stop_requested;   /* raised by SIGINT       */
extern StatusLine            shell_status;           /* the live status line   */

/* Run the statements of text with r as the sink (through the status line);
 * errors are printed with origin ("FILE: " prefix, NULL or "-e" for none).
 * Returns 0 or the exit code (1 SQL error). */
int   shell_run_text(Session *s, Renderer *r, const char *origin, const char *text, size_t len);

/* The whole file ("-" = stdin), NUL-terminated, malloc'd; NULL + errno. */
char *shell_read_all(const char *path, size_t *len);

/* The interactive loop; returns the exit code. */
int   repl_main(Session *s, Renderer *r, const char *version);

#endif
