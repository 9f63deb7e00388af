/*
 * as-user.c - run one hop of an operator command as the user it concerns,
 * and the milter ping that `check` and `postfix-setup` run as user postfix.
 *
 * A hop run as root proves nothing: root opens any socket and PostgreSQL
 * maps root to a role that does not exist. So each hop that depends on an
 * identity runs in a child with that identity (initgroups, setgid, setuid),
 * and the parent reads the child's exit status. An error text travels back
 * through a pipe.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>

#include "as-user.h"
#include "config.h"

/* as_user_run - call func(data) as user */
int
as_user_run(const char *user, AsUserFunc func, gpointer data, gboolean *switched, GError **error)
{
    struct passwd *pw = getpwnam(user);
    int status;
    pid_t pid;

    if (switched)
        *switched = FALSE;
    if (pw == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "user %s does not exist", user);
        return -1;
    }
    if (geteuid() != 0 || geteuid() == pw->pw_uid)
        return func(data);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "fork: %s", g_strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int rc;

        if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
            setuid(pw->pw_uid) != 0) {
            fprintf(stderr, "replygate: cannot become user %s: %s\n", user, g_strerror(errno));
            _exit(125);
        }
        /* The working folder may be one the user cannot read (root's home). */
        if (chdir("/") != 0)
            _exit(125);
        rc = func(data);
        fflush(stdout);
        fflush(stderr);
        _exit(rc & 0xff);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "waitpid: %s",
                        g_strerror(errno));
            return -1;
        }
    }
    if (switched)
        *switched = TRUE;
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 125) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the hop as user %s did not finish",
                    user);
        return -1;
    }
    return WEXITSTATUS(status);
}

typedef struct {
    AsUserText func;
    gpointer data;
    int fd;
} CaptureHop;

/* capture_hop - run the text function, write its text to the pipe */
static int
capture_hop(gpointer data)
{
    CaptureHop *hop = data;
    g_autofree char *text = hop->func(hop->data);
    gsize len = text ? strlen(text) : 0, off = 0;

    while (off < len) {
        ssize_t n = write(hop->fd, text + off, len - off);
        if (n <= 0)
            return 1;
        off += (gsize)n;
    }
    return 0;
}

/* as_user_capture - func's text, made as user */
char *
as_user_capture(const char *user, AsUserText func, gpointer data, GError **error)
{
    CaptureHop hop = {func, data, -1};
    GString *text = g_string_new(NULL);
    gboolean switched = FALSE;
    char buf[4096];
    ssize_t n;
    int fds[2], rc;
    if (pipe2(fds, O_CLOEXEC) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "pipe: %s", g_strerror(errno));
        g_string_free(text, TRUE);
        return NULL;
    }
    hop.fd = fds[1];
    /* The child writes before it exits and the parent reads after: the
     * pipe must hold the text, so the child's end is made large. */
    (void)fcntl(fds[1], F_SETPIPE_SZ, 1024 * 1024);
    rc = as_user_run(user, capture_hop, &hop, &switched, error);
    close(fds[1]);
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        g_string_append_len(text, buf, n);
    close(fds[0]);
    if (rc < 0) {
        g_string_free(text, TRUE);
        return NULL;
    }
    return g_string_free(text, FALSE);
}

/* ping_connect - a connected stream socket for the milter spelling, or -1 */
static int
ping_connect(const char *socket_spec, const char *queue_dir, GError **error)
{
    const char *path = config_unix_socket_path(socket_spec);
    int fd = -1;

    if (path != NULL) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        g_autofree char *full =
            path[0] == '/' ? g_strdup(path) : g_build_filename(queue_dir, path, NULL);

        if (strlen(full) >= sizeof sun.sun_path) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG, "%s: path too long", full);
            return -1;
        }
        strcpy(sun.sun_path, full);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
            int saved = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "connect to %s: %s", full,
                        g_strerror(saved));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    if (g_str_has_prefix(socket_spec, "inet:")) {
        const char *spec = socket_spec + 5;
        const char *at = strchr(spec, '@');
        const char *colon = strrchr(spec, ':');
        g_autofree char *host = NULL;
        g_autofree char *port = NULL;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
        int rc;

        if (at) { /* libmilter: inet:port@host */
            port = g_strndup(spec, at - spec);
            host = g_strdup(at + 1);
        } else if (colon) { /* Postfix: inet:host:port */
            host = g_strndup(spec, colon - spec);
            port = g_strdup(colon + 1);
        } else {
            host = g_strdup("localhost");
            port = g_strdup(spec);
        }
        rc = getaddrinfo(host, port, &hints, &ai);
        if (rc != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", socket_spec,
                        gai_strerror(rc));
            return -1;
        }
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            int saved = errno;
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "connect to %s: %s",
                        socket_spec, g_strerror(saved));
            if (fd >= 0)
                close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
        return fd;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "cannot read socket \"%s\"",
                socket_spec);
    return -1;
}

