/*
 * spool.h - the agent's maildir-style spool (SPEC section 6).
 *
 * spool_directory holds tmp/, new/, success/ and failure/. A message is
 * written to tmp/, fsync'd, then renamed into new/ under a unique maildir
 * name (time.VdevIinoMusec.host) and the directory is fsync'd. After the
 * delivery it moves to success/ or failure/ (with a NAME.reason file beside
 * it), or is removed after a temporary failure, because Postfix keeps the
 * message and retries.
 */
#ifndef RG_SPOOL_H
#define RG_SPOOL_H

#include <glib.h>

/* spool_prepare - make sure the spool and its folders exist (mode 0750) */
gboolean spool_prepare(const char *spool_dir, GError **error);

/* spool_write_new - write raw durably into new/; returns the file's path */
char *spool_write_new(const char *spool_dir, GBytes *raw, GError **error);

/* spool_move - rename a file from new/ into folder ("success" or "failure")
 * and fsync that folder (success/ needs no fsync: the reply is in the
 * database already); returns the new path */
char *spool_move(const char *spool_dir, const char *path, const char *folder, GError **error);

/* spool_write_reason - write text into failure/NAME.reason for a file NAME */
gboolean spool_write_reason(const char *spool_dir, const char *path, const char *reason,
                            GError **error);

/* spool_remove - remove a spooled file (after a temporary failure) */
gboolean spool_remove(const char *path, GError **error);

/* spool_unique_name - the maildir name for a file (pure, for tests) */
char *spool_unique_name(gint64 seconds, long usec, guint64 dev, guint64 ino, const char *host);

#endif
