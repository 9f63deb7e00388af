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
 *
 * Roles (SPEC section 8) belong to the cluster, not the database: with
 * --create-roles, a user with CREATEROLE creates replygate_owner,
 * replygate_writer and replygate_app (NOLOGIN) and becomes a member of the
 * owner; without CREATEROLE it prints the SQL for the administrator and
 * stops (exit 77) before touching the schema. Once
 * the schema belongs to replygate_owner, files are applied as that role,
 * and after every run replygate.apply_grants() (from 0002) hands every
 * object to the owner and makes the grants exactly replygate.role_grants.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "db.h"
#include "purge.h"
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

/* migrate_lock - one migration at a time, whichever host runs it */
static gboolean
migrate_lock(PGconn *conn, GError **error)
{
    return db_command(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, error) &&
           db_command(conn, "SET client_min_messages = warning", 0, NULL, error);
}

/* migrate_bootstrap - make sure the schema and the bookkeeping table exist */
static gboolean
migrate_bootstrap(PGconn *conn, GError **error)
{
    return db_command(conn, "CREATE SCHEMA IF NOT EXISTS replygate", 0, NULL, error) &&
           db_command(conn,
                      "CREATE TABLE IF NOT EXISTS replygate.schema_migrations ("
                      " version text PRIMARY KEY,"
                      " applied_at timestamptz NOT NULL DEFAULT now())",
                      0, NULL, error);
}

/* The roles of SPEC section 8, created NOLOGIN: login users are made members. */
static const char *const migrate_roles[] = {"replygate_owner", "replygate_writer", "replygate_app"};

/* migrate_query_bool - the one boolean a query returns */
static gboolean
migrate_query_bool(PGconn *conn, const char *sql, gboolean *value, GError **error)
{
    g_autoptr(PGresult) res = db_exec(conn, sql, 0, NULL, NULL, NULL, error);

    if (res == NULL)
        return FALSE;
    *value = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    return TRUE;
}

/* migrate_print_role_sql - what an administrator runs instead */
static void
migrate_print_role_sql(PGconn *conn)
{
    g_autofree char *user = PQescapeIdentifier(conn, PQuser(conn), strlen(PQuser(conn)));

    printf("-- replygate migrate --create-roles: user %s may not create roles (no CREATEROLE).\n"
           "-- As a superuser, run:\n",
           user ? user : "?");
    for (gsize i = 0; i < G_N_ELEMENTS(migrate_roles); i++)
        printf("CREATE ROLE %s NOLOGIN;\n", migrate_roles[i]);
    printf("GRANT replygate_owner TO %s;\n"
           "-- then make the users that log in members, for example:\n"
           "--   GRANT replygate_writer TO replygate;  -- the agent's and the milter's user\n"
           "--   GRANT replygate_app TO myapp;         -- the application's user\n"
           "-- and run replygate migrate again: it hands the schema to replygate_owner\n"
           "-- and grants the others exactly what SPEC section 8 gives them.\n",
           user ? user : "?");
}

/* migrate_create_roles - create the missing roles and join the owner; TRUE
 * with *allowed FALSE (nothing done) when this user may not create roles */
static gboolean
migrate_create_roles(PGconn *conn, gboolean *allowed, GError **error)
{
    gboolean member = FALSE;

    if (!migrate_query_bool(conn,
                            "SELECT rolsuper OR rolcreaterole FROM pg_roles"
                            " WHERE rolname = current_user",
                            allowed, error))
        return FALSE;
    if (!*allowed)
        return TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(migrate_roles); i++) {
        g_autofree char *sql = g_strdup_printf(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') THEN"
            " CREATE ROLE %s NOLOGIN; END IF; END $$",
            migrate_roles[i], migrate_roles[i]);
        if (!db_command(conn, sql, 0, NULL, error))
            return FALSE;
    }
    if (!migrate_query_bool(conn, "SELECT pg_has_role(current_user, 'replygate_owner', 'MEMBER')",
                            &member, error))
        return FALSE;
    return member || db_command(conn, "GRANT replygate_owner TO CURRENT_USER", 0, NULL, error);
}

/* migrate_grants - replygate.apply_grants(), once the schema has it */
static gboolean
migrate_grants(PGconn *conn, GError **error)
{
    gboolean present = FALSE;

    if (!migrate_query_bool(conn, "SELECT to_regprocedure('replygate.apply_grants()') IS NOT NULL",
                            &present, error))
        return FALSE;
    if (!present)
        return TRUE;
    if (!db_command(conn, "BEGIN", 0, NULL, error))
        return FALSE;
    if (!db_command(conn, "SELECT replygate.apply_grants()", 0, NULL, error) ||
        !db_command(conn, "COMMIT", 0, NULL, error)) {
        db_rollback(conn);
        g_prefix_error(error, "replygate.apply_grants(): ");
        return FALSE;
    }
    return TRUE;
}

