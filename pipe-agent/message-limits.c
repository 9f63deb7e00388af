/*
 * message-limits.c - hold a message to the caps of rg-limits.h before and
 * after GMime parses it.
 *
 * Counting the parts of a parsed tree is too late: GMime spends about a
 * kilobyte per part while it parses, so 400,000 empty parts in 2.8 MB cost
 * half a gigabyte before any walk could count them. message_limits_scan()
 * therefore reads the raw bytes once, line by line, before GMime sees them:
 *
 *  - the MIME skeleton: header blocks, their Content-Type (type, boundary),
 *    and the boundary lines of the open multiparts, as GMime's parser reads
 *    them, which gives the number of parts and their depth. A boundary this
 *    scan cannot read exactly (RFC 2231 continuations, escapes, encoded
 *    words, 8-bit bytes, two in one field) makes every line that starts
 *    with "--" count as one: the count stays an upper bound, never less;
 *  - every line that starts an address, parameter or message-id header
 *    field, wherever it is (a body line that looks like one only counts
 *    more): the addresses, parameters and ids their separators allow, and
 *    the address groups GMime's recursive address parser would descend into.
 *
 * The header fields of the blocks the skeleton sees are counted too; GMime's
 * own count, by message.c's header callback, stops its parse at the cap. message_limits_tree()
 * checks the parsed tree again, exactly. Every step is linear in the message; a boundary line is
 * compared only with the boundaries of the same length among at most LIMIT_MIME_DEPTH.
 */
#include <string.h>

#include "message-private.h"
#include "rg-error.h"
#include "rg-limits.h"

/* A boundary longer than this is not read: every "--" line counts instead. */
#define BOUNDARY_MAX 1024

typedef enum {
    ENTITY_LEAF,
    ENTITY_MULTIPART,
    ENTITY_MESSAGE,
} EntityKind;

/* One open multipart: its boundary (trailing white space dropped). */
typedef struct {
    const char *boundary;
    gsize len;
    guint depth;     /* of the multipart itself */
    gboolean digest; /* multipart/digest: parts are messages by default */
} OpenBoundary;

typedef struct {
    OpenBoundary open[LIMIT_MIME_DEPTH + 1];
    guint n_open;
    gboolean any_dashes; /* a boundary could not be read: every "--" line is one */
    guint64 parts;
    /* the entity whose header block or body the scan is in */
    gboolean in_headers;
    guint depth;
    gboolean default_message; /* no Content-Type means message/rfc822 */
    EntityKind kind;
    gboolean have_type; /* a Content-Type field was seen in this block */
    const char *boundary;
    gsize boundary_len;
    gboolean digest;
    /* the header field being read, for Content-Type */
    const char *field;
    const char *field_end;
    /* the header-like field being counted, anywhere in the message */
    LimitFieldKind count_kind;
    LimitValueScan count;
    guint64 items;
    guint64 fields; /* in the header blocks the skeleton sees */
    GError **error;
} Scan;

/* is_lwsp - white space inside a header value, folding included */
static gboolean
is_lwsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* is_token - a character of a MIME token (RFC 2045) */
static gboolean
is_token(char c)
{
    return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* scan_fail - set the error once; FALSE for the caller to return */
static gboolean
scan_fail(Scan *s, const char *what, guint64 limit)
{
    g_set_error(s->error, RG_ERROR, RG_ERROR_TOOBIG, "more than %" G_GUINT64_FORMAT " %s", limit,
                what);
    return FALSE;
}

/* field_name_len - the length of the header name that opens line, or 0.
 * Like GMime, white space may stand between the name and its colon. */
static gsize
field_name_len(const char *line, gsize len)
{
    gsize i = 0;
    gsize name;

    while (i < len && line[i] != ':' && line[i] > ' ' && line[i] < 0x7f)
        i++;
    name = i;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return name > 0 && i < len && line[i] == ':' ? name : 0;
}

/* skip_cfws - past white space and (nested) comments */
static const char *
skip_cfws(const char *p, const char *end)
{
    guint depth = 0;

    for (; p < end; p++) {
        if (depth > 0) {
            if (*p == '\\' && p + 1 < end)
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')')
                depth--;
        } else if (*p == '(') {
            depth = 1;
        } else if (!is_lwsp(*p)) {
            break;
        }
    }
    return p;
}

