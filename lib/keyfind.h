/*
 * keyfind.h - where the reply key is looked for, first match wins (SPEC section 3).
 *
 * The envelope recipient, then To, Delivered-To, X-Delivered-To, Envelope-To,
 * X-Envelope-To, X-Original-To, X-Forwarded-To, the "for <address>" clauses of
 * Received, Cc, and last the message ids of In-Reply-To and References whose
 * left@right is itself a reply address (also with a unique suffix, the form
 * of a notification's Message-ID). A value written as one quoted string or a
 * comma-separated list is read as a list: every address or id is a candidate. Only a signed key
 * that verifies, or a static address, counts; the bare dedicated address means "keep looking". An
 * envelope recipient that is the no-reply address ends the search without a key. Pure: no I/O.
 */
#ifndef RG_KEYFIND_H
#define RG_KEYFIND_H

#include <glib.h>
#include "address.h"
#include "autosubmit.h"
#include "config.h"

/* keyfind_lookup - the first key in SPEC order. headers are the message's
 * top-level header fields in order (raw or unfolded values); recipient is the
 * envelope recipient or NULL. On a match fills *key and *source (a static
 * string such as "envelope" or "references") and returns TRUE. */
gboolean keyfind_lookup(const Config *config, const KeyRing *ring, const char *recipient,
                        const HeaderField *headers, gsize n_headers, ReplyKey *key,
                        const char **source);

/* keyfind_message_ids - the left@right of every message id in one
 * In-Reply-To or References value, in order: "<a@x> <b@y>", the comma list
 * "<a@x>,<b@y>", the quoted string "\"<a@x>,<b@y>\"" (Exchange, iOS), a bare
 * a@x; comments skipped; a new array of char * */
GPtrArray *keyfind_message_ids(const char *value);

/* keyfind_reads_header - does keyfind_lookup() read headers of this name
 * (any case)? The milter keeps only those, so the two never drift apart. */
gboolean keyfind_reads_header(const char *name);

/* keyfind_received_for - the addresses of every "for <address>" clause in one
 * Received value, in order; a new array of char * */
GPtrArray *keyfind_received_for(const char *received);

#endif
