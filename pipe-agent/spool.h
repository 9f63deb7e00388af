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

/* spool_write_new - write raw durably into new/; returns the file's path
 * (spool_file_create() and spool_file_finish() in one) */
char *spool_write_new(const char *spool_dir, GBytes *raw, GError **error);

/* One file on its way into new/, in two steps: spool_file_create() makes it
 * in tmp/ and writes the bytes, which fixes its maildir name, so that its
 * path in new/ is known at once, and a full spool shows before anything is
 * stored; spool_file_finish() fsyncs, renames it into new/ and fsyncs new/.
 * The second step may run in another thread while the first one's caller
 * goes on; nothing else may touch the SpoolFile meanwhile. */
typedef struct SpoolFile SpoolFile;

/* spool_file_create - the file in tmp/ with raw in it, not yet fsync'd;
 * NULL on error, and nothing left */
SpoolFile *spool_file_create(const char *spool_dir, GBytes *raw, GError **error);

/* spool_file_finish - fsync, rename into new/, fsync new/; on error nothing
 * is left, in tmp/ or new/ */
gboolean spool_file_finish(SpoolFile *file, GError **error);

/* spool_file_path - its path in new/ (there once spool_file_finish() succeeded) */
const char *spool_file_path(const SpoolFile *file);

/* spool_file_tmp_path - its path in tmp/ (until spool_file_finish()) */
const char *spool_file_tmp_path(const SpoolFile *file);

/* spool_file_free - close it; an unfinished file is removed from tmp/ */
void spool_file_free(SpoolFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpoolFile, spool_file_free)

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
