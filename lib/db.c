/*
 * db.c - the one wrapper around libpq that every query goes through.
 *
 * Values are always parameters, never spliced into SQL text. A failed
 * statement becomes a GError whose code says what the caller should do
 * (see db.h): defer, treat as a duplicate, or ask the operator.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "db.h"
#include "rg-error.h"

/* db_first_line - the first line of a libpq message, without its newline */
static char *
db_first_line(const char *message)
{
    const char *nl;

    if (message == NULL || *message == '\0')
        return g_strdup("unknown error");
    nl = strchr(message, '\n');
    return nl ? g_strndup(message, nl - message) : g_strdup(message);
}

/* db_sqlstate_code - the RgErrorCode for a SQLSTATE (NULL: a lost connection) */
int
db_sqlstate_code(const char *sqlstate)
{
    if (sqlstate == NULL || strlen(sqlstate) != 5)
        return RG_ERROR_TEMPFAIL; /* no answer from the server at all */
    if (strcmp(sqlstate, "23505") == 0)
        return RG_ERROR_DUPLICATE;
    if (strncmp(sqlstate, "08", 2) == 0 ||   /* connection exception */
        strcmp(sqlstate, "40001") == 0 ||    /* serialization failure */
        strcmp(sqlstate, "40P01") == 0 ||    /* deadlock detected */
        strncmp(sqlstate, "53", 2) == 0 ||   /* insufficient resources, disk full */
        strncmp(sqlstate, "57P0", 4) == 0 || /* admin/crash shutdown, cannot connect now */
        strcmp(sqlstate, "55P03") == 0 ||    /* lock not available (lock_timeout) */
        strcmp(sqlstate, "57014") == 0 ||    /* query canceled (statement_timeout) */
        strcmp(sqlstate, "25006") == 0)      /* read-only transaction: a standby, failover */
        return RG_ERROR_TEMPFAIL;
    if (strncmp(sqlstate, "28", 2) == 0 || /* invalid authorization */
        strcmp(sqlstate, "3D000") == 0 ||  /* no such database */
        strcmp(sqlstate, "3F000") == 0 ||  /* no such schema: not migrated */
        strncmp(sqlstate, "42", 2) == 0)   /* missing table or function, permission, syntax */
        return RG_ERROR_CONFIG;
    if (strncmp(sqlstate, "22", 2) == 0 || /* data exception: this message's values */
        strncmp(sqlstate, "54", 2) == 0)   /* program limit exceeded: this message is too much */
        return RG_ERROR_DATAERR;
    /* Anything else is not known to be permanent: defer, and the SQLSTATE
     * goes into mail.log with the message. */
    return RG_ERROR_TEMPFAIL;
}

/* Connection failures carry no SQLSTATE (libpq has none before the session
 * exists), so the server's own words tell them apart. */
static const struct {
    const char *words;
    int code;
    const char *what;
} db_connect_failures[] = {
    {"too many clients already", RG_ERROR_TEMPFAIL, "database has too many clients"},
    {"remaining connection slots are reserved", RG_ERROR_TEMPFAIL, "database has too many clients"},
    {"no more connections allowed", RG_ERROR_TEMPFAIL, "database has too many clients"},
    {"too many connections for", RG_ERROR_TEMPFAIL, "database has too many clients"},
    {"password authentication failed", RG_ERROR_CONFIG, "database refuses the login"},
    {"authentication failed for user", RG_ERROR_CONFIG, "database refuses the login"},
    {"no pg_hba.conf entry", RG_ERROR_CONFIG, "database refuses the login"},
    {"does not exist", RG_ERROR_CONFIG, "database refuses the login"},
    {"no such database", RG_ERROR_CONFIG, "database refuses the login"},
    {"is not permitted to log in", RG_ERROR_CONFIG, "database refuses the login"},
};

/* db_connect_code - the RgErrorCode and the text for a failed connection */
int
db_connect_code(const char *message, const char **what)
{
    for (gsize i = 0; message != NULL && i < G_N_ELEMENTS(db_connect_failures); i++) {
        if (strstr(message, db_connect_failures[i].words) != NULL) {
            *what = db_connect_failures[i].what;
            return db_connect_failures[i].code;
        }
    }
    *what = "database unreachable";
    return RG_ERROR_TEMPFAIL;
}

/* db_set_connect_error - a classified error for a connection that failed */
static void
db_set_connect_error(PGconn *conn, GError **error)
{
    const char *message = PQerrorMessage(conn);
    const char *what = NULL;
    int code = db_connect_code(message, &what);
    g_autofree char *why = NULL;
    const char *fatal;

    /* "connection to server on socket ... failed: FATAL:  sorry, ...": keep
     * the server's words when there are any. */
    fatal = message ? strstr(message, "FATAL:") : NULL;
    why = db_first_line(fatal ? fatal : message);
    g_set_error(error, RG_ERROR, code, "%s: %s", what, why);
}

/* db_params - the keywords for a connection: conninfo is expanded last, so
 * that its own connect_timeout or application_name win */
