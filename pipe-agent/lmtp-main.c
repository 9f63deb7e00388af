/*
 * lmtp-main.c - replygate-lmtpd, the LMTP door of the delivery core.
 *
 *   replygate-lmtpd [--config FILE] [-p SOCKET] [-f] [-u USER] [-P PIDFILE]
 *
 * Postfix's lmtp(8) client delivers the reply domains' mail here (transport
 * replygate-lmtp:unix:replygate/lmtp.sock). Each session runs in a thread;
 * each accepted recipient goes through delivery_run(), the same core the
 * pipe(8) door uses, with a database connection borrowed from a fixed pool.
 *
 * The order of start-up: the configuration is read (a broken one never
 * starts), the socket is opened (as root if need be), the process becomes a
 * daemon and writes its pid file, drops to USER, and only then loads the
 * snapshot it serves with (so the processor log is opened as USER) and
 * starts threads. The daemon steps are the milter's (milter/daemon.c).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "daemon.h"
#include "lmtp-door.h"
#include "maillog.h"
#include "rg-error.h"
#include "spool.h"

#define LMTPD_IDENT "replygate/lmtpd"
#define LMTPD_DEFAULT_PIDFILE "/run/replygate-lmtpd.pid"

typedef struct {
    char *config_path;
    char *socket;
    gboolean foreground;
    char *user;
    char *pidfile;
    gboolean version;
} Options;

/* options_clear - release what the option parser allocated */
static void
options_clear(Options *opt)
{
    g_clear_pointer(&opt->config_path, g_free);
    g_clear_pointer(&opt->socket, g_free);
    g_clear_pointer(&opt->user, g_free);
    g_clear_pointer(&opt->pidfile, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

/* parse_options - the command line; FALSE on a bad option */
static gboolean
parse_options(int *argc, char ***argv, Options *opt, GError **error)
{
    GOptionEntry entries[] = {
        {"config", 0, 0, G_OPTION_ARG_FILENAME, &opt->config_path,
         "configuration file (default $REPLYGATE_CONFIG, then " CONFIG_DEFAULT_PATH ")", "FILE"},
        {"socket", 'p', 0, G_OPTION_ARG_STRING, &opt->socket,
         "listen on SOCKET (unix:/path or inet:port@host) instead of lmtp_socket", "SOCKET"},
        {"foreground", 'f', 0, G_OPTION_ARG_NONE, &opt->foreground,
         "stay in the foreground and log to standard error too", NULL},
        {"user", 'u', 0, G_OPTION_ARG_STRING, &opt->user,
         "drop root privileges to USER once the socket is open", "USER"},
        {"pid-file", 'P', 0, G_OPTION_ARG_FILENAME, &opt->pidfile,
         "pid file (default " LMTPD_DEFAULT_PIDFILE " without -f, none with -f)", "FILE"},
        {"version", 0, 0, G_OPTION_ARG_NONE, &opt->version, "print the version and exit", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);

    g_option_context_set_summary(context, "The replygate LMTP service: replies delivered by "
                                          "Postfix's lmtp(8) into PostgreSQL.");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, argc, argv, error))
        return FALSE;
    if (*argc > 1) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument \"%s\"",
                    (*argv)[1]);
        return FALSE;
    }
    return TRUE;
}

/* absolute_socket - a unix socket's path made absolute, so it can be removed
 * from / at exit (new string) */
static char *
absolute_socket(const char *socket)
{
    const char *path = config_unix_socket_path(socket);

    if (path != NULL && !g_path_is_absolute(path)) {
        g_autofree char *full = g_canonicalize_filename(path, NULL);
        return g_strconcat("unix:", full, NULL);
    }
    return g_strdup(socket);
}

