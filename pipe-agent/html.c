/*
 * html.c - a small, tolerant HTML to text converter for HTML-only mail.
 *
 * A hand-written tokenizer walks the markup once: block elements and <br>
 * become line breaks, entities are decoded, list items keep a "- " or
 * "1. " marker, links keep their URL as "text <url>", script and style are
 * dropped and white space collapses the way a browser collapses it.
 * Blockquotes are rendered with "> " markers.
 *
 * The quote blocks that mail clients mark (Gmail, Outlook desktop and web,
 * Apple Mail, Thunderbird, Yahoo, Proton, Zimbra/Exchange) become "quote
 * segments" of the output. Segments at the end of the message go to
 * *quoted; a quote segment followed by more text is an interleaved reply
 * and stays in the result, as does a quote that only carries a forward.
 * A <blockquote> that no client marked (no type="cite", no client class
 * around it) is the author's own inline quote: html_to_text_marked() says
 * which lines it made, so that trim_reply_marked() keeps them.
 *
 * Unclosed tags, deep nesting and huge attributes cost linear time: each
 * byte is read a bounded number of times and end tags search only the top
 * of the element stack.
 */
#include <string.h>

#include "html-token.h"
#include "trim-private.h"
#include "trim.h"

#define CLOSE_SEARCH_DEPTH 64
#define PREFIX_MAX_DEPTH 32
#define LINK_TEXT_MAX 2048
/* Bytes of a style attribute (spaces not counted) searched for Outlook's
 * border: a style that long is not Outlook's. */
#define OUTLOOK_STYLE_MAX 4096
/* Open elements kept at most; a start tag deeper than this is ignored. */
#define HTML_STACK_MAX 100000
/* The text may grow past the HTML (blockquote markers, list numbers), but
 * never past HTML_OUT_FACTOR times its size plus HTML_OUT_SLACK bytes: the
 * rest of a hostile document is dropped (issue 13). */
#define HTML_OUT_FACTOR 2
#define HTML_OUT_SLACK (1024 * 1024)

/* NAME_IS - element name comparison; the first byte rules most out. */
#define NAME_IS(name, lit) ((name)[0] == (lit)[0] && strcmp((name), (lit)) == 0)

enum {
    EL_QUOTE = 1 << 0,  /* opened a quote segment */
    EL_BLOCK = 1 << 1,  /* line break before and after */
    EL_PARA = 1 << 2,   /* blank line before and after */
    EL_LIST = 1 << 3,   /* pushed a list counter */
    EL_BQ = 1 << 4,     /* raised the blockquote level */
    EL_PRE = 1 << 5,    /* raised the pre level */
    EL_LINK = 1 << 6,   /* pushed a link */
    EL_INLINE = 1 << 7, /* an unmarked top-level blockquote: the author's inline quote */
};

typedef struct {
    char name[NAME_MAX_LEN + 1];
    guint8 flags;
} Elem;

typedef struct {
    gsize start;
    gboolean quote;
    gboolean outlook; /* Outlook's header block and all after it */
} Segment;

typedef struct {
    char *href;
    gsize start;
} Link;

typedef struct {
    GString *out;
    GArray *segments;      /* Segment */
    GArray *stack;         /* Elem */
    GArray *lists;         /* gint: next number, or -1 for a bullet list */
    GArray *links;         /* Link */
    GArray *inline_ranges; /* gsize pairs: [start, end) of the author's inline quotes in out */
    guint quote_depth;
    gboolean rest_quoted;
    guint bq_level;
    guint pre_level;
    gboolean pending_space;
    gsize out_max; /* the cap on out->len, see HTML_OUT_FACTOR */
} Html;

static const char *const block_names[] = {
    "address", "article", "aside", "body", "caption", "center",   "dd",         "details",
    "dialog",  "dir",     "div",   "dl",   "dt",      "fieldset", "figcaption", "figure",
    "footer",  "form",    "h1",    "h2",   "h3",      "h4",       "h5",         "h6",
    "header",  "html",    "main",  "nav",  "section", "summary",  "table",      "tbody",
    "tfoot",   "thead",   "tr",    NULL,
};

