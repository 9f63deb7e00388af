/*
 * cmd-check.c - `replygate check`: is this host ready to take replies?
 *
 * The counterpart of GitLab's incoming_email:check and GitHub Enterprise's
 * "test email settings". Each check prints one line, OK, WARN or FAIL, and
 * every line that is not OK says how to fix it. Any FAIL exits 1.
 *
 * Postfix's settings are read with postconf(1), from --postfix-config DIR or
 * $MAIL_CONFIG (Postfix's own convention), or the default /etc/postfix.
 * The Postfix checks live in check-postfix.c, the TLS certificate checks in
 * check-tls.c; this file holds the others and runs them all.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "as-user.h"
#include "check.h"
#include "commands.h"
#include "db.h"
#include "rg-autoptr.h"

/* check_report - print one line: OK, WARN or FAIL, the finding, and for
 * the last two the fix */
void
check_report(Check *check, const char *status, const char *fix, const char *format, ...)
{
    g_autofree char *text = NULL;
    va_list ap;

    va_start(ap, format);
    text = g_strdup_vprintf(format, ap);
    va_end(ap);
    if (strcmp(status, "FAIL") == 0)
        check->failures++;
    else if (strcmp(status, "WARN") == 0)
        check->warnings++;
    printf("%-4s  %s%s%s\n", status, text, fix ? "; fix: " : "", fix ? fix : "");
    fflush(stdout);
}

/* check_secrets - the secrets file is safe and holds a usable secret */
static void
check_secrets(Check *check, const Config *config)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(KeyRing) ring = keyring_load(config->secrets_file, &error);
    g_autofree char *fix = g_strdup_printf(
        "make it mode 0640 root:%s with one secret of at least 32 bytes a line, for example: "
        "openssl rand -hex 32 > %s",
        check->agent_user, config->secrets_file);
    struct stat st;

    if (ring == NULL) {
        check_report(check, "FAIL", fix, "%s", error->message);
        return;
    }
    if (stat(config->secrets_file, &st) == 0)
        check_report(check, "OK", NULL, "secrets file %s: %u secret%s, mode %04o",
                     config->secrets_file, ring->secrets->len, ring->secrets->len == 1 ? "" : "s",
                     st.st_mode & 07777);
}

/* schema_files - the sql folder's files in order, found the way migrate finds them */
static GPtrArray *
schema_files(const Check *check, const char **dir_out)
{
    const char *dir = check->sql_dir;
    const char *env = g_getenv("REPLYGATE_SQL_DIR");
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    const char *name;

    if (dir == NULL)
        dir = env && *env                                                 ? env
              : g_file_test(REPLYGATE_DATADIR "/sql", G_FILE_TEST_IS_DIR) ? REPLYGATE_DATADIR "/sql"
                                                                          : REPLYGATE_SOURCE_DIR
                  "/sql";
    *dir_out = dir;
    d = g_dir_open(dir, 0, NULL);
    while (d && (name = g_dir_read_name(d)) != NULL) {
        if (strlen(name) > 9 && g_ascii_isdigit(name[0]) && g_ascii_isdigit(name[3]) &&
            name[4] == '_' && g_str_has_suffix(name, ".sql"))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    return names;
}

/* check_schema_version - the database's schema version against this
 * program's (REPLYGATE_SCHEMA_VERSION, the last schema file it was built
 * with): older fails, newer warns (a rolling upgrade: this host is next) */
static void
check_schema_version(Check *check, PGconn *conn)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PGresult) res = db_exec(conn,
                                      "SELECT coalesce(max(left(version, 4)), '0000')"
                                      " FROM replygate.schema_migrations"
                                      " WHERE version ~ '^[0-9]{4}_'",
                                      0, NULL, NULL, NULL, &error);
    const char *have;
    int cmp;

    if (res == NULL) {
        check_report(check, "WARN", "grant SELECT on replygate.schema_migrations",
                     "cannot read the schema version: %s", error->message);
        return;
    }
    have = PQgetvalue(res, 0, 0);
    cmp = strcmp(have, REPLYGATE_SCHEMA_VERSION);
    if (cmp == 0)
        check_report(check, "OK", NULL, "schema version %s, the one this program expects", have);
    else if (cmp < 0)
        check_report(check, "FAIL", "run: replygate migrate",
                     "schema version %s is older than this program's %s", have,
                     REPLYGATE_SCHEMA_VERSION);
    else
        check_report(check, "WARN",
                     "upgrade replygate on this host; until then it keeps working (migrations "
                     "only expand)",
                     "schema version %s is newer than this program's %s", have,
                     REPLYGATE_SCHEMA_VERSION);
}

