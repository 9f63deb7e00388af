/*
 * rawmail.h - what can be read from a message's raw bytes without parsing
 * it: a header's value, the body, and the fingerprint (SPEC section 8).
 *
 * The fingerprint is the lower-case hex SHA-256 of, each separated by one
 * NUL byte: the values of From, Date, Subject and Message-ID (the first
 * header of each name, any case; unfolded; runs of white space made one
 * space; trimmed; empty when absent), then the body (every byte after the
 * first empty line, with CRLF made LF). Received, Delivered-To,
 * X-Original-To and every other header a hop adds leave it alone, so one
 * e-mail that reaches a key through two recipients or two MX hosts has one
 * fingerprint, and a different message that reuses a Message-ID another.
 *
 * Lines end with LF (a CR before it belongs to the line end); the header
 * block ends at the first empty line; a line that starts with a space or a
 * tab continues the field above it. Linear in the input; pure, no I/O.
 */
#ifndef RG_RAWMAIL_H
#define RG_RAWMAIL_H

#include <glib.h>

#define RAWMAIL_FINGERPRINT_HEX 64

/* rawmail_fingerprint - the fingerprint of raw into out (64 hex digits and a NUL) */
void rawmail_fingerprint(const char *raw, gsize len, char out[RAWMAIL_FINGERPRINT_HEX + 1]);

/* rawmail_header - the first header called name (any case), as the
 * fingerprint takes it: unfolded, white space runs made one space, trimmed;
 * NULL when there is none (new string) */
char *rawmail_header(const char *raw, gsize len, const char *name);

/* rawmail_body_offset - where the body starts: just after the first empty
 * line, or len when there is none */
gsize rawmail_body_offset(const char *raw, gsize len);

/* rawmail_message_id - the Message-ID without angle brackets or NULL (new string) */
char *rawmail_message_id(const char *raw, gsize len);

/* rawmail_headers - the top-level header fields of raw in order (HeaderField,
 * values unfolded), from at most max_bytes of the header block; the array
 * owns its strings: free it with rawmail_headers_free() */
GArray *rawmail_headers(const char *raw, gsize len, gsize max_bytes);

/* rawmail_headers_free - free what rawmail_headers() returned (NULL-safe) */
void rawmail_headers_free(GArray *headers);

#endif
