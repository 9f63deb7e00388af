/*
 * store.h - one reply into PostgreSQL, in one transaction (SPEC section 8).
 *
 * The message row, the recipient that carried it, its attachments (bytea)
 * and NOTIFY replygate_reply are committed together or not at all. A reply
 * is unique on (message_id, key_kind, key_target, key_user, fingerprint): a
 * repeated delivery, through another recipient or another MX host, stores
 * nothing new but the recipient, and reports the row that exists. A reply
 * with a tombstone (forgotten or purged) is never stored again.
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include <glib.h>
#include <libpq-fe.h>

#include "db.h"
#include "evaluate.h"

/* What Postfix told the agent about the delivery. */
typedef struct {
    const char *queue_id;       /* -q, or NULL */
    const char *sender;         /* -f, "" for the null sender */
    const char *recipient;      /* -r */
    const char *client_address; /* -c, or NULL */
    const DbLimits *limits;     /* SET LOCAL in each transaction, or NULL */
    /* TRUE: the row's from_verified and sender_verified are looked up by
     * the insert itself (store_reply(), sql/0004_store.sql), from the From and the
     * sender, instead of taken from the verdict: from_check = record,
     * where nothing waits for them, saves the lookup's round trip */
    gboolean check_addresses;
} StoreEnvelope;

typedef struct {
    gint64 reply_id;    /* replygate.messages.id, new or existing; 0 when purged */
    gboolean duplicate; /* the row existed already, or a tombstone: nothing was stored */
    gboolean purged;    /* a tombstone: the reply was forgotten or purged before */
} StoreOutcome;

/* Messages from this size on are looked up (store_seen) before they are
 * parsed: a redelivery of a big message costs a query, not a parse. Below
 * it, parsing costs less than waiting for the connection first. */
#define STORE_SEEN_MIN_SIZE (64 * 1024)

/* store_message - store the verdict's message; errors are classified as in
 * db.h, and SQLSTATE class 22 and 54 (values this message can never store)
 * are RG_ERROR_DATAERR */
gboolean store_message(PGconn *conn, const Verdict *verdict, const StoreEnvelope *envelope,
                       StoreOutcome *outcome, GError **error);

/* store_seen - before parsing: has this very message (its Message-ID and
 * fingerprint, or for a row of the previous schema its raw SHA-256) been
 * stored for this recipient already? *reply_id gets the row's id, or 0. */
gboolean store_seen(PGconn *conn, const StoreEnvelope *envelope, GBytes *raw, gint64 *reply_id,
                    GError **error);

/* A permanent refusal after the queue, for replygate.record_refusal()
 * (stage "delivery"); any field may be NULL. */
typedef struct {
    int smtp_code;             /* what the LMTP door answers: 550, 552, 554 */
    const char *enhanced_code; /* "5.6.0" */
    const char *reason;        /* the refusal's text */
    const char *from_address;
    const ReplyKey *key; /* NULL without a valid key */
    const char *message_id;
    const char *client_name;
} StoreRefusal;

/* store_refusal - write a refusal row (and its NOTIFY) in one transaction;
 * *refusal_id gets its id */
gboolean store_refusal(PGconn *conn, const StoreEnvelope *envelope, const StoreRefusal *refusal,
                       gint64 *refusal_id, GError **error);

/* store_dedup_id - the Message-ID, or "sha256:<fingerprint>" without a usable one */
char *store_dedup_id(const Message *message);

/* store_dedup_id_raw - store_dedup_id() from the raw bytes, before parsing */
char *store_dedup_id_raw(GBytes *raw);

#endif
