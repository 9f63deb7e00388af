/*
 * cmd-replies.c - `replygate replies`: list the processed replies, the rows
 * of replygate.processed_replies that the application reads (SPEC section 8).
 *
 *   replygate replies [--since DURATION] [--kind K] [--limit N] [--json] [--follow]
 *
 * Text output is a block per reply, oldest first; --json prints one JSON
 * object a line. --follow then waits on LISTEN replygate_reply and prints
 * each reply as it is stored, until interrupted.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "db.h"
#include "json.h"
#include "maillog.h"
#include "rg-autoptr.h"
#include "rg-error.h"

/* The columns every query selects, in the order reply_print() reads them. */
#define REPLIES_COLUMNS                                                                            \
    "id, kind, target, \"user\", source, sender, from_name, from_address, subject,"                \
    " reply_text, message_id, queue_id, tls_version, tls_cipher,"                                  \
    " to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                  \
    " attachment_count, recipient"

enum {
    COL_ID,
    COL_KIND,
    COL_TARGET,
    COL_USER,
    COL_SOURCE,
    COL_SENDER,
    COL_FROM_NAME,
    COL_FROM_ADDRESS,
    COL_SUBJECT,
    COL_REPLY_TEXT,
    COL_MESSAGE_ID,
    COL_QUEUE_ID,
    COL_TLS_VERSION,
    COL_TLS_CIPHER,
    COL_RECEIVED_AT,
    COL_ATTACHMENTS,
    COL_RECIPIENT,
};

/* The most lines of reply text the text output shows for one reply. */
#define REPLIES_TEXT_LINES 8

typedef struct {
    gboolean json;
    const char *kind; /* or NULL for every kind */
} RepliesView;

/* replies_parse_duration - "90", "90s", "15m", "2h", "7d" or "1w" in seconds */
static gboolean
replies_parse_duration(const char *text, guint64 *seconds)
{
    char *end = NULL;
    guint64 n, unit = 1;

    if (text == NULL || !g_ascii_isdigit(text[0]))
        return FALSE;
    errno = 0;
    n = g_ascii_strtoull(text, &end, 10);
    if (errno != 0)
        return FALSE;
    if (*end != '\0') {
        if (end[1] != '\0')
            return FALSE;
        switch (*end) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        case 'w':
            unit = 7 * 86400;
            break;
        default:
            return FALSE;
        }
    }
    /* More than a hundred years is a typo, and would overflow the interval arithmetic. */
    if (n > G_GUINT64_CONSTANT(100) * 366 * 86400 / unit)
        return FALSE;
    *seconds = n * unit;
    return TRUE;
}

/* value - a column of row, or NULL when it is SQL NULL */
static const char *
value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* reply_print_json - one reply as one line of JSON */
static void
reply_print_json(const PGresult *res, int row)
{
    static const struct {
        const char *name;
        int col;
        gboolean number;
    } fields[] = {
        {"id", COL_ID, TRUE},
        {"kind", COL_KIND, FALSE},
        {"target", COL_TARGET, TRUE},
        {"user", COL_USER, TRUE},
        {"source", COL_SOURCE, FALSE},
        {"recipient", COL_RECIPIENT, FALSE},
        {"sender", COL_SENDER, FALSE},
        {"from_name", COL_FROM_NAME, FALSE},
        {"from_address", COL_FROM_ADDRESS, FALSE},
        {"subject", COL_SUBJECT, FALSE},
        {"reply_text", COL_REPLY_TEXT, FALSE},
        {"message_id", COL_MESSAGE_ID, FALSE},
        {"queue_id", COL_QUEUE_ID, FALSE},
        {"tls_version", COL_TLS_VERSION, FALSE},
        {"tls_cipher", COL_TLS_CIPHER, FALSE},
        {"received_at", COL_RECEIVED_AT, FALSE},
        {"attachments", COL_ATTACHMENTS, TRUE},
    };
    g_autoptr(GString) out = g_string_new("{");
    gboolean first = TRUE;

    for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
        const char *v = value(res, row, fields[i].col);

        json_append_member(out, fields[i].name, &first);
        /* Numbers come from integer and numeric(20,0) columns: digits only. */
        if (fields[i].number && v != NULL)
            g_string_append(out, v);
        else
            json_append_string(out, v);
    }
    g_string_append(out, "}");
    printf("%s\n", out->str);
}

