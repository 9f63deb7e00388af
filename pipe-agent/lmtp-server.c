/*
 * lmtp-server.c - the LMTP service's loop: listen, accept, hand out
 * sessions, reload, stop.
 *
 * GIO's GSocketService accepts in the main loop; each connection goes to a
 * GThreadPool worker that runs lmtp_session_run(). The count of sessions is
 * checked at accept time: past lmtp_max_sessions, or while stopping, the
 * client gets "421 4.3.2" at once and Postfix tries again later, so a flood
 * of connections costs no threads. Signals arrive through GLib's main loop
 * (g_unix_signal_add), never in a handler:
 *   SIGHUP  reload the configuration and secrets; a broken one keeps the old;
 *   SIGTERM stop accepting, let the transactions in flight finish, exit.
 * A timer also reloads when the configuration or the secrets file changed on
 * disk (lib/filewatch.h, the milter's), as the milter does, or the processor log was rotated
 * away, and writes lmtp.prom every 5 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmtp-door.h"
#include "maillog.h"
#include "rg-error.h"
#include "filewatch.h"
#include "watch.h"

/* Owner replygate, group postfix (the folder's): lmtp(8) connects, nobody else. */
#define LMTP_SOCKET_MODE 0660

/* Seconds between looks at the watched files, and between metrics writes. */
#define LMTP_WATCH_INTERVAL 2
#define LMTP_METRICS_INTERVAL 5

struct LmtpDoor {
    LmtpServer *server;
    GSocketService *service;
    GThreadPool *workers;
    GMainLoop *loop;
    FileWatch *files; /* the configuration and the secrets (lib/filewatch.h, as the milter) */
    Watch *log;       /* the processor log, rotated away or not (lib/watch.h) */
    guint sources[5];
    int status; /* the exit status main() returns */
};

/* door_worker - a pool thread: serve one connection, then count it off */
static void
door_worker(gpointer data, gpointer user_data)
{
    GSocketConnection *connection = data;
    LmtpDoor *door = user_data;
    LmtpServer *server = door->server;

    lmtp_session_run(server, connection);
    g_object_unref(connection);
    g_mutex_lock(&server->lock);
    server->active--;
    g_cond_broadcast(&server->changed);
    g_mutex_unlock(&server->lock);
}

/* door_incoming - a connection was accepted: serve it, or 421 when full */
static gboolean
door_incoming(GSocketService *service, GSocketConnection *connection, GObject *source,
              gpointer data)
{
    LmtpDoor *door = data;
    LmtpServer *server = door->server;
    g_autoptr(LmtpSnapshot) snap = lmtp_server_snapshot(server);
    gboolean refuse;

    (void)service;
    (void)source;
    g_mutex_lock(&server->lock);
    refuse = server->stopping || server->active >= snap->config->lmtp_max_sessions;
    if (!refuse)
        server->active++;
    g_mutex_unlock(&server->lock);
    if (refuse) {
        GSocket *socket = g_socket_connection_get_socket(connection);
        g_autofree char *line = g_strdup_printf(
            "421 4.3.2 %s Error: too many sessions, try again later\r\n", server->hostname);

        g_atomic_int_inc(&server->counters.sessions_refused);
        g_socket_set_blocking(socket, FALSE);
        g_socket_send(socket, line, strlen(line), NULL, NULL);
        g_socket_close(socket, NULL);
        return TRUE;
    }
    g_thread_pool_push(door->workers, g_object_ref(connection), NULL);
    return TRUE;
}

/* door_watch_reset - watch the configuration, the secrets file it names, and
 * the processor log (a log rotated away is opened again by the reload) */
static void
door_watch_reset(LmtpDoor *door)
{
    g_autoptr(LmtpSnapshot) snap = lmtp_server_snapshot(door->server);
    const char *paths[] = {door->server->config_path, snap->config->secrets_file, NULL};

    if (door->files == NULL)
        door->files = filewatch_new(LMTP_WATCH_INTERVAL * 1000);
    filewatch_set(door->files, paths);
    watch_free(door->log);
    door->log = watch_new(NULL);
    watch_add_identity(door->log, snap->config->processor_log);
}

