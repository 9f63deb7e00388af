/*
 * message.h - a reply as the agent sees it, parsed with GMime.
 *
 * message_parse() walks the MIME tree (multipart, message/rfc822, leaves),
 * decodes every text to UTF-8 and collects the attachments. It does no I/O
 * beyond the bytes it is given.
 */
#ifndef RG_MESSAGE_H
#define RG_MESSAGE_H

#include <glib.h>
#include "autosubmit.h"

typedef struct {
    char *filename;     /* RFC 2231/2047 decoded, UTF-8, or NULL */
    char *content_type; /* "image/png" */
    char *content_id;   /* without angle brackets, or NULL */
    GBytes *data;       /* the decoded bytes */
    char sha256[65];    /* lower-case hex of data */
    gboolean is_inline;
} Attachment;

typedef struct {
    GBytes *raw;            /* the message as it was read (a reference) */
    GArray *headers;        /* HeaderField, top-level headers in order; strings owned here */
    char *message_id;       /* without angle brackets, or NULL */
    char *subject;          /* UTF-8, or NULL */
    GDateTime *date;        /* in UTC, or NULL */
    gboolean date_dropped;  /* a Date that cannot be told in UTC was dropped */
    char *from_name;        /* UTF-8, or NULL */
    char *from_address;     /* or NULL */
    char *in_reply_to;      /* without angle brackets, or NULL */
    GPtrArray *references;  /* char *, without angle brackets, in order */
    char *body_text;        /* the whole text: text/plain, or the HTML converted; UTF-8 */
    char *body_html;        /* UTF-8, or NULL */
    char *reply_text;       /* body_text without quoted text and signature */
    char *quoted_text;      /* what was cut from body_text ("" when nothing) */
    GPtrArray *attachments; /* Attachment * */
    GPtrArray *warnings;    /* char *, what GMime's parser complained about */
} Message;

/* message_parse - parse raw bytes; RG_ERROR_DATAERR when they are not a message */
Message *message_parse(GBytes *raw, GError **error);

/* message_header - the first top-level header named name (any case), or NULL */
const char *message_header(const Message *message, const char *name);

/* message_free - release a message (NULL-safe) */
void message_free(Message *message);

/* message_sha256_hex - the 64 lower-case hex digits of SHA-256 over data (new
 * string): OpenSSL for large inputs, GLib for small ones */
char *message_sha256_hex(const void *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Message, message_free)

#endif
