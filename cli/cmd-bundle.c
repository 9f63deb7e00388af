/*
 * cmd-bundle.c - `replygate bundle [-o FILE]`: a support bundle, the .tar.gz
 * an administrator hands to someone who helps, like GitHub Enterprise's
 * support bundle.
 *
 * It holds what answers most questions about a reply that went astray:
 *   version.txt       replygate's version, the host, the time
 *   postconf-n.txt    `postconf -n` (password tables given inline redacted)
 *   master-cf.txt     the replygate lines of `postconf -M` and `postconf -P`
 *   replygate.conf    the configuration, database passwords redacted
 *   mail.log          the last N lines of mail.log that concern reply mail:
 *                     replygate's own, and Postfix's lines of the queue ids
 *                     (and NOQUEUE rejects) that name a reply domain; other
 *                     domains' mail stays out
 *   processor.log     the last N lines of the processor log
 *   spool.txt         how many files each spool folder holds
 *   migrations.txt    the schema files applied (the migration level)
 *   check.txt         the output of `replygate check`
 * The secrets file is never read, and the mac of every reply address copied
 * (in logs, Message-IDs, check output) is replaced by MAC-REDACTED, so the
 * bundle cannot be used to reply as anyone. A part that cannot be had is
 * replaced by a note saying why, so a broken host still gives a bundle.
 *
 * Run as root, each part is read with the identity that shows the truth:
 * mail.log and the processor log as root (never through a symbolic link),
 * the database as the agent's user (peer authentication), `replygate check`
 * switching per hop itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sysexits.h>
#include <unistd.h>

#include "as-user.h"
#include "commands.h"
#include "db.h"
#include "ops-util.h"
#include "rg-autoptr.h"

#define BUNDLE_LINES 2000

typedef struct {
    char *dir; /* the folder being filled: TMP/NAME */
    const char *postfix_dir;
    const char *config_path;
    Config *config; /* NULL when it does not load */
    guint lines;
    const char *agent_user; /* the database is read as this user */
} Bundle;

/* bundle_write - one file of the bundle */
static void
bundle_write(const Bundle *b, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(b->dir, name, NULL);
    g_autofree char *redacted = ops_redact_macs(text);
    g_autoptr(GError) error = NULL;

    if (!g_file_set_contents(path, redacted, -1, &error))
        fprintf(stderr, "replygate: bundle: %s\n", error->message);
}

/* bundle_run - a program's output and exit status, as text for the bundle */
static char *
bundle_run(const char *const *argv)
{
    g_autofree char *output = NULL;
    g_autoptr(GError) error = NULL;
    int status = ops_run(argv, -1, (uid_t)-1, (gid_t)-1, &output, &error);

    if (status < 0)
        return g_strdup_printf("# %s: %s\n", argv[0], error->message);
    if (status != 0)
        return g_strdup_printf("%s# exit status %d\n", output, status);
    return g_steal_pointer(&output);
}

/* bundle_postconf - postconf with -c DIR when given, plus one flag */
static char *
bundle_postconf(const Bundle *b, const char *flag)
{
    g_autofree char *postconf = g_find_program_in_path("postconf");
    const char *argv[5];
    int n = 0;

    if (postconf == NULL && g_file_test("/usr/sbin/postconf", G_FILE_TEST_IS_EXECUTABLE))
        postconf = g_strdup("/usr/sbin/postconf");
    if (postconf == NULL)
        return g_strdup("# postconf not found: is Postfix installed?\n");
    argv[n++] = postconf;
    if (b->postfix_dir) {
        argv[n++] = "-c";
        argv[n++] = b->postfix_dir;
    }
    argv[n++] = flag;
    argv[n] = NULL;
    return bundle_run(argv);
}

/* bundle_postconf_n - `postconf -n`, with inline password tables redacted */
static void
bundle_postconf_n(const Bundle *b)
{
    g_autofree char *out = bundle_postconf(b, "-n");
    g_autoptr(GRegex) inline_pw =
        g_regex_new("^(\\S*password\\S*\\s*=\\s*)(static:|inline:|texthash:\\{).*$",
                    G_REGEX_MULTILINE, 0, NULL);
    g_autofree char *redacted = g_regex_replace(inline_pw, out, -1, 0, "\\1\\2REDACTED", 0, NULL);
    g_autofree char *again = ops_redact_passwords(redacted);

    bundle_write(b, "postconf-n.txt", again);
}

