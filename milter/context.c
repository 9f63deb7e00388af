/*
 * context.c - message contexts, log lines, replies and refusal rows (context.h).
 */
#include <string.h>

#include "context.h"
#include "maillog.h"
#include "refusals.h"

/* msg_new - a message context holding snap */
MsgCtx *
msg_new(Snapshot *snap, const char *sender)
{
    MsgCtx *msg = g_new0(MsgCtx, 1);

    msg->snap = snap; /* the caller's reference moves here */
    msg->sender = g_strdup(sender);
    msg->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    msg->ours = g_ptr_array_new_with_free_func(g_free);
    msg->noreply = g_ptr_array_new();
    msg->dedicated = g_ptr_array_new();
    msg->keyless = g_ptr_array_new();
    msg->keys = g_ptr_array_new_with_free_func(g_free);
    msg->book = headerbook_new(
        snap->config->milter_remove_authentication_results ? snap->config->authserv_id : NULL);
    return msg;
}

/* msg_free - release a message context (NULL-safe) */
void
msg_free(MsgCtx *msg)
{
    if (msg == NULL)
        return;
    snapshot_unref(msg->snap);
    g_free(msg->sender);
    g_hash_table_unref(msg->seen);
    g_ptr_array_unref(msg->noreply);
    g_ptr_array_unref(msg->dedicated);
    g_ptr_array_unref(msg->keyless);
    g_ptr_array_unref(msg->ours); /* after the borrowing lists */
    g_ptr_array_unref(msg->keys);
    headerbook_free(msg->book);
    g_free(msg->first_ours);
    g_free(msg->remove_reason);
    g_free(msg->tls_version);
    g_free(msg->cipher);
    g_free(msg->cipher_bits);
    g_free(msg);
}

/* msg_n_ours - distinct accepted recipients of ours */
guint
msg_n_ours(const MsgCtx *msg)
{
    return msg->ours->len;
}

/* ctx_symval - a macro's value, or NULL */
const char *
ctx_symval(SMFICTX *ctx, const char *name)
{
    const char *value = smfi_getsymval(ctx, (char *)name);

    return value != NULL && *value != '\0' ? value : NULL;
}

/* ctx_queue_id - the queue id for log lines */
char *
ctx_queue_id(SMFICTX *ctx)
{
    const char *id = ctx_symval(ctx, "i");

    return maillog_escape(id != NULL ? id : "NOQUEUE");
}

/* log_address - an envelope address without brackets, escaped for logs */
static char *
log_address(const char *address)
{
    g_autofree char *bare = address_strip(address != NULL ? address : "");

    return maillog_escape(bare);
}

/* ctx_log - one decision line in Postfix's shape */
void
ctx_log(const ConnCtx *conn, const MsgCtx *msg, const char *id, const char *action,
        const char *stage, const char *text, const char *rcpt)
{
    g_autofree char *from = log_address(msg->sender);
    g_autofree char *to = log_address(rcpt);
    g_autofree char *safe = maillog_escape(text);

    maillog_info("%s: %s: %s from %s[%s]: %s; from=<%s> to=<%s>", id, action, stage, conn->host,
                 conn->addr, safe, from, to);
}

/* ctx_reply - smfi_setreply with text made safe for it */
gboolean
ctx_reply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
    g_autofree char *safe = decide_reply_text(text);

    return smfi_setreply(ctx, (char *)rcode, (char *)xcode, safe) == MI_SUCCESS;
}

/* log_stage - the log's word for a refusal stage */
static const char *
log_stage(const char *stage)
{
    if (strcmp(stage, "rcpt") == 0)
        return "RCPT";
    if (strcmp(stage, "headers") == 0)
        return "END-OF-HEADERS";
    return "END-OF-MESSAGE";
}

/* ctx_record - a refusal row (no SMTP reply) */
void
ctx_record(SMFICTX *ctx, const ConnCtx *conn, const MsgCtx *msg, const char *stage, int code,
           const char *xcode, const char *text, const char *rcpt, const ReplyKey *key)
{
    RefusalRow row = {
        .stage = stage,
        .smtp_code = code,
        .enhanced_code = xcode,
        .reason = text,
        .sender = msg->sender,
        .recipient = rcpt,
        .from = headerbook_first(msg->book, "From"),
        .has_key = key != NULL,
        .key_kind = key != NULL ? key->kind : NULL,
        .key_target = key != NULL ? key->target : 0,
        .key_user = key != NULL ? key->user : 0,
        .message_id = headerbook_first(msg->book, "Message-ID"),
        .client_address = strcmp(conn->addr, "unknown") != 0 ? conn->addr : NULL,
        .client_name = conn->raw_host,
        .queue_id = ctx_symval(ctx, "i"),
    };

    refusals_record(&row);
}

/* ctx_refuse - the one way a refusal goes out */
sfsistat
ctx_refuse(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const char *stage, const char *rcode,
           const char *xcode, const char *text, const char *rcpt, const ReplyKey *key,
           Decision decision)
{
    g_autofree char *line = g_strdup_printf("%s %s %s", rcode, xcode, text);
    /* The queue id is not known at RCPT time (SPEC section 6). */
    g_autofree char *id = strcmp(stage, "rcpt") == 0 ? g_strdup("NOQUEUE") : ctx_queue_id(ctx);

    if (!ctx_reply(ctx, rcode, xcode, text)) {
        counters_add(DECISION_TEMPFAIL);
        return SMFIS_TEMPFAIL;
    }
    ctx_log(conn, msg, id, "reject", log_stage(stage), line, rcpt);
    counters_add(decision);
    if (rcode[0] == '5')
        ctx_record(ctx, conn, msg, stage, atoi(rcode), xcode, text, rcpt, key);
    return rcode[0] == '5' ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* ctx_limiter - the process's rate limiter, made on first use */
RateLimiter *
ctx_limiter(void)
{
    static RateLimiter *limiter;

    if (g_once_init_enter(&limiter))
        g_once_init_leave(&limiter, ratelimit_new(RATELIMIT_MAX_ENTRIES, RATELIMIT_WINDOW));
    return limiter;
}
