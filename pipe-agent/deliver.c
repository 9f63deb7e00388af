/*
 * deliver.c - replygate-deliver, the pipe(8) delivery agent (SPEC section 5).
 *
 *   replygate-deliver [--config FILE] [--dry-run] -q QUEUE_ID -f SENDER
 *                     -r RECIPIENT [-c CLIENT_ADDR]
 *
 * The pipe(8) door of the delivery core (delivery.h): reads one message on
 * standard input (never more than max_message_size), hands it to
 * delivery_run(), which spools, evaluates, stores, moves and logs it, and
 * turns the outcome into the sysexits status pipe(8) expects. For a non-zero
 * status the first line on standard output is the DSN text.
 *
 * Only main() decides the exit status. Every resource or configuration
 * problem defers (75): a mistake of ours must never bounce a person's reply.
 * --dry-run does the reading and deciding only, writes nothing anywhere and
 * prints the verdict as JSON.
 *
 * The processor log is a convenience for people. When it cannot be opened
 * the delivery goes on and mail.log says so: losing or delaying a reply over
 * a log file would be the worse failure.
 *
 * pipe(8) reads standard output and standard error together, so the agent
 * writes nothing to standard error on its real path: GLib's own messages go
 * to mail.log. REPLYGATE_LOG_STDERR=1 copies mail.log lines to standard
 * error for tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "db.h"
#include "delivery.h"
#include "evaluate.h"
#include "fromcheck.h"
#include "maillog.h"
#include "countfile.h"
#include "proclog.h"
#include "rg-autoptr.h"
#include "rg-error.h"
#include "rg-limits.h"

#define READ_CHUNK 65536

/* What the signal handlers need, set before they can run and only read by
 * them (async-signal-safe calls only in the handlers).
 *
 * SIGABRT, SIGTRAP: GLib stops with SIGTRAP (g_error's breakpoint) when
 * memory runs out, and a failed assertion in any library raises SIGABRT.
 * Either way the mail must be deferred (75, 4.3.0), never bounced, and the
 * spool copy removed, because Postfix keeps the message and retries. The
 * structural limits (rg-limits.h) keep every message within max_message_size
 * far below delivery_memory_limit, so this is not a retry loop for a message
 * that would always run out.
 *
 * SIGXCPU: the soft RLIMIT_CPU (delivery_cpu_limit) was reached while the
 * message was being judged. A message that costs that much will cost it on
 * every retry: it is refused (65, 5.3.4) and kept in failure/ with its
 * reason, unless no copy can be kept there (then 75, as reject() does). The
 * hard limit, LIMIT_CPU_GRACE seconds later, is never reached first. After
 * the outcome is decided the signal is ignored: the work left is moving a
 * file and logging a line. */
static gboolean abort_dry_run;
static char abort_spool_path[4096];  /* new/NAME while it is judged, else "" */
static char xcpu_failure_path[4096]; /* failure/NAME */
static char xcpu_reason_tmp[4096];   /* tmp/NAME.reason */
static char xcpu_reason_path[4096];  /* failure/NAME.reason */
static char xcpu_reason[256];        /* "5.3.4 ...\n" */
static const char xcpu_status[] = "5.3.4 message too complex: over the processing time limit\n";

/* write_all - write(2) until done; async-signal-safe */
static gboolean
write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        text += n;
        len -= (size_t)n;
    }
    return TRUE;
}

/* on_abort - SIGABRT, SIGTRAP: defer with a DSN line */
static void
on_abort(int sig)
{
    static const char line[] = "4.3.0 out of memory or internal error, delivery deferred\n";
    static const char json[] = "{\"status\": \"4.3.0 out of memory or internal error, "
                               "delivery deferred\", \"exit\": 75}\n";

    (void)sig;
    if (abort_spool_path[0] != '\0')
        unlink(abort_spool_path);
    if (abort_dry_run)
        write_all(STDOUT_FILENO, json, sizeof json - 1);
    else
        write_all(STDOUT_FILENO, line, sizeof line - 1);
    _exit(EX_TEMPFAIL);
}

