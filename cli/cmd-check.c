/*
 * cmd-check.c - `replygate check`: is this host ready to take replies?
 *
 * The counterpart of GitLab's incoming_email:check and GitHub Enterprise's
 * "test email settings". Each check prints one line, OK, WARN or FAIL, and
 * every line that is not OK says how to fix it. Any FAIL exits 1.
 *
 * Postfix's settings are read with postconf(1), from --postfix-config DIR or
 * $MAIL_CONFIG (Postfix's own convention), or the default /etc/postfix.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pwd.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "db.h"
#include "rg-autoptr.h"
#include "rg-error.h"

/* A certificate that expires sooner than this fails the check. */
#define CHECK_CERT_DAYS 14

typedef struct {
    const char *postfix_dir; /* or NULL for postconf's default */
    const char *agent_user;
    const char *sql_dir;
    int failures;
    int warnings;
} Check;

G_DEFINE_AUTOPTR_CLEANUP_FUNC(X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EVP_PKEY, EVP_PKEY_free)

/* report - print one line: OK, WARN or FAIL, the finding, and for the last
 * two the fix */
static void G_GNUC_PRINTF(4, 5)
    report(Check *check, const char *status, const char *fix, const char *format, ...)
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

/* postconf - one parameter's expanded value, or NULL when postconf fails */
static char *
postconf(const Check *check, const char *flag, const char *name, GError **error)
{
    const char *argv[6];
    int n = 0, status = 0;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    argv[n++] = "postconf";
    if (check->postfix_dir) {
        argv[n++] = "-c";
        argv[n++] = check->postfix_dir;
    }
    argv[n++] = flag;
    argv[n++] = name;
    argv[n] = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, error))
        return NULL;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "postconf %s %s: %s", flag, name,
                    g_strstrip(err));
        return NULL;
    }
    return g_strdup(g_strstrip(out));
}

/* postmap_query - the value a Postfix table gives for key, or NULL */
static char *
postmap_query(const Check *check, const char *table, const char *key)
{
    const char *argv[7];
    int n = 0, status = 0;
    g_autofree char *out = NULL;

    argv[n++] = "postmap";
    if (check->postfix_dir) {
        argv[n++] = "-c";
        argv[n++] = check->postfix_dir;
    }
    argv[n++] = "-q";
    argv[n++] = key;
    argv[n++] = table;
    argv[n] = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return NULL;
    return g_strdup(g_strstrip(out));
}

/* split_list - a Postfix list (white space and commas) into items; {braces}
 * keep what they enclose together, as in inline:{a=b, c=d} */
static GPtrArray *
split_list(const char *text)
{
    GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
    GString *item = g_string_new(NULL);
    int depth = 0;

    for (const char *p = text ? text : "";; p++) {
        if (*p == '{')
            depth++;
        else if (*p == '}' && depth > 0)
            depth--;
        if (*p == '\0' || (depth == 0 && (g_ascii_isspace(*p) || *p == ','))) {
            if (item->len > 0)
                g_ptr_array_add(items, g_strdup(item->str));
            g_string_truncate(item, 0);
            if (*p == '\0')
                break;
        } else {
            g_string_append_c(item, *p);
        }
    }
    g_string_free(item, TRUE);
    return items;
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
        report(check, "FAIL", fix, "%s", error->message);
        return;
    }
    if (stat(config->secrets_file, &st) == 0)
        report(check, "OK", NULL, "secrets file %s: %u secret%s, mode %04o", config->secrets_file,
               ring->secrets->len, ring->secrets->len == 1 ? "" : "s", st.st_mode & 07777);
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

