/*
 * trim.c - split a plain-text reply into what the person wrote and what
 * was quoted: quote headers, Outlook and Windows Mail header blocks,
 * "Original Message" rules, '>' quotes, '-- ' and '--' signatures, device
 * signatures (every one of a stack), delimiter lines.
 *
 * The text is cut into lines and every line is classified once
 * (trim-lines.c: quote depth, code fence, header, rule, signature,
 * delimiter); the cut is then decided here from the top (the first Outlook block or unquoted
 * original) and from the bottom (trailing quotes and signatures). When that would leave nothing of
 * a body that holds text, the text is kept (the never-empty rule). Every step looks at each line a
 * bounded number of times, so the work is linear in the input: there is no regular expression
 * anywhere on this path.
 *
 * What is kept on purpose: a forward keeps the forwarded text; an inline
 * reply keeps the quoted lines between its answers; a fenced code block is
 * never cut; an inline quote the author wrote in HTML (a <blockquote> that
 * no client marked) stays as "> " lines unless a quote header introduces it.
 */
#include <string.h>

#include "trim-lines.h"
#include "trim-private.h"
#include "trim.h"

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

/* Lines a '-- ' signature may have below its delimiter ('--' has fewer,
 * unless they look like a signature: a closing, a link, a telephone). */
#define SIG_MAX_LINES 15
#define SIG_LOOSE_MAX_LINES 6
/* Non-blank lines a delimiter line's signature block may have. */
#define DELIM_MAX_LINES 10

