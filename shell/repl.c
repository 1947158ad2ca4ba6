/*
 * repl.c — the interactive shell (see repl.h and docs/shell.md).
 *
 * A statement is read line by line (prompt "sluice> ", then "   ...> ")
 * until sql_is_complete says it ends with ';'. The whole statement — all its
 * lines — becomes one history entry, and the history file is rewritten after
 * each statement, so a killed shell loses nothing. Lines that start with a
 * backslash, and HELP, are shell commands, taken only at the start of a
 * statement.
 *
 * Ctrl-C: SIGINT raises shell_stop_requested (main.c). While a query runs,
 * the runtime sees the flag and stops; the shell prints how many rows came
 * and prompts again. At the prompt, Ctrl-C drops the statement being typed.
 */
#include "shell/repl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "parser/parser.h"

static Session *cur_session;   /* for the completion generator */

/* ---- help ----------------------------------------------------------------- */

static const char help_text[] =
    "Statements end with ';' and may span lines. Shell commands (at the start of a line):\n"
    "  \\q                      quit (also: quit, exit, Ctrl-D)\n"
    "  \\h, \\help               this help\n"
    "  HELP [statement]        the statements, or the syntax of one (HELP SELECT)\n"
    "  \\timing [on|off]        print the elapsed time after each statement\n"
    "  \\format [table|changelog|csv|json] how rows are printed (no argument: show it)\n"
    "  \\i FILE                 run the statements in FILE\n"
    "  \\progress [on|off]      the live status line while a query runs\n"
    "Keys: Tab completes keywords, stream/sink/view and column names; Up/Down walk the\n"
    "history (~/.sluice_history, or $SLUICE_HISTORY); Ctrl-C stops the running query\n"
    "(or drops the statement being typed); Ctrl-D on an empty line quits.\n";

typedef struct StmtHelp {
    const char *name;   /* upper case, as typed after HELP */
    const char *text;
} StmtHelp;

static const StmtHelp stmt_help[] = {
    {"CREATE STREAM",
     "CREATE { STREAM | SOURCE | TABLE } [IF NOT EXISTS] name\n"
     "    [ ( column type {, column type} [, WATERMARK FOR column AS expression] ) ]\n"
     "    [ WITH ( key = value {, key = value} ) ]\n"
     "  e.g. CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR, event VARCHAR,\n"
     "         WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'logs');\n"},
    {"CREATE SINK",
     "CREATE SINK [IF NOT EXISTS] name [ ( column type {, column type} ) ]\n"
     "    [ WITH ( key = value {, key = value} ) ]\n"
     "  e.g. CREATE SINK out WITH (connector = 'file', path = 'out.jsonl', format = 'json');\n"},
    {"CREATE VIEW", "CREATE VIEW [IF NOT EXISTS] name AS select\n"},
    {"DROP", "DROP { STREAM | SOURCE | TABLE | SINK | VIEW } [IF EXISTS] name\n"},
    {"SELECT",
     "SELECT [DISTINCT | ALL] item {, item}\n"
     "    [FROM from_item {join}] [WHERE expression]\n"
     "    [GROUP BY expression {, expression}] [HAVING expression]\n"
     "    [LIMIT integer] [EMIT CHANGES | EMIT FINAL]\n"
     "  from_item: name | ( select ) | TUMBLE(stream, ts, INTERVAL '10' SECOND) | HOP(...) | SESSION(...)\n"
     "  Rows stream to the terminal as they come; Ctrl-C stops the query, LIMIT n ends it.\n"},
    {"INSERT", "INSERT INTO sink select\n  Runs the query, writing its rows into the sink.\n"},
    {"SHOW", "SHOW { STREAMS | SOURCES | TABLES | SINKS | VIEWS | QUERIES }\n"},
    {"DESCRIBE", "{ DESCRIBE | DESC } name\n{ DESCRIBE | DESC } QUERY id\n"},
    {"EXPLAIN", "EXPLAIN [ANALYZE] [FORMAT TEXT | FORMAT JSON] { select | INSERT INTO ... }\n"},
    {"SET", "SET                 list every setting\nSET key = value\n"},
    {"RESET", "RESET key           back to the default\nRESET               all back to the defaults\n"},
    {"STOP QUERY", "STOP QUERY id\n"},
};
#define NSTMT_HELP (int)(sizeof stmt_help / sizeof stmt_help[0])

