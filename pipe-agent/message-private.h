/*
 * message-private.h - what message.c, message-text.c and message-attach.c
 * share inside the agent; not part of the message.h interface.
 *
 * message.c parses and walks the MIME tree, message-text.c turns a part's
 * bytes into UTF-8 text, message-attach.c makes the attachments.
 */
#ifndef RG_MESSAGE_PRIVATE_H
#define RG_MESSAGE_PRIVATE_H

#include <glib.h>
#include <gmime/gmime.h>

#include "message.h"

/* message-text.c */

/* message_valid_text - len bytes as valid UTF-8 without NULs (new string) */
char *message_valid_text(const char *text, gsize len);

/* message_stream_bytes - take a memory stream's bytes without copying them */
GBytes *message_stream_bytes(GMimeStream *mem);

/* message_part_bytes - the decoded content of a leaf part; text also has its
 * CRLF line ends turned into LF */
GBytes *message_part_bytes(GMimePart *part, gboolean text);

/* message_part_text - a text part's content as valid UTF-8 (new string) */
char *message_part_text(GMimePart *part);

/* message_raw_text - bytes of no declared charset (a multipart's body that
 * never met its boundary) as valid UTF-8, LF line ends (new string) */
char *message_raw_text(const char *data, gsize len);

/* message-limits.c */

/* message_limits_scan - the raw bytes against the caps of rg-limits.h,
 * before GMime parses them: MIME parts and nesting, addresses, parameters,
 * message ids and address groups; RG_ERROR_TOOBIG saying which is over */
gboolean message_limits_scan(const char *data, gsize len, GError **error);

/* message_limits_tree - the parsed tree against the same caps, exactly:
 * every object counted, message/rfc822 parts looked into */
gboolean message_limits_tree(GMimeObject *root, GError **error);

/* message-attach.c */

/* message_attachment_new - an attachment for an object; takes data */
Attachment *message_attachment_new(GMimeObject *object, GBytes *data, const char *filename);

/* message_attachment_free - release one attachment (a GDestroyNotify) */
void message_attachment_free(gpointer data);

/* message_embedded_bytes - the bytes of a message/rfc822 part's message,
 * with the line ends the raw message used (CRLF when crlf) */
GBytes *message_embedded_bytes(GMimeMessagePart *part, gboolean crlf);

#endif
