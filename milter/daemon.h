/*
 * daemon.h - detach, pid file and privilege drop for replygate-milter.
 */
#ifndef RG_MILTER_DAEMON_H
#define RG_MILTER_DAEMON_H

#include <pwd.h>

#include <glib.h>

/* daemon_detach - fork twice, new session, chdir /, standard streams to /dev/null */
gboolean daemon_detach(GError **error);

/* daemon_write_pidfile - the process id, one line, mode 0644 */
gboolean daemon_write_pidfile(const char *path, GError **error);

/* daemon_drop_privileges - become pw's user and groups for good */
gboolean daemon_drop_privileges(const struct passwd *pw, GError **error);

#endif