static const char *const void_names[] = {
    "area", "base", "br",    "col",    "embed", "hr",  "img", "input",
    "link", "meta", "param", "source", "track", "wbr", NULL,
};

static const char *const raw_names[] = {"script", "style", "title", "template", NULL};

/* Class tokens and id prefixes that mark a client's quote or signature. */
static const char *const quote_classes[] = {
    "gmail_quote",           "gmail_attr",
    "gmail_signature",       "gmail_quote_container",
    "gmail_extra",           "moz-cite-prefix",
    "moz-signature",         "yahoo_quoted",
    "protonmail_quote",      "protonmail_signature_block",
    "messageBodySection",    "zmail_extra",
    "AppleOriginalContents", NULL,
};
static const char *const quote_ids[] = {"yahoo_quoted", "protonmail_quote", "Signature", NULL};
/* Where these start, everything after is the quoted message (Outlook on
 * the web, Outlook desktop and Mac, old Hotmail). */
static const char *const rest_ids[] = {
    "divRplyFwdMsg",        "appendonsend", "mail-editor-reference-message-container",
    "OLK_SRC_BODY_SECTION", "stopSpelling", NULL,
};
static const char *const rest_classes[] = {"OutlookMessageHeader", NULL};

/* name_in - is name one of the list? */
static gboolean
name_in(const char *name, const char *const *list)
{
    gsize i;

    for (i = 0; list[i] != NULL; i++)
        if (NAME_IS(name, list[i]))
            return TRUE;
    return FALSE;
}

/* span_has_token - does a class attribute hold one of the tokens (also as
 * "x_token")? */
static gboolean
span_has_token(HtmlSpan s, const char *const *tokens)
{
    gsize i = 0;

    while (i < s.len) {
        gsize j = i;
        gsize t;

        while (j < s.len && !g_ascii_isspace(s.p[j]))
            j++;
        if (j - i > 2 && s.p[i] == 'x' && s.p[i + 1] == '_')
            i += 2; /* Outlook on the web prefixes the classes it quotes */
        for (t = 0; tokens[t] != NULL; t++)
            if (strlen(tokens[t]) == j - i && g_ascii_strncasecmp(s.p + i, tokens[t], j - i) == 0)
                return TRUE;
        i = j + 1;
    }
    return FALSE;
}

/* span_has_prefix - does an attribute start with one of the prefixes (also
 * after "x_")? */
static gboolean
span_has_prefix(HtmlSpan s, const char *const *prefixes)
{
    gsize t;

    if (s.len == 0)
        return FALSE;
    if (s.len > 2 && s.p[0] == 'x' && s.p[1] == '_') {
        s.p += 2; /* Outlook on the web prefixes the ids it quotes */
        s.len -= 2;
    }
    for (t = 0; prefixes[t] != NULL; t++) {
        gsize l = strlen(prefixes[t]);

        if (s.len >= l && g_ascii_strncasecmp(s.p, prefixes[t], l) == 0)
            return TRUE;
    }
    return FALSE;
}

/* span_equal - is an attribute, case-insensitively, the word? */
static gboolean
span_equal(HtmlSpan s, const char *word)
{
    return s.len == strlen(word) && g_ascii_strncasecmp(s.p, word, s.len) == 0;
}

/* is_outlook_border - the style of Outlook's bordered header block:
 * "border-top:solid #E1E1E1 1.0pt" (or #B5C4DF), spaces ignored. The first
 * OUTLOOK_STYLE_MAX bytes other than spaces are copied once, lower-cased,
 * and searched with memmem(), so a style of a million spaces costs one pass. */
