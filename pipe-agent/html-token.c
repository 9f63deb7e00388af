/*
 * html-token.c - read HTML for html_to_text(): tags and their attributes,
 * the end of raw-text elements, and character references (the common
 * named ones and every numeric one).
 *
 * Each function reads forward only, so a hostile document (unclosed tags,
 * a megabyte attribute, a missing end tag) costs time linear in its size.
 */
#include <string.h>

#include "html-token.h"

typedef struct {
    const char *name;
    const char *utf8;
} Entity;

static const Entity entities[] = {
    {"amp", "&"},         {"lt", "<"},     {"gt", ">"},     {"quot", "\""},  {"apos", "'"},
    {"nbsp", "\xC2\xA0"}, {"copy", "©"},   {"reg", "®"},    {"trade", "™"},  {"hellip", "…"},
    {"mdash", "—"},       {"ndash", "–"},  {"lsquo", "‘"},  {"rsquo", "’"},  {"ldquo", "“"},
    {"rdquo", "”"},       {"sbquo", "‚"},  {"bdquo", "„"},  {"bull", "•"},   {"middot", "·"},
    {"euro", "€"},        {"pound", "£"},  {"yen", "¥"},    {"cent", "¢"},   {"laquo", "«"},
    {"raquo", "»"},       {"times", "×"},  {"divide", "÷"}, {"deg", "°"},    {"para", "¶"},
    {"sect", "§"},        {"shy", ""},     {"zwnj", ""},    {"zwj", ""},     {"ensp", " "},
    {"emsp", " "},        {"thinsp", " "}, {"iexcl", "¡"},  {"iquest", "¿"}, {"auml", "ä"},
    {"ouml", "ö"},        {"uuml", "ü"},   {"Auml", "Ä"},   {"Ouml", "Ö"},   {"Uuml", "Ü"},
    {"szlig", "ß"},       {"eacute", "é"}, {"egrave", "è"}, {"ecirc", "ê"},  {"euml", "ë"},
    {"agrave", "à"},      {"aacute", "á"}, {"acirc", "â"},  {"atilde", "ã"}, {"aring", "å"},
    {"aelig", "æ"},       {"ccedil", "ç"}, {"ntilde", "ñ"}, {"oacute", "ó"}, {"ograve", "ò"},
    {"ocirc", "ô"},       {"otilde", "õ"}, {"oslash", "ø"}, {"iacute", "í"}, {"igrave", "ì"},
    {"icirc", "î"},       {"iuml", "ï"},   {"uacute", "ú"}, {"ugrave", "ù"}, {"ucirc", "û"},
    {"Eacute", "É"},      {"Egrave", "È"}, {"Agrave", "À"}, {"Aacute", "Á"}, {"Aring", "Å"},
    {"AElig", "Æ"},       {"Oslash", "Ø"}, {"Ccedil", "Ç"}, {"Ntilde", "Ñ"}, {"Oacute", "Ó"},
    {"Uacute", "Ú"},      {"Iacute", "Í"}, {"larr", "←"},   {"rarr", "→"},   {"uarr", "↑"},
    {"darr", "↓"},        {"check", "✓"},  {"minus", "−"},  {NULL, NULL},
};

/* html_decode_entity - decode the entity at s[0] == '&' into out; the bytes read. */
gsize
html_decode_entity(const char *s, gsize len, GString *out)
{
    gsize i = 1;

    if (i < len && s[i] == '#') {
        gunichar v = 0;
        gboolean hex = i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X');
        gsize digits = 0;

        i += hex ? 2 : 1;
        while (i < len && digits < 8 && (hex ? g_ascii_isxdigit(s[i]) : g_ascii_isdigit(s[i]))) {
            v = v * (hex ? 16 : 10) +
                (gunichar)(hex ? g_ascii_xdigit_value(s[i]) : g_ascii_digit_value(s[i]));
            i++;
            digits++;
        }
        if (digits == 0) {
            g_string_append_c(out, '&');
            return 1;
        }
        if (i < len && s[i] == ';')
            i++;
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        g_string_append_unichar(out, v);
        return i;
    }
    while (i < len && i < 34 && g_ascii_isalnum(s[i]))
        i++;
    if (i > 1) {
        const Entity *e;
        gboolean semi = i < len && s[i] == ';';

        for (e = entities; e->name != NULL; e++) {
            if (strlen(e->name) != i - 1 || strncmp(s + 1, e->name, i - 1) != 0)
                continue;
            if (!semi && i - 1 > 4)
                break;
            g_string_append(out, e->utf8);
            return semi ? i + 1 : i;
        }
    }
    g_string_append_c(out, '&');
    return 1;
}

