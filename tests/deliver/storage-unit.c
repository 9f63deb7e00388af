/*
 * storage-unit.c - table-driven tests of the storage side's pure parts: the
 * SQLSTATE classification of db.c, the processor log line of proclog.c, and
 * the spool of spool.c (write, move, reason) in a temporary folder, and the
 * delivery core's outcome table (SPEC section 5: exit status and LMTP reply).
 * Each case is a label, an input and what is wanted; failures print both.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "delivery.h"
#include "proclog.h"
#include "rg-error.h"
#include "spool.h"

typedef struct {
    const char *label;
    const char *sqlstate;
    int want;
} SqlstateCase;

static const SqlstateCase sqlstate_cases[] = {
    {"lost connection (no SQLSTATE)", NULL, RG_ERROR_TEMPFAIL},
    {"connection exception 08006", "08006", RG_ERROR_TEMPFAIL},
    {"connection does not exist 08003", "08003", RG_ERROR_TEMPFAIL},
    {"serialization failure 40001", "40001", RG_ERROR_TEMPFAIL},
    {"deadlock 40P01", "40P01", RG_ERROR_TEMPFAIL},
    {"disk full 53100", "53100", RG_ERROR_TEMPFAIL},
    {"out of memory 53200", "53200", RG_ERROR_TEMPFAIL},
    {"too many connections 53300", "53300", RG_ERROR_TEMPFAIL},
    {"admin shutdown 57P01", "57P01", RG_ERROR_TEMPFAIL},
    {"crash shutdown 57P02", "57P02", RG_ERROR_TEMPFAIL},
    {"cannot connect now 57P03", "57P03", RG_ERROR_TEMPFAIL},
    {"lock not available 55P03", "55P03", RG_ERROR_TEMPFAIL},
    {"statement timeout 57014", "57014", RG_ERROR_TEMPFAIL},
    {"read-only transaction 25006 (a standby after failover)", "25006", RG_ERROR_TEMPFAIL},
    {"unique violation 23505", "23505", RG_ERROR_DUPLICATE},
    {"undefined table 42P01 (not migrated)", "42P01", RG_ERROR_CONFIG},
    {"insufficient privilege 42501", "42501", RG_ERROR_CONFIG},
    {"syntax error 42601", "42601", RG_ERROR_CONFIG},
    {"invalid password 28P01", "28P01", RG_ERROR_CONFIG},
    {"invalid authorization 28000", "28000", RG_ERROR_CONFIG},
    {"no such database 3D000", "3D000", RG_ERROR_CONFIG},
    {"datetime field overflow 22008", "22008", RG_ERROR_DATAERR},
    {"time zone displacement out of range 22009", "22009", RG_ERROR_DATAERR},
    {"untranslatable character 22P05", "22P05", RG_ERROR_DATAERR},
    {"program limit exceeded 54000", "54000", RG_ERROR_DATAERR},
    {"too many columns 54011", "54011", RG_ERROR_DATAERR},
    {"not null violation 23502 (anything else)", "23502", RG_ERROR_TEMPFAIL},
    {"internal error XX000 (anything else)", "XX000", RG_ERROR_TEMPFAIL},
    {"raise_exception P0001 (anything else)", "P0001", RG_ERROR_TEMPFAIL},
    {"invalid schema name 3F000 (not migrated)", "3F000", RG_ERROR_CONFIG},
    {"malformed SQLSTATE", "5", RG_ERROR_TEMPFAIL},
};

/* test_sqlstate - every SQLSTATE gets the code db.h promises */
static void
test_sqlstate(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(sqlstate_cases); i++) {
        const SqlstateCase *c = &sqlstate_cases[i];
        int got = db_sqlstate_code(c->sqlstate);

        if (got != c->want)
            g_test_fail_printf("%s: got %d, want %d", c->label, got, c->want);
    }
}

