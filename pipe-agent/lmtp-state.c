/*
 * lmtp-state.c - the LMTP service's snapshots, memory budget and counters.
 *
 * A snapshot is loaded whole before it is installed, so a configuration or
 * secrets file that fails to load leaves the running one in place. The
 * connection pool survives a reload when the database and the pool size are
 * unchanged, so a reload never doubles the connections an MX host holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmtp-server.h"
#include "maillog.h"
#include "rg-error.h"

/* Each message reserves this many times its size of lmtp_memory_budget. */
#define LMTP_BUDGET_FACTOR 8

/* lmtp_snapshot_load - see lmtp-server.h */
LmtpSnapshot *
lmtp_snapshot_load(const char *path, const LmtpSnapshot *previous, GError **error)
{
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = keyring_load_with_config(path, &config, error);
    g_autoptr(GError) log_error = NULL;
    LmtpSnapshot *snap;

    if (ring == NULL)
        return NULL;
    if (config->lmtp_memory_budget / LMTP_BUDGET_FACTOR < config->max_message_size) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                    "%s: lmtp_memory_budget (%" G_GUINT64_FORMAT ") must be at least %d times "
                    "max_message_size (%" G_GUINT64_FORMAT ")",
                    path, config->lmtp_memory_budget, LMTP_BUDGET_FACTOR, config->max_message_size);
        return NULL;
    }
    snap = g_new0(LmtpSnapshot, 1);
    snap->refcount = 1;
    snap->proclog = proclog_open(config->processor_log, &log_error);
    if (snap->proclog == NULL)
        maillog_warning("%s; delivering without it", log_error->message);
    if (previous != NULL && g_strcmp0(previous->config->database, config->database) == 0 &&
        previous->config->lmtp_pool_size == config->lmtp_pool_size)
        snap->pool = lmtp_pool_ref(previous->pool);
    else
        snap->pool = lmtp_pool_new(config->database, (guint)MIN(config->lmtp_pool_size, 1000));
    snap->config = g_steal_pointer(&config);
    snap->ring = g_steal_pointer(&ring);
    return snap;
}

/* lmtp_snapshot_ref - see lmtp-server.h */
LmtpSnapshot *
lmtp_snapshot_ref(LmtpSnapshot *snap)
{
    g_atomic_int_inc(&snap->refcount);
    return snap;
}

/* lmtp_snapshot_unref - see lmtp-server.h */
void
lmtp_snapshot_unref(LmtpSnapshot *snap)
{
    if (snap == NULL || !g_atomic_int_dec_and_test(&snap->refcount))
        return;
    config_free(snap->config);
    keyring_free(snap->ring);
    proclog_close(snap->proclog);
    lmtp_pool_unref(snap->pool);
    g_free(snap);
}

/* lmtp_server_snapshot - see lmtp-server.h */
LmtpSnapshot *
lmtp_server_snapshot(LmtpServer *server)
{
    LmtpSnapshot *snap;

    g_mutex_lock(&server->lock);
    snap = lmtp_snapshot_ref(server->snapshot);
    g_mutex_unlock(&server->lock);
    return snap;
}

/* lmtp_server_install - see lmtp-server.h */
void
lmtp_server_install(LmtpServer *server, LmtpSnapshot *snap)
{
    LmtpSnapshot *old;

    g_mutex_lock(&server->lock);
    old = server->snapshot;
    server->snapshot = snap;
    g_mutex_unlock(&server->lock);
    /* Transactions still holding the old one keep it until they end. */
    lmtp_snapshot_unref(old);
}

/* lmtp_server_reserve - see lmtp-server.h */
gboolean
lmtp_server_reserve(LmtpServer *server, guint64 budget, guint64 bytes, gint64 wait_us)
{
    gint64 deadline = g_get_monotonic_time() + MAX(wait_us, 0);
    guint64 want = bytes * LMTP_BUDGET_FACTOR;

    g_mutex_lock(&server->lock);
    while (server->budget_used + want > budget) {
        if (!g_cond_wait_until(&server->changed, &server->lock, deadline) &&
            server->budget_used + want > budget) {
            g_mutex_unlock(&server->lock);
            return FALSE;
        }
    }
    server->budget_used += want;
    g_mutex_unlock(&server->lock);
    return TRUE;
}

