/*
 * smtp-client.c - a small SMTP client on OpenSSL for `replygate test-email`:
 * connect with timeouts, read whole (multi-line) replies, send commands and
 * check their codes, upgrade with STARTTLS and report the TLS session, and
 * send one message with EHLO, STARTTLS, EHLO, MAIL, RCPT and DATA. Every line
 * of the dialogue goes to the caller's transcript callback.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <gio/gio.h>

#include "smtp-client.h"

struct SmtpClient {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    GString *in; /* bytes read, not yet returned as lines */
    int timeout_s;
    char *verify_name; /* NULL: report the certificate, do not judge it */
    char *ca_file;     /* NULL: the system's CAs */
    SmtpTranscript transcript;
    gpointer transcript_data;
};

/* smtp_say - one line of the dialogue to the transcript */
static void smtp_say(const SmtpClient *s, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
smtp_say(const SmtpClient *s, const char *format, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    if (s->transcript == NULL)
        return;
    va_start(ap, format);
    text = g_strdup_vprintf(format, ap);
    va_end(ap);
    s->transcript(s->transcript_data, text);
}

/* smtp_client_new - a client not yet connected */
SmtpClient *
smtp_client_new(int timeout_s, SmtpTranscript transcript, gpointer transcript_data)
{
    SmtpClient *s = g_new0(SmtpClient, 1);

    s->fd = -1;
    s->in = g_string_new(NULL);
    s->timeout_s = timeout_s;
    s->transcript = transcript;
    s->transcript_data = transcript_data;
    return s;
}

/* smtp_client_free - release the connection (NULL-safe parts) */
void
smtp_client_free(SmtpClient *s)
{
    if (s == NULL)
        return;
    if (s->ssl) {
        SSL_shutdown(s->ssl);
        SSL_free(s->ssl);
    }
    if (s->ctx)
        SSL_CTX_free(s->ctx);
    if (s->fd >= 0)
        close(s->fd);
    if (s->in)
        g_string_free(s->in, TRUE);
    g_free(s->verify_name);
    g_free(s->ca_file);
    g_free(s);
}

/* smtp_client_set_verify - verify the chain and the name */
void
smtp_client_set_verify(SmtpClient *s, const char *name, const char *ca_file)
{
    g_free(s->verify_name);
    g_free(s->ca_file);
    s->verify_name = g_strdup(name);
    s->ca_file = g_strdup(ca_file);
}

/* smtp_server_host - the host of HOST, HOST:PORT or [V6]:PORT */
char *
smtp_server_host(const char *server)
{
    const char *colon = strrchr(server, ':');
    char *host;

    if (server[0] == '[') {
        const char *end = strchr(server, ']');
        return g_strndup(server + 1, end ? (gsize)(end - server - 1) : strlen(server + 1));
    }
    /* One colon is HOST:PORT; more is a bare IPv6 address. */
    if (colon && strchr(server, ':') == colon)
        host = g_strndup(server, (gsize)(colon - server));
    else
        host = g_strdup(server);
    return host;
}

/* smtp_connect - a TCP connection to host:port with timeouts */
static gboolean
smtp_connect(SmtpClient *s, const char *server, GError **error)
{
    g_autofree char *host = NULL;
    const char *colon = strrchr(server, ':');
    const char *port = colon ? colon + 1 : "25";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
    struct timeval tv = {.tv_sec = s->timeout_s};
    int rc, saved = 0;

    host = colon ? g_strndup(server, (gsize)(colon - server)) : g_strdup(server);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:25 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", server, gai_strerror(rc));
        return FALSE;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s->fd < 0)
            continue;
        setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno;
        close(s->fd);
        s->fd = -1;
    }
    freeaddrinfo(res);
    if (s->fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot connect to %s: %s", server,
                    g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

/* smtp_read_some - more bytes from the socket or the TLS session */
static gboolean
smtp_read_some(SmtpClient *s, GError **error)
{
    char buf[4096];
    int n;

    if (s->ssl) {
        n = SSL_read(s->ssl, buf, sizeof buf);
    } else {
        do {
            n = (int)read(s->fd, buf, sizeof buf);
        } while (n < 0 && errno == EINTR);
    }
    if (n <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    n == 0                                      ? "the server closed the connection"
                    : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out waiting for the server"
                                                                : g_strerror(errno));
        return FALSE;
    }
    g_string_append_len(s->in, buf, n);
    return TRUE;
}