static void print_help_statements(FILE *f)
{
    fputs("Statements (HELP <statement> for the syntax; docs/sql.md has it all):\n", f);
    for (int i = 0; i < NSTMT_HELP; i++) fprintf(f, "  %s\n", stmt_help[i].name);
}

/* HELP, HELP SELECT, HELP create stream; arg is what follows HELP. */
static void help_statement(const char *arg)
{
    char want[64];
    size_t n = 0;
    for (const char *p = arg; *p && *p != ';' && n + 1 < sizeof want; p++) {
        if (isspace((unsigned char)*p)) {
            if (n && want[n - 1] != ' ') want[n++] = ' ';
        } else {
            want[n++] = (char)toupper((unsigned char)*p);
        }
    }
    while (n && want[n - 1] == ' ') n--;
    want[n] = 0;
    if (n == 0) {
        print_help_statements(stdout);
        return;
    }
    int shown = 0;
    for (int i = 0; i < NSTMT_HELP; i++) {
        size_t k = strlen(want);
        /* "HELP CREATE" shows all three CREATEs; "HELP INSERT INTO" shows INSERT */
        if (strncmp(stmt_help[i].name, want, k) == 0 ||
            strncmp(want, stmt_help[i].name, strlen(stmt_help[i].name)) == 0 ||
            (!strcmp(want, "DESC") && !strcmp(stmt_help[i].name, "DESCRIBE"))) {
            fputs(stmt_help[i].text, stdout);
            shown++;
        }
    }
    if (!shown) {
        fprintf(stderr, "HELP: no statement '%s'\n", want);
        print_help_statements(stderr);
    }
}

/* ---- backslash commands --------------------------------------------------- */

typedef struct Repl {
    Session    *s;
    Renderer   *r;
    int         timing;
    int         quit;
} Repl;

