/*
 * db.h - every PostgreSQL query goes through here (SPEC section 8).
 *
 * One wrapper around PQexecParams, values always passed as parameters, and
 * errors classified by SQLSTATE the way pg_auto_failover does it:
 *   class 08 (connection), 40001 (serialization), 40P01 (deadlock),
 *   class 53 (insufficient resources), 57P01..57P05 (shutdown, crash)
 *     -> RG_ERROR_TEMPFAIL, the caller defers;
 *   23505 (unique violation) -> RG_ERROR_DUPLICATE, success for the agent;
 *   anything else (missing table, permission, a bug in a query)
 *     -> RG_ERROR_CONFIG: the operator must act, and mail must wait.
 * A connection that cannot be made is RG_ERROR_TEMPFAIL.
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

/* db_rollback - roll back an open transaction, ignoring errors (cleanup paths) */
void db_rollback(PGconn *conn);

/* db_sqlstate_code - the RgErrorCode for a SQLSTATE (NULL: a lost connection) */
int db_sqlstate_code(const char *sqlstate);

#endif