static gboolean
is_outlook_border(HtmlSpan s)
{
    static const char *const wanted[] = {"border-top:solid#e1e1e1", "border-top:solid#b5c4df"};
    char compact[OUTLOOK_STYLE_MAX];
    gsize n = 0;
    gsize w;

    for (gsize i = 0; i < s.len && n < sizeof compact; i++)
        if (s.p[i] != ' ')
            compact[n++] = g_ascii_tolower(s.p[i]);
    for (w = 0; w < G_N_ELEMENTS(wanted); w++)
        if (memmem(compact, n, wanted[w], strlen(wanted[w])) != NULL)
            return TRUE;
    return FALSE;
}

/* out_full - has the text reached its cap? Checked per token and per
 * character of text, so the output stops within a few bytes of it. */
static gboolean
out_full(const Html *h)
{
    return h->out->len >= h->out_max;
}

/* cut_output - after the walk: the text cut back to its cap at a character
 * boundary, and the segments that started past the cut dropped. */
static void
cut_output(Html *h)
{
    gsize n = h->out->len;

    if (n <= h->out_max)
        return;
    n = h->out_max;
    while (n > 0 && ((guchar)h->out->str[n] & 0xC0) == 0x80)
        n--;
    g_string_truncate(h->out, n);
    while (h->segments->len > 1 &&
           g_array_index(h->segments, Segment, h->segments->len - 1).start > n)
        g_array_set_size(h->segments, h->segments->len - 1);
}

/* at_line_start - is the output at the start of a line? */
static gboolean
at_line_start(const Html *h)
{
    return h->out->len == 0 || h->out->str[h->out->len - 1] == '\n';
}

/* begin_content - before a visible character: blockquote markers at the
 * start of a line, or the collapsed space. */
static void
begin_content(Html *h)
{
    if (at_line_start(h)) {
        guint i;

        for (i = 0; i < MIN(h->bq_level, PREFIX_MAX_DEPTH); i++)
            g_string_append(h->out, "> ");
        h->pending_space = FALSE;
    } else if (h->pending_space) {
        g_string_append_c(h->out, ' ');
        h->pending_space = FALSE;
    }
}

/* line_break - end the line, with at most `lines` newlines in a row. */
static void
line_break(Html *h, guint lines)
{
    guint have = 0;
    gsize i = h->out->len;

    h->pending_space = FALSE;
    if (h->out->len == 0)
        return;
    while (i > 0 && have < lines && h->out->str[i - 1] == '\n') {
        have++;
        i--;
    }
    for (; have < lines; have++)
        g_string_append_c(h->out, '\n');
}

/* emit_text - append decoded text, collapsing white space outside <pre>. */
static void
emit_text(Html *h, const char *s, gsize len)
{
    gsize i = 0;

    while (i < len && !out_full(h)) {
        guchar c = (guchar)s[i];

        if (h->pre_level > 0) {
            if (c == '\r') {
                i++;
                continue;
            }
            if (c == '\n') {
                g_string_append_c(h->out, '\n');
                i++;
                continue;
            }
            begin_content(h);
            g_string_append_c(h->out, (char)c);
            i++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            if (!at_line_start(h))
                h->pending_space = TRUE;
            i++;
            continue;
        }
        begin_content(h);
        if (c == 0xC2 && i + 1 < len && (guchar)s[i + 1] == 0xA0) {
            g_string_append_c(h->out, ' '); /* a no-break space never collapses */
            i += 2;
            continue;
        }
        g_string_append_c(h->out, (char)c);
        i++;
    }
}

/* segment_begin - start a new segment of the given kind at the output end. */
static void
segment_begin(Html *h, gboolean quote, gboolean outlook)
{
    Segment seg = {h->out->len, quote, outlook};

    line_break(h, 1);
    seg.start = h->out->len;
    if (h->segments->len > 0) {
        Segment *last = &g_array_index(h->segments, Segment, h->segments->len - 1);

        if (last->start == seg.start) {
            last->quote = quote;
            last->outlook = outlook;
            return;
        }
    }
    g_array_append_val(h->segments, seg);
}

/* finish_link - after </a>: keep the URL beside its text. Only a short
 * text is compared with the URL, so nested links stay linear. */
