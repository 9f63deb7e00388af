/*
 * test-countfile.c - the count files of lib/countfile.c: concurrent agents
 * never lose a count (flock), a reader never sees half a file, and the
 * deferral reasons are read from real DSN texts.
 */
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "countfile.h"

/* remove_tree - the test's folder and what countfile made in it (one level of folders) */
static void
remove_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            remove_tree(path);
        else
            g_unlink(path);
    }
    g_rmdir(dir);
}

/* test_concurrent - 8 processes add 50 each: exactly 400 */
static void
test_concurrent(void)
{
    g_autofree char *dir = g_dir_make_tmp("rg-countfile-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "metrics", "deferrals", NULL);
    g_autoptr(GHashTable) counts = NULL;
    pid_t pids[8];

    for (int p = 0; p < 8; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            for (int i = 0; i < 50; i++)
                if (!countfile_add(dir, "deferrals", p % 2 ? "database" : "spool", NULL))
                    _exit(1);
            _exit(0);
        }
    }
    for (int p = 0; p < 8; p++) {
        int status;
        g_assert_cmpint(waitpid(pids[p], &status, 0), ==, pids[p]);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    counts = countfile_read(path, NULL);
    g_assert_nonnull(counts);
    g_assert_cmpuint(countfile_get(counts, "database"), ==, 200);
    g_assert_cmpuint(countfile_get(counts, "spool"), ==, 200);
    g_assert_cmpuint(countfile_get(counts, "other"), ==, 0);
    remove_tree(dir);
}

/* test_missing - a missing file is all zeros, not an error */
static void
test_missing(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) counts = countfile_read("/nonexistent/deferrals", &error);

    g_assert_no_error(error);
    g_assert_cmpuint(countfile_get(counts, "database"), ==, 0);
}

static const struct {
    const char *label;
    const char *status;
    const char *want;
} reason_cases[] = {
    {"configuration", "4.3.5 configuration error: replygate.conf:3: unknown name", "configuration"},
    {"unreachable", "4.3.0 database unreachable: connection to server failed", "database"},
    {"too many clients", "4.3.0 database: too many clients already", "database_busy"},
    {"lock timeout", "4.3.0 database: canceling statement due to lock timeout", "database_busy"},
    {"serialization", "4.3.0 database: could not serialize access", "database_busy"},
    {"spool", "4.3.0 spool: /var/spool/replygate/new: No space left on device", "spool"},
    {"memory", "4.3.0 out of memory or internal error, delivery deferred", "memory"},
    {"anything else", "4.3.0 something new", "other"},
};

/* test_reasons - the reason label of each DSN text */
static void
test_reasons(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(reason_cases); i++) {
        const char *got = countfile_deferral_reason(reason_cases[i].status);
        if (g_strcmp0(got, reason_cases[i].want) != 0)
            g_test_fail_printf("%s: got %s, want %s", reason_cases[i].label, got,
                               reason_cases[i].want);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/countfile/concurrent", test_concurrent);
    g_test_add_func("/countfile/missing", test_missing);
    g_test_add_func("/countfile/reasons", test_reasons);
    return g_test_run();
}
