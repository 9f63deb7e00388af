/*
 * maillog.h - mail.log lines through syslog, facility mail (SPEC section 6).
 *
 * The lines go to the socket replygate.conf's syslog_socket names
 * (maillog_set_socket(); /dev/log until then).
 *
 * Lines have Postfix's shape: "QUEUEID: reject: RCPT from host[addr]: ...".
 * Text that comes from a message must go through maillog_escape() first, so a
 * CR or LF in a header can never forge a log line.
 */
#ifndef RG_MAILLOG_H
#define RG_MAILLOG_H

#include <glib.h>

/* maillog_open - ident is "replygate/deliver" or "replygate/milter"; also_stderr
 * copies every line to standard error (foreground use and tests), unless
 * standard error is systemd's journal ($JOURNAL_STREAM), which has the lines
 * from syslog already */
void maillog_open(const char *ident, gboolean also_stderr);

/* maillog_set_socket - the syslog socket the lines go to from now on, normally
 * the configuration's syslog_socket (NULL: /dev/log) */
void maillog_set_socket(const char *path);

/* maillog_info, maillog_warning, maillog_error - one line each, printf format */
void maillog_info(const char *format, ...) G_GNUC_PRINTF(1, 2);
void maillog_warning(const char *format, ...) G_GNUC_PRINTF(1, 2);
void maillog_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* maillog_escape - a copy safe to log: control characters, DEL, backslash and
 * invalid UTF-8 become \r, \n, \t, \\ or \xHH; NULL becomes "" */
char *maillog_escape(const char *text);

/* maillog_escape_len - the same for len bytes that may hold NULs */
char *maillog_escape_len(const char *text, gsize len);

#endif