/* read_boundary - the boundary parameter's value at p (just after the name
 * "boundary") into *value; FALSE when it is not one this scan can read
 * exactly, TRUE with *len 0 when "boundary" is no parameter here */
static gboolean
read_boundary(const char *p, const char *end, const char **value, gsize *len)
{
    const char *v;

    *len = 0;
    if (p < end && *p == '*')
        return FALSE; /* RFC 2231: continued or encoded */
    while (p < end && is_lwsp(*p))
        p++;
    if (p >= end || *p != '=')
        return TRUE;
    p++;
    while (p < end && is_lwsp(*p))
        p++;
    if (p < end && *p == '"') {
        v = ++p;
        while (p < end && *p != '"') {
            if (*p == '\\' || *p == '\r' || *p == '\n' || (guchar)*p >= 0x80)
                return FALSE;
            p++;
        }
        if (p >= end)
            return FALSE;
        *value = v;
        *len = (gsize)(p - v);
        p++;
    } else {
        v = p;
        while (p < end && is_token(*p))
            p++;
        if (p < end && ((guchar)*p >= 0x80 || *p == '(' || *p == '"'))
            return FALSE;
        *value = v;
        *len = (gsize)(p - v);
    }
    while (p < end && is_lwsp(*p))
        p++;
    /* Anything but the next parameter or the end is syntax GMime may read
     * differently; so is an encoded word. */
    if ((p < end && *p != ';') || *len > BOUNDARY_MAX ||
        (*len >= 2 && g_strstr_len(*value, (gssize)*len, "=?") != NULL))
        return FALSE;
    while (*len > 0 && is_lwsp((*value)[*len - 1]))
        (*len)--;
    return *len > 0;
}

/* content_type - read a Content-Type field's value [p, end) into the scan */
static void
content_type(Scan *s, const char *p, const char *end)
{
    const char *type, *sub;
    gsize type_len, sub_len, found = 0;

    if (s->have_type) {
        s->any_dashes = TRUE; /* GMime keeps one of two; which is its business */
        return;
    }
    s->have_type = TRUE;
    p = skip_cfws(p, end);
    for (type = p; p < end && is_token(*p); p++)
        ;
    type_len = (gsize)(p - type);
    p = skip_cfws(p, end);
    if (p >= end || *p != '/')
        return; /* GMime falls back to text/plain, or to the digest default */
    p = skip_cfws(p + 1, end);
    for (sub = p; p < end && is_token(*p); p++)
        ;
    sub_len = (gsize)(p - sub);
    if (type_len == 7 && g_ascii_strncasecmp(type, "message", 7) == 0) {
        /* message/partial and message/external-body stay leaves in GMime. */
        s->kind = (sub_len == 7 && g_ascii_strncasecmp(sub, "partial", 7) == 0) ||
                          (sub_len == 13 && g_ascii_strncasecmp(sub, "external-body", 13) == 0)
                      ? ENTITY_LEAF
                      : ENTITY_MESSAGE;
        return;
    }
    if (type_len != 9 || g_ascii_strncasecmp(type, "multipart", 9) != 0) {
        s->kind = ENTITY_LEAF;
        return;
    }
    s->kind = ENTITY_MULTIPART;
    s->digest = sub_len == 6 && g_ascii_strncasecmp(sub, "digest", 6) == 0;
    while (p + 8 <= end) {
        const char *value = NULL;
        gsize len = 0;

        if ((*p | 0x20) != 'b' || g_ascii_strncasecmp(p, "boundary", 8) != 0) {
            p++;
            continue;
        }
        p += 8;
        if (!read_boundary(p, end, &value, &len)) {
            s->any_dashes = TRUE;
            return;
        }
        if (len > 0 && found++ == 0) {
            s->boundary = value;
            s->boundary_len = len;
        } else if (len > 0) {
            s->any_dashes = TRUE; /* two boundaries: GMime takes one of them */
        }
    }
    if (found == 0)
        s->boundary = NULL; /* GMime warns and reads the multipart as one leaf */
}

