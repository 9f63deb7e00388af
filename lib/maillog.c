/*
 * maillog.c - mail.log lines through syslog(3), facility mail.
 *
 * The ident is "replygate/deliver" or "replygate/milter", so lines read like
 * Postfix's own. Callers escape message text with maillog_escape(): a CR or
 * LF in a header must never start a forged line in the log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "maillog.h"

/* Set once before any thread starts; read-only afterwards. */
static gboolean maillog_stderr;

/* maillog_open - open syslog with the program's ident */
void
maillog_open(const char *ident, gboolean also_stderr)
{
    maillog_stderr = also_stderr;
    /* openlog keeps the pointer: idents are string literals. */
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* maillog_vlog - one line at a priority, after a prefix ("warning: ", ...) */
static void G_GNUC_PRINTF(3, 0)
maillog_vlog(int priority, const char *prefix, const char *format, va_list ap)
{
    g_autofree char *line = g_strdup_vprintf(format, ap);

    syslog(priority, "%s%s", prefix, line);
    if (maillog_stderr)
        fprintf(stderr, "%s%s\n", prefix, line);
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
