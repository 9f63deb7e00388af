/*
 * cmd-purge.c - `replygate purge`: retention and deletion (issue 18, SPEC
 * section 8).
 *
 *   replygate purge [--config FILE] [--database CONNINFO] [--dry-run] --expired
 *   replygate purge [--config FILE] [--database CONNINFO] [--dry-run]
 *                   [--older-than DURATION] [--user N] [--key KIND-TARGET-USER]
 *                   [--message-id ID]
 *
 * Removes the stored replies (with their attachments and recipients), the
 * refusal rows and the spool copies in success/ and failure/ together, and
 * leaves a tombstone of each reply, so that a replay or a redelivery never
 * brings one back. The selectors combine: every one given must hold.
 * --user also removes the user's rows of replygate.user_addresses (when
 * that table exists). --expired applies the configuration's retention
 * (database_keep, refusals_keep, tombstones_keep, spool_keep_success,
 * spool_keep_failure); the shipped systemd timer runs it daily.
 *
 * Rows go in batches of PURGE_BATCH, each batch one transaction, through
 * replygate.bury() (the owner's) or replygate.purge_expired() (which the
 * writer may run: it takes no age, so the retention it applies is the
 * owner's, copied into replygate.settings by an owner's run or by migrate).
 * The database part and the spool part are independent: when the database
 * cannot be reached the spool is still purged, and the exit status says so.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "db.h"
#include <libpq-fe.h>

#include "purge.h"
#include "rg-autoptr.h"
#include "rg-error.h"

#define PURGE_BATCH "1000"

/* purge_interval - seconds as an interval parameter, NULL for 0 (forever) */
static char *
purge_interval(guint64 seconds)
{
    /* Days as days, so that the database shows "365 days", not "8760:00:00". */
    return seconds > 0 ? g_strdup_printf("%" G_GUINT64_FORMAT " days %" G_GUINT64_FORMAT " seconds",
                                         seconds / 86400, seconds % 86400)
                       : NULL;
}

/* purge_sync_retention - see purge.h */
gboolean
purge_sync_retention(void *conn, const Config *config, gboolean *differs, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *database_keep = purge_interval(config->database_keep);
    g_autofree char *refusals_keep = purge_interval(config->refusals_keep);
    g_autofree char *tombstones_keep = purge_interval(config->tombstones_keep);
    const char *values[3] = {database_keep, refusals_keep, tombstones_keep};
    g_autoptr(PGresult) res = NULL;

    *differs = FALSE;
    if (db_command(conn,
                   "UPDATE replygate.settings SET database_keep = $1::interval,"
                   " refusals_keep = $2::interval, tombstones_keep = $3::interval",
                   3, values, &local))
        return TRUE;
    res = db_exec(conn,
                  "SELECT database_keep IS NOT DISTINCT FROM $1::interval"
                  " AND refusals_keep IS NOT DISTINCT FROM $2::interval"
                  " AND tombstones_keep IS NOT DISTINCT FROM $3::interval"
                  " FROM replygate.settings",
                  3, values, NULL, NULL, error);
    if (res == NULL)
        return FALSE;
    *differs = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "t") != 0;
    if (*differs)
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "%s", local->message);
    return !*differs;
}

/* purge_expired - the configured retention, batch after batch */
static gboolean
purge_expired(PGconn *conn, const PurgeSpec *spec, PurgeCounts *counts, GError **error)
{
    gboolean differs = FALSE;
    g_autoptr(GError) sync = NULL;
    const char *args[2] = {PURGE_BATCH, spec->dry_run ? "true" : "false"};

    if (!spec->dry_run && !purge_sync_retention(conn, spec->config, &differs, &sync)) {
        if (!differs) {
            g_propagate_error(error, g_steal_pointer(&sync));
            return FALSE;
        }
        fprintf(stderr,
                "replygate: purge: the database keeps another retention than %s says, and this "
                "role may not change it (%s): the database's applies; run replygate migrate, "
                "or this purge as a member of replygate_owner once, to apply the file's\n",
                spec->config->path, sync->message);
    }
    for (;;) {
        g_autoptr(PGresult) res =
            db_exec(conn, "SELECT * FROM replygate.purge_expired($1::integer, $2::boolean)", 2,
                    args, NULL, NULL, error);
        guint64 r, f, t;

        if (res == NULL)
            return FALSE;
        r = g_ascii_strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        f = g_ascii_strtoull(PQgetvalue(res, 0, 1), NULL, 10);
        t = g_ascii_strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        counts->replies += r;
        counts->refusals += f;
        counts->tombstones += t;
        if (spec->dry_run || r + f + t == 0)
            return TRUE;
    }
}