/* check_database - reachable, and every schema file applied */
static void
check_database(Check *check, const Config *config)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PGconn) conn = db_connect(config->database, "replygate-check", 5, &error);
    g_autoptr(PGresult) res = NULL;
    g_autoptr(GPtrArray) files = NULL;
    g_autoptr(GHashTable) applied = NULL;
    const char *dir = NULL;
    guint missing = 0;
    const char *first_missing = NULL;

    if (conn == NULL) {
        report(check, "FAIL", "start PostgreSQL, or correct `database` in the configuration",
               "database %s is not reachable: %s", config->database, error->message);
        return;
    }
    res = db_exec(conn, "SELECT version FROM replygate.schema_migrations", 0, NULL, NULL, NULL,
                  &error);
    if (res == NULL) {
        report(check, "FAIL", "run: replygate migrate", "database %s has no replygate schema: %s",
               config->database, error->message);
        return;
    }
    applied = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; i < PQntuples(res); i++)
        g_hash_table_add(applied, PQgetvalue(res, i, 0));
    files = schema_files(check, &dir);
    for (guint i = 0; i < files->len; i++) {
        if (!g_hash_table_contains(applied, g_ptr_array_index(files, i))) {
            missing++;
            if (first_missing == NULL)
                first_missing = g_ptr_array_index(files, i);
        }
    }
    if (files->len == 0)
        report(check, "WARN", "install the schema files, or give --sql-dir DIR",
               "database reachable, but no schema files in %s to compare with", dir);
    else if (missing > 0)
        report(check, "FAIL", "run: replygate migrate",
               "database reachable, but %u schema file%s not applied, from %s", missing,
               missing == 1 ? " is" : "s are", first_missing);
    else
        report(check, "OK", NULL, "database reachable and migrated to %s",
               (const char *)g_ptr_array_index(files, files->len - 1));
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
        report(check, "FAIL", fix, "%s %s does not exist", what, dir);
        return;
    }
    can = user_can_write(check->agent_user, dir);
    if (can == -1)
        report(check, "FAIL",
               "create the user: useradd --system --home-dir /nonexistent --shell "
               "/usr/sbin/nologin replygate",
               "%s %s: user %s does not exist", what, dir, check->agent_user);
    else if (can == -2)
        report(check, "WARN", "run replygate check as root",
               "%s %s exists; cannot tell whether user %s may write it", what, dir,
               check->agent_user);
    else if (can == 0)
        report(check, "FAIL", fix, "%s %s is not writable by user %s", what, dir,
               check->agent_user);
    else
        report(check, "OK", NULL, "%s %s is writable by user %s", what, dir, check->agent_user);
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

/* same_milter - does a Postfix smtpd_milters item name the configured socket?
 * Postfix writes unix:path (relative to its queue directory) and
 * inet:host:port; libmilter writes unix:/path and inet:port@host. */
static gboolean
same_milter(const char *postfix_item, const char *queue_dir, const char *milter_socket)
{
    const char *mine = config_unix_socket_path(milter_socket);
    const char *theirs = config_unix_socket_path(postfix_item);

    if (mine && theirs) {
        g_autofree char *full =
            theirs[0] == '/' ? g_strdup(theirs) : g_build_filename(queue_dir, theirs, NULL);
        g_autofree char *a = g_canonicalize_filename(full, NULL);
        g_autofree char *b = g_canonicalize_filename(mine, NULL);
        return strcmp(a, b) == 0;
    }
    if (g_str_has_prefix(milter_socket, "inet:") && g_str_has_prefix(postfix_item, "inet:")) {
        const char *at = strchr(milter_socket, '@');
        g_autofree char *port =
            at ? g_strndup(milter_socket + 5, at - milter_socket - 5) : g_strdup(milter_socket + 5);
        g_autofree char *host_port = g_strdup_printf("%s:%s", at ? at + 1 : "localhost", port);
        return g_ascii_strcasecmp(postfix_item + 5, host_port) == 0;
    }
    return g_strcmp0(postfix_item, milter_socket) == 0;
}

