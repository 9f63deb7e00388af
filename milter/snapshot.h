/*
 * snapshot.h - the configuration and key ring the milter decides with.
 *
 * Callbacks run in many threads while SIGHUP may load a new configuration.
 * A snapshot bundles one configuration with its key ring, is never changed
 * once made, and is counted: each message takes a reference when it starts
 * and drops it when it ends, so a reload never pulls the floor from under a
 * message in flight. The current snapshot is swapped under a mutex; that
 * pointer is the only global state that changes after start-up.
 *
 * A new snapshot comes on SIGHUP, or by itself when the configuration file
 * or the secrets file changes on disk (lib/filewatch.h): the main thread
 * looks once a second, and a reply key that does not verify makes the RCPT
 * look at once, so an address signed with a secret added a moment ago is
 * never refused. Reloads are serialised; a broken file keeps the old snapshot.
 */
#ifndef RG_MILTER_SNAPSHOT_H
#define RG_MILTER_SNAPSHOT_H

#include <glib.h>

#include "address.h"
#include "config.h"

typedef struct {
    gint refcount;
    Config *config; /* owned */
    KeyRing *ring;  /* owned */
} Snapshot;

/* snapshot_load - read a configuration and its secrets file into a new snapshot */
Snapshot *snapshot_load(const char *config_path, GError **error);

/* snapshot_ref - take one more reference */
Snapshot *snapshot_ref(Snapshot *snap);

/* snapshot_unref - drop a reference, freeing the last one (NULL-safe) */
void snapshot_unref(Snapshot *snap);

/* snapshot_install - make snap current (takes the caller's reference) */
void snapshot_install(Snapshot *snap);

/* snapshot_current - a new reference to the current snapshot, or NULL before install */
Snapshot *snapshot_current(void);

/* snapshot_reloader_init - the configuration to reload from, and the
 * milter_socket listened on (NULL when -p chose it); watch the configuration
 * file and the secrets file of the current snapshot from now on */
void snapshot_reloader_init(const char *config_path, const char *config_socket);

/* snapshot_reload - load a new snapshot and make it current; a broken one
 * keeps the old and logs why. why says what asked ("SIGHUP"). */
gboolean snapshot_reload(const char *why);

/* snapshot_refresh - reload when the configuration or the secrets file changed
 * (looked at no more than once a second unless force); TRUE when a new
 * snapshot is current */
gboolean snapshot_refresh(gboolean force);

/* snapshot_reloader_free - stop watching (at exit) */
void snapshot_reloader_free(void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Snapshot, snapshot_unref)

#endif
