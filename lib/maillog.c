/*
 * maillog.c - mail.log lines in syslog's datagram format, facility mail.
 *
 * The ident is "replygate/deliver" or "replygate/milter", so lines read like
 * Postfix's own. Callers escape message text with maillog_escape(): a CR or
 * LF in a header must never start a forged line in the log.
 *
 * The lines go to the socket that syslog_socket names (replygate.conf(5);
 * /dev/log by default) through a small writer of our own, because syslog(3)
 * can only ever write to /dev/log: a private stack (scripts/up, the tests)
 * points syslog_socket at its own syslog daemon's socket instead. Each line
 * is one datagram in the format syslog(3) sends, "<PRI>Mmm dd hh:mm:ss
 * IDENT[PID]: text"; the daemon adds the host name. As with syslog(3), a line
 * that cannot be sent (no daemon listening) is dropped: logging never stops
 * or delays a delivery.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "maillog.h"

#define MAILLOG_DEFAULT_SOCKET "/dev/log"

/* The ident and the stderr copy are set once before any thread starts; the
 * socket is shared by the milter's threads, so it is used under the lock. */
static gboolean maillog_stderr;
static const char *maillog_ident = "replygate";
static GMutex maillog_lock;
static char *maillog_path;  /* the socket's path; NULL: /dev/log */
static int maillog_fd = -1; /* connected, or -1 */
static int maillog_type;    /* SOCK_DGRAM or SOCK_STREAM, once connected */

/* stderr_is_journal - is standard error systemd's journal? systemd names
 * the stream it connects in $JOURNAL_STREAM ("DEVICE:INODE", systemd.exec(5)).
 * The lines reach the journal through /dev/log already, so a copy on
 * standard error would put every one there, and in /var/log/syslog, twice. */
static gboolean
stderr_is_journal(void)
{
    const char *stream = g_getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char tail;

    return stream != NULL && sscanf(stream, "%llu:%llu%c", &dev, &ino, &tail) == 2 &&
           fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

/* maillog_open - remember the program's ident */
void
maillog_open(const char *ident, gboolean also_stderr)
{
    maillog_stderr = also_stderr && !stderr_is_journal();
    maillog_ident = ident; /* a string literal */
}

/* maillog_set_socket - where the lines go from now on (NULL: /dev/log) */
void
maillog_set_socket(const char *path)
{
    g_mutex_lock(&maillog_lock);
    if (g_strcmp0(path, maillog_path) != 0) {
        g_free(maillog_path);
        maillog_path = g_strdup(path);
        if (maillog_fd >= 0)
            close(maillog_fd);
        maillog_fd = -1;
    }
    g_mutex_unlock(&maillog_lock);
}

/* maillog_connect - connect to the socket, as a datagram socket or, if the
 * daemon listens on a stream socket, as that; -1 when nothing listens */
static int
maillog_connect(const char *path, int *type)
{
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    if (strlen(path) >= sizeof sun.sun_path)
        return -1;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
        int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

        if (fd < 0)
            return -1;
        if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
            *type = types[i];
            return fd;
        }
        close(fd);
        if (errno != EPROTOTYPE)
            return -1;
    }
    return -1;
}

/* maillog_send - send one formatted line, reconnecting once if the daemon
 * was restarted; called with the lock held */
static void
maillog_send(const char *line, gsize len)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        ssize_t n;

        if (maillog_fd < 0) {
            maillog_fd = maillog_connect(maillog_path ? maillog_path : MAILLOG_DEFAULT_SOCKET,
                                         &maillog_type);
            if (maillog_fd < 0)
                return;
        }
        /* A stream socket needs a delimiter; syslog(3) sends a NUL. */
        do {
            n = send(maillog_fd, line, maillog_type == SOCK_STREAM ? len + 1 : len, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n >= 0)
            return;
        close(maillog_fd);
        maillog_fd = -1;
    }
}

/* maillog_vlog - one line at a priority, after a prefix ("warning: ", ...) */
static void G_GNUC_PRINTF(3, 0)
    maillog_vlog(int priority, const char *prefix, const char *format, va_list ap)
{
    g_autofree char *text = g_strdup_vprintf(format, ap);
    g_autofree char *line = NULL;
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    time_t now = time(NULL);

    /* The traditional time stamp, "Dec  6 05:00:00", whatever the locale. */
    localtime_r(&now, &tm);
    line = g_strdup_printf("<%d>%s %2d %02d:%02d:%02d %s[%ld]: %s%s", LOG_MAIL | priority,
                           months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                           maillog_ident, (long)getpid(), prefix, text);
    g_mutex_lock(&maillog_lock);
    maillog_send(line, strlen(line));
    g_mutex_unlock(&maillog_lock);
    if (maillog_stderr)
        fprintf(stderr, "%s%s\n", prefix, text);
}

/* maillog_info - an informational line */
void
maillog_info(const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    maillog_vlog(LOG_INFO, "", format, ap);
    va_end(ap);
}

/* maillog_warning - a warning line, prefixed "warning: " as Postfix does */
void
maillog_warning(const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    maillog_vlog(LOG_WARNING, "warning: ", format, ap);
    va_end(ap);
}

/* maillog_error - an error line, prefixed "error: " */
void
maillog_error(const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    maillog_vlog(LOG_ERR, "error: ", format, ap);
    va_end(ap);
}

/* maillog_escape_len - a copy of len bytes safe to put in a log line */
char *
maillog_escape_len(const char *text, gsize len)
{
    GString *out;
    const char *p = text;
    const char *end = text + len;

    if (text == NULL)
        return g_strdup("");
    out = g_string_sized_new(len + 8);
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x80) {
            gunichar u = g_utf8_get_char_validated(p, end - p);
            if (u == (gunichar)-1 || u == (gunichar)-2) {
                g_string_append_printf(out, "\\x%02X", c);
                p++;
            } else {
                const char *next = g_utf8_next_char(p);
                /* C1 controls (U+0080..U+009F) and line separators could
                 * still break a line in some viewers. */
                if (u < 0xa0 || u == 0x2028 || u == 0x2029)
                    g_string_append_printf(out, "\\u%04X", u);
                else
                    g_string_append_len(out, p, next - p);
                p = next;
            }
            continue;
        }
        switch (c) {
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                g_string_append_printf(out, "\\x%02X", c);
            else
                g_string_append_c(out, (char)c);
        }
        p++;
    }
    return g_string_free(out, FALSE);
}

/* maillog_escape - a copy of a string safe to put in a log line */
char *
maillog_escape(const char *text)
{
    return maillog_escape_len(text, text ? strlen(text) : 0);
}