/* migrate_retention - replygate.conf's retention into replygate.settings,
 * once the schema has it (0002) */
static gboolean
migrate_retention(PGconn *conn, const Config *config, GError **error)
{
    gboolean present = FALSE;
    gboolean differs = FALSE;

    if (config == NULL)
        return TRUE;
    if (!migrate_query_bool(conn,
                            "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
                            " WHERE table_schema = 'replygate' AND table_name = 'settings'"
                            " AND column_name = 'database_keep')",
                            &present, error))
        return FALSE;
    return !present || purge_sync_retention(conn, config, &differs, error);
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
    /* Objects a file creates belong to the owner once the schema does. */
    if (!db_command(conn,
                    "SELECT set_config('role', 'replygate_owner', true) FROM pg_namespace n"
                    " JOIN pg_roles r ON r.oid = n.nspowner"
                    " WHERE n.nspname = 'replygate' AND r.rolname = 'replygate_owner'"
                    " AND r.rolname <> current_user"
                    " AND pg_has_role(current_user, r.oid, 'MEMBER')",
                    0, NULL, error) ||
        !db_exec_script(conn, sql, error) ||
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
    gboolean create_roles = FALSE;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"sql-dir", 0, 0, G_OPTION_ARG_FILENAME, &sql_dir_option, "folder of the NNNN_*.sql files",
         "DIR"},
        {"database", 0, 0, G_OPTION_ARG_STRING, &database,
         "libpq conninfo or URI instead of the configuration's", "CONNINFO"},
        {"create-roles", 0, 0, G_OPTION_ARG_NONE, &create_roles,
         "create replygate_owner, replygate_writer and replygate_app (needs CREATEROLE; "
         "otherwise prints the SQL)",
         NULL},
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
                           "changes nothing. Then every object goes to replygate_owner and\n"
                           "the roles get exactly SPEC section 8's grants.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1) {
        fprintf(stderr, "usage: replygate migrate [--config FILE] [--sql-dir DIR] "
                        "[--database CONNINFO] [--create-roles]\n");
        return EX_USAGE;
    }
    if (database == NULL) {
        if (!cli_load(config_path, &config, NULL, &error)) {
            fprintf(stderr, "replygate: %s\n", error->message);
            return EX_CONFIG;
        }
        database = g_strdup(config->database);
    } else if (!cli_load(config_path, &config, NULL, NULL)) {
        config = NULL; /* then the retention in the database stays as it is */
    }
    sql_dir = migrate_sql_dir(sql_dir_option);
    files = migrate_list(sql_dir, &error);
    if (files == NULL || files->len == 0) {
        fprintf(stderr, "replygate: no schema files in %s%s%s\n", sql_dir, error ? ": " : "",
                error ? error->message : "");
        return EX_CONFIG;
    }
    conn = db_connect(database, "replygate-migrate", 0, &error);
    if (conn == NULL || !migrate_lock(conn, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_TEMPFAIL;
    }
    if (create_roles) {
        gboolean allowed = FALSE;

        if (!migrate_create_roles(conn, &allowed, &error)) {
            fprintf(stderr, "replygate: migrate: cannot create the roles: %s\n", error->message);
            return 1;
        }
        if (!allowed) {
            /* Nothing else either: the administrator runs this, then migrate. */
            migrate_print_role_sql(conn);
            return EX_NOPERM;
        }
    }
    if (!migrate_bootstrap(conn, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return error->domain == RG_ERROR && error->code == RG_ERROR_TEMPFAIL ? EX_TEMPFAIL : 1;
    }
    /* Hand what exists to the owner first, so that the files can run as it. */
    if (!migrate_grants(conn, &error)) {
        fprintf(stderr, "replygate: migrate: %s\n", error->message);
        return 1;
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
    if (!migrate_grants(conn, &error) || !migrate_retention(conn, config, &error)) {
        fprintf(stderr, "replygate: migrate: %s\n", error->message);
        return 1;
    }
    if (applied == 0)
        printf("nothing to apply: the schema is at %s\n",
               (const char *)g_ptr_array_index(files, files->len - 1));
    return EX_OK;
}