/* field_done - a header field of the current block is complete */
static void
field_done(Scan *s)
{
    gsize name_len;

    if (s->field == NULL)
        return;
    name_len = field_name_len(s->field, (gsize)(s->field_end - s->field));
    if (name_len == 12 && g_ascii_strncasecmp(s->field, "content-type", 12) == 0)
        content_type(s, (const char *)memchr(s->field, ':', (gsize)(s->field_end - s->field)) + 1,
                     s->field_end);
    s->field = NULL;
}

/* entity_begin - a new entity (a part, or an embedded message) at depth */
static gboolean
entity_begin(Scan *s, guint depth, gboolean default_message)
{
    if (++s->parts > LIMIT_MIME_PARTS)
        return scan_fail(s, "MIME parts", LIMIT_MIME_PARTS);
    if (depth > LIMIT_MIME_DEPTH)
        return scan_fail(s, "levels of MIME nesting", LIMIT_MIME_DEPTH);
    s->in_headers = TRUE;
    s->depth = depth;
    s->default_message = default_message;
    s->kind = default_message ? ENTITY_MESSAGE : ENTITY_LEAF;
    s->have_type = FALSE;
    s->boundary = NULL;
    s->digest = FALSE;
    s->field = NULL;
    return TRUE;
}

/* headers_done - the blank line after a header block: what its body is */
static gboolean
headers_done(Scan *s)
{
    field_done(s);
    s->in_headers = FALSE;
    if (s->kind == ENTITY_MESSAGE)
        return entity_begin(s, s->depth + 1, FALSE);
    if (s->kind == ENTITY_MULTIPART && s->boundary != NULL) {
        OpenBoundary *b;

        if (s->n_open >= G_N_ELEMENTS(s->open))
            return scan_fail(s, "levels of MIME nesting", LIMIT_MIME_DEPTH);
        b = &s->open[s->n_open++];
        b->boundary = s->boundary;
        b->len = s->boundary_len;
        b->depth = s->depth;
        b->digest = s->digest;
    }
    return TRUE;
}

/* boundary_line - a line that starts with "--": a boundary of an open
 * multipart (or, after an unreadable one, of an unknown multipart)? Sets
 * *matched; FALSE only when a cap is passed. */
static gboolean
boundary_line(Scan *s, const char *line, gsize len, gboolean *matched)
{
    const char *rest = line + 2;
    gsize n = len - 2;

    while (n > 0 && is_lwsp(rest[n - 1]))
        n--;
    for (guint k = s->n_open; k > 0; k--) {
        OpenBoundary *b = &s->open[k - 1];
        gboolean end = n == b->len + 2 && rest[n - 1] == '-' && rest[n - 2] == '-';

        if ((n != b->len && !end) || memcmp(rest, b->boundary, b->len) != 0)
            continue;
        field_done(s);
        *matched = TRUE;
        if (end) {
            s->n_open = k - 1;
            s->in_headers = FALSE;
            return TRUE;
        }
        s->n_open = k;
        return entity_begin(s, b->depth + 1, b->digest);
    }
    if (s->any_dashes) {
        field_done(s);
        *matched = TRUE;
        return entity_begin(s, MAX(s->depth, 1), FALSE);
    }
    return TRUE;
}

