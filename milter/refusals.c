/*
 * refusals.c - the bounded queue and the writer thread of refusal rows (refusals.h).
 *
 * The SMTP side only takes the mutex to append a copied row (or count a drop
 * when the queue is full) and signals the writer. The writer takes up to
 * REFUSALS_BATCH rows and writes them in one transaction with its own
 * connection, made lazily and remade when the database setting changes or
 * after a failure, never more often than every REFUSALS_RETRY seconds. While
 * the database cannot be reached the rows wait in the queue, so a restart of
 * the database loses none; once the queue is full, new rows are dropped and
 * counted. A batch that fails on a working connection (a statement timeout,
 * a lock, a row the database refuses) is dropped and counted, never retried:
 * one bad row must not wedge the writer.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"
#include "maillog.h"
#include "refusals.h"
#include "rg-error.h"

/* The parameters of replygate.record_refusal(...), in its order. */
enum {
    COL_STAGE,
    COL_SMTP_CODE,
    COL_ENHANCED,
    COL_REASON,
    COL_SENDER,
    COL_RECIPIENT,
    COL_FROM,
    COL_KEY_KIND,
    COL_KEY_TARGET,
    COL_KEY_USER,
    COL_MESSAGE_ID,
    COL_CLIENT_ADDRESS,
    COL_CLIENT_NAME,
    COL_QUEUE_ID,
    COL_N,
};

#define RECORD_SQL                                                                                 \
    "SELECT replygate.record_refusal($1::text, $2::integer, $3::text, $4::text, $5::text, "        \
    "$6::text, $7::text, $8::text, $9::numeric, $10::numeric, $11::text, $12::text, $13::text, "   \
    "$14::text)"

/* An address or id longer than this is cut: a row is a report, not evidence. */
#define FIELD_MAX 1024

typedef struct {
    char *values[COL_N]; /* text parameters, NULL for SQL NULL */
} Row;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    GQueue queue; /* Row * */
    gboolean running;
    gboolean stopping;
    pthread_t thread;
    char *(*conninfo)(void);
    guint64 written;
    guint64 dropped_full;
    guint64 dropped_db;
    guint64 reported; /* drops already reported */
    gint64 last_report;
    char *last_error;        /* the last database error, for the report */
    gint64 last_down_report; /* when "cannot reach the database" was last logged */
    gboolean down;           /* the last connection attempt failed */
} writer = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .queue = G_QUEUE_INIT,
};

/* The writer thread's own connection; touched by that thread only. */
static PGconn *writer_conn;
static char *writer_conninfo;
static gint64 writer_next_attempt;

/* row_free - release one row */
static void
row_free(Row *row)
{
    for (int i = 0; i < COL_N; i++)
        g_free(row->values[i]);
    g_free(row);
}

/* field - a cut copy of text, NULL for NULL or "" */
static char *
field(const char *text)
{
    gsize n;

    if (text == NULL || *text == '\0')
        return NULL;
    n = strlen(text);
    if (n <= FIELD_MAX)
        return g_strdup(text);
    while (n > FIELD_MAX || (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80))
        n--;
    return g_strndup(text, n);
}

/* bracketed - the text inside the first <...>, else the trimmed text (new string or NULL) */
static char *
bracketed(const char *value)
{
    const char *open;
    const char *close;
    g_autofree char *trimmed = NULL;

    if (value == NULL)
        return NULL;
    open = strchr(value, '<');
    if (open != NULL && (close = strchr(open + 1, '>')) != NULL)
        return close > open + 1 ? g_strndup(open + 1, (gsize)(close - open - 1)) : NULL;
    trimmed = g_strstrip(g_strdup(value));
    return *trimmed != '\0' ? g_steal_pointer(&trimmed) : NULL;
}

/* refusals_address - the bare address of a From value, or NULL */
char *
refusals_address(const char *value)
{
    g_autofree char *address = bracketed(value);

    if (address == NULL || strchr(address, '@') == NULL)
        return NULL;
    return g_steal_pointer(&address);
}

/* now_s - seconds on the monotonic clock */
static gint64
now_s(void)
{
    return g_get_monotonic_time() / G_USEC_PER_SEC;
}

