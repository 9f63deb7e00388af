/*
 * message-attach.c - the attachments of a parsed message and their SHA-256.
 *
 * An attachment is a leaf part that is not the body, or a message/rfc822
 * part written back out with the raw message's line ends. Each one keeps
 * its decoded bytes, its UTF-8 file name, type, Content-ID, whether it is
 * inline, and the SHA-256 of the bytes.
 */
#include <string.h>

#include <gmime/gmime.h>
/* SHA256(): see message_sha256_hex(). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "message-private.h"
#include "rg-autoptr.h"

/* message_sha256_hex - the 64 lower-case hex digits of SHA-256 over data.
 * OpenSSL's low-level SHA-256 runs its SHA extensions where the CPU has them
 * (about 0.6 ms per MB here, GLib's portable C about 2.9 ms) and, unlike
 * EVP_Digest() (and, in OpenSSL 3, the one-shot SHA256()), builds no
 * provider tables first, so it suits small inputs too. */
char *
message_sha256_hex(const void *data, gsize len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx;
    char *out;

    if (data == NULL)
        data = "";
    if (!SHA256_Init(&ctx) || !SHA256_Update(&ctx, data, len) || !SHA256_Final(digest, &ctx))
        return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
    out = g_malloc(2 * 32 + 1);
    for (unsigned int i = 0; i < 32; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[2 * 32] = '\0';
    return out;
}

/* message_attachment_free - release one attachment */
void
message_attachment_free(gpointer data)
{
    Attachment *attachment = data;

    if (attachment == NULL)
        return;
    g_free(attachment->filename);
    g_free(attachment->content_type);
    g_free(attachment->content_id);
    g_bytes_unref(attachment->data);
    g_free(attachment);
}

/* message_attachment_new - an attachment for an object; takes data */
Attachment *
message_attachment_new(GMimeObject *object, GBytes *data, const char *filename)
{
    Attachment *attachment = g_new0(Attachment, 1);
    GMimeContentType *type = g_mime_object_get_content_type(object);
    const char *disposition = g_mime_object_get_disposition(object);
    const char *content_id = g_mime_object_get_content_id(object);
    g_autofree char *checksum = NULL;
    gsize len;
    const guchar *bytes = g_bytes_get_data(data, &len);

    if (filename != NULL && *filename != '\0')
        attachment->filename = message_valid_text(filename, strlen(filename));
    if (type != NULL) {
        g_autofree char *mime = g_mime_content_type_get_mime_type(type);

        attachment->content_type = g_ascii_strdown(mime, -1);
    } else {
        attachment->content_type = g_strdup("application/octet-stream");
    }
    if (content_id != NULL && *content_id != '\0')
        attachment->content_id = message_valid_text(content_id, strlen(content_id));
    attachment->data = data;
    checksum = message_sha256_hex(bytes, len);
    g_strlcpy(attachment->sha256, checksum, sizeof attachment->sha256);
    if (disposition != NULL)
        attachment->is_inline = g_ascii_strcasecmp(disposition, "inline") == 0;
    else
        attachment->is_inline = attachment->content_id != NULL;
    return attachment;
}

/* message_embedded_bytes - the bytes of a message/rfc822 part's message,
 * written with the line ends the raw message used, so that an embedded
 * message comes out as it went in */
GBytes *
message_embedded_bytes(GMimeMessagePart *part, gboolean crlf)
{
    GMimeMessage *embedded = g_mime_message_part_get_message(part);
    g_autoptr(GMimeStream) mem = NULL;
    GMimeFormatOptions *format;

    if (embedded == NULL)
        return g_bytes_new(NULL, 0);
    mem = g_mime_stream_mem_new();
    format = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(format, crlf ? GMIME_NEWLINE_FORMAT_DOS
                                                          : GMIME_NEWLINE_FORMAT_UNIX);
    g_mime_object_write_to_stream(GMIME_OBJECT(embedded), format, mem);
    g_mime_format_options_free(format);
    return message_stream_bytes(mem);
}
