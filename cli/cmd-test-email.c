/*
 * cmd-test-email.c - `replygate test-email`: send a signed test reply to the
 * local MX over STARTTLS and follow it through every hop to its row, the way
 * GitHub Enterprise's "send test email" does, but showing each step.
 *
 * Hops, each printed with its timing:
 *   smtp       our own SMTP client (smtp-client.c): EHLO, STARTTLS, EHLO, MAIL,
 *              RCPT, DATA; every command and reply is printed
 *   queue      the queue id from the 250 reply to DATA
 *   mail.log   the lines of that queue id, until pipe(8) or lmtp(8) says
 *              status=sent (read from where mail.log ended before the test
 *              began); the agent is replygate-deliver (the pipe door) or
 *              replygate-lmtpd (the LMTP door), whichever Postfix uses
 *   processor  the processor log lines of the agent's process (its pid is
 *              in its mail.log line; for the LMTP service, the lines of
 *              this message among those of its other deliveries)
 *   database   the row in replygate.messages with the Message-ID, marked
 *              is_test, so the application's views never show it
 * The Message-ID carries testmark.h's mark, signed with the first secret:
 * the agent stores the row with is_test = true, and a remote sender cannot
 * mint one.
 * The first hop that breaks is named ("FAIL rcpt: ...") and the exit
 * status is 1.
 *
 * TLS: the certificate is verified (system CAs, or --tls-ca FILE) when
 * --server names a host, the way any client should; for an IP address, the
 * default 127.0.0.1:25, there is no name to verify, so it is reported and
 * not judged unless --tls-verify asks (then the address must be in the
 * certificate). --no-tls-verify only reports. Nothing is sent but EHLO and
 * STARTTLS before the handshake completes.
 *
 * Run as root, each hop takes the identity of what it checks: the database
 * as the agent's user (peer authentication), mail.log and the processor
 * log as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "as-user.h"
#include "commands.h"
#include "db.h"
#include "maillog.h"
#include "ops-util.h"
#include "rg-autoptr.h"
#include "smtp-client.h"
#include "testmark.h"

#define TEST_KIND "test"

/* TestRun - what every hop needs: when the test began, how long to wait */
typedef struct {
    double start_ms;
    int timeout_s;
    gboolean verify;         /* verify the server's certificate */
    const char *verify_name; /* against this host name or address */
    const char *ca_file;     /* NULL: the system's CAs */
} TestRun;

/* test_say - one line of a hop, with the time since the test began */
static void test_say(const TestRun *run, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
test_say(const TestRun *run, const char *format, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, format);
    text = g_strdup_vprintf(format, ap);
    va_end(ap);
    printf("  %+9.1fms  %s\n", ops_monotonic_ms() - run->start_ms, text);
    fflush(stdout);
}

/* test_fail - name the hop that broke; returns 1 for the exit status */
static int test_fail(const char *hop, const char *format, ...) G_GNUC_PRINTF(2, 3);

static int
test_fail(const char *hop, const char *format, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, format);
    text = g_strdup_vprintf(format, ap);
    va_end(ap);
    printf("FAIL %s: %s\n", hop, text);
    return 1;
}

/* test_transcript - print a line of the SMTP dialogue like any hop's */
static void
test_transcript(gpointer data, const char *line)
{
    test_say(data, "%s", line);
}

/* test_message - the test reply, CRLF line ends, dot-stuffing not needed */
static char *
test_message(const char *from, const char *to, const char *message_id)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *date = g_date_time_format(now, "%a, %d %b %Y %H:%M:%S %z");
    g_autofree char *when = g_date_time_format_iso8601(now);

    return g_strdup_printf("From: replygate test <%s>\r\n"
                           "To: <%s>\r\n"
                           "Subject: replygate test reply\r\n"
                           "Date: %s\r\n"
                           "Message-ID: <%s>\r\n"
                           "MIME-Version: 1.0\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "\r\n"
                           "This is a test reply sent by `replygate test-email` at %s.\r\n"
                           "If it is stored, replies reach the application.\r\n"
                           ".\r\n",
                           from, to, date, message_id, when);
}