static void
db_params(const char *keys[4], const char *values[4], const char *conninfo,
          const char *application_name, const char *timeout)
{
    keys[0] = "connect_timeout";
    values[0] = timeout;
    keys[1] = "application_name";
    values[1] = application_name ? application_name : "replygate";
    keys[2] = "dbname";
    values[2] = conninfo ? conninfo : "";
    keys[3] = NULL;
    values[3] = NULL;
}

/* db_connect - connect with a timeout and an application name */
PGconn *
db_connect(const char *conninfo, const char *application_name, int timeout_s, GError **error)
{
    const char *keys[4];
    const char *values[4];
    g_autofree char *timeout =
        g_strdup_printf("%d", timeout_s > 0 ? timeout_s : DB_CONNECT_TIMEOUT);
    PGconn *conn;

    db_params(keys, values, conninfo, application_name, timeout);
    conn = PQconnectdbParams(keys, values, 1);
    if (conn == NULL) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "database: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        db_set_connect_error(conn, error);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* db_wait - wait until the socket is ready as PQconnectPoll asked; FALSE on timeout */
static gboolean
db_wait(PGconn *conn, PostgresPollingStatusType want, gint64 deadline)
{
    struct pollfd pfd = {.fd = PQsocket(conn),
                         .events = want == PGRES_POLLING_READING ? POLLIN : POLLOUT};

    for (;;) {
        gint64 left = deadline < 0 ? 0 : (deadline - g_get_monotonic_time()) / 1000;
        int n;

        if (left < 0)
            return FALSE;
        n = poll(&pfd, 1, deadline < 0 ? 0 : (int)MIN(left + 1, G_MAXINT));
        if (n > 0)
            return TRUE;
        if (n == 0)
            return FALSE;
        if (errno != EINTR)
            return TRUE; /* let PQconnectPoll find out what is wrong */
    }
}

/* db_connect_start - begin connecting without waiting */
PGconn *
db_connect_start(const char *conninfo, const char *application_name)
{
    const char *keys[4];
    const char *values[4];
    PGconn *conn;

    db_params(keys, values, conninfo, application_name, "0");
    conn = PQconnectStartParams(keys, values, 1);
    if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
        return conn;
    /* One step now, when the socket is already writable (always for a unix
     * socket): the startup packet goes out and the server forks meanwhile. */
    if (db_wait(conn, PGRES_POLLING_WRITING, -1))
        PQconnectPoll(conn);
    return conn;
}

/* db_connect_finish - wait until a started connection is up */
gboolean
db_connect_finish(PGconn *conn, int timeout_s, GError **error)
{
    gint64 deadline = g_get_monotonic_time() +
                      (gint64)(timeout_s > 0 ? timeout_s : DB_CONNECT_TIMEOUT) * G_USEC_PER_SEC;
    PostgresPollingStatusType status = PGRES_POLLING_WRITING;

    if (conn == NULL) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "database: out of memory");
        return FALSE;
    }
    for (;;) {
        if (PQstatus(conn) == CONNECTION_OK)
            return TRUE;
        if (PQstatus(conn) == CONNECTION_BAD || status == PGRES_POLLING_FAILED) {
            db_set_connect_error(conn, error);
            return FALSE;
        }
        if (!db_wait(conn, status, deadline)) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL,
                        "database unreachable: no answer within %d seconds",
                        timeout_s > 0 ? timeout_s : DB_CONNECT_TIMEOUT);
            return FALSE;
        }
        status = PQconnectPoll(conn);
        if (status == PGRES_POLLING_OK)
            return TRUE;
    }
}

/* db_set_result_error - a classified error from a failed result */
static void
db_set_result_error(PGconn *conn, PGresult *res, GError **error)
{
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    g_autofree char *why = db_first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));

    if (PQstatus(conn) == CONNECTION_BAD)
        sqlstate = NULL; /* whatever was said, the connection is gone: defer */
    else if (sqlstate == NULL && res != NULL && status != PGRES_FATAL_ERROR)
        sqlstate = "XX000"; /* an unexpected result kind: a bug, not a resource */
    g_set_error(error, RG_ERROR, db_sqlstate_code(sqlstate), "database: %s%s%s%s", why,
                sqlstate ? " (SQLSTATE " : "", sqlstate ? sqlstate : "", sqlstate ? ")" : "");
}

/* db_exec - run one statement with parameters and classify its failure */
PGresult *
db_exec(PGconn *conn, const char *sql, int n_params, const char *const *values, const int *lengths,
        const int *formats, GError **error)
{
    PGresult *res;
    ExecStatusType status;

    res = PQexecParams(conn, sql, n_params, NULL, values, lengths, formats, 0);
    status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        return res;

    db_set_result_error(conn, res, error);
    if (res)
        PQclear(res);
    return NULL;
}

/* db_exec_script - run a whole SQL script with PQexec (schema files only:
 * PQexecParams takes one statement, and these files carry no values) */
gboolean
db_exec_script(PGconn *conn, const char *sql, GError **error)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        PQclear(res);
        return TRUE;
    }
    db_set_result_error(conn, res, error);
    if (res)
        PQclear(res);
    return FALSE;
}

