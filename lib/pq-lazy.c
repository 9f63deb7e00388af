/*
 * pq-lazy.c - libpq loaded on first use, for the pipe agent only.
 *
 * Debian's libpq brings 25 shared objects (Kerberos, LDAP, SASL, gnutls,
 * p11-kit...) whose loading and relocation cost every replygate-deliver
 * process about 3 ms of CPU, more than the message itself, even when the
 * process never stores anything: --dry-run, and every refusal. The agent is
 * therefore linked with this file instead of -lpq: each libpq function it
 * uses is defined here with libpq's own signature and calls the real one,
 * found with dlsym() in libpq.so.5, which is dlopen()ed the first time any
 * of them is called. A program linked with libpq (the milter, the LMTP
 * service, the CLI) never links this file.
 *
 * If libpq cannot be loaded, the connecting calls return NULL, which
 * lib/db.c reports as a database that cannot be reached: the mail is
 * deferred (4.3.0), never lost, and mail.log says why once.
 */
#include <libpq-fe.h>

#include "lazy-load.h"

#define PQ_LAZY_LIBRARY "libpq.so.5"

/* The real functions, filled once (g_once) by pq_lazy_load(). */
typedef struct {
    gboolean loaded;
    PGconn *(*connectdbParams)(const char *const *, const char *const *, int);
    PGconn *(*connectStartParams)(const char *const *, const char *const *, int);
    PostgresPollingStatusType (*connectPoll)(PGconn *);
    ConnStatusType (*status)(const PGconn *);
    PGTransactionStatusType (*transactionStatus)(const PGconn *);
    int (*socket)(const PGconn *);
    char *(*errorMessage)(const PGconn *);
    PGresult *(*exec)(PGconn *, const char *);
    PGresult *(*execParams)(PGconn *, const char *, int, const Oid *, const char *const *,
                            const int *, const int *, int);
    ExecStatusType (*resultStatus)(const PGresult *);
    char *(*resultErrorField)(const PGresult *, int);
    char *(*resultErrorMessage)(const PGresult *);
    int (*ntuples)(const PGresult *);
    char *(*getvalue)(const PGresult *, int, int);
    int (*getisnull)(const PGresult *, int, int);
    void (*clear)(PGresult *);
    void (*finish)(PGconn *);
    int (*sendQueryParams)(PGconn *, const char *, int, const Oid *, const char *const *,
                           const int *, const int *, int);
    PGresult *(*getResult)(PGconn *);
    int (*enterPipelineMode)(PGconn *);
    int (*exitPipelineMode)(PGconn *);
    PGpipelineStatus (*pipelineStatus)(const PGconn *);
    int (*pipelineSync)(PGconn *);
} PqLazy;

/* The functions of PqLazy, as libpq names them. */
static const LazySymbol pq_symbols[] = {
    LAZY_SYMBOL(PqLazy, connectdbParams, "PQconnectdbParams"),
    LAZY_SYMBOL(PqLazy, connectStartParams, "PQconnectStartParams"),
    LAZY_SYMBOL(PqLazy, connectPoll, "PQconnectPoll"),
    LAZY_SYMBOL(PqLazy, status, "PQstatus"),
    LAZY_SYMBOL(PqLazy, transactionStatus, "PQtransactionStatus"),
    LAZY_SYMBOL(PqLazy, socket, "PQsocket"),
    LAZY_SYMBOL(PqLazy, errorMessage, "PQerrorMessage"),
    LAZY_SYMBOL(PqLazy, exec, "PQexec"),
    LAZY_SYMBOL(PqLazy, execParams, "PQexecParams"),
    LAZY_SYMBOL(PqLazy, resultStatus, "PQresultStatus"),
    LAZY_SYMBOL(PqLazy, resultErrorField, "PQresultErrorField"),
    LAZY_SYMBOL(PqLazy, resultErrorMessage, "PQresultErrorMessage"),
    LAZY_SYMBOL(PqLazy, ntuples, "PQntuples"),
    LAZY_SYMBOL(PqLazy, getvalue, "PQgetvalue"),
    LAZY_SYMBOL(PqLazy, getisnull, "PQgetisnull"),
    LAZY_SYMBOL(PqLazy, clear, "PQclear"),
    LAZY_SYMBOL(PqLazy, finish, "PQfinish"),
    LAZY_SYMBOL(PqLazy, sendQueryParams, "PQsendQueryParams"),
    LAZY_SYMBOL(PqLazy, getResult, "PQgetResult"),
    LAZY_SYMBOL(PqLazy, enterPipelineMode, "PQenterPipelineMode"),
    LAZY_SYMBOL(PqLazy, exitPipelineMode, "PQexitPipelineMode"),
    LAZY_SYMBOL(PqLazy, pipelineStatus, "PQpipelineStatus"),
    LAZY_SYMBOL(PqLazy, pipelineSync, "PQpipelineSync"),
};