/* Conditions on replygate.messages and replygate.refusals, with their
 * parameters; built only from the fixed pieces below. */
typedef struct {
    GString *messages;
    GString *refusals;
    const char *values[5];
    char *owned[5];
    int n;
} PurgeWhere;

/* purge_where_add - one condition on both tables, with its parameter */
static void
purge_where_add(PurgeWhere *w, const char *messages, const char *refusals, char *value)
{
    int n = ++w->n;

    g_string_append_printf(w->messages, " AND %s", messages);
    g_string_append_printf(w->refusals, " AND %s", refusals);
    for (char *p; (p = strstr(w->messages->str, "$?")) != NULL;)
        p[1] = (char)('0' + n);
    for (char *p; (p = strstr(w->refusals->str, "$?")) != NULL;)
        p[1] = (char)('0' + n);
    w->values[n - 1] = w->owned[n - 1] = value;
}

/* purge_where - the selection as SQL conditions */
static void
purge_where(const PurgeSpec *spec, PurgeWhere *w)
{
    memset(w, 0, sizeof *w);
    w->messages = g_string_new("TRUE");
    w->refusals = g_string_new("TRUE");
    if (spec->have_age)
        purge_where_add(w, "m.received_at < now() - $?::interval",
                        "f.refused_at < now() - $?::interval",
                        g_strdup_printf("%" G_GUINT64_FORMAT " seconds", spec->older_than));
    if (spec->have_user)
        purge_where_add(w, "m.key_user = $?::numeric", "f.key_user = $?::numeric",
                        g_strdup_printf("%" G_GUINT64_FORMAT, spec->user));
    if (spec->have_key) {
        purge_where_add(w, "m.key_kind = $?", "f.key_kind = $?", g_strdup(spec->key.kind));
        purge_where_add(w, "m.key_target = $?::numeric", "f.key_target = $?::numeric",
                        g_strdup_printf("%" G_GUINT64_FORMAT, spec->key.target));
        purge_where_add(w, "m.key_user = $?::numeric", "f.key_user = $?::numeric",
                        g_strdup_printf("%" G_GUINT64_FORMAT, spec->key.user));
    }
    if (spec->message_id)
        purge_where_add(w, "m.message_id = $?", "f.message_id = $?", g_strdup(spec->message_id));
}

/* purge_where_free - release the conditions */
static void
purge_where_free(PurgeWhere *w)
{
    g_string_free(w->messages, TRUE);
    g_string_free(w->refusals, TRUE);
    for (int i = 0; i < w->n; i++)
        g_free(w->owned[i]);
}

/* purge_count - the number a query returns */
static gboolean
purge_count(PGconn *conn, const char *sql, const PurgeWhere *w, guint64 *count, GError **error)
{
    g_autoptr(PGresult) res = db_exec(conn, sql, w->n, w->values, NULL, NULL, error);

    if (res == NULL)
        return FALSE;
    *count += g_ascii_strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    return TRUE;
}

/* purge_selected - the replies and refusals the selectors name, and with
 * --user the user's addresses */