static void
finish_link(Html *h)
{
    Link *l = &g_array_index(h->links, Link, h->links->len - 1);
    gsize start = MIN(l->start, h->out->len);
    gsize text_len = h->out->len - start;
    g_autofree char *href = l->href;
    g_autofree char *shown = NULL;
    gsize href_len = strlen(href);

    g_array_set_size(h->links, h->links->len - 1);
    if (!g_str_has_prefix(href, "http://") && !g_str_has_prefix(href, "https://") &&
        !g_str_has_prefix(href, "ftp://"))
        return;
    if (text_len <= LINK_TEXT_MAX) {
        gsize shown_len;

        shown = g_strstrip(g_strndup(h->out->str + start, text_len));
        shown_len = strlen(shown);
        /* "https://x/" shown as "https://x" is the same link. */
        if (shown_len > 0 && shown_len <= href_len && href_len - shown_len <= 1 &&
            strncmp(href, shown, shown_len) == 0)
            return;
    }
    if (text_len > 0)
        h->pending_space = TRUE;
    begin_content(h);
    g_string_append_c(h->out, '<');
    g_string_append_len(h->out, href, href_len);
    g_string_append_c(h->out, '>');
}

/* pop_elem - close the top element and undo what it started. */
static void
pop_elem(Html *h)
{
    Elem e = g_array_index(h->stack, Elem, h->stack->len - 1);

    g_array_set_size(h->stack, h->stack->len - 1);
    if (e.flags & EL_LINK)
        finish_link(h);
    if (e.flags & EL_LIST)
        g_array_set_size(h->lists, h->lists->len - 1);
    if (e.flags & EL_INLINE) {
        gsize end = h->out->len;

        g_array_append_val(h->inline_ranges, end);
    }
    if (e.flags & EL_BQ)
        h->bq_level--;
    if (e.flags & EL_PRE)
        h->pre_level--;
    if (e.flags & (EL_BLOCK | EL_PARA))
        line_break(h, (e.flags & EL_PARA) ? 2 : 1);
    if (e.flags & EL_QUOTE) {
        h->quote_depth--;
        if (h->quote_depth == 0 && !h->rest_quoted)
            segment_begin(h, FALSE, FALSE);
    }
}

/* close_elem - an end tag: pop up to the matching element near the top. */
static void
close_elem(Html *h, const char *name)
{
    guint depth;
    guint n = h->stack->len;

    for (depth = 1; depth <= n && depth <= CLOSE_SEARCH_DEPTH; depth++) {
        if (NAME_IS(g_array_index(h->stack, Elem, n - depth).name, name)) {
            guint i;

            for (i = 0; i < depth; i++)
                pop_elem(h);
            return;
        }
    }
}

/* start_quote - the element opens a client's quote segment. */
static void
start_quote(Html *h, Elem *e)
{
    e->flags |= EL_QUOTE;
    if (h->quote_depth == 0 && !h->rest_quoted)
        segment_begin(h, TRUE, FALSE);
    h->quote_depth++;
}