/* The server's own words when it refuses a connection (no SQLSTATE then). */
static const struct {
    const char *label;
    const char *message;
    int want;
    const char *want_what;
} connect_cases[] = {
    {"max_connections",
     "connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" "
     "failed: FATAL:  sorry, too many clients already",
     RG_ERROR_TEMPFAIL, "database has too many clients"},
    {"reserved slots",
     "FATAL:  remaining connection slots are reserved for non-replication "
     "superuser connections",
     RG_ERROR_TEMPFAIL, "database has too many clients"},
    {"role connection limit", "FATAL:  too many connections for role \"replygate\"",
     RG_ERROR_TEMPFAIL, "database has too many clients"},
    {"PgBouncer max_client_conn", "ERROR:  no more connections allowed (max_client_conn)",
     RG_ERROR_TEMPFAIL, "database has too many clients"},
    {"server down",
     "connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" failed: "
     "No such file or directory",
     RG_ERROR_TEMPFAIL, "database unreachable"},
    {"refused",
     "connection to server at \"db\" (192.0.2.1), port 5432 failed: Connection "
     "refused",
     RG_ERROR_TEMPFAIL, "database unreachable"},
    {"password", "FATAL:  password authentication failed for user \"replygate\"", RG_ERROR_CONFIG,
     "database refuses the login"},
    {"peer", "FATAL:  Peer authentication failed for user \"replygate\"", RG_ERROR_CONFIG,
     "database refuses the login"},
    {"pg_hba", "FATAL:  no pg_hba.conf entry for host \"[local]\", user \"x\", database \"y\"",
     RG_ERROR_CONFIG, "database refuses the login"},
    {"no role", "FATAL:  role \"replygate\" does not exist", RG_ERROR_CONFIG,
     "database refuses the login"},
    {"no database", "FATAL:  database \"replygate\" does not exist", RG_ERROR_CONFIG,
     "database refuses the login"},
};

/* test_connect - connection failures told apart by the server's words */
static void
test_connect(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(connect_cases); i++) {
        const char *what = NULL;
        int got = db_connect_code(connect_cases[i].message, &what);

        if (got != connect_cases[i].want || g_strcmp0(what, connect_cases[i].want_what) != 0)
            g_test_fail_printf("%s: got %d \"%s\", want %d \"%s\"", connect_cases[i].label, got,
                               what, connect_cases[i].want, connect_cases[i].want_what);
    }
}

typedef struct {
    const char *label;
    const char *level;
    long pid;
    const char *queue_id;
    int usec;
    const char *text;
    const char *want;
} ProclogCase;

static const ProclogCase proclog_cases[] = {
    {"processing", "INFO", 6178, "ED4DD1041E2", 306412, "replygate: processing <abc@example.org>",
     "[2026-11-22T13:05:46.306 INFO (6178) (ED4DD1041E2) #] replygate: processing "
     "<abc@example.org>\n"},
    {"matched", "DEBUG", 6178, "ED4DD1041E2", 309000, "Matched /var/spool/replygate/new/x",
     "[2026-11-22T13:05:46.309 DEBUG (6178) (ED4DD1041E2) #] Matched /var/spool/replygate/new/x\n"},
    {"milliseconds padded", "ERROR", 1, "4Qx7nB0Zk2z9", 7000, "x",
     "[2026-11-22T13:05:46.007 ERROR (1) (4Qx7nB0Zk2z9) #] x\n"},
    {"no queue id: NOQUEUE", "INFO", 2, NULL, 0, "replay",
     "[2026-11-22T13:05:46.000 INFO (2) (NOQUEUE) #] replay\n"},
};

/* test_proclog_format - the metroplex line shape */
static void
test_proclog_format(void)
{
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();

    for (gsize i = 0; i < G_N_ELEMENTS(proclog_cases); i++) {
        const ProclogCase *c = &proclog_cases[i];
        g_autoptr(GDateTime) when = g_date_time_new(utc, 2026, 11, 22, 13, 5, 46 + c->usec / 1e6);
        g_autofree char *got = proclog_format(when, c->level, c->pid, c->queue_id, c->text);

        if (g_strcmp0(got, c->want) != 0)
            g_test_fail_printf("%s: got %s, want %s", c->label, got, c->want);
    }
}

/* test_proclog_append - lines are appended whole, and a NULL log is a no-op */
static void
test_proclog_append(void)
{
    g_autofree char *dir = g_dir_make_tmp("rg-proclog-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "replygate.log", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    mode_t old_umask = umask(077); /* as pipe(8) runs the agent */
    ProcLog *log = proclog_open(path, NULL);
    struct stat st;

    umask(old_umask);
    g_assert_nonnull(log);
    proclog_set_queue_id(log, "ED4DD1041E2");
    proclog_info(log, "replygate: processing <%s>", "a@b");
    {
        /* A resident program's handle for another message, at the same time. */
        ProcLog *other = proclog_for_message(log, "4FA2B10C3D");
        proclog_info(other, "other");
        proclog_close(other);
    }
    proclog_debug(log, "Matched %s", "/x");
    proclog_close(log);
    /* The first file's mode is logrotate's "create 0640", whatever the umask. */
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0640);
    proclog_info(NULL, "nothing %d", 1);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 4);
    g_assert_true(g_str_has_suffix(lines[0], "(ED4DD1041E2) #] replygate: processing <a@b>"));
    g_assert_true(g_str_has_suffix(lines[1], "(4FA2B10C3D) #] other"));
    g_assert_true(g_str_has_suffix(lines[2], "(ED4DD1041E2) #] Matched /x"));
    g_assert_cmpstr(lines[3], ==, "");
    /* A link planted where the log goes is refused, not followed. */
    {
        g_autofree char *target = g_build_filename(dir, "target", NULL);
        g_autoptr(GError) error = NULL;

        unlink(path);
        g_assert_cmpint(symlink(target, path), ==, 0);
        g_assert_null(proclog_open(path, &error));
        g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));
        unlink(target);
    }
    unlink(path);
    rmdir(dir);
}

