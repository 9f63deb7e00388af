/*
 * lmtp-pool.h - the LMTP service's fixed pool of PostgreSQL connections.
 *
 * lmtp_pool_size connections at most, made when first needed and kept. A
 * delivery borrows one for its transaction and gives it back; a connection
 * that broke (the server restarted, the network went away) is dropped on
 * return and made again by the next borrower. When none frees up within
 * lmtp_pool_wait, or none can be made, the borrower gets an RG_ERROR_TEMPFAIL
 * error and the LMTP door answers 451: Postfix keeps the message.
 */
#ifndef RG_LMTP_POOL_H
#define RG_LMTP_POOL_H

#include <glib.h>
#include <libpq-fe.h>

typedef struct LmtpPool LmtpPool;

/* lmtp_pool_new - a pool of size connections to conninfo */
LmtpPool *lmtp_pool_new(const char *conninfo, guint size);

/* lmtp_pool_acquire - borrow a connection, waiting at most wait_us
 * microseconds for one to be free; NULL with an error otherwise */
PGconn *lmtp_pool_acquire(LmtpPool *pool, gint64 wait_us, GError **error);

/* lmtp_pool_release - give a borrowed connection back (NULL-safe); a broken
 * one, or one left inside a transaction, is closed */
void lmtp_pool_release(LmtpPool *pool, PGconn *conn);

/* lmtp_pool_stats - connections open now and borrowed now */
void lmtp_pool_stats(LmtpPool *pool, guint *open, guint *busy);

/* lmtp_pool_ref, lmtp_pool_unref - counted: a reload makes a new pool while
 * deliveries still hold the old one; the last unref closes every connection */
LmtpPool *lmtp_pool_ref(LmtpPool *pool);
void lmtp_pool_unref(LmtpPool *pool);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LmtpPool, lmtp_pool_unref)

#endif