/* check_role - the role this host connects as: a member of replygate_writer,
 * not a superuser (read from the catalogs, which every role may read) */
static void
check_role(Check *check, PGconn *conn)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PGresult) me = db_exec(conn,
                                     "SELECT current_user, r.rolsuper, w.oid IS NOT NULL,"
                                     " coalesce(pg_has_role(current_user, w.oid, 'MEMBER'), false)"
                                     " FROM pg_roles r"
                                     " LEFT JOIN pg_roles w ON w.rolname = 'replygate_writer'"
                                     " WHERE r.rolname = current_user",
                                     0, NULL, NULL, NULL, &error);

    if (me == NULL || PQntuples(me) == 0)
        return;
    if (strcmp(PQgetvalue(me, 0, 1), "t") == 0)
        check_report(check, "WARN",
                     "give the delivery programs a login that is a member of replygate_writer "
                     "only",
                     "database role %s is a superuser: the delivery programs need far less",
                     PQgetvalue(me, 0, 0));
    else if (strcmp(PQgetvalue(me, 0, 2), "t") != 0)
        check_report(check, "WARN", "run: replygate migrate --create-roles",
                     "database role %s: the role replygate_writer does not exist yet",
                     PQgetvalue(me, 0, 0));
    else if (strcmp(PQgetvalue(me, 0, 3), "t") != 0)
        check_report(check, "FAIL", "GRANT replygate_writer TO the role in `database`",
                     "database role %s is not a member of replygate_writer: the agent cannot store",
                     PQgetvalue(me, 0, 0));
    else
        check_report(check, "OK", NULL, "database role %s is a member of replygate_writer",
                     PQgetvalue(me, 0, 0));
}

/* check_grants - the roles and grants of SPEC section 8 */
static void
check_grants(Check *check, PGconn *conn)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PGresult) present =
        db_exec(conn, "SELECT to_regprocedure('replygate.grant_problems()') IS NOT NULL", 0, NULL,
                NULL, NULL, &error);
    g_autoptr(PGresult) res = NULL;
    const char *fix = "run: replygate migrate --create-roles (as a user with CREATEROLE), or the "
                      "SQL it prints";

    if (present == NULL || strcmp(PQgetvalue(present, 0, 0), "t") != 0)
        return; /* a schema before 0002: the version check says so */
    res = db_exec(conn, "SELECT * FROM replygate.grant_problems()", 0, NULL, NULL, NULL, &error);
    if (res == NULL) {
        check_report(check, "WARN", "run replygate check with the agent's database role",
                     "cannot verify the roles and grants: %s", error->message);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *problem = PQgetvalue(res, i, 0);

        /* Without the roles everything runs as whatever role `database`
         * names: it works, with more privilege than it needs. A role that
         * exists with other grants than SPEC's is a mistake. */
        if (g_str_has_suffix(problem, " does not exist") ||
            g_str_has_suffix(problem, ", not replygate_owner"))
            check_report(check, "WARN", fix, "database roles: %s", problem);
        else
            check_report(check, "FAIL", fix, "database roles: %s", problem);
    }
    if (PQntuples(res) == 0)
        check_report(check, "OK", NULL,
                     "roles replygate_owner, replygate_writer and replygate_app have exactly "
                     "SPEC section 8's grants");
}

