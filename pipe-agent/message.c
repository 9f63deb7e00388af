/*
 * message.c - parse a reply with GMime into the agent's Message.
 *
 * The raw bytes go through a GMimeParser over a memory stream. The MIME tree
 * is walked with an explicit stack and a depth limit, so hostile nesting
 * cannot exhaust the C stack; GMime's own parser refuses deeper nesting too.
 * Every text ends as valid UTF-8: headers through GMime's RFC 2047 and 2231
 * decoders, bodies through message-text.c. Leaves that are not the body
 * become attachments (message-attach.c). The parser's warnings are collected
 * instead of dropped.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "keyfind.h"
#include "message.h"
#include "message-private.h"
#include "rg-autoptr.h"
#include "rg-error.h"
#include "rg-limits.h"
#include "trim.h"

/* Parts nested deeper than this are not looked into. */
#define MESSAGE_MAX_DEPTH 64

/* The parser warning names, for the warnings list. */
static const char *const warning_names[] = {
    [GMIME_WARN_DUPLICATED_HEADER] = "duplicated header",
    [GMIME_WARN_DUPLICATED_PARAMETER] = "duplicated parameter",
    [GMIME_WARN_UNENCODED_8BIT_HEADER] = "unencoded 8-bit header",
    [GMIME_WARN_INVALID_CONTENT_TYPE] = "invalid content type",
    [GMIME_WARN_INVALID_RFC2047_HEADER_VALUE] = "invalid RFC 2047 header value",
    [GMIME_WARN_MALFORMED_MULTIPART] = "malformed multipart",
    [GMIME_WARN_TRUNCATED_MESSAGE] = "truncated message",
    [GMIME_WARN_MALFORMED_MESSAGE] = "malformed message",
    [GMIME_CRIT_INVALID_HEADER_NAME] = "invalid header name",
    [GMIME_CRIT_CONFLICTING_HEADER] = "conflicting header",
    [GMIME_CRIT_CONFLICTING_PARAMETER] = "conflicting parameter",
    [GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY] = "multipart without boundary",
    [GMIME_WARN_INVALID_PARAMETER] = "invalid parameter",
    [GMIME_WARN_INVALID_ADDRESS_LIST] = "invalid address list",
    [GMIME_CRIT_NESTING_OVERFLOW] = "nesting overflow",
    [GMIME_WARN_PART_WITHOUT_CONTENT] = "part without content",
    [GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT] = "part without headers or content",
};

/* One entry of the walk's explicit stack. */
typedef struct {
    GMimeObject *object; /* borrowed from the parsed message */
    int depth;
} WalkItem;

/* What the walk gathers before the message is finished. */
typedef struct {
    GString *plain; /* the text/plain parts, in order */
    char *html;     /* the first text/html part */
    gboolean have_plain;
    gboolean crlf;     /* the raw message ends its lines with CRLF */
    gboolean reparsed; /* a multipart was parsed again with the boundary its body uses */
    GPtrArray *owned;  /* GMimeObject *, parsed here, alive until the walk ends */
} BodyParts;

/* The header fields GMime has read so far, counted by its header callback:
 * past LIMIT_HEADER_FIELDS the stream is made to end where the parser is,
 * so GMime stops reading and builds no more. */
typedef struct {
    GMimeStream *stream; /* borrowed: the parser's stream */
    guint64 fields;
    gboolean over;
} HeaderCount;

/* message_count_header - GMime's header callback: one more field */
static void
message_count_header(GMimeParser *parser, const char *name, const char *value, gint64 offset,
                     gpointer data)
{
    HeaderCount *count = data;

    if (++count->fields <= LIMIT_HEADER_FIELDS || count->over)
        return;
    count->over = TRUE;
    g_mime_stream_set_bounds(count->stream, 0, g_mime_stream_tell(count->stream));
}

/* message_gmime_init - g_mime_init() once per process */
static void
message_gmime_init(void)
{
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        g_mime_init();
        g_once_init_leave(&done, 1);
    }
}

/* message_warning - the parser's warning callback: keep one line per warning */
static void
message_warning(gint64 offset, GMimeParserWarning code, const char *item, gpointer user_data)
{
    GPtrArray *warnings = user_data;
    const char *name = "parser warning";
    g_autofree char *safe = NULL;

    if ((gsize)code < G_N_ELEMENTS(warning_names) && warning_names[code] != NULL)
        name = warning_names[code];
    /* A hostile message could make thousands; a few hundred tell enough. */
    if (warnings->len >= 256)
        return;
    safe = g_utf8_make_valid(item != NULL ? item : "", -1);
    g_ptr_array_add(warnings, g_strdup_printf("offset %" G_GINT64_FORMAT ": %s%s%s", offset, name,
                                              *safe ? ": " : "", safe));
}