/* test_smtp - the SMTP hop; returns the queue id or NULL with hop set */
static char *
test_smtp(TestRun *run, const char *server, const char *helo, const char *from, const char *to,
          const char *message, const char **hop, GError **error)
{
    g_autoptr(SmtpClient) client = smtp_client_new(run->timeout_s, test_transcript, run);
    g_autoptr(GRegex) queue_re = g_regex_new("queued as ([0-9A-Za-z]+)", 0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    g_autofree char *queued = NULL;

    if (run->verify)
        smtp_client_set_verify(client, run->verify_name, run->ca_file);

    queued = smtp_client_send(client, server, helo, from, to, message, hop, error);
    if (queued == NULL)
        return NULL;
    *hop = "queue";
    if (!g_regex_match(queue_re, queued, 0, &match)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no queue id in the 250 reply: %s",
                    queued);
        return NULL;
    }
    return g_match_info_fetch(match, 1);
}

/* test_file_size - the size of a file now, 0 when it is missing */
static off_t
test_file_size(const char *path)
{
    struct stat st;

    return path && stat(path, &st) == 0 ? st.st_size : 0;
}

/* test_new_lines - the complete lines a file got after offset (which is
 * moved on); only the new part is read, so a big mail.log costs nothing.
 * NULL when it cannot be read. */
static GPtrArray *
test_new_lines(const char *path, off_t *offset, GError **error)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) text = g_string_new(NULL);
    char buf[65536];
    struct stat st;
    const char *p, *end;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot read %s: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    if (st.st_size < *offset)
        *offset = 0; /* rotated */
    while ((n = pread(fd, buf, sizeof buf, *offset + (off_t)text->len)) > 0)
        g_string_append_len(text, buf, n);
    close(fd);
    p = text->str;
    end = text->str + text->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        if (nl == NULL)
            break; /* a line still being written: next time */
        g_ptr_array_add(lines, g_strndup(p, (gsize)(nl - p)));
        p = nl + 1;
    }
    *offset += (off_t)(p - text->str);
    return g_steal_pointer(&lines);
}

/* How long the agent's mail.log line may arrive after Postfix's "sent". */
#define TEST_AGENT_GRACE_MS 3000

/* test_follow_maillog - print the queue id's lines until pipe(8) or lmtp(8) is done;
 * *pid gets the agent's pid. FALSE with a reason when it did not work. */
static gboolean
test_follow_maillog(const TestRun *run, const char *maillog, off_t offset, const char *queue_id,
                    long *pid, GError **error)
{
    g_autofree char *needle = g_strdup_printf(" %s: ", queue_id);
    g_autoptr(GRegex) agent_re =
        g_regex_new(" replygate/(?:deliver|lmtpd)\\[([0-9]+)\\]: ", 0, 0, NULL);
    double deadline = ops_monotonic_ms() + run->timeout_s * 1000.0;
    gboolean agent_seen = FALSE;
    double sent_at = 0; /* when Postfix said status=sent */
    g_autofree char *agent_status = NULL;

    *pid = 0;
    while (ops_monotonic_ms() < deadline) {
        g_autoptr(GPtrArray) lines = test_new_lines(maillog, &offset, error);

        if (lines == NULL)
            return FALSE;
        for (guint i = 0; i < lines->len; i++) {
            const char *line = g_ptr_array_index(lines, i);
            g_autoptr(GMatchInfo) m = NULL;
            const char *status;

            if (strstr(line, needle) == NULL)
                continue;
            test_say(run, "%s", line);
            if (g_regex_match(agent_re, line, 0, &m)) {
                g_autofree char *digits = g_match_info_fetch(m, 1);
                *pid = strtol(digits, NULL, 10);
                agent_seen = TRUE;
                status = strstr(line, "status=");
                g_free(agent_status);
                agent_status = g_strdup(status ? status + 7 : "?");
            }
            /* pipe(8), lmtp(8), or another delivery agent, reports the outcome. */
            status = strstr(line, ", status=");
            if (status && !g_regex_match_simple(" replygate/", line, 0, 0)) {
                status += 9;
                if (g_str_has_prefix(status, "sent")) {
                    if (agent_seen)
                        return TRUE;
                    /* The agent's line travels through syslog, Postfix's
                     * maybe through postlogd: give it a moment to arrive. */
                    if (sent_at == 0)
                        sent_at = ops_monotonic_ms();
                    continue;
                }
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Postfix says status=%s", status);
                return FALSE;
            }
            if (strstr(line, ": removed") && !agent_seen && sent_at == 0) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "the message left the queue without a delivery (discarded?)");
                return FALSE;
            }
        }
        if (agent_seen && sent_at != 0)
            return TRUE;
        if (sent_at != 0 && ops_monotonic_ms() - sent_at > TEST_AGENT_GRACE_MS) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "delivered, but not by replygate-deliver or replygate-lmtpd "
                        "(transport_maps?)");
            return FALSE;
        }
        g_usleep(50 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no delivery of %s in %s within %d s%s%s",
                queue_id, maillog, run->timeout_s, agent_seen ? "; the agent said status=" : "",
                agent_seen ? agent_status : "");
    return FALSE;
}