/* check_database - reachable, every schema file applied (files, listed
 * from dir before the identity changed), the version, the grants */
static void
check_database(Check *check, const Config *config, const GPtrArray *files, const char *dir)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PGconn) conn = db_connect(config->database, "replygate-check", 5, &error);
    g_autoptr(PGresult) res = NULL;
    g_autoptr(GHashTable) applied = NULL;
    guint missing = 0;
    const char *first_missing = NULL;

    if (conn == NULL) {
        check_report(check, "FAIL", "start PostgreSQL, or correct `database` in the configuration",
                     "database %s is not reachable: %s", config->database, error->message);
        return;
    }
    check_role(check, conn);
    res = db_exec(conn, "SELECT version FROM replygate.schema_migrations", 0, NULL, NULL, NULL,
                  &error);
    if (res == NULL && strstr(error->message, "permission denied") != NULL) {
        check_report(check, "FAIL", "give `database` a role that is a member of replygate_writer",
                     "database %s: %s", config->database, error->message);
        return;
    }
    if (res == NULL) {
        check_report(check, "FAIL", "run: replygate migrate",
                     "database %s has no replygate schema: %s", config->database, error->message);
        return;
    }
    applied = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; i < PQntuples(res); i++)
        g_hash_table_add(applied, PQgetvalue(res, i, 0));
    for (guint i = 0; i < files->len; i++) {
        if (!g_hash_table_contains(applied, g_ptr_array_index(files, i))) {
            missing++;
            if (first_missing == NULL)
                first_missing = g_ptr_array_index(files, i);
        }
    }
    if (files->len == 0)
        check_report(check, "WARN", "install the schema files, or give --sql-dir DIR",
                     "database reachable, but no schema files in %s to compare with", dir);
    else if (missing > 0)
        check_report(check, "FAIL", "run: replygate migrate",
                     "database reachable, but %u schema file%s not applied, from %s", missing,
                     missing == 1 ? " is" : "s are", first_missing);
    else
        check_report(check, "OK", NULL, "database reachable and migrated to %s",
                     (const char *)g_ptr_array_index(files, files->len - 1));
    check_schema_version(check, conn);
    check_grants(check, conn);
}

typedef struct {
    Check *check;
    const Config *config;
    GPtrArray *files; /* the schema files, listed as the caller (root's folder may be 0700) */
    const char *dir;
} DatabaseHop;

/* database_hop - check_database() in the agent's identity; the counts
 * travel back in the exit status */
static int
database_hop(gpointer data)
{
    DatabaseHop *hop = data;
    int failures = hop->check->failures, warnings = hop->check->warnings;

    check_database(hop->check, hop->config, hop->files, hop->dir);
    return MIN(hop->check->failures - failures, 15) * 16 + MIN(hop->check->warnings - warnings, 15);
}

/* check_database_as_agent - the database as the agent reaches it: with
 * peer authentication the Unix user is the role, so root proves nothing */
static void
check_database_as_agent(Check *check, const Config *config)
{
    DatabaseHop hop = {check, config, NULL, NULL};
    g_autoptr(GPtrArray) files = schema_files(check, &hop.dir);
    g_autoptr(GError) error = NULL;
    gboolean switched = FALSE;
    int failures = check->failures, warnings = check->warnings;
    int rc;

    hop.files = files;
    rc = as_user_run(check->agent_user, database_hop, &hop, &switched, &error);

    if (rc < 0) {
        check_report(check, "FAIL", "create the user, or give --user USER",
                     "database not checked: %s", error->message);
        return;
    }
    if (switched) {
        /* The child's counts are not in this process's check: add them. */
        check->failures = failures + rc / 16;
        check->warnings = warnings + rc % 16;
    }
}

