/*
 * lmtp-pool.c - a fixed pool of PostgreSQL connections, shared by sessions.
 *
 * The pool has size slots. A slot is free (with or without a connection) or
 * lent. Borrowers wait on a condition variable with a deadline, so a
 * PostgreSQL that is slow or wedged costs lmtp_pool_wait and then a 451,
 * never a hang. Connecting happens outside the lock. Before an idle
 * connection is lent it is checked without a round trip: a server that
 * closed it (restart, idle timeout) has left an error or EOF on the socket,
 * which PQconsumeInput() reads, so the borrower gets a fresh one instead of
 * a failure on its first statement.
 */
#include <poll.h>

#include "db.h"
#include "lmtp-pool.h"
#include "rg-error.h"

struct LmtpPool {
    gint refcount;
    GMutex lock;
    GCond freed;
    char *conninfo;
    guint size;
    guint lent;      /* slots lent out */
    GPtrArray *idle; /* PGconn *, connections not lent */
    guint open;      /* connections that exist, lent or idle */
};

/* lmtp_pool_new - see lmtp-pool.h */
LmtpPool *
lmtp_pool_new(const char *conninfo, guint size)
{
    LmtpPool *pool = g_new0(LmtpPool, 1);

    pool->refcount = 1;
    g_mutex_init(&pool->lock);
    g_cond_init(&pool->freed);
    pool->conninfo = g_strdup(conninfo);
    pool->size = MAX(size, 1);
    pool->idle = g_ptr_array_new();
    return pool;
}

/* lmtp_pool_alive - is an idle connection still usable? Reads what the
 * server may have sent meanwhile, without waiting */
static gboolean
lmtp_pool_alive(PGconn *conn)
{
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};

    if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)
        return FALSE;
    if (poll(&pfd, 1, 0) > 0) {
        PGnotify *note;

        if (!PQconsumeInput(conn))
            return FALSE;
        while ((note = PQnotifies(conn)) != NULL)
            PQfreemem(note);
    }
    return PQstatus(conn) == CONNECTION_OK;
}

/* lmtp_pool_acquire - see lmtp-pool.h */
PGconn *
lmtp_pool_acquire(LmtpPool *pool, gint64 wait_us, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + MAX(wait_us, 0);
    PGconn *conn = NULL;
    GError *local = NULL;
    int timeout_s;

    g_mutex_lock(&pool->lock);
    while (pool->lent >= pool->size) {
        if (!g_cond_wait_until(&pool->freed, &pool->lock, deadline) && pool->lent >= pool->size) {
            g_mutex_unlock(&pool->lock);
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL,
                        "no database connection free within %" G_GINT64_FORMAT
                        " s (lmtp_pool_size = %u)",
                        wait_us / G_USEC_PER_SEC, pool->size);
            return NULL;
        }
    }
    pool->lent++;
    while (pool->idle->len > 0 && conn == NULL) {
        conn = g_ptr_array_steal_index_fast(pool->idle, pool->idle->len - 1);
        if (!lmtp_pool_alive(conn)) {
            PQfinish(conn);
            pool->open--;
            conn = NULL;
        }
    }
    g_mutex_unlock(&pool->lock);
    if (conn != NULL)
        return conn;

    /* A new connection, made outside the lock; within what is left of the wait. */
    timeout_s = (int)MAX((deadline - g_get_monotonic_time()) / G_USEC_PER_SEC, 2);
    conn = db_connect(pool->conninfo, "replygate-lmtpd", timeout_s, &local);
    g_mutex_lock(&pool->lock);
    if (conn == NULL) {
        pool->lent--;
        g_cond_signal(&pool->freed);
        g_mutex_unlock(&pool->lock);
        g_propagate_error(error, local);
        return NULL;
    }
    pool->open++;
    g_mutex_unlock(&pool->lock);
    return conn;
}

/* lmtp_pool_release - see lmtp-pool.h */
void
lmtp_pool_release(LmtpPool *pool, PGconn *conn)
{
    if (conn == NULL)
        return;
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_INTRANS)
        db_rollback(conn);
    g_mutex_lock(&pool->lock);
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE) {
        g_ptr_array_add(pool->idle, conn);
    } else {
        PQfinish(conn);
        pool->open--;
    }
    pool->lent--;
    g_cond_signal(&pool->freed);
    g_mutex_unlock(&pool->lock);
}

/* lmtp_pool_stats - see lmtp-pool.h */
void
lmtp_pool_stats(LmtpPool *pool, guint *open, guint *busy)
{
    g_mutex_lock(&pool->lock);
    *open = pool->open;
    *busy = pool->lent;
    g_mutex_unlock(&pool->lock);
}

/* lmtp_pool_ref - see lmtp-pool.h */
LmtpPool *
lmtp_pool_ref(LmtpPool *pool)
{
    g_atomic_int_inc(&pool->refcount);
    return pool;
}

/* lmtp_pool_unref - see lmtp-pool.h */
void
lmtp_pool_unref(LmtpPool *pool)
{
    if (pool == NULL || !g_atomic_int_dec_and_test(&pool->refcount))
        return;
    for (guint i = 0; i < pool->idle->len; i++)
        PQfinish(g_ptr_array_index(pool->idle, i));
    g_ptr_array_unref(pool->idle);
    g_free(pool->conninfo);
    g_cond_clear(&pool->freed);
    g_mutex_clear(&pool->lock);
    g_free(pool);
}
