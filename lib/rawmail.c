/*
 * rawmail.c - read headers, the body and the fingerprint from raw bytes.
 *
 * One walk over the header block serves all of them: rawmail_next() hands
 * out one field at a time (its name and its raw value, continuation lines
 * included) and stops at the first empty line. Nothing here allocates per
 * byte or looks back, so a hostile header block costs linear time.
 */
/* SHA256_Init and friends, as lib/address.c: replygate-deliver gets them
 * from lib/crypto-lite.c, so that the pipe agent never loads libcrypto (an
 * EVP digest would, and would start OpenSSL's providers for one hash). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>

#include <openssl/sha.h>

#include "autosubmit.h"
#include "rawmail.h"

/* One field of the header block as it lies in the raw bytes. */
typedef struct {
    const char *name; /* NULL for a line that is no field (no colon) */
    gsize name_len;   /* without white space before the colon */
    const char *value;
    gsize value_len; /* through its last line, without that line's end */
} RawField;

/* line_end - the LF that ends the line at p, or end */
static const char *
line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (gsize)(end - p));

    return nl ? nl : end;
}

/* rawmail_next - the field at *pos, moving *pos past it; FALSE at the end of
 * the header block, with *pos then at the body */
static gboolean
rawmail_next(const char *raw, gsize len, gsize *pos, RawField *field)
{
    const char *p = raw + *pos, *end = raw + len;
    const char *eol, *last, *next, *colon;

    if (p >= end)
        return FALSE;
    eol = line_end(p, end);
    if (eol == p || (eol == p + 1 && *p == '\r')) {
        *pos = (gsize)((eol < end ? eol + 1 : end) - raw);
        return FALSE;
    }
    last = eol;
    next = eol < end ? eol + 1 : end;
    while (next < end && (*next == ' ' || *next == '\t')) {
        last = line_end(next, end);
        next = last < end ? last + 1 : end;
    }
    *pos = (gsize)(next - raw);

    field->name = NULL;
    colon = (*p == ' ' || *p == '\t') ? NULL : memchr(p, ':', (gsize)(eol - p));
    if (colon == NULL)
        return TRUE; /* "From " of an mbox, or garbage: no field */
    field->name = p;
    field->name_len = (gsize)(colon - p);
    while (field->name_len > 0 && (p[field->name_len - 1] == ' ' || p[field->name_len - 1] == '\t'))
        field->name_len--;
    field->value = colon + 1;
    field->value_len = (gsize)(last - field->value);
    return TRUE;
}

/* is_name - does field carry this name (any case)? */
static gboolean
is_name(const RawField *field, const char *name)
{
    gsize n = strlen(name);

    return field->name != NULL && field->name_len == n &&
           g_ascii_strncasecmp(field->name, name, n) == 0;
}

/* normalize - a value unfolded, white space runs (SP, HT, CR, LF) made one
 * space, trimmed, appended to out */
static void
normalize(GString *out, const char *value, gsize len)
{
    gboolean space = FALSE;
    gsize start = out->len;

    for (gsize i = 0; i < len; i++) {
        char c = value[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = TRUE;
            continue;
        }
        if (space && out->len > start)
            g_string_append_c(out, ' ');
        space = FALSE;
        g_string_append_c(out, c);
    }
}

/* rawmail_header - the first header called name, normalized */
char *
rawmail_header(const char *raw, gsize len, const char *name)
{
    gsize pos = 0;
    RawField field;

    while (rawmail_next(raw, len, &pos, &field)) {
        if (is_name(&field, name)) {
            GString *out = g_string_new(NULL);
            normalize(out, field.value, field.value_len);
            return g_string_free(out, FALSE);
        }
    }
    return NULL;
}

/* rawmail_body_offset - just after the first empty line, or len */
gsize
rawmail_body_offset(const char *raw, gsize len)
{
    gsize pos = 0;
    RawField field;

    while (rawmail_next(raw, len, &pos, &field))
        ;
    return pos;
}

