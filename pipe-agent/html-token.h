/*
 * html-token.h - the pieces of html_to_text() that read HTML: start and end
 * tags with the few attributes the converter looks at, raw-text elements,
 * and character references.
 */
#ifndef RG_HTML_TOKEN_H
#define RG_HTML_TOKEN_H

#include <glib.h>

#define NAME_MAX_LEN 15

typedef struct {
    const char *p;
    gsize len;
} HtmlSpan;

typedef struct {
    char name[NAME_MAX_LEN + 1];
    gboolean end;
    gboolean self_closing;
    HtmlSpan cls, id, type, style, href, marker;
} HtmlTag;

/* html_parse_tag - read the tag at s[0] == '<' (not a comment) into t;
 * returns the bytes read. */
gsize html_parse_tag(const char *s, gsize len, HtmlTag *t);

/* html_skip_raw - after <script> and the like at offset i: the offset
 * after its end tag (or len). */
gsize html_skip_raw(const char *s, gsize len, gsize i, const char *name);

/* html_decode_entity - decode the character reference at s[0] == '&' into
 * out; returns the bytes read (1 and a literal '&' when it is none). */
gsize html_decode_entity(const char *s, gsize len, GString *out);

/* html_decode_span - an attribute value with its references decoded
 * (newly allocated). */
char *html_decode_span(HtmlSpan s);

#endif
