/*
 * deliver.c - replygate-deliver, the pipe(8) delivery agent (SPEC section 5).
 *
 *   replygate-deliver [--config FILE] [--dry-run] -q QUEUE_ID -f SENDER
 *                     -r RECIPIENT [-c CLIENT_ADDR]
 *
 * Reads one message on standard input (never more than max_message_size),
 * spools it in new/, decides about it with evaluate_message(), stores it in
 * PostgreSQL, moves it to success/ or failure/, logs to mail.log and the
 * processor log, and exits with the sysexits status pipe(8) expects. For a
 * non-zero status the first line on standard output is the DSN text.
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
 * A message too big is refused after max_message_size bytes, and only those
 * are kept in failure/. A permanent refusal leaves NAME and NAME.reason in
 * failure/; a temporary one leaves nothing (Postfix keeps the message). A
 * file left in new/ means an agent was killed mid-delivery; Postfix retries
 * it and the database's unique key keeps the reply stored once.
 *
 * pipe(8) reads standard output and standard error together, so the agent
 * writes nothing to standard error on its real path: GLib's own messages go
 * to mail.log. REPLYGATE_LOG_STDERR=1 copies mail.log lines to standard
 * error for tests.
 */
#include <errno.h>
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
#include "evaluate.h"
#include "fromcheck.h"
#include "maillog.h"
#include "proclog.h"
#include "rg-autoptr.h"
#include "rg-error.h"
#include "spool.h"
#include "store.h"

#define READ_CHUNK 65536

/* What the abort handler needs, set before it can run and only read by it:
 * GLib stops with SIGTRAP (g_error's breakpoint) when memory runs out, and a
 * failed assertion in any library raises SIGABRT. Either way the mail must be deferred (75, 4.3.0),
 * never bounced, and the spool copy removed, because Postfix keeps the message and retries. */
static gboolean abort_dry_run;
static char abort_spool_path[4096];

/* on_abort - SIGABRT, SIGTRAP: defer with a DSN line, using async-signal-safe calls only */
static void
on_abort(int sig)
{
    static const char line[] = "4.3.0 out of memory or internal error, delivery deferred\n";
    static const char json[] = "{\"status\": \"4.3.0 out of memory or internal error, "
                               "delivery deferred\", \"exit\": 75}\n";
    ssize_t n;

    (void)sig;
    if (abort_spool_path[0] != '\0')
        unlink(abort_spool_path);
    if (abort_dry_run)
        n = write(STDOUT_FILENO, json, sizeof json - 1);
    else
        n = write(STDOUT_FILENO, line, sizeof line - 1);
    (void)n;
    _exit(EX_TEMPFAIL);
}

/* abort_guard - the spool file the abort handler removes (NULL: none) */
static void
abort_guard(const char *path)
{
    if (path == NULL ||
        g_strlcpy(abort_spool_path, path, sizeof abort_spool_path) >= sizeof abort_spool_path)
        abort_spool_path[0] = '\0';
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

/* Everything one delivery carries from step to step. */
typedef struct {
    Options *opt;
    Config *config;
    ProcLog *proclog;
    PGconn *conn;         /* started early, see deliver() */
    const char *queue_id; /* for log lines: -q or "NOQUEUE" */
} Delivery;

/* read_message - read fd up to limit bytes; *too_big when more was there.
 * Reading stops at limit + 1 bytes, so a huge message is never read whole. */
static GBytes *
read_message(int fd, guint64 limit, gboolean *too_big, GError **error)
{
    struct stat st;
    gsize want = READ_CHUNK;
    g_autoptr(GByteArray) buf = NULL;

    *too_big = FALSE;
    /* A regular file (tests, replays) tells its size: allocate once. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (guint64)st.st_size <= limit)
        want = (gsize)st.st_size + 1;
    buf = g_byte_array_sized_new((guint)want);
    for (;;) {
        guint old = buf->len;
        /* Grow by half of what is there, so a big message is not copied often. */
        gsize room = MAX((gsize)READ_CHUNK, (gsize)old / 2);
        ssize_t n;

        if (old == 0)
            room = MAX(room, want); /* the whole regular file in one read */

        room = MIN(room, (gsize)(limit + 1 - old));
        g_byte_array_set_size(buf, old + (guint)room);
        do {
            n = read(fd, buf->data + old, room);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            int saved = errno;
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot read the message: %s",
                        g_strerror(saved));
            return NULL;
        }
        g_byte_array_set_size(buf, old + (guint)n);
        if (n == 0)
            break;
        if ((guint64)buf->len > limit) {
            *too_big = TRUE;
            g_byte_array_set_size(buf, (guint)limit);
            break;
        }
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
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

    ring = keyring_load_with_config(config_resolve_path(opt->config_path), &config, &error);
    if (ring == NULL) {
        status = g_strdup_printf("4.3.5 configuration error: %s", error->message);
        return dry_run_refusal(EX_TEMPFAIL, status);
    }
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
    json = verdict_to_json(verdict);
    printf("%s\n", json);
    return verdict->exit_status;
}

