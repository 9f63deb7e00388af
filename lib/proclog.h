/*
 * proclog.h - the processor log, in GitHub Enterprise's metroplex format
 * (SPEC section 6):
 *
 *   [2026-11-22T13:05:46.306 INFO (6178) (ED4DD1041E2) #] replygate: processing <abc@example.org>
 *   [2026-11-22T13:05:46.309 DEBUG (6178) (ED4DD1041E2) #] Matched /var/spool/replygate/new/...
 *
 * The second parenthesis is Postfix's queue id of the message (NOQUEUE when
 * there is none, as for a replay), so a line leads to mail.log's.
 *
 * The file is opened with O_APPEND and every line is one write(2), so lines
 * from concurrent deliveries never interleave. Callers escape text that comes
 * from a message with maillog_escape() before they pass it in.
 */
#ifndef RG_PROCLOG_H
#define RG_PROCLOG_H

#include <glib.h>
#include <sys/types.h>

typedef struct ProcLog ProcLog;

/* proclog_open - open the log for appending; a file it creates is mode
 * 0640 whatever the umask; a link at the end of path or anything but a
 * regular file is refused, and as root a file with several links or of
 * another user than root */
ProcLog *proclog_open(const char *path, GError **error);

/* proclog_open_as - proclog_open() for root on behalf of uid/gid (or
 * (uid_t)-1: the caller): a log it creates is given to uid/gid through its
 * descriptor, and an existing one must be owned by uid or root */
ProcLog *proclog_open_as(const char *path, uid_t uid, gid_t gid, GError **error);

/* proclog_set_queue_id - the queue id the next lines carry (NULL: NOQUEUE),
 * for a program that handles one message */
void proclog_set_queue_id(ProcLog *log, const char *queue_id);

/* proclog_for_message - for a resident program whose threads handle several
 * messages at once: a handle of one message's own (the same file, its queue
 * id), to close with proclog_close(); NULL when shared is NULL */
ProcLog *proclog_for_message(const ProcLog *shared, const char *queue_id);

/* proclog_close - close the log (NULL-safe) */
void proclog_close(ProcLog *log);

/* proclog_info, proclog_debug, proclog_error - one line each; log may be
 * NULL (the log could not be opened), then nothing is written */
void proclog_info(ProcLog *log, const char *format, ...) G_GNUC_PRINTF(2, 3);
void proclog_debug(ProcLog *log, const char *format, ...) G_GNUC_PRINTF(2, 3);
void proclog_error(ProcLog *log, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* proclog_format - one whole line with its newline (pure, for tests):
 * "[<local time with ms> LEVEL (pid) (QUEUEID) #] text\n" */
char *proclog_format(GDateTime *when, const char *level, long pid, const char *queue_id,
                     const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ProcLog, proclog_close)

#endif