/* test_unique_name - time.VdevIinoMusec.host */
static void
test_unique_name(void)
{
    g_autofree char *got = spool_unique_name(1795957546, 306412, 0x801, 0x2a4, "mx");

    g_assert_cmpstr(got, ==, "1795957546.V801I2a4M306412.mx");
}

/* rm_tree - remove a spool made by a test */
static void
rm_tree(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

    g_assert_cmpint(system(cmd), ==, 0);
}

/* test_spool - write into new/, move to failure/ with a reason, remove */
static void
test_spool(void)
{
    g_autofree char *dir = g_dir_make_tmp("rg-spool-XXXXXX", NULL);
    g_autofree char *spool = g_build_filename(dir, "spool", NULL);
    g_autoptr(GBytes) raw = g_bytes_new_static("Subject: x\n\nbody\0tail\n", 22);
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    g_autofree char *moved = NULL;
    g_autofree char *reason_path = NULL;
    g_autofree char *contents = NULL;
    gsize len = 0;
    struct stat st;

    /* The folders do not exist yet: the first write makes them. */
    path = spool_write_new(spool, raw, &error);
    g_assert_no_error(error);
    g_assert_nonnull(path);
    g_assert_true(g_str_has_prefix(path, spool));
    g_assert_nonnull(strstr(path, "/new/"));
    g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
    g_assert_cmpmem(contents, len, g_bytes_get_data(raw, NULL), g_bytes_get_size(raw));
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0007, ==, 0); /* nothing for "other" */

    g_assert_true(spool_write_reason(spool, path, "5.1.1 no valid reply key", &error));
    moved = spool_move(spool, path, "failure", &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(moved, "/failure/"));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    reason_path = g_strconcat(moved, ".reason", NULL);
    g_clear_pointer(&contents, g_free);
    g_assert_true(g_file_get_contents(reason_path, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "5.1.1 no valid reply key\n");

    g_assert_true(spool_remove(moved, &error));
    g_assert_true(spool_remove(moved, &error)); /* already gone: fine */
    g_assert_false(g_file_test(moved, G_FILE_TEST_EXISTS));
    rm_tree(dir);
}

/* test_spool_unwritable - a spool that cannot exist is a temporary failure */
static void
test_spool_unwritable(void)
{
    g_autoptr(GBytes) raw = g_bytes_new_static("x", 1);
    g_autoptr(GError) error = NULL;
    g_autofree char *path = spool_write_new("/dev/null/spool", raw, &error);

    g_assert_null(path);
    g_assert_error(error, RG_ERROR, RG_ERROR_TEMPFAIL);
}

/* count_files - the entries of a folder */
static guint
count_files(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint n = 0;

    while (d != NULL && g_dir_read_name(d) != NULL)
        n++;
    return n;
}

/* test_spool_two_steps - spool_file_create() writes the bytes into tmp/ and
 * fixes the name in new/; spool_file_finish() puts the file in new/ and
 * leaves nothing in tmp/; an unfinished file leaves nothing behind */
static void
test_spool_two_steps(void)
{
    g_autofree char *dir = g_dir_make_tmp("rg-spool-XXXXXX", NULL);
    g_autofree char *spool = g_build_filename(dir, "spool", NULL);
    g_autofree char *tmp = g_build_filename(spool, "tmp", NULL);
    g_autofree char *new_dir = g_build_filename(spool, "new", NULL);
    g_autoptr(GBytes) raw = g_bytes_new_static("Subject: x\n\nbody\n", 17);
    g_autoptr(GError) error = NULL;
    g_autofree char *contents = NULL;
    g_autofree char *path = NULL;
    SpoolFile *file;
    SpoolFile *other;
    gsize len = 0;

    file = spool_file_create(spool, raw, &error);
    g_assert_no_error(error);
    path = g_strdup(spool_file_path(file));
    g_assert_true(g_str_has_prefix(path, new_dir));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(count_files(tmp), ==, 1);
    g_assert_true(g_file_get_contents(spool_file_tmp_path(file), &contents, &len, NULL));
    g_assert_cmpmem(contents, len, g_bytes_get_data(raw, NULL), g_bytes_get_size(raw));
    g_clear_pointer(&contents, g_free);
    /* Two files made in the same microsecond by one process get two names. */
    other = spool_file_create(spool, raw, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(spool_file_path(other), !=, path);
    g_assert_cmpstr(spool_file_tmp_path(other), !=, spool_file_tmp_path(file));
    spool_file_free(other); /* unfinished: removed from tmp/ */
    g_assert_cmpuint(count_files(tmp), ==, 1);

    g_assert_true(spool_file_finish(file, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_files(tmp), ==, 0);
    g_assert_true(g_file_get_contents(path, &contents, &len, NULL));
    g_assert_cmpmem(contents, len, g_bytes_get_data(raw, NULL), g_bytes_get_size(raw));
    spool_file_free(file); /* finished: stays in new/ */
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));

    /* new/ that cannot take it: an error, and nothing left in tmp/. */
    rm_tree(new_dir);
    g_assert_true(g_file_set_contents(new_dir, "not a folder\n", -1, NULL));
    file = spool_file_create(spool, raw, &error);
    g_assert_no_error(error);
    g_assert_false(spool_file_finish(file, &error));
    g_assert_error(error, RG_ERROR, RG_ERROR_TEMPFAIL);
    spool_file_free(file);
    g_assert_cmpuint(count_files(tmp), ==, 0);
    rm_tree(dir);
}

