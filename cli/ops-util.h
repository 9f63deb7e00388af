/*
 * ops-util.h - what the operator subcommands replay, test-email and bundle
 * share: finding a sibling program, reading a header from raw message bytes,
 * running a program and collecting its output, and reading the end of a log.
 */
#ifndef RG_OPS_UTIL_H
#define RG_OPS_UTIL_H

#include <glib.h>
#include <sys/types.h>

/* ops_find_program - option, then $env_name, then beside this program (and
 * its build tree's neighbour folders), then $PATH; NULL when not found */
char *ops_find_program(const char *option, const char *env_name, const char *name);

/* ops_header_value - the unfolded value of the first header called name in
 * the header block of raw (case-insensitive), or NULL */
char *ops_header_value(const char *raw, gsize len, const char *name);

/* ops_run - run argv with stdin from stdin_fd (-1: /dev/null), as uid/gid
 * when uid is not (uid_t)-1; stdout and stderr go to *output (may be NULL:
 * discarded). Returns the exit status, or -1 with error set when the program
 * could not run or was killed. */
int ops_run(const char *const *argv, int stdin_fd, uid_t uid, gid_t gid, char **output,
            GError **error);

/* ops_tail_lines - the last max_lines lines of the file at path that match
 * filter (NULL: every line), oldest first, read backwards from the end so
 * that a huge log costs only what is kept; a symbolic link or anything but
 * a regular file is refused */
GPtrArray *ops_tail_lines(const char *path, guint max_lines, GRegex *filter, GError **error);

/* ops_redact_passwords - a copy of text with the passwords of libpq conninfo
 * strings (password=... or password='...') and of URIs
 * (scheme://user:password@host) replaced by REDACTED */
char *ops_redact_passwords(const char *text);

/* ops_redact_macs - a copy of text with the mac of every reply address
 * (KIND-TARGET-MAC-USER, also inside a notification's Message-ID) replaced
 * by "MAC-REDACTED": kind, target and user stay readable */
char *ops_redact_macs(const char *text);

/* ops_monotonic_ms - milliseconds on the monotonic clock */
double ops_monotonic_ms(void);

#endif
