/*
 * db.h - every PostgreSQL query goes through here (SPEC section 8).
 *
 * One wrapper around PQexecParams (unnamed statements only, so that it works
 * through PgBouncer in transaction mode), values always passed as
 * parameters, and errors classified by SQLSTATE (issue 13's classes):
 *   class 08 (connection), 40001 (serialization), 40P01 (deadlock),
 *   class 53 (insufficient resources), 55P03 (lock_timeout), 57014
 *   (statement_timeout), 57P0x (shutdown, crash), 25006 (read-only: a
 *   standby) -> RG_ERROR_TEMPFAIL, the caller defers (4.3.0);
 *   class 28 (authorization), 3D000 (no database), 3F000 (no schema: not
 *   migrated), class 42 (missing table or function, permission) ->
 *   RG_ERROR_CONFIG: the operator must act, mail waits (4.3.5);
 *   class 22 (data) and 54 (program limits) -> RG_ERROR_DATAERR: this
 *   message can never be stored, the agent refuses it (5.6.0);
 *   23505 (unique violation) -> RG_ERROR_DUPLICATE;
 *   anything else -> RG_ERROR_TEMPFAIL, with the SQLSTATE in the message.
 * A connection that cannot be made has no SQLSTATE; the server's words say
 * "too many clients" (TEMPFAIL, its own text), a refused login or a missing
 * database (CONFIG), or anything else "database unreachable" (TEMPFAIL).
 */
#ifndef RG_DB_H
#define RG_DB_H

#include <glib.h>
#include <libpq-fe.h>

/* Seconds libpq waits for a connection before it gives up. */
#define DB_CONNECT_TIMEOUT 10

/* db_connect - connect to conninfo (a libpq conninfo string or URI); timeout_s
 * seconds at most, 0 for DB_CONNECT_TIMEOUT. application_name is set. */
PGconn *db_connect(const char *conninfo, const char *application_name, int timeout_s,
                   GError **error);

/* db_connect_start - begin connecting without waiting, so that the server
 * starts its backend while the caller does other work; finish with
 * db_connect_finish(). Returns NULL only when out of memory. */
PGconn *db_connect_start(const char *conninfo, const char *application_name);

/* db_connect_finish - wait (timeout_s at most, 0 for DB_CONNECT_TIMEOUT) until
 * a started connection is up; RG_ERROR_TEMPFAIL when it cannot be made */
gboolean db_connect_finish(PGconn *conn, int timeout_s, GError **error);

/* db_exec - run one statement with n_params parameters. values[i] may be NULL
 * (SQL NULL). lengths and formats may be NULL (all text); a format of 1 is a
 * binary value of lengths[i] bytes (bytea). Returns the result of a statement
 * that succeeded, or NULL with a classified error. */
PGresult *db_exec(PGconn *conn, const char *sql, int n_params, const char *const *values,
                  const int *lengths, const int *formats, GError **error);

/* db_command - db_exec() for a statement whose result is not needed */
gboolean db_command(PGconn *conn, const char *sql, int n_params, const char *const *values,
                    GError **error);

/* db_exec_script - run a whole SQL script (several statements, no
 * parameters) with PQexec; only for the schema files that migrate applies */
gboolean db_exec_script(PGconn *conn, const char *sql, GError **error);

/* Limits set with SET LOCAL in every transaction of the delivery programs,
 * in milliseconds; 0 leaves the server's setting. */
typedef struct {
    guint64 lock_timeout_ms;
    guint64 statement_timeout_ms;
} DbLimits;

/* db_exec_transaction - BEGIN, SET LOCAL lock_timeout and statement_timeout,
 * the one statement, COMMIT, sent as one pipeline (one round trip) with
 * unnamed statements; returns the statement's result, or NULL with a
 * classified error (a COMMIT that fails, say a deferred trigger, included),
 * the transaction then rolled back. limits may be NULL. */
PGresult *db_exec_transaction(PGconn *conn, const DbLimits *limits, const char *sql, int n_params,
                              const char *const *values, const int *lengths, const int *formats,
                              GError **error);

/* db_begin - BEGIN and the SET LOCAL limits, for a transaction of several
 * statements that depend on each other (limits may be NULL) */
gboolean db_begin(PGconn *conn, const DbLimits *limits, GError **error);

/* db_connect_code - the RgErrorCode of a failed connection from the
 * server's message, and a short text for it (static) */
int db_connect_code(const char *message, const char **what);

/* db_rollback - roll back an open transaction, ignoring errors (cleanup paths) */
void db_rollback(PGconn *conn);

/* db_sqlstate_code - the RgErrorCode for a SQLSTATE (NULL: a lost connection) */
int db_sqlstate_code(const char *sqlstate);

#endif
