/*
 * lmtp-session.c - one LMTP session (RFC 2033), in its own thread.
 *
 * The session reads command lines (at most LMTP_LINE_MAX bytes, pipelined
 * or not), answers them, and after DATA hands the message to the delivery
 * core once per accepted recipient, answering each recipient only once its
 * row has committed and its spool copy is on disk, as pipe(8) waits for the
 * agent's exit. A stored reply is answered from inside the core at that
 * point (session_answer()), before the copy's move to success/ and the log
 * lines; any other outcome when delivery_run() returns. Replies are
 * collected and sent when the session is about to wait for the client, so a
 * pipelined group gets its answers in one write, and each recipient's answer
 * after DATA is sent at once.
 *
 * Every wait has a deadline: lmtp_idle_timeout for the next bytes, and
 * lmtp_command_timeout for a whole command or message. While the session
 * waits for a command, SIGTERM's cancellable ends it with 421; a message
 * being received or delivered is finished first. The message is kept as the
 * pipe door gets it from pipe(8): dots unstuffed and lines ended by LF.
 * Memory for messages in flight comes from the server's budget.
 */
#include <string.h>
#include <time.h>

#include "lmtp-proto.h"
#include "lmtp-server.h"
#include "maillog.h"
#include "rg-error.h"

/* Errors before the session gives up on a client. */
#define LMTP_MAX_ERRORS 20
/* The memory budget is taken in steps of this many bytes of message. */
#define LMTP_BUDGET_STEP (1024 * 1024)

typedef struct {
    char *address;
    char *orcpt; /* decoded, or NULL */
} Recipient;

typedef struct {
    LmtpServer *server;
    GSocket *socket;
    char *peer; /* for log lines */
    char in[LMTP_LINE_MAX * 4];
    gsize in_start, in_end;
    GString *out;
    gboolean lhlo;
    guint errors;
    LmtpXforward xf;
    /* The transaction, from MAIL to the end of DATA or RSET. */
    LmtpSnapshot *snap;
    char *sender;
    GPtrArray *recipients; /* Recipient * */
    PGconn *conn;          /* borrowed from snap->pool during the deliveries */
    GError *conn_failed;   /* why none could be borrowed for this transaction */
    guint64 reserved;      /* bytes of the memory budget held */
    gint64 cpu_start;      /* thread CPU time at the start of a delivery, ns */
    gboolean gone;         /* a reply could not be sent: the client is gone */
} Session;

/* recipient_free - one accepted recipient */
static void
recipient_free(gpointer data)
{
    Recipient *r = data;

    g_free(r->address);
    g_free(r->orcpt);
    g_free(r);
}

/* session_reply - queue one reply line */
static void
session_reply(Session *s, const char *line)
{
    g_string_append(s->out, line);
    g_string_append(s->out, "\r\n");
}

/* session_flush - send the queued replies; FALSE when the client is gone */
static gboolean
session_flush(Session *s)
{
    gsize done = 0;

    while (done < s->out->len) {
        g_autoptr(GError) error = NULL;
        gssize n = g_socket_send(s->socket, s->out->str + done, s->out->len - done, NULL, &error);

        if (n <= 0) {
            g_string_truncate(s->out, 0);
            return FALSE;
        }
        done += (gsize)n;
    }
    g_string_truncate(s->out, 0);
    return TRUE;
}

/* session_fill - read more bytes, waiting until deadline (monotonic us) and
 * at most lmtp_idle_timeout; cancellable: SIGTERM may end the wait */
static gboolean
session_fill(Session *s, const Config *config, gint64 deadline, gboolean cancellable,
             GError **error)
{
    gint64 wait =
        MIN((gint64)config->lmtp_idle_timeout * G_USEC_PER_SEC, deadline - g_get_monotonic_time());
    gssize n;

    if (s->in_start > 0) {
        memmove(s->in, s->in + s->in_start, s->in_end - s->in_start);
        s->in_end -= s->in_start;
        s->in_start = 0;
    }
    if (wait <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timeout");
        return FALSE;
    }
    if (!g_socket_condition_timed_wait(s->socket, G_IO_IN, wait,
                                       cancellable ? s->server->idle : NULL, error))
        return FALSE;
    n = g_socket_receive_with_blocking(s->socket, s->in + s->in_end, sizeof s->in - s->in_end,
                                       FALSE, NULL, error);
    if (n < 0) {
        if (g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            g_clear_error(error);
            return TRUE;
        }
        return FALSE;
    }
    if (n == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "lost connection");
        return FALSE;
    }
    s->in_end += (gsize)n;
    return TRUE;
}

