/*
 * notify.c - sd_notify(3) by hand, and the milter round trip the watchdog
 * ping depends on (notify.h).
 *
 * The protocol is small enough that libsystemd is not needed: one datagram
 * per message to the socket systemd names. The probe speaks the first step of
 * the milter protocol as an MTA does: a packet is a 4-byte big-endian length,
 * a command byte and its data; SMFIC_OPTNEG carries the version, the actions
 * and the protocol steps the MTA offers, and the milter answers with its own
 * SMFIC_OPTNEG. Then SMFIC_QUIT. Every step waits at most until a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stddef.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "config.h"
#include "notify.h"

/* What the MTA side of the probe offers: every action and every step Postfix offers. */
#define PROBE_ACTIONS SMFI_CURR_ACTS
#define PROBE_STEPS 0x001FFFFFUL

static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len; /* 0: not under systemd */
static gint64 watchdog_usec;      /* 0: no watchdog */

/* notify_init - read the environment systemd gives a Type=notify service */
void
notify_init(void)
{
    const char *path = g_getenv("NOTIFY_SOCKET");
    const char *usec = g_getenv("WATCHDOG_USEC");
    const char *pid = g_getenv("WATCHDOG_PID");
    gsize len;
    guint64 n = 0;

    notify_addr_len = 0;
    watchdog_usec = 0;
    if (path != NULL && (path[0] == '/' || path[0] == '@') &&
        (len = strlen(path)) < sizeof notify_addr.sun_path) {
        memset(&notify_addr, 0, sizeof notify_addr);
        notify_addr.sun_family = AF_UNIX;
        memcpy(notify_addr.sun_path, path, len);
        if (path[0] == '@')
            notify_addr.sun_path[0] = '\0'; /* an abstract socket name */
        notify_addr_len =
            (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/' ? 1 : 0));
    }
    /* WATCHDOG_PID names the process meant; another one (a child) does not ping. */
    if (pid != NULL &&
        (!g_ascii_string_to_unsigned(pid, 10, 1, G_MAXINT, &n, NULL) || (pid_t)n != getpid()))
        return;
    if (usec != NULL && g_ascii_string_to_unsigned(usec, 10, 1, G_MAXINT64, &n, NULL))
        watchdog_usec = (gint64)n;
}

/* notify_enabled - is there a $NOTIFY_SOCKET to talk to? */
gboolean
notify_enabled(void)
{
    return notify_addr_len != 0;
}

/* notify_send - one datagram to systemd */
gboolean
notify_send(const char *state)
{
    int fd;
    ssize_t sent;

    if (notify_addr_len == 0)
        return FALSE;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&notify_addr,
                  notify_addr_len);
    close(fd);
    return sent == (ssize_t)strlen(state);
}

/* notify_watchdog_interval_ms - a third of WatchdogSec=, or 0 */
gint64
notify_watchdog_interval_ms(void)
{
    if (watchdog_usec == 0 || notify_addr_len == 0)
        return 0;
    return MAX(watchdog_usec / 3000, 1);
}

/* remaining_ms - milliseconds left until deadline (monotonic µs), at least 0 */
static int
remaining_ms(gint64 deadline)
{
    gint64 left = (deadline - g_get_monotonic_time()) / 1000;

    return left > 0 ? (int)MIN(left, G_MAXINT) : 0;
}