/* test_follow_processor - the processor log lines of the agent's pid and
 * the message's queue id */
static gboolean
test_follow_processor(const TestRun *run, const char *path, off_t offset, long pid,
                      const char *queue_id, const char *message_id, GError **error)
{
    g_autofree char *tag = g_strdup_printf(" (%ld) (%s) #] ", pid, queue_id);
    g_autofree char *processing = g_strdup_printf("processing <%s>", message_id);
    double deadline = ops_monotonic_ms() + run->timeout_s * 1000.0;
    gboolean seen = FALSE;

    while (ops_monotonic_ms() < deadline) {
        g_autoptr(GPtrArray) lines = test_new_lines(path, &offset, error);

        if (lines == NULL)
            return FALSE;
        for (guint i = 0; i < lines->len; i++) {
            const char *line = g_ptr_array_index(lines, i);
            if (strstr(line, tag) == NULL)
                continue;
            test_say(run, "%s", line);
            if (strstr(line, processing))
                seen = TRUE;
            if (seen && strstr(line, "Moving ") && g_str_has_suffix(line, "/success"))
                return TRUE;
            if (seen && (strstr(line, "rejected:") || strstr(line, "deferred:"))) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the agent says %s",
                            strstr(line, "#] ") + 3);
                return FALSE;
            }
        }
        g_usleep(50 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                "no \"%s\" and move to success/ by process %ld in %s", processing, pid, path);
    return FALSE;
}

typedef struct {
    const TestRun *run;
    const Config *config;
    const char *message_id;
    int err_fd; /* the error text goes back here */
} DatabaseHop;

static gboolean test_follow_database(const TestRun *run, const Config *config,
                                     const char *message_id, GError **error);

/* database_hop - test_follow_database() in the agent's identity */
static int
database_hop(gpointer data)
{
    DatabaseHop *hop = data;
    g_autoptr(GError) error = NULL;

    if (test_follow_database(hop->run, hop->config, hop->message_id, &error))
        return 0;
    (void)!write(hop->err_fd, error->message, strlen(error->message));
    return 1;
}

/* test_follow_database_as - the database hop as user (peer authentication
 * maps the Unix user to the role, as for the agent) */
static gboolean
test_follow_database_as(const TestRun *run, const Config *config, const char *message_id,
                        const char *user, GError **error)
{
    DatabaseHop hop = {run, config, message_id, -1};
    char buf[1024];
    ssize_t n;
    int fds[2], rc;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return test_follow_database(run, config, message_id, error);
    hop.err_fd = fds[1];
    rc = as_user_run(user, database_hop, &hop, NULL, error);
    close(fds[1]);
    n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    if (rc == 0)
        return TRUE;
    if (rc > 0)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%.*s", n > 0 ? (int)n : 13,
                    n > 0 ? buf : "unknown error");
    return FALSE;
}

/* test_follow_database - the row of the test reply (in replygate.messages:
 * the application's views leave test rows out) */
