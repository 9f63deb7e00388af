/*
 * message-text.c - a MIME part's content as valid UTF-8 text.
 *
 * The content goes through a data wrapper (transfer encoding, line ends)
 * and GMime's iconv with its charset aliases, with windows-1252 standing in
 * for mislabelled or unknown charsets and each invalid byte replaced by
 * U+FFFD. A format=flowed text is unflowed (RFC 3676). message.c uses these
 * for the body and the header values, message-attach.c for the file names.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include <gmime/gmime.h>

#include "message-private.h"
#include "rg-autoptr.h"

/* message_valid_text - len bytes as valid UTF-8 without NULs (new string) */
char *
message_valid_text(const char *text, gsize len)
{
    g_autofree char *valid = g_utf8_make_valid(text, (gssize)len);
    GString *out;

    if (memchr(text, '\0', len) == NULL)
        return g_steal_pointer(&valid);
    /* g_utf8_make_valid() keeps NULs, which would cut a C string short. */
    out = g_string_sized_new(len + 16);
    for (gsize i = 0; i < len; i++) {
        if (text[i] == '\0')
            g_string_append(out, "\xEF\xBF\xBD");
        else
            g_string_append_c(out, text[i]);
    }
    g_free(valid);
    valid = g_utf8_make_valid(out->str, (gssize)out->len);
    g_string_free(out, TRUE);
    return g_steal_pointer(&valid);
}

/* message_stream_bytes - take a memory stream's bytes without copying them */
GBytes *
message_stream_bytes(GMimeStream *mem)
{
    GByteArray *array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));

    /* The stream gives up the array; the GBytes owns it from here on. */
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    return g_byte_array_free_to_bytes(array);
}

/* message_part_bytes - the decoded content of a leaf part; text also has its
 * CRLF line ends turned into LF */
GBytes *
message_part_bytes(GMimePart *part, gboolean text)
{
    GMimeDataWrapper *wrapper = g_mime_part_get_content(part);
    g_autoptr(GMimeStream) mem = NULL;
    g_autoptr(GMimeStream) filtered = NULL;

    if (wrapper == NULL)
        return g_bytes_new(NULL, 0);
    mem = g_mime_stream_mem_new();
    filtered = g_mime_stream_filter_new(mem);
    if (text) {
        g_autoptr(GMimeFilter) dos2unix = g_mime_filter_dos2unix_new(FALSE);

        g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), dos2unix);
    }
    /* write_to_stream undoes the Content-Transfer-Encoding. */
    g_mime_data_wrapper_write_to_stream(wrapper, filtered);
    g_mime_stream_flush(filtered);
    return message_stream_bytes(mem);
}

/* The WHATWG Encoding Standard's labels of its Shift_JIS and EUC-JP
 * decoders. Both decode bytes below 0x80 as ASCII, as mail clients do, so
 * '~' and '\\' stay themselves; glibc's SHIFT_JIS makes them U+203E and
 * U+00A5. Its CP932 (Windows-31J, the table WHATWG's Shift_JIS uses) and
 * EUC-JP-MS (EUC-JP with the same NEC and IBM extensions) do as WHATWG. */
static const char *const shift_jis_labels[] = {
    "csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j",
    "x-sjis",     "cp932", "ibm-943",  "sjis-open", "sjis-win",  NULL,
};
static const char *const euc_jp_labels[] = {
    "cseucpkdfmtjapanese", "euc-jp", "x-euc-jp", "eucjp", "euc_jp", "eucjp-ms", "euc-jp-ms", NULL,
};

/* message_japanese_charset - the iconv name for a Japanese charset label
 * that WHATWG decodes differently from glibc's same name, else declared.
 * ISO-2022-JP is left as it is: its own escape to JIS-Roman maps 0x5C and
 * 0x7E to the yen sign and overline in WHATWG's decoder too. */
static const char *
message_japanese_charset(const char *declared, const char *canon)
{
    for (gsize i = 0; shift_jis_labels[i] != NULL; i++)
        if (g_ascii_strcasecmp(declared, shift_jis_labels[i]) == 0 ||
            g_ascii_strcasecmp(canon, shift_jis_labels[i]) == 0)
            return "CP932";
    for (gsize i = 0; euc_jp_labels[i] != NULL; i++)
        if (g_ascii_strcasecmp(declared, euc_jp_labels[i]) == 0 ||
            g_ascii_strcasecmp(canon, euc_jp_labels[i]) == 0)
            return "EUC-JP-MS";
    return declared;
}