/* xcpu_keep - write failure/NAME.reason and move new/NAME beside it */
static gboolean
xcpu_keep(void)
{
    int fd;
    gboolean ok;

    if (abort_spool_path[0] == '\0')
        return FALSE;
    unlink(xcpu_reason_tmp);
    fd = open(xcpu_reason_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return FALSE;
    ok = write_all(fd, xcpu_reason, strlen(xcpu_reason)) && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(xcpu_reason_tmp, xcpu_reason_path) < 0) {
        unlink(xcpu_reason_tmp);
        return FALSE;
    }
    if (rename(abort_spool_path, xcpu_failure_path) < 0) {
        unlink(xcpu_reason_path);
        return FALSE;
    }
    return TRUE;
}

/* on_xcpu - SIGXCPU: refuse the message as too complex, keeping it */
static void
on_xcpu(int sig)
{
    static const char json[] = "{\"status\": \"5.3.4 message too complex: over the processing "
                               "time limit\", \"exit\": 65}\n";
    static const char deferred[] = "4.3.0 over the processing time limit and no copy could be "
                                   "kept, delivery deferred\n";

    (void)sig;
    if (abort_dry_run) {
        write_all(STDOUT_FILENO, json, sizeof json - 1);
        _exit(EX_DATAERR);
    }
    if (xcpu_keep()) {
        write_all(STDOUT_FILENO, xcpu_status, sizeof xcpu_status - 1);
        _exit(EX_DATAERR);
    }
    if (abort_spool_path[0] != '\0')
        unlink(abort_spool_path);
    write_all(STDOUT_FILENO, deferred, sizeof deferred - 1);
    _exit(EX_TEMPFAIL);
}

/* copy_path - one of the handlers' paths; "" when it does not fit */
static void
copy_path(char *buf, gsize size, const char *path)
{
    if (path == NULL || g_strlcpy(buf, path, size) >= size)
        buf[0] = '\0';
}

/* abort_guard - the spool copy the handlers act on (NULL: none), in the
 * spool spool_dir; from NULL after a copy on, SIGXCPU is ignored */
static void
abort_guard(const char *spool_dir, const char *path)
{
    g_autofree char *base = path != NULL ? g_path_get_basename(path) : NULL;
    g_autofree char *reason = path != NULL ? g_strconcat(base, ".reason", NULL) : NULL;
    g_autofree char *failure =
        path != NULL ? g_build_filename(spool_dir, "failure", base, NULL) : NULL;
    g_autofree char *tmp = path != NULL ? g_build_filename(spool_dir, "tmp", reason, NULL) : NULL;
    g_autofree char *kept =
        path != NULL ? g_build_filename(spool_dir, "failure", reason, NULL) : NULL;

    sigset_t block, saved;

    /* The handlers must never see half of the paths. */
    sigemptyset(&block);
    sigaddset(&block, SIGXCPU);
    sigaddset(&block, SIGABRT);
    sigaddset(&block, SIGTRAP);
    sigprocmask(SIG_BLOCK, &block, &saved);
    if (path == NULL && abort_spool_path[0] != '\0')
        signal(SIGXCPU, SIG_IGN); /* decided: what is left is quick */
    abort_spool_path[0] = '\0';
    copy_path(xcpu_failure_path, sizeof xcpu_failure_path, failure);
    copy_path(xcpu_reason_tmp, sizeof xcpu_reason_tmp, tmp);
    copy_path(xcpu_reason_path, sizeof xcpu_reason_path, kept);
    if (path != NULL && xcpu_failure_path[0] != '\0' && xcpu_reason_tmp[0] != '\0' &&
        xcpu_reason_path[0] != '\0')
        copy_path(abort_spool_path, sizeof abort_spool_path, path);
    sigprocmask(SIG_SETMASK, &saved, NULL);
}

/* limits_apply - the process limits of the configuration (rg-limits.h) */
static void
limits_apply(const Config *config, const char *queue_id)
{
    g_autoptr(GError) error = NULL;
    gboolean skipped = FALSE;

    g_snprintf(xcpu_reason, sizeof xcpu_reason,
               "5.3.4 message too complex: over the processing time limit "
               "(delivery_cpu_limit = %" G_GUINT64_FORMAT " s)\n",
               config->delivery_cpu_limit);
    if (!limits_apply_process(config->delivery_memory_limit, config->delivery_cpu_limit, &skipped,
                              &error))
        maillog_warning("%s: %s; delivering without that limit", queue_id, error->message);
    if (skipped)
        maillog_info("%s: a build with AddressSanitizer sets no delivery_memory_limit", queue_id);
}