static int parse_on_off(const char *cmd, const char *arg, int cur, int *out)
{
    if (!*arg) *out = !cur;
    else if (!strcasecmp(arg, "on")) *out = 1;
    else if (!strcasecmp(arg, "off")) *out = 0;
    else {
        fprintf(stderr, "\\%s: expected on or off, got '%s'\n", cmd, arg);
        return -1;
    }
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Run text and report timing and Ctrl-C. */
static void run_statement(Repl *R, const char *origin, const char *text, size_t len)
{
    double t0 = now_ms();
    shell_run_text(R->s, R->r, origin, text, len);
    int stopped = shell_stop_requested;
    if (stopped) {
        fprintf(stderr, "Query stopped by Ctrl-C: %lld row%s received.\n", shell_status.rows,
                shell_status.rows == 1 ? "" : "s");
        shell_stop_requested = 0;
    }
    if (R->timing) fprintf(stderr, "Time: %.3f ms\n", now_ms() - t0);
    fflush(stderr);
}

/* A line starting with '\'; cmd is the line with surrounding blanks gone. */
static void backslash(Repl *R, char *line)
{
    char *cmd = line + 1, *arg = cmd;
    while (*arg && !isspace((unsigned char)*arg)) arg++;
    if (*arg) *arg++ = 0;
    while (isspace((unsigned char)*arg)) arg++;
    size_t an = strlen(arg);
    while (an && (isspace((unsigned char)arg[an - 1]) || arg[an - 1] == ';')) arg[--an] = 0;
    size_t cn = strlen(cmd);
    if (cn && cmd[cn - 1] == ';') cmd[--cn] = 0;

    if (!strcmp(cmd, "q") || !strcmp(cmd, "quit")) {
        if (*arg) fprintf(stderr, "\\q takes no arguments\n");
        else R->quit = 1;
    } else if (!strcmp(cmd, "h") || !strcmp(cmd, "help") || !strcmp(cmd, "?")) {
        if (*arg) help_statement(arg);
        else {
            fputs(help_text, stdout);
            print_help_statements(stdout);
        }
    } else if (!strcmp(cmd, "timing")) {
        if (parse_on_off("timing", arg, R->timing, &R->timing) == 0)
            printf("Timing is %s.\n", R->timing ? "on" : "off");
    } else if (!strcmp(cmd, "progress")) {
        if (parse_on_off("progress", arg, shell_status.enabled, &shell_status.enabled) == 0)
            printf("The status line is %s%s.\n", shell_status.enabled ? "on" : "off",
                   shell_status.enabled && !isatty(fileno(stderr)) ? " (but stderr is not a terminal: not shown)" : "");
    } else if (!strcmp(cmd, "format")) {
        static const char *names[] = {"table", "csv", "json", "changelog"};
        if (!*arg) {
            printf("Output format is %s.\n", names[R->r->format]);
        } else if (render_format_parse(arg, &R->r->format) != 0) {
            fprintf(stderr, "\\format: unknown format '%s' (expected table, changelog, csv or json)\n", arg);
        } else {
            printf("Output format is %s.\n", names[R->r->format]);
        }
    } else if (!strcmp(cmd, "i") || !strcmp(cmd, "include")) {
        if (!*arg) {
            fprintf(stderr, "\\i: needs a file name: \\i FILE.sql\n");
            return;
        }
        size_t len;
        char  *buf = shell_read_all(arg, &len);
        if (!buf) {
            fprintf(stderr, "\\i: cannot read '%s': %s\n", arg, strerror(errno));
            return;
        }
        run_statement(R, arg, buf, len);
        free(buf);
    } else {
        fprintf(stderr, "unknown command '\\%s'; \\h lists the commands\n", cmd);
    }
    fflush(stdout);
}

/* ---- completion ----------------------------------------------------------- */

static const char *const keywords[] = {
    "ALL", "ANALYZE", "AND", "AS", "BETWEEN", "BIGINT", "BOOLEAN", "BY", "CASE", "CAST", "CHANGES",
    "COUNT", "CREATE", "DAY", "DESC", "DESCRIBE", "DISTINCT", "DOUBLE", "DROP", "ELSE", "EMIT", "END",
    "EXISTS", "EXPLAIN", "FALSE", "FINAL", "FOR", "FORMAT", "FROM", "GROUP", "HAVING", "HOP", "HOUR",
    "IF", "IN", "INSERT", "INTERVAL", "INTO", "IS", "JOIN", "JSON", "LIKE", "LIMIT", "MINUTE", "NOT",
    "NULL", "ON", "OR", "QUERIES", "QUERY", "RESET", "SECOND", "SELECT", "SESSION", "SET", "SHOW",
    "SINK", "SINKS", "STOP", "STREAM", "STREAMS", "TABLE", "THEN", "TIMESTAMP", "TRUE", "TUMBLE",
    "VARCHAR", "VIEW", "VIEWS", "WATERMARK", "WHEN", "WHERE", "WITH",
};
#define NKEYWORDS (int)(sizeof keywords / sizeof keywords[0])

typedef struct Matches {
    char **v;
    int    n, cap;
} Matches;

static Matches matches;

static void match_add(Matches *m, const char *s)
{
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->v[i], s)) return;
    if (m->n == m->cap) {
        int    ncap = m->cap ? m->cap * 2 : 32;
        char **nv = realloc(m->v, (size_t)ncap * sizeof *nv);
        if (!nv) return;
        m->v = nv;
        m->cap = ncap;
    }
    char *d = strdup(s);
    if (d) m->v[m->n++] = d;
}

static void match_name(void *ctx, const char *name, int is_column)
{
    (void)is_column;
    match_add(ctx, name);
}