/* session_read_line - the next command line without its CRLF (new string);
 * *too_long when it was longer than LMTP_LINE_MAX (its bytes are dropped) */
static char *
session_read_line(Session *s, const Config *config, gboolean *too_long, GError **error)
{
    gint64 deadline =
        g_get_monotonic_time() + (gint64)config->lmtp_command_timeout * G_USEC_PER_SEC;

    *too_long = FALSE;
    for (;;) {
        char *start = s->in + s->in_start;
        char *lf = memchr(start, '\n', s->in_end - s->in_start);

        if (lf != NULL) {
            gsize len = (gsize)(lf - start);
            char *line;

            s->in_start += len + 1;
            if (*too_long || len + 1 > LMTP_LINE_MAX) {
                *too_long = TRUE;
                return g_strdup("");
            }
            if (len > 0 && start[len - 1] == '\r')
                len--;
            line = g_strndup(start, len);
            /* A NUL in a command line ends it, as far as this parser sees. */
            return line;
        }
        if (s->in_end - s->in_start >= LMTP_LINE_MAX) {
            *too_long = TRUE; /* drop what is there, keep reading to the LF */
            s->in_start = s->in_end = 0;
        }
        if (!session_flush(s)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "lost connection");
            return NULL;
        }
        if (!session_fill(s, config, deadline, TRUE, error))
            return NULL;
    }
}

/* session_reset - end the transaction (after DATA, RSET, or a new LHLO) */
static void
session_reset(Session *s)
{
    if (s->conn != NULL)
        lmtp_pool_release(s->snap->pool, g_steal_pointer(&s->conn));
    g_clear_error(&s->conn_failed);
    g_clear_pointer(&s->snap, lmtp_snapshot_unref);
    g_clear_pointer(&s->sender, g_free);
    g_ptr_array_set_size(s->recipients, 0);
    lmtp_server_unreserve(s->server, s->reserved);
    s->reserved = 0;
    /* Postfix sends XFORWARD again before each transaction. */
    lmtp_xforward_clear(&s->xf);
}

/* session_lhlo - the greeting's capabilities (SPEC section 5, issue 15's Pinned) */
static void
session_lhlo(Session *s, const Config *config, const char *arg)
{
    g_autofree char *size = NULL;

    if (*arg == '\0') {
        session_reply(s, "501 5.5.4 Syntax: LHLO hostname");
        return;
    }
    session_reset(s);
    s->lhlo = TRUE;
    size = g_strdup_printf("250-SIZE %" G_GUINT64_FORMAT, config->max_message_size);
    g_string_append_printf(s->out, "250-%s\r\n", s->server->hostname);
    session_reply(s, "250-PIPELINING");
    session_reply(s, "250-ENHANCEDSTATUSCODES");
    session_reply(s, "250-8BITMIME");
    session_reply(s, "250-SMTPUTF8");
    session_reply(s, size);
    session_reply(s, "250-DSN");
    session_reply(s, "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE");
}

/* session_mail - MAIL FROM: a new transaction with the current snapshot */
static void
session_mail(Session *s, const char *arg)
{
    LmtpPath path;
    const char *reply = NULL;

    if (!s->lhlo) {
        session_reply(s, "503 5.5.1 Error: send LHLO first");
        s->errors++;
        return;
    }
    if (s->sender != NULL) {
        session_reply(s, "503 5.5.1 Error: nested MAIL command");
        s->errors++;
        return;
    }
    if (!lmtp_parse_path(arg, FALSE, &path, &reply)) {
        session_reply(s, reply);
        s->errors++;
        return;
    }
    s->snap = lmtp_server_snapshot(s->server);
    if (path.size > s->snap->config->max_message_size) {
        session_reply(s, "552 5.3.4 Message size exceeds fixed limit");
        g_clear_pointer(&s->snap, lmtp_snapshot_unref);
        lmtp_path_clear(&path);
        return;
    }
    s->sender = g_steal_pointer(&path.address);
    lmtp_path_clear(&path);
    session_reply(s, "250 2.1.0 Ok");
}

