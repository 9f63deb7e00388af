/*
 * serve.c - the main thread as the signal thread, libmilter in a second one.
 *
 * smfi_main() starts its own thread that sigwait()s for SIGHUP, SIGTERM and
 * SIGINT and stops the milter on any of them, SIGHUP included. To make SIGHUP
 * a reload, smfi_main() runs in a second thread and the main thread is the
 * dedicated signal thread: it never blocks these signals and catches them
 * with a handler that only writes the signal number into a pipe. Linux hands
 * a process-directed signal to the main thread whenever that thread does not
 * block it, so libmilter's thread never sees them; the main thread then
 * reloads (SIGHUP) or stops the milter (SIGTERM, SIGINT). A sigwait() loop
 * would leave a window, while it is busy, in which the signal would go to
 * libmilter's thread and stop the milter; the milter suite's SIGHUP storm
 * checks that this does not happen.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "counters.h"
#include "maillog.h"
#include "notify.h"
#include "rg-error.h"
#include "serve.h"
#include "snapshot.h"

/* Written by the signal handler and the milter thread, read by the main thread. */
static int signal_pipe[2] = {-1, -1};

/* on_signal - async-signal-safe: pass the signal number to the main loop */
static void
on_signal(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char)sig;

    if (write(signal_pipe[1], &byte, 1) < 0) {
        /* The pipe is full of signals not yet handled: one more adds nothing. */
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

/* The chores' clock, touched by the main thread only. */
static gint64 next_counters; /* monotonic µs */
static gint64 next_probe;    /* monotonic µs; 0: no watchdog */
static gboolean ready_sent;  /* READY=1 went to systemd */
static char *counters_error; /* the last error writing the counters, logged once */

/* write_counters - the counters file of the current configuration's spool */
static void
write_counters(void)
{
    g_autoptr(Snapshot) snap = snapshot_current();
    g_autoptr(GError) error = NULL;

    if (snap == NULL)
        return;
    if (counters_write(snap->config->spool_directory, &error)) {
        g_clear_pointer(&counters_error, g_free);
        return;
    }
    /* Once per distinct error: a missing spool must not fill mail.log. */
    if (g_strcmp0(counters_error, error->message) != 0)
        maillog_warning("cannot write the decision counters: %s", error->message);
    g_free(counters_error);
    counters_error = g_strdup(error->message);
}

/* probe_and_ping - a round trip on our own socket; READY=1 after the first
 * that succeeds, WATCHDOG=1 after each one */
static void
probe_and_ping(const char *socket, gint64 interval_ms)
{
    const char *why = NULL;
    int timeout = (int)MIN(MAX(interval_ms, 100), 5000);

    if (!notify_probe(socket, timeout, &why)) {
        maillog_warning("watchdog: no milter round trip on %s (%s): no ping sent", socket, why);
        return;
    }
    if (!ready_sent) {
        ready_sent = notify_send("READY=1\nSTATUS=answering on the milter socket");
    }
    if (interval_ms > 0)
        notify_send("WATCHDOG=1");
}

/* serve_chores - what the main thread does each second between signals */
static void
serve_chores(const char *socket)
{
    gint64 now = g_get_monotonic_time();
    gint64 interval = notify_watchdog_interval_ms();

    snapshot_refresh(FALSE);
    if (now >= next_counters) {
        write_counters();
        next_counters = now + COUNTERS_INTERVAL * G_USEC_PER_SEC;
    }
    if (notify_enabled() && (!ready_sent || interval > 0) && now >= next_probe) {
        probe_and_ping(socket, interval);
        next_probe = now + (interval > 0 ? interval : 1000) * 1000;
    }
}

/* serve_catch_signals - SIGHUP, SIGTERM and SIGINT into the pipe, in this thread only */
gboolean
serve_catch_signals(GError **error)
{
    struct sigaction action;

    /* A handler must never block: the write end does not wait when the pipe is full. */
    if (pipe2(signal_pipe, O_CLOEXEC) != 0 ||
        fcntl(signal_pipe[1], F_SETFL, fcntl(signal_pipe[1], F_GETFL) | O_NONBLOCK) != 0) {
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

/* serve_run - run the milter thread; handle signals and chores here until it ends */
int
serve_run(const char *socket)
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
    /* The first chores at once: READY=1 follows the first round trip. */
    serve_chores(socket);

    for (;;) {
        /*
         * After smfi_stop() libmilter's accept loop notices only when its
         * poll() returns, after a timeout of seconds; SIGUSR2 to that
         * thread cuts it short, again every 100 ms in case one came just
         * before the poll began.
         */
        gint64 tick = notify_watchdog_interval_ms();
        int byte = wait_byte(stopping ? 100 : (int)(tick > 0 && tick < 1000 ? tick : 1000));

        if (byte == 0)
            break; /* smfi_main() returned */
        if (byte < 0 && stopping)
            pthread_kill(thread, SIGUSR2);
        else if (byte == SIGHUP && !stopping) {
            notify_send("RELOADING=1");
            snapshot_reload("SIGHUP");
            notify_send("READY=1");
        } else if ((byte == SIGTERM || byte == SIGINT) && !stopping) {
            notify_send("STOPPING=1");
            maillog_info("stopping on signal %d", byte);
            stopping = TRUE;
            /* smfi_stop() waits for a lock the accept loop holds while it polls. */
            have_stopper = pthread_create(&stopper, NULL, stop_thread, NULL) == 0;
            if (!have_stopper)
                smfi_stop();
            pthread_kill(thread, SIGUSR2);
        }
        /* Each chore keeps its own clock, so a storm of signals delays none. */
        if (!stopping)
            serve_chores(socket);
    }
    pthread_join(thread, NULL);
    if (have_stopper) {
        struct timespec deadline;

        /* Let smfi_stop() finish before exit() runs libmilter's own clean-up. */
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 2;
        pthread_timedjoin_np(stopper, NULL, &deadline);
    }
    write_counters();
    if (!stopping || milter_result != MI_SUCCESS) {
        maillog_error("the milter stopped unexpectedly");
        return EX_TEMPFAIL;
    }
    return 0;
}