/* smtp_reply - one whole (multi-line) reply; *code gets its 3 digits */
static char *
smtp_reply(SmtpClient *s, int *code, GError **error)
{
    g_autoptr(GString) reply = g_string_new(NULL);

    for (;;) {
        char *nl = memchr(s->in->str, '\n', s->in->len);
        g_autofree char *line = NULL;
        gsize len;

        if (nl == NULL) {
            if (!smtp_read_some(s, error))
                return NULL;
            continue;
        }
        len = (gsize)(nl - s->in->str);
        line = g_strndup(s->in->str, len > 0 && s->in->str[len - 1] == '\r' ? len - 1 : len);
        g_string_erase(s->in, 0, (gssize)len + 1);
        smtp_say(s, "S: %s", line);
        if (reply->len)
            g_string_append_c(reply, '\n');
        g_string_append(reply, line);
        if (strlen(line) < 3 || !g_ascii_isdigit(line[0]) || !g_ascii_isdigit(line[1]) ||
            !g_ascii_isdigit(line[2])) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "not an SMTP reply: %s", line);
            return NULL;
        }
        if (line[3] != '-') {
            *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            return g_string_free(g_steal_pointer(&reply), FALSE);
        }
    }
}

/* smtp_write - bytes to the socket or the TLS session */
static gboolean
smtp_write(SmtpClient *s, const char *data, gsize len, GError **error)
{
    while (len > 0) {
        int n = s->ssl ? SSL_write(s->ssl, data, (int)len) : (int)write(s->fd, data, len);
        if (n <= 0) {
            if (!s->ssl && n < 0 && errno == EINTR)
                continue;
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot send: %s",
                        s->ssl ? "TLS write failed" : g_strerror(errno));
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* smtp_command - send one command, read its reply; FALSE unless the code
 * is want (a class, 2 or 3, when want < 10) */
static gboolean
smtp_command(SmtpClient *s, const char *command, int want, char **reply, GError **error)
{
    g_autofree char *line = g_strconcat(command, "\r\n", NULL);
    g_autofree char *got = NULL;
    int code = 0;

    smtp_say(s, "C: %s", command);
    if (!smtp_write(s, line, strlen(line), error))
        return FALSE;
    got = smtp_reply(s, &code, error);
    if (got == NULL)
        return FALSE;
    if ((want < 10 && code / 100 != want) || (want >= 10 && code != want)) {
        const char *last = strrchr(got, '\n');
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s answered %s", command,
                    last ? last + 1 : got);
        return FALSE;
    }
    if (reply)
        *reply = g_steal_pointer(&got);
    return TRUE;
}

/* smtp_starttls - the TLS handshake after 220 to STARTTLS */
static gboolean
smtp_starttls(SmtpClient *s, const char *host, GError **error)
{
    X509 *cert;
    char subject[256] = "";

    s->ctx = SSL_CTX_new(TLS_client_method());
    if (s->ctx == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "SSL_CTX_new failed");
        return FALSE;
    }
    /* Bytes already here came before the handshake, unencrypted: a server
     * (or a man in the middle) that sends them is not to be trusted with
     * what follows (the STARTTLS injection of CVE-2011-0411). */
    if (s->in->len > 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the server sent %" G_GSIZE_FORMAT " bytes after its 220 to STARTTLS, before "
                    "the handshake; stopping",
                    s->in->len);
        return FALSE;
    }
    if (s->verify_name) {
        SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
        if ((s->ca_file ? SSL_CTX_load_verify_locations(s->ctx, s->ca_file, NULL)
                        : SSL_CTX_set_default_verify_paths(s->ctx)) != 1) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot load the CAs %s",
                        s->ca_file ? s->ca_file : "of the system");
            return FALSE;
        }
    } else {
        /* Asked not to verify (an IP address, or --no-tls-verify): report. */
        SSL_CTX_set_verify(s->ctx, SSL_VERIFY_NONE, NULL);
    }
    s->ssl = SSL_new(s->ctx);
    SSL_set_fd(s->ssl, s->fd);
    if (g_hostname_is_ip_address(host) == FALSE)
        SSL_set_tlsext_host_name(s->ssl, host);
    if (s->verify_name) {
        X509_VERIFY_PARAM *param = SSL_get0_param(s->ssl);

        if (g_hostname_is_ip_address(s->verify_name))
            X509_VERIFY_PARAM_set1_ip_asc(param, s->verify_name);
        else
            X509_VERIFY_PARAM_set1_host(param, s->verify_name, 0);
    }
    if (SSL_connect(s->ssl) != 1) {
        char err[256];
        long vr = SSL_get_verify_result(s->ssl);

        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        if (s->verify_name && vr != X509_V_OK)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "the certificate does not verify for %s: %s", s->verify_name,
                        X509_verify_cert_error_string(vr));
        else
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "TLS handshake failed: %s", err);
        SSL_free(s->ssl);
        s->ssl = NULL;
        return FALSE;
    }
    cert = SSL_get1_peer_certificate(s->ssl);
    if (cert) {
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        X509_free(cert);
    }
    smtp_say(s, "TLS: %s %s (%d bits), certificate %s, %s", SSL_get_version(s->ssl),
             SSL_get_cipher_name(s->ssl), SSL_get_cipher_bits(s->ssl, NULL),
             *subject ? subject : "none",
             s->verify_name ? "verified" : "not verified (--tls-verify to verify)");
    return TRUE;
}

