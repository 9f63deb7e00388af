/*
 * watch.h - notice that files changed, by their stat(2) signature.
 *
 * A resident program (the LMTP service; the milter may share it) keeps a
 * watch on its configuration and secrets file and reloads when one of them
 * was changed, replaced (an editor's or deploy tool's rename), created or
 * removed. Polling a signature (device, inode, size, change and modification
 * times) from a timer needs no inotify and sees a rename onto the path.
 */
#ifndef RG_WATCH_H
#define RG_WATCH_H

#include <glib.h>

typedef struct Watch Watch;

/* watch_new - remember the current signature of each path (NULL-terminated) */
Watch *watch_new(const char *const *paths);

/* watch_add_identity - also watch path, but only for being replaced, removed
 * or created (a log file that grows is not a change; one rotated away is) */
void watch_add_identity(Watch *watch, const char *path);

/* watch_changed - has any file changed since watch_new() or the last call
 * that returned TRUE? (the signatures are taken again when it returns TRUE) */
gboolean watch_changed(Watch *watch);

/* watch_free - forget a watch (NULL-safe) */
void watch_free(Watch *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Watch, watch_free)

#endif