/* bundle_master_cf - the replygate lines of master.cf: services and parameters */
static void
bundle_master_cf(const Bundle *b)
{
    g_autofree char *services = bundle_postconf(b, "-M");
    g_autofree char *params = bundle_postconf(b, "-P");
    g_autoptr(GString) out = g_string_new("# postconf -M, the replygate services\n");
    g_auto(GStrv) lines = NULL;

    lines = g_strsplit(services, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (strstr(lines[i], "replygate") || g_str_has_prefix(lines[i], "#"))
            g_string_append_printf(out, "%s\n", lines[i]);
    }
    g_strfreev(lines);
    g_string_append(out, "# postconf -P, the replygate service parameters\n");
    lines = g_strsplit(params, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (strstr(lines[i], "replygate") || g_str_has_prefix(lines[i], "#"))
            g_string_append_printf(out, "%s\n", lines[i]);
    }
    bundle_write(b, "master-cf.txt", out->str);
}

/* bundle_configuration - the configuration file, passwords redacted */
static void
bundle_configuration(const Bundle *b, const char *load_error)
{
    g_autofree char *text = NULL;
    g_autofree char *redacted = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) out = g_string_new(NULL);

    g_string_append_printf(out, "# %s (database passwords redacted)\n", b->config_path);
    if (load_error)
        g_string_append_printf(out, "# it does not load: %s\n", load_error);
    if (!g_file_get_contents(b->config_path, &text, NULL, &error)) {
        g_string_append_printf(out, "# %s\n", error->message);
    } else {
        redacted = ops_redact_passwords(text);
        g_string_append(out, redacted);
    }
    bundle_write(b, "replygate.conf", out->str);
}

/* bundle_tail - the last lines of a log that match filter */
static void
bundle_tail(const Bundle *b, const char *name, const char *path, GRegex *filter)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) lines = ops_tail_lines(path, b->lines, filter, &error);
    g_autoptr(GString) out = g_string_new(NULL);

    if (lines == NULL) {
        g_string_append_printf(out, "# %s\n", error->message);
    } else {
        for (guint i = 0; i < lines->len; i++) {
            g_autofree char *line = ops_redact_passwords(g_ptr_array_index(lines, i));
            g_string_append_printf(out, "%s\n", line);
        }
    }
    bundle_write(b, name, out->str);
}

/* bundle_maillog - the last lines of mail.log that concern reply mail: a
 * window of the log is read, the queue ids whose lines name an address in a
 * reply domain are collected, then the lines of those queue ids are kept,
 * with replygate's own lines and NOQUEUE lines that name a reply domain */
static void
bundle_maillog(const Bundle *b, const char *path)
{
    guint window = MIN(MAX(b->lines, 1) * 20, 200000);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) lines = ops_tail_lines(path, window, NULL, &error);
    g_autoptr(GHashTable) ours = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GRegex) qid_re = g_regex_new("\\]: ([0-9A-Za-z]{6,20}): ", 0, 0, NULL);
    g_autoptr(GRegex) program_re =
        g_regex_new("\\s(postfix[^/\\s]*(/[^/\\s\\[]+)*|replygate)/[a-z]", 0, 0, NULL);
    g_autoptr(GString) domains = g_string_new(NULL);
    g_autoptr(GRegex) reply_re = NULL;
    g_autofree char *pattern = NULL;
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    g_autoptr(GString) out = g_string_new(NULL);

    if (lines == NULL) {
        g_string_append_printf(out, "# %s\n", error->message);
        bundle_write(b, "mail.log", out->str);
        return;
    }
    if (b->config == NULL) {
        bundle_write(b, "mail.log", "# the configuration does not load: no reply domains\n");
        return;
    }
    for (guint i = 0; i < b->config->reply_domains->len; i++) {
        g_autofree char *esc = g_regex_escape_string(b->config->reply_domains->pdata[i], -1);
        g_string_append_printf(domains, "%s%s", i ? "|" : "", esc);
    }
    pattern = g_strdup_printf("@(%s)\\.?>", domains->str);
    reply_re = g_regex_new(pattern, G_REGEX_CASELESS, 0, NULL);
    /* 1. the queue ids of reply mail */
    for (guint i = 0; i < lines->len; i++) {
        const char *line = lines->pdata[i];
        g_autoptr(GMatchInfo) m = NULL;

        if ((g_regex_match(reply_re, line, 0, NULL) || strstr(line, " replygate/")) &&
            g_regex_match(qid_re, line, 0, &m)) {
            char *qid = g_match_info_fetch(m, 1);
            if (strcmp(qid, "NOQUEUE") == 0)
                g_free(qid);
            else
                g_hash_table_add(ours, qid);
        }
    }
    /* 2. their lines, replygate's own, and reply-domain NOQUEUE lines */
    for (guint i = 0; i < lines->len; i++) {
        const char *line = lines->pdata[i];
        g_autoptr(GMatchInfo) m = NULL;
        g_autofree char *qid = NULL;
        gboolean keep;

        if (!g_regex_match(program_re, line, 0, NULL))
            continue;
        if (g_regex_match(qid_re, line, 0, &m))
            qid = g_match_info_fetch(m, 1);
        keep = strstr(line, " replygate/") != NULL || (qid && g_hash_table_contains(ours, qid)) ||
               (strstr(line, ": NOQUEUE: ") && g_regex_match(reply_re, line, 0, NULL));
        if (keep)
            g_ptr_array_add(kept, lines->pdata[i]);
    }
    for (guint i = kept->len > b->lines ? kept->len - b->lines : 0; i < kept->len; i++) {
        g_autofree char *line = ops_redact_passwords(kept->pdata[i]);
        g_string_append_printf(out, "%s\n", line);
    }
    bundle_write(b, "mail.log", out->str);
}

