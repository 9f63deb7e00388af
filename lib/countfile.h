/*
 * countfile.h - durable counters of short-lived programs, for
 * `replygate metrics`.
 *
 * A pipe(8) agent lives for one message, so it cannot keep counters in
 * memory the way the milter and the LMTP service do. It adds to small
 * files in <spool_directory>/metrics/ instead, one "name count" line per
 * counter:
 *   deferrals   reason count     (database, database_busy, configuration,
 *                                 spool, memory, other)
 *   outcomes    outcome count    (duplicate)
 * Each update holds flock(2) on NAME.lock, reads NAME, and replaces it
 * through a temporary file and rename(2), so a reader never sees half a
 * file and two agents never lose each other's counts. The database is down
 * exactly when deferral counts matter, so they cannot live there.
 */
#ifndef RG_COUNTFILE_H
#define RG_COUNTFILE_H

#include <glib.h>

/* Where a deferral is counted when the configuration does not even load
 * (replygate.conf(5)'s default spool_directory). */
#define COUNTFILE_DEFAULT_SPOOL "/var/spool/replygate"

/* countfile_add - add one to counter key of <spool_directory>/metrics/name;
 * errors are returned, never fatal to a delivery (callers ignore them) */
gboolean countfile_add(const char *spool_directory, const char *name, const char *key,
                       GError **error);

/* countfile_read - the counters of a file: key -> guint64 (in a
 * GHashTable of strings to GUINT_TO_POINTER-free boxed values: use
 * countfile_get); an empty table when the file is missing */
GHashTable *countfile_read(const char *path, GError **error);

/* countfile_get - one counter of a table countfile_read() returned */
guint64 countfile_get(GHashTable *counts, const char *key);

/* countfile_deferral_reason - the reason label of a deferral's DSN text
 * ("4.3.5 configuration error: ..." is "configuration") */
const char *countfile_deferral_reason(const char *status);

/* countfile_defer - count one deferral of status in the spool's metrics/
 * (the agent's one-line call; failures are ignored) */
void countfile_defer(const char *spool_directory, const char *status);

#endif