/* door_reload - load a new snapshot; a broken one keeps the old */
static void
door_reload(LmtpDoor *door, const char *why)
{
    LmtpServer *server = door->server;
    g_autoptr(LmtpSnapshot) old = lmtp_server_snapshot(server);
    g_autoptr(GError) error = NULL;
    LmtpSnapshot *fresh = lmtp_snapshot_load(server->config_path, old, &error);

    if (fresh == NULL) {
        g_atomic_int_inc(&server->counters.reload_failures);
        maillog_error("reload (%s) failed, keeping the previous configuration: %s", why,
                      error->message);
        return;
    }
    maillog_set_socket(fresh->config->syslog_socket);
    g_thread_pool_set_max_threads(door->workers,
                                  (gint)MIN(fresh->config->lmtp_max_sessions, G_MAXINT), NULL);
    if (g_strcmp0(fresh->config->lmtp_socket, old->config->lmtp_socket) != 0)
        maillog_warning("lmtp_socket changed: it takes effect at the next restart");
    lmtp_server_install(server, fresh);
    g_atomic_int_inc(&server->counters.reloads);
    door_watch_reset(door);
    maillog_info("configuration reloaded from %s (%s)", server->config_path, why);
}

/* door_on_hup - SIGHUP */
static gboolean
door_on_hup(gpointer data)
{
    door_reload(data, "SIGHUP");
    return G_SOURCE_CONTINUE;
}

/* door_on_watch - the configuration or the secrets changed on disk */
static gboolean
door_on_watch(gpointer data)
{
    LmtpDoor *door = data;

    if (filewatch_changed(door->files, TRUE))
        door_reload(door, "the configuration or the secrets changed");
    else if (watch_changed(door->log))
        door_reload(door, "the processor log was rotated");
    return G_SOURCE_CONTINUE;
}

/* door_on_metrics - write lmtp.prom */
static gboolean
door_on_metrics(gpointer data)
{
    LmtpDoor *door = data;
    g_autoptr(LmtpSnapshot) snap = lmtp_server_snapshot(door->server);

    lmtp_server_write_metrics(door->server, snap->config->spool_directory);
    return G_SOURCE_CONTINUE;
}

/* door_on_drained - while stopping: quit once no session is left */
static gboolean
door_on_drained(gpointer data)
{
    LmtpDoor *door = data;
    gboolean idle;

    g_mutex_lock(&door->server->lock);
    idle = door->server->active == 0;
    g_mutex_unlock(&door->server->lock);
    if (!idle)
        return G_SOURCE_CONTINUE;
    g_main_loop_quit(door->loop);
    return G_SOURCE_REMOVE;
}

/* door_on_term - SIGTERM, SIGINT: stop accepting, finish what is in flight */
static gboolean
door_on_term(gpointer data)
{
    LmtpDoor *door = data;
    LmtpServer *server = door->server;
    guint active;

    g_mutex_lock(&server->lock);
    if (server->stopping) {
        g_mutex_unlock(&server->lock);
        return G_SOURCE_CONTINUE;
    }
    server->stopping = TRUE;
    active = server->active;
    g_mutex_unlock(&server->lock);
    maillog_info("stopping: %u sessions still open", active);
    g_socket_service_stop(door->service);
    g_socket_listener_close(G_SOCKET_LISTENER(door->service));
    /* Sessions waiting for a command say 421 and end; DATA is finished. */
    g_cancellable_cancel(server->idle);
    g_timeout_add(50, door_on_drained, door);
    return G_SOURCE_CONTINUE;
}

/* lmtp_door_new - see lmtp-door.h */
LmtpDoor *
lmtp_door_new(LmtpServer *server, GSocketService *service)
{
    LmtpDoor *door = g_new0(LmtpDoor, 1);
    g_autoptr(LmtpSnapshot) snap = lmtp_server_snapshot(server);

    door->server = server;
    door->service = g_object_ref(service);
    door->loop = g_main_loop_new(NULL, FALSE);
    door->workers = g_thread_pool_new(
        door_worker, door, (gint)MIN(snap->config->lmtp_max_sessions, G_MAXINT), FALSE, NULL);
    return door;
}

