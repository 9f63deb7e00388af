/*
 * cmd-metrics.c - `replygate metrics`: replygate's counters in Prometheus'
 * text exposition format, for node_exporter's textfile collector.
 *
 * Every number comes from something counted durably, never from a log:
 *   the database    replygate_replies_stored_total (rows held),
 *                   replygate_refusals_total{stage,reason} (refusals table),
 *                   replygate_queue_oldest_unclaimed_seconds (the
 *                   application's queue), replygate_database_up and
 *                   replygate_database_latency_seconds; asked as the
 *                   agent's user (peer authentication), as the agent asks;
 *   the spool       replygate_spool_files{folder}, replygate_spool_bytes{folder};
 *   count files     replygate_deferrals_total{reason} and the pipe agents'
 *                   part of replygate_duplicates_total (lib/countfile.c);
 *   resident files  milter.prom and lmtp.prom, which the milter and the
 *                   LMTP service write themselves, copied in (only their
 *                   replygate_* lines), and the LMTP service's duplicates
 *                   added to replygate_duplicates_total.
 * --write puts the text into metrics_textfile through a temporary file in
 * the same folder and a rename, so the collector never reads half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "as-user.h"
#include "commands.h"
#include "countfile.h"
#include "db.h"
#include "rg-autoptr.h"

#define METRICS_PROM_MAX (1024 * 1024) /* a resident program's file, at most */

/* metrics_help - the HELP and TYPE lines of one metric */
static void
metrics_help(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The refusal reasons by enhanced status code; anything else is its code. */
static const struct {
    const char *code;
    const char *reason;
} refusal_reasons[] = {
    {"5.7.0", "no_tls"},
    {"5.1.1", "no_key"},
    {"5.7.1", "auto_submitted_or_policy"},
    {"5.6.0", "unparsable"},
    {"5.3.4", "too_big"},
    {"4.5.3", "too_many_recipients"},
    {"5.5.3", "too_many_recipients"},
};

/* metrics_refusal_reason - the reason label of an enhanced status code */
static const char *
metrics_refusal_reason(const char *code)
{
    for (gsize i = 0; i < G_N_ELEMENTS(refusal_reasons); i++)
        if (g_strcmp0(code, refusal_reasons[i].code) == 0)
            return refusal_reasons[i].reason;
    return code && *code ? code : "unknown";
}

/* metrics_label - a label value with \, " and newlines escaped */
static char *
metrics_label(const char *value)
{
    GString *out = g_string_new(NULL);

    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\' || *p == '"')
            g_string_append_c(out, '\\');
        if (*p == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *p);
    }
    return g_string_free(out, FALSE);
}

