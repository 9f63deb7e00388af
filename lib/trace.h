/*
 * trace.h - the signed X-Replygate-TLS trace header (SPEC section 1, EOM).
 *
 * The milter adds
 *   X-Replygate-TLS: version=<v>; cipher=<c>; bits=<n>; queue=<queue id>; mac=<40 hex>
 * where mac is the first 40 hex digits of HMAC-SHA256(first secret,
 * "X-Replygate-TLS" NUL queue NUL version NUL cipher NUL bits). The agent
 * believes the header only when the mac verifies with one of the secrets and
 * queue is its own -q queue id: mail submitted on the MX with sendmail(1)
 * bypasses the milter, and a header its sender wrote must not pass as TLS data.
 * Pure functions: tests call them directly.
 */
#ifndef RG_TRACE_H
#define RG_TRACE_H

#include <glib.h>
#include "address.h"

#define TRACE_HEADER "X-Replygate-TLS"
#define TRACE_MAC_HEX 40
#define TRACE_TOKEN_MAX 128 /* longest version, cipher or queue id */

/* trace_header_value - the signed header value (new string), or NULL when
 * version or queue_id is empty or queue_id is not a Postfix queue id (letters
 * and digits). version and cipher are reduced to letters, digits and "._-+/"
 * (others become '_'); cipher may be NULL or empty; bits < 0 counts as 0. */
char *trace_header_value(const KeyRing *ring, const char *queue_id, const char *version,
                         const char *cipher, int bits);

/* trace_header_verify - parse a header value strictly and verify it: exactly
 * the five parameters in order, queue equal to queue_id, the mac made by one
 * of the ring's secrets (constant-time comparison). On success version and
 * cipher (may be NULL) get new strings (cipher NULL when empty) and bits its
 * value; on failure they are untouched and reason (may be NULL) gets a static
 * string saying why. */
gboolean trace_header_verify(const KeyRing *ring, const char *value, const char *queue_id,
                             char **version, char **cipher, int *bits, const char **reason);

#endif
