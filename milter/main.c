/*
 * main.c - replygate-milter: options, socket, daemon, privileges, signals.
 *
 *   replygate-milter [--config FILE] [-p SOCKET] [-f] [-u USER] [-P PIDFILE]
 *
 * The order matters: the configuration and secrets are loaded first (a
 * broken one never starts), then the socket is opened as root, then the
 * process becomes a daemon and writes its pid file, then drops to USER, and
 * only then do threads start.
 *
 * Signals. smfi_main() starts its own thread that sigwait()s for SIGHUP,
 * SIGTERM and SIGINT and stops the milter on any of them, SIGHUP included.
 * To make SIGHUP a reload, smfi_main() runs in a second thread and the main
 * thread is the dedicated signal thread: it never blocks these signals and
 * catches them with a handler that only writes the signal number into a
 * pipe. Linux hands a process-directed signal to the main thread whenever
 * that thread does not block it, so libmilter's thread never sees them; the
 * main thread then reloads (SIGHUP) or calls smfi_stop() (SIGTERM, SIGINT).
 * A sigwait() loop would leave a window, while it is busy, in which the
 * signal would go to libmilter's thread and stop the milter.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <openssl/crypto.h>

#include "callbacks.h"
#include "maillog.h"
#include "rg-error.h"
#include "snapshot.h"

#define MILTER_IDENT "replygate/milter"
#define MILTER_DEFAULT_PIDFILE "/run/replygate-milter.pid"

/* Written by the signal handler, read by the main thread. */
static int signal_pipe[2] = {-1, -1};

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

/* on_signal - async-signal-safe: pass the signal number to the main loop */
static void
on_signal(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char)sig;

    if (write(signal_pipe[1], &byte, 1) < 0) {
        /* The pipe is full of pending signals already: nothing is lost. */
    }
    errno = saved;
}

/* milter_thread - run libmilter's accept loop; tell the main loop when it ends */
static void *
milter_thread(void *data)
{
    int *result = data;
    unsigned char byte = 0;

    *result = smfi_main();
    if (write(signal_pipe[1], &byte, 1) < 0)
        maillog_error("cannot wake the main thread: %s", g_strerror(errno));
    return NULL;
}

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

/* unix_socket_path - the file of a unix: or local: socket, else NULL */
static const char *
unix_socket_path(const char *socket)
{
    if (g_str_has_prefix(socket, "unix:"))
        return socket + 5;
    if (g_str_has_prefix(socket, "local:"))
        return socket + 6;
    if (socket[0] == '/')
        return socket;
    return NULL;
}

/* open_socket - register the callbacks and open the listening socket */
static gboolean
open_socket(const char *socket, const struct passwd *pw, GError **error)
{
    const char *path = unix_socket_path(socket);

    if (smfi_setconn((char *)socket) != MI_SUCCESS) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "bad milter socket \"%s\"", socket);
        return FALSE;
    }
    if (!callbacks_register(error))
        return FALSE;
    if (path != NULL) {
        g_autofree char *dir = g_path_get_dirname(path);
        if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
            g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "socket folder %s does not exist", dir);
            return FALSE;
        }
    }
    /* TRUE: remove a socket file left over by a previous run. */
    if (smfi_opensocket(TRUE) != MI_SUCCESS) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot open milter socket %s", socket);
        return FALSE;
    }
    /* The socket's mode follows the umask; its group, the folder's (setgid). */
    if (path != NULL && pw != NULL && chown(path, pw->pw_uid, (gid_t)-1) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot give %s to %s: %s", path,
                    pw->pw_name, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* daemonize - detach from the terminal and the session that started us */
static gboolean
daemonize(GError **error)
{
    pid_t pid;
    int fd;

    for (int round = 0; round < 2; round++) {
        /* Twice, so the daemon is not a session leader and never gets a terminal. */
        pid = fork();
        if (pid < 0) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "fork: %s", g_strerror(errno));
            return FALSE;
        }
        if (pid > 0)
            _exit(0);
        if (round == 0 && setsid() < 0) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "setsid: %s", g_strerror(errno));
            return FALSE;
        }
    }
    if (chdir("/") != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "chdir /: %s", g_strerror(errno));
        return FALSE;
    }
    fd = open("/dev/null", O_RDWR);
    if (fd < 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "/dev/null: %s", g_strerror(errno));
        return FALSE;
    }
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
    return TRUE;
}

