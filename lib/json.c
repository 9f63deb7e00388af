/*
 * json.c - append JSON values to a GString (RFC 8259).
 *
 * Message text may hold anything, so strings are escaped byte by byte and
 * invalid UTF-8 becomes U+FFFD: the output always parses.
 */
#include <string.h>

#include "json.h"

/* json_append_string_len - append len bytes as a JSON string */
void
json_append_string_len(GString *out, const char *text, gsize len)
{
    const char *p = text;
    const char *end;

    if (text == NULL) {
        g_string_append(out, "null");
        return;
    }
    end = text + len; /* only now: NULL + 0 is undefined behaviour */
    g_string_append_c(out, '"');
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x80) {
            switch (c) {
            case '"':
                g_string_append(out, "\\\"");
                break;
            case '\\':
                g_string_append(out, "\\\\");
                break;
            case '\n':
                g_string_append(out, "\\n");
                break;
            case '\r':
                g_string_append(out, "\\r");
                break;
            case '\t':
                g_string_append(out, "\\t");
                break;
            default:
                if (c < 0x20 || c == 0x7f)
                    g_string_append_printf(out, "\\u%04x", c);
                else
                    g_string_append_c(out, (char)c);
            }
            p++;
            continue;
        }
        {
            const char *next = NULL;
            gunichar u = g_utf8_get_char_validated(p, end - p);
            if (u == (gunichar)-1 || u == (gunichar)-2) {
                g_string_append(out, "\\ufffd");
                p++;
                continue;
            }
            next = g_utf8_next_char(p);
            if (u == 0x2028 || u == 0x2029)
                g_string_append_printf(out, "\\u%04x", u);
            else
                g_string_append_len(out, p, next - p);
            p = next;
        }
    }
    g_string_append_c(out, '"');
}

/* json_append_string - append text as a JSON string, or null */
void
json_append_string(GString *out, const char *text)
{
    json_append_string_len(out, text, text ? strlen(text) : 0);
}

/* json_append_member - append "name": with a comma before it unless first */
void
json_append_member(GString *out, const char *name, gboolean *first)
{
    if (first != NULL && !*first)
        g_string_append(out, ", ");
    if (first != NULL)
        *first = FALSE;
    json_append_string(out, name);
    g_string_append(out, ": ");
}