/* open_elem - a start tag. */
static void
open_elem(Html *h, const HtmlTag *t)
{
    Elem e = {{0}, 0};
    gboolean is_void = name_in(t->name, void_names);

    /* Past HTML_STACK_MAX open elements a start tag does nothing at all: it
     * could never be closed, and what it starts could never be undone. */
    if (!is_void && !t->self_closing && h->stack->len >= HTML_STACK_MAX)
        return;
    memcpy(e.name, t->name, sizeof e.name);
    if ((NAME_IS(t->name, "li") || NAME_IS(t->name, "p")) && h->stack->len > 0 &&
        NAME_IS(g_array_index(h->stack, Elem, h->stack->len - 1).name, t->name))
        pop_elem(h);
    if (span_has_prefix(t->id, rest_ids) || span_has_token(t->cls, rest_classes) ||
        is_outlook_border(t->style) || span_equal(t->marker, "__DIVIDER__") ||
        span_equal(t->marker, "__HEADERS__")) {
        if (!h->rest_quoted && h->quote_depth == 0)
            segment_begin(h, TRUE, TRUE);
        h->rest_quoted = TRUE;
    }
    if (span_has_token(t->cls, quote_classes) || span_has_prefix(t->id, quote_ids) ||
        (NAME_IS(t->name, "blockquote") && span_equal(t->type, "cite")) ||
        span_equal(t->marker, "__QUOTED_TEXT__") || span_equal(t->marker, "__SIG_PRE__"))
        start_quote(h, &e);

    if (NAME_IS(t->name, "br")) {
        h->pending_space = FALSE;
        g_string_append_c(h->out, '\n');
    } else if (NAME_IS(t->name, "hr")) {
        line_break(h, 1);
    } else if (NAME_IS(t->name, "p")) {
        gboolean mso = t->cls.len >= 3 && g_ascii_strncasecmp(t->cls.p, "Mso", 3) == 0;

        e.flags |= mso ? EL_BLOCK : EL_PARA;
        line_break(h, mso ? 1 : 2);
    } else if (NAME_IS(t->name, "ul") || NAME_IS(t->name, "ol")) {
        gint first = t->name[0] == 'o' ? 1 : -1;

        e.flags |= EL_BLOCK | EL_LIST;
        g_array_append_val(h->lists, first);
        line_break(h, 1);
    } else if (NAME_IS(t->name, "li")) {
        char marker[32] = "- ";
        guint indent = h->lists->len > 1 ? MIN(h->lists->len - 1, 8) : 0;
        guint i;

        e.flags |= EL_BLOCK;
        line_break(h, 1);
        if (h->lists->len > 0) {
            gint *num = &g_array_index(h->lists, gint, h->lists->len - 1);

            if (*num > 0)
                g_snprintf(marker, sizeof marker, "%d. ", (*num)++);
        }
        begin_content(h);
        for (i = 0; i < indent; i++)
            g_string_append(h->out, "  ");
        g_string_append(h->out, marker);
    } else if (NAME_IS(t->name, "blockquote")) {
        e.flags |= EL_BLOCK | EL_BQ;
        line_break(h, 1);
        /* No client marked it, and it sits in no quote block: the author
         * wrote it as part of the reply. Its lines are recorded. */
        if (!(e.flags & EL_QUOTE) && h->quote_depth == 0 && !h->rest_quoted && h->bq_level == 0 &&
            !t->self_closing) {
            gsize start = h->out->len;

            e.flags |= EL_INLINE;
            g_array_append_val(h->inline_ranges, start);
        }
        h->bq_level++;
    } else if (NAME_IS(t->name, "pre")) {
        e.flags |= EL_BLOCK | EL_PRE;
        h->pre_level++;
        line_break(h, 1);
    } else if (NAME_IS(t->name, "td") || NAME_IS(t->name, "th")) {
        if (!at_line_start(h))
            h->pending_space = TRUE;
    } else if (NAME_IS(t->name, "a") && t->href.len > 0) {
        Link l = {html_decode_span(t->href), h->out->len};

        e.flags |= EL_LINK;
        g_array_append_val(h->links, l);
    } else if (name_in(t->name, block_names)) {
        e.flags |= EL_BLOCK;
        line_break(h, 1);
    }
    if (is_void || t->self_closing) {
        if (e.flags & EL_QUOTE) {
            h->quote_depth--;
            if (h->quote_depth == 0 && !h->rest_quoted)
                segment_begin(h, FALSE, FALSE);
        }
        if (e.flags & EL_LINK) {
            Link *l = &g_array_index(h->links, Link, h->links->len - 1);

            g_free(l->href);
            g_array_set_size(h->links, h->links->len - 1);
        }
        return;
    }
    g_array_append_val(h->stack, e);
}

/* tidy - trim each line's end, keep at most one blank line in a row, drop
 * blank lines at both ends. With ranges (gsize pairs into s, in order) and
 * flags, one byte per output line: 1 when the line starts inside a range. */