typedef struct {
    char *config_path;
    gboolean dry_run;
    gboolean version;
    char *queue_id;
    char *sender;
    char *recipient;
    char *client_address;
} Options;

/* read_message - read fd up to limit bytes; *too_big when more was there.
 * Reading stops at limit + 1 bytes, so a huge message is never read whole.
 * Lengths are gsize throughout (a GByteArray's guint would wrap at 4 GiB),
 * and the limit is never above LIMIT_MESSAGE_SIZE_MAX, as the configuration
 * parser already insists. */
static GBytes *
read_message(int fd, guint64 limit, gboolean *too_big, GError **error)
{
    struct stat st;
    gsize cap = (gsize)MIN(limit, LIMIT_MESSAGE_SIZE_MAX) + 1;
    gsize size = READ_CHUNK;
    gsize len = 0;
    g_autofree guint8 *buf = NULL;

    *too_big = FALSE;
    /* A regular file (tests, replays) tells its size: allocate once. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 && (guint64)st.st_size < cap)
        size = (gsize)st.st_size + 1;
    size = MIN(size, cap);
    buf = g_malloc(size);
    for (;;) {
        ssize_t n;

        if (len == size) {
            if (size == cap)
                break; /* limit + 1 bytes: too big */
            /* Grow by half of what is there, so a big message is not copied often. */
            size = MIN(cap, size + MAX((gsize)READ_CHUNK, size / 2));
            buf = g_realloc(buf, size);
        }
        do {
            n = read(fd, buf + len, size - len);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            int saved = errno;
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot read the message: %s",
                        g_strerror(saved));
            return NULL;
        }
        if (n == 0)
            break;
        len += (gsize)n;
    }
    if (len == cap) {
        *too_big = TRUE;
        len = cap - 1;
    }
    return g_bytes_new_take(g_steal_pointer(&buf), len);
}

/* print_status - the DSN text pipe(8) shows: the first line on stdout, in
 * printable ASCII as DSNs want (GLib's curly quotes become plain ones) */
static void
print_status(const char *status)
{
    g_autofree char *ascii = g_str_to_ascii(status, "C");

    for (char *p = ascii; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = '\0';
            break;
        }
        if (!g_ascii_isprint(*p))
            *p = '?';
    }
    printf("%s\n", ascii);
    fflush(stdout);
}

/* dry_run_refusal - print the JSON of a refusal and return its status */
static int
dry_run_refusal(int exit_status, const char *status)
{
    g_autoptr(Verdict) verdict = verdict_new_refusal(exit_status, status);
    g_autofree char *json = verdict_to_json(verdict);

    printf("%s\n", json);
    return exit_status;
}

/* dry_run - read and decide, write nothing, print the verdict as JSON */
static int
dry_run(Options *opt)
{
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GBytes) raw = NULL;
    g_autoptr(Verdict) verdict = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *json = NULL;
    g_autofree char *status = NULL;
    gboolean too_big;

    /* What a real delivery would log goes to stderr too: the JSON alone does
     * not say why (a library that cannot be loaded, say). */
    maillog_open("replygate/deliver", TRUE);
    ring = keyring_load_with_config(config_resolve_path(opt->config_path), &config, &error);
    if (ring == NULL) {
        status = g_strdup_printf("4.3.5 configuration error: %s", error->message);
        return dry_run_refusal(EX_TEMPFAIL, status);
    }
    maillog_set_socket(config->syslog_socket);
    limits_apply(config, opt->queue_id ? opt->queue_id : "NOQUEUE");
    raw = read_message(STDIN_FILENO, config->max_message_size, &too_big, &error);
    if (raw == NULL) {
        status = g_strdup_printf("4.3.0 %s", error->message);
        return dry_run_refusal(EX_TEMPFAIL, status);
    }
    if (too_big)
        return dry_run_refusal(EX_DATAERR, "5.3.4 message too big");
    verdict = evaluate_message_full(config, ring, raw, opt->sender, opt->recipient, opt->queue_id);
    /* The from check reads the database only when it can change the outcome,
     * so a dry run with from_check = record needs no database. */
    if (verdict->exit_status == EX_OK && config->from_check == FROM_CHECK_REQUIRE &&
        fromcheck_needed(verdict)) {
        g_autoptr(PGconn) conn = db_connect_start(config->database, "replygate-deliver");

        if (!fromcheck_apply(conn, config, verdict, opt->sender, &error)) {
            status = g_strdup_printf("4.3.0 from check: %s", error->message);
            return dry_run_refusal(EX_TEMPFAIL, status);
        }
    }
    signal(SIGXCPU, SIG_IGN); /* decided: printing it is not judging it */
    json = verdict_to_json(verdict);
    printf("%s\n", json);
    return verdict->exit_status;
}