/* rawmail_message_id - the Message-ID without angle brackets */
char *
rawmail_message_id(const char *raw, gsize len)
{
    g_autofree char *value = rawmail_header(raw, len, "Message-ID");
    const char *lt, *gt;

    if (value == NULL || *value == '\0')
        return NULL;
    lt = strchr(value, '<');
    gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt && gt > lt + 1)
        return g_strndup(lt + 1, (gsize)(gt - lt - 1));
    return lt ? NULL : g_steal_pointer(&value);
}

/* digest_body - the body into the digest with CRLF made LF */
static void
digest_body(SHA256_CTX *ctx, const char *body, gsize len)
{
    const char *p = body, *end = body + len;

    while (p < end) {
        const char *cr = memchr(p, '\r', (gsize)(end - p));

        if (cr == NULL) {
            SHA256_Update(ctx, p, (gsize)(end - p));
            break;
        }
        SHA256_Update(ctx, p, (gsize)(cr - p));
        if (cr + 1 < end && cr[1] == '\n')
            p = cr + 1; /* the LF goes in with the next run */
        else {
            SHA256_Update(ctx, cr, 1); /* a lone CR stays */
            p = cr + 1;
        }
    }
}

/* rawmail_fingerprint - SHA-256 of From NUL Date NUL Subject NUL Message-ID NUL body */
void
rawmail_fingerprint(const char *raw, gsize len, char out[RAWMAIL_FINGERPRINT_HEX + 1])
{
    static const char *const names[] = {"From", "Date", "Subject", "Message-ID"};
    const RawField *first[G_N_ELEMENTS(names)] = {NULL};
    RawField fields[G_N_ELEMENTS(names)];
    g_autoptr(GString) head = g_string_new(NULL);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX ctx;
    gsize pos = 0;
    RawField field;

    while (rawmail_next(raw, len, &pos, &field)) {
        for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
            if (first[i] == NULL && is_name(&field, names[i])) {
                fields[i] = field;
                first[i] = &fields[i];
            }
        }
    }
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        if (first[i] != NULL)
            normalize(head, first[i]->value, first[i]->value_len);
        g_string_append_c(head, '\0');
    }
    if (SHA256_Init(&ctx) != 1)
        g_error("rawmail: cannot start SHA-256"); /* out of memory: the agent defers */
    SHA256_Update(&ctx, head->str, head->len);
    digest_body(&ctx, raw + pos, len - pos);
    SHA256_Final(digest, &ctx);
    for (unsigned int i = 0; i < SHA256_DIGEST_LENGTH && i < RAWMAIL_FINGERPRINT_HEX / 2; i++)
        g_snprintf(out + 2 * i, 3, "%02x", digest[i]);
    out[RAWMAIL_FINGERPRINT_HEX] = '\0';
}

/* rawmail_headers - the fields of the header block, values unfolded */
GArray *
rawmail_headers(const char *raw, gsize len, gsize max_bytes)
{
    GArray *headers = g_array_new(FALSE, FALSE, sizeof(HeaderField));
    gsize pos = 0;
    RawField field;

    while (pos < max_bytes && rawmail_next(raw, len, &pos, &field)) {
        GString *value;
        HeaderField h;

        if (field.name == NULL)
            continue;
        value = g_string_sized_new(field.value_len);
        for (gsize i = 0; i < field.value_len; i++) {
            if (field.value[i] != '\r' && field.value[i] != '\n')
                g_string_append_c(value, field.value[i]);
        }
        h.name = g_strndup(field.name, field.name_len);
        h.value = g_strchug(g_string_free(value, FALSE));
        g_array_append_val(headers, h);
    }
    return headers;
}

/* rawmail_headers_free - free what rawmail_headers() returned */
void
rawmail_headers_free(GArray *headers)
{
    if (headers == NULL)
        return;
    for (guint i = 0; i < headers->len; i++) {
        HeaderField *h = &g_array_index(headers, HeaderField, i);
        g_free((char *)h->name);
        g_free((char *)h->value);
    }
    g_array_free(headers, TRUE);
}