/* defer - a temporary failure: log it, print the DSN text, return 75 */
static int
defer(Delivery *d, const char *status, const char *message_id)
{
    g_autofree char *esc = maillog_escape(status);
    g_autofree char *mid = maillog_escape(message_id);

    if (message_id)
        maillog_info("%s: message-id=<%s>, status=deferred (%s)", d->queue_id, mid, esc);
    else
        maillog_info("%s: status=deferred (%s)", d->queue_id, esc);
    proclog_error(d->proclog, "replygate: deferred: %s", esc);
    print_status(status);
    return EX_TEMPFAIL;
}

/* tempfail_status - "4.3.5 ..." for configuration, "4.3.0 ..." for resources */
static char *
tempfail_status(const GError *error)
{
    if (error && error->domain == RG_ERROR && error->code == RG_ERROR_CONFIG)
        return g_strdup_printf("4.3.5 %s", error->message);
    return g_strdup_printf("4.3.0 %s", error ? error->message : "temporary failure");
}

/* log_outcome - the mail.log line of SPEC section 6 */
static void
log_outcome(Delivery *d, const Verdict *v, const char *dedup_id, gint64 reply_id,
            const char *status_word, const char *reason)
{
    g_autoptr(GString) line = g_string_new(NULL);
    g_autofree char *mid = maillog_escape(dedup_id);

    g_string_append_printf(line, "%s: message-id=<%s>", d->queue_id, mid);
    if (v->have_key) {
        g_autofree char *kind = maillog_escape(v->key.kind);
        g_string_append_printf(line, ", key=%s-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, kind,
                               v->key.target, v->key.user);
        if (v->key_source)
            g_string_append_printf(line, ", source=%s", v->key_source);
    }
    if (reply_id > 0)
        g_string_append_printf(line, ", reply=%" G_GINT64_FORMAT, reply_id);
    if (v->message)
        g_string_append_printf(line, ", attachments=%u", v->message->attachments->len);
    g_string_append_printf(line, ", status=%s", status_word);
    if (reason) {
        g_autofree char *esc = maillog_escape(reason);
        g_string_append_printf(line, " (%s)", esc);
    }
    maillog_info("%s", line->str);
}

/* reject - a permanent failure: keep the file in failure/ with its reason */
static int
reject(Delivery *d, const Verdict *v, const char *spool_path, const char *dedup_id)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *moved = NULL;
    g_autofree char *esc = maillog_escape(v->status);
    const char *spool_dir = d->config->spool_directory;

    proclog_info(d->proclog, "replygate: rejected: %s", esc);
    if (!spool_write_reason(spool_dir, spool_path, v->status, &error) ||
        (moved = spool_move(spool_dir, spool_path, "failure", &error)) == NULL) {
        /* Without a copy in failure/ the message must not bounce: retry later. */
        g_autofree char *status = tempfail_status(error);
        g_autofree char *base = g_path_get_basename(spool_path);
        g_autofree char *reason_name = g_strconcat(base, ".reason", NULL);
        g_autofree char *reason_path = g_build_filename(spool_dir, "failure", reason_name, NULL);

        spool_remove(reason_path, NULL);
        spool_remove(spool_path, NULL);
        return defer(d, status, dedup_id);
    }
    proclog_debug(d->proclog, "Moving %s => %s/failure", spool_path, spool_dir);
    log_outcome(d, v, dedup_id, 0, "rejected", v->status);
    print_status(v->status);
    return v->exit_status;
}

/* too_big - keep the part that was read in failure/, then refuse with 5.3.4;
 * defer instead when no copy can be kept there, as reject() does */
static int
too_big(Delivery *d, GBytes *head)
{
    static const char status[] = "5.3.4 message too big";
    g_autoptr(GError) error = NULL;
    const char *spool_dir = d->config->spool_directory;
    g_autofree char *path = spool_write_new(spool_dir, head, &error);
    g_autofree char *reason =
        g_strdup_printf("%s (over max_message_size = %" G_GUINT64_FORMAT
                        "; only the first %" G_GUINT64_FORMAT " bytes are kept)",
                        status, d->config->max_message_size, d->config->max_message_size);
    g_autofree char *moved = NULL;

    if (path == NULL) {
        g_autofree char *tempfail = tempfail_status(error);
        return defer(d, tempfail, NULL);
    }
    proclog_info(d->proclog, "replygate: rejected: %s", reason);
    if (!spool_write_reason(spool_dir, path, reason, &error) ||
        (moved = spool_move(spool_dir, path, "failure", &error)) == NULL) {
        g_autofree char *tempfail = tempfail_status(error);
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *reason_name = g_strconcat(base, ".reason", NULL);
        g_autofree char *reason_path = g_build_filename(spool_dir, "failure", reason_name, NULL);

        spool_remove(reason_path, NULL);
        spool_remove(path, NULL);
        return defer(d, tempfail, NULL);
    }
    proclog_debug(d->proclog, "Moving %s => %s/failure", path, spool_dir);
    maillog_info("%s: status=rejected (%s)", d->queue_id, status);
    print_status(status);
    return EX_DATAERR;
}

