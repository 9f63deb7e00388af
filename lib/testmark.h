/*
 * testmark.h - the mark of a `replygate test-email` message, which a remote
 * sender cannot forge.
 *
 * A test message's Message-ID is
 *   replygate-test.<seconds>.<random>.<mac>@<host>
 * where mac is the first 40 hex digits of HMAC-SHA256(first secret,
 * "replygate-test" NUL "<seconds>.<random>" NUL "<host>"). The agent stores a
 * message whose Message-ID verifies with one of the secrets with
 * is_test = true, and the application's views leave such rows out. Only
 * who holds the secrets (the MX host's operator) can mint one; a sender who
 * copies a mark he has seen can only hide his own message from the
 * application. It lives in the Message-ID rather than in an X-Replygate-*
 * header because the milter deletes every inbound X-Replygate-* header, and
 * rather than in the trace header because the queue id is not known before
 * the message is sent. Pure: tests call it directly.
 */
#ifndef RG_TESTMARK_H
#define RG_TESTMARK_H

#include <glib.h>
#include "address.h"

#define TESTMARK_PREFIX "replygate-test."
#define TESTMARK_MAC_HEX 40

/* testmark_message_id - a new marked Message-ID (without angle brackets) for
 * host, signed with the ring's first secret; seconds and random are the
 * moment and a random number (new string) */
char *testmark_message_id(const KeyRing *ring, const char *host, gint64 seconds, guint32 random);

/* testmark_verify - is message_id (without angle brackets) a mark that one
 * of the ring's secrets made? Constant-time comparison. */
gboolean testmark_verify(const KeyRing *ring, const char *message_id);

#endif