/* write_pidfile - the daemon's pid, one line */
static gboolean
write_pidfile(const char *path, GError **error)
{
    g_autofree char *text = g_strdup_printf("%ld\n", (long)getpid());

    return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

/* drop_privileges - become USER for good; refuse if root could be regained */
static gboolean
drop_privileges(const struct passwd *pw, GError **error)
{
    if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
        return TRUE;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot become %s: %s", pw->pw_name,
                    g_strerror(errno));
        return FALSE;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "root regained after becoming %s",
                    pw->pw_name);
        return FALSE;
    }
    return TRUE;
}

/* reload - SIGHUP: load a new snapshot; a broken one keeps the old. config_socket
 * is the milter_socket listened on, NULL when -p chose the socket */
static void
reload(const char *config_path, const char *config_socket)
{
    g_autoptr(GError) error = NULL;
    Snapshot *fresh = snapshot_load(config_path, &error);

    if (fresh == NULL) {
        maillog_error("reload failed, keeping the previous configuration: %s", error->message);
        return;
    }
    if (config_socket != NULL && strcmp(config_socket, fresh->config->milter_socket) != 0)
        maillog_warning("milter_socket changed to %s: it takes effect at the next start",
                        fresh->config->milter_socket);
    snapshot_install(fresh);
    maillog_info("configuration reloaded from %s", config_path);
}

