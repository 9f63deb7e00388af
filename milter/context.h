/*
 * context.h - the per-connection and per-message state of the callbacks.
 *
 * libmilter calls the callbacks from many threads at once, so nothing keeps
 * state outside the two contexts hung on each SMFICTX (OpenDKIM's model):
 * - the connection context, made at negotiate or connect, holds the client's
 *   host and address and lives until close;
 * - the message context, made afresh at MAIL FROM, holds the sender, the
 *   recipients of ours, the header book and a reference to the configuration
 *   snapshot; it ends at end of message, abort or close.
 * Everything a message keeps is bounded: recipients of ours by
 * CONTEXT_OURS_MAX distinct addresses (452 4.5.3 past it, repeats folded),
 * headers by the book's caps (headers.h).
 *
 * callbacks.c holds the callbacks up to the headers, finish.c the end of
 * headers and the end of message; this file the helpers both use.
 */
#ifndef RG_MILTER_CONTEXT_H
#define RG_MILTER_CONTEXT_H

#include <glib.h>

#include <libmilter/mfapi.h>

#include "counters.h"
#include "decide.h"
#include "headers.h"
#include "ratelimit.h"
#include "snapshot.h"

/* Distinct recipients of ours one message may have; more get 452 4.5.3. */
#define CONTEXT_OURS_MAX 20
/* Keys counted against rate_limit_per_key in one message (one per key). */
#define CONTEXT_KEYS_MAX CONTEXT_OURS_MAX

typedef struct {
    Snapshot *snap;       /* one reference, taken at MAIL FROM */
    char *sender;         /* as MAIL FROM gave it: "<bob@example.org>" or "<>" */
    GHashTable *seen;     /* char *: every distinct recipient of ours (stripped), owned */
    GPtrArray *ours;      /* char *: the same, as RCPT TO gave them, in order */
    GPtrArray *noreply;   /* char *: no-reply recipients, borrowed from ours */
    GPtrArray *dedicated; /* char *: bare dedicated recipients, borrowed from ours */
    GPtrArray *keyless;   /* char *: those the headers give no key, dropped at EOM */
    char *first_ours;     /* the first accepted recipient of ours, for log lines */
    guint n_foreign;      /* accepted recipients in other domains */
    gboolean non_smtp;    /* no {rcpt_mailer} nor {rcpt_host}: sendmail(1), qmqpd */
    gboolean sender_done; /* the sender was counted against its rate limit */
    GPtrArray *keys;      /* char *: keys counted against rate_limit_per_key */
    HeaderBook *book;     /* the headers, bounded */
    char *remove_reason;  /* set after the headers: remove every recipient of ours at EOM */
    Decision remove_as;   /* the counter of that removal */
    const char *remove_xcode;
    char *tls_version; /* TLS macros as seen at RCPT, for end of message */
    char *cipher;
    char *cipher_bits;
} MsgCtx;

typedef struct {
    char *host;            /* escaped for logs */
    char *addr;            /* printable address */
    char *raw_host;        /* as the MTA gave it, for refusal rows (NULL: unknown) */
    unsigned long noreply; /* the SMFIP_NR_* steps negotiated: their callbacks do not answer */
    gboolean failed;       /* an internal error no answer could carry yet */
    MsgCtx *msg;
} ConnCtx;

/* msg_new - a message context holding snap (the caller's reference moves in) */
MsgCtx *msg_new(Snapshot *snap, const char *sender);

/* msg_free - release a message context (NULL-safe) */
void msg_free(MsgCtx *msg);

/* msg_n_ours - distinct accepted recipients of ours */
guint msg_n_ours(const MsgCtx *msg);

/* ctx_symval - a macro's value, or NULL when absent or empty */
const char *ctx_symval(SMFICTX *ctx, const char *name);

/* ctx_queue_id - the queue id for log lines, "NOQUEUE" before the MTA has one (new string) */
char *ctx_queue_id(SMFICTX *ctx);

/* ctx_log - "QUEUEID: action: STAGE from host[addr]: text; from=<..> to=<..>" */
void ctx_log(const ConnCtx *conn, const MsgCtx *msg, const char *id, const char *action,
             const char *stage, const char *text, const char *rcpt);

/* ctx_reply - smfi_setreply with text made safe for it */
gboolean ctx_reply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text);

/* ctx_refuse - the one way a refusal goes out: smfi_setreply, a mail.log line,
 * the counter and (rcode 5xx) a refusal row; stage is "rcpt", "headers" or
 * "message" (the log's RCPT, END-OF-HEADERS, END-OF-MESSAGE). key may be NULL.
 * SMFIS_REJECT or SMFIS_TEMPFAIL by rcode; SMFIS_TEMPFAIL if the reply cannot be set. */
sfsistat ctx_refuse(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const char *stage, const char *rcode,
                    const char *xcode, const char *text, const char *rcpt, const ReplyKey *key,
                    Decision decision);

/* ctx_record - a refusal row without an SMTP reply (a recipient removed) */
void ctx_record(SMFICTX *ctx, const ConnCtx *conn, const MsgCtx *msg, const char *stage, int code,
                const char *xcode, const char *text, const char *rcpt, const ReplyKey *key);

/* ctx_limiter - the process's rate limiter */
RateLimiter *ctx_limiter(void);

#endif
