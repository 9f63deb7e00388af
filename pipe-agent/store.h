/*
 * store.h - one reply into PostgreSQL, in one transaction (SPEC section 8).
 *
 * The message row, its attachments (bytea) and NOTIFY replygate_reply are
 * committed together or not at all. (message_id, recipient) is unique: a
 * repeated delivery stores nothing new and reports the row that exists.
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include <glib.h>
#include <libpq-fe.h>

#include "evaluate.h"

/* What Postfix told the agent about the delivery. */
typedef struct {
    const char *queue_id;       /* -q, or NULL */
    const char *sender;         /* -f, "" for the null sender */
    const char *recipient;      /* -r */
    const char *client_address; /* -c, or NULL */
} StoreEnvelope;

typedef struct {
    gint64 reply_id;    /* replygate.messages.id, new or existing */
    gboolean duplicate; /* the row existed already: nothing was stored */
} StoreOutcome;

/* store_message - store the verdict's message; errors are classified as in db.h */
gboolean store_message(PGconn *conn, const Verdict *verdict, const StoreEnvelope *envelope,
                       StoreOutcome *outcome, GError **error);

/* store_dedup_id - the Message-ID, or "sha256:<hex of raw>" without one */
char *store_dedup_id(const Message *message);

#endif
