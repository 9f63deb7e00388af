/*
 * smtp-client.h - a small SMTP client on OpenSSL for `replygate test-email`:
 * it connects, says EHLO, upgrades with STARTTLS, says EHLO again and sends
 * one message with MAIL, RCPT and DATA. Every command, reply and the TLS
 * session it got are handed to a transcript callback, so the caller decides
 * how they are printed. The server's certificate is verified when the
 * caller asks (smtp_client_set_verify): against the system's CAs or a CA
 * file, and against the host name (or IP address) the caller gives.
 * Nothing but EHLO and STARTTLS is sent before the TLS handshake completes,
 * and bytes the server sends after its 220 to STARTTLS, before the
 * handshake, end the dialogue (they would be read as if encrypted).
 */
#ifndef RG_SMTP_CLIENT_H
#define RG_SMTP_CLIENT_H

#include <glib.h>

/* SmtpTranscript - called with each line of the dialogue ("C: ...",
 * "S: ...", "TLS: ...", "connected to ...") */
typedef void (*SmtpTranscript)(gpointer data, const char *line);

typedef struct SmtpClient SmtpClient;

/* smtp_client_new - a client not yet connected; every read and write waits
 * at most timeout_s seconds; transcript may be NULL */
SmtpClient *smtp_client_new(int timeout_s, SmtpTranscript transcript, gpointer transcript_data);

/* smtp_server_host - the host of HOST, HOST:PORT or [V6]:PORT (new string) */
char *smtp_server_host(const char *server);

/* smtp_client_set_verify - verify the certificate chain (with ca_file, or
 * the system's CAs when NULL) and that it names name (a host name or an IP
 * address); without this call, the certificate is only reported */
void smtp_client_set_verify(SmtpClient *client, const char *name, const char *ca_file);

/* smtp_client_free - say goodbye to TLS, close the socket (NULL-safe) */
void smtp_client_free(SmtpClient *client);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SmtpClient, smtp_client_free)

/* smtp_client_send - connect to server (HOST, HOST:PORT or [V6]:PORT,
 * port 25 by default), EHLO helo, STARTTLS, EHLO, MAIL, RCPT, DATA, send
 * message (CRLF line ends, ending with ".\r\n"), then QUIT. Returns the
 * server's reply to the message's final dot; NULL with error set and *stage
 * naming the step that broke ("connect", "greeting", "ehlo", "starttls",
 * "mail", "rcpt" or "data"). */
char *smtp_client_send(SmtpClient *client, const char *server, const char *helo, const char *from,
                       const char *to, const char *message, const char **stage, GError **error);

#endif