/* refusals_record - queue one row without waiting */
void
refusals_record(const RefusalRow *in)
{
    Row *row = g_new0(Row, 1);
    g_autofree char *from = refusals_address(in->from);
    g_autofree char *message_id = bracketed(in->message_id);
    g_autofree char *sender = bracketed(in->sender);
    g_autofree char *recipient = bracketed(in->recipient);

    row->values[COL_STAGE] = field(in->stage);
    row->values[COL_SMTP_CODE] = g_strdup_printf("%d", in->smtp_code);
    row->values[COL_ENHANCED] = field(in->enhanced_code);
    row->values[COL_REASON] = field(in->reason);
    /* The null sender <> is an empty string, not unknown. */
    row->values[COL_SENDER] = in->sender != NULL && sender == NULL ? g_strdup("") : field(sender);
    row->values[COL_RECIPIENT] = field(recipient);
    row->values[COL_FROM] = field(from);
    if (in->has_key) {
        row->values[COL_KEY_KIND] = field(in->key_kind);
        row->values[COL_KEY_TARGET] = g_strdup_printf("%" G_GUINT64_FORMAT, in->key_target);
        row->values[COL_KEY_USER] = g_strdup_printf("%" G_GUINT64_FORMAT, in->key_user);
    }
    row->values[COL_MESSAGE_ID] = field(message_id);
    row->values[COL_CLIENT_ADDRESS] = field(in->client_address);
    row->values[COL_CLIENT_NAME] = field(in->client_name);
    row->values[COL_QUEUE_ID] = field(in->queue_id);

    pthread_mutex_lock(&writer.lock);
    if (!writer.running || writer.stopping || writer.queue.length >= REFUSALS_QUEUE_MAX) {
        writer.dropped_full++;
        pthread_mutex_unlock(&writer.lock);
        row_free(row);
        return;
    }
    g_queue_push_tail(&writer.queue, row);
    pthread_cond_signal(&writer.wake);
    pthread_mutex_unlock(&writer.lock);
}

/* report - log the rows dropped since the last report, at most every
 * REFUSALS_LOG_EVERY seconds unless final (under the lock) */
static void
report(gboolean final)
{
    guint64 dropped = writer.dropped_full + writer.dropped_db;
    gint64 now = now_s();

    if (dropped == writer.reported)
        return;
    if (!final && writer.last_report != 0 && now - writer.last_report < REFUSALS_LOG_EVERY)
        return;
    maillog_warning("refusal rows dropped: %" G_GUINT64_FORMAT
                    " since the last report (%" G_GUINT64_FORMAT
                    " with the queue full, %" G_GUINT64_FORMAT
                    " with the database failing in all since the start); last database error: %s",
                    dropped - writer.reported, writer.dropped_full, writer.dropped_db,
                    writer.last_error != NULL ? writer.last_error : "none");
    writer.reported = dropped;
    writer.last_report = now;
}

/* note_error - remember a database error for the report */
static void
note_error(const char *message)
{
    g_autofree char *safe = maillog_escape(message);

    pthread_mutex_lock(&writer.lock);
    g_free(writer.last_error);
    writer.last_error = g_steal_pointer(&safe);
    pthread_mutex_unlock(&writer.lock);
}

/* What became of a batch. */
typedef enum {
    BATCH_WRITTEN,
    BATCH_RETRY, /* no connection: nothing was written, the rows may wait */
    BATCH_LOST,  /* the database refused the transaction: the rows are dropped */
} BatchResult;

/* note_down - the database cannot be reached: say so now and then; and say
 * when it can be again */
static void
note_down(gboolean down, const char *message)
{
    gint64 now = now_s();

    pthread_mutex_lock(&writer.lock);
    if (down &&
        (writer.last_down_report == 0 || now - writer.last_down_report >= REFUSALS_LOG_EVERY)) {
        g_autofree char *safe = maillog_escape(message);

        maillog_warning("refusal rows: %u waiting (at most %d are kept) for the database: %s",
                        writer.queue.length, REFUSALS_QUEUE_MAX, safe);
        writer.last_down_report = now;
    } else if (!down && writer.down) {
        maillog_info("refusal rows: the database is reachable again");
        writer.last_down_report = 0;
    }
    writer.down = down;
    pthread_mutex_unlock(&writer.lock);
}

/* writer_connection - the writer's connection, made or remade as needed; NULL when down */
static PGconn *
writer_connection(void)
{
    g_autofree char *conninfo = writer.conninfo != NULL ? writer.conninfo() : NULL;
    g_autoptr(GError) error = NULL;

    if (conninfo == NULL)
        return NULL;
    if (writer_conn != NULL &&
        (PQstatus(writer_conn) != CONNECTION_OK || g_strcmp0(conninfo, writer_conninfo) != 0))
        g_clear_pointer(&writer_conn, PQfinish);
    if (writer_conn != NULL)
        return writer_conn;
    if (now_s() < writer_next_attempt)
        return NULL;
    writer_conn = db_connect(conninfo, "replygate-milter", 5, &error);
    if (writer_conn == NULL) {
        writer_next_attempt = now_s() + REFUSALS_RETRY;
        note_error(error->message);
        note_down(TRUE, error->message);
        return NULL;
    }
    note_down(FALSE, NULL);
    g_free(writer_conninfo);
    writer_conninfo = g_steal_pointer(&conninfo);
    return writer_conn;
}