typedef struct {
    const char *label;
    const char *status;
    int exit_status;
    DeliveryClass want_class;
    int want_exit;
    int want_code;
    const char *want_enhanced;
    const char *want_text;
} OutcomeCase;

static const OutcomeCase outcome_cases[] = {
    {"stored", "2.0.0 reply accepted for i-1-5", 0, DELIVERY_STORED, 0, 250, "2.0.0",
     "reply accepted for i-1-5"},
    {"database down", "4.3.0 database unreachable: x", 75, DELIVERY_TEMPFAIL, 75, 451, "4.3.0",
     "database unreachable: x"},
    {"configuration", "4.3.5 configuration error: y", 75, DELIVERY_TEMPFAIL, 75, 451, "4.3.5",
     "configuration error: y"},
    {"no key", "5.1.1 no valid reply key", 67, DELIVERY_NOUSER, 67, 550, "5.1.1",
     "no valid reply key"},
    {"auto-submitted", "5.7.1 auto-submitted mail is not accepted", 77, DELIVERY_NOPERM, 77, 550,
     "5.7.1", "auto-submitted mail is not accepted"},
    {"unparsable", "5.6.0 the reply is empty", 65, DELIVERY_DATAERR, 65, 554, "5.6.0",
     "the reply is empty"},
    {"too big", "5.3.4 message too big", 65, DELIVERY_TOOBIG, 65, 552, "5.3.4", "message too big"},
    {"unknown exit status defers", "5.1.1 odd", 70, DELIVERY_TEMPFAIL, 75, 451, "4.3.0", "odd"},
    {"no code at all", "something broke", 75, DELIVERY_TEMPFAIL, 75, 451, "4.3.0",
     "something broke"},
    {"a code of the wrong class is replaced", "2.0.0 odd", 67, DELIVERY_NOUSER, 67, 550, "5.1.1",
     "odd"},
    {"text made one printable ASCII line", "5.7.1 a \u201cquote\u201d\x01\r\nforged: line", 77,
     DELIVERY_NOPERM, 77, 550, "5.7.1", "a \"quote\"?"},
    {"empty text", "4.3.0", 75, DELIVERY_TEMPFAIL, 75, 451, "4.3.0", "no details"},
};

/* test_outcome - SPEC section 5's tables: class, exit status, reply code, text */
static void
test_outcome(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(outcome_cases); i++) {
        const OutcomeCase *c = &outcome_cases[i];
        g_autoptr(DeliveryOutcome) got = delivery_outcome_new(c->status, c->exit_status);

        if (got->klass != c->want_class || got->exit_status != c->want_exit ||
            got->smtp_code != c->want_code || strcmp(got->enhanced, c->want_enhanced) != 0 ||
            strcmp(got->text, c->want_text) != 0)
            g_test_fail_printf("%s: got %d/%d/%d %s \"%s\", want %d/%d/%d %s \"%s\"", c->label,
                               got->klass, got->exit_status, got->smtp_code, got->enhanced,
                               got->text, c->want_class, c->want_exit, c->want_code,
                               c->want_enhanced, c->want_text);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/db/sqlstate", test_sqlstate);
    g_test_add_func("/db/connect", test_connect);
    g_test_add_func("/delivery/outcome", test_outcome);
    g_test_add_func("/proclog/format", test_proclog_format);
    g_test_add_func("/proclog/append", test_proclog_append);
    g_test_add_func("/spool/unique-name", test_unique_name);
    g_test_add_func("/spool/write-move-remove", test_spool);
    g_test_add_func("/spool/unwritable", test_spool_unwritable);
    g_test_add_func("/spool/two-steps", test_spool_two_steps);
    return g_test_run();
}