/* ping_read - exactly len bytes within the deadline */
static gboolean
ping_read(int fd, void *buf, size_t len, gint64 deadline, GError **error)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no answer to the milter negotiation (hung?)");
            return FALSE;
        }
        n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                        "the milter closed the connection during negotiation");
            return FALSE;
        }
        got += (size_t)n;
    }
    return TRUE;
}

/* milter_ping - connect and complete an option negotiation */
gboolean
milter_ping(const char *socket_spec, const char *queue_dir, int timeout_s, GError **error)
{
    /* SMFIC_OPTNEG as Postfix sends it: version 6, every action, every step. */
    unsigned char optneg[17] = {0, 0, 0, 13, 'O'};
    static const unsigned char quit[5] = {0, 0, 0, 1, 'Q'};
    guint32 v[3] = {htonl(6), htonl(0x1FF), htonl(0x1FFFFF)};
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    unsigned char head[5];
    guint32 len;
    g_autofree unsigned char *body = NULL;
    int fd = ping_connect(socket_spec, queue_dir, error);

    if (fd < 0)
        return FALSE;
    memcpy(optneg + 5, v, sizeof v);
    if (write(fd, optneg, sizeof optneg) != (ssize_t)sizeof optneg) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write to the milter: %s",
                    g_strerror(errno));
        close(fd);
        return FALSE;
    }
    if (!ping_read(fd, head, sizeof head, deadline, error)) {
        close(fd);
        return FALSE;
    }
    memcpy(&len, head, 4);
    len = ntohl(len);
    if (head[4] != 'O' || len < 13 || len > 65536) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "the socket answered, but not with a milter negotiation");
        close(fd);
        return FALSE;
    }
    body = g_malloc(len - 1);
    if (!ping_read(fd, body, len - 1, deadline, error)) {
        close(fd);
        return FALSE;
    }
    (void)!write(fd, quit, sizeof quit);
    close(fd);
    return TRUE;
}

typedef struct {
    const char *socket;
    const char *queue_dir;
    int timeout_s;
    int err_fd;
} PingHop;

/* ping_hop - milter_ping() in the child; the error text goes to err_fd */
static int
ping_hop(gpointer data)
{
    PingHop *hop = data;
    g_autoptr(GError) error = NULL;

    if (milter_ping(hop->socket, hop->queue_dir, hop->timeout_s, &error))
        return 0;
    (void)!write(hop->err_fd, error->message, strlen(error->message));
    return 1;
}

/* milter_ping_as - milter_ping() as user */
gboolean
milter_ping_as(const char *user, const char *socket_spec, const char *queue_dir, int timeout_s,
               GError **error)
{
    PingHop hop = {socket_spec, queue_dir, timeout_s, -1};
    int fds[2];
    int rc;
    char buf[512];
    ssize_t n;
    gboolean switched = FALSE;

    if (pipe2(fds, O_CLOEXEC) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "pipe: %s", g_strerror(errno));
        return FALSE;
    }
    hop.err_fd = fds[1];
    rc = as_user_run(user, ping_hop, &hop, &switched, error);
    close(fds[1]);
    n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    if (rc == 0)
        return TRUE;
    if (rc > 0)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%.*s", n > 0 ? (int)n : 7,
                    n > 0 ? buf : "unknown");
    return FALSE;
}