static char *complete_gen(const char *text, int state)
{
    static int next;
    if (state == 0) {
        for (int i = 0; i < matches.n; i++) free(matches.v[i]);
        matches.n = 0;
        next = 0;
        size_t n = strlen(text);
        if (cur_session) session_complete_names(cur_session, text, match_name, &matches);
        int lower = n > 0 && islower((unsigned char)text[0]);
        for (int i = 0; i < NKEYWORDS; i++) {
            if (strncasecmp(keywords[i], text, n) != 0) continue;
            char kw[32];
            snprintf(kw, sizeof kw, "%s", keywords[i]);
            if (lower)
                for (char *p = kw; *p; p++) *p = (char)tolower((unsigned char)*p);
            match_add(&matches, kw);
        }
    }
    return next < matches.n ? strdup(matches.v[next++]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    /* after "\i " complete file names (the default) */
    const char *buf = rl_line_buffer;
    while (*buf == ' ' || *buf == '\t') buf++;
    if (buf[0] == '\\' && buf[1] == 'i' && (buf[2] == ' ' || buf[2] == '\t') && start > 0) return NULL;
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, complete_gen);
}

/* ---- history ---------------------------------------------------------------- */

static char history_path[4096];

static void history_setup(void)
{
    const char *env = getenv("SLUICE_HISTORY");
    const char *home = getenv("HOME");
    if (env && *env) snprintf(history_path, sizeof history_path, "%s", env);
    else if (home && *home) snprintf(history_path, sizeof history_path, "%s/.sluice_history", home);
    using_history();
    stifle_history(2000);
    if (history_path[0]) read_history(history_path);
}

static void history_add(const char *entry)
{
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (last && last->line && !strcmp(last->line, entry)) return;   /* no repeats */
    add_history(entry);
    if (history_path[0] && write_history(history_path) != 0) {
        static int warned;
        if (!warned++) fprintf(stderr, "warning: cannot write history file '%s'\n", history_path);
    }
}

/* ---- the loop ------------------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

/* HELP at the start of a statement: "HELP", "help select;" */
static const char *help_arg(const char *t)
{
    if (strncasecmp(t, "help", 4) != 0) return NULL;
    if (t[4] && t[4] != ';' && !isspace((unsigned char)t[4])) return NULL;
    return t + 4;
}

int repl_main(Session *s, Renderer *r, const char *version)
{
    Repl   R = {s, r, 0, 0};
    char  *stmt = NULL;
    size_t len = 0;
    cur_session = s;
    rl_readline_name = "sluice";
    rl_attempted_completion_function = complete;
    static char breaks[] = " \t\n\"'`<>=;|&(),*+-/%!";
    rl_completer_word_break_characters = breaks;
    rl_basic_word_break_characters = breaks;
    history_setup();
    printf("sluice %s — a streaming SQL engine. End statements with ';'. \\q quits, \\h helps.\n",
           version);
    while (!R.quit) {
        shell_stop_requested = 0;
        fflush(stdout);
        char *line = readline(len ? "   ...> " : "sluice> ");
        if (!line) {
            if (shell_stop_requested) {   /* Ctrl-C at the prompt: drop the statement */
                shell_stop_requested = 0;
                len = 0;
                putchar('\n');
                continue;
            }
            break;   /* EOF */
        }
        if (len == 0) {
            char *t = trim(line);
            const char *h;
            if (*t == 0) {
                free(line);
                continue;
            }
            if (!strcmp(t, "quit") || !strcmp(t, "exit")) {
                free(line);
                break;
            }
            if (*t == '\\') {
                history_add(t);
                backslash(&R, t);
                free(line);
                continue;
            }
            if ((h = help_arg(t)) != NULL) {
                history_add(t);
                help_statement(h);
                free(line);
                continue;
            }
        }
        size_t n = strlen(line);
        char  *ns = realloc(stmt, len + n + 2);
        if (!ns) {
            free(line);
            break;
        }
        stmt = ns;
        memcpy(stmt + len, line, n);
        len += n;
        stmt[len++] = '\n';
        stmt[len] = 0;
        free(line);
        if (!sql_is_complete(stmt, len)) continue;
        stmt[len - 1] = 0;   /* the whole statement, all its lines, is one entry */
        history_add(stmt);
        stmt[len - 1] = '\n';
        run_statement(&R, NULL, stmt, len);
        len = 0;
    }
    free(stmt);
    for (int i = 0; i < matches.n; i++) free(matches.v[i]);
    free(matches.v);
    if (!R.quit) putchar('\n');
    return 0;
}
