/*
 * headers.h - what the milter keeps of a message's headers, bounded.
 *
 * A message may carry a million headers (10 MB within Postfix's default
 * limits). The milter needs few of them: the ones the key lookup reads
 * (keyfind_reads_header()), the first of each name the auto-submitted rules
 * read (autosubmit_reads_header()), and the first From and Message-ID for the
 * refusal rows. Those are kept, the key lookup's under caps on count and
 * bytes; every other header is only counted.
 *
 * The deletions are different: whatever the caps, every inbound
 * X-Replygate-* header and every inbound Authentication-Results header that
 * claims our authserv-id is counted and deleted, so no sender can pad a
 * forged one past a cap. The book keeps a count per distinct X-Replygate-*
 * name and the positions of the forged Authentication-Results headers, and
 * plans the deletions in time linear in their number.
 *
 * Pure: no libmilter, so the tests call it directly.
 */
#ifndef RG_MILTER_HEADERS_H
#define RG_MILTER_HEADERS_H

#include <glib.h>

#include "autosubmit.h"

/* Caps on the headers kept for the key lookup (the first of each name that the
 * auto-submitted rules read, From and Message-ID are kept besides, each cut at
 * HEADERS_VALUE_MAX bytes). */
#define HEADERS_KEEP_MAX 256
#define HEADERS_KEEP_BYTES (256 * 1024)
#define HEADERS_VALUE_MAX 4096

#define HEADERS_OURS_PREFIX "X-Replygate-"
#define HEADERS_AUTH_RESULTS "Authentication-Results"

/* One header to delete: smfi_chgheader(name, index, NULL), applied in order. */
typedef struct {
    const char *name; /* borrowed from the book (or the caller's list) */
    int index;        /* 1-based occurrence among headers of that name */
} HeaderDeletion;

typedef struct HeaderBook HeaderBook;

/* headerbook_new - an empty book; authserv_id (may be NULL or "") names the
 * Authentication-Results headers to delete: none when empty */
HeaderBook *headerbook_new(const char *authserv_id);

/* headerbook_free - release a book (NULL-safe) */
void headerbook_free(HeaderBook *book);

/* headerbook_add - one header as the MTA sent it; O(1) apart from copying
 * what is kept */
void headerbook_add(HeaderBook *book, const char *name, const char *value);

/* headerbook_fields - the kept headers, in message order, for keyfind_lookup()
 * and autosubmit_reason(); borrowed, valid until the next add; *n gets the count */
const HeaderField *headerbook_fields(HeaderBook *book, gsize *n);

/* headerbook_truncated - was a header the key lookup reads left out by the caps? */
gboolean headerbook_truncated(const HeaderBook *book);

/* headerbook_first - the first value of From or Message-ID (cut), or NULL */
const char *headerbook_first(const HeaderBook *book, const char *name);

/* headerbook_counts - every header seen, and their bytes (names and values) */
void headerbook_counts(const HeaderBook *book, guint64 *n_headers, guint64 *n_bytes);

/* headerbook_deletions - the deletions of every X-Replygate-* header and every
 * Authentication-Results header claiming the authserv-id, highest index first
 * within each name (right whether the MTA renumbers after a deletion or not);
 * a new array of HeaderDeletion borrowing the book's names. *n_ours and
 * *n_auth (may be NULL) get how many of each kind. */
GArray *headerbook_deletions(const HeaderBook *book, guint *n_ours, guint *n_auth);

/* headers_is_ours - an X-Replygate-* name, which only the milter may write? */
gboolean headers_is_ours(const char *name);

/* headers_authserv_id - the authserv-id an Authentication-Results value claims
 * (RFC 8601: after optional comments and white space, a token or a quoted
 * string), a new string, or NULL when there is none */
char *headers_authserv_id(const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HeaderBook, headerbook_free)

#endif