/* html_decode_span - an attribute value with its entities decoded. */
char *
html_decode_span(HtmlSpan s)
{
    GString *out = g_string_sized_new(s.len);
    gsize i = 0;

    while (i < s.len) {
        if (s.p[i] == '&') {
            i += html_decode_entity(s.p + i, s.len - i, out);
        } else {
            g_string_append_c(out, s.p[i]);
            i++;
        }
    }
    return g_string_free(out, FALSE);
}

/* html_parse_tag - read the tag at s[0] == '<' (not a comment); the bytes read. */
gsize
html_parse_tag(const char *s, gsize len, HtmlTag *t)
{
    gsize i = 1;
    gsize n = 0;

    memset(t, 0, sizeof *t);
    if (i < len && s[i] == '/') {
        t->end = TRUE;
        i++;
    }
    while (i < len && (g_ascii_isalnum(s[i]) || s[i] == ':' || s[i] == '-' || s[i] == '_')) {
        if (n < NAME_MAX_LEN)
            t->name[n++] = g_ascii_tolower(s[i]);
        i++;
    }
    for (;;) {
        gsize a;
        gsize alen;
        HtmlSpan value = {NULL, 0};

        while (i < len && (g_ascii_isspace(s[i]) || s[i] == '/')) {
            if (s[i] == '/' && i + 1 < len && s[i + 1] == '>')
                t->self_closing = TRUE;
            i++;
        }
        if (i >= len)
            return len;
        if (s[i] == '>')
            return i + 1;
        a = i;
        while (i < len && !g_ascii_isspace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/')
            i++;
        alen = i - a;
        if (alen == 0) {
            i++; /* a stray character such as '"' */
            continue;
        }
        while (i < len && g_ascii_isspace(s[i]))
            i++;
        if (i < len && s[i] == '=') {
            i++;
            while (i < len && g_ascii_isspace(s[i]))
                i++;
            if (i < len && (s[i] == '"' || s[i] == '\'')) {
                const char *q = memchr(s + i + 1, s[i], len - i - 1);
                gsize end = q != NULL ? (gsize)(q - s) : len;

                value.p = s + i + 1;
                value.len = end - i - 1;
                i = end < len ? end + 1 : len;
            } else {
                value.p = s + i;
                while (i < len && !g_ascii_isspace(s[i]) && s[i] != '>')
                    i++;
                value.len = (gsize)(s + i - value.p);
            }
        }
#define ATTR_IS(lit) (alen == sizeof(lit) - 1 && g_ascii_strncasecmp(s + a, lit, alen) == 0)
        if (ATTR_IS("class"))
            t->cls = value;
        else if (ATTR_IS("id"))
            t->id = value;
        else if (ATTR_IS("type"))
            t->type = value;
        else if (ATTR_IS("style"))
            t->style = value;
        else if (ATTR_IS("href"))
            t->href = value;
        else if (ATTR_IS("data-marker"))
            t->marker = value;
#undef ATTR_IS
    }
}

/* html_skip_raw - after <script> and the like: the offset after its end tag. */
gsize
html_skip_raw(const char *s, gsize len, gsize i, const char *name)
{
    gsize nl = strlen(name);

    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);

        if (lt == NULL)
            return len;
        i = (gsize)(lt - s);
        if (i + 2 + nl <= len && s[i + 1] == '/' && g_ascii_strncasecmp(s + i + 2, name, nl) == 0) {
            const char *gt = memchr(s + i, '>', len - i);

            return gt != NULL ? (gsize)(gt - s) + 1 : len;
        }
        i++;
    }
    return len;
}