/* log_to_maillog - GLib's own warnings go to mail.log too */
static GLogWriterOutput
log_to_maillog(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
    const char *message = NULL;
    g_autofree char *esc = NULL;

    (void)data;
    if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
        return G_LOG_WRITER_HANDLED;
    for (gsize i = 0; i < n_fields; i++)
        if (fields[i].length < 0 && strcmp(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
    esc = maillog_escape(message);
    maillog_warning("%s", esc);
    return G_LOG_WRITER_HANDLED;
}

/* start - everything up to serving; the exit status on failure, else -1 */
static int
start(Options *opt, LmtpServer *server, GSocketService *service, char **socket)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(Config) config = NULL;
    g_autofree char *pidfile = NULL;
    struct passwd *pw = NULL;
    LmtpSnapshot *snap;

    config = config_load(server->config_path, &error);
    if (config == NULL) {
        fprintf(stderr, "replygate-lmtpd: %s\n", error->message);
        maillog_error("%s", error->message);
        return EX_CONFIG;
    }
    maillog_set_socket(config->syslog_socket);
    *socket = absolute_socket(opt->socket != NULL ? opt->socket : config->lmtp_socket);
    if (opt->user != NULL && (pw = getpwnam(opt->user)) == NULL) {
        fprintf(stderr, "replygate-lmtpd: unknown user \"%s\"\n", opt->user);
        return EX_NOUSER;
    }
    if (opt->pidfile != NULL)
        pidfile = g_canonicalize_filename(opt->pidfile, NULL);
    else if (!opt->foreground)
        pidfile = g_strdup(LMTPD_DEFAULT_PIDFILE);
    if (!lmtp_door_listen(service, *socket, pw, &error) ||
        (!opt->foreground && !daemon_detach(&error))) {
        fprintf(stderr, "replygate-lmtpd: %s\n", error->message);
        maillog_error("%s", error->message);
        return error->domain == RG_ERROR && error->code == RG_ERROR_CONFIG ? EX_CONFIG
                                                                           : EX_TEMPFAIL;
    }
    if ((pidfile != NULL && !daemon_write_pidfile(pidfile, &error)) ||
        (pw != NULL && !daemon_drop_privileges(pw, &error))) {
        maillog_error("%s", error->message);
        return EX_TEMPFAIL;
    }
    /* As USER from here on: the files made now are USER's. */
    snap = lmtp_snapshot_load(server->config_path, NULL, &error);
    if (snap == NULL || !spool_prepare(snap->config->spool_directory, &error)) {
        fprintf(stderr, "replygate-lmtpd: %s\n", error->message);
        maillog_error("%s", error->message);
        lmtp_snapshot_unref(snap);
        return EX_CONFIG;
    }
    lmtp_server_install(server, snap);
    return -1;
}

/* main - start, serve, stop */
int
main(int argc, char **argv)
{
    g_auto(Options) opt = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketService) service = NULL;
    g_autoptr(LmtpDoor) door = NULL;
    g_autofree char *socket = NULL;
    LmtpServer server = {0};
    int status;

    /* Sessions run in threads; OpenSSL must not tear itself down under them. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
    if (!parse_options(&argc, &argv, &opt, &error)) {
        fprintf(stderr, "replygate-lmtpd: %s (try --help)\n", error->message);
        return EX_USAGE;
    }
    if (opt.version) {
        printf("replygate-lmtpd %s\n", REPLYGATE_VERSION);
        return 0;
    }
    maillog_open(LMTPD_IDENT, opt.foreground);
    g_log_set_writer_func(log_to_maillog, NULL, NULL);
    g_mutex_init(&server.lock);
    g_cond_init(&server.changed);
    /* Absolute: the daemon works in / and reloads this path. */
    server.config_path = g_canonicalize_filename(config_resolve_path(opt.config_path), NULL);
    server.hostname = g_strdup(g_get_host_name());
    server.idle = g_cancellable_new();
    service = g_socket_service_new();

    status = start(&opt, &server, service, &socket);
    if (status < 0) {
        maillog_info("started %s on %s, configuration %s", REPLYGATE_VERSION, socket,
                     server.config_path);
        door = lmtp_door_new(&server, service);
        status = lmtp_door_run(door);
        if (config_unix_socket_path(socket) != NULL &&
            unlink(config_unix_socket_path(socket)) != 0 && errno != ENOENT)
            maillog_warning("cannot remove %s: %s", config_unix_socket_path(socket),
                            g_strerror(errno));
        if (opt.pidfile != NULL || !opt.foreground) {
            g_autofree char *pidfile = g_canonicalize_filename(
                opt.pidfile != NULL ? opt.pidfile : LMTPD_DEFAULT_PIDFILE, NULL);
            if (unlink(pidfile) != 0 && errno != ENOENT && errno != EACCES)
                maillog_warning("cannot remove %s: %s", pidfile, g_strerror(errno));
        }
        maillog_info("stopped");
    }
    g_clear_pointer(&door, lmtp_door_free);
    g_clear_object(&service);
    lmtp_server_install(&server, NULL);
    g_object_unref(server.idle);
    g_free(server.hostname);
    g_free(server.config_path);
    g_cond_clear(&server.changed);
    g_mutex_clear(&server.lock);
    return status;
}
