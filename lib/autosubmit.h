/*
 * autosubmit.h - is a message auto-submitted? (SPEC section 4)
 *
 * One pure function that the milter (at end of headers) and the agent (on the
 * parsed message) both call, so the two can never disagree.
 */
#ifndef RG_AUTOSUBMIT_H
#define RG_AUTOSUBMIT_H

#include <glib.h>

/* One header field as it came: name without the colon, value unfolded or not. */
typedef struct {
    const char *name;
    const char *value;
} HeaderField;

/* autosubmit_reason - the reason in words ("Auto-Submitted: auto-replied",
 * "null envelope sender", ...), or NULL when the message is a person's.
 * envelope_sender may carry angle brackets; "" or "<>" is the null sender;
 * NULL means the sender is unknown and is not judged. Free with g_free(). */
char *autosubmit_reason(const HeaderField *headers, gsize n_headers, const char *envelope_sender);

/* autosubmit_reads_header - does autosubmit_reason() read headers of this
 * name (any case)? It reads only the first header of each such name. */
gboolean autosubmit_reads_header(const char *name);

#endif