/* log_to_maillog - GLib's and GMime's own messages go to mail.log: pipe(8)
 * reads standard error too, and a warning there would become the DSN text */
static GLogWriterOutput
log_to_maillog(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    const char *message = NULL;
    const char *domain = NULL;
    g_autofree char *esc = NULL;

    if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
        return G_LOG_WRITER_HANDLED;
    for (gsize i = 0; i < n_fields; i++) {
        if (fields[i].length < 0 && strcmp(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
        else if (fields[i].length < 0 && strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
    }
    esc = maillog_escape(message);
    maillog_warning("%s%s%s", domain ? domain : "", domain ? ": " : "", esc);
    return G_LOG_WRITER_HANDLED;
}

/* The spool whose metrics/ counts this delivery: the configured one once
 * the configuration is read, the default before (a broken configuration is
 * exactly the deferral an administrator must see counted). */
static const char *count_spool = COUNTFILE_DEFAULT_SPOOL;

/* deliver_count - add a deferral or a duplicate to the spool's count files
 * for `replygate metrics`; a failure to count never changes the outcome */
static void
deliver_count(const DeliveryOutcome *outcome)
{
    g_autofree char *status = NULL;

    if (outcome->exit_status == EX_TEMPFAIL) {
        /* The reason is in the details, which the DSN text no longer has. */
        status =
            outcome->detail != NULL ? g_strdup(outcome->detail) : delivery_outcome_status(outcome);
        countfile_defer(count_spool, status);
    } else if (outcome->exit_status == EX_OK && outcome->duplicate) {
        (void)countfile_add(count_spool, "outcomes", "duplicate", NULL);
    }
}

/* print_outcome - the first line pipe(8) uses as the DSN text (none for
 * success); returns the exit status */
static int
print_outcome(const DeliveryOutcome *outcome)
{
    deliver_count(outcome);
    if (outcome->exit_status != EX_OK) {
        g_autofree char *status = delivery_outcome_status(outcome);
        print_status(status);
    }
    return outcome->exit_status;
}

/* deliver_connect - the connection started in deliver(), once it is up
 * (asked again after a failure, the core answers itself: delivery_connect) */
static PGconn *
deliver_connect(gpointer data, GError **error)
{
    PGconn *conn = data;

    return db_connect_finish(conn, 0, error) ? conn : NULL;
}

/* deliver_guard - the delivery core's spool copy, for the signal handlers;
 * data is the spool directory */
static void
deliver_guard(gpointer data, const char *path)
{
    abort_guard(data, path);
}

/* deliver - the real delivery; returns the exit status */
static int
deliver(Options *opt)
{
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GBytes) raw = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(ProcLog) proclog = NULL;
    g_autoptr(PGconn) conn = NULL;
    g_autoptr(DeliveryOutcome) outcome = NULL;
    gboolean over;
    DeliveryEnvelope env = {
        .queue_id = opt->queue_id,
        .sender = opt->sender,
        .recipient = opt->recipient,
        .client_address = opt->client_address,
    };
    DeliveryContext ctx = {.spool_guard = deliver_guard};

    maillog_open("replygate/deliver", g_getenv("REPLYGATE_LOG_STDERR") != NULL);
    g_log_set_writer_func(log_to_maillog, NULL, NULL);
    if (opt->recipient == NULL || opt->sender == NULL) {
        /* A master.cf mistake: defer until the administrator fixes it. */
        outcome = delivery_defer(NULL, opt->queue_id,
                                 "4.3.5 replygate-deliver needs -f SENDER and -r RECIPIENT");
        return print_outcome(outcome);
    }
    ring = keyring_load_with_config(config_resolve_path(opt->config_path), &config, &error);
    if (ring == NULL) {
        g_autofree char *status = g_strdup_printf("4.3.5 configuration error: %s", error->message);
        outcome = delivery_defer(NULL, opt->queue_id, status);
        return print_outcome(outcome);
    }
    maillog_set_socket(config->syslog_socket);
    limits_apply(config, opt->queue_id ? opt->queue_id : "NOQUEUE");
    count_spool = config->spool_directory;
    /* Connecting costs the server a fork; let it happen while the message is
     * read, spooled and parsed. Errors show when the connection is needed. */
    conn = db_connect_start(config->database, "replygate-deliver");

    raw = read_message(STDIN_FILENO, config->max_message_size, &over, &error);
    if (raw == NULL) {
        g_autofree char *status = delivery_tempfail_status(error);
        outcome = delivery_defer(NULL, opt->queue_id, status);
        return print_outcome(outcome);
    }

    proclog = proclog_open(config->processor_log, &error);
    if (proclog == NULL) {
        maillog_warning("%s: %s; delivering without it", opt->queue_id ? opt->queue_id : "NOQUEUE",
                        error->message);
        g_clear_error(&error);
    }
    proclog_set_queue_id(proclog, opt->queue_id);
    ctx.config = config;
    ctx.ring = ring;
    ctx.proclog = proclog;
    ctx.connect = deliver_connect;
    ctx.connect_data = conn;
    ctx.spool_guard_data = config->spool_directory;
    outcome = delivery_run(&ctx, &env, raw, over);
    return print_outcome(outcome);
}

/* parse_options - GOption over argv; FALSE with a message on a usage error */
static gboolean
parse_options(Options *opt, int *argc, char ***argv, GError **error)
{
    GOptionEntry entries[] = {
        {"config", 0, 0, G_OPTION_ARG_FILENAME, &opt->config_path, "configuration file", "FILE"},
        {"dry-run", 0, 0, G_OPTION_ARG_NONE, &opt->dry_run, "decide and print JSON, write nothing",
         NULL},
        {"version", 0, 0, G_OPTION_ARG_NONE, &opt->version, "print the version", NULL},
        {"queue-id", 'q', 0, G_OPTION_ARG_FILENAME, &opt->queue_id, "Postfix queue id", "QUEUE_ID"},
        {"sender", 'f', 0, G_OPTION_ARG_FILENAME, &opt->sender, "envelope sender", "SENDER"},
        {"recipient", 'r', 0, G_OPTION_ARG_FILENAME, &opt->recipient, "envelope recipient",
         "RECIPIENT"},
        {"client-address", 'c', 0, G_OPTION_ARG_FILENAME, &opt->client_address,
         "SMTP client address", "ADDR"},
        {NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new("< MESSAGE");

    /* The envelope is taken as raw bytes (G_OPTION_ARG_FILENAME): a string
     * option would be converted from the locale and refuse an 8-bit or
     * SMTPUTF8 address. store.c makes text valid UTF-8 before storing it. */

    g_option_context_set_summary(context,
                                 "Deliver one reply from Postfix's pipe(8) into PostgreSQL.");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, argc, argv, error))
        return FALSE;
    if (*argc > 1) {
        g_set_error(error, RG_ERROR, RG_ERROR_INVALID, "unexpected argument \"%s\"", (*argv)[1]);
        return FALSE;
    }
    return TRUE;
}

int
main(int argc, char **argv)
{
    Options opt = {0};
    g_autoptr(GError) error = NULL;
    int status;

    if (!parse_options(&opt, &argc, &argv, &error)) {
        /* Postfix must not bounce over its own master.cf line: defer. */
        /* stdout first: pipe(8) reads both, and the first line is the DSN. */
        printf("4.3.5 replygate-deliver: usage error: %s\n", error->message);
        fflush(stdout);
        fprintf(stderr, "replygate-deliver: %s\n", error->message);
        return EX_TEMPFAIL;
    }
    if (opt.version) {
        printf("replygate-deliver %s\n", REPLYGATE_VERSION);
        return EX_OK;
    }
    {
        struct sigaction sa = {.sa_handler = on_abort};

        abort_dry_run = opt.dry_run;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGABRT, &sa, NULL);
        sigaction(SIGTRAP, &sa, NULL);
        sa.sa_handler = on_xcpu;
        sigaction(SIGXCPU, &sa, NULL);
    }
    status = opt.dry_run ? dry_run(&opt) : deliver(&opt);
    fflush(stdout);
    g_free(opt.config_path);
    g_free(opt.queue_id);
    g_free(opt.sender);
    g_free(opt.recipient);
    g_free(opt.client_address);
    return status;
}
