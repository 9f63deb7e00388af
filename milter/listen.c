/*
 * listen.c - open the milter socket and set its mode, group and owner (listen.h).
 *
 * The mode comes from the umask in force at bind(), which is set here for
 * that one call (no thread runs yet, so changing the process umask is safe),
 * so the socket is never more open than LISTEN_SOCKET_MODE, not even for a
 * moment. Group and owner are changed through the folder's descriptor with
 * AT_SYMLINK_NOFOLLOW, after checking that the name is a socket: a link
 * planted there is never followed, and anything but a socket stops the start.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "listen.h"
#include "rg-error.h"

/* socket_stat - lstat the socket through its folder: it must be a socket */
static gboolean
socket_stat(int dirfd, const char *base, const char *path, struct stat *st, GError **error)
{
    if (fstatat(dirfd, base, st, AT_SYMLINK_NOFOLLOW) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot stat %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    if (!S_ISSOCK(st->st_mode)) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                    "%s is no longer the socket just made (%s): someone who may write its "
                    "folder replaced it; not following it",
                    path, S_ISLNK(st->st_mode) ? "a symbolic link" : "another file");
        return FALSE;
    }
    return TRUE;
}

/* fix_socket - group, owner and mode of the socket file at path */
static gboolean
fix_socket(const char *path, const struct passwd *pw, const struct group *gr, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    uid_t uid = pw != NULL ? pw->pw_uid : (uid_t)-1;
    struct stat st;
    int dirfd;
    gboolean ok = FALSE;

    dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot open %s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    if (!socket_stat(dirfd, base, path, &st, error))
        goto out;
    if ((pw != NULL && st.st_uid != uid) || st.st_gid != gr->gr_gid) {
        if (fchownat(dirfd, base, pw != NULL && st.st_uid != uid ? uid : (uid_t)-1, gr->gr_gid,
                     AT_SYMLINK_NOFOLLOW) != 0) {
            g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                        "cannot give %s to %s%sgroup %s: %s; start the milter as root (with -u "
                        "USER), or as a member of group %s, or make %s setgid %s "
                        "(see milter_socket_group in replygate.conf(5))",
                        path, pw != NULL ? pw->pw_name : "", pw != NULL ? " and " : "", gr->gr_name,
                        g_strerror(errno), gr->gr_name, dir, gr->gr_name);
            goto out;
        }
    }
    /* The umask at bind() gave the mode; a file system with default ACLs may
     * not have: set it again, on the socket itself and never through a link. */
    if (!socket_stat(dirfd, base, path, &st, error))
        goto out;
    if ((st.st_mode & 07777) != LISTEN_SOCKET_MODE &&
        fchmodat(dirfd, base, LISTEN_SOCKET_MODE, AT_SYMLINK_NOFOLLOW) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot set the mode of %s to %04o: %s",
                    path, LISTEN_SOCKET_MODE, g_strerror(errno));
        goto out;
    }
    ok = TRUE;
out:
    close(dirfd);
    return ok;
}

/* listen_open - open the socket; set mode, group and owner of a unix one */
gboolean
listen_open(const char *socket, const struct passwd *pw, const char *group, GError **error)
{
    const char *path = config_unix_socket_path(socket);
    struct group *gr = NULL;
    mode_t old_mask;
    int rc;

    if (smfi_setconn((char *)socket) != MI_SUCCESS) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "bad milter socket \"%s\"", socket);
        return FALSE;
    }
    if (path != NULL) {
        g_autofree char *dir = g_path_get_dirname(path);

        if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
            g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "socket folder %s does not exist", dir);
            return FALSE;
        }
        gr = getgrnam(group);
        if (gr == NULL) {
            g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                        "milter_socket_group \"%s\": no such group", group);
            return FALSE;
        }
    }
    old_mask = umask(0777 & ~LISTEN_SOCKET_MODE);
    /* TRUE: remove a socket file left over by a previous run. */
    rc = smfi_opensocket(TRUE);
    umask(old_mask);
    if (rc != MI_SUCCESS) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot open milter socket %s", socket);
        return FALSE;
    }
    return path == NULL || fix_socket(path, pw, gr, error);
}