/* check_postfix - transport, relay domain, pipe service, milter, tempfail */
static void
check_postfix(Check *check, const Config *config)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *transport_maps = postconf(check, "-xh", "transport_maps", &error);
    g_autofree char *relay_domains = NULL;
    g_autofree char *milters = NULL;
    g_autofree char *default_action = NULL;
    g_autofree char *queue_dir = NULL;
    g_autoptr(GPtrArray) tables = NULL;
    g_autoptr(GPtrArray) relays = NULL;
    g_autoptr(GPtrArray) milter_items = NULL;
    g_autofree char *transport = NULL;
    const char *where = check->postfix_dir ? check->postfix_dir : "the default Postfix config";
    gboolean found_milter = FALSE;

    if (transport_maps == NULL) {
        report(check, "FAIL", "install Postfix, or give --postfix-config DIR",
               "cannot read Postfix's settings (%s): %s", where, error->message);
        return;
    }
    relay_domains = postconf(check, "-xh", "relay_domains", NULL);
    milters = postconf(check, "-xh", "smtpd_milters", NULL);
    default_action = postconf(check, "-xh", "milter_default_action", NULL);
    queue_dir = postconf(check, "-xh", "queue_directory", NULL);
    tables = split_list(transport_maps);
    relays = split_list(relay_domains);
    milter_items = split_list(milters);

    /* Each reply domain: a relay domain, sent to one transport. */
    for (guint i = 0; i < config->reply_domains->len; i++) {
        const char *domain = g_ptr_array_index(config->reply_domains, i);
        g_autofree char *value = NULL;
        gboolean relayed = FALSE;

        for (guint t = 0; t < tables->len && value == NULL; t++)
            value = postmap_query(check, g_ptr_array_index(tables, t), domain);
        for (guint r = 0; r < relays->len; r++)
            relayed = relayed || g_ascii_strcasecmp(g_ptr_array_index(relays, r), domain) == 0;
        if (value == NULL || strchr(value, ':') == NULL)
            report(check, "FAIL", "apply postfix-conf/main.cf (scripts/install)",
                   "Postfix transport_maps does not send %s to the replygate transport", domain);
        else if (!relayed)
            report(check, "FAIL", "apply postfix-conf/main.cf (scripts/install)",
                   "Postfix relay_domains does not list %s", domain);
        else {
            report(check, "OK", NULL, "Postfix sends %s to transport %s", domain, value);
            if (transport == NULL)
                transport = g_strndup(value, strchr(value, ':') - value);
        }
    }

    /* The pipe service that transport names. */
    if (transport != NULL) {
        g_autofree char *service = g_strdup_printf("%s/unix", transport);
        g_autofree char *entry = postconf(check, "-Mf", service, NULL);
        g_autofree char *limit_name = g_strdup_printf("%s_destination_recipient_limit", transport);
        g_autofree char *limit = postconf(check, "-xh", limit_name, NULL);

        if (entry == NULL || *entry == '\0')
            report(check, "FAIL", "apply postfix-conf/master.cf (scripts/install)",
                   "Postfix master.cf has no service %s", service);
        else if (strstr(entry, " pipe") == NULL || strstr(entry, "replygate-deliver") == NULL ||
                 strstr(entry, "user=") == NULL)
            report(check, "FAIL", "apply postfix-conf/master.cf (scripts/install)",
                   "Postfix service %s is not pipe(8) running replygate-deliver", service);
        else if (limit == NULL || strcmp(limit, "1") != 0)
            report(check, "FAIL", "postconf -e '%s = 1'",
                   "Postfix %s is %s, not 1: one recipient per delivery", limit_name,
                   limit ? limit : "unset");
        else
            report(check, "OK", NULL,
                   "Postfix service %s pipes to replygate-deliver, one recipient each", service);
    }

    for (guint i = 0; i < milter_items->len; i++)
        found_milter = found_milter || same_milter(g_ptr_array_index(milter_items, i),
                                                   queue_dir ? queue_dir : "/var/spool/postfix",
                                                   config->milter_socket);
    if (!found_milter)
        report(check, "FAIL", "apply postfix-conf/main.cf (scripts/install)",
               "Postfix smtpd_milters (%s) does not include %s", milters ? milters : "",
               config->milter_socket);
    else
        report(check, "OK", NULL, "Postfix smtpd_milters includes %s", config->milter_socket);
    if (g_strcmp0(default_action, "tempfail") != 0)
        report(check, "FAIL", "postconf -e 'milter_default_action = tempfail'",
               "Postfix milter_default_action is %s: mail could pass unfiltered while the "
               "milter is down",
               default_action ? default_action : "unknown");
    else
        report(check, "OK", NULL, "Postfix milter_default_action = tempfail");
}

/* check_tls - smtpd's certificate and key: readable, a pair, valid today and
 * for CHECK_CERT_DAYS more, naming myhostname */
