/*
 * main.c — the sluice command line.
 *
 *   sluice                       interactive shell (when stdin is a terminal)
 *   sluice -f FILE.sql [-f …]    run the statements of each file, in order
 *   sluice -e 'SQL' [-e …]       run the statements given inline
 *   sluice --check -f FILE.sql   check every statement, run none
 *   sluice --ui PORT -f FILE.sql the same with the web UI (shell/ui.h)
 *
 * Control flow: parse the flags, build a Session, apply --set, then feed the
 * inputs (files and -e strings, in command-line order) to session_exec with
 * a Renderer as the result sink. Errors are printed here — and only here —
 * as "FILE: line L, column C: what" with the source line and a caret.
 *
 * Exit codes: 0 ok, 1 SQL error, 2 usage error, 3 runtime failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "parser/parser.h"
#include "runtime/connectors/kafka.h"
#include "runtime/session.h"
#include "shell/render.h"
#include "shell/repl.h"
#include "shell/status.h"
#include "shell/ui.h"

#define SLUICE_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_SQL = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

/* Raised by SIGINT/SIGTERM: the running query stops (the shell goes on). */
volatile sig_atomic_t shell_stop_requested;
#define stop_requested shell_stop_requested

/* The live status line (stderr on a terminal); also counts rows. */
StatusLine shell_status;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct Input {
    const char *name;   /* file name, "-" for stdin, or "-e" */
    const char *text;   /* inline SQL for -e, else NULL       */
} Input;

typedef struct Options {
    Input        *inputs;
    int           ninputs;
    int           check;
    int           quiet;
    RenderFormat  format;
    char        **sets;      /* "key=value" */
    int           nsets;
    const char   *progress;  /* --progress FILE */
    int           ui_port;   /* --ui PORT; 0 = none (SET ui.port may start it) */
    const char   *ui_bind;   /* --ui-bind ADDR; NULL = 127.0.0.1 */
    char        **owned;     /* --set strings made here (--state-dir …) */
    int           nowned;
} Options;

static void options_free(Options *o)
{
    for (int i = 0; i < o->nowned; i++) free(o->owned[i]);
    free(o->owned);
    free(o->inputs);
    free(o->sets);
}

static const char usage_text[] =
    "Usage: sluice [OPTIONS]\n"
    "\n"
    "sluice is a streaming SQL engine: declare streams over Kafka topics, files\n"
    "or generators, and run continuous queries over them.\n"
    "\n"
    "With no -f or -e, sluice reads statements from standard input: an\n"
    "interactive shell on a terminal (\\h there lists its commands; history in\n"
    "~/.sluice_history or $SLUICE_HISTORY; see docs/shell.md), a script otherwise.\n"
    "While a query runs, a status line is shown on stderr when it is a terminal.\n"
    "\n"
    "Options:\n"
    "  -f, --file FILE       run the statements in FILE ('-' for stdin); may repeat\n"
    "  -e, --execute SQL     run the statements in SQL; may repeat\n"
    "      --check           parse, bind and plan every statement; run nothing\n"
    "      --format FMT      result format: table (default), changelog, csv or json\n"
    "      --set KEY=VALUE   a setting, as SET KEY = 'VALUE' would; may repeat\n"
    "      --progress FILE   write query progress to FILE, one JSON object per second\n"
    "                        ('-' for stderr)\n"
    "      --ui PORT         serve the web UI and /metrics on http://127.0.0.1:PORT/\n"
    "                        (as SET ui.port would; see docs/ui.md)\n"
    "      --ui-bind ADDR    the address the web UI listens on (default 127.0.0.1)\n"
    "      --state-dir DIR   keep state and checkpoints in DIR (--set state.dir=DIR)\n"
    "      --reset-state     discard the checkpoint in the state dir and start over\n"
    "                        (--set state.reset=true)\n"
    "      --group NAME      run the query as one job with every sluice started with\n"
    "                        the same NAME: Kafka's consumer group NAME spreads the\n"
    "                        source partitions (--set deployment.group=NAME; needs\n"
    "                        --state-dir; see docs/scaling.md)\n"
    "  -q, --quiet           print rows only, no statement tags\n"
    "      --version         print the version and exit\n"
    "  -h, --help            print this help and exit\n"
    "\n"
    "Inputs run in command-line order and stop at the first error.\n"
    "\n"
    "Exit status: 0 ok, 1 SQL error, 2 usage error, 3 runtime failure.\n"
    "\n"
    "sluice broker [--topics a,b] [--partitions N] starts a local Kafka-protocol\n"
    "broker for development and tests (see 'sluice broker --help').\n"
    "\n"
    "Examples:\n"
    "  sluice -f examples/crash_monitoring.sql\n"
    "  sluice --check -f pipeline.sql\n"
    "  sluice --ui 4040 -f examples/crash_monitoring.sql\n"
    "  sluice -e \"CREATE STREAM s (a BIGINT) WITH (connector = 'stdin', format = 'json'); SHOW STREAMS;\"\n";

