/*
 * cmd-test-email.c - `replygate test-email`: send a signed test reply to the
 * local MX over STARTTLS and follow it through every hop to its row, the way
 * GitHub Enterprise's "send test email" does, but showing each step.
 *
 * Hops, each printed with its timing:
 *   smtp       our own SMTP client on OpenSSL: EHLO, STARTTLS, EHLO, MAIL,
 *              RCPT, DATA; every command and reply is printed
 *   queue      the queue id from the 250 reply to DATA
 *   mail.log   the lines of that queue id, until pipe(8) says status=sent
 *              (read from where mail.log ended before the test began)
 *   processor  the processor log lines of the agent's process (its pid is
 *              in its mail.log line)
 *   database   the row in replygate.processed_replies with the Message-ID
 * The first hop that breaks is named ("FAIL rcpt: ...") and the exit
 * status is 1. Certificates are not verified (a local MX often has a
 * self-signed one); what the server presented is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "commands.h"
#include "db.h"
#include "maillog.h"
#include "ops-util.h"
#include "rg-autoptr.h"

#define TEST_KIND "test"

typedef struct {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    GString *in; /* bytes read, not yet returned as lines */
    double start_ms;
    int timeout_s;
} Smtp;

/* test_elapsed - "+12.3ms" since the start */
static void test_say(const Smtp *s, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
test_say(const Smtp *s, const char *format, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, format);
    text = g_strdup_vprintf(format, ap);
    va_end(ap);
    printf("  %+9.1fms  %s\n", ops_monotonic_ms() - s->start_ms, text);
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

/* smtp_close - release the connection (NULL-safe parts) */
static void
smtp_close(Smtp *s)
{
    if (s->ssl) {
        SSL_shutdown(s->ssl);
        SSL_free(s->ssl);
    }
    if (s->ctx)
        SSL_CTX_free(s->ctx);
    if (s->fd >= 0)
        close(s->fd);
    if (s->in)
        g_string_free(s->in, TRUE);
}

/* smtp_connect - a TCP connection to host:port with timeouts */
static gboolean
smtp_connect(Smtp *s, const char *server, GError **error)
{
    g_autofree char *host = NULL;
    const char *colon = strrchr(server, ':');
    const char *port = colon ? colon + 1 : "25";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
    struct timeval tv = {.tv_sec = s->timeout_s};
    int rc, saved = 0;

    host = colon ? g_strndup(server, (gsize)(colon - server)) : g_strdup(server);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:25 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", server, gai_strerror(rc));
        return FALSE;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s->fd < 0)
            continue;
        setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno;
        close(s->fd);
        s->fd = -1;
    }
    freeaddrinfo(res);
    if (s->fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot connect to %s: %s", server,
                    g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

/* smtp_read_some - more bytes from the socket or the TLS session */
static gboolean
smtp_read_some(Smtp *s, GError **error)
{
    char buf[4096];
    int n;

    if (s->ssl) {
        n = SSL_read(s->ssl, buf, sizeof buf);
    } else {
        do {
            n = (int)read(s->fd, buf, sizeof buf);
        } while (n < 0 && errno == EINTR);
    }
    if (n <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    n == 0                                      ? "the server closed the connection"
                    : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out waiting for the server"
                                                                : g_strerror(errno));
        return FALSE;
    }
    g_string_append_len(s->in, buf, n);
    return TRUE;
}

/* smtp_reply - one whole (multi-line) reply; *code gets its 3 digits */
static char *
smtp_reply(Smtp *s, int *code, GError **error)
{
    g_autoptr(GString) reply = g_string_new(NULL);

    for (;;) {
        char *nl = memchr(s->in->str, '\n', s->in->len);
        g_autofree char *line = NULL;
        gsize len;

        if (nl == NULL) {
            if (!smtp_read_some(s, error))
                return NULL;
            continue;
        }
        len = (gsize)(nl - s->in->str);
        line = g_strndup(s->in->str, len > 0 && s->in->str[len - 1] == '\r' ? len - 1 : len);
        g_string_erase(s->in, 0, (gssize)len + 1);
        test_say(s, "S: %s", line);
        if (reply->len)
            g_string_append_c(reply, '\n');
        g_string_append(reply, line);
        if (strlen(line) < 3 || !g_ascii_isdigit(line[0]) || !g_ascii_isdigit(line[1]) ||
            !g_ascii_isdigit(line[2])) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "not an SMTP reply: %s", line);
            return NULL;
        }
        if (line[3] != '-') {
            *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            return g_string_free(g_steal_pointer(&reply), FALSE);
        }
    }
}