/* count_line - the header-like fields anywhere: addresses, parameters, ids */
static gboolean
count_line(Scan *s, const char *line, gsize len)
{
    gsize name_len;
    const char *value = line;

    if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
        if (s->count_kind == LIMIT_FIELD_OTHER)
            return TRUE;
    } else {
        s->count_kind = LIMIT_FIELD_OTHER;
        name_len = field_name_len(line, len);
        if (name_len == 0)
            return TRUE;
        s->count_kind = limits_field_kind(line, name_len);
        if (s->count_kind == LIMIT_FIELD_OTHER)
            return TRUE;
        memset(&s->count, 0, sizeof s->count);
        value = (const char *)memchr(line, ':', len) + 1;
    }
    {
        guint64 before = s->count.items;

        limits_value_scan(&s->count, s->count_kind, value, (gsize)(line + len - value));
        s->items += s->count.items - before;
    }
    if (s->count.groups > LIMIT_ADDRESS_GROUPS)
        return scan_fail(s, "address groups in one header field", LIMIT_ADDRESS_GROUPS);
    if (s->items > LIMIT_HEADER_ITEMS)
        return scan_fail(s, "addresses, parameters and message ids in the headers",
                         LIMIT_HEADER_ITEMS);
    return TRUE;
}

/* message_limits_scan - see message-private.h */
gboolean
message_limits_scan(const char *data, gsize len, GError **error)
{
    g_autofree Scan *s = g_new0(Scan, 1);
    gsize pos = 0;

    s->error = error;
    if (!entity_begin(s, 0, FALSE))
        return FALSE;
    while (pos < len) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        gsize full = nl != NULL ? (gsize)(nl - line) + 1 : len - pos;
        gsize n = nl != NULL ? (gsize)(nl - line) : len - pos;

        pos += full;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (!count_line(s, line, n))
            return FALSE;
        if (n >= 2 && line[0] == '-' && line[1] == '-') {
            gboolean matched = FALSE;

            if (!boundary_line(s, line, n, &matched))
                return FALSE;
            if (matched)
                continue;
        }
        if (!s->in_headers)
            continue;
        if (n == 0) {
            if (!headers_done(s))
                return FALSE;
        } else if (line[0] == ' ' || line[0] == '\t') {
            if (s->field != NULL)
                s->field_end = line + n;
        } else {
            field_done(s);
            if (++s->fields > LIMIT_HEADER_FIELDS)
                return scan_fail(s, "header fields", LIMIT_HEADER_FIELDS);
            s->field = line;
            s->field_end = line + n;
        }
    }
    return TRUE;
}

/* One entry of the tree walk's explicit stack. */
typedef struct {
    GMimeObject *object; /* borrowed */
    guint depth;
} TreeItem;

/* message_limits_tree - see message-private.h */
gboolean
message_limits_tree(GMimeObject *root, GError **error)
{
    g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(TreeItem));
    TreeItem first = {root, 0};
    guint64 parts = 0;

    if (root != NULL)
        g_array_append_val(stack, first);
    while (stack->len > 0) {
        TreeItem item = g_array_index(stack, TreeItem, stack->len - 1);

        g_array_set_size(stack, stack->len - 1);
        if (++parts > LIMIT_MIME_PARTS) {
            g_set_error(error, RG_ERROR, RG_ERROR_TOOBIG, "more than %d MIME parts",
                        LIMIT_MIME_PARTS);
            return FALSE;
        }
        if (item.depth > LIMIT_MIME_DEPTH) {
            g_set_error(error, RG_ERROR, RG_ERROR_TOOBIG, "more than %d levels of MIME nesting",
                        LIMIT_MIME_DEPTH);
            return FALSE;
        }
        if (GMIME_IS_MULTIPART(item.object)) {
            GMimeMultipart *multipart = GMIME_MULTIPART(item.object);
            int n = g_mime_multipart_get_count(multipart);

            for (int i = 0; i < n; i++) {
                TreeItem child = {g_mime_multipart_get_part(multipart, i), item.depth + 1};

                if (child.object != NULL)
                    g_array_append_val(stack, child);
            }
        } else if (GMIME_IS_MESSAGE_PART(item.object)) {
            GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(item.object));
            TreeItem child = {inner != NULL ? g_mime_message_get_mime_part(inner) : NULL,
                              item.depth + 1};

            if (child.object != NULL)
                g_array_append_val(stack, child);
        }
    }
    return TRUE;
}