/* db_command - db_exec() for a statement whose result is not needed */
gboolean
db_command(PGconn *conn, const char *sql, int n_params, const char *const *values, GError **error)
{
    PGresult *res = db_exec(conn, sql, n_params, values, NULL, NULL, error);

    if (res == NULL)
        return FALSE;
    PQclear(res);
    return TRUE;
}

/* db_limit_sql - "SET LOCAL name = N" for a limit in milliseconds (new string) */
static char *
db_limit_sql(const char *name, guint64 ms)
{
    return g_strdup_printf("SET LOCAL %s = %" G_GUINT64_FORMAT, name, ms);
}

/* db_begin - BEGIN and the SET LOCAL limits */
gboolean
db_begin(PGconn *conn, const DbLimits *limits, GError **error)
{
    g_autofree char *lock = NULL;
    g_autofree char *statement = NULL;

    if (!db_command(conn, "BEGIN", 0, NULL, error))
        return FALSE;
    if (limits == NULL)
        return TRUE;
    lock = db_limit_sql("lock_timeout", limits->lock_timeout_ms);
    statement = db_limit_sql("statement_timeout", limits->statement_timeout_ms);
    if ((limits->lock_timeout_ms > 0 && !db_command(conn, lock, 0, NULL, error)) ||
        (limits->statement_timeout_ms > 0 && !db_command(conn, statement, 0, NULL, error))) {
        db_rollback(conn);
        return FALSE;
    }
    return TRUE;
}

/* db_pipeline_next - the first result of the next query of a pipeline, the
 * others of that query read and dropped; NULL when the connection broke */
static PGresult *
db_pipeline_next(PGconn *conn)
{
    PGresult *first = NULL;
    PGresult *res;

    while ((res = PQgetResult(conn)) != NULL) {
        if (first == NULL)
            first = res;
        else
            PQclear(res);
        if (PQresultStatus(first) == PGRES_PIPELINE_SYNC)
            break; /* a sync is not followed by NULL */
    }
    return first;
}

/* db_exec_transaction - one statement in its own limited transaction, one round trip */
PGresult *
db_exec_transaction(PGconn *conn, const DbLimits *limits, const char *sql, int n_params,
                    const char *const *values, const int *lengths, const int *formats,
                    GError **error)
{
    g_autofree char *lock = NULL;
    g_autofree char *statement = NULL;
    const char *steps[5];
    int n = 0, target, failed_step = -1;
    PGresult *result = NULL;
    PGresult *failed = NULL;
    gboolean ok;

    steps[n++] = "BEGIN";
    if (limits && limits->lock_timeout_ms > 0)
        steps[n++] = lock = db_limit_sql("lock_timeout", limits->lock_timeout_ms);
    if (limits && limits->statement_timeout_ms > 0)
        steps[n++] = statement = db_limit_sql("statement_timeout", limits->statement_timeout_ms);
    target = n;
    steps[n++] = sql;
    steps[n++] = "COMMIT";

    ok = PQenterPipelineMode(conn) == 1;
    for (int i = 0; ok && i < n; i++)
        ok = i == target
                 ? PQsendQueryParams(conn, sql, n_params, NULL, values, lengths, formats, 0) == 1
                 : PQsendQueryParams(conn, steps[i], 0, NULL, NULL, NULL, NULL, 0) == 1;
    ok = ok && PQpipelineSync(conn) == 1;
    for (int i = 0; ok && i <= n; i++) {
        PGresult *res = db_pipeline_next(conn);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

        if (res == NULL) {
            ok = FALSE; /* the connection broke: nothing more will come */
        } else if (i == n || st == PGRES_PIPELINE_SYNC || st == PGRES_PIPELINE_ABORTED) {
            PQclear(res); /* the sync, or a query skipped after a failure */
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            if (failed == NULL) {
                failed = res; /* the first failure says why */
                failed_step = i;
            } else
                PQclear(res);
        } else if (i == target) {
            result = res;
        } else {
            PQclear(res);
        }
    }
    if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF && !PQexitPipelineMode(conn))
        ok = FALSE;
    if (ok && failed == NULL && result != NULL)
        return result;
    db_set_result_error(conn, failed, error);
    if (failed_step > 0 && failed_step < target && error != NULL && *error != NULL &&
        g_error_matches(*error, RG_ERROR, RG_ERROR_DATAERR))
        (*error)->code = RG_ERROR_CONFIG; /* a limit SET LOCAL refused: ours, not the message's */
    PQclear(failed);
    PQclear(result);
    db_rollback(conn); /* a failure before COMMIT leaves the block open */
    return NULL;
}

/* db_rollback - roll back an open transaction, ignoring errors (cleanup paths) */
void
db_rollback(PGconn *conn)
{
    PGresult *res;

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK ||
        PQtransactionStatus(conn) == PQTRANS_IDLE)
        return;
    res = PQexec(conn, "ROLLBACK");
    PQclear(res);
}
