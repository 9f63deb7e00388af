/*
 * notify.h - systemd's readiness and watchdog protocol, without libsystemd.
 *
 * Under Type=notify, systemd passes $NOTIFY_SOCKET, a unix datagram socket
 * (a path, or an abstract name written with a leading '@'), and reads
 * "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..." and "WATCHDOG=1"
 * from it (sd_notify(3)). With WatchdogSec= it also passes $WATCHDOG_USEC
 * (and $WATCHDOG_PID, the process meant), and kills and restarts a service
 * that stays silent that long.
 *
 * The milter's watchdog ping follows a real round trip on its own milter
 * socket (notify_probe(): connect, the option negotiation Postfix would send,
 * its answer, quit), never a timer alone: a milter whose accept loop or
 * worker threads are stuck answers no probe, sends no ping, and is
 * restarted. Outside systemd every call here does nothing.
 */
#ifndef RG_MILTER_NOTIFY_H
#define RG_MILTER_NOTIFY_H

#include <glib.h>

/* notify_init - read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (after any fork) */
void notify_init(void);

/* notify_enabled - is there a $NOTIFY_SOCKET to talk to? */
gboolean notify_enabled(void);

/* notify_send - one datagram of "NAME=value" lines; FALSE if it could not be sent */
gboolean notify_send(const char *state);

/* notify_watchdog_interval_ms - how often to probe and ping: a third of
 * WatchdogSec=, or 0 without a watchdog */
gint64 notify_watchdog_interval_ms(void);

/* notify_probe - one milter round trip on socket (unix:/path, inet:port@host,
 * inet6:port@host) within timeout_ms; FALSE with a reason in *why (static) */
gboolean notify_probe(const char *socket, int timeout_ms, const char **why);

#endif
