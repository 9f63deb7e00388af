/*
 * snapshot.c - the counted configuration and key ring, swapped on SIGHUP.
 *
 * snapshot_load() does all the file reading before anything is swapped, so a
 * configuration that fails to load leaves the current one in place.
 */
#include <pthread.h>
#include <string.h>

#include "filewatch.h"
#include "maillog.h"
#include "snapshot.h"

/* The current snapshot; read and written only under snapshot_lock. */
static Snapshot *snapshot_now;
/* A pthread mutex (not GMutex): libmilter's threads are pthreads, and
 * ThreadSanitizer sees this lock, so it can check the swap. */
static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;

/* snapshot_load - read a configuration and its secrets file into a new snapshot */
Snapshot *
snapshot_load(const char *config_path, GError **error)
{
    g_autoptr(Config) config = NULL;
    KeyRing *ring = keyring_load_with_config(config_path, &config, error);
    Snapshot *snap;

    if (ring == NULL)
        return NULL;
    snap = g_new0(Snapshot, 1);
    snap->refcount = 1;
    snap->config = g_steal_pointer(&config);
    snap->ring = ring;
    return snap;
}

/* snapshot_ref - take one more reference */
Snapshot *
snapshot_ref(Snapshot *snap)
{
    g_atomic_int_inc(&snap->refcount);
    return snap;
}

/* snapshot_unref - drop a reference, freeing the last one (NULL-safe) */
void
snapshot_unref(Snapshot *snap)
{
    if (snap == NULL || !g_atomic_int_dec_and_test(&snap->refcount))
        return;
    config_free(snap->config);
    keyring_free(snap->ring);
    g_free(snap);
}

/* snapshot_install - make snap current (takes the caller's reference) */
void
snapshot_install(Snapshot *snap)
{
    Snapshot *old;

    pthread_mutex_lock(&snapshot_lock);
    old = snapshot_now;
    snapshot_now = snap;
    pthread_mutex_unlock(&snapshot_lock);
    /* Messages still holding the old snapshot keep it alive until they end. */
    snapshot_unref(old);
}

/* snapshot_current - a new reference to the current snapshot, or NULL before install */
Snapshot *
snapshot_current(void)
{
    Snapshot *snap = NULL;

    pthread_mutex_lock(&snapshot_lock);
    if (snapshot_now != NULL)
        snap = snapshot_ref(snapshot_now);
    pthread_mutex_unlock(&snapshot_lock);
    return snap;
}

/* The reloader: set once by snapshot_reloader_init() before threads start. */
static char *reload_config_path;
static char *reload_config_socket;
static FileWatch *reload_watch;
/* One reload at a time; taken before snapshot_lock, never inside it. */
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;

/* watch_current - watch the configuration file and the current secrets file */
static void
watch_current(void)
{
    g_autoptr(Snapshot) snap = snapshot_current();
    const char *paths[] = {reload_config_path, snap != NULL ? snap->config->secrets_file : NULL,
                           NULL};

    filewatch_set(reload_watch, paths);
}

/* snapshot_reloader_init - the configuration to reload from; watch its files */
void
snapshot_reloader_init(const char *config_path, const char *config_socket)
{
    reload_config_path = g_strdup(config_path);
    reload_config_socket = g_strdup(config_socket);
    reload_watch = filewatch_new(1000);
    watch_current();
}

/* snapshot_reloader_free - stop watching */
void
snapshot_reloader_free(void)
{
    g_clear_pointer(&reload_watch, filewatch_free);
    g_clear_pointer(&reload_config_path, g_free);
    g_clear_pointer(&reload_config_socket, g_free);
}

/* reload_locked - load and install (under reload_lock) */
static gboolean
reload_locked(const char *why)
{
    g_autoptr(GError) error = NULL;
    Snapshot *fresh;

    /* The files' state is taken first, so a change made while they are read
     * is seen at the next look. */
    watch_current();
    fresh = snapshot_load(reload_config_path, &error);
    if (fresh == NULL) {
        maillog_error("reload failed, keeping the previous configuration: %s", error->message);
        return FALSE;
    }
    if (reload_config_socket != NULL &&
        strcmp(reload_config_socket, fresh->config->milter_socket) != 0)
        maillog_warning("milter_socket changed to %s: it takes effect at the next start",
                        fresh->config->milter_socket);
    maillog_set_socket(fresh->config->syslog_socket);
    snapshot_install(fresh);
    /* The secrets file may have moved with the configuration. */
    watch_current();
    maillog_info("configuration reloaded from %s (%s)", reload_config_path, why);
    return TRUE;
}

/* snapshot_reload - load a new snapshot and make it current */
gboolean
snapshot_reload(const char *why)
{
    gboolean ok;

    if (reload_config_path == NULL)
        return FALSE;
    pthread_mutex_lock(&reload_lock);
    ok = reload_locked(why);
    pthread_mutex_unlock(&reload_lock);
    return ok;
}

/* snapshot_refresh - reload when the configuration or the secrets file changed */
gboolean
snapshot_refresh(gboolean force)
{
    gboolean ok = FALSE;

    if (reload_watch == NULL)
        return FALSE;
    /* Looked at under the lock: a thread that finds nothing new while another
     * reloads waits for that reload, then sees its snapshot. */
    pthread_mutex_lock(&reload_lock);
    if (filewatch_changed(reload_watch, force))
        ok = reload_locked("changed on disk");
    pthread_mutex_unlock(&reload_lock);
    return ok;
}
