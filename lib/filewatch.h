/*
 * filewatch.h - notice by itself that a file changed: the secrets, the configuration.
 *
 * For resident programs (replygate-milter, the LMTP service) that must pick
 * up a rotated secrets file or an edited configuration without a SIGHUP.
 * filewatch_changed() stat()s every watched path, at most once per interval
 * unless forced, and compares device, inode, size, modification and change
 * times with the last look: an atomic rename over the file, an edit in place,
 * a chmod, a file that appears or goes away are all changes. stat() follows
 * a symbolic link, so a link retargeted to another file is a change too.
 *
 * Use: filewatch_new(1000), filewatch_set() with the paths of the files
 * loaded (their state is taken then: set it before reading them, so a change
 * made while reading is seen next time), then ask filewatch_changed() from a
 * timer or before a decision that a stale file would make wrong (a reply key
 * that does not verify may have been signed with a secret just added; that
 * check may force a look, since a stat() is cheap). After a change is
 * reported the new state counts as seen: reload, and call filewatch_set()
 * again when the list of paths changed. A reload that fails is not retried
 * until the next change. Thread-safe: one mutex.
 */
#ifndef RG_FILEWATCH_H
#define RG_FILEWATCH_H

#include <glib.h>

typedef struct FileWatch FileWatch;

/* filewatch_new - watch nothing yet; look at most every interval_ms */
FileWatch *filewatch_new(guint interval_ms);

/* filewatch_free - stop watching (NULL-safe) */
void filewatch_free(FileWatch *watch);

/* filewatch_set - watch exactly these paths (NULL-terminated), their state now as seen */
void filewatch_set(FileWatch *watch, const char *const *paths);

/* filewatch_changed - has any path changed since the last look? Without force,
 * within interval_ms of the last look the answer is FALSE without looking. */
gboolean filewatch_changed(FileWatch *watch, gboolean force);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FileWatch, filewatch_free)

#endif