/* user_can_write - can user write into dir? Checked by a child that takes the
 * user's identity, so group membership and ACLs count as the kernel sees them. */
static int
user_can_write(const char *user, const char *dir)
{
    struct passwd *pw = getpwnam(user);
    pid_t pid;
    int status;

    if (pw == NULL)
        return -1;
    if (getuid() == pw->pw_uid)
        return access(dir, W_OK | X_OK) == 0;
    if (geteuid() != 0)
        return -2;
    pid = fork();
    if (pid < 0)
        return -2;
    if (pid == 0) {
        if (initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
            _exit(2);
        _exit(access(dir, W_OK | X_OK) == 0 ? 0 : 1);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 2)
        return -2;
    return WEXITSTATUS(status) == 0;
}

/* check_folder - dir exists and the agent's user can write into it */
static void
check_folder(Check *check, const char *what, const char *dir)
{
    g_autofree char *fix = g_strdup_printf("mkdir -p %s && chown %s: %s && chmod 0750 %s", dir,
                                           check->agent_user, dir, dir);
    int can;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        check_report(check, "FAIL", fix, "%s %s does not exist", what, dir);
        return;
    }
    can = user_can_write(check->agent_user, dir);
    if (can == -1)
        check_report(check, "FAIL",
                     "create the user: useradd --system --home-dir /nonexistent --shell "
                     "/usr/sbin/nologin replygate",
                     "%s %s: user %s does not exist", what, dir, check->agent_user);
    else if (can == -2)
        check_report(check, "WARN", "run replygate check as root",
                     "%s %s exists; cannot tell whether user %s may write it", what, dir,
                     check->agent_user);
    else if (can == 0)
        check_report(check, "FAIL", fix, "%s %s is not writable by user %s", what, dir,
                     check->agent_user);
    else
        check_report(check, "OK", NULL, "%s %s is writable by user %s", what, dir,
                     check->agent_user);
}

/* check_folders - the spool and its maildir folders, and the processor log's folder */
static void
check_folders(Check *check, const Config *config)
{
    static const char *const maildir[] = {"new", "success", "failure"};
    g_autofree char *log_dir = g_path_get_dirname(config->processor_log);

    check_folder(check, "spool", config->spool_directory);
    /* The agent makes these when they are missing, but one it cannot write
     * (left behind by root, say) defers every reply. */
    for (gsize i = 0; i < G_N_ELEMENTS(maildir); i++) {
        g_autofree char *sub = g_build_filename(config->spool_directory, maildir[i], NULL);

        if (g_file_test(sub, G_FILE_TEST_IS_DIR))
            check_folder(check, "spool folder", sub);
    }
    check_folder(check, "processor log folder", log_dir);
}

/* special_use_domain - names that public DNS never answers (RFC 6761, 2606) */
static gboolean
special_use_domain(const char *domain)
{
    static const char *const suffixes[] = {".localhost", ".test", ".invalid", ".example", ".local"};

    for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        if (g_str_has_suffix(domain, suffixes[i]) ||
            g_ascii_strcasecmp(domain, suffixes[i] + 1) == 0)
            return TRUE;
    }
    return FALSE;
}

/* dns_answers - does the resolver answer at all? The root zone always has NS
 * records, so a resolver that cannot give them is unreachable or broken, and
 * a missing MX proves nothing. */
static gboolean
dns_answers(res_state state)
{
    unsigned char answer[NS_PACKETSZ * 4];
    ns_msg msg;
    int len = res_nquery(state, ".", ns_c_in, ns_t_ns, answer, sizeof answer);

    return len >= 0 && ns_initparse(answer, len, &msg) == 0 && ns_msg_count(msg, ns_s_an) > 0;
}

/* check_mx - each reply domain has an MX record; a warning when DNS cannot
 * be asked at all */
