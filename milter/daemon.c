/*
 * daemon.c - becoming a daemon: detach, write the pid file, drop privileges.
 *
 * main() calls these after the socket is open (so it may be a privileged
 * path) and before any thread starts (fork() and threads do not mix).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "daemon.h"
#include "rg-error.h"

/* daemon_detach - detach from the terminal and the session that started us */
gboolean
daemon_detach(GError **error)
{
    pid_t pid;
    int fd;

    for (int round = 0; round < 2; round++) {
        /* Twice, so the daemon is not a session leader and never gets a terminal. */
        pid = fork();
        if (pid < 0) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "fork: %s", g_strerror(errno));
            return FALSE;
        }
        if (pid > 0)
            _exit(0);
        if (round == 0 && setsid() < 0) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "setsid: %s", g_strerror(errno));
            return FALSE;
        }
    }
    if (chdir("/") != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "chdir /: %s", g_strerror(errno));
        return FALSE;
    }
    fd = open("/dev/null", O_RDWR);
    if (fd < 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "/dev/null: %s", g_strerror(errno));
        return FALSE;
    }
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
    return TRUE;
}

/* daemon_write_pidfile - the daemon's pid, one line */
gboolean
daemon_write_pidfile(const char *path, GError **error)
{
    g_autofree char *text = g_strdup_printf("%ld\n", (long)getpid());

    return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

/* daemon_drop_privileges - become USER for good; refuse if root could be regained */
gboolean
daemon_drop_privileges(const struct passwd *pw, GError **error)
{
    if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
        return TRUE;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot become %s: %s", pw->pw_name,
                    g_strerror(errno));
        return FALSE;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "root regained after becoming %s",
                    pw->pw_name);
        return FALSE;
    }
    return TRUE;
}