/* message_unfold - a raw header value unfolded and trimmed (new string) */
static char *
message_unfold(const char *raw)
{
    GString *out = g_string_sized_new(raw != NULL ? strlen(raw) : 0);
    g_autofree char *valid = NULL;

    for (const char *p = raw; p != NULL && *p != '\0'; p++)
        if (*p != '\r' && *p != '\n')
            g_string_append_c(out, *p);
    g_strstrip(out->str);
    /* 8-bit header bytes are not necessarily UTF-8; the lists must be. */
    valid = message_valid_text(out->str, strlen(out->str));
    g_string_free(out, TRUE);
    return g_steal_pointer(&valid);
}

/* message_is_body_text - is this leaf the body (text/plain or text/html, not an attachment)? */
static gboolean
message_is_body_text(GMimeObject *object, GMimePart *part, gboolean *is_html)
{
    GMimeContentType *type = g_mime_object_get_content_type(object);
    const char *disposition = g_mime_object_get_disposition(object);

    if (type == NULL)
        return FALSE;
    if (g_mime_content_type_is_type(type, "text", "plain"))
        *is_html = FALSE;
    else if (g_mime_content_type_is_type(type, "text", "html"))
        *is_html = TRUE;
    else
        return FALSE;
    if (disposition != NULL && g_ascii_strcasecmp(disposition, "attachment") == 0)
        return FALSE;
    return g_mime_part_get_filename(part) == NULL;
}

/* message_leaf - collect one leaf part: body text or attachment */
static void
message_leaf(Message *message, BodyParts *body, GMimeObject *object)
{
    GMimePart *part = GMIME_PART(object);
    gboolean is_html = FALSE;

    if (message_is_body_text(object, part, &is_html)) {
        g_autofree char *text = message_part_text(part);

        if (!is_html) {
            if (body->have_plain && body->plain->len > 0 &&
                body->plain->str[body->plain->len - 1] != '\n')
                g_string_append_c(body->plain, '\n');
            g_string_append(body->plain, text);
            body->have_plain = TRUE;
        } else if (body->html == NULL) {
            body->html = g_steal_pointer(&text);
        }
        return;
    }
    g_ptr_array_add(message->attachments,
                    message_attachment_new(object, message_part_bytes(part, FALSE),
                                           g_mime_part_get_filename(part)));
}

/* message_body_boundary - the boundary a multipart's body really uses when
 * the one of its header never appears: the first line "--TOKEN" (1 to 70
 * boundary characters, no space) that a "Content-" header line follows and
 * that appears again below, as "--TOKEN" or "--TOKEN--"; NULL when there is
 * none. One pass over the lines, each compared with the one candidate. */