static gboolean
test_follow_database(const TestRun *run, const Config *config, const char *message_id,
                     GError **error)
{
    g_autoptr(PGconn) conn =
        db_connect(config->database, "replygate-test-email", run->timeout_s, error);
    const char *params[] = {message_id};
    double deadline = ops_monotonic_ms() + run->timeout_s * 1000.0;

    if (conn == NULL)
        return FALSE;
    while (ops_monotonic_ms() < deadline) {
        /* The table, not the application's view, which leaves test rows out. */
        g_autoptr(PGresult) res = db_exec(
            conn,
            "SELECT id, key_kind, key_target, key_user, key_source, coalesce(tls_version, '-'),"
            " coalesce(tls_cipher, '-'), is_test, received_at::text,"
            " round(extract(epoch FROM committed_at - received_at) * 1000, 1)::text, reply_text"
            " FROM replygate.messages m WHERE message_id = $1",
            1, params, NULL, NULL, error);

        if (res == NULL)
            return FALSE;
        if (PQntuples(res) > 0) {
            g_autofree char *text = maillog_escape(PQgetvalue(res, 0, 10));

            test_say(run,
                     "replygate.messages: id=%s kind=%s target=%s user=%s source=%s "
                     "tls=%s cipher=%s is_test=%s received_at=%s (transaction %s ms)",
                     PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                     PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
                     PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8),
                     PQgetvalue(res, 0, 9));
            test_say(run, "reply_text: %s", text);
            return TRUE;
        }
        g_usleep(50 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no row with message_id %s within %d s",
                message_id, run->timeout_s);
    return FALSE;
}

/* test_hop - print a hop's heading */
static double
test_hop(const char *name, const char *what)
{
    printf("%s: %s\n", name, what);
    fflush(stdout);
    return ops_monotonic_ms();
}

/* test_ok - print a hop's result with its time */
static void
test_ok(const char *name, double since, const char *detail)
{
    printf("OK %s (%.1f ms)%s%s\n", name, ops_monotonic_ms() - since, detail ? " " : "",
           detail ? detail : "");
    fflush(stdout);
}