/* reply_print_text - one reply as a short block an operator can read */
static void
reply_print_text(const PGresult *res, int row)
{
    g_autofree char *subject = maillog_escape(value(res, row, COL_SUBJECT));
    g_autofree char *from =
        maillog_escape(value(res, row, COL_FROM_ADDRESS) ? value(res, row, COL_FROM_ADDRESS)
                                                         : value(res, row, COL_SENDER));
    g_autofree char *message_id = maillog_escape(value(res, row, COL_MESSAGE_ID));
    g_auto(GStrv) lines = g_strsplit(
        value(res, row, COL_REPLY_TEXT) ? value(res, row, COL_REPLY_TEXT) : "", "\n", -1);
    const char *tls = value(res, row, COL_TLS_VERSION);
    const char *cipher = value(res, row, COL_TLS_CIPHER);
    guint n = g_strv_length(lines);

    printf("#%s %s %s-%s-%s (%s) from <%s> %s%s%s, %s attachment%s, queue %s\n",
           value(res, row, COL_ID), value(res, row, COL_RECEIVED_AT), value(res, row, COL_KIND),
           value(res, row, COL_TARGET), value(res, row, COL_USER),
           value(res, row, COL_SOURCE) ? value(res, row, COL_SOURCE) : "?", from,
           tls ? tls : "no TLS", cipher ? " " : "", cipher ? cipher : "",
           value(res, row, COL_ATTACHMENTS),
           strcmp(value(res, row, COL_ATTACHMENTS), "1") == 0 ? "" : "s",
           value(res, row, COL_QUEUE_ID) ? value(res, row, COL_QUEUE_ID) : "-");
    printf("    Subject: %s\n", subject);
    printf("    Message-ID: <%s>\n", message_id);
    /* Drop trailing empty lines, then show the first few lines of the reply. */
    while (n > 0 && *g_strstrip(lines[n - 1]) == '\0')
        n--;
    for (guint i = 0; i < n && i < REPLIES_TEXT_LINES; i++) {
        g_autofree char *line = maillog_escape(lines[i]);
        printf("    | %s\n", line);
    }
    if (n > REPLIES_TEXT_LINES)
        printf("    | ... (%u more lines)\n", n - REPLIES_TEXT_LINES);
}

/* replies_print - every row of res, with the view's format */
static void
replies_print(const RepliesView *view, const PGresult *res, int from, int to, int step)
{
    for (int row = from; row != to; row += step) {
        if (view->json)
            reply_print_json(res, row);
        else
            reply_print_text(res, row);
    }
    fflush(stdout);
}

/* replies_query - the newest `limit` replies, received in the last `since` seconds
 * when since is not negative */
static PGresult *
replies_query(PGconn *conn, const RepliesView *view, gint64 since, int limit, GError **error)
{
    g_autofree char *since_text = since >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, since) : NULL;
    g_autofree char *limit_text = g_strdup_printf("%d", limit);
    const char *values[] = {since_text, view->kind, limit_text};

    return db_exec(
        conn,
        "SELECT " REPLIES_COLUMNS " FROM replygate.processed_replies"
        " WHERE ($1::bigint IS NULL OR received_at >= now() - $1::bigint * interval '1 second')"
        "   AND ($2::text IS NULL OR kind = $2)"
        " ORDER BY id DESC LIMIT $3::int",
        3, values, NULL, NULL, error);
}