/* metrics_value - one number of a query, or -1 */
static double
metrics_value(PGconn *conn, const char *sql)
{
    g_autoptr(PGresult) res = db_exec(conn, sql, 0, NULL, NULL, NULL, NULL);

    if (res == NULL || PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
        return -1;
    return g_ascii_strtod(PQgetvalue(res, 0, 0), NULL);
}

typedef struct {
    const Config *config;
    int fd; /* where the child writes its text */
} DatabaseHop;

/* metrics_database - the database's part, as text */
static char *
metrics_database(const Config *config)
{
    GString *out = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(PGconn) conn = db_connect(config->database, "replygate-metrics", 5, &error);
    double latency, stored, oldest;
    g_autoptr(PGresult) refusals = NULL;

    if (conn == NULL || metrics_value(conn, "SELECT 1") != 1) {
        metrics_help(out, "replygate_database_up", "gauge",
                     "1 when the database answers the agent's user, else 0.");
        g_string_append(out, "replygate_database_up 0\n");
        return g_string_free(out, FALSE);
    }
    latency = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    metrics_help(out, "replygate_database_up", "gauge",
                 "1 when the database answers the agent's user, else 0.");
    g_string_append(out, "replygate_database_up 1\n");
    metrics_help(out, "replygate_database_latency_seconds", "gauge",
                 "Seconds to connect and answer SELECT 1.");
    g_string_append_printf(out, "replygate_database_latency_seconds %.6f\n", latency);

    stored = metrics_value(conn, "SELECT count(*) FROM replygate.messages");
    if (stored >= 0) {
        metrics_help(out, "replygate_replies_stored_total", "counter",
                     "Replies stored and held in the database (a purge lowers it).");
        g_string_append_printf(out, "replygate_replies_stored_total %.0f\n", stored);
    }
    /* The counts through replygate.refusal_counts(), which the writer may
     * run (it may not read the rows); the table itself for other roles. */
    if (metrics_value(conn, "SELECT 1 WHERE to_regprocedure('replygate.refusal_counts()')"
                            " IS NOT NULL AND has_function_privilege("
                            "'replygate.refusal_counts()', 'EXECUTE')") == 1)
        refusals =
            db_exec(conn, "SELECT * FROM replygate.refusal_counts()", 0, NULL, NULL, NULL, NULL);
    else if (metrics_value(conn, "SELECT 1 WHERE to_regclass('replygate.refusals') IS NOT NULL") ==
             1)
        refusals = db_exec(conn,
                           "SELECT stage, coalesce(enhanced_code, ''), count(*) FROM "
                           "replygate.refusals GROUP BY 1, 2 ORDER BY 1, 2",
                           0, NULL, NULL, NULL, NULL);
    if (refusals) {
        g_autoptr(GHashTable) sums = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) keys = g_ptr_array_new();

        metrics_help(out, "replygate_refusals_total", "counter",
                     "Permanent refusals recorded, by stage and reason.");
        for (int i = 0; i < PQntuples(refusals); i++) {
            g_autofree char *stage = metrics_label(PQgetvalue(refusals, i, 0));
            g_autofree char *reason =
                metrics_label(metrics_refusal_reason(PQgetvalue(refusals, i, 1)));
            g_autofree char *key = g_strdup_printf("stage=\"%s\",reason=\"%s\"", stage, reason);
            gsize n = GPOINTER_TO_SIZE(g_hash_table_lookup(sums, key));

            if (n == 0)
                g_ptr_array_add(keys, g_strdup(key));
            g_hash_table_insert(
                sums, g_strdup(key),
                GSIZE_TO_POINTER(n + g_ascii_strtoull(PQgetvalue(refusals, i, 2), NULL, 10)));
        }
        for (guint i = 0; i < keys->len; i++) {
            g_string_append_printf(out, "replygate_refusals_total{%s} %" G_GSIZE_FORMAT "\n",
                                   (char *)keys->pdata[i],
                                   GPOINTER_TO_SIZE(g_hash_table_lookup(sums, keys->pdata[i])));
            g_free(keys->pdata[i]);
        }
    }
    /* The application's queue, when the schema has one. */
    if (metrics_value(conn,
                      "SELECT 1 FROM information_schema.columns WHERE table_schema = "
                      "'replygate' AND table_name = 'messages' AND column_name = 'state'") == 1) {
        /* Test rows (replygate test-email) never reach the application. */
        oldest = metrics_value(conn, "SELECT coalesce(extract(epoch FROM now() - min(received_at)),"
                                     " 0) FROM replygate.messages WHERE state = 'new'"
                                     " AND NOT is_test");
        if (oldest >= 0) {
            metrics_help(out, "replygate_queue_oldest_unclaimed_seconds", "gauge",
                         "Age of the oldest reply the application has not claimed (0: none).");
            g_string_append_printf(out, "replygate_queue_oldest_unclaimed_seconds %.3f\n", oldest);
        }
    }
    return g_string_free(out, FALSE);
}