/* catch_signals - SIGHUP, SIGTERM and SIGINT into the pipe, in this thread only */
static gboolean
catch_signals(GError **error)
{
    struct sigaction action;

    if (pipe2(signal_pipe, O_CLOEXEC) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "pipe: %s", g_strerror(errno));
        return FALSE;
    }
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    /* SA_NODEFER: never blocked here, even inside the handler (see the top). */
    action.sa_flags = SA_RESTART | SA_NODEFER;
    if (sigaction(SIGHUP, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0 ||
        sigaction(SIGINT, &action, NULL) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "sigaction: %s", g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* on_wake - SIGUSR2 does nothing but interrupt the milter thread's poll() */
static void
on_wake(int sig)
{
    (void)sig;
}

/* stop_thread - smfi_stop(), which may block until the accept loop wakes */
static void *
stop_thread(void *data)
{
    (void)data;
    smfi_stop();
    return NULL;
}

/* wait_byte - the next byte from the signal pipe; 0 when smfi_main() returned,
 * -1 when timeout_ms (or -1: no timeout) passed first */
static int
wait_byte(int timeout_ms)
{
    struct pollfd pfd = {.fd = signal_pipe[0], .events = POLLIN};
    unsigned char byte;
    ssize_t n;

    for (;;) {
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue; /* a signal: its byte is in the pipe now */
        if (r == 0)
            return -1;
        n = read(signal_pipe[0], &byte, 1);
        if (n < 0 && errno == EINTR)
            continue;
        return n == 1 ? byte : 0;
    }
}

/* serve - run the milter thread; handle signals here until it ends (config_socket: see reload) */
static int
serve(const char *config_path, const char *config_socket)
{
    sigset_t set;
    struct sigaction wake;
    int milter_result = MI_FAILURE;
    gboolean stopping = FALSE;
    gboolean have_stopper = FALSE;
    pthread_t thread;
    pthread_t stopper;

    /* Threads started from here on block the signals; this thread takes them. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    memset(&wake, 0, sizeof wake);
    wake.sa_handler = on_wake;
    sigemptyset(&wake.sa_mask);
    sigaction(SIGUSR2, &wake, NULL);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (pthread_create(&thread, NULL, milter_thread, &milter_result) != 0) {
        maillog_error("cannot start the milter thread");
        return EX_TEMPFAIL;
    }
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    for (;;) {
        /*
         * After smfi_stop() libmilter's accept loop notices only when its
         * poll() returns, after a timeout of seconds; SIGUSR2 to that
         * thread cuts it short, again every 100 ms in case one came just
         * before the poll began.
         */
        int byte = wait_byte(stopping ? 100 : -1);

        if (byte == 0)
            break; /* smfi_main() returned */
        if (byte < 0)
            pthread_kill(thread, SIGUSR2);
        else if (byte == SIGHUP && !stopping)
            reload(config_path, config_socket);
        else if ((byte == SIGTERM || byte == SIGINT) && !stopping) {
            maillog_info("stopping on signal %d", byte);
            stopping = TRUE;
            /* smfi_stop() waits for a lock the accept loop holds while it polls. */
            have_stopper = pthread_create(&stopper, NULL, stop_thread, NULL) == 0;
            if (!have_stopper)
                smfi_stop();
            pthread_kill(thread, SIGUSR2);
        }
    }
    pthread_join(thread, NULL);
    if (have_stopper) {
        struct timespec deadline;

        /* Let smfi_stop() finish before exit() runs libmilter's own clean-up. */
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 2;
        pthread_timedjoin_np(stopper, NULL, &deadline);
    }
    if (!stopping || milter_result != MI_SUCCESS) {
        maillog_error("the milter stopped unexpectedly");
        return EX_TEMPFAIL;
    }
    return 0;
}

/* main - start, serve, stop */
int
main(int argc, char **argv)
{
    g_auto(Options) opt = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(Snapshot) snap = NULL;
    const char *config_path;
    g_autofree char *socket = NULL;
    struct passwd *pw = NULL;
    const char *pidfile;
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
    config_path = config_resolve_path(opt.config_path);
    snap = snapshot_load(config_path, &error);
    if (snap == NULL) {
        fprintf(stderr, "replygate-milter: %s\n", error->message);
        maillog_error("%s", error->message);
        return EX_CONFIG;
    }
    /* A copy: the snapshot that holds milter_socket goes away at the first reload. */
    socket = g_strdup(opt.socket != NULL ? opt.socket : snap->config->milter_socket);
    if (opt.user != NULL && (pw = getpwnam(opt.user)) == NULL) {
        fprintf(stderr, "replygate-milter: unknown user \"%s\"\n", opt.user);
        return EX_NOUSER;
    }
    if (!open_socket(socket, pw, &error) || (!opt.foreground && !daemonize(&error))) {
        fprintf(stderr, "replygate-milter: %s\n", error->message);
        maillog_error("%s", error->message);
        return error->code == RG_ERROR_CONFIG ? EX_CONFIG : EX_TEMPFAIL;
    }
    pidfile = opt.pidfile != NULL ? opt.pidfile : opt.foreground ? NULL : MILTER_DEFAULT_PIDFILE;
    if ((pidfile != NULL && !write_pidfile(pidfile, &error)) ||
        (pw != NULL && !drop_privileges(pw, &error)) || !catch_signals(&error)) {
        maillog_error("%s", error->message);
        return EX_TEMPFAIL;
    }
    snapshot_install(g_steal_pointer(&snap));
    maillog_info("started %s on %s, configuration %s", REPLYGATE_VERSION, socket, config_path);
    status = serve(config_path, opt.socket != NULL ? NULL : socket);
    /* A stale socket file would only make Postfix's connects fail slower. */
    if (unix_socket_path(socket) != NULL && unlink(unix_socket_path(socket)) != 0 &&
        errno != ENOENT)
        maillog_warning("cannot remove %s: %s", unix_socket_path(socket), g_strerror(errno));
    /* After -u the pid file may no longer be ours to remove; that is harmless. */
    if (pidfile != NULL && unlink(pidfile) != 0 && errno != ENOENT && errno != EACCES)
        maillog_warning("cannot remove %s: %s", pidfile, g_strerror(errno));
    maillog_info("stopped");
    return status;
}