/* smtp_write - bytes to the socket or the TLS session */
static gboolean
smtp_write(Smtp *s, const char *data, gsize len, GError **error)
{
    while (len > 0) {
        int n = s->ssl ? SSL_write(s->ssl, data, (int)len) : (int)write(s->fd, data, len);
        if (n <= 0) {
            if (!s->ssl && n < 0 && errno == EINTR)
                continue;
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot send: %s",
                        s->ssl ? "TLS write failed" : g_strerror(errno));
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* smtp_command - send one command, read its reply; FALSE unless the code
 * is want (a class, 2 or 3, when want < 10) */
static gboolean
smtp_command(Smtp *s, const char *command, int want, char **reply, GError **error)
{
    g_autofree char *line = g_strconcat(command, "\r\n", NULL);
    g_autofree char *got = NULL;
    int code = 0;

    test_say(s, "C: %s", command);
    if (!smtp_write(s, line, strlen(line), error))
        return FALSE;
    got = smtp_reply(s, &code, error);
    if (got == NULL)
        return FALSE;
    if ((want < 10 && code / 100 != want) || (want >= 10 && code != want)) {
        const char *last = strrchr(got, '\n');
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s answered %s", command,
                    last ? last + 1 : got);
        return FALSE;
    }
    if (reply)
        *reply = g_steal_pointer(&got);
    return TRUE;
}

/* smtp_starttls - the TLS handshake after 220 to STARTTLS */
static gboolean
smtp_starttls(Smtp *s, const char *host, GError **error)
{
    X509 *cert;
    char subject[256] = "";

    s->ctx = SSL_CTX_new(TLS_client_method());
    if (s->ctx == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "SSL_CTX_new failed");
        return FALSE;
    }
    /* A local MX often has a self-signed certificate: report, do not judge. */
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_NONE, NULL);
    s->ssl = SSL_new(s->ctx);
    SSL_set_fd(s->ssl, s->fd);
    SSL_set_tlsext_host_name(s->ssl, host);
    if (SSL_connect(s->ssl) != 1) {
        char err[256];
        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "TLS handshake failed: %s", err);
        SSL_free(s->ssl);
        s->ssl = NULL;
        return FALSE;
    }
    cert = SSL_get1_peer_certificate(s->ssl);
    if (cert) {
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        X509_free(cert);
    }
    test_say(s, "TLS: %s %s (%d bits), certificate %s", SSL_get_version(s->ssl),
             SSL_get_cipher_name(s->ssl), SSL_get_cipher_bits(s->ssl, NULL),
             *subject ? subject : "none");
    return TRUE;
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
test_smtp(Smtp *s, const char *server, const char *helo, const char *from, const char *to,
          const char *message, const char **hop, GError **error)
{
    g_autofree char *host = g_strndup(server, strcspn(server, ":"));
    g_autofree char *ehlo = g_strdup_printf("EHLO %s", helo);
    g_autofree char *mail = g_strdup_printf("MAIL FROM:<%s>", from);
    g_autofree char *rcpt = g_strdup_printf("RCPT TO:<%s>", to);
    g_autofree char *caps = NULL;
    g_autofree char *greeting = NULL;
    g_autofree char *queued = NULL;
    g_autoptr(GRegex) queue_re = g_regex_new("queued as ([0-9A-Za-z]+)", 0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    int code = 0;

    *hop = "connect";
    if (!smtp_connect(s, server, error))
        return NULL;
    test_say(s, "connected to %s", server);
    *hop = "greeting";
    greeting = smtp_reply(s, &code, error);
    if (greeting == NULL)
        return NULL;
    if (code != 220) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the server greets with %s", greeting);
        return NULL;
    }
    *hop = "ehlo";
    if (!smtp_command(s, ehlo, 250, &caps, error))
        return NULL;
    *hop = "starttls";
    if (!g_regex_match_simple("^250[- ]STARTTLS", caps, G_REGEX_MULTILINE | G_REGEX_CASELESS, 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the server does not offer STARTTLS (smtpd_tls_security_level)");
        return NULL;
    }
    if (!smtp_command(s, "STARTTLS", 220, NULL, error) || !smtp_starttls(s, host, error))
        return NULL;
    *hop = "ehlo";
    if (!smtp_command(s, ehlo, 250, NULL, error))
        return NULL;
    *hop = "mail";
    if (!smtp_command(s, mail, 250, NULL, error))
        return NULL;
    *hop = "rcpt";
    if (!smtp_command(s, rcpt, 250, NULL, error))
        return NULL;
    *hop = "data";
    if (!smtp_command(s, "DATA", 354, NULL, error))
        return NULL;
    test_say(s, "C: (%zu bytes of message, then \".\")", strlen(message) - 3);
    if (!smtp_write(s, message, strlen(message), error))
        return NULL;
    queued = smtp_reply(s, &code, error);
    if (queued == NULL)
        return NULL;
    if (code != 250) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the message was answered %s", queued);
        return NULL;
    }
    {
        g_autoptr(GError) ignored = NULL;
        smtp_command(s, "QUIT", 221, NULL, &ignored);
    }
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

/* test_follow_maillog - print the queue id's lines until pipe(8) is done;
 * *pid gets the agent's pid. FALSE with a reason when it did not work. */
static gboolean
test_follow_maillog(Smtp *s, const char *maillog, off_t offset, const char *queue_id, long *pid,
                    GError **error)
{
    g_autofree char *needle = g_strdup_printf(" %s: ", queue_id);
    g_autoptr(GRegex) agent_re = g_regex_new(" replygate/deliver\\[([0-9]+)\\]: ", 0, 0, NULL);
    double deadline = ops_monotonic_ms() + s->timeout_s * 1000.0;
    gboolean agent_seen = FALSE;
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
            test_say(s, "%s", line);
            if (g_regex_match(agent_re, line, 0, &m)) {
                g_autofree char *digits = g_match_info_fetch(m, 1);
                *pid = strtol(digits, NULL, 10);
                agent_seen = TRUE;
                status = strstr(line, "status=");
                g_free(agent_status);
                agent_status = g_strdup(status ? status + 7 : "?");
            }
            /* pipe(8), or another delivery agent, reports the outcome. */
            status = strstr(line, ", status=");
            if (status && !g_regex_match_simple(" replygate/", line, 0, 0)) {
                status += 9;
                if (g_str_has_prefix(status, "sent")) {
                    if (!agent_seen) {
                        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                    "delivered, but not by replygate-deliver (transport_maps?)");
                        return FALSE;
                    }
                    return TRUE;
                }
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Postfix says status=%s", status);
                return FALSE;
            }
            if (strstr(line, ": removed") && !agent_seen) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                            "the message left the queue without a delivery (discarded?)");
                return FALSE;
            }
        }
        g_usleep(50 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no delivery of %s in %s within %d s%s%s",
                queue_id, maillog, s->timeout_s, agent_seen ? "; the agent said status=" : "",
                agent_seen ? agent_status : "");
    return FALSE;
}

