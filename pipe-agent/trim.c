/*
 * trim.c - split a plain-text reply into what the person wrote and what
 * was quoted: quote headers, Outlook header blocks, "Original Message"
 * rules, '>' quotes, '-- ' and mobile signatures.
 *
 * The text is cut into lines and every line is classified once (quote
 * depth, code fence, header, rule, signature); the cut is then decided
 * from the top (the first Outlook block or unquoted original) and from the
 * bottom (trailing quotes and signatures). Every step looks at each line a
 * bounded number of times, so the work is linear in the input: there is no
 * regular expression anywhere on this path.
 */
#include <string.h>

#include "trim-private.h"
#include "trim.h"

typedef struct {
    const char *s;
    guint32 len;
    guint16 depth;      /* number of leading '>' */
    guint8 code : 1;    /* inside (or on) a fenced code block */
    guint8 blank : 1;   /* only white space, outside code */
    guint8 sig;         /* 1 for "-- ", 2 for "--" */
    guint8 header_span; /* 1 to 3: an "On ... wrote:" header starts here */
    guint8 key;         /* TrimKey */
    guint8 rule;        /* TrimRule */
} Line;

typedef enum {
    CUT_NONE,
    CUT_HEADER,
    CUT_BLOCK,
    CUT_ORIGINAL,
    CUT_FORWARD,
} CutKind;

/* A text of more lines than this is not trimmed at all: each line costs a
 * Line (24 bytes), so a text of nothing but line breaks would cost 24 times
 * its size; no reply a person wrote has that many (issue 13). */
#define TRIM_MAX_LINES 1000000

/* Lines a '-- ' signature may have below its delimiter ('--' has fewer). */
#define SIG_MAX_LINES 15
#define SIG_LOOSE_MAX_LINES 6

/* split_lines - cut text into lines without their "\r\n" or "\n". */
static GArray *
split_lines(const char *text)
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

/* header_window - does the header text of lines [i, i+k) match? */
static gboolean
header_window(const Line *lines, guint n, guint i, guint k, GString *one, GString *joined)
{
    guint j;

    if (i + k > n || !ends_with_colon(&lines[i + k - 1]))
        return FALSE;
    g_string_truncate(joined, 0);
    for (j = i; j < i + k; j++) {
        const Line *l = &lines[j];

        if (l->code || l->blank || l->depth > 0 || l->len > TRIM_LANG_MAX_LINE)
            return FALSE;
        trim_lang_normalize(one, l->s, l->len);
        if (joined->len > 0)
            g_string_append_c(joined, ' ');
        g_string_append_len(joined, one->str, one->len);
    }
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

    for (k = 1; k <= 3; k++) {
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
        if (trim_lang_is_header_start(one->str, one->len))
            return (guint8)k;
        for (j = 1; j < k; j++)
            if (header_window(lines, n, i + j, k - j, one, joined))
                return 0;
        return (guint8)k;
    }
    return header_inline(&lines[i], one) ? 1 : 0;
}

/* classify - fill in every line's depth, blank, signature, key and rule. */
static void
classify(Line *lines, guint n)
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
        if (norm->str[0] == '-' || norm->str[0] == '_' || norm->str[norm->len - 1] == ':')
            l->rule = trim_lang_rule(norm->str, norm->len);
    }
    for (i = 0; i < n; i++)
        if (!lines[i].code && !lines[i].blank && lines[i].depth == 0)
            lines[i].header_span = header_span_at(lines, n, i, one, joined);
}

/* block_at - does an Outlook header block (From, Sent, To, Subject in any
 * of the languages: From, Subject and one more) start at line i? */
static gboolean
block_at(const Line *lines, guint n, guint i)
{
    guint mask = 0;
    guint kinds = 0;
    guint j;

    if (lines[i].key == TRIM_KEY_NONE)
        return FALSE;
    for (j = i; j < n && j < i + 10; j++) {
        const Line *l = &lines[j];

        if (l->code || l->blank || l->depth > 0)
            break;
        if (l->key != TRIM_KEY_NONE && !(mask & (1u << l->key))) {
            mask |= 1u << l->key;
            kinds++;
        }
    }
    /* From and Subject are in every client's block; a travel plan with
     * From:, To: and Date: lines is not a header block. */
    return (mask & (1u << TRIM_KEY_FROM)) && (mask & (1u << TRIM_KEY_SUBJECT)) && kinds >= 3;
}

/* next_nonblank - first non-blank line at or after i, at most max lines on. */
static guint
next_nonblank(const Line *lines, guint n, guint i, guint max)
{
    guint j;

    for (j = i; j < n && j < i + max; j++)
        if (!lines[j].blank)
            return j;
    return n;
}

/* find_cut - the first delimiter from the top whose text below is the
 * original message: an Outlook block, an Original Message or underscore
 * rule, a forward, or a quote header not followed by '>' lines. */
static CutKind
find_cut(const Line *lines, guint n, guint *cut)
{
    guint i;

    for (i = 0; i < n; i++) {
        const Line *l = &lines[i];

        *cut = i;
        if (l->code || l->blank || l->depth > 0)
            continue;
        if (l->rule == TRIM_RULE_FORWARD)
            return CUT_FORWARD;
        if (l->rule == TRIM_RULE_ORIGINAL)
            return CUT_ORIGINAL;
        if (l->rule == TRIM_RULE_UNDERSCORE) {
            guint j = next_nonblank(lines, n, i + 1, 3);

            if (j < n && block_at(lines, n, j))
                return CUT_BLOCK;
        }
        if (block_at(lines, n, i))
            return CUT_BLOCK;
        if (l->header_span > 0) {
            guint j = next_nonblank(lines, n, i + l->header_span, 4);

            if (j < n && lines[j].depth > 0 && !lines[j].code)
                continue;
            return CUT_HEADER;
        }
    }
    *cut = n;
    return CUT_NONE;
}