/* accept - store the message, then move the spool copy to success/ */
static int
accept_message(Delivery *d, const Verdict *v, const char *spool_path, const char *dedup_id)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *moved = NULL;
    StoreEnvelope envelope = {
        .queue_id = d->opt->queue_id,
        .sender = d->opt->sender,
        .recipient = d->opt->recipient,
        .client_address = d->opt->client_address,
    };
    StoreOutcome outcome = {0};

    if (!db_connect_finish(d->conn, 0, &error) ||
        !store_message(d->conn, v, &envelope, &outcome, &error)) {
        g_autofree char *status = tempfail_status(error);
        /* Postfix keeps the message and retries: no second copy here. */
        spool_remove(spool_path, NULL);
        return defer(d, status, dedup_id);
    }
    abort_guard(NULL); /* stored: from here on an abort must not lose the copy */
    moved = spool_move(d->config->spool_directory, spool_path, "success", &error);
    if (moved)
        proclog_debug(d->proclog, "Moving %s => %s/success", spool_path,
                      d->config->spool_directory);
    else
        maillog_warning("%s: stored, but %s", d->queue_id, error->message);
    log_outcome(d, v, dedup_id, outcome.reply_id, outcome.duplicate ? "duplicate" : "stored", NULL);
    return EX_OK;
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

/* deliver - the real delivery; returns the exit status */
static int
deliver(Options *opt)
{
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GBytes) raw = NULL;
    g_autoptr(Verdict) verdict = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(ProcLog) proclog = NULL;
    g_autoptr(PGconn) conn = NULL;
    g_autofree char *spool_path = NULL;
    g_autofree char *dedup_id = NULL;
    g_autofree char *esc = NULL;
    gboolean over;
    Delivery d = {.opt = opt, .queue_id = opt->queue_id ? opt->queue_id : "NOQUEUE"};

    maillog_open("replygate/deliver", g_getenv("REPLYGATE_LOG_STDERR") != NULL);
    g_log_set_writer_func(log_to_maillog, NULL, NULL);
    if (opt->recipient == NULL || opt->sender == NULL) {
        /* A master.cf mistake: defer until the administrator fixes it. */
        return defer(&d, "4.3.5 replygate-deliver needs -f SENDER and -r RECIPIENT", NULL);
    }
    ring = keyring_load_with_config(config_resolve_path(opt->config_path), &config, &error);
    if (ring == NULL) {
        g_autofree char *status = g_strdup_printf("4.3.5 configuration error: %s", error->message);
        return defer(&d, status, NULL);
    }
    maillog_set_socket(config->syslog_socket);
    d.config = config;
    /* Connecting costs the server a fork; let it happen while the message is
     * read, spooled and parsed. Errors show when the connection is needed. */
    conn = db_connect_start(config->database, "replygate-deliver");
    d.conn = conn;

    raw = read_message(STDIN_FILENO, config->max_message_size, &over, &error);
    if (raw == NULL) {
        g_autofree char *status = tempfail_status(error);
        return defer(&d, status, NULL);
    }

    proclog = proclog_open(config->processor_log, &error);
    if (proclog == NULL) {
        maillog_warning("%s: %s; delivering without it", d.queue_id, error->message);
        g_clear_error(&error);
    }
    d.proclog = proclog;

    if (over)
        return too_big(&d, raw);

    spool_path = spool_write_new(config->spool_directory, raw, &error);
    if (spool_path == NULL) {
        g_autofree char *status = tempfail_status(error);
        return defer(&d, status, NULL);
    }

    abort_guard(spool_path);
    verdict = evaluate_message_full(config, ring, raw, opt->sender, opt->recipient, opt->queue_id);
    if (verdict->tls_refused != NULL)
        maillog_warning("%s: ignored an X-Replygate-TLS header: %s; storing no TLS data",
                        d.queue_id, verdict->tls_refused);
    if (verdict->message)
        dedup_id = store_dedup_id(verdict->message);
    else
        dedup_id = g_strdup("unparsable");
    esc = maillog_escape(dedup_id);
    proclog_info(proclog, "replygate: processing <%s>", esc);
    proclog_debug(proclog, "Matched %s", spool_path);

    if (verdict->exit_status == EX_OK &&
        !fromcheck_apply(conn, config, verdict, opt->sender, &error)) {
        g_autofree char *status = tempfail_status(error);
        spool_remove(spool_path, NULL);
        return defer(&d, status, dedup_id);
    }
    if (verdict->exit_status == EX_OK && verdict->message)
        return accept_message(&d, verdict, spool_path, dedup_id);
    if (verdict->exit_status == EX_TEMPFAIL || verdict->exit_status == EX_OK) {
        spool_remove(spool_path, NULL);
        return defer(&d,
                     verdict->exit_status == EX_OK ? "4.3.0 no message to store" : verdict->status,
                     dedup_id);
    }
    return reject(&d, verdict, spool_path, dedup_id);
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