/* memchr_digit - does the line hold a digit? */
static gboolean
memchr_digit(const Line *l)
{
    for (guint32 i = 0; i < l->len; i++)
        if (g_ascii_isdigit(l->s[i]))
            return TRUE;
    return FALSE;
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
    /* Windows Mail writes From, Sent and To, and no Subject; a plan's From,
     * To and Date lines are no block, and a Sent line holds its date. */
    if (lines[i].key == TRIM_KEY_FROM && i + 2 < n && lines[i + 1].key == TRIM_KEY_SENT &&
        lines[i + 2].key == TRIM_KEY_TO && memchr_digit(&lines[i + 1]))
        return TRUE;
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

            if ((j < n && lines[j].depth > 0 && !lines[j].code) || l->weak)
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
    for (k = TRIM_HEADER_MAX_LINES; k >= 1; k--)
        if (k <= end && lines[end - k].header_span == k)
            return (gint)(end - k);
    return -1;
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

/* is_prose - does the line hold eight words or more, as sentences do and
 * the lines of a signature block (names, titles, addresses) do not? */
static gboolean
is_prose(const Line *l)
{
    guint words = 0;
    gboolean in_word = FALSE;

    for (guint32 i = 0; i < l->len && words < 8; i++) {
        gboolean space = l->s[i] == ' ' || l->s[i] == '\t';

        if (!space && !in_word)
            words++;
        in_word = !space;
    }
    return words >= 8;
}

/* is_signature_like - do lines [a, b) look like a signature block: at most
 * max non-blank lines, and either a confidentiality notice, or lines none of
 * them long, at most one of them prose, among them a closing ("Best
 * regards"), a contact line (a link, a mail address, a telephone number) or
 * a device signature? */
static gboolean
is_signature_like(const Line *lines, guint a, guint b, guint max, GString *norm)
{
    guint count = 0;
    guint prose = 0;
    gboolean marker = FALSE;
    gboolean notice = FALSE;
    gboolean long_line = FALSE;

    for (; a < b; a++) {
        const Line *l = &lines[a];

        if (l->blank)
            continue;
        if (l->code || l->depth > 0 || ++count > max)
            return FALSE;
        prose += is_prose(l);
        long_line = long_line || l->len > 160;
        trim_lang_normalize(norm, l->s, MIN(l->len, TRIM_LANG_MAX_LINE));
        notice = notice || trim_lang_is_disclaimer(norm->str, norm->len);
        marker = marker || trim_lang_is_closing(norm->str, norm->len) ||
                 trim_lang_is_contact(norm->str, norm->len) ||
                 trim_lang_is_mobile_signature(norm->str, norm->len);
    }
    return notice || (marker && prose <= 1 && !long_line);
}

/* signature_at - does a signature start at line s-1, given the reply ends
 * at end? "-- " always (up to SIG_MAX_LINES below it); "--" with a short
 * block, or a longer one that looks like a signature; a delimiter line
 * ("-----", "_____", "=====") with nothing below it or a signature block;
 * Gmail's tracking mark with whatever follows. */
static gboolean
signature_at(const Line *lines, guint s, guint end, GString *norm)
{
    const Line *l = &lines[s - 1];

    if (l->sig == 1)
        return TRUE;
    if (l->sig == 2)
        return end - s < SIG_LOOSE_MAX_LINES ||
               is_signature_like(lines, s, end, SIG_MAX_LINES, norm);
    if (l->delim == TRIM_DELIM_MARK)
        return TRUE;
    if (l->delim == TRIM_DELIM_RULE)
        return is_blank_range(lines, s, end) ||
               is_signature_like(lines, s, end, DELIM_MAX_LINES, norm);
    return FALSE;
}

/* trim_bottom - peel trailing blank lines, '>' quotes with their header,
 * device signatures (every one of a stack), '-- ' and '--' signatures and
 * delimiter lines off [0, end); returns the new end. An inline quote the
 * author wrote (keep) stays unless a quote header introduces it. */
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
            guint q = end;
            gboolean kept = FALSE;
            gint h;

            while (q > 0 && !lines[q - 1].code && (lines[q - 1].blank || lines[q - 1].depth > 0)) {
                kept = kept || lines[q - 1].keep;
                q--;
            }
            h = header_ending_at(lines, q);
            if (h >= 0)
                end = (guint)h;
            else if (!kept)
                end = q;
        }
        while (end > 0 && lines[end - 1].blank)
            end--;
        if (end > 0 && is_mobile(&lines[end - 1], norm))
            end--;
        for (s = end; s > 0 && end - s < SIG_MAX_LINES; s--) {
            const Line *l = &lines[s - 1];

            if (l->code || l->depth > 0)
                break;
            if (signature_at(lines, s, end, norm)) {
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

/* append_selected - append the lines of [a, b) that want (1) to out, a
 * blank line between runs that were apart */
static void
append_selected(GString *out, const Line *lines, guint a, guint b, const guint8 *want)
{
    gboolean gap = FALSE;
    guint i;

    for (i = a; i < b; i++) {
        if (!want[i]) {
            gap = gap || out->len > 0;
            continue;
        }
        if (out->len > 0)
            g_string_append(out, gap ? "\n\n" : "\n");
        g_string_append_len(out, lines[i].s, lines[i].len);
        gap = FALSE;
    }
}

/* keep_text - the never-empty rule: cutting left nothing, so keep what the
 * body holds that is no quote material. First the text below the quote
 * header the cut starts at, when nothing but blank lines or signatures are
 * above it (mobile clients quote without '>'), without its own signature;
 * else every line that is not quoted, a quote header, a rule, a signature
 * or delimiter marker. Returns FALSE when there is no such text. */
static gboolean
keep_text(const Line *lines, guint n, CutKind kind, guint cut, GString *r, GString *q)
{
    g_autofree guint8 *want = NULL;
    gboolean any = FALSE;
    guint i;

    if (kind == CUT_HEADER) {
        guint below = cut + lines[cut].header_span;
        guint end = trim_bottom(lines, n);

        if (end > below && !is_blank_range(lines, below, end)) {
            append_lines(r, lines, below, end);
            append_lines(q, lines, 0, below);
            append_lines(q, lines, end, n);
            return TRUE;
        }
    }
    want = g_new0(guint8, n + 1);
    for (i = 0; i < n; i++) {
        const Line *l = &lines[i];

        if (l->header_span > 0 && !l->code) {
            i += l->header_span - 1;
            continue;
        }
        if (l->blank || (l->depth > 0 && !l->code && !l->keep) || l->rule != TRIM_RULE_NONE ||
            l->delim != TRIM_DELIM_NONE || l->sig != 0)
            continue;
        want[i] = 1;
        any = TRUE;
    }
    if (!any)
        return FALSE;
    append_selected(r, lines, 0, n, want);
    for (i = 0; i < n; i++)
        want[i] = !want[i] && !lines[i].blank;
    append_selected(q, lines, 0, n, want);
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

/* trim_reply_marked - see trim.h. */
void
trim_reply_marked(const char *text, const guint8 *keep, gsize n_keep, char **reply, char **quoted)
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
    arr = trim_lines_split(text, keep, n_keep);
    lines = (Line *)(void *)arr->data;
    n = arr->len;
    cut = n;
    trim_lines_classify(lines, n);
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
    if (!is_blank_range(lines, start, end) || !keep_text(lines, n, kind, cut, r, q)) {
        append_lines(r, lines, start, end);
        append_lines(q, lines, 0, start);
        append_lines(q, lines, end, n);
    }
    *reply = g_string_free(g_steal_pointer(&r), FALSE);
    *quoted = g_string_free(g_steal_pointer(&q), FALSE);
}

/* trim_reply - see trim.h. */
void
trim_reply(const char *text, char **reply, char **quoted)
{
    trim_reply_marked(text, NULL, 0, reply, quoted);
}