/* lmtp_server_unreserve - see lmtp-server.h */
void
lmtp_server_unreserve(LmtpServer *server, guint64 bytes)
{
    guint64 give = bytes * LMTP_BUDGET_FACTOR;

    if (bytes == 0)
        return;
    g_mutex_lock(&server->lock);
    server->budget_used -= MIN(give, server->budget_used);
    g_cond_broadcast(&server->changed);
    g_mutex_unlock(&server->lock);
}

/* lmtp_metrics_text - the counters in Prometheus's text format */
static char *
lmtp_metrics_text(LmtpServer *server)
{
    static const char *const classes[] = {"stored", "tempfail", "nouser",
                                          "noperm", "dataerr",  "toobig"};
    LmtpCounters *c = &server->counters;
    GString *out = g_string_new(NULL);
    guint active, open = 0, busy = 0;
    LmtpSnapshot *snap = lmtp_server_snapshot(server);

    g_mutex_lock(&server->lock);
    active = server->active;
    g_mutex_unlock(&server->lock);
    lmtp_pool_stats(snap->pool, &open, &busy);
    lmtp_snapshot_unref(snap);

    g_string_append(out, "# HELP replygate_lmtp_deliveries_total Recipients answered after DATA, "
                         "by outcome.\n# TYPE replygate_lmtp_deliveries_total counter\n");
    for (guint i = 0; i < G_N_ELEMENTS(classes); i++)
        g_string_append_printf(out, "replygate_lmtp_deliveries_total{outcome=\"%s\"} %d\n",
                               classes[i], g_atomic_int_get(&c->deliveries[i]));
#define COUNTER(name, field, help)                                                                 \
    g_string_append_printf(out,                                                                    \
                           "# HELP replygate_lmtp_" name " " help "\n# TYPE replygate_lmtp_" name  \
                           " counter\nreplygate_lmtp_" name " %d\n",                               \
                           g_atomic_int_get(&c->field))
    COUNTER("duplicates_total", duplicates, "Replies that were stored already.");
    COUNTER("sessions_total", sessions, "LMTP sessions served.");
    COUNTER("sessions_refused_total", sessions_refused, "Sessions answered 421 4.3.2.");
    COUNTER("timeouts_total", timeouts, "Sessions closed by a time-out.");
    COUNTER("pool_timeouts_total", pool_timeouts,
            "Transactions whose deliveries found no connection in time.");
    COUNTER("budget_deferrals_total", budget_waits, "Messages deferred for want of memory.");
    COUNTER("reloads_total", reloads, "Configuration reloads.");
    COUNTER("reload_failures_total", reload_failures, "Reloads that kept the old configuration.");
#undef COUNTER
    g_string_append_printf(out,
                           "# HELP replygate_lmtp_sessions_active Sessions being served.\n"
                           "# TYPE replygate_lmtp_sessions_active gauge\n"
                           "replygate_lmtp_sessions_active %u\n"
                           "# HELP replygate_lmtp_pool_connections PostgreSQL connections open.\n"
                           "# TYPE replygate_lmtp_pool_connections gauge\n"
                           "replygate_lmtp_pool_connections %u\n"
                           "# HELP replygate_lmtp_pool_busy PostgreSQL connections lent.\n"
                           "# TYPE replygate_lmtp_pool_busy gauge\n"
                           "replygate_lmtp_pool_busy %u\n",
                           active, open, busy);
    return g_string_free(out, FALSE);
}

/* lmtp_server_write_metrics - see lmtp-server.h; through a temporary file
 * and a rename, so a reader never sees half a file */
void
lmtp_server_write_metrics(LmtpServer *server, const char *spool_dir)
{
    g_autofree char *dir = g_build_filename(spool_dir, "metrics", NULL);
    g_autofree char *path = g_build_filename(dir, "lmtp.prom", NULL);
    g_autofree char *tmp = g_strdup_printf("%s.%ld.tmp", path, (long)getpid());
    g_autofree char *text = lmtp_metrics_text(server);
    gsize len = strlen(text);
    int fd;

    if (g_mkdir_with_parents(dir, 0755) != 0)
        return;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return;
    if (fchmod(fd, 0644) != 0 || write(fd, text, len) != (ssize_t)len) {
        close(fd);
        unlink(tmp);
        return;
    }
    if (close(fd) != 0) {
        unlink(tmp);
        return;
    }
    if (rename(tmp, path) != 0)
        unlink(tmp);
}