/* replies_follow - print each reply announced on replygate_reply; returns
 * only on an error */
static int
replies_follow(PGconn *conn, const RepliesView *view, gint64 last_id, GError **error)
{
    for (;;) {
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        PGnotify *notify;

        if (pfd.fd < 0 || (poll(&pfd, 1, -1) < 0 && errno != EINTR)) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "lost the database connection");
            return EX_TEMPFAIL;
        }
        if (!PQconsumeInput(conn)) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "lost the database connection: %s",
                        PQerrorMessage(conn));
            return EX_TEMPFAIL;
        }
        while ((notify = PQnotifies(conn)) != NULL) {
            g_autofree char *id = g_strdup(notify->extra);
            g_autoptr(PGresult) res = NULL;
            const char *values[] = {id, view->kind};

            PQfreemem(notify);
            /* A reply stored before LISTEN took effect was printed already. */
            if (g_ascii_strtoll(id, NULL, 10) <= last_id)
                continue;
            res = db_exec(conn,
                          "SELECT " REPLIES_COLUMNS " FROM replygate.processed_replies"
                          " WHERE id = $1::bigint AND ($2::text IS NULL OR kind = $2)",
                          2, values, NULL, NULL, error);
            if (res == NULL)
                return EX_TEMPFAIL;
            replies_print(view, res, 0, PQntuples(res), 1);
        }
    }
}

/* cmd_replies - list processed replies, and follow new ones on request */
int
cmd_replies(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *since_text = NULL;
    g_autofree char *kind = NULL;
    int limit = 20;
    gboolean json = FALSE, follow = FALSE;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"since", 0, 0, G_OPTION_ARG_STRING, &since_text,
         "only replies received in the last DURATION (90s, 15m, 2h, 7d, 1w)", "DURATION"},
        {"kind", 0, 0, G_OPTION_ARG_STRING, &kind, "only replies of this kind (i, p, ...)", "K"},
        {"limit", 'n', 0, G_OPTION_ARG_INT, &limit, "at most N replies, the newest (20)", "N"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object a line", NULL},
        {"follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
         "then wait and print each new reply as it is stored", NULL},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PGconn) conn = NULL;
    g_autoptr(PGresult) res = NULL;
    RepliesView view = {0};
    guint64 since = 0;
    gint64 last_id = 0;
    int rows;

    if (!cli_parse_options("",
                           "List the processed replies (replygate.processed_replies),\n"
                           "oldest first. --follow waits on LISTEN replygate_reply.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1 || limit < 0 ||
        (since_text != NULL && !replies_parse_duration(since_text, &since))) {
        fprintf(stderr, "usage: replygate replies [--config FILE] [--since DURATION] [--kind K]"
                        " [--limit N] [--json] [--follow]\n");
        return EX_USAGE;
    }
    view.json = json;
    view.kind = kind;
    if (!cli_load(config_path, &config, NULL, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    conn = db_connect(config->database, "replygate-replies", 0, &error);
    /* LISTEN before the first query, so that no reply falls between them. */
    if (conn == NULL || (follow && !db_command(conn, "LISTEN replygate_reply", 0, NULL, &error)) ||
        (res = replies_query(conn, &view, since_text ? (gint64)since : -1, limit, &error)) ==
            NULL) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_TEMPFAIL;
    }
    rows = PQntuples(res);
    if (rows > 0)
        last_id = g_ascii_strtoll(PQgetvalue(res, 0, COL_ID), NULL, 10);
    replies_print(&view, res, rows - 1, -1, -1);
    if (rows == 0 && !json && !follow)
        printf("no replies%s%s\n", since_text ? " in the last " : "", since_text ? since_text : "");
    if (!follow)
        return EX_OK;
    {
        int status = replies_follow(conn, &view, last_id, &error);
        fprintf(stderr, "replygate: %s\n", error ? error->message : "follow ended");
        return status;
    }
}