/* pq_lazy - the real functions, loading libpq the first time */
static const PqLazy *
pq_lazy(void)
{
    static PqLazy pq;
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        pq.loaded = lazy_load(PQ_LAZY_LIBRARY, &pq, pq_symbols, G_N_ELEMENTS(pq_symbols));
        g_once_init_leave(&done, 1);
    }
    return &pq;
}

/* Every function below: the real one, or what libpq answers for "no connection". */

PGconn *
PQconnectdbParams(const char *const *keywords, const char *const *values, int expand_dbname)
{
    const PqLazy *pq = pq_lazy();
    return pq->loaded ? pq->connectdbParams(keywords, values, expand_dbname) : NULL;
}

PGconn *
PQconnectStartParams(const char *const *keywords, const char *const *values, int expand_dbname)
{
    const PqLazy *pq = pq_lazy();
    return pq->loaded ? pq->connectStartParams(keywords, values, expand_dbname) : NULL;
}

PostgresPollingStatusType
PQconnectPoll(PGconn *conn)
{
    return pq_lazy()->connectPoll(conn); /* only with a connection, so loaded */
}

ConnStatusType
PQstatus(const PGconn *conn)
{
    return conn != NULL ? pq_lazy()->status(conn) : CONNECTION_BAD;
}

PGTransactionStatusType
PQtransactionStatus(const PGconn *conn)
{
    return conn != NULL ? pq_lazy()->transactionStatus(conn) : PQTRANS_UNKNOWN;
}

int
PQsocket(const PGconn *conn)
{
    return conn != NULL ? pq_lazy()->socket(conn) : -1;
}

char *
PQerrorMessage(const PGconn *conn)
{
    return conn != NULL ? pq_lazy()->errorMessage(conn) : (char *)"libpq is not loaded";
}

PGresult *
PQexec(PGconn *conn, const char *query)
{
    return conn != NULL ? pq_lazy()->exec(conn, query) : NULL;
}

PGresult *
PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
             const char *const *paramValues, const int *paramLengths, const int *paramFormats,
             int resultFormat)
{
    return conn != NULL ? pq_lazy()->execParams(conn, command, nParams, paramTypes, paramValues,
                                                paramLengths, paramFormats, resultFormat)
                        : NULL;
}

ExecStatusType
PQresultStatus(const PGresult *res)
{
    return res != NULL ? pq_lazy()->resultStatus(res) : PGRES_FATAL_ERROR;
}

char *
PQresultErrorField(const PGresult *res, int fieldcode)
{
    return res != NULL ? pq_lazy()->resultErrorField(res, fieldcode) : NULL;
}

char *
PQresultErrorMessage(const PGresult *res)
{
    return res != NULL ? pq_lazy()->resultErrorMessage(res) : (char *)"";
}

int
PQntuples(const PGresult *res)
{
    return res != NULL ? pq_lazy()->ntuples(res) : 0;
}

char *
PQgetvalue(const PGresult *res, int tup_num, int field_num)
{
    return res != NULL ? pq_lazy()->getvalue(res, tup_num, field_num) : NULL;
}

/* PQgetisnull - libpq's, through the loaded library (a result only exists once it is) */
int
PQgetisnull(const PGresult *res, int tup_num, int field_num)
{
    return res != NULL ? pq_lazy()->getisnull(res, tup_num, field_num) : 1;
}

void
PQclear(PGresult *res)
{
    if (res != NULL)
        pq_lazy()->clear(res);
}

void
PQfinish(PGconn *conn)
{
    if (conn != NULL)
        pq_lazy()->finish(conn);
}

/* The pipeline mode of store.c's one round trip (db_exec_transaction). */

int
PQsendQueryParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                  const char *const *paramValues, const int *paramLengths, const int *paramFormats,
                  int resultFormat)
{
    return conn != NULL
               ? pq_lazy()->sendQueryParams(conn, command, nParams, paramTypes, paramValues,
                                            paramLengths, paramFormats, resultFormat)
               : 0;
}

PGresult *
PQgetResult(PGconn *conn)
{
    return conn != NULL ? pq_lazy()->getResult(conn) : NULL;
}

int
PQenterPipelineMode(PGconn *conn)
{
    return conn != NULL ? pq_lazy()->enterPipelineMode(conn) : 0;
}

int
PQexitPipelineMode(PGconn *conn)
{
    return conn != NULL ? pq_lazy()->exitPipelineMode(conn) : 0;
}

PGpipelineStatus
PQpipelineStatus(const PGconn *conn)
{
    return conn != NULL ? pq_lazy()->pipelineStatus(conn) : PQ_PIPELINE_OFF;
}

int
PQpipelineSync(PGconn *conn)
{
    return conn != NULL ? pq_lazy()->pipelineSync(conn) : 0;
}
