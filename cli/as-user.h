/*
 * as-user.h - run one hop of an operator command as the user it concerns.
 *
 * `replygate check`, `test-email`, `bundle` and `postfix-setup` run as root,
 * but each hop must be tried as the program that really does it: the
 * database as user replygate (PostgreSQL's peer authentication maps the
 * Unix user to the role), the milter socket as user postfix (smtpd connects
 * as mail_owner). as_user_run() forks, takes the user's uid, gid and groups
 * in the child and calls a function there; what the child prints to
 * standard output goes straight to the parent's.
 */
#ifndef RG_AS_USER_H
#define RG_AS_USER_H

#include <glib.h>

/* AsUserFunc - the hop, run in the child; its return value (0 to 255) is the
 * child's exit status */
typedef int (*AsUserFunc)(gpointer data);

/* as_user_run - call func(data) as user; when the caller is that user
 * already, or is not root (and so cannot switch), func runs in this process.
 * Returns func's status, or -1 with error set when the user does not exist
 * or the child could not run. *switched tells whether it changed identity
 * (may be NULL). */
int as_user_run(const char *user, AsUserFunc func, gpointer data, gboolean *switched,
                GError **error);

/* AsUserText - a hop that makes text (new string) */
typedef char *(*AsUserText)(gpointer data);

/* as_user_capture - call func(data) as user and return the text it made
 * (read back through a pipe when it ran in a child); NULL with error set
 * when it could not run */
char *as_user_capture(const char *user, AsUserText func, gpointer data, GError **error);

/* milter_ping - connect to a milter socket (libmilter's or Postfix's
 * spelling: unix:/path, unix:relative (to queue_dir), inet:port@host,
 * inet:host:port) and complete an option negotiation (SMFIC_OPTNEG, then
 * QUIT) within timeout_s seconds, in the calling process's identity */
gboolean milter_ping(const char *socket, const char *queue_dir, int timeout_s, GError **error);

/* milter_ping_as - milter_ping() as user (normally Postfix's mail_owner) */
gboolean milter_ping_as(const char *user, const char *socket, const char *queue_dir, int timeout_s,
                        GError **error);

#endif
