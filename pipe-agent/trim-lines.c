/*
 * trim-lines.c - a reply cut into lines, each classified once: quote depth,
 * code fences, blank lines, signature and delimiter markers, Outlook header
 * keys, rules, and the quote headers ("On ... wrote:" in the languages of
 * trim-lang.c, wrapped over up to six lines). trim.c decides the cut from
 * these marks.
 *
 * Each line is looked at a bounded number of times: a header window is
 * only tried when its last line can end a header, joins at most
 * TRIM_HEADER_MAX_LINES lines of at most TRIM_LANG_MAX_LINE bytes, and
 * every matcher is a hand-written scan; the whole is linear in the text.
 */
#include <string.h>

#include "trim-lines.h"
#include "trim-private.h"

/* A wrapped header of four lines or more is made of short lines. */
#define HEADER_LONG_LINE_MAX 120

/* trim_lines_split - cut text into lines without their "\r\n" or "\n"; keep[i]
 * (when i < n_keep) marks line i as an inline quote the author wrote. */
GArray *
trim_lines_split(const char *text, const guint8 *keep, gsize n_keep)
{
    GArray *lines = g_array_new(FALSE, TRUE, sizeof(Line));
    const char *p = text;

    for (;;) {
        const char *nl = strchr(p, '\n');
        Line l = {0};
        gsize len = nl != NULL ? (gsize)(nl - p) : strlen(p);

        if (nl == NULL && len == 0)
            break;
        l.s = p;
        l.keep = lines->len < n_keep && keep[lines->len] ? 1 : 0;
        if (len > 0 && p[len - 1] == '\r')
            len--;
        l.len = (guint32)MIN(len, G_MAXUINT32);
        g_array_append_val(lines, l);
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return lines;
}

/* is_fence - does the line open or close a ``` or ~~~ code block? */
static gboolean
is_fence(const Line *l)
{
    guint32 i = 0;

    while (i < l->len && i < 3 && l->s[i] == ' ')
        i++;
    return l->len - i >= 3 && (memcmp(l->s + i, "```", 3) == 0 || memcmp(l->s + i, "~~~", 3) == 0);
}

/* mark_code - mark paired fences and the lines between them as code; an
 * unpaired last fence is plain text, so it cannot hide a quote. */
static void
mark_code(Line *lines, guint n)
{
    guint i;
    gint open = -1;

    for (i = 0; i < n; i++) {
        if (!is_fence(&lines[i]))
            continue;
        if (open < 0) {
            open = (gint)i;
        } else {
            guint j;

            for (j = (guint)open; j <= i; j++)
                lines[j].code = 1;
            open = -1;
        }
    }
}

/* quote_depth - the number of '>' markers that open the line. */
static guint16
quote_depth(const Line *l)
{
    guint32 i = 0;
    guint depth = 0;

    while (i < l->len && i < 3 && l->s[i] == ' ')
        i++;
    while (i < l->len && l->s[i] == '>') {
        depth++;
        i++;
        while (i < l->len && l->s[i] == ' ')
            i++;
    }
    return (guint16)MIN(depth, G_MAXUINT16);
}

/* ends_with_colon - does the line end with ':' or a fullwidth '：'? A quote
 * header always does, so this cheap test spares most lines the matcher. */
static gboolean
ends_with_colon(const Line *l)
{
    guint32 e = l->len;

    while (e > 0 && (l->s[e - 1] == ' ' || l->s[e - 1] == '\t'))
        e--;
    if (e > 0 && l->s[e - 1] == ':')
        return TRUE;
    return e >= 3 && memcmp(l->s + e - 3, "\xEF\xBC\x9A", 3) == 0;
}

/* may_end_header - can the line end a quote header: a colon, the '>' of
 * Gmail's old "2013/7/20 Jane <addr>", Zoho's closing dashes, emphasis? A
 * cheap test that spares most lines the matcher. */
static gboolean
may_end_header(const Line *l)
{
    guint32 e = l->len;

    guint32 deco;

    while (e > 0 && (l->s[e - 1] == ' ' || l->s[e - 1] == '\t'))
        e--;
    if (e > 0 && (l->s[e - 1] == ':' || l->s[e - 1] == '>'))
        return TRUE;
    if (e >= 3 && memcmp(l->s + e - 3, "\xEF\xBC\x9A", 3) == 0)
        return TRUE;
    /* "... wrote ----", "... wrote:*": words before the decoration. */
    for (deco = e; deco > 0 && strchr("-*=", l->s[deco - 1]) != NULL; deco--)
        ;
    return deco < e && deco > 8 && (e - deco >= 2 || l->s[deco - 1] == ':');
}

/* header_window - does the header text of lines [i, i+k) match? */
static gboolean
header_window(const Line *lines, guint n, guint i, guint k, GString *one, GString *joined)
{
    guint j;

    if (i + k > n || !may_end_header(&lines[i + k - 1]))
        return FALSE;
    g_string_truncate(joined, 0);
    for (j = i; j < i + k; j++) {
        const Line *l = &lines[j];

        if (l->code || l->blank || l->depth > 0 || l->len > TRIM_LANG_MAX_LINE ||
            (k > 3 && l->len > HEADER_LONG_LINE_MAX))
            return FALSE;
        trim_lang_normalize(one, l->s, l->len);
        if (joined->len > 0)
            g_string_append_c(joined, ' ');
        g_string_append_len(joined, one->str, one->len);
    }
    /* Four lines or more ("On ...," / "Jane Doe" / "<jane@example.com" /
     * "<mailto:jane@example.com>> wrote:"): only with an address in them. */
    if (k > 3 && memchr(joined->str, '@', joined->len) == NULL)
        return FALSE;
    return trim_lang_is_quote_header(joined->str, joined->len);
}

/* header_inline - is the line a header with the quoted text run on after
 * it, as Yahoo's text part writes: "On ..., Jane <j@x> wrote:   Shall we"?
 * The header ends at the first ':' followed by at least two spaces. */
static gboolean
header_inline(const Line *l, GString *one)
{
    guint32 limit = MIN(l->len, TRIM_LANG_MAX_LINE);
    guint32 p;

    if (l->code || l->blank || l->depth > 0)
        return FALSE;
    for (p = 0; p + 2 < limit; p++) {
        if (l->s[p] == ':' && l->s[p + 1] == ' ' && l->s[p + 2] == ' ') {
            trim_lang_normalize(one, l->s, p + 1);
            return trim_lang_is_quote_header(one->str, one->len);
        }
    }
    return FALSE;
}

/* header_span_at - lines an "On ... wrote:" header starting at i takes (0:
 * none). A wrapped match whose first line does not open like a header is
 * refused when it also matches from a later line, so the line above a
 * header is never swallowed. */
static guint8
header_span_at(const Line *lines, guint n, guint i, GString *one, GString *joined)
{
    guint k;

    for (k = 1; k <= TRIM_HEADER_MAX_LINES; k++) {
        guint j;

        /* A wrapped header ends with its last line: a first line that ends
         * with ':' and is no header alone does not start one. */
        if (k == 2 && ends_with_colon(&lines[i]))
            break;
        if (!header_window(lines, n, i, k, one, joined))
            continue;
        if (k == 1)
            return 1;
        trim_lang_normalize(one, lines[i].s, lines[i].len);
        if (k > 3) {
            /* A long wrap must open like a header; a weak opening (a digit,
             * an address) loses to a header that starts on a later line. */
            if (!trim_lang_is_header_start(one->str, one->len))
                return 0;
            if (trim_lang_is_header_lead(one->str, one->len))
                return (guint8)k;
        } else if (trim_lang_is_header_start(one->str, one->len)) {
            return (guint8)k;
        }
        for (j = 1; j < k; j++)
            if (header_window(lines, n, i + j, k - j, one, joined))
                return 0;
        return (guint8)k;
    }
    return header_inline(&lines[i], one) ? 1 : 0;
}

/* ends_open_address - does the line end inside "<...@..." whose '>' was
 * wrapped onto the next line ("schrieb Jana <jana@example.de" / ">:")? */
static gboolean
ends_open_address(const Line *l)
{
    guint32 i = l->len;
    gboolean at = FALSE;

    while (i > 0 && l->s[i - 1] != '<') {
        if (l->s[i - 1] == '>')
            return FALSE;
        at = at || l->s[i - 1] == '@';
        i--;
    }
    return i > 0 && at;
}

/* is_wrapped_close - is a '>' line the wrapped end of the address above it
 * (">:", "> wrote:") rather than a quote? */
static gboolean
is_wrapped_close(const Line *lines, guint i)
{
    const Line *l = &lines[i];
    const Line *above;
    guint32 e = l->len;

    if (i == 0 || l->len > 80)
        return FALSE;
    above = &lines[i - 1];
    if (above->code || above->blank || above->depth > 0 || above->len > TRIM_LANG_MAX_LINE)
        return FALSE;
    while (e > 0 && (l->s[e - 1] == ' ' || l->s[e - 1] == '\t'))
        e--;
    return e > 0 && l->s[e - 1] == ':' && ends_open_address(above);
}

/* trim_lines_classify - see trim-lines.h */
void
trim_lines_classify(Line *lines, guint n)
{
    g_autoptr(GString) norm = g_string_new(NULL);
    g_autoptr(GString) one = g_string_new(NULL);
    g_autoptr(GString) joined = g_string_new(NULL);
    guint i;

    mark_code(lines, n);
    for (i = 0; i < n; i++) {
        Line *l = &lines[i];

        if (l->code)
            continue;
        l->depth = quote_depth(l);
        if (l->depth > 0 && !l->keep && is_wrapped_close(lines, i))
            l->depth = 0;
        /* A quoted line holds a '>', so it is not blank, and nothing else
         * below is asked of it: no need to normalise it. */
        if (l->depth > 0)
            continue;
        if (l->len > TRIM_LANG_MAX_LINE) {
            guint32 j;

            l->blank = 1;
            for (j = 0; j < l->len && l->blank; j++)
                l->blank = l->s[j] == ' ' || l->s[j] == '\t';
            continue;
        }
        trim_lang_normalize(norm, l->s, l->len);
        l->blank = norm->len == 0;
        if (l->blank)
            continue;
        if (l->len == 3 && memcmp(l->s, "-- ", 3) == 0)
            l->sig = 1;
        else if (l->len == 2 && memcmp(l->s, "--", 2) == 0)
            l->sig = 2;
        /* Cheap first looks keep the table matchers off ordinary lines. */
        if (memchr(norm->str, ':', MIN(norm->len, 24)) != NULL)
            l->key = trim_lang_header_key(norm->str, norm->len);
        if (strchr("-_*=", norm->str[0]) != NULL || strchr(":-*=", norm->str[norm->len - 1]))
            l->rule = trim_lang_rule(norm->str, norm->len);
        if ((l->rule == TRIM_RULE_NONE || l->rule == TRIM_RULE_UNDERSCORE) && l->sig == 0 &&
            (strchr("-_*=~#+", norm->str[0]) != NULL || (guchar)norm->str[0] >= 0xE1))
            l->delim = trim_lang_delimiter(norm->str, norm->len);
    }
    for (i = 0; i < n; i++) {
        Line *l = &lines[i];

        if (l->code || l->blank || l->depth > 0)
            continue;
        l->header_span = header_span_at(lines, n, i, one, joined);
        if (l->header_span > 0) {
            guint j;

            g_string_truncate(joined, 0);
            for (j = i; j < i + l->header_span; j++) {
                trim_lang_normalize(one, lines[j].s, lines[j].len);
                g_string_append_c(joined, ' ');
                g_string_append_len(joined, one->str, one->len);
            }
            l->weak = trim_lang_is_weak_header(joined->str + 1, joined->len - 1);
        }
    }
}