/* session_rcpt - RCPT TO: the recipient is the key's address; ORCPT is kept
 * for the log line only (issue 15's Pinned: never trusted for the key) */
static void
session_rcpt(Session *s, const char *arg)
{
    LmtpPath path;
    const char *reply = NULL;
    Recipient *r;

    if (s->sender == NULL) {
        session_reply(s, "503 5.5.1 Error: need MAIL command");
        s->errors++;
        return;
    }
    if (!lmtp_parse_path(arg, TRUE, &path, &reply)) {
        session_reply(s, reply);
        s->errors++;
        return;
    }
    if (s->recipients->len >= s->snap->config->lmtp_recipient_limit) {
        session_reply(s, "452 4.5.3 Error: too many recipients");
        lmtp_path_clear(&path);
        return;
    }
    r = g_new0(Recipient, 1);
    r->address = g_steal_pointer(&path.address);
    r->orcpt = g_steal_pointer(&path.orcpt);
    lmtp_path_clear(&path);
    g_ptr_array_add(s->recipients, r);
    session_reply(s, "250 2.1.5 Ok");
}

/* session_connect - the delivery core asks for a connection: borrow one
 * from the pool for the rest of this message's recipients */
static PGconn *
session_connect(gpointer data, GError **error)
{
    Session *s = data;

    /* Asked again by the transaction's next recipient after a failure (the
     * core answers a delivery's own later asks itself): the same error at
     * once, so a database that never answers costs the transaction one wait. */
    if (s->conn == NULL && s->conn_failed == NULL) {
        s->conn = lmtp_pool_acquire(s->snap->pool,
                                    (gint64)s->snap->config->lmtp_pool_wait * G_USEC_PER_SEC,
                                    &s->conn_failed);
        if (s->conn == NULL &&
            g_str_has_prefix(s->conn_failed->message, "no database connection free"))
            g_atomic_int_inc(&s->server->counters.pool_timeouts);
    }
    if (s->conn == NULL)
        g_propagate_error(error, g_error_copy(s->conn_failed));
    return s->conn;
}