static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "sluice: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'sluice --help' for more information.\n");
    exit(EXIT_USAGE);
}

static void add_input(Options *o, const char *name, const char *text)
{
    Input *in = realloc(o->inputs, (size_t)(o->ninputs + 1) * sizeof *in);
    if (!in) {
        perror("sluice");
        exit(EXIT_RUNTIME);
    }
    o->inputs = in;
    o->inputs[o->ninputs].name = name;
    o->inputs[o->ninputs].text = text;
    o->ninputs++;
}

/* Add a --set: "key=value" as given (value NULL), or key and value joined
 * (kept for the process's life, like argv). */
static void add_set(Options *o, const char *key, const char *value)
{
    char *kv = (char *)key;
    if (value) {
        size_t n = strlen(key) + strlen(value) + 2;
        kv = malloc(n);
        if (!kv) exit(EXIT_RUNTIME);
        snprintf(kv, n, "%s=%s", key, value);
        o->owned = realloc(o->owned, (size_t)(o->nowned + 1) * sizeof *o->owned);
        if (!o->owned) exit(EXIT_RUNTIME);
        o->owned[o->nowned++] = kv;
    }
    char **s = realloc(o->sets, (size_t)(o->nsets + 1) * sizeof *s);
    if (!s) exit(EXIT_RUNTIME);
    o->sets = s;
    o->sets[o->nsets++] = kv;
}

static void parse_args(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    o->format = FORMAT_TABLE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        /* --opt=value spelling */
        char  name[64];
        const char *eq = strchr(a, '=');
        if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            val = eq + 1;
            a = name;
        }
#define NEXT_ARG()                                                              \
    (val ? val : (i + 1 < argc ? argv[++i] : (usage_error("option '%s' needs a value", a), "")))
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            exit(EXIT_OK);
        } else if (!strcmp(a, "--version")) {
            printf("sluice %s\n", SLUICE_VERSION);
            exit(EXIT_OK);
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            add_input(o, NEXT_ARG(), NULL);
        } else if (!strcmp(a, "-e") || !strcmp(a, "--execute")) {
            add_input(o, "-e", NEXT_ARG());
        } else if (!strcmp(a, "--progress")) {
            o->progress = NEXT_ARG();
        } else if (!strcmp(a, "--ui")) {
            const char *p = NEXT_ARG();
            char       *end;
            long        port = strtol(p, &end, 10);
            if (!*p || *end || port < 1 || port > 65535)
                usage_error("--ui needs a port number (1..65535), got '%s'", p);
            o->ui_port = (int)port;
        } else if (!strcmp(a, "--ui-bind")) {
            o->ui_bind = NEXT_ARG();
        } else if (!strcmp(a, "--state-dir")) {
            add_set(o, "state.dir", NEXT_ARG());
        } else if (!strcmp(a, "--group")) {
            add_set(o, "deployment.group", NEXT_ARG());
        } else if (!strcmp(a, "--reset-state")) {
            if (val) usage_error("option '%s' takes no value", a);
            add_set(o, "state.reset", "true");
        } else if (!strcmp(a, "--check")) {
            o->check = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--format")) {
            const char *f = NEXT_ARG();
            if (render_format_parse(f, &o->format) != 0)
                usage_error("unknown format '%s' (expected table, changelog, csv or json)", f);
        } else if (!strcmp(a, "--set")) {
            const char *kv = NEXT_ARG();
            if (!strchr(kv, '=')) usage_error("--set needs KEY=VALUE, got '%s'", kv);
            add_set(o, kv, NULL);
        } else {
            usage_error("unknown option '%s'", a);
        }
#undef NEXT_ARG
    }
}

/* Read a whole file ("-" = stdin) into a malloc'd NUL-terminated buffer. */
char *shell_read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char  *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (f != stdin) fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = n;
    }
    return buf;
}