/* test_follow_processor - the processor log lines of the agent's pid */
static gboolean
test_follow_processor(Smtp *s, const char *path, off_t offset, long pid, const char *message_id,
                      GError **error)
{
    g_autofree char *tag = g_strdup_printf(" (%ld) #] ", pid);
    g_autofree char *processing = g_strdup_printf("processing <%s>", message_id);
    double deadline = ops_monotonic_ms() + s->timeout_s * 1000.0;
    gboolean seen = FALSE;

    while (ops_monotonic_ms() < deadline) {
        g_autoptr(GPtrArray) lines = test_new_lines(path, &offset, error);

        if (lines == NULL)
            return FALSE;
        for (guint i = 0; i < lines->len; i++) {
            const char *line = g_ptr_array_index(lines, i);
            if (strstr(line, tag) == NULL)
                continue;
            test_say(s, "%s", line);
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

/* test_follow_database - the row of the test reply */
static gboolean
test_follow_database(Smtp *s, const Config *config, const char *message_id, GError **error)
{
    g_autoptr(PGconn) conn =
        db_connect(config->database, "replygate-test-email", s->timeout_s, error);
    const char *params[] = {message_id};
    double deadline = ops_monotonic_ms() + s->timeout_s * 1000.0;

    if (conn == NULL)
        return FALSE;
    while (ops_monotonic_ms() < deadline) {
        g_autoptr(PGresult) res = db_exec(
            conn,
            "SELECT id, kind, target, \"user\", source, coalesce(tls_version, '-'),"
            " coalesce(tls_cipher, '-'), attachment_count, received_at::text,"
            " round(extract(epoch FROM committed_at - received_at) * 1000, 1)::text, reply_text"
            " FROM replygate.processed_replies WHERE message_id = $1",
            1, params, NULL, NULL, error);

        if (res == NULL)
            return FALSE;
        if (PQntuples(res) > 0) {
            g_autofree char *text = maillog_escape(PQgetvalue(res, 0, 10));

            test_say(s,
                     "replygate.processed_replies: id=%s kind=%s target=%s user=%s source=%s "
                     "tls=%s cipher=%s attachments=%s received_at=%s (transaction %s ms)",
                     PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                     PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
                     PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8),
                     PQgetvalue(res, 0, 9));
            test_say(s, "reply_text: %s", text);
            return TRUE;
        }
        g_usleep(50 * 1000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no row with message_id %s within %d s",
                message_id, s->timeout_s);
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
    Smtp s = {.fd = -1};
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
    if (argc != 1 || timeout <= 0) {
        fprintf(stderr, "usage: replygate test-email [--config FILE] [--to ADDRESS] "
                        "[--server HOST:PORT] [--maillog FILE] [--timeout SECONDS]\n");
        return EX_USAGE;
    }
    if (!cli_load(config_path, &config, to_option ? NULL : &ring, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    if (to_option)
        to = g_steal_pointer(&to_option);
    else if ((to = address_sign(config, ring, TEST_KIND, 1, 0, &error)) == NULL) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    if (server == NULL)
        server = g_strdup("127.0.0.1:25");
    if (maillog == NULL)
        maillog = g_strdup("/var/log/mail.log");
    from = from_option ? g_steal_pointer(&from_option)
                       : g_strdup_printf("replygate-test@%s", g_get_host_name());
    message_id =
        g_strdup_printf("replygate-test.%" G_GINT64_FORMAT ".%d.%08x@%s", g_get_real_time(),
                        (int)getpid(), g_random_int(), g_get_host_name());
    message = test_message(from, to, message_id);
    printf("test-email: from=<%s> to=<%s> message-id=<%s>\n", from, to, message_id);

    maillog_at = test_file_size(maillog);
    proclog_at = test_file_size(config->processor_log);
    s.in = g_string_new(NULL);
    s.timeout_s = timeout;
    s.start_ms = t0 = ops_monotonic_ms();

    /* 1. SMTP, 2. queue id */
    t = test_hop("smtp", server);
    queue_id = test_smtp(&s, server, g_get_host_name(), from, to, message, &hop, &error);
    smtp_close(&s);
    if (queue_id == NULL) {
        status =
            test_fail(strcmp(hop, "queue") == 0 ? "queue" : "smtp", "%s: %s", hop, error->message);
        goto out;
    }
    test_ok("smtp", t, NULL);
    printf("OK queue %s\n", queue_id);

    /* 3. mail.log */
    t = test_hop("mail.log", maillog);
    if (!test_follow_maillog(&s, maillog, maillog_at, queue_id, &pid, &error)) {
        status = test_fail("mail.log", "%s", error->message);
        goto out;
    }
    test_ok("mail.log", t, NULL);

    /* 4. the processor log */
    t = test_hop("processor", config->processor_log);
    if (!test_follow_processor(&s, config->processor_log, proclog_at, pid, message_id, &error)) {
        status = test_fail("processor", "%s", error->message);
        goto out;
    }
    test_ok("processor", t, NULL);

    /* 5. the database */
    t = test_hop("database", "replygate.processed_replies");
    if (!test_follow_database(&s, config, message_id, &error)) {
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
