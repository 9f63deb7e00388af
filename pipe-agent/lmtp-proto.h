/*
 * lmtp-proto.h - the pure parts of the LMTP door's protocol (RFC 2033).
 *
 * Command lines, MAIL and RCPT paths and their ESMTP parameters, xtext
 * (RFC 3461) and the utf-8 address type (RFC 6533) of ORCPT, XFORWARD
 * attributes, and the DATA reader (dot-unstuffing, CRLF made LF, the size
 * limit counted while reading). No I/O: lmtp-session.c reads and writes,
 * and the unit tests call these directly.
 */
#ifndef RG_LMTP_PROTO_H
#define RG_LMTP_PROTO_H

#include <glib.h>

/* The longest command line accepted, CRLF included (RFC 5321 allows 512 plus
 * what the extensions add; Postfix's lmtp(8) sends far less). */
#define LMTP_LINE_MAX 4096

typedef enum {
    LMTP_CMD_UNKNOWN,
    LMTP_CMD_LHLO,
    LMTP_CMD_HELO, /* HELO and EHLO: not LMTP */
    LMTP_CMD_MAIL,
    LMTP_CMD_RCPT,
    LMTP_CMD_DATA,
    LMTP_CMD_RSET,
    LMTP_CMD_NOOP,
    LMTP_CMD_QUIT,
    LMTP_CMD_VRFY,
    LMTP_CMD_XFORWARD,
} LmtpVerb;

/* lmtp_parse_verb - the command of a line (without CRLF); *arg points after
 * the verb and its white space (for MAIL and RCPT: after "FROM:" / "TO:") */
LmtpVerb lmtp_parse_verb(const char *line, const char **arg);

/* A MAIL FROM or RCPT TO argument, taken apart. */
typedef struct {
    char *address;     /* without angle brackets or source route; "" for <> */
    guint64 size;      /* SIZE=, 0 when absent */
    gboolean smtputf8; /* SMTPUTF8 */
    char *orcpt;       /* ORCPT= decoded ("rfc822;addr" -> addr), or NULL */
    char *orcpt_type;  /* ORCPT's address type ("rfc822", "utf-8"), or NULL */
} LmtpPath;

/* lmtp_parse_path - "<addr> PARAM=VALUE ..." for MAIL (is_rcpt FALSE) or RCPT;
 * FALSE with *reply set to the "5xx x.x.x text" to send when it is bad */
gboolean lmtp_parse_path(const char *arg, gboolean is_rcpt, LmtpPath *path, const char **reply);

/* lmtp_path_clear - free what lmtp_parse_path() filled in */
void lmtp_path_clear(LmtpPath *path);

/* lmtp_xtext_decode - RFC 3461 xtext ("+2B" is '+'); NULL when malformed */
char *lmtp_xtext_decode(const char *text);

/* lmtp_unitext_decode - RFC 6533 utf-8-addr-xtext/unitext: xtext, and
 * "\x{HEX}" as a code point; NULL when malformed */
char *lmtp_unitext_decode(const char *text);

/* What XFORWARD told the service about the client and the queue file. */
typedef struct {
    char *name;   /* NAME: the client's host name */
    char *addr;   /* ADDR: its address ("IPV6:" prefix removed) */
    char *port;   /* PORT */
    char *proto;  /* PROTO: SMTP, ESMTP */
    char *helo;   /* HELO */
    char *ident;  /* IDENT: Postfix's queue id */
    char *source; /* SOURCE: LOCAL or REMOTE */
} LmtpXforward;

/* lmtp_xforward_parse - apply "NAME=value ADDR=value ..." to xf; a value of
 * [UNAVAILABLE] or [TEMPUNAVAIL] clears the attribute; FALSE with *reply on
 * an unknown attribute or a malformed value */
gboolean lmtp_xforward_parse(const char *arg, LmtpXforward *xf, const char **reply);

/* lmtp_xforward_clear - free and forget every attribute */
void lmtp_xforward_clear(LmtpXforward *xf);

/* The DATA reader: bytes after "354", until the line that is only a dot. */
typedef struct {
    GByteArray *out; /* the message as stored: dots unstuffed, CRLF made LF */
    guint64 limit;   /* max_message_size: bytes past it are counted, not kept */
    guint64 total;   /* every byte of the message, kept or not */
    gboolean over;   /* total went past limit */
    int state;       /* where in a line the last byte left the reader */
} LmtpDataReader;

/* lmtp_data_init - a reader that keeps at most limit bytes */
void lmtp_data_init(LmtpDataReader *reader, guint64 limit);

/* lmtp_data_feed - consume up to len bytes; returns how many were consumed,
 * which is fewer only when the end of the data was reached (*done) */
gsize lmtp_data_feed(LmtpDataReader *reader, const char *buf, gsize len, gboolean *done);

/* lmtp_data_clear - free the reader's bytes */
void lmtp_data_clear(LmtpDataReader *reader);

/* lmtp_reply_text - "CODE X.Y.Z text" fit for one reply line: printable ASCII,
 * at most 510 bytes (new string) */
char *lmtp_reply_text(int code, const char *enhanced, const char *text);

#endif
