/*
 * check-lmtp.c - the LMTP door's part of `replygate check`, run when Postfix
 * delivers the reply domains through lmtp(8): replygate-lmtpd's socket
 * accepts a connection, greets with 220 and answers LHLO with the
 * capabilities Postfix needs (XFORWARD with IDENT for the queue id, DSN for
 * ORCPT, PIPELINING), and PostgreSQL has room for the service's pool.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "rg-autoptr.h"

/* Seconds to wait for each answer of the service. */
#define CHECK_LMTP_TIMEOUT 10

/* lmtp_connect - a connected socket to lmtp_socket, or -1 with errno */
static int
lmtp_connect(const char *spec)
{
    const char *path = config_unix_socket_path(spec);
    int fd = -1;

    if (path != NULL) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        if (strlen(path) >= sizeof sun.sun_path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(sun.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
    } else if (g_str_has_prefix(spec, "inet:")) {
        const char *at = strchr(spec + 5, '@');
        g_autofree char *port = at ? g_strndup(spec + 5, at - spec - 5) : g_strdup(spec + 5);
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;

        if (getaddrinfo(at ? at + 1 : "127.0.0.1", port, &hints, &ai) != 0) {
            errno = EADDRNOTAVAIL;
            return -1;
        }
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            int saved = errno;
            close(fd);
            fd = -1;
            errno = saved;
        }
        freeaddrinfo(ai);
    }
    return fd;
}

/* lmtp_reply - read one whole reply (all its lines, joined by '\n') */
static char *
lmtp_reply(int fd, GString *buf)
{
    for (;;) {
        char *nl;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        char chunk[1024];
        ssize_t n;

        /* A complete reply: its last line has a space after the code. */
        for (gsize start = 0; (nl = memchr(buf->str + start, '\n', buf->len - start)) != NULL;
             start = (gsize)(nl - buf->str) + 1) {
            const char *line = buf->str + start;

            if (nl - line >= 4 && line[3] == ' ') {
                gsize len = (gsize)(nl - buf->str) + 1;
                char *reply = g_strndup(buf->str, len);

                g_string_erase(buf, 0, (gssize)len);
                g_strdelimit(reply, "\r", ' ');
                return g_strchomp(reply);
            }
        }
        if (poll(&pfd, 1, CHECK_LMTP_TIMEOUT * 1000) <= 0)
            return NULL;
        n = read(fd, chunk, sizeof chunk);
        if (n <= 0)
            return NULL;
        g_string_append_len(buf, chunk, n);
        if (buf->len > 65536)
            return NULL;
    }
}

/* check_lmtp_pool - PostgreSQL can hold the pool's connections */
static void
check_lmtp_pool(Check *check, const Config *config)
{
    static const char sql[] =
        "SELECT current_setting('max_connections')::int"
        " - current_setting('superuser_reserved_connections')::int,"
        " (SELECT count(*) FROM pg_stat_activity WHERE application_name = 'replygate-lmtpd')";
    g_autoptr(GError) error = NULL;
    g_autoptr(PGconn) conn = db_connect(config->database, "replygate-check", 0, &error);
    g_autoptr(PGresult) res = NULL;
    long usable, open;

    if (conn == NULL) /* check_database has said why */
        return;
    res = db_exec(conn, sql, 0, NULL, NULL, NULL, &error);
    if (res == NULL) {
        check_report(check, "WARN", "grant the role access to pg_stat_activity",
                     "cannot count the LMTP pool's connections: %s", error->message);
        return;
    }
    usable = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    open = strtol(PQgetvalue(res, 0, 1), NULL, 10);
    if ((long)config->lmtp_pool_size >= usable)
        check_report(check, "FAIL", "lower lmtp_pool_size, or raise PostgreSQL's max_connections",
                     "lmtp_pool_size = %" G_GUINT64_FORMAT " leaves no room in PostgreSQL's %ld "
                     "usable connections",
                     config->lmtp_pool_size, usable);
    else
        check_report(check, "OK", NULL,
                     "LMTP pool: %ld of lmtp_pool_size = %" G_GUINT64_FORMAT
                     " connections open, PostgreSQL allows %ld",
                     open, config->lmtp_pool_size, usable);
}

/* check_lmtp - see check.h */
void
check_lmtp(Check *check, const Config *config)
{
    static const char *const wanted[] = {
        "PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "SIZE", "DSN", "XFORWARD"};
    const char *fix = "start replygate-lmtpd (systemctl start replygate-lmtpd); while it is down "
                      "Postfix keeps the replies in its queue";
    g_autoptr(GString) buf = g_string_new(NULL);
    g_autofree char *greeting = NULL;
    g_autofree char *lhlo = NULL;
    g_autoptr(GString) missing = g_string_new(NULL);
    int fd = lmtp_connect(config->lmtp_socket);
    static const char hello[] = "LHLO replygate-check\r\n";
    static const char quit[] = "QUIT\r\n";

    if (fd < 0) {
        check_report(check, "FAIL", fix, "LMTP socket %s refuses connections: %s",
                     config->lmtp_socket, g_strerror(errno));
        return;
    }
    greeting = lmtp_reply(fd, buf);
    if (greeting == NULL || !g_str_has_prefix(greeting, "220")) {
        check_report(check, "FAIL", fix, "LMTP service on %s does not greet (%s)",
                     config->lmtp_socket, greeting ? greeting : "no answer");
        close(fd);
        return;
    }
    if (write(fd, hello, sizeof hello - 1) == (ssize_t)(sizeof hello - 1))
        lhlo = lmtp_reply(fd, buf);
    /* The answer to QUIT does not matter. */
    (void)!write(fd, quit, sizeof quit - 1);
    close(fd);
    for (guint i = 0; lhlo != NULL && i < G_N_ELEMENTS(wanted); i++) {
        g_autofree char *pattern = g_strdup_printf("250[- ]%s", wanted[i]);
        if (!g_regex_match_simple(pattern, lhlo, G_REGEX_MULTILINE, 0))
            g_string_append_printf(missing, " %s", wanted[i]);
    }
    if (lhlo == NULL || !g_str_has_prefix(lhlo, "250"))
        check_report(check, "FAIL", fix, "LMTP service on %s does not answer LHLO (%s)",
                     config->lmtp_socket, lhlo ? lhlo : "no answer");
    else if (missing->len > 0 || strstr(lhlo, "IDENT") == NULL)
        check_report(check, "FAIL", "run replygate-lmtpd from this version of replygate",
                     "LMTP service on %s does not offer%s%s", config->lmtp_socket, missing->str,
                     strstr(lhlo, "IDENT") == NULL ? " XFORWARD IDENT" : "");
    else
        check_report(check, "OK", NULL, "LMTP service on %s answers LHLO with XFORWARD and DSN",
                     config->lmtp_socket);
    check_lmtp_pool(check, config);
}
