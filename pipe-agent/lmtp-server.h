/*
 * lmtp-server.h - the LMTP service's shared state, as its sessions see it.
 *
 * One LmtpServer per process, made by main() and passed to every session
 * (no globals). It holds the current snapshot (configuration, key ring,
 * processor log, connection pool), swapped by a reload while sessions keep
 * the one they started a transaction with; the session count and the
 * stopping flag; the memory budget of the messages in flight; and the
 * counters written to <spool_directory>/metrics/lmtp.prom.
 */
#ifndef RG_LMTP_SERVER_H
#define RG_LMTP_SERVER_H

#include <gio/gio.h>

#include "address.h"
#include "config.h"
#include "delivery.h"
#include "lmtp-pool.h"
#include "proclog.h"

/* What a transaction runs with; never changed once made, counted. */
typedef struct {
    gint refcount;
    Config *config;
    KeyRing *ring;
    ProcLog *proclog; /* NULL when the processor log cannot be opened */
    LmtpPool *pool;
} LmtpSnapshot;

/* The counters of lmtp.prom (atomic: sessions run in many threads). */
typedef struct {
    gint sessions;         /* sessions served */
    gint sessions_refused; /* answered 421 4.3.2: over lmtp_max_sessions, or stopping */
    gint timeouts;         /* sessions closed by a time-out */
    gint deliveries[DELIVERY_TOOBIG + 1]; /* by DeliveryClass */
    gint duplicates;                      /* stored earlier: nothing new written */
    gint pool_timeouts;                   /* no pooled connection within lmtp_pool_wait */
    gint budget_waits;                    /* messages deferred for want of memory budget */
    gint reloads;                         /* configuration reloads that took effect */
    gint reload_failures;                 /* reloads that kept the old configuration */
} LmtpCounters;

typedef struct {
    GMutex lock;
    GCond changed;          /* sessions ended, or budget freed */
    LmtpSnapshot *snapshot; /* under lock */
    char *config_path;      /* absolute */
    char *hostname;         /* for the greeting and replies */
    guint active;           /* sessions being served (under lock) */
    gboolean stopping;      /* SIGTERM: no new sessions (under lock) */
    GCancellable *idle;     /* cancelled on SIGTERM: wakes sessions waiting for a command */
    guint64 budget_used;    /* bytes of lmtp_memory_budget reserved (under lock) */
    LmtpCounters counters;
} LmtpServer;

/* lmtp_snapshot_load - read the configuration at path and its secrets, open
 * the processor log, and make or reuse (from previous, may be NULL) the pool */
LmtpSnapshot *lmtp_snapshot_load(const char *path, const LmtpSnapshot *previous, GError **error);

/* lmtp_snapshot_ref, lmtp_snapshot_unref - counted */
LmtpSnapshot *lmtp_snapshot_ref(LmtpSnapshot *snap);
void lmtp_snapshot_unref(LmtpSnapshot *snap);

/* lmtp_server_snapshot - a reference to the current snapshot */
LmtpSnapshot *lmtp_server_snapshot(LmtpServer *server);

/* lmtp_server_install - make snap current (takes the caller's reference) */
void lmtp_server_install(LmtpServer *server, LmtpSnapshot *snap);

/* lmtp_server_reserve - take bytes more of the memory budget, waiting at most
 * wait_us for other messages to free it; FALSE when it did not come free */
gboolean lmtp_server_reserve(LmtpServer *server, guint64 budget, guint64 bytes, gint64 wait_us);

/* lmtp_server_unreserve - give bytes of the budget back */
void lmtp_server_unreserve(LmtpServer *server, guint64 bytes);

/* lmtp_server_write_metrics - write lmtp.prom under spool_dir/metrics/ */
void lmtp_server_write_metrics(LmtpServer *server, const char *spool_dir);

/* lmtp_session_run - serve one accepted connection until it ends (lmtp-session.c) */
void lmtp_session_run(LmtpServer *server, GSocketConnection *connection);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LmtpSnapshot, lmtp_snapshot_unref)

#endif
