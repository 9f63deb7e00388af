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
        strcmp(sqlstate, "55P03") == 0 ||    /* lock not available */
        strcmp(sqlstate, "57014") == 0)      /* query canceled (statement timeout) */
        return RG_ERROR_TEMPFAIL;
    /* A missing table, a permission, a bug: the operator must act, so defer. */
    return RG_ERROR_CONFIG;
}

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
        g_autofree char *why = db_first_line(PQerrorMessage(conn));
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "database unreachable: %s", why);
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
            g_autofree char *why = db_first_line(PQerrorMessage(conn));
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "database unreachable: %s", why);
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
