/*
 * listen.h - the milter's listening socket, with its owner, group and mode
 * set explicitly.
 *
 * A unix socket is made with mode 0660 whatever the umask of the shell or
 * service manager that started the milter, and given the group
 * milter_socket_group (postfix), so that Postfix's smtpd(8) may connect and
 * nobody else: a milter started with -u from a root shell (umask 022) once
 * made a socket smtpd could not open, and every message was tempfailed.
 * Under -u the socket also goes to USER. The ownership change never follows a
 * link: the socket's folder is writable by USER, who could otherwise swap the
 * socket for a symbolic link to /etc/shadow between bind() and chown().
 */
#ifndef RG_MILTER_LISTEN_H
#define RG_MILTER_LISTEN_H

#include <pwd.h>

#include <glib.h>

#define LISTEN_SOCKET_MODE 0660

/* listen_open - smfi_setconn() and smfi_opensocket() on socket, then for a unix
 * socket its mode, its group (group, by name) and, when pw is given, its owner.
 * Run as root, or as the user the socket belongs to with a folder that is
 * setgid to group. RG_ERROR_CONFIG for what an administrator must fix. */
gboolean listen_open(const char *socket, const struct passwd *pw, const char *group,
                     GError **error);

#endif
