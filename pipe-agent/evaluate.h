/*
 * evaluate.h - the agent's decision about one message, without any I/O.
 *
 * evaluate_message() parses the raw bytes, judges auto-submission, finds and
 * verifies the key (SPEC section 3), cuts the quote and decides the exit
 * status and DSN text of SPEC section 5. --dry-run prints verdict_to_json();
 * a real delivery stores the verdict's message.
 */
#ifndef RG_EVALUATE_H
#define RG_EVALUATE_H

#include <glib.h>
#include "address.h"
#include "auth.h"
#include "config.h"
#include "message.h"

typedef struct {
    Message *message; /* NULL when the bytes could not be parsed */
    gboolean have_key;
    ReplyKey key;
    const char *key_source;  /* "envelope", "to", ..., "references" (static), or NULL */
    char *auto_submitted;    /* the reason in words, or NULL */
    gboolean tls_trace;      /* the milter's X-Replygate-TLS header verified (it saw the message) */
    char *tls_version;       /* from that header, else this Postfix's Received header, or NULL */
    char *tls_cipher;        /* likewise */
    int tls_bits;            /* likewise, 0 when unknown */
    const char *tls_refused; /* why an X-Replygate-TLS header was ignored (static), or NULL */
    AuthResults *auth;       /* our verifiers' results (auth.h), or NULL without a message */
    gboolean action;         /* the key's kind is one of action_kinds: an empty body is fine */
    int from_verified;       /* From is the key's user's: 1, 0, or -1 not checked (fromcheck.h) */
    int sender_verified;     /* the envelope sender is: likewise */
    const char *tls_note;    /* TLS from the Received header: why no trace header (static) */
    const char *tls_missing; /* require_tls and no TLS: the cause, for mail.log (static) */
    gboolean is_test;        /* a `replygate test-email` message (testmark.h) */
    int exit_status;         /* 0, 65, 67, 77, or 75 (4.3.5) for a configuration mistake */
    char *status;            /* DSN text: "2.0.0 ...", "5.1.1 ...", ... */
} Verdict;

/* evaluate_message - decide about raw; sender and recipient are the envelope's */
Verdict *evaluate_message(const Config *config, const KeyRing *ring, GBytes *raw,
                          const char *sender, const char *recipient);

/* evaluate_message_full - evaluate_message() that believes an X-Replygate-TLS
 * header only when it is signed (trace.h) for queue_id, the agent's -q queue id;
 * with queue_id NULL no header is believed. evaluate_message() passes NULL. */
Verdict *evaluate_message_full(const Config *config, const KeyRing *ring, GBytes *raw,
                               const char *sender, const char *recipient, const char *queue_id);

/* verdict_new_refusal - a verdict with no message, e.g. 65 "5.3.4 message too big" */
Verdict *verdict_new_refusal(int exit_status, const char *status);

/* verdict_to_json - the one-line JSON object of SPEC section 5 */
char *verdict_to_json(const Verdict *verdict);

/* verdict_free - release a verdict (NULL-safe) */
void verdict_free(Verdict *verdict);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Verdict, verdict_free)

#endif