static void
check_mx(Check *check, const Config *config)
{
    struct __res_state state;

    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) {
        check_report(check, "WARN", "check /etc/resolv.conf",
                     "DNS resolver cannot start: MX records not checked");
        return;
    }
    state.retrans = 2;
    state.retry = 1;
    for (guint i = 0; i < config->reply_domains->len; i++) {
        const char *domain = g_ptr_array_index(config->reply_domains, i);
        unsigned char answer[NS_PACKETSZ * 4];
        int len = res_nquery(&state, domain, ns_c_in, ns_t_mx, answer, sizeof answer);
        g_autofree char *fix =
            g_strdup_printf("publish an MX record for %s naming this host", domain);
        ns_msg msg;

        if (len >= 0 && ns_initparse(answer, len, &msg) == 0 && ns_msg_count(msg, ns_s_an) > 0)
            check_report(check, "OK", NULL, "%s has %d MX record%s", domain,
                         ns_msg_count(msg, ns_s_an), ns_msg_count(msg, ns_s_an) == 1 ? "" : "s");
        else if (special_use_domain(domain))
            check_report(check, "WARN", "use a real domain in production",
                         "%s is a special-use name (RFC 6761) with no MX in public DNS; fine for a "
                         "local stack",
                         domain);
        else if (!dns_answers(&state))
            check_report(check, "WARN", fix,
                         "DNS cannot be reached (no answer for the root zone either): MX of %s not "
                         "checked",
                         domain);
        else if (len >= 0 || state.res_h_errno == HOST_NOT_FOUND || state.res_h_errno == NO_DATA)
            check_report(check, "FAIL", fix, "%s has no MX record", domain);
        else
            check_report(check, "WARN", fix, "DNS cannot be reached to look up the MX of %s (%s)",
                         domain, hstrerror(state.res_h_errno));
    }
    res_nclose(&state);
}

/* cmd_check - run every check; exit 1 when any fails */
int
cmd_check(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *postfix_dir = NULL;
    g_autofree char *agent_user = NULL;
    g_autofree char *sql_dir = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"postfix-config", 0, 0, G_OPTION_ARG_FILENAME, &postfix_dir,
         "Postfix config directory (default $MAIL_CONFIG, else postconf's own)", "DIR"},
        {"user", 0, 0, G_OPTION_ARG_STRING, &agent_user,
         "the user pipe(8) runs replygate-deliver as (replygate)", "USER"},
        {"sql-dir", 0, 0, G_OPTION_ARG_FILENAME, &sql_dir, "folder of the NNNN_*.sql files", "DIR"},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(GError) error = NULL;
    Check check = {0};
    const char *path;

    if (!cli_parse_options("",
                           "Check that this host is ready to take replies: configuration,\n"
                           "secrets, database, spool, Postfix, TLS, milter and MX. One line\n"
                           "per check, OK, WARN or FAIL with the fix; any FAIL exits 1.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 1) {
        fprintf(stderr, "usage: replygate check [--config FILE] [--postfix-config DIR]\n");
        return EX_USAGE;
    }
    check.postfix_dir = postfix_dir;
    check.agent_user = agent_user ? agent_user : "replygate";
    check.sql_dir = sql_dir;

    path = config_resolve_path(config_path);
    config = config_load(path, &error);
    if (config == NULL) {
        check_report(&check, "FAIL", "correct the line named, see replygate.conf(5)", "%s",
                     error->message);
        printf("1 failed: the other checks need the configuration\n");
        return 1;
    }
    check_report(&check, "OK", NULL, "configuration %s parses", path);
    check_secrets(&check, config);
    check_database_as_agent(&check, config);
    check_folders(&check, config);
    check_postfix(&check, config);
    check_tls(&check);
    check_milter_socket(&check, config);
    if (check.lmtp_door)
        check_lmtp(&check, config);
    check_mx(&check, config);
    printf("%d failed, %d warning%s\n", check.failures, check.warnings,
           check.warnings == 1 ? "" : "s");
    return check.failures > 0 ? 1 : 0;
}