static gboolean
purge_selected(PGconn *conn, const PurgeSpec *spec, const char *why, PurgeCounts *counts,
               GError **error)
{
    PurgeWhere w;
    g_autofree char *replies = NULL;
    g_autofree char *refusals = NULL;
    gboolean ok = FALSE;

    purge_where(spec, &w);
    if (spec->dry_run) {
        replies =
            g_strdup_printf("SELECT count(*) FROM replygate.messages m WHERE %s", w.messages->str);
        refusals =
            g_strdup_printf("SELECT count(*) FROM replygate.refusals f WHERE %s", w.refusals->str);
    } else {
        replies = g_strdup_printf(
            "SELECT count(*) FROM replygate.bury(ARRAY(SELECT m.id FROM replygate.messages m"
            " WHERE %s ORDER BY m.id LIMIT " PURGE_BATCH "), $%d)",
            w.messages->str, w.n + 1);
        refusals =
            g_strdup_printf("WITH gone AS (DELETE FROM replygate.refusals f WHERE %s RETURNING 1)"
                            " SELECT count(*) FROM gone",
                            w.refusals->str);
    }
    w.values[w.n] = why;
    if (spec->dry_run) {
        g_autofree char *list = g_strdup_printf(
            "SELECT m.id, m.key_kind || '-' || m.key_target || '-' || m.key_user, m.message_id"
            " FROM replygate.messages m WHERE %s ORDER BY m.id",
            w.messages->str);
        g_autoptr(PGresult) res = db_exec(conn, list, w.n, w.values, NULL, NULL, error);

        if (res == NULL)
            goto out;
        for (int i = 0; i < PQntuples(res); i++)
            printf("would remove reply %s (key %s, message-id <%s>)\n", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    }
    for (;;) {
        guint64 before = counts->replies;
        PurgeWhere with_why = w;

        with_why.n = spec->dry_run ? w.n : w.n + 1;
        if (!purge_count(conn, replies, &with_why, &counts->replies, error))
            goto out;
        if (spec->dry_run || counts->replies == before)
            break;
    }
    if (!purge_count(conn, refusals, &w, &counts->refusals, error))
        goto out;
    if (spec->have_user) {
        g_autoptr(PGresult) present =
            db_exec(conn, "SELECT to_regclass('replygate.user_addresses') IS NOT NULL", 0, NULL,
                    NULL, NULL, error);
        PurgeWhere user = {.n = 1};
        g_autofree char *id = g_strdup_printf("%" G_GUINT64_FORMAT, spec->user);

        if (present == NULL)
            goto out;
        user.values[0] = id;
        if (strcmp(PQgetvalue(present, 0, 0), "t") == 0 &&
            !purge_count(conn,
                         spec->dry_run ? "SELECT count(*) FROM replygate.user_addresses"
                                         " WHERE user_id = $1::numeric"
                                       : "WITH gone AS (DELETE FROM replygate.user_addresses"
                                         " WHERE user_id = $1::numeric RETURNING 1)"
                                         " SELECT count(*) FROM gone",
                         &user, &counts->user_addresses, error))
            goto out;
    }
    ok = TRUE;
out:
    purge_where_free(&w);
    return ok;
}

/* purge_database - the database part; FALSE with error when it failed */
static gboolean
purge_database(const PurgeSpec *spec, const char *database, const char *why, PurgeCounts *counts,
               GError **error)
{
    g_autoptr(PGconn) conn = db_connect(database, "replygate-purge", 0, error);
    g_autofree char *lock = NULL;

    if (conn == NULL)
        return FALSE;
    /* No statement_timeout: batches are small, and a purge may wait its turn. */
    lock = g_strdup_printf("SET lock_timeout = %" G_GUINT64_FORMAT,
                           spec->config->database_lock_timeout * 1000);
    if (!db_command(conn, lock, 0, NULL, error))
        return FALSE;
    if (spec->expired)
        return purge_expired(conn, spec, counts, error);
    return purge_selected(conn, spec, why, counts, error);
}

/* purge_summary - what went, or would go */
static void
purge_summary(const PurgeSpec *spec, const PurgeCounts *c, gboolean database_ok)
{
    const char *verb = spec->dry_run ? "would remove" : "removed";

    if (database_ok)
        printf("%s %" G_GUINT64_FORMAT " repl%s (a tombstone each), %" G_GUINT64_FORMAT
               " refusal%s, %" G_GUINT64_FORMAT " tombstone%s, %" G_GUINT64_FORMAT
               " user address%s\n",
               verb, c->replies, c->replies == 1 ? "y" : "ies", c->refusals,
               c->refusals == 1 ? "" : "s", c->tombstones, c->tombstones == 1 ? "" : "s",
               c->user_addresses, c->user_addresses == 1 ? "" : "es");
    printf("%s %" G_GUINT64_FORMAT " file%s from success/, %" G_GUINT64_FORMAT
           " from failure/, %" G_GUINT64_FORMAT " .reason file%s\n",
           verb, c->success_files, c->success_files == 1 ? "" : "s", c->failure_files,
           c->reason_files, c->reason_files == 1 ? "" : "s");
}

/* purge_options - check the selectors; FALSE after printing why */
static gboolean
purge_options(PurgeSpec *spec, const char *older_than, const char *user, const char *key)
{
    if (older_than != NULL) {
        if (!config_parse_duration(older_than, &spec->older_than)) {
            fprintf(stderr,
                    "replygate: purge: --older-than %s: want a number and s, m, h, d "
                    "or w\n",
                    older_than);
            return FALSE;
        }
        spec->have_age = TRUE;
    }
    if (user != NULL) {
        if (!g_ascii_string_to_unsigned(user, 10, 0, G_MAXUINT64, &spec->user, NULL)) {
            fprintf(stderr, "replygate: purge: --user %s: want a number\n", user);
            return FALSE;
        }
        spec->have_user = TRUE;
    }
    if (key != NULL) {
        if (!purge_parse_key(key, &spec->key)) {
            fprintf(stderr, "replygate: purge: --key %s: want KIND-TARGET-USER, as i-42-5\n", key);
            return FALSE;
        }
        spec->have_key = TRUE;
    }
    if (spec->expired ==
        (spec->have_age || spec->have_user || spec->have_key || spec->message_id != NULL)) {
        fprintf(stderr, "usage: replygate purge [--dry-run] --expired\n"
                        "       replygate purge [--dry-run] [--older-than DURATION] [--user N]"
                        " [--key KIND-TARGET-USER] [--message-id ID]\n");
        return FALSE;
    }
    return TRUE;
}

/* cmd_purge - remove rows and spool copies, leave tombstones */
int
cmd_purge(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *database = NULL;
    g_autofree char *older_than = NULL;
    g_autofree char *user = NULL;
    g_autofree char *key = NULL;
    g_autofree char *message_id = NULL;
    PurgeSpec spec = {0};
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"database", 0, 0, G_OPTION_ARG_STRING, &database,
         "libpq conninfo or URI instead of the configuration's (a member of replygate_owner)",
         "CONNINFO"},
        {"expired", 0, 0, G_OPTION_ARG_NONE, &spec.expired,
         "what the configuration's retention lets go (the daily timer)", NULL},
        {"older-than", 0, 0, G_OPTION_ARG_STRING, &older_than, "received longer ago than this",
         "DURATION"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &user, "the replies and refusals of this user", "N"},
        {"key", 0, 0, G_OPTION_ARG_STRING, &key, "those of this key", "KIND-TARGET-USER"},
        {"message-id", 0, 0, G_OPTION_ARG_STRING, &message_id,
         "those of this Message-ID (without angle brackets)", "ID"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &spec.dry_run, "print what would go, change nothing",
         NULL},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *why = NULL;
    PurgeCounts counts = {0};
    gboolean database_ok;

    if (!cli_parse_options(
            "--expired | [--older-than D] [--user N] [--key K-T-U] [--message-id ID]",
            "Remove stored replies (with their attachments), refusal rows and\n"
            "the spool copies in success/ and failure/ together, and leave a\n"
            "tombstone of each reply so that no replay or redelivery brings it\n"
            "back. The selectors combine; --dry-run prints what would go.",
            entries, &argc, &argv))
        return EX_USAGE;
    spec.message_id = message_id;
    if (argc != 1 || !purge_options(&spec, older_than, user, key))
        return EX_USAGE;
    if (!cli_load(config_path, &config, (spec.have_user || spec.have_key) ? &ring : NULL, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    spec.config = config;
    spec.ring = ring;
    if (database == NULL && g_getenv("REPLYGATE_PURGE_DATABASE") != NULL)
        database = g_strdup(g_getenv("REPLYGATE_PURGE_DATABASE"));
    why = g_strdup_printf("purge%s%s%s%s%s%s%s%s", older_than ? " --older-than " : "",
                          older_than ? older_than : "", user ? " --user " : "", user ? user : "",
                          key ? " --key " : "", key ? key : "", message_id ? " --message-id " : "",
                          message_id ? message_id : "");
    database_ok =
        purge_database(&spec, database ? database : config->database, why, &counts, &error);
    if (!database_ok)
        fprintf(stderr, "replygate: purge: the database part failed: %s%s\n", error->message,
                strstr(error->message, "permission denied")
                    ? " (only a member of replygate_owner may delete by selector: give "
                      "--database)"
                    : "");
    purge_spool(&spec, &counts);
    purge_summary(&spec, &counts, database_ok);
    if (!database_ok)
        return error->domain == RG_ERROR && error->code == RG_ERROR_TEMPFAIL ? EX_TEMPFAIL : 1;
    return counts.errors > 0 ? 1 : EX_OK;
}