/* write_batch - the rows in one transaction */
static BatchResult
write_batch(GPtrArray *rows)
{
    PGconn *conn = writer_connection();
    g_autoptr(GError) error = NULL;

    if (conn == NULL)
        return BATCH_RETRY;
    /* SET LOCAL, not SET: the setting must end with the transaction (PgBouncer). */
    if (!db_command(conn, "BEGIN", 0, NULL, &error) ||
        !db_command(conn, "SET LOCAL statement_timeout = '5s'", 0, NULL, &error))
        goto failed;
    for (guint i = 0; i < rows->len; i++) {
        Row *row = g_ptr_array_index(rows, i);
        PGresult *res =
            db_exec(conn, RECORD_SQL, COL_N, (const char *const *)row->values, NULL, NULL, &error);

        if (res == NULL)
            goto failed;
        PQclear(res);
    }
    if (!db_command(conn, "COMMIT", 0, NULL, &error))
        goto failed;
    return BATCH_WRITTEN;

failed:
    note_error(error != NULL ? error->message : "unknown error");
    db_rollback(conn);
    if (PQstatus(conn) != CONNECTION_OK) {
        /* The connection went away: nothing was committed, the rows may wait. */
        g_clear_pointer(&writer_conn, PQfinish);
        return BATCH_RETRY;
    }
    return BATCH_LOST;
}

/* writer_wait - wait on the writer's condition for at most seconds (under the lock) */
static void
writer_wait(int seconds)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_cond_timedwait(&writer.wake, &writer.lock, &deadline);
}

/* writer_main - take batches off the queue until stopped */
static void *
writer_main(void *data)
{
    (void)data;
    pthread_mutex_lock(&writer.lock);
    for (;;) {
        g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)row_free);
        BatchResult result;

        while (writer.queue.length == 0 && !writer.stopping) {
            writer_wait(1);
            report(FALSE);
        }
        if (writer.queue.length == 0)
            break; /* stopping, and nothing left */
        if (writer_conn == NULL && now_s() < writer_next_attempt && !writer.stopping) {
            /* Down: the rows wait in the queue until the next attempt. */
            writer_wait(1);
            report(FALSE);
            continue;
        }
        while (rows->len < REFUSALS_BATCH && writer.queue.length > 0)
            g_ptr_array_add(rows, g_queue_pop_head(&writer.queue));
        pthread_mutex_unlock(&writer.lock);
        result = write_batch(rows);
        pthread_mutex_lock(&writer.lock);
        if (result == BATCH_WRITTEN) {
            writer.written += rows->len;
        } else if (result == BATCH_RETRY && !writer.stopping) {
            /* Back at the head, in order; the producers' cap keeps the queue bounded. */
            for (guint i = rows->len; i > 0; i--)
                g_queue_push_head(&writer.queue, g_ptr_array_steal_index(rows, i - 1));
        } else {
            writer.dropped_db += rows->len;
        }
        report(FALSE);
    }
    pthread_mutex_unlock(&writer.lock);
    g_clear_pointer(&writer_conn, PQfinish);
    g_clear_pointer(&writer_conninfo, g_free);
    return NULL;
}

/* refusals_start - start the writer thread */
gboolean
refusals_start(char *(*conninfo)(void), GError **error)
{
    sigset_t all;
    sigset_t old;
    int rc;

    writer.conninfo = conninfo;
    /* The writer takes no signal: the main thread handles them (serve.c). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&writer.thread, NULL, writer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot start the refusal writer: %s",
                    g_strerror(rc));
        return FALSE;
    }
    pthread_mutex_lock(&writer.lock);
    writer.running = TRUE;
    pthread_mutex_unlock(&writer.lock);
    return TRUE;
}

/* refusals_stop - let the writer finish, waiting at most timeout_ms */
void
refusals_stop(int timeout_ms)
{
    struct timespec deadline;

    pthread_mutex_lock(&writer.lock);
    if (!writer.running) {
        pthread_mutex_unlock(&writer.lock);
        return;
    }
    writer.stopping = TRUE;
    pthread_cond_signal(&writer.wake);
    pthread_mutex_unlock(&writer.lock);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(writer.thread, NULL, &deadline) != 0) {
        /* Still waiting for the database: what it holds is lost with the process. */
        pthread_mutex_lock(&writer.lock);
        writer.dropped_db += writer.queue.length;
        report(TRUE);
        pthread_mutex_unlock(&writer.lock);
        return;
    }
    pthread_mutex_lock(&writer.lock);
    writer.running = FALSE;
    report(TRUE);
    pthread_mutex_unlock(&writer.lock);
}

/* refusals_stats - rows written and dropped since the start */
void
refusals_stats(guint64 *written, guint64 *dropped)
{
    pthread_mutex_lock(&writer.lock);
    if (written != NULL)
        *written = writer.written;
    if (dropped != NULL)
        *dropped = writer.dropped_full + writer.dropped_db;
    pthread_mutex_unlock(&writer.lock);
}