static char *
tidy(const char *s, gsize len, const GArray *ranges, GByteArray *flags)
{
    GString *out = g_string_sized_new(len);
    gsize i = 0;
    guint blanks = 0;
    guint r = 0;
    guint n_ranges = ranges != NULL ? ranges->len / 2 : 0;

    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        gsize end = nl != NULL ? (gsize)(nl - s) : len;
        gsize e = end;

        while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        if (e == i) {
            blanks++;
        } else {
            guint8 in = 0;

            if (out->len > 0) {
                g_string_append(out, blanks > 0 ? "\n\n" : "\n");
                if (flags != NULL && blanks > 0)
                    g_byte_array_append(flags, &in, 1);
            }
            g_string_append_len(out, s + i, e - i);
            blanks = 0;
            while (r < n_ranges && g_array_index(ranges, gsize, 2 * r + 1) <= i)
                r++;
            in = r < n_ranges && g_array_index(ranges, gsize, 2 * r) <= i;
            if (flags != NULL)
                g_byte_array_append(flags, &in, 1);
        }
        i = end + 1;
    }
    return g_string_free(out, FALSE);
}

/* has_text - does s[a, b) hold anything but white space? */
static gboolean
has_text(const char *s, gsize a, gsize b)
{
    for (; a < b; a++)
        if (!g_ascii_isspace(s[a]))
            return TRUE;
    return FALSE;
}

/* starts_with_forward - is a forward rule among the first lines of s[a, b)? */
static gboolean
starts_with_forward(const char *s, gsize a, gsize b)
{
    g_autoptr(GString) norm = g_string_new(NULL);
    guint seen = 0;

    while (a < b && seen < 3) {
        const char *nl = memchr(s + a, '\n', b - a);
        gsize end = nl != NULL ? (gsize)(nl - s) : b;
        gsize p = a;

        while (p < end && (s[p] == '>' || s[p] == ' '))
            p++;
        if (end - p <= TRIM_LANG_MAX_LINE) {
            trim_lang_normalize(norm, s + p, end - p);
            if (norm->len > 0) {
                if (trim_lang_rule(norm->str, norm->len) == TRIM_RULE_FORWARD)
                    return TRUE;
                seen++;
            }
        }
        a = end + 1;
    }
    return FALSE;
}

/* split_segments - main text and trailing quotes from the rendered output;
 * the main text is a prefix of it, so the inline ranges hold for it. */
static void
split_segments(Html *h, char **text, char **quoted, GByteArray *flags)
{
    const char *s = h->out->str;
    gsize n = h->out->len;
    guint count = h->segments->len;
    gint last_main = -1;
    guint first_quote;
    guint i;
    g_autoptr(GString) main_text = g_string_new(NULL);
    g_autoptr(GString) quote_text = g_string_new(NULL);

#define SEG_START(k) (g_array_index(h->segments, Segment, (k)).start)
#define SEG_END(k) ((k) + 1 < count ? SEG_START((k) + 1) : n)
    for (i = 0; i < count; i++) {
        Segment *seg = &g_array_index(h->segments, Segment, i);

        if (!seg->quote && has_text(s, seg->start, SEG_END(i)))
            last_main = (gint)i;
    }
    first_quote = (guint)(last_main + 1);
    while (first_quote < count && !g_array_index(h->segments, Segment, first_quote).quote)
        first_quote++;
    if (first_quote < count && starts_with_forward(s, SEG_START(first_quote), n))
        first_quote = count; /* a forward: the forwarded text is the message */
    if (last_main < 0 && first_quote < count &&
        g_array_index(h->segments, Segment, first_quote).outlook)
        first_quote = count; /* nothing above Outlook's block: it only forwards */
    for (i = 0; i < count; i++) {
        GString *dest = i < first_quote ? main_text : quote_text;

        g_string_append_len(dest, s + SEG_START(i), SEG_END(i) - SEG_START(i));
    }
#undef SEG_START
#undef SEG_END
    *text = tidy(main_text->str, main_text->len, h->inline_ranges, flags);
    *quoted = tidy(quote_text->str, quote_text->len, NULL, NULL);
}

