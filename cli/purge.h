/*
 * purge.h - what `replygate purge` removes, shared by its database part
 * (cmd-purge.c) and its spool part (purge-spool.c).
 */
#ifndef RG_PURGE_H
#define RG_PURGE_H

#include <glib.h>

#include "address.h"
#include "config.h"

/* The selection. With expired, the configuration's retention; otherwise
 * every selector given must hold (AND). */
typedef struct {
    gboolean expired;
    gboolean dry_run;
    gboolean have_age;
    guint64 older_than; /* seconds */
    gboolean have_user;
    guint64 user;
    gboolean have_key;
    ReplyKey key;
    const char *message_id; /* without angle brackets, or NULL */
    const Config *config;
    const KeyRing *ring; /* for --user and --key: the key of a spool file */
} PurgeSpec;

/* What went (or would go, with --dry-run). */
typedef struct {
    guint64 replies, refusals, tombstones, user_addresses;
    guint64 success_files, failure_files, reason_files;
    guint errors; /* files that could not be read or removed */
} PurgeCounts;

/* purge_spool - remove the copies in success/ and failure/ (with their
 * .reason files) that the selection names; new/ and tmp/ hold deliveries
 * in progress and are never touched. No link is followed: files are opened
 * with O_NOFOLLOW under a folder opened with O_NOFOLLOW, and only regular
 * files are read or removed. Prints a line per file with --dry-run. */
void purge_spool(const PurgeSpec *spec, PurgeCounts *counts);

/* purge_sync_retention - copy replygate.conf's database_keep, refusals_keep
 * and tombstones_keep into replygate.settings, where purge_expired() reads
 * them; FALSE with *differs when this role may not and the database keeps
 * other values (conn is a PGconn) */
gboolean purge_sync_retention(void *conn, const Config *config, gboolean *differs, GError **error);

/* purge_parse_key - "KIND-TARGET-USER" into key; FALSE when malformed */
gboolean purge_parse_key(const char *text, ReplyKey *key);

#endif