/* database_hop - metrics_database() as the agent's user; text to the pipe */
static int
database_hop(gpointer data)
{
    DatabaseHop *hop = data;
    g_autofree char *text = metrics_database(hop->config);
    gsize len = strlen(text), off = 0;

    while (off < len) {
        ssize_t n = write(hop->fd, text + off, len - off);
        if (n <= 0)
            return 1;
        off += (gsize)n;
    }
    return 0;
}

/* metrics_database_as - the database part read back from the hop */
static char *
metrics_database_as(const Config *config, const char *user)
{
    DatabaseHop hop = {config, -1};
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    char buf[4096];
    ssize_t n;
    int fds[2];

    if (pipe2(fds, O_CLOEXEC) != 0)
        return metrics_database(config);
    hop.fd = fds[1];
    /* The child writes all before it exits; a pipe buffer holds this text. */
    if (as_user_run(user, database_hop, &hop, NULL, &error) < 0)
        fprintf(stderr, "replygate: metrics: %s\n", error->message);
    close(fds[1]);
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        g_string_append_len(text, buf, n);
    close(fds[0]);
    return g_strdup(text->str);
}

/* metrics_spool - files and bytes per folder */
static void
metrics_spool(GString *out, const Config *config)
{
    static const char *const folders[] = {"new", "success", "failure"};
    GString *bytes = g_string_new(NULL);

    metrics_help(out, "replygate_spool_files", "gauge",
                 "Messages in each spool folder (.reason notes not counted).");
    for (gsize i = 0; i < G_N_ELEMENTS(folders); i++) {
        g_autofree char *dir = g_build_filename(config->spool_directory, folders[i], NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        guint64 files = 0, size = 0;
        int dfd = d ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
        struct stat st;

        while (d && dfd >= 0 && (name = g_dir_read_name(d)) != NULL) {
            if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
                continue;
            size += (guint64)st.st_size;
            if (!g_str_has_suffix(name, ".reason"))
                files++;
        }
        if (dfd >= 0)
            close(dfd);
        g_string_append_printf(out, "replygate_spool_files{folder=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               folders[i], files);
        g_string_append_printf(bytes,
                               "replygate_spool_bytes{folder=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               folders[i], size);
    }
    metrics_help(out, "replygate_spool_bytes", "gauge", "Bytes in each spool folder.");
    g_string_append(out, bytes->str);
    g_string_free(bytes, TRUE);
}

/* metrics_prom_file - a resident program's .prom file: its replygate_*
 * lines and comments (nothing else is taken); NULL when missing */
static char *
metrics_prom_file(const Config *config, const char *name)
{
    g_autofree char *path = g_build_filename(config->spool_directory, "metrics", name, NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GString *out;
    char buf[METRICS_PROM_MAX + 1];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return NULL;
    n = read(fd, buf, METRICS_PROM_MAX);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    lines = g_strsplit(buf, "\n", -1);
    out = g_string_new(NULL);
    for (guint i = 0; lines[i]; i++)
        if (g_str_has_prefix(lines[i], "replygate_") ||
            g_str_has_prefix(lines[i], "# HELP replygate_") ||
            g_str_has_prefix(lines[i], "# TYPE replygate_"))
            g_string_append_printf(out, "%s\n", lines[i]);
    return g_string_free(out, FALSE);
}

/* metrics_prom_value - the value of an unlabelled metric in a .prom text */
static guint64
metrics_prom_value(const char *text, const char *name)
{
    g_autofree char *prefix = g_strconcat(name, " ", NULL);
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

    for (guint i = 0; lines[i]; i++)
        if (g_str_has_prefix(lines[i], prefix))
            return g_ascii_strtoull(lines[i] + strlen(prefix), NULL, 10);
    return 0;
}

/* metrics_text - the whole exposition */
static char *
metrics_text(const Config *config, const char *user)
{
    GString *out = g_string_new(NULL);
    g_autofree char *spool_metrics = g_build_filename(config->spool_directory, "metrics", NULL);
    g_autofree char *deferrals_path = g_build_filename(spool_metrics, "deferrals", NULL);
    g_autofree char *outcomes_path = g_build_filename(spool_metrics, "outcomes", NULL);
    g_autoptr(GHashTable) deferrals = countfile_read(deferrals_path, NULL);
    g_autoptr(GHashTable) outcomes = countfile_read(outcomes_path, NULL);
    g_autofree char *milter = metrics_prom_file(config, "milter.prom");
    g_autofree char *lmtp = metrics_prom_file(config, "lmtp.prom");
    g_autofree char *database = metrics_database_as(config, user);
    static const char *const reasons[] = {"configuration", "database", "database_busy",
                                          "memory",        "spool",    "other"};

    g_string_append(out, database);
    metrics_help(out, "replygate_duplicates_total", "counter",
                 "Deliveries of a reply that was stored already (pipe agents and LMTP service).");
    g_string_append_printf(out, "replygate_duplicates_total %" G_GUINT64_FORMAT "\n",
                           countfile_get(outcomes, "duplicate") +
                               metrics_prom_value(lmtp, "replygate_lmtp_duplicates_total"));
    metrics_help(out, "replygate_deferrals_total", "counter",
                 "Deliveries the pipe agents deferred (4.x.x, Postfix retries), by reason.");
    for (gsize i = 0; i < G_N_ELEMENTS(reasons); i++)
        g_string_append_printf(out,
                               "replygate_deferrals_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               reasons[i], countfile_get(deferrals, reasons[i]));
    metrics_spool(out, config);
    if (milter)
        g_string_append(out, milter);
    if (lmtp)
        g_string_append(out, lmtp);
    metrics_help(out, "replygate_metrics_written_seconds", "gauge",
                 "When this text was made (Unix time): alert when it grows old.");
    g_string_append_printf(out, "replygate_metrics_written_seconds %" G_GINT64_FORMAT "\n",
                           g_get_real_time() / G_USEC_PER_SEC);
    return g_string_free(out, FALSE);
}

/* metrics_write - text into path through a temporary file and a rename */
static gboolean
metrics_write(const char *path, const char *text, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *tmp = g_strdup_printf("%s.%ld.tmp", path, (long)getpid());
    gsize len = strlen(text);
    int fd;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                    "%s does not exist: install prometheus-node-exporter, or set "
                    "metrics_textfile",
                    dir);
        return FALSE;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || fchmod(fd, 0644) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot write %s: %s", tmp,
                    g_strerror(saved));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return FALSE;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot rename %s: %s",
                    tmp, g_strerror(saved));
        unlink(tmp);
        return FALSE;
    }
    return TRUE;
}

/* cmd_metrics - print (or --write) the counters */
int
cmd_metrics(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *output = NULL;
    g_autofree char *user = NULL;
    gboolean write_file = FALSE;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"write", 0, 0, G_OPTION_ARG_NONE, &write_file,
         "write metrics_textfile (temporary file and rename) instead of printing", NULL},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "write this file instead of metrics_textfile", "FILE"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &user, "the user the database is asked as (replygate)",
         "USER"},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    if (!cli_parse_options("",
                           "Print replygate's counters in Prometheus' text format, from the\n"
                           "database, the spool and the counters the programs keep (never\n"
                           "from logs); --write puts them into metrics_textfile for\n"
                           "node_exporter's textfile collector.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1) {
        fprintf(stderr, "usage: replygate metrics [--config FILE] [--write | -o FILE]\n");
        return EX_USAGE;
    }
    if (!cli_load(config_path, &config, NULL, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    text = metrics_text(config, user ? user : "replygate");
    if (!write_file && output == NULL) {
        fputs(text, stdout);
        return EX_OK;
    }
    if (!metrics_write(output ? output : config->metrics_textfile, text, &error)) {
        fprintf(stderr, "replygate: metrics: %s\n", error->message);
        return EX_CANTCREAT;
    }
    return EX_OK;
}
