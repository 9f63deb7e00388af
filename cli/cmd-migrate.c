/*
 * cmd-migrate.c - `replygate migrate`: bring the database schema up to date
 * (SPEC section 8).
 *
 * Applies sql/NNNN_*.sql in name order, each file in its own transaction
 * together with its row in replygate.schema_migrations, and skips the files
 * already recorded there, so running it twice changes nothing. A session
 * advisory lock keeps two migrations (two MX hosts installing at once) from
 * racing. The SQL folder is --sql-dir, then $REPLYGATE_SQL_DIR, then the
 * installed REPLYGATE_DATADIR/sql, then the source tree's sql/.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "db.h"
#include "rg-autoptr.h"
#include "rg-error.h"

/* Any constant will do, as long as every migrate uses the same one. */
#define MIGRATE_LOCK_KEY "7302554113"

/* migrate_sql_dir - where the numbered files are */
static const char *
migrate_sql_dir(const char *option)
{
    const char *env = g_getenv("REPLYGATE_SQL_DIR");

    if (option && *option)
        return option;
    if (env && *env)
        return env;
    if (g_file_test(REPLYGATE_DATADIR "/sql", G_FILE_TEST_IS_DIR))
        return REPLYGATE_DATADIR "/sql";
    return REPLYGATE_SOURCE_DIR "/sql";
}

/* migrate_is_schema_file - NNNN_name.sql, four digits first */
static gboolean
migrate_is_schema_file(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (!g_ascii_isdigit(name[i]))
            return FALSE;
    }
    return name[4] == '_' && g_str_has_suffix(name, ".sql");
}

/* migrate_compare - order file names */
static int
migrate_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* migrate_list - the schema files in dir, in order */
static GPtrArray *
migrate_list(const char *dir, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (d == NULL)
        return NULL;
    while ((name = g_dir_read_name(d)) != NULL) {
        if (migrate_is_schema_file(name))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, migrate_compare);
    return g_steal_pointer(&names);
}

/* migrate_bootstrap - lock, then make sure the bookkeeping table exists */
static gboolean
migrate_bootstrap(PGconn *conn, GError **error)
{
    return db_command(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, error) &&
           db_command(conn, "SET client_min_messages = warning", 0, NULL, error) &&
           db_command(conn, "CREATE SCHEMA IF NOT EXISTS replygate", 0, NULL, error) &&
           db_command(conn,
                      "CREATE TABLE IF NOT EXISTS replygate.schema_migrations ("
                      " version text PRIMARY KEY,"
                      " applied_at timestamptz NOT NULL DEFAULT now())",
                      0, NULL, error);
}

/* migrate_is_applied - is version recorded already? */
static gboolean
migrate_is_applied(PGconn *conn, const char *version, gboolean *applied, GError **error)
{
    g_autoptr(PGresult) res = db_exec(conn,
                                      "SELECT 1 FROM replygate.schema_migrations"
                                      " WHERE version = $1",
                                      1, &version, NULL, NULL, error);

    if (res == NULL)
        return FALSE;
    *applied = PQntuples(res) > 0;
    return TRUE;
}

/* migrate_apply - one file and its record, in one transaction */
static gboolean
migrate_apply(PGconn *conn, const char *dir, const char *version, GError **error)
{
    g_autofree char *path = g_build_filename(dir, version, NULL);
    g_autofree char *sql = NULL;

    if (!g_file_get_contents(path, &sql, NULL, error))
        return FALSE;
    if (!db_command(conn, "BEGIN", 0, NULL, error))
        return FALSE;
    if (!db_exec_script(conn, sql, error) ||
        !db_command(conn, "INSERT INTO replygate.schema_migrations (version) VALUES ($1)", 1,
                    &version, error) ||
        !db_command(conn, "COMMIT", 0, NULL, error)) {
        db_rollback(conn);
        g_prefix_error(error, "%s: ", path);
        return FALSE;
    }
    return TRUE;
}

/* cmd_migrate - apply the schema files not applied yet */
int
cmd_migrate(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *sql_dir_option = NULL;
    g_autofree char *database = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"sql-dir", 0, 0, G_OPTION_ARG_FILENAME, &sql_dir_option, "folder of the NNNN_*.sql files",
         "DIR"},
        {"database", 0, 0, G_OPTION_ARG_STRING, &database,
         "libpq conninfo or URI instead of the configuration's", "CONNINFO"},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) files = NULL;
    g_autoptr(PGconn) conn = NULL;
    const char *sql_dir;
    guint applied = 0;

    if (!cli_parse_options("",
                           "Apply the schema files in order, each in a transaction, and\n"
                           "record them in replygate.schema_migrations. Running it again\n"
                           "changes nothing.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1) {
        fprintf(stderr, "usage: replygate migrate [--config FILE] [--sql-dir DIR]\n");
        return EX_USAGE;
    }
    if (database == NULL) {
        if (!cli_load(config_path, &config, NULL, &error)) {
            fprintf(stderr, "replygate: %s\n", error->message);
            return EX_CONFIG;
        }
        database = g_strdup(config->database);
    }
    sql_dir = migrate_sql_dir(sql_dir_option);
    files = migrate_list(sql_dir, &error);
    if (files == NULL || files->len == 0) {
        fprintf(stderr, "replygate: no schema files in %s%s%s\n", sql_dir, error ? ": " : "",
                error ? error->message : "");
        return EX_CONFIG;
    }
    conn = db_connect(database, "replygate-migrate", 0, &error);
    if (conn == NULL || !migrate_bootstrap(conn, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_TEMPFAIL;
    }
    for (guint i = 0; i < files->len; i++) {
        const char *version = g_ptr_array_index(files, i);
        gboolean done = FALSE;

        if (!migrate_is_applied(conn, version, &done, &error) ||
            (!done && !migrate_apply(conn, sql_dir, version, &error))) {
            fprintf(stderr, "replygate: migrate: %s\n", error->message);
            return error->domain == RG_ERROR && error->code == RG_ERROR_TEMPFAIL ? EX_TEMPFAIL : 1;
        }
        if (!done) {
            printf("applied %s\n", version);
            applied++;
        }
    }
    if (applied == 0)
        printf("nothing to apply: the schema is at %s\n",
               (const char *)g_ptr_array_index(files, files->len - 1));
    return EX_OK;
}
