/*
 * proclog.c - the processor log, in GitHub Enterprise's metroplex format.
 *
 * One line per event, one write(2) per line on an O_APPEND descriptor, so
 * concurrent agents append whole lines. A failed write is not a reason to
 * lose or defer mail: the message and mail.log carry the truth.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "proclog.h"
#include "rg-error.h"

struct ProcLog {
    int fd;
    long pid;
};

/* proclog_open - open (create, mode 0640) the log for appending */
ProcLog *
proclog_open(const char *path, GError **error)
{
    ProcLog *log;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

    if (fd < 0) {
        int saved = errno;
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot open processor log %s: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    log = g_new0(ProcLog, 1);
    log->fd = fd;
    log->pid = (long)getpid();
    return log;
}

/* proclog_close - close the log (NULL-safe) */
void
proclog_close(ProcLog *log)
{
    if (log == NULL)
        return;
    close(log->fd);
    g_free(log);
}

/* proclog_format - one whole line with its newline */
char *
proclog_format(GDateTime *when, const char *level, long pid, const char *text)
{
    g_autofree char *stamp = g_date_time_format(when, "%Y-%m-%dT%H:%M:%S");
    int ms = g_date_time_get_microsecond(when) / 1000;

    return g_strdup_printf("[%s.%03d %s (%ld) #] %s\n", stamp, ms, level, pid, text);
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
    now = g_date_time_new_now_local();
    text = g_strdup_vprintf(format, ap);
    line = proclog_format(now, level, log->pid, text);
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