static char *
message_body_boundary(const char *text)
{
    const char *p = text;
    const char *token = NULL;
    gsize token_len = 0;

    while (p != NULL && *p != '\0') {
        const char *eol = strchr(p, '\n');
        gsize len = eol != NULL ? (gsize)(eol - p) : strlen(p);

        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len >= 3 && p[0] == '-' && p[1] == '-') {
            if (token == NULL) {
                gsize n = len - 2;

                while (n > 0 && p[2 + n - 1] == ' ')
                    n--;
                if (n >= 1 && n <= 70 && memchr(p + 2, ' ', n) == NULL &&
                    memchr(p + 2, '\t', n) == NULL && eol != NULL &&
                    g_ascii_strncasecmp(eol + 1, "Content-", 8) == 0) {
                    token = p + 2;
                    token_len = n;
                }
            } else if ((len == token_len + 2 ||
                        (len == token_len + 4 && p[len - 1] == '-' && p[len - 2] == '-')) &&
                       memcmp(p + 2, token, token_len) == 0) {
                return g_strndup(token, token_len);
            }
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    return NULL;
}

/* message_orphan_body - a multipart whose boundary never appears
 * (truncated, or a wrong boundary) holds its whole body in the prologue (the preamble).
 * When that body uses another boundary, parse it again with that one (once
 * per message, so the work stays bounded) and return the new part to walk;
 * otherwise the body is the text, never an empty reply that bounces. */
static GMimeObject *
message_orphan_body(BodyParts *body, GMimeMultipart *multipart)
{
    const char *preamble = g_mime_multipart_get_prologue(multipart);
    GMimeContentType *type = g_mime_object_get_content_type(GMIME_OBJECT(multipart));
    g_autofree char *boundary = NULL;
    g_autofree char *text = NULL;

    if (preamble == NULL || *preamble == '\0')
        return NULL;
    if (!body->reparsed && (boundary = message_body_boundary(preamble)) != NULL) {
        g_autoptr(GMimeStream) stream = NULL;
        g_autoptr(GMimeParser) parser = NULL;
        g_autofree char *head =
            g_strdup_printf("Content-Type: multipart/%s; boundary=\"%s\"\r\n\r\n",
                            type != NULL && g_mime_content_type_get_media_subtype(type) != NULL
                                ? g_mime_content_type_get_media_subtype(type)
                                : "mixed",
                            boundary);
        g_autoptr(GByteArray) bytes = g_byte_array_new();
        GMimeObject *part;

        body->reparsed = TRUE;
        g_byte_array_append(bytes, (const guint8 *)head, (guint)strlen(head));
        g_byte_array_append(bytes, (const guint8 *)preamble, (guint)strlen(preamble));
        /* A second parse is held to the caps of the first (rg-limits.h):
         * over one, the body stays text. */
        if (!message_limits_scan((const char *)bytes->data, bytes->len, NULL))
            goto as_text;
        stream = g_mime_stream_mem_new_with_buffer((const char *)bytes->data, bytes->len);
        parser = g_mime_parser_new_with_stream(stream);
        part = g_mime_parser_construct_part(parser, NULL);
        if (part != NULL && !message_limits_tree(part, NULL))
            g_clear_object(&part);
        if (part != NULL && GMIME_IS_MULTIPART(part) &&
            g_mime_multipart_get_count(GMIME_MULTIPART(part)) > 0) {
            g_ptr_array_add(body->owned, part); /* freed after the walk */
            return part;
        }
        if (part != NULL)
            g_object_unref(part);
    }
as_text:
    text = message_raw_text(preamble, strlen(preamble));
    if (body->have_plain && body->plain->len > 0 && body->plain->str[body->plain->len - 1] != '\n')
        g_string_append_c(body->plain, '\n');
    g_string_append(body->plain, text);
    body->have_plain = TRUE;
    return NULL;
}

/* message_walk - visit the MIME tree with an explicit stack, depth-limited */
static void
message_walk(Message *message, BodyParts *body, GMimeObject *root)
{
    g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(WalkItem));
    WalkItem first = {root, 0};

    if (root == NULL)
        return;
    g_array_append_val(stack, first);
    while (stack->len > 0) {
        WalkItem item = g_array_index(stack, WalkItem, stack->len - 1);

        g_array_set_size(stack, stack->len - 1);
        if (item.depth > MESSAGE_MAX_DEPTH)
            continue;
        if (GMIME_IS_MULTIPART(item.object)) {
            GMimeMultipart *multipart = GMIME_MULTIPART(item.object);
            int n = g_mime_multipart_get_count(multipart);

            /* The second part of multipart/signed is the PGP or S/MIME
             * signature: protocol, not something the person attached. */
            if (GMIME_IS_MULTIPART_SIGNED(item.object) && n > 1)
                n = 1;
            if (n == 0) {
                WalkItem again = {message_orphan_body(body, multipart), item.depth + 1};

                if (again.object != NULL)
                    g_array_append_val(stack, again);
                continue;
            }

            /* Pushed in reverse, so the parts are visited in order. */
            for (int i = n - 1; i >= 0; i--) {
                WalkItem child = {g_mime_multipart_get_part(multipart, i), item.depth + 1};

                if (child.object != NULL)
                    g_array_append_val(stack, child);
            }
        } else if (GMIME_IS_MESSAGE_PART(item.object)) {
            GMimeObject *object = item.object;
            const char *name = g_mime_object_get_content_disposition_parameter(object, "filename");

            if (name == NULL)
                name = g_mime_object_get_content_type_parameter(object, "name");
            g_ptr_array_add(
                message->attachments,
                message_attachment_new(
                    object, message_embedded_bytes(GMIME_MESSAGE_PART(object), body->crlf), name));
        } else if (GMIME_IS_PART(item.object)) {
            message_leaf(message, body, item.object);
        }
    }
}