static void print_error(const char *origin, const char *text, size_t len, const SqlError *e)
{
    char buf[2048];
    sql_error_format(text, len, e->loc, e->msg, buf, sizeof buf);
    if (origin && strcmp(origin, "-e") != 0) fprintf(stderr, "%s: ", origin);
    fprintf(stderr, "%s\n", buf);
}

static void check_notice(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "warning: %s\n", msg);
}

/* --check: report every syntax error; when there are none, bind and plan
 * every statement in a check-only session (DDL fills its catalog, queries
 * are planned, nothing runs) and report the first error. */
static int check_text(Session *s, const char *origin, const char *text, size_t len)
{
    SqlParse *p = sql_parse(text, len);
    if (!p) {
        fprintf(stderr, "sluice: out of memory\n");
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < p->nerrors; i++) print_error(origin, text, len, &p->errors[i]);
    int rc = p->nerrors ? EXIT_SQL : EXIT_OK;
    sql_parse_free(p);
    if (rc != EXIT_OK) return rc;
    ResultSink sink = {NULL, NULL, NULL, NULL, check_notice, NULL};
    SqlError   err;
    if (session_exec(s, text, len, &sink, &err) != 0) {
        print_error(origin, text, len, &err);
        return EXIT_SQL;
    }
    return EXIT_OK;
}

int shell_run_text(Session *s, Renderer *r, const char *origin, const char *text, size_t len)
{
    SqlError   err;
    ResultSink inner = renderer_sink(r);
    ResultSink sink = status_wrap(&shell_status, &inner);
    stop_requested = 0;
    shell_status.rows = 0;
    int rc = session_exec(s, text, len, &sink, &err);
    status_clear(&shell_status);
    if (rc != 0) {
        print_error(origin, text, len, &err);
        return rc == SESSION_RUNTIME_ERROR ? EXIT_RUNTIME : EXIT_SQL;
    }
    return EXIT_OK;
}

/* ---- the web UI ------------------------------------------------------------ */

typedef struct UiState {
    Ui         *ui;
    const char *bind;     /* --ui-bind */
    int         failed;   /* SET ui.port could not start it: say so once */
} UiState;

static int ui_begin(UiState *st, Session *s, int port)
{
    char err[256];
    st->ui = ui_start(s, st->bind, port, err, sizeof err);
    if (!st->ui) {
        fprintf(stderr, "sluice: cannot start the web UI: %s\n", err);
        return -1;
    }
    fprintf(stderr, "sluice: web UI at %s\n", ui_url(st->ui));
    return 0;
}

/* A query is about to start: SET ui.port = N asks for the UI (started once;
 * a later change of the setting does not move it). */
static void ui_on_query_start(void *ctx, Session *s)
{
    UiState *st = ctx;
    char     v[32];
    if (st->ui || st->failed || session_get_setting(s, "ui.port", v, sizeof v) != 0) return;
    int port = atoi(v);
    if (port > 0 && ui_begin(st, s, port) != 0) st->failed = 1;
}

/* ---- sluice broker -------------------------------------------------------- */

static const char broker_usage[] =
    "Usage: sluice broker [--topics a,b] [--partitions N] [--brokers N]\n"
    "\n"
    "Start a Kafka-protocol broker on 127.0.0.1 for development and tests\n"
    "(librdkafka's mock cluster): prints its bootstrap address on the first\n"
    "line of standard output, then runs until SIGINT or SIGTERM. Real Kafka\n"
    "clients (kcat, librdkafka, sluice's kafka connector) talk to it.\n"
    "\n"
    "  --topics a,b      topics to create (others are auto-created on first use);\n"
    "                    a:N gives topic a N partitions of its own\n"
    "  --partitions N    partitions per topic (default 2)\n"
    "  --brokers N       brokers in the cluster (default 1)\n"
    "\n"
    "Limits: messages live in memory only, about the last 5 MB per partition\n"
    "are kept, the ports are chosen by the system (read the printed address),\n"
    "no security; not for production.\n";