/* session_cpu_ns - this thread's processor time */
static gint64
session_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (gint64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* session_over_budget - has this delivery used more than its processor time? */
static gboolean
session_over_budget(gpointer data)
{
    Session *s = data;

    return session_cpu_ns() - s->cpu_start >
           (gint64)s->snap->config->lmtp_message_cpu_budget * 1000000000;
}

/* session_read_data - the message after 354, into reader; FALSE when the
 * client went away or was too slow. *no_memory when the budget ran out. */
static gboolean
session_read_data(Session *s, LmtpDataReader *reader, gboolean *no_memory, GError **error)
{
    const Config *config = s->snap->config;
    gint64 deadline =
        g_get_monotonic_time() + (gint64)config->lmtp_command_timeout * G_USEC_PER_SEC;
    gboolean done = FALSE;

    *no_memory = FALSE;
    for (;;) {
        gsize avail = s->in_end - s->in_start;

        if (avail > 0) {
            /* Keep the budget ahead of what the reader may keep. */
            if (!*no_memory && !reader->over && reader->out->len + avail > s->reserved) {
                /* Never more than max_message_size in all: a message alone
                 * always fits the budget (lmtp_snapshot_load checks it). */
                guint64 step =
                    MIN((guint64)LMTP_BUDGET_STEP,
                        config->max_message_size - MIN(s->reserved, config->max_message_size));

                if (step == 0) {
                    /* reserved covers max_message_size: the reader keeps no more */
                } else if (lmtp_server_reserve(s->server, config->lmtp_memory_budget, step,
                                               (gint64)config->lmtp_pool_wait * G_USEC_PER_SEC)) {
                    s->reserved += step;
                } else {
                    *no_memory = TRUE;
                    reader->limit = reader->out->len; /* count the rest, keep none of it */
                }
            }
            if (!*no_memory && !reader->over && s->reserved < config->max_message_size)
                avail = MIN(avail, s->reserved - reader->out->len);
            s->in_start += lmtp_data_feed(reader, s->in + s->in_start, avail, &done);
            if (done)
                return TRUE;
            if (s->in_end > s->in_start)
                continue;
        }
        s->in_start = s->in_end = 0;
        if (!session_fill(s, config, deadline, FALSE, error))
            return FALSE;
    }
}

/* session_answer - count a recipient's outcome and send its reply at once
 * (the core's answer(): a stored reply's, before the core's bookkeeping) */
static void
session_answer(const DeliveryOutcome *outcome, gpointer data)
{
    Session *s = data;
    g_autofree char *line = NULL;

    g_atomic_int_inc(&s->server->counters.deliveries[outcome->klass]);
    if (outcome->duplicate)
        g_atomic_int_inc(&s->server->counters.duplicates);
    line = lmtp_reply_text(outcome->smtp_code, outcome->enhanced, outcome->text);
    session_reply(s, line);
    if (!session_flush(s))
        s->gone = TRUE;
}

/* session_deliver - one delivery per recipient, each answered when done */
static gboolean
session_deliver(Session *s, GBytes *raw, gboolean over, gboolean no_memory)
{
    const Config *config = s->snap->config;
    /* Lines of this message carry its queue id; other threads' messages
     * write through the same file at the same time (proclog.h). */
    g_autoptr(ProcLog) proclog = proclog_for_message(s->snap->proclog, s->xf.ident);
    DeliveryContext ctx = {
        .config = config,
        .ring = s->snap->ring,
        .proclog = proclog,
        .connect = session_connect,
        .connect_data = s,
        .over_budget = session_over_budget,
        .over_budget_data = s,
        .spool_behind = TRUE, /* the copy's fsyncs overlap the transaction */
        .answer = session_answer,
        .answer_data = s,
    };

    for (guint i = 0; i < s->recipients->len; i++) {
        const Recipient *r = g_ptr_array_index(s->recipients, i);
        DeliveryEnvelope env = {
            .queue_id = s->xf.ident,
            .sender = s->sender,
            .recipient = r->address,
            .original_recipient = r->orcpt,
            .client_address = s->xf.addr,
            .client_name = s->xf.name,
        };
        g_autoptr(DeliveryOutcome) outcome = NULL;

        s->cpu_start = session_cpu_ns();
        if (no_memory) {
            g_atomic_int_inc(&s->server->counters.budget_waits);
            outcome = delivery_defer(
                ctx.proclog, env.queue_id,
                "4.3.1 insufficient system resources for the message, try again later");
        } else {
            outcome = delivery_run(&ctx, &env, raw, over);
        }
        if (!outcome->answered)
            session_answer(outcome, s);
        if (s->gone)
            return FALSE;
    }
    return TRUE;
}

/* session_data - DATA: read the message, deliver it, answer per recipient */
static gboolean
session_data(Session *s, const char *arg)
{
    LmtpDataReader reader;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) raw = NULL;
    gboolean no_memory = FALSE;
    gboolean ok;

    if (*arg != '\0') {
        session_reply(s, "501 5.5.4 Syntax: DATA");
        s->errors++;
        return TRUE;
    }
    if (s->sender == NULL || s->recipients->len == 0) {
        session_reply(s, s->sender == NULL ? "503 5.5.1 Error: need MAIL command"
                                           : "503 5.5.1 Error: need RCPT command");
        s->errors++;
        return TRUE;
    }
    session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
    if (!session_flush(s))
        return FALSE;
    lmtp_data_init(&reader, s->snap->config->max_message_size);
    if (!session_read_data(s, &reader, &no_memory, &error)) {
        /* Nothing was accepted: Postfix still has the message. */
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
            g_autofree char *line =
                g_strdup_printf("421 4.4.2 %s Error: timeout exceeded", s->server->hostname);
            g_atomic_int_inc(&s->server->counters.timeouts);
            session_reply(s, line);
            session_flush(s);
        }
        maillog_info("%s: lost connection after DATA from %s (%s)",
                     s->xf.ident != NULL ? s->xf.ident : "NOQUEUE", s->peer, error->message);
        lmtp_data_clear(&reader);
        return FALSE;
    }
    raw = g_byte_array_free_to_bytes(g_steal_pointer(&reader.out));
    ok = session_deliver(s, raw, reader.over, no_memory);
    lmtp_data_clear(&reader);
    session_reset(s);
    return ok;
}

