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

/* html_to_text - convert HTML to plain text. Block elements and <br> become
 * line breaks, entities are decoded, list items and link URLs are kept. When
 * quoted is not NULL, the quote blocks clients mark (gmail_quote,
 * divRplyFwdMsg, moz-cite-prefix, blockquote type=cite, ...) go to *quoted
 * instead of the result. */
char *html_to_text(const char *html, gsize len, char **quoted);

#endif