/* lmtp_door_run - see lmtp-door.h */
int
lmtp_door_run(LmtpDoor *door)
{
    door_watch_reset(door);
    g_signal_connect(door->service, "incoming", G_CALLBACK(door_incoming), door);
    door->sources[0] = g_unix_signal_add(SIGHUP, door_on_hup, door);
    door->sources[1] = g_unix_signal_add(SIGTERM, door_on_term, door);
    door->sources[2] = g_unix_signal_add(SIGINT, door_on_term, door);
    door->sources[3] = g_timeout_add_seconds(LMTP_WATCH_INTERVAL, door_on_watch, door);
    door->sources[4] = g_timeout_add_seconds(LMTP_METRICS_INTERVAL, door_on_metrics, door);
    g_socket_service_start(door->service);
    g_main_loop_run(door->loop);
    /* Every session has ended (door_on_drained); the threads are idle. */
    g_thread_pool_free(door->workers, FALSE, TRUE);
    door->workers = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(door->sources); i++)
        g_source_remove(door->sources[i]);
    door_on_metrics(door);
    return door->status;
}

/* lmtp_door_free - see lmtp-door.h */
void
lmtp_door_free(LmtpDoor *door)
{
    if (door == NULL)
        return;
    if (door->workers != NULL)
        g_thread_pool_free(door->workers, FALSE, TRUE);
    filewatch_free(door->files);
    watch_free(door->log);
    g_main_loop_unref(door->loop);
    g_object_unref(door->service);
    g_free(door);
}

/* lmtp_door_listen - see lmtp-door.h */
gboolean
lmtp_door_listen(GSocketService *service, const char *socket_spec, const struct passwd *pw,
                 GError **error)
{
    const char *listen_pid = g_getenv("LISTEN_PID");
    const char *listen_fds = g_getenv("LISTEN_FDS");
    const char *path = config_unix_socket_path(socket_spec);
    g_autoptr(GSocketAddress) address = NULL;
    struct stat st;
    mode_t old_mask;
    gboolean added;

    /* systemd socket activation: the listening socket is descriptor 3. */
    if (listen_pid != NULL && listen_fds != NULL &&
        g_ascii_strtoll(listen_pid, NULL, 10) == (gint64)getpid() &&
        g_ascii_strtoll(listen_fds, NULL, 10) >= 1) {
        g_autoptr(GSocket) socket = g_socket_new_from_fd(3, error);

        g_unsetenv("LISTEN_PID");
        g_unsetenv("LISTEN_FDS");
        g_unsetenv("LISTEN_FDNAMES");
        return socket != NULL &&
               g_socket_listener_add_socket(G_SOCKET_LISTENER(service), socket, NULL, error);
    }
    if (path != NULL) {
        /* A socket left by a previous run goes; anything else is not ours. */
        if (lstat(path, &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) {
                g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "%s exists and is not a socket",
                            path);
                return FALSE;
            }
            unlink(path);
        }
        address = g_unix_socket_address_new(path);
    } else {
        const char *port = strchr(socket_spec, ':') + 1;
        const char *at = strchr(port, '@');
        g_autofree char *digits = g_strndup(port, at != NULL ? (gsize)(at - port) : strlen(port));

        address = g_inet_socket_address_new_from_string(at != NULL ? at + 1 : "127.0.0.1",
                                                        (guint)g_ascii_strtoull(digits, NULL, 10));
        if (address == NULL) {
            g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                        "lmtp_socket %s: the host must be a numeric address", socket_spec);
            return FALSE;
        }
    }
    /* The socket is never more open than LMTP_SOCKET_MODE, whatever the umask
     * it was started with, not even for a moment: the umask is set for the
     * bind() alone (no delivery runs yet), as the milter does. */
    old_mask = umask(0777 & ~LMTP_SOCKET_MODE);
    added = g_socket_listener_add_address(G_SOCKET_LISTENER(service), address,
                                          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL,
                                          NULL, error);
    umask(old_mask);
    if (!added)
        return FALSE;
    if (path == NULL)
        return TRUE;
    /* Its group is the folder's (setgid); its owner becomes USER and its
     * mode LMTP_SOCKET_MODE (a default ACL may have widened it), on the
     * socket itself and never through a link. */
    if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                    "%s is no longer the socket just made: not following it", path);
        return FALSE;
    }
    if (pw != NULL && lchown(path, pw->pw_uid, (gid_t)-1) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot give %s to %s: %s", path,
                    pw->pw_name, g_strerror(errno));
        return FALSE;
    }
    if ((st.st_mode & 07777) != LMTP_SOCKET_MODE &&
        fchmodat(AT_FDCWD, path, LMTP_SOCKET_MODE, AT_SYMLINK_NOFOLLOW) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot set the mode of %s to %04o: %s",
                    path, LMTP_SOCKET_MODE, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}