/* header_ending_at - start of a quote header whose last line is end-1, or -1. */
static gint
header_ending_at(const Line *lines, guint end)
{
    guint k;

    /* The longest header wins: "On ... via" / "Project <addr>" / "wrote:". */
    for (k = 3; k >= 1; k--)
        if (k <= end && lines[end - k].header_span == k)
            return (gint)(end - k);
    return -1;
}

/* is_mobile - is the line a mobile signature? Asked only of the few lines
 * at the bottom of a reply. */
static gboolean
is_mobile(const Line *l, GString *norm)
{
    if (l->code || l->blank || l->depth > 0 || l->len > TRIM_LANG_MAX_LINE)
        return FALSE;
    trim_lang_normalize(norm, l->s, l->len);
    return trim_lang_is_mobile_signature(norm->str, norm->len);
}

/* trim_bottom - peel trailing blank lines, '>' quotes with their header,
 * mobile signatures and '-- ' signatures off [0, end); returns the new end. */
static guint
trim_bottom(const Line *lines, guint end)
{
    g_autoptr(GString) norm = g_string_new(NULL);

    for (;;) {
        guint before = end;
        guint s;

        while (end > 0 && lines[end - 1].blank)
            end--;
        if (end > 0 && lines[end - 1].depth > 0 && !lines[end - 1].code) {
            gint h;

            while (end > 0 && !lines[end - 1].code &&
                   (lines[end - 1].blank || lines[end - 1].depth > 0))
                end--;
            h = header_ending_at(lines, end);
            if (h >= 0)
                end = (guint)h;
        }
        while (end > 0 && lines[end - 1].blank)
            end--;
        if (end > 0 && is_mobile(&lines[end - 1], norm))
            end--;
        for (s = end; s > 0 && end - s < SIG_MAX_LINES; s--) {
            const Line *l = &lines[s - 1];

            if (l->code || l->depth > 0)
                break;
            if ((l->sig == 1) || (l->sig == 2 && end - s < SIG_LOOSE_MAX_LINES)) {
                end = s - 1;
                break;
            }
        }
        if (end == before)
            return end;
    }
}

/* bottom_post_start - when [0, end) is an optional header, one '>' quote
 * and then unquoted text, where that text starts; else 0. */
static guint
bottom_post_start(const Line *lines, guint end)
{
    guint j = next_nonblank(lines, end, 0, end);
    guint q;
    guint k;

    if (j < end && lines[j].header_span > 0)
        j = next_nonblank(lines, end, j + lines[j].header_span, end);
    if (j >= end || lines[j].depth == 0 || lines[j].code)
        return 0;
    for (q = j; q < end && !lines[q].code && (lines[q].blank || lines[q].depth > 0); q++)
        ;
    if (q >= end)
        return 0;
    for (k = q; k < end; k++)
        if (!lines[k].code && lines[k].depth > 0)
            return 0;
    return q;
}

/* append_lines - append lines [a, b) to out without blank lines at the edges. */
static void
append_lines(GString *out, const Line *lines, guint a, guint b)
{
    guint i;

    while (a < b && lines[a].blank)
        a++;
    while (b > a && lines[b - 1].blank)
        b--;
    if (a >= b)
        return;
    if (out->len > 0)
        g_string_append_c(out, '\n');
    for (i = a; i < b; i++) {
        g_string_append_len(out, lines[i].s, lines[i].len);
        if (i + 1 < b)
            g_string_append_c(out, '\n');
    }
}

/* is_blank_range - are lines [a, b) all blank? */
static gboolean
is_blank_range(const Line *lines, guint a, guint b)
{
    for (; a < b; a++)
        if (!lines[a].blank)
            return FALSE;
    return TRUE;
}

/* too_many_lines - does text have more than TRIM_MAX_LINES lines? */
static gboolean
too_many_lines(const char *text)
{
    gsize lines = 0;

    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        if (++lines > TRIM_MAX_LINES)
            return TRUE;
    return FALSE;
}

/* trim_reply - see trim.h. */
void
trim_reply(const char *text, char **reply, char **quoted)
{
    g_autoptr(GArray) arr = NULL;
    g_autoptr(GString) r = g_string_new(NULL);
    g_autoptr(GString) q = g_string_new(NULL);
    Line *lines;
    guint n;
    guint cut;
    guint start = 0;
    guint end;
    CutKind kind;

    if (text == NULL)
        text = "";
    if (too_many_lines(text)) {
        *reply = g_strdup(text);
        *quoted = g_strdup("");
        return;
    }
    arr = split_lines(text);
    lines = (Line *)(void *)arr->data;
    n = arr->len;
    cut = n;
    classify(lines, n);
    kind = find_cut(lines, n, &cut);
    if (kind == CUT_FORWARD) {
        /* A forward keeps the forwarded text: it is what the person sends. */
        append_lines(r, lines, 0, n);
        *reply = g_string_free(g_steal_pointer(&r), FALSE);
        *quoted = g_strdup("");
        return;
    }
    end = trim_bottom(lines, cut);
    start = bottom_post_start(lines, end);
    if (is_blank_range(lines, start, end) && (kind == CUT_BLOCK || kind == CUT_ORIGINAL)) {
        /* Nothing above an Outlook block: the message only forwards it. */
        start = 0;
        end = n;
    }
    append_lines(r, lines, start, end);
    append_lines(q, lines, 0, start);
    append_lines(q, lines, end, n);
    *reply = g_string_free(g_steal_pointer(&r), FALSE);
    *quoted = g_string_free(g_steal_pointer(&q), FALSE);
}
