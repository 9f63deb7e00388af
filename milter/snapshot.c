/*
 * snapshot.c - the counted configuration and key ring, swapped on SIGHUP.
 *
 * snapshot_load() does all the file reading before anything is swapped, so a
 * configuration that fails to load leaves the current one in place.
 */
#include <pthread.h>

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