static void
check_tls(Check *check)
{
    g_autofree char *cert_file = postconf(check, "-xh", "smtpd_tls_cert_file", NULL);
    g_autofree char *key_file = postconf(check, "-xh", "smtpd_tls_key_file", NULL);
    g_autofree char *host = postconf(check, "-xh", "myhostname", NULL);
    g_autoptr(X509) cert = NULL;
    g_autoptr(EVP_PKEY) key = NULL;
    const char *fix = "set smtpd_tls_cert_file and smtpd_tls_key_file to a certificate for "
                      "myhostname and its key";
    time_t soon = time(NULL) + CHECK_CERT_DAYS * 86400;
    FILE *fp;

    if (cert_file == NULL || *cert_file == '\0') {
        report(check, "FAIL", fix, "Postfix has no smtpd_tls_cert_file: STARTTLS is not offered");
        return;
    }
    if ((fp = fopen(cert_file, "r")) == NULL) {
        report(check, "FAIL", fix, "TLS certificate %s cannot be read: %s", cert_file,
               g_strerror(errno));
        return;
    }
    cert = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (cert == NULL) {
        report(check, "FAIL", fix, "TLS certificate %s is not a PEM certificate", cert_file);
        return;
    }
    if (key_file == NULL || *key_file == '\0')
        key_file = g_strdup(cert_file);
    if ((fp = fopen(key_file, "r")) == NULL) {
        report(check, "FAIL", fix, "TLS key %s cannot be read: %s", key_file, g_strerror(errno));
        return;
    }
    key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    if (key == NULL || X509_check_private_key(cert, key) != 1) {
        report(check, "FAIL", fix, "TLS key %s is not the key of certificate %s", key_file,
               cert_file);
        return;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
        report(check, "FAIL", fix, "TLS certificate %s is not valid yet", cert_file);
    else if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
        report(check, "FAIL", fix, "TLS certificate %s has expired", cert_file);
    else if (X509_cmp_time(X509_get0_notAfter(cert), &soon) <= 0)
        report(check, "FAIL", "renew the certificate", "TLS certificate %s expires within %d days",
               cert_file, CHECK_CERT_DAYS);
    else if (host == NULL || X509_check_host(cert, host, 0, 0, NULL) != 1)
        report(check, "FAIL", fix, "TLS certificate %s does not name the host %s", cert_file,
               host ? host : "(unknown myhostname)");
    else
        report(check, "OK", NULL,
               "TLS certificate %s and key readable, valid for %d days more at least, names %s",
               cert_file, CHECK_CERT_DAYS, host);
}

/* check_milter - the milter's socket accepts a connection */
static void
check_milter(Check *check, const Config *config)
{
    const char *path = config_unix_socket_path(config->milter_socket);
    const char *fix = "start replygate-milter (systemctl start replygate-milter); while it is "
                      "down Postfix answers 4xx to every sender";
    int fd = -1, ok = 0, err = 0;

    if (path != NULL) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        if (strlen(path) >= sizeof sun.sun_path) {
            report(check, "FAIL", "use a shorter milter_socket path",
                   "milter socket path %s is too long", path);
            return;
        }
        strcpy(sun.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
        err = errno;
    } else if (g_str_has_prefix(config->milter_socket, "inet:")) {
        const char *spec = config->milter_socket + 5;
        const char *at = strchr(spec, '@');
        g_autofree char *port = at ? g_strndup(spec, at - spec) : g_strdup(spec);
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;

        if (getaddrinfo(at ? at + 1 : "localhost", port, &hints, &ai) == 0) {
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
            err = errno;
            freeaddrinfo(ai);
        } else {
            err = EADDRNOTAVAIL;
        }
    }
    if (fd >= 0)
        close(fd);
    if (ok)
        report(check, "OK", NULL, "milter socket %s accepts connections", config->milter_socket);
    else
        report(check, "FAIL", fix, "milter socket %s refuses connections: %s",
               config->milter_socket, g_strerror(err));
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
        report(check, "WARN", "check /etc/resolv.conf",
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
            report(check, "OK", NULL, "%s has %d MX record%s", domain, ns_msg_count(msg, ns_s_an),
                   ns_msg_count(msg, ns_s_an) == 1 ? "" : "s");
        else if (special_use_domain(domain))
            report(check, "WARN", "use a real domain in production",
                   "%s is a special-use name (RFC 6761) with no MX in public DNS; fine for a "
                   "local stack",
                   domain);
        else if (!dns_answers(&state))
            report(check, "WARN", fix,
                   "DNS cannot be reached (no answer for the root zone either): MX of %s not "
                   "checked",
                   domain);
        else if (len >= 0 || state.res_h_errno == HOST_NOT_FOUND || state.res_h_errno == NO_DATA)
            report(check, "FAIL", fix, "%s has no MX record", domain);
        else
            report(check, "WARN", fix, "DNS cannot be reached to look up the MX of %s (%s)", domain,
                   hstrerror(state.res_h_errno));
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
        report(&check, "FAIL", "correct the line named, see replygate.conf(5)", "%s",
               error->message);
        printf("1 failed: the other checks need the configuration\n");
        return 1;
    }
    report(&check, "OK", NULL, "configuration %s parses", path);
    check_secrets(&check, config);
    check_database(&check, config);
    check_folders(&check, config);
    check_postfix(&check, config);
    check_tls(&check);
    check_milter(&check, config);
    check_mx(&check, config);
    printf("%d failed, %d warning%s\n", check.failures, check.warnings,
           check.warnings == 1 ? "" : "s");
    return check.failures > 0 ? 1 : 0;
}