/* bundle_count - files in one spool folder (not the .reason notes) */
static void
bundle_count(GString *out, const char *spool, const char *folder)
{
    g_autofree char *dir = g_build_filename(spool, folder, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    const char *name;
    guint n = 0;

    if (d == NULL) {
        g_string_append_printf(out, "%-8s -  (%s)\n", folder, error->message);
        return;
    }
    while ((name = g_dir_read_name(d)) != NULL) {
        if (name[0] != '.' && !g_str_has_suffix(name, ".reason"))
            n++;
    }
    g_string_append_printf(out, "%-8s %u\n", folder, n);
}

/* bundle_spool - the spool counts */
static void
bundle_spool(const Bundle *b)
{
    static const char *const folders[] = {"tmp", "new", "success", "failure"};
    g_autoptr(GString) out = g_string_new(NULL);

    if (b->config == NULL) {
        bundle_write(b, "spool.txt", "# the configuration does not load\n");
        return;
    }
    g_string_append_printf(out, "# %s\n", b->config->spool_directory);
    for (guint i = 0; i < G_N_ELEMENTS(folders); i++)
        bundle_count(out, b->config->spool_directory, folders[i]);
    bundle_write(b, "spool.txt", out->str);
}

/* migrations_text - the schema files applied, newest last (run as the
 * agent's user: peer authentication maps the Unix user to the role) */
static char *
migrations_text(gpointer data)
{
    const Config *config = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PGconn) conn = NULL;
    g_autoptr(PGresult) res = NULL;
    GString *out = g_string_new("# replygate.schema_migrations\n");

    conn = db_connect(config->database, "replygate-bundle", 5, &error);
    if (conn)
        res = db_exec(conn,
                      "SELECT version, applied_at::text FROM replygate.schema_migrations"
                      " ORDER BY version",
                      0, NULL, NULL, NULL, &error);
    if (res == NULL) {
        g_autofree char *msg = ops_redact_passwords(error->message);
        g_string_append_printf(out, "# %s\n", msg);
    } else {
        for (int i = 0; i < PQntuples(res); i++)
            g_string_append_printf(out, "%s  %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        if (PQntuples(res) > 0)
            g_string_append_printf(out, "level: %s\n", PQgetvalue(res, PQntuples(res) - 1, 0));
        else
            g_string_append(out, "level: none\n");
    }
    return g_string_free(out, FALSE);
}

/* bundle_migrations - migrations_text() as the agent's user */
static void
bundle_migrations(const Bundle *b)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    if (b->config == NULL) {
        bundle_write(b, "migrations.txt", "# the configuration does not load\n");
        return;
    }
    text = as_user_capture(b->agent_user, migrations_text, b->config, &error);
    if (text == NULL)
        text = g_strdup_printf("# %s\n", error->message);
    bundle_write(b, "migrations.txt", text);
}

/* bundle_check - `replygate check`, run as a separate process */
static void
bundle_check(const Bundle *b)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *out = NULL;
    g_autofree char *redacted = NULL;
    const char *argv[8];
    int n = 0;

    if (self == NULL) {
        bundle_write(b, "check.txt", "# cannot find the replygate program\n");
        return;
    }
    argv[n++] = self;
    argv[n++] = "check";
    argv[n++] = "--config";
    argv[n++] = b->config_path;
    if (b->postfix_dir) {
        argv[n++] = "--postfix-config";
        argv[n++] = b->postfix_dir;
    }
    argv[n] = NULL;
    out = bundle_run(argv);
    redacted = ops_redact_passwords(out);
    bundle_write(b, "check.txt", redacted);
}

/* bundle_version - what wrote the bundle, where and when */
static void
bundle_version(const Bundle *b)
{
    struct utsname u;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *when = g_date_time_format_iso8601(now);
    g_autofree char *text = NULL;

    if (uname(&u) < 0)
        memset(&u, 0, sizeof u);
    text =
        g_strdup_printf("replygate %s\nhost %s\nsystem %s %s %s\ncreated %s\n", REPLYGATE_VERSION,
                        g_get_host_name(), u.sysname, u.release, u.machine, when);
    bundle_write(b, "version.txt", text);
}

