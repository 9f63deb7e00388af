/*
 * main.c - replygate-milter: options, the socket, and the order of start-up.
 *
 *   replygate-milter [--config FILE] [-p SOCKET] [-f] [-u USER] [-P PIDFILE]
 *
 * The order matters: the configuration and secrets are loaded first (a
 * broken one never starts), then the socket is opened as root with its mode,
 * group and owner set (listen.c), then the process becomes a daemon and
 * writes its pid file, then drops to USER, and only then do threads start:
 * the refusal writer (refusals.c), libmilter's, and the main thread's
 * signals and chores (serve.c).
 *
 * The signal handling (serve.c) and the daemon steps (daemon.c) live apart;
 * the libmilter callbacks are in callbacks.c, the decisions in decide.c.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <openssl/crypto.h>

#include "callbacks.h"
#include "daemon.h"
#include "listen.h"
#include "maillog.h"
#include "notify.h"
#include "refusals.h"
#include "rg-error.h"
#include "serve.h"
#include "snapshot.h"

#define MILTER_IDENT "replygate/milter"
#define MILTER_DEFAULT_PIDFILE "/run/replygate-milter.pid"

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

/* parse_options - the command line; exits for --help, returns FALSE on a bad option */
static gboolean
parse_options(int *argc, char ***argv, Options *opt, GError **error)
{
    GOptionEntry entries[] = {
        {"config", 0, 0, G_OPTION_ARG_FILENAME, &opt->config_path,
         "configuration file (default $REPLYGATE_CONFIG, then " CONFIG_DEFAULT_PATH ")", "FILE"},
        {"socket", 'p', 0, G_OPTION_ARG_STRING, &opt->socket,
         "listen on SOCKET (unix:/path or inet:port@host) instead of milter_socket", "SOCKET"},
        {"foreground", 'f', 0, G_OPTION_ARG_NONE, &opt->foreground,
         "stay in the foreground and log to standard error too", NULL},
        {"user", 'u', 0, G_OPTION_ARG_STRING, &opt->user,
         "drop root privileges to USER once the socket is open", "USER"},
        {"pid-file", 'P', 0, G_OPTION_ARG_FILENAME, &opt->pidfile,
         "pid file (default " MILTER_DEFAULT_PIDFILE " without -f, none with -f)", "FILE"},
        {"version", 0, 0, G_OPTION_ARG_NONE, &opt->version, "print the version and exit", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);

    g_option_context_set_summary(context,
                                 "The replygate milter: STARTTLS, reply keys and auto-submitted "
                                 "mail checked during the SMTP dialogue.");
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

/* database_conninfo - the database of the current configuration, for the refusal writer */
static char *
database_conninfo(void)
{
    g_autoptr(Snapshot) snap = snapshot_current();

    return snap != NULL ? g_strdup(snap->config->database) : NULL;
}

/* main - start, serve, stop */
int
main(int argc, char **argv)
{
    g_auto(Options) opt = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(Snapshot) snap = NULL;
    g_autofree char *config_path = NULL;
    g_autofree char *socket = NULL;
    struct passwd *pw = NULL;
    g_autofree char *pidfile = NULL;
    int status;

    /*
     * libmilter never joins its session threads, so a transaction may still be
     * verifying a mac when main() returns: OpenSSL must not tear itself down
     * in an atexit handler under it.
     */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
    if (!parse_options(&argc, &argv, &opt, &error)) {
        fprintf(stderr, "replygate-milter: %s (try --help)\n", error->message);
        return EX_USAGE;
    }
    if (opt.version) {
        printf("replygate-milter %s\n", REPLYGATE_VERSION);
        return 0;
    }
    maillog_open(MILTER_IDENT, opt.foreground);
    /* Absolute: the daemon works in / and reloads this path on SIGHUP. */
    config_path = g_canonicalize_filename(config_resolve_path(opt.config_path), NULL);
    snap = snapshot_load(config_path, &error);
    if (snap == NULL) {
        fprintf(stderr, "replygate-milter: %s\n", error->message);
        maillog_error("%s", error->message);
        return EX_CONFIG;
    }
    maillog_set_socket(snap->config->syslog_socket);
    /* A copy: the snapshot that holds milter_socket goes away at the first reload. */
    socket = g_strdup(opt.socket != NULL ? opt.socket : snap->config->milter_socket);
    if (config_unix_socket_path(socket) != NULL &&
        !g_path_is_absolute(config_unix_socket_path(socket))) {
        /* Absolute too, so the socket file can be removed from / at exit. */
        g_autofree char *path = g_canonicalize_filename(config_unix_socket_path(socket), NULL);
        g_free(socket);
        socket = g_strconcat("unix:", path, NULL);
    }
    if (opt.user != NULL && (pw = getpwnam(opt.user)) == NULL) {
        fprintf(stderr, "replygate-milter: unknown user \"%s\"\n", opt.user);
        return EX_NOUSER;
    }
    if (opt.pidfile != NULL)
        pidfile = g_canonicalize_filename(opt.pidfile, NULL);
    else if (!opt.foreground)
        pidfile = g_strdup(MILTER_DEFAULT_PIDFILE);
    if (!callbacks_register(&error) ||
        !listen_open(socket, pw, snap->config->milter_socket_group, &error) ||
        (!opt.foreground && !daemon_detach(&error))) {
        fprintf(stderr, "replygate-milter: %s\n", error->message);
        maillog_error("%s", error->message);
        return error->code == RG_ERROR_CONFIG ? EX_CONFIG : EX_TEMPFAIL;
    }
    if ((pidfile != NULL && !daemon_write_pidfile(pidfile, &error)) ||
        (pw != NULL && !daemon_drop_privileges(pw, &error)) || !serve_catch_signals(&error)) {
        maillog_error("%s", error->message);
        return EX_TEMPFAIL;
    }
    snapshot_install(g_steal_pointer(&snap));
    snapshot_reloader_init(config_path, opt.socket != NULL ? NULL : socket);
    notify_init();
    if (!refusals_start(database_conninfo, &error)) {
        maillog_error("%s", error->message);
        return EX_TEMPFAIL;
    }
    maillog_info("started %s on %s, configuration %s", REPLYGATE_VERSION, socket, config_path);
    status = serve_run(socket);
    refusals_stop(2000);
    /* A stale socket file would only make Postfix's connects fail slower. */
    if (config_unix_socket_path(socket) != NULL && unlink(config_unix_socket_path(socket)) != 0 &&
        errno != ENOENT)
        maillog_warning("cannot remove %s: %s", config_unix_socket_path(socket), g_strerror(errno));
    /* After -u the pid file may no longer be ours to remove; that is harmless. */
    if (pidfile != NULL && unlink(pidfile) != 0 && errno != ENOENT && errno != EACCES)
        maillog_warning("cannot remove %s: %s", pidfile, g_strerror(errno));
    maillog_info("stopped");
    return status;
}