/* message_headers - copy the top-level header fields, unfolded, in order */
static void
message_headers(Message *message, GMimeObject *object)
{
    GMimeHeaderList *list = g_mime_object_get_header_list(object);
    int n = list != NULL ? g_mime_header_list_get_count(list) : 0;

    for (int i = 0; i < n; i++) {
        GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
        const char *name = g_mime_header_get_name(header);
        const char *raw = g_mime_header_get_raw_value(header);
        HeaderField field;

        if (name == NULL)
            continue;
        field.name = message_valid_text(name, strlen(name));
        field.value = message_unfold(raw != NULL ? raw : g_mime_header_get_value(header));
        g_array_append_val(message->headers, field);
    }
}

/* message_envelope - subject, date, sender and thread ids */
static void
message_envelope(Message *message, GMimeMessage *mime)
{
    const char *subject = g_mime_message_get_subject(mime);
    const char *id = g_mime_message_get_message_id(mime);
    GDateTime *date = g_mime_message_get_date(mime);
    InternetAddressList *from = g_mime_message_get_from(mime);
    const char *value;

    if (subject != NULL)
        message->subject = message_valid_text(subject, strlen(subject));
    if (id != NULL && *id != '\0')
        message->message_id = message_valid_text(id, strlen(id));
    /* In UTC, whatever the offset: "+2359" is valid mail and out of
     * PostgreSQL's range. A value that has no UTC time (a year past 9999
     * once the offset is applied) is dropped, with a warning. */
    if (date != NULL) {
        message->date = g_date_time_to_utc(date);
        if (message->date == NULL) {
            message->date_dropped = TRUE;
            g_ptr_array_add(message->warnings,
                            g_strdup("the Date header is out of range: stored without a date"));
        }
    }
    for (int i = 0; from != NULL && i < internet_address_list_length(from); i++) {
        InternetAddress *ia = internet_address_list_get_address(from, i);
        const char *name = internet_address_get_name(ia);
        const char *addr;

        if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
            continue;
        addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
        if (name != NULL && *name != '\0')
            message->from_name = message_valid_text(name, strlen(name));
        if (addr != NULL && *addr != '\0')
            message->from_address = message_valid_text(addr, strlen(addr));
        break;
    }
    /* The key lookup's own reader of message ids, so the ids stored are the
     * ones it looked at: Exchange and iOS write References as one quoted
     * string, others as a comma-separated list. */
    value = message_header(message, "In-Reply-To");
    if (value != NULL) {
        g_autoptr(GPtrArray) ids = keyfind_message_ids(value);
        g_autofree char *decoded = NULL;

        if (ids->len == 0)
            decoded = g_mime_utils_decode_message_id(value);
        else
            decoded = g_strdup(g_ptr_array_index(ids, 0));
        if (decoded != NULL && *decoded != '\0')
            message->in_reply_to = message_valid_text(decoded, strlen(decoded));
    }
    value = message_header(message, "References");
    if (value != NULL) {
        g_autoptr(GPtrArray) ids = keyfind_message_ids(value);

        for (guint i = 0; i < ids->len; i++) {
            const char *ref = g_ptr_array_index(ids, i);

            g_ptr_array_add(message->references, message_valid_text(ref, strlen(ref)));
        }
    }
}

/* message_is_blank - only ASCII white space, or nothing */
static gboolean
message_is_blank(const char *text)
{
    for (const char *p = text; *p != '\0'; p++)
        if (!g_ascii_isspace(*p))
            return FALSE;
    return TRUE;
}

/* message_texts - body_text, body_html, reply_text and quoted_text */
static void
message_texts(Message *message, BodyParts *body)
{
    message->body_html = g_steal_pointer(&body->html);
    /* Some clients send an empty text/plain beside the real HTML one. */
    if (body->have_plain && message->body_html != NULL && message_is_blank(body->plain->str))
        body->have_plain = FALSE;
    if (body->have_plain) {
        message->body_text = g_strdup(body->plain->str);
        trim_reply(message->body_text, &message->reply_text, &message->quoted_text);
        return;
    }
    if (message->body_html == NULL) {
        message->body_text = g_strdup("");
        message->reply_text = g_strdup("");
        message->quoted_text = g_strdup("");
        return;
    }
    /* Only HTML: trim-html.c cuts the client's quote blocks, then the usual
     * cut over what is left. */
    trim_html_reply(message->body_html, strlen(message->body_html), &message->body_text,
                    &message->reply_text, &message->quoted_text);
}

