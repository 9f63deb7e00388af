/*
 * lmtp-door.h - the LMTP service's loop (lmtp-server.c), for main().
 */
#ifndef RG_LMTP_DOOR_H
#define RG_LMTP_DOOR_H

#include <gio/gio.h>
#include <pwd.h>

#include "lmtp-server.h"

typedef struct LmtpDoor LmtpDoor;

/* lmtp_door_listen - add the listening socket to service: the one systemd
 * passed (socket activation), else socket_spec (unix:/path or
 * inet:port@host); a unix socket is given to pw (may be NULL) */
gboolean lmtp_door_listen(GSocketService *service, const char *socket_spec, const struct passwd *pw,
                          GError **error);

/* lmtp_door_new - the loop around a server and its listening service */
LmtpDoor *lmtp_door_new(LmtpServer *server, GSocketService *service);

/* lmtp_door_run - serve until SIGTERM and every session has ended */
int lmtp_door_run(LmtpDoor *door);

/* lmtp_door_free - release the loop (NULL-safe) */
void lmtp_door_free(LmtpDoor *door);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LmtpDoor, lmtp_door_free)

#endif