/* message_charset_for - the charset to convert from, or NULL for "as UTF-8".
 * Latin-1 and US-ASCII labels often hide windows-1252 (curly quotes in
 * 0x80-0x9F), which is a superset for every printable Latin-1 byte. */
static const char *
message_charset_for(const char *declared)
{
    const char *canon;

    if (declared == NULL || *declared == '\0')
        return NULL;
    canon = g_mime_charset_canon_name(declared);
    if (canon == NULL)
        return declared;
    if (g_ascii_strcasecmp(canon, "utf-8") == 0 || g_ascii_strcasecmp(canon, "utf8") == 0)
        return NULL;
    if (g_ascii_strcasecmp(canon, "iso-8859-1") == 0 ||
        g_ascii_strcasecmp(canon, "us-ascii") == 0 || g_ascii_strcasecmp(canon, "ascii") == 0 ||
        g_ascii_strcasecmp(canon, "latin1") == 0)
        return "windows-1252";
    return message_japanese_charset(declared, canon);
}

/* message_unflow - undo RFC 3676 format=flowed: join soft-broken lines of the
 * same quote depth, remove space-stuffing, keep "-- " as it is */
static char *
message_unflow(const char *text, gboolean delsp)
{
    GString *out = g_string_sized_new(strlen(text));
    const char *p = text;
    int open_depth = -1; /* depth of the paragraph being joined, -1 if none */

    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        gsize len = eol != NULL ? (gsize)(eol - p) : strlen(p);
        const char *content = p;
        int depth = 0;
        gsize clen;
        gboolean flowed;

        while ((gsize)(content - p) < len && *content == '>') {
            depth++;
            content++;
        }
        if ((gsize)(content - p) < len && *content == ' ')
            content++; /* space-stuffing, or the space after the quote marks */
        clen = len - (gsize)(content - p);
        flowed =
            clen > 0 && content[clen - 1] == ' ' && !(clen == 3 && memcmp(content, "-- ", 3) == 0);
        if (open_depth != depth) {
            if (open_depth >= 0)
                g_string_append_c(out, '\n');
            for (int i = 0; i < depth; i++)
                g_string_append_c(out, '>');
            if (depth > 0 && clen > 0)
                g_string_append_c(out, ' ');
        }
        g_string_append_len(out, content, flowed && delsp ? clen - 1 : clen);
        if (flowed) {
            open_depth = depth;
        } else {
            g_string_append_c(out, '\n');
            open_depth = -1;
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    if (open_depth >= 0)
        g_string_append_c(out, '\n');
    /* Keep the text's own ending: no newline added at the very end. */
    if (out->len > 0 && text[0] != '\0' && text[strlen(text) - 1] != '\n' &&
        out->str[out->len - 1] == '\n')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

/* message_convert - len bytes in charset from to UTF-8 (new string), or NULL
 * when there is no converter for from. Unlike GMime's charset filter, which
 * drops bytes it cannot convert, each invalid sequence becomes U+FFFD.
 * iconv() is handed at most MESSAGE_ICONV_CHUNK bytes at a time: an invalid
 * byte stops it, and a checker that looks at the whole input of every call
 * (AddressSanitizer's iconv interceptor) would otherwise make 10 MB of
 * invalid bytes quadratic (265 s instead of 1.5 s). */
#define MESSAGE_ICONV_CHUNK 1024 /* a quarter of buf: the output never fills first */
static char *
message_convert(const char *data, gsize len, const char *from, gsize *out_len)
{
    iconv_t cd = g_mime_iconv_open("UTF-8", from);
    GString *out;
    char *in = (char *)data;
    size_t inleft = len;
    char buf[4096];

    if (cd == (iconv_t)-1)
        return NULL;
    out = g_string_sized_new(len + len / 2 + 16);
    while (inleft > 0) {
        char *outp = buf;
        size_t outleft = sizeof buf;
        size_t chunk = MIN(inleft, (size_t)MESSAGE_ICONV_CHUNK);
        size_t chunkleft = chunk;
        size_t rc = iconv(cd, &in, &chunkleft, &outp, &outleft);

        inleft -= chunk - chunkleft;
        g_string_append_len(out, buf, (gssize)(sizeof buf - outleft));
        if (rc != (size_t)-1)
            continue;
        if (errno == E2BIG)
            continue;
        if (errno == EINVAL && chunkleft < chunk && chunk < inleft + (chunk - chunkleft))
            continue; /* cut by the chunk, not by the end: the next call has it whole */
        /* EILSEQ or EINVAL (a sequence cut short at the end): replace one byte. */
        g_string_append(out, "\xEF\xBF\xBD");
        in++;
        inleft--;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    {
        /* Flush a stateful encoding (ISO-2022-JP) back to its initial state. */
        char *outp = buf;
        size_t outleft = sizeof buf;

        iconv(cd, NULL, NULL, &outp, &outleft);
        g_string_append_len(out, buf, (gssize)(sizeof buf - outleft));
    }
    g_mime_iconv_close(cd);
    *out_len = out->len;
    return g_string_free(out, FALSE);
}

/* message_raw_text - bytes of no declared charset as valid UTF-8 with LF
 * line ends: UTF-8 when they are, else windows-1252 (new string) */
char *
message_raw_text(const char *data, gsize len)
{
    GString *lf = g_string_sized_new(len);
    g_autofree char *converted = NULL;
    gsize converted_len = 0;

    for (gsize i = 0; i < len; i++)
        if (data[i] != '\r' || i + 1 >= len || data[i + 1] != '\n')
            g_string_append_c(lf, data[i]);
    if (!g_utf8_validate(lf->str, (gssize)lf->len, NULL))
        converted = message_convert(lf->str, lf->len, "windows-1252", &converted_len);
    if (converted != NULL) {
        g_string_free(lf, TRUE);
        return message_valid_text(converted, converted_len);
    }
    {
        char *text = message_valid_text(lf->str, lf->len);

        g_string_free(lf, TRUE);
        return text;
    }
}

/* message_part_text - a text part's content as valid UTF-8 (new string) */
char *
message_part_text(GMimePart *part)
{
    GMimeObject *object = GMIME_OBJECT(part);
    const char *declared = g_mime_object_get_content_type_parameter(object, "charset");
    const char *from = message_charset_for(declared);
    const char *format = g_mime_object_get_content_type_parameter(object, "format");
    g_autoptr(GBytes) bytes = message_part_bytes(part, TRUE);
    g_autofree char *converted = NULL;
    gsize converted_len = 0;
    gsize len;
    const char *data = g_bytes_get_data(bytes, &len);
    gboolean valid = FALSE;
    char *text;

    if (len == 0)
        return g_strdup("");
    if (from != NULL)
        converted =
            message_convert(data, len, from, &converted_len); /* NULL for an unknown charset */
    if (converted == NULL) {
        /* g_utf8_validate() with a length refuses a NUL too: text it accepts
         * is a C string as it is, and needs no second look below. */
        valid = g_utf8_validate(data, (gssize)len, NULL);
        if (!valid && (declared == NULL || g_ascii_strcasecmp(declared, "utf-8") != 0)) {
            /* Undeclared or unknown 8-bit text is most often windows-1252. */
            converted = message_convert(data, len, "windows-1252", &converted_len);
        }
    }
    if (converted != NULL && g_utf8_validate(converted, (gssize)converted_len, NULL))
        text = g_steal_pointer(&converted); /* message_convert() ends it with a NUL */
    else if (converted != NULL)
        text = message_valid_text(converted, converted_len);
    else if (valid)
        text = g_strndup(data, len);
    else
        text = message_valid_text(data, len);
    if (format != NULL && g_ascii_strcasecmp(format, "flowed") == 0) {
        const char *delsp = g_mime_object_get_content_type_parameter(object, "delsp");
        char *unflowed =
            message_unflow(text, delsp != NULL && g_ascii_strcasecmp(delsp, "yes") == 0);

        g_free(text);
        text = unflowed;
    }
    return text;
}