/* session_command - answer one command line; FALSE ends the session */
static gboolean
session_command(Session *s, const char *line)
{
    g_autoptr(LmtpSnapshot) now = lmtp_server_snapshot(s->server);
    const char *arg = NULL;
    const char *reply = NULL;

    switch (lmtp_parse_verb(line, &arg)) {
    case LMTP_CMD_LHLO:
        session_lhlo(s, now->config, arg);
        return TRUE;
    case LMTP_CMD_HELO:
        session_reply(s, "500 5.5.1 Error: this is LMTP, say LHLO");
        s->errors++;
        return TRUE;
    case LMTP_CMD_MAIL:
        session_mail(s, arg);
        return TRUE;
    case LMTP_CMD_RCPT:
        session_rcpt(s, arg);
        return TRUE;
    case LMTP_CMD_DATA:
        return session_data(s, arg);
    case LMTP_CMD_RSET:
        session_reset(s);
        session_reply(s, "250 2.0.0 Ok");
        return TRUE;
    case LMTP_CMD_NOOP:
        session_reply(s, "250 2.0.0 Ok");
        return TRUE;
    case LMTP_CMD_VRFY:
        session_reply(s, "252 2.5.2 Send some mail, I'll try my best");
        return TRUE;
    case LMTP_CMD_QUIT:
        session_reply(s, "221 2.0.0 Bye");
        session_flush(s);
        return FALSE;
    case LMTP_CMD_XFORWARD:
        if (s->sender != NULL) {
            session_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
            s->errors++;
        } else if (!lmtp_xforward_parse(arg, &s->xf, &reply)) {
            session_reply(s, reply);
            s->errors++;
        } else {
            session_reply(s, "250 2.0.0 Ok");
        }
        return TRUE;
    case LMTP_CMD_UNKNOWN:
    default:
        session_reply(s, "500 5.5.2 Error: command not recognized");
        s->errors++;
        return TRUE;
    }
}

/* session_peer - "host[addr]" or "unix" for log lines */
static char *
session_peer(GSocketConnection *connection)
{
    g_autoptr(GSocketAddress) address = g_socket_connection_get_remote_address(connection, NULL);

    if (address != NULL && G_IS_INET_SOCKET_ADDRESS(address)) {
        g_autofree char *ip = g_inet_address_to_string(
            g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address)));
        return g_strdup_printf("[%s]:%u", ip,
                               g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address)));
    }
    return g_strdup("unix socket");
}

/* lmtp_session_run - see lmtp-server.h */
void
lmtp_session_run(LmtpServer *server, GSocketConnection *connection)
{
    Session s = {.server = server};
    g_autoptr(LmtpSnapshot) start = lmtp_server_snapshot(server);
    g_autofree char *greeting = NULL;

    s.socket = g_socket_connection_get_socket(connection);
    s.peer = session_peer(connection);
    s.out = g_string_new(NULL);
    s.recipients = g_ptr_array_new_with_free_func(recipient_free);
    g_socket_set_blocking(s.socket, TRUE);
    g_socket_set_timeout(s.socket, (guint)MIN(start->config->lmtp_idle_timeout, G_MAXUINT));
    g_atomic_int_inc(&server->counters.sessions);

    greeting = g_strdup_printf("220 %s LMTP replygate ready", server->hostname);
    session_reply(&s, greeting);
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autoptr(LmtpSnapshot) now = lmtp_server_snapshot(server);
        g_autofree char *line = NULL;
        gboolean too_long = FALSE;

        line = session_read_line(&s, now->config, &too_long, &error);
        if (line == NULL) {
            g_autofree char *bye = NULL;

            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                bye = g_strdup_printf("421 4.3.2 %s Service shutting down", server->hostname);
            } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
                bye = g_strdup_printf("421 4.4.2 %s Error: timeout exceeded", server->hostname);
                g_atomic_int_inc(&server->counters.timeouts);
            }
            if (bye != NULL) {
                session_reply(&s, bye);
                session_flush(&s);
            }
            break;
        }
        if (too_long) {
            session_reply(&s, "500 5.5.2 Error: line too long");
            s.errors++;
        } else if (!session_command(&s, line)) {
            break;
        }
        if (s.errors >= LMTP_MAX_ERRORS) {
            session_reply(&s, "421 4.7.0 Error: too many errors");
            session_flush(&s);
            break;
        }
    }
    session_reset(&s);
    g_socket_close(s.socket, NULL);
    g_ptr_array_unref(s.recipients);
    g_string_free(s.out, TRUE);
    g_free(s.peer);
}