/* bundle_remove_tree - remove the temporary folder and what it holds */
static void
bundle_remove_tree(const char *top, const char *sub)
{
    g_autoptr(GDir) d = g_dir_open(sub, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(sub, name, NULL);
        (void)unlink(path);
    }
    (void)rmdir(sub);
    (void)rmdir(top);
}

/* cmd_bundle - write the support bundle */
int
cmd_bundle(int argc, char **argv)
{
    g_autofree char *config_option = NULL;
    g_autofree char *output = NULL;
    g_autofree char *postfix_dir = NULL;
    g_autofree char *maillog = NULL;
    int lines = BUNDLE_LINES;
    g_autofree char *agent_user = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_option, "configuration file", "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "the bundle to write (default replygate-bundle-HOST-TIME.tar.gz)", "FILE"},
        {"postfix-config", 0, 0, G_OPTION_ARG_FILENAME, &postfix_dir,
         "Postfix config directory, as postconf -c takes it", "DIR"},
        {"maillog", 0, 0, G_OPTION_ARG_FILENAME, &maillog,
         "the mail log (default /var/log/mail.log)", "FILE"},
        {"lines", 0, 0, G_OPTION_ARG_INT, &lines, "lines of each log (default 2000)", "N"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &agent_user,
         "the user the database is read as (replygate)", "USER"},
        {NULL},
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) config_error = NULL;
    g_autoptr(Config) config = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
    g_autofree char *name = NULL;
    g_autofree char *tmp = NULL;
    g_autofree char *listing = NULL;
    g_autofree char *tar = g_find_program_in_path("tar");
    const char *load_error = NULL;
    Bundle b = {0};
    int status;

    if (!cli_parse_options("",
                           "Write a support bundle (.tar.gz): postconf -n, the replygate\n"
                           "lines of master.cf, the configuration with passwords redacted,\n"
                           "the end of mail.log and of the processor log, spool counts, the\n"
                           "migration level and `replygate check`. Never the secrets.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1 || lines <= 0) {
        fprintf(stderr, "usage: replygate bundle [--config FILE] [-o FILE] "
                        "[--postfix-config DIR] [--maillog FILE] [--lines N]\n");
        return EX_USAGE;
    }
    if (tar == NULL) {
        fprintf(stderr, "replygate: bundle: tar not found\n");
        return EX_CONFIG;
    }
    umask(077); /* logs hold addresses and subjects */
    b.config_path = config_resolve_path(config_option);
    b.postfix_dir = postfix_dir;
    b.lines = (guint)lines;
    b.agent_user = agent_user ? agent_user : "replygate";
    if (!cli_load(config_option, &config, NULL, &config_error))
        load_error = config_error->message;
    b.config = config;

    name = g_strdup_printf("replygate-bundle-%s-%s", g_get_host_name(), stamp);
    if (output == NULL)
        output = g_strconcat(name, ".tar.gz", NULL);
    tmp = g_dir_make_tmp("replygate-bundle.XXXXXX", &error);
    if (tmp == NULL) {
        fprintf(stderr, "replygate: bundle: %s\n", error->message);
        return EX_TEMPFAIL;
    }
    b.dir = g_build_filename(tmp, name, NULL);
    if (mkdir(b.dir, 0700) < 0) {
        fprintf(stderr, "replygate: bundle: %s: %s\n", b.dir, g_strerror(errno));
        rmdir(tmp);
        return EX_TEMPFAIL;
    }

    bundle_version(&b);
    bundle_postconf_n(&b);
    bundle_master_cf(&b);
    bundle_configuration(&b, load_error);
    bundle_maillog(&b, maillog ? maillog : "/var/log/mail.log");
    if (config)
        bundle_tail(&b, "processor.log", config->processor_log, NULL);
    else
        bundle_write(&b, "processor.log", "# the configuration does not load\n");
    bundle_spool(&b);
    bundle_migrations(&b);
    bundle_check(&b);

    {
        const char *targv[] = {tar, "-czf", output, "-C", tmp, name, NULL};
        g_autofree char *out = NULL;
        status = ops_run(targv, -1, (uid_t)-1, (gid_t)-1, &out, &error);
        if (status != 0) {
            fprintf(stderr, "replygate: bundle: tar: %s\n",
                    status < 0 ? error->message : g_strstrip(out));
            bundle_remove_tree(tmp, b.dir);
            g_free(b.dir);
            return EX_TEMPFAIL;
        }
    }
    bundle_remove_tree(tmp, b.dir);
    {
        const char *largv[] = {tar, "-tzf", output, NULL};
        status = ops_run(largv, -1, (uid_t)-1, (gid_t)-1, &listing, NULL);
    }
    printf("wrote %s\n%s", output, status == 0 && listing ? listing : "");
    g_free(b.dir);
    return EX_OK;
}