/* smtp_client_send - the whole dialogue for one message over STARTTLS */
char *
smtp_client_send(SmtpClient *s, const char *server, const char *helo, const char *from,
                 const char *to, const char *message, const char **stage, GError **error)
{
    g_autofree char *host = smtp_server_host(server);
    g_autofree char *ehlo = g_strdup_printf("EHLO %s", helo);
    g_autofree char *mail = g_strdup_printf("MAIL FROM:<%s>", from);
    g_autofree char *rcpt = g_strdup_printf("RCPT TO:<%s>", to);
    g_autofree char *caps = NULL;
    g_autofree char *greeting = NULL;
    g_autofree char *queued = NULL;
    int code = 0;

    *stage = "connect";
    if (!smtp_connect(s, server, error))
        return NULL;
    smtp_say(s, "connected to %s", server);
    *stage = "greeting";
    greeting = smtp_reply(s, &code, error);
    if (greeting == NULL)
        return NULL;
    if (code != 220) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the server greets with %s", greeting);
        return NULL;
    }
    *stage = "ehlo";
    if (!smtp_command(s, ehlo, 250, &caps, error))
        return NULL;
    *stage = "starttls";
    if (!g_regex_match_simple("^250[- ]STARTTLS", caps, G_REGEX_MULTILINE | G_REGEX_CASELESS, 0)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the server does not offer STARTTLS (smtpd_tls_security_level)");
        return NULL;
    }
    if (!smtp_command(s, "STARTTLS", 220, NULL, error) || !smtp_starttls(s, host, error))
        return NULL;
    *stage = "ehlo";
    if (!smtp_command(s, ehlo, 250, NULL, error))
        return NULL;
    *stage = "mail";
    if (!smtp_command(s, mail, 250, NULL, error))
        return NULL;
    *stage = "rcpt";
    if (!smtp_command(s, rcpt, 250, NULL, error))
        return NULL;
    *stage = "data";
    if (!smtp_command(s, "DATA", 354, NULL, error))
        return NULL;
    smtp_say(s, "C: (%zu bytes of message, then \".\")", strlen(message) - 3);
    if (!smtp_write(s, message, strlen(message), error))
        return NULL;
    queued = smtp_reply(s, &code, error);
    if (queued == NULL)
        return NULL;
    if (code != 250) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the message was answered %s", queued);
        return NULL;
    }
    {
        g_autoptr(GError) ignored = NULL;
        smtp_command(s, "QUIT", 221, NULL, &ignored);
    }
    return g_steal_pointer(&queued);
}
