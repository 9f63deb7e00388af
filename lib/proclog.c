/*
 * proclog.c - the processor log, in GitHub Enterprise's metroplex format.
 *
 * One line per event, one write(2) per line on an O_APPEND descriptor, so
 * concurrent agents append whole lines. A failed write is not a reason to
 * lose or defer mail: the message and mail.log carry the truth.
 *
 * The log's folder belongs to the agent's user, who can plant a link or a
 * FIFO there; `replygate replay` opens it as root (issue 13 item 3). So the
 * last name is never followed (O_NOFOLLOW), a new file is created with
 * O_EXCL and handed over with fchown() on the descriptor, and what was
 * opened must be a regular file; for root, with one link, owned by root or
 * the user it acts for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proclog.h"
#include "rg-error.h"

struct ProcLog {
    int fd;
    long pid;
    char *queue_id; /* of the message being handled, or NULL: NOQUEUE */
};

/* proclog_fail - a TEMPFAIL error about the log file */
static void
proclog_fail(GError **error, const char *path, const char *why)
{
    g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot open processor log %s: %s", path, why);
}

/* proclog_open_fd - open path for appending without following a link at its
 * end (O_NOFOLLOW), without blocking on a FIFO; creating it only with
 * O_EXCL when create, so that a name planted meanwhile is never followed */
static int
proclog_open_fd(const char *path, gboolean create)
{
    int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

    if (create)
        flags |= O_CREAT | O_EXCL;
    return open(path, flags, 0640);
}

/* proclog_open_as - see proclog.h */
ProcLog *
proclog_open_as(const char *path, uid_t uid, gid_t gid, GError **error)
{
    ProcLog *log;
    struct stat st;
    int fd = -1;
    gboolean created = FALSE;

    for (int attempt = 0; attempt < 3 && fd < 0; attempt++) {
        fd = proclog_open_fd(path, FALSE);
        if (fd < 0 && errno == ENOENT) {
            fd = proclog_open_fd(path, TRUE);
            created = fd >= 0;
            if (fd < 0 && errno == EEXIST)
                continue; /* made meanwhile: open that one, with the same checks */
        }
        if (fd < 0)
            break;
    }
    /* A new file gets the mode logrotate's "create 0640 replygate adm"
     * gives the next one, whatever the umask (pipe(8) runs us with 077);
     * its group comes from the folder, setgid adm as the install makes it. */
    if (created)
        (void)fchmod(fd, 0640);
    if (fd < 0) {
        int saved = errno;
        proclog_fail(error, path, saved == ELOOP ? "it is a symbolic link" : g_strerror(saved));
        return NULL;
    }
    /* The descriptor, not the name: what was opened is what is judged. */
    if (created && uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
        int saved = errno;
        close(fd);
        proclog_fail(error, path, g_strerror(saved));
        return NULL;
    }
    /* Root also refuses a hard link (it could lead anywhere) and a file of
     * someone else; any other user could only harm its own files. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (geteuid() == 0 && (st.st_nlink != 1 || (st.st_uid != 0 && st.st_uid != uid)))) {
        close(fd);
        proclog_fail(error, path,
                     geteuid() == 0 ? "not a regular file with one link owned by root or the "
                                      "spool's user"
                                    : "not a regular file");
        return NULL;
    }
    fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
    log = g_new0(ProcLog, 1);
    log->fd = fd;
    log->pid = (long)getpid();
    return log;
}

/* proclog_open - see proclog.h */
ProcLog *
proclog_open(const char *path, GError **error)
{
    return proclog_open_as(path, (uid_t)-1, (gid_t)-1, error);
}

/* proclog_close - close the log (NULL-safe) */
void
proclog_close(ProcLog *log)
{
    if (log == NULL)
        return;
    close(log->fd);
    g_free(log->queue_id);
    g_free(log);
}

/* proclog_for_message - a handle of its own for one message: the same file
 * (a dup of the descriptor), its own queue id */
ProcLog *
proclog_for_message(const ProcLog *shared, const char *queue_id)
{
    ProcLog *log;
    int fd;

    if (shared == NULL || (fd = fcntl(shared->fd, F_DUPFD_CLOEXEC, 0)) < 0)
        return NULL;
    log = g_new0(ProcLog, 1);
    log->fd = fd;
    log->pid = shared->pid;
    log->queue_id = g_strdup(queue_id);
    return log;
}

/* proclog_set_queue_id - the queue id the next lines carry (NULL: NOQUEUE) */
void
proclog_set_queue_id(ProcLog *log, const char *queue_id)
{
    if (log == NULL)
        return;
    g_free(log->queue_id);
    log->queue_id = g_strdup(queue_id);
}

/* proclog_format - one whole line with its newline */
char *
proclog_format(GDateTime *when, const char *level, long pid, const char *queue_id, const char *text)
{
    g_autofree char *stamp = g_date_time_format(when, "%Y-%m-%dT%H:%M:%S");
    int ms = g_date_time_get_microsecond(when) / 1000;

    return g_strdup_printf("[%s.%03d %s (%ld) (%s) #] %s\n", stamp, ms, level, pid,
                           queue_id && *queue_id ? queue_id : "NOQUEUE", text);
}

/* proclog_local_zone - the local time zone, looked up once per process.
 * g_date_time_new_now_local() looks it up again for every line, which costs
 * three system calls (two stats and a readlink of /etc/localtime) on every
 * line of every delivery; a change of the host's zone is seen at the next
 * start, as glibc's localtime_r() sees it. */
static GTimeZone *
proclog_local_zone(void)
{
    static GTimeZone *zone;
    static gsize once;

    if (g_once_init_enter(&once)) {
        zone = g_time_zone_new_local();
        g_once_init_leave(&once, 1);
    }
    return zone;
}

/* proclog_write - format and append one line with a single write(2) */
static void
proclog_write(ProcLog *log, const char *level, const char *format, va_list ap)
{
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *text = NULL;
    g_autofree char *line = NULL;
    gsize len;
    ssize_t n;

    if (log == NULL)
        return;
    now = g_date_time_new_now(proclog_local_zone());
    text = g_strdup_vprintf(format, ap);
    line = proclog_format(now, level, log->pid, log->queue_id, text);
    len = strlen(line);
    do {
        n = write(log->fd, line, len);
    } while (n < 0 && errno == EINTR);
    /* A short or failed write is ignored on purpose: see the file comment. */
}

/* proclog_info - an INFO line */
void
proclog_info(ProcLog *log, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    proclog_write(log, "INFO", format, ap);
    va_end(ap);
}

/* proclog_debug - a DEBUG line */
void
proclog_debug(ProcLog *log, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    proclog_write(log, "DEBUG", format, ap);
    va_end(ap);
}

/* proclog_error - an ERROR line */
void
proclog_error(ProcLog *log, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    proclog_write(log, "ERROR", format, ap);
    va_end(ap);
}