/* cmd_test_email - send a signed test reply and follow it */
int
cmd_test_email(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *to_option = NULL;
    g_autofree char *from_option = NULL;
    g_autofree char *server = NULL;
    g_autofree char *maillog = NULL;
    int timeout = 30;
    gboolean tls_verify = FALSE, no_tls_verify = FALSE;
    g_autofree char *tls_ca = NULL;
    g_autofree char *agent_user = NULL;
    g_autofree char *host = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"to", 0, 0, G_OPTION_ARG_STRING, &to_option,
         "recipient (default: an address signed for kind test, target 1, user 0)", "ADDRESS"},
        {"from", 0, 0, G_OPTION_ARG_STRING, &from_option,
         "envelope sender and From (default replygate-test@HOSTNAME)", "ADDRESS"},
        {"server", 0, 0, G_OPTION_ARG_STRING, &server, "the MX (default 127.0.0.1:25)",
         "HOST:PORT"},
        {"maillog", 0, 0, G_OPTION_ARG_FILENAME, &maillog,
         "the mail log syslog writes (default /var/log/mail.log)", "FILE"},
        {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "seconds to wait for each hop (30)",
         "SECONDS"},
        {"tls-verify", 0, 0, G_OPTION_ARG_NONE, &tls_verify,
         "verify the certificate even for an IP address (default: only for a host name)", NULL},
        {"no-tls-verify", 0, 0, G_OPTION_ARG_NONE, &no_tls_verify,
         "only report the certificate, even for a host name", NULL},
        {"tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &tls_ca,
         "trust the CAs in FILE instead of the system's", "FILE"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &agent_user,
         "the user the database is asked as (replygate)", "USER"},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *to = NULL;
    g_autofree char *from = NULL;
    g_autofree char *message_id = NULL;
    g_autofree char *message = NULL;
    g_autofree char *queue_id = NULL;
    const char *hop = "smtp";
    TestRun run = {0};
    off_t maillog_at, proclog_at;
    double t0, t;
    long pid = 0;
    int status = 1;

    if (!cli_parse_options("",
                           "Send a signed test reply to the local MX over STARTTLS and\n"
                           "follow it: SMTP dialogue, queue id, mail.log, processor log\n"
                           "and database row, each with its timing. The first hop that\n"
                           "breaks is named and the exit status is 1.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1 || timeout <= 0 || (tls_verify && no_tls_verify)) {
        fprintf(stderr, "usage: replygate test-email [--config FILE] [--to ADDRESS] "
                        "[--server HOST:PORT] [--maillog FILE] [--timeout SECONDS] "
                        "[--tls-verify | --no-tls-verify] [--tls-ca FILE]\n");
        return EX_USAGE;
    }
    if (!cli_load(config_path, &config, &ring, &error)) {
        g_autofree char *why = g_strdup(error->message);

        g_clear_error(&error);
        /* --to needs no signing; only the test mark does. */
        if (to_option == NULL || !cli_load(config_path, &config, NULL, &error)) {
            fprintf(stderr, "replygate: %s\n", error ? error->message : why);
            return EX_CONFIG;
        }
        printf("note: %s: the test row cannot be marked as a test, the application will see it\n",
               why);
    }
    if (to_option)
        to = g_steal_pointer(&to_option);
    else if ((to = address_sign(config, ring, TEST_KIND, 1, 0, &error)) == NULL) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    if (server == NULL)
        server = g_strdup("127.0.0.1:25");
    host = smtp_server_host(server);
    /* A host name is verified unless asked not to; an address only on request. */
    run.verify = tls_verify || (!no_tls_verify && !g_hostname_is_ip_address(host));
    run.verify_name = host;
    run.ca_file = tls_ca;
    if (maillog == NULL)
        maillog = g_strdup("/var/log/mail.log");
    from = from_option ? g_steal_pointer(&from_option)
                       : g_strdup_printf("replygate-test@%s", g_get_host_name());
    message_id = ring ? testmark_message_id(ring, g_get_host_name(),
                                            g_get_real_time() / G_USEC_PER_SEC, g_random_int())
                      : NULL;
    if (message_id == NULL)
        message_id =
            g_strdup_printf("replygate-test.%" G_GINT64_FORMAT ".%d.%08x@%s", g_get_real_time(),
                            (int)getpid(), g_random_int(), g_get_host_name());
    message = test_message(from, to, message_id);
    printf("test-email: from=<%s> to=<%s> message-id=<%s>\n", from, to, message_id);

    maillog_at = test_file_size(maillog);
    proclog_at = test_file_size(config->processor_log);
    run.timeout_s = timeout;
    run.start_ms = t0 = ops_monotonic_ms();

    /* 1. SMTP, 2. queue id */
    t = test_hop("smtp", server);
    queue_id = test_smtp(&run, server, g_get_host_name(), from, to, message, &hop, &error);
    if (queue_id == NULL) {
        status =
            test_fail(strcmp(hop, "queue") == 0 ? "queue" : "smtp", "%s: %s", hop, error->message);
        goto out;
    }
    test_ok("smtp", t, NULL);
    printf("OK queue %s\n", queue_id);

    /* 3. mail.log */
    t = test_hop("mail.log", maillog);
    if (!test_follow_maillog(&run, maillog, maillog_at, queue_id, &pid, &error)) {
        status = test_fail("mail.log", "%s", error->message);
        goto out;
    }
    test_ok("mail.log", t, NULL);

    /* 4. the processor log */
    t = test_hop("processor", config->processor_log);
    if (!test_follow_processor(&run, config->processor_log, proclog_at, pid, queue_id, message_id,
                               &error)) {
        status = test_fail("processor", "%s", error->message);
        goto out;
    }
    test_ok("processor", t, NULL);

    /* 5. the database */
    t = test_hop("database", "replygate.messages");
    if (!test_follow_database_as(&run, config, message_id, agent_user ? agent_user : "replygate",
                                 &error)) {
        status = test_fail("database", "%s", error->message);
        goto out;
    }
    test_ok("database", t, NULL);
    printf("stored: the test reply went from SMTP to its row in %.1f ms\n",
           ops_monotonic_ms() - t0);
    status = 0;
out:
    return status;
}