static int broker_main(int argc, char **argv)
{
    const char *topics = NULL;
    int         partitions = 2, brokers = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(broker_usage, stdout);
            return EXIT_OK;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "sluice broker: '%s' needs a value\n%s", a, broker_usage);
            return EXIT_USAGE;
        }
        if (!strcmp(a, "--topics")) topics = argv[++i];
        else if (!strcmp(a, "--partitions")) partitions = atoi(argv[++i]);
        else if (!strcmp(a, "--brokers")) brokers = atoi(argv[++i]);
        else {
            fprintf(stderr, "sluice broker: unknown option '%s'\n%s", a, broker_usage);
            return EXIT_USAGE;
        }
    }
    if (partitions < 1 || brokers < 1) {
        fprintf(stderr, "sluice broker: --partitions and --brokers must be at least 1\n");
        return EXIT_USAGE;
    }
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(brokers, topics, partitions, err, sizeof err);
    if (!kb) {
        fprintf(stderr, "sluice broker: %s\n", err);
        return EXIT_RUNTIME;
    }
    printf("%s\n", kafka_broker_bootstrap(kb));
    fflush(stdout);
    fprintf(stderr, "sluice broker: listening on %s (topics: %s, %d partition%s); Ctrl-C stops it\n",
            kafka_broker_bootstrap(kb), topics && *topics ? topics : "none yet", partitions,
            partitions == 1 ? "" : "s");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_requested) pause();
    kafka_broker_stop(kb);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "broker")) return broker_main(argc, argv);
    Options o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);

    int interactive_mode = 0;
    if (o.ninputs == 0) {
        if (isatty(0) && !o.check) interactive_mode = 1;
        else add_input(&o, "-", NULL);
    }

    Session *s = session_new();
    if (!s) {
        fprintf(stderr, "sluice: out of memory\n");
        return EXIT_RUNTIME;
    }
    session_set_check_only(s, o.check);
    session_set_stop_flag(s, &stop_requested);
    FILE *progress = NULL;
    if (o.progress) {
        progress = strcmp(o.progress, "-") == 0 ? stderr : fopen(o.progress, "w");
        if (!progress) {
            fprintf(stderr, "sluice: cannot write --progress file '%s': %s\n", o.progress, strerror(errno));
            session_free(s);
            options_free(&o);
            return EXIT_USAGE;
        }
        session_set_progress_file(s, progress);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);   /* stops the running query; the shell goes on */
    {
        for (int i = 0; i < o.nsets; i++) {
            char    *kv = o.sets[i];
            char    *eq = strchr(kv, '=');
            SqlError err;
            *eq = 0;
            if (session_set(s, kv, eq + 1, &err) != 0) {
                fprintf(stderr, "sluice: --set %s: %s\n", kv, err.msg);
                session_free(s);
                options_free(&o);
                return EXIT_USAGE;
            }
            *eq = '=';
        }
    }

    /* the web UI: --ui now; else SET ui.port (or --set ui.port) when a query starts */
    UiState ui = {NULL, o.ui_bind, 0};
    if (o.ui_port && !o.check) {
        if (ui_begin(&ui, s, o.ui_port) != 0) {
            session_free(s);
            if (progress && progress != stderr) fclose(progress);
            options_free(&o);
            return EXIT_RUNTIME;
        }
    }
    if (!o.check) session_set_query_start_callback(s, ui_on_query_start, &ui);

    Renderer r;
    renderer_init(&r, stdout, stderr, o.format, o.quiet);
    /* the live status line: only when stderr is a terminal */
    status_init(&shell_status, stderr, stdout, isatty(2) && !o.check);
    if (shell_status.enabled) session_set_progress_callback(s, status_progress, &shell_status);
    int rc = EXIT_OK;
    if (interactive_mode) {
        session_set_background(s, 1);   /* INSERT INTO returns a query id; the shell goes on */
        rc = repl_main(s, &r, SLUICE_VERSION);
    } else {
        for (int i = 0; i < o.ninputs && (rc == EXIT_OK || o.check); i++) {
            const Input *in = &o.inputs[i];
            size_t       len;
            char        *buf;
            if (in->text) {
                buf = strdup(in->text);
                len = strlen(in->text);
            } else {
                buf = shell_read_all(in->name, &len);
                if (!buf) {
                    fprintf(stderr, "sluice: cannot read '%s': %s\n", in->name, strerror(errno));
                    rc = EXIT_USAGE;
                    break;
                }
            }
            const char *origin = in->text ? "-e" : in->name;
            int         r1 = o.check ? check_text(s, origin, buf, len) : shell_run_text(s, &r, origin, buf, len);
            if (r1 > rc) rc = r1;
            free(buf);
        }
    }
    renderer_destroy(&r);
    ui_stop(ui.ui);   /* before the session it reads */
    session_free(s);
    if (progress && progress != stderr) fclose(progress);
    options_free(&o);
    return rc;
}
