/*
 * trim-html.c - the reply of an HTML-only body: the whole text, the text
 * without the quote blocks its client marked, the usual cut over what is
 * left (keeping the author's own inline quotes), and the never-empty rule
 * over the whole text when the client's quote blocks held all of it.
 *
 * The agent (message.c) and the extraction scorer (tests/trim/score.c) both
 * call this, so the corpus scores exactly what is stored.
 */
#include <string.h>

#include "trim.h"

/* is_blank - only ASCII white space, or nothing */
static gboolean
is_blank(const char *text)
{
    for (const char *p = text; *p != '\0'; p++)
        if (!g_ascii_isspace(*p))
            return FALSE;
    return TRUE;
}

/* join_quoted - the two cut parts with one line break between (new string) */
static char *
join_quoted(const char *first, const char *second)
{
    if (*first == '\0')
        return g_strdup(second);
    if (*second == '\0')
        return g_strdup(first);
    return g_strconcat(first, first[strlen(first) - 1] == '\n' ? "" : "\n", second, NULL);
}

/* trim_html_reply - see trim.h */
void
trim_html_reply(const char *html, gsize len, char **text, char **reply, char **quoted)
{
    g_autoptr(GByteArray) keep = NULL;
    g_autofree char *unquoted = NULL;
    g_autofree char *html_quoted = NULL;
    g_autofree char *trim_quoted = NULL;

    *text = html_to_text(html, len, NULL);
    unquoted = html_to_text_marked(html, len, &html_quoted, &keep);
    trim_reply_marked(unquoted, keep->data, keep->len, reply, &trim_quoted);
    if (is_blank(*reply) && !is_blank(*text)) {
        /* Never empty when there is text: the client's quote blocks held
         * all of it, so the whole text goes through the cut instead. */
        g_autofree char *whole_reply = NULL;
        g_autofree char *whole_quoted = NULL;

        trim_reply(*text, &whole_reply, &whole_quoted);
        if (!is_blank(whole_reply)) {
            g_free(*reply);
            *reply = g_steal_pointer(&whole_reply);
            *quoted = g_steal_pointer(&whole_quoted);
            return;
        }
    }
    *quoted = join_quoted(trim_quoted, html_quoted);
}
