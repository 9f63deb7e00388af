/*
 * trim.h - cut quoted text and signatures from a reply; HTML to text.
 *
 * Pure functions over UTF-8 text, linear in its length: no backtracking
 * regular expressions anywhere on this path.
 */
#ifndef RG_TRIM_H
#define RG_TRIM_H

#include <glib.h>

/* trim_reply - split text into what the person wrote (*reply) and what was
 * cut (*quoted, "" when nothing); both newly allocated, never NULL. */
void trim_reply(const char *text, char **reply, char **quoted);

/* trim_reply_marked - trim_reply() for text made by html_to_text_marked():
 * keep[i] (i < n_keep) marks line i as part of an inline quote the author
 * wrote (a <blockquote> no client marked), which is kept as "> " lines
 * unless a quote header introduces it. */
void trim_reply_marked(const char *text, const guint8 *keep, gsize n_keep, char **reply,
                       char **quoted);

/* html_to_text - convert HTML to plain text. Block elements and <br> become
 * line breaks, entities are decoded, list items and link URLs are kept. When
 * quoted is not NULL, the quote blocks clients mark (gmail_quote,
 * divRplyFwdMsg, moz-cite-prefix, blockquote type=cite, ...) go to *quoted
 * instead of the result. */
char *html_to_text(const char *html, gsize len, char **quoted);

/* html_to_text_marked - html_to_text(), and when keep is not NULL a new
 * array with one byte per line of the result: 1 for the lines of an inline
 * quote the author wrote (a <blockquote> with no type="cite" and no client
 * class, outside every quote block), for trim_reply_marked(). */
char *html_to_text_marked(const char *html, gsize len, char **quoted, GByteArray **keep);

/* trim_html_reply - an HTML-only body: *text the whole text, *reply what
 * the person wrote (the client's quote blocks and the usual cut removed,
 * the author's inline quotes kept, never empty when the text has some),
 * *quoted what was cut; all newly allocated (trim-html.c). */
void trim_html_reply(const char *html, gsize len, char **text, char **reply, char **quoted);

#endif