/* wait_fd - poll one descriptor for events until the deadline */
static gboolean
wait_fd(int fd, short events, gint64 deadline)
{
    struct pollfd pfd = {.fd = fd, .events = events};

    for (;;) {
        int r = poll(&pfd, 1, remaining_ms(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        return r > 0 && (pfd.revents & (events | POLLHUP | POLLERR)) != 0;
    }
}

/* connect_to - a non-blocking connection to the milter socket, or -1 */
static int
connect_to(const char *socket_spec, gint64 deadline, const char **why)
{
    const char *path = config_unix_socket_path(socket_spec);
    int fd = -1;

    if (path != NULL) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        if (strlen(path) >= sizeof sun.sun_path) {
            *why = "socket path too long";
            return -1;
        }
        strcpy(sun.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0 &&
            errno != EINPROGRESS) {
            *why = "cannot connect to the unix socket";
            close(fd);
            return -1;
        }
    } else {
        /* inet:port@host or inet6:port@host; no host means the loopback address. */
        const char *spec = strchr(socket_spec, ':') + 1;
        const char *at = strchr(spec, '@');
        g_autofree char *port = g_strndup(spec, at ? (gsize)(at - spec) : strlen(spec));
        const char *host = at ? at + 1 : NULL;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;

        hints.ai_family = g_str_has_prefix(socket_spec, "inet6:") ? AF_INET6 : AF_INET;
        if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) {
            *why = "cannot resolve the inet socket";
            return -1;
        }
        fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) {
            *why = "cannot connect to the inet socket";
            close(fd);
            fd = -1;
        }
        freeaddrinfo(res);
        if (fd < 0)
            return -1;
    }
    if (fd < 0) {
        *why = "socket() failed";
        return -1;
    }
    if (!wait_fd(fd, POLLOUT, deadline)) {
        *why = "connection not ready in time";
        close(fd);
        return -1;
    }
    return fd;
}

/* send_all - write len bytes before the deadline */
static gboolean
send_all(int fd, const unsigned char *buf, gsize len, gint64 deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n > 0) {
            buf += n;
            len -= (gsize)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(fd, POLLOUT, deadline))
                return FALSE;
        } else {
            return FALSE;
        }
    }
    return TRUE;
}

/* recv_all - read len bytes before the deadline */
static gboolean
recv_all(int fd, unsigned char *buf, gsize len, gint64 deadline)
{
    while (len > 0) {
        ssize_t n = recv(fd, buf, len, 0);

        if (n > 0) {
            buf += n;
            len -= (gsize)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(fd, POLLIN, deadline))
                return FALSE;
        } else {
            return FALSE; /* closed, or an error */
        }
    }
    return TRUE;
}

/* put32 - a big-endian 32-bit number */
static void
put32(unsigned char *p, guint32 value)
{
    guint32 net = htonl(value);

    memcpy(p, &net, 4);
}

/* notify_probe - one milter round trip within timeout_ms */
gboolean
notify_probe(const char *socket_spec, int timeout_ms, const char **why)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    unsigned char optneg[4 + 1 + MILTER_OPTLEN];
    unsigned char quit[4 + 1];
    unsigned char head[4 + 1];
    unsigned char rest[256];
    guint32 len;
    int fd;
    gboolean ok;

    fd = connect_to(socket_spec, deadline, why);
    if (fd < 0)
        return FALSE;
    put32(optneg, 1 + MILTER_OPTLEN);
    optneg[4] = SMFIC_OPTNEG;
    put32(optneg + 5, SMFI_PROT_VERSION);
    put32(optneg + 9, PROBE_ACTIONS);
    put32(optneg + 13, PROBE_STEPS);
    put32(quit, 1);
    quit[4] = SMFIC_QUIT;
    ok = send_all(fd, optneg, sizeof optneg, deadline);
    if (!ok)
        *why = "cannot send the option negotiation";
    else if (!(ok = recv_all(fd, head, sizeof head, deadline)))
        *why = "no answer to the option negotiation";
    else {
        memcpy(&len, head, 4);
        len = ntohl(len);
        /* The answer: SMFIC_OPTNEG with version, actions, steps and the
         * macro lists asked for; read it all before quitting. */
        if (head[4] != SMFIC_OPTNEG || len < 1 + MILTER_OPTLEN || len > 1 + 65536) {
            *why = "an unexpected answer to the option negotiation";
            ok = FALSE;
        }
        for (len -= 1; ok && len > 0;) {
            gsize chunk = MIN(len, sizeof rest);

            ok = recv_all(fd, rest, chunk, deadline);
            len -= (guint32)chunk;
            if (!ok)
                *why = "a short answer to the option negotiation";
        }
    }
    if (ok && !send_all(fd, quit, sizeof quit, deadline)) {
        *why = "cannot send quit";
        ok = FALSE;
    }
    close(fd);
    return ok;
}