/* message_parse - see message.h */
Message *
message_parse(GBytes *raw, GError **error)
{
    g_autoptr(Message) message = g_new0(Message, 1);
    g_autoptr(GMimeStream) stream = NULL;
    g_autoptr(GMimeParser) parser = NULL;
    g_autoptr(GMimeMessage) mime = NULL;
    GMimeParserOptions *options;
    BodyParts body = {NULL, NULL, FALSE, FALSE, FALSE, NULL};
    HeaderCount count = {NULL, 0, FALSE};
    static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
    gsize len;
    const char *data = g_bytes_get_data(raw, &len);

    message_gmime_init();
    message->raw = g_bytes_ref(raw);
    message->headers = g_array_new(FALSE, FALSE, sizeof(HeaderField));
    message->references = g_ptr_array_new_with_free_func(g_free);
    message->attachments = g_ptr_array_new_with_free_func(message_attachment_free);
    message->warnings = g_ptr_array_new_with_free_func(g_free);
    if (len == 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_DATAERR, "the message is empty");
        return NULL;
    }

    options = g_mime_parser_options_new();
    g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_fallback_charsets(options, fallback);
    g_mime_parser_options_set_warning_callback(options, message_warning, message->warnings);

    /* Caps first: GMime would spend its memory before any walk could count. */
    if (!message_limits_scan(data, len, error)) {
        g_mime_parser_options_free(options);
        return NULL;
    }
    stream = g_mime_stream_mem_new_with_buffer(data, len);
    parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    count.stream = stream;
    g_mime_parser_set_header_regex(parser, "^", message_count_header, &count);
    mime = g_mime_parser_construct_message(parser, options);
    if (count.over) {
        g_mime_parser_options_free(options);
        g_set_error(error, RG_ERROR, RG_ERROR_TOOBIG, "more than %d header fields",
                    LIMIT_HEADER_FIELDS);
        return NULL;
    }
    if (mime == NULL) {
        g_mime_parser_options_free(options);
        g_set_error(error, RG_ERROR, RG_ERROR_DATAERR, "the message cannot be parsed");
        return NULL;
    }
    if (!message_limits_tree(g_mime_message_get_mime_part(mime), error)) {
        g_mime_parser_options_free(options);
        return NULL;
    }
    message_headers(message, GMIME_OBJECT(mime));
    if (message->headers->len == 0) {
        g_mime_parser_options_free(options);
        g_set_error(error, RG_ERROR, RG_ERROR_DATAERR,
                    "the message cannot be parsed: it has no header fields");
        return NULL;
    }
    message_envelope(message, mime);

    body.plain = g_string_new(NULL);
    body.owned = g_ptr_array_new_with_free_func(g_object_unref);
    {
        const char *eol = memchr(data, '\n', len);

        body.crlf = eol != NULL && eol > data && eol[-1] == '\r';
    }
    message_walk(message, &body, g_mime_message_get_mime_part(mime));
    message_texts(message, &body);
    g_string_free(body.plain, TRUE);
    g_ptr_array_free(body.owned, TRUE);
    g_free(body.html);
    g_mime_parser_options_free(options);
    return g_steal_pointer(&message);
}

/* message_header - see message.h */
const char *
message_header(const Message *message, const char *name)
{
    if (message == NULL || message->headers == NULL)
        return NULL;
    for (guint i = 0; i < message->headers->len; i++) {
        const HeaderField *field = &g_array_index(message->headers, HeaderField, i);

        if (g_ascii_strcasecmp(field->name, name) == 0)
            return field->value;
    }
    return NULL;
}

/* message_free - see message.h */
void
message_free(Message *message)
{
    if (message == NULL)
        return;
    if (message->raw != NULL)
        g_bytes_unref(message->raw);
    if (message->headers != NULL) {
        for (guint i = 0; i < message->headers->len; i++) {
            HeaderField *field = &g_array_index(message->headers, HeaderField, i);

            g_free((char *)field->name);
            g_free((char *)field->value);
        }
        g_array_free(message->headers, TRUE);
    }
    g_free(message->message_id);
    g_free(message->subject);
    if (message->date != NULL)
        g_date_time_unref(message->date);
    g_free(message->from_name);
    g_free(message->from_address);
    g_free(message->in_reply_to);
    if (message->references != NULL)
        g_ptr_array_free(message->references, TRUE);
    g_free(message->body_text);
    g_free(message->body_html);
    g_free(message->reply_text);
    g_free(message->quoted_text);
    if (message->attachments != NULL)
        g_ptr_array_free(message->attachments, TRUE);
    if (message->warnings != NULL)
        g_ptr_array_free(message->warnings, TRUE);
    g_free(message);
}