/* html_to_text - see trim.h. */
char *
html_to_text(const char *html, gsize len, char **quoted)
{
    return html_to_text_marked(html, len, quoted, NULL);
}

/* html_to_text_marked - see trim.h. */
char *
html_to_text_marked(const char *html, gsize len, char **quoted, GByteArray **keep)
{
    Html h = {0};
    g_autoptr(GString) buf = g_string_new(NULL);
    Segment first = {0, FALSE, FALSE};
    gsize i = 0;
    char *text;
    char *q;

    if (html == NULL)
        len = 0;
    h.out = g_string_new(NULL);
    h.segments = g_array_new(FALSE, FALSE, sizeof(Segment));
    h.stack = g_array_new(FALSE, FALSE, sizeof(Elem));
    h.lists = g_array_new(FALSE, FALSE, sizeof(gint));
    h.links = g_array_new(FALSE, FALSE, sizeof(Link));
    h.inline_ranges = g_array_new(FALSE, FALSE, sizeof(gsize));
    h.out_max = len <= (G_MAXSIZE - HTML_OUT_SLACK) / HTML_OUT_FACTOR
                    ? len * HTML_OUT_FACTOR + HTML_OUT_SLACK
                    : G_MAXSIZE;
    g_array_append_val(h.segments, first);

    while (i < len && !out_full(&h)) {
        const char *c = html + i;

        if (*c == '<' && i + 1 < len && html[i + 1] == '!') {
            const char *end;

            if (i + 3 < len && html[i + 2] == '-' && html[i + 3] == '-') {
                end = memmem(html + i + 4, len - i - 4, "-->", 3);
                i = end != NULL ? (gsize)(end - html) + 3 : len;
            } else {
                end = memchr(html + i, '>', len - i);
                i = end != NULL ? (gsize)(end - html) + 1 : len;
            }
        } else if (*c == '<' && i + 1 < len && html[i + 1] == '?') {
            const char *end = memchr(html + i, '>', len - i);

            i = end != NULL ? (gsize)(end - html) + 1 : len;
        } else if (*c == '<' && i + 1 < len &&
                   (g_ascii_isalpha(html[i + 1]) ||
                    (html[i + 1] == '/' && i + 2 < len && g_ascii_isalpha(html[i + 2])))) {
            HtmlTag t;

            i += html_parse_tag(c, len - i, &t);
            if (t.end) {
                close_elem(&h, t.name);
            } else if (name_in(t.name, raw_names)) {
                if (!t.self_closing)
                    i = html_skip_raw(html, len, i, t.name);
            } else {
                open_elem(&h, &t);
            }
        } else if (*c == '&') {
            g_string_truncate(buf, 0);
            i += html_decode_entity(c, len - i, buf);
            emit_text(&h, buf->str, buf->len);
        } else {
            gsize j = i;

            while (j < len && html[j] != '<' && html[j] != '&')
                j++;
            if (j == i)
                j++; /* a '<' that opens no tag */
            emit_text(&h, c, j - i);
            i = j;
        }
    }
    while (h.stack->len > 0)
        pop_elem(&h);
    cut_output(&h);

    if (keep != NULL)
        *keep = g_byte_array_new();
    if (quoted != NULL) {
        split_segments(&h, &text, &q, keep != NULL ? *keep : NULL);
        *quoted = q;
    } else {
        text = tidy(h.out->str, h.out->len, h.inline_ranges, keep != NULL ? *keep : NULL);
    }
    g_string_free(h.out, TRUE);
    g_array_free(h.segments, TRUE);
    g_array_free(h.stack, TRUE);
    g_array_free(h.lists, TRUE);
    g_array_free(h.links, TRUE);
    g_array_free(h.inline_ranges, TRUE);
    return text;
}
