/*
 * finish.c - the end of headers and the end of message (finish.h).
 *
 * After the headers the milter decides, once per message: an auto-submitted
 * message to a reply domain is refused (550 5.7.1) or discarded, and mail to
 * the bare dedicated address is looked up for its key exactly once with the
 * agent's own keyfind_lookup(). When the message also has recipients in other
 * domains (a shared MX), a refusal would refuse those too, so instead only
 * our recipients are removed at the end of the message and the rest is
 * delivered.
 *
 * At the end of the message: the no-reply recipients and the recipients
 * marked after the headers are removed, every inbound X-Replygate-* header
 * and every inbound Authentication-Results header claiming our authserv-id
 * is deleted (the book's plan, linear), and the signed X-Replygate-TLS trace
 * header is added.
 */
#include <string.h>

#include "context.h"
#include "finish.h"
#include "maillog.h"
#include "trace.h"

/* remove_ours_later - after the headers, on a shared MX: remove every
 * recipient of ours at the end of the message instead of refusing it */
static sfsistat
remove_ours_later(MsgCtx *msg, const char *reason, const char *xcode, Decision decision)
{
    g_free(msg->remove_reason);
    msg->remove_reason = g_strdup(reason);
    msg->remove_xcode = xcode;
    msg->remove_as = decision;
    return SMFIS_CONTINUE;
}

/* eoh_autosubmit - refuse, discard or mark an auto-submitted message */
static sfsistat
eoh_autosubmit(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, AutoAction action, const char *reason)
{
    g_autofree char *id = ctx_queue_id(ctx);
    g_autofree char *text = NULL;

    if (msg->n_foreign > 0) {
        text = g_strdup_printf("recipient removed: auto-submitted message (%s)", reason);
        return remove_ours_later(msg, text, DECIDE_AUTO_XCODE, DECISION_REMOVE_AUTO_SUBMITTED);
    }
    if (action == AUTO_DISCARD) {
        text = g_strdup_printf("Auto-submitted message discarded (%s)", reason);
        ctx_log(conn, msg, id, "discard", "END-OF-HEADERS", text, msg->first_ours);
        counters_add(DECISION_DISCARD_AUTO_SUBMITTED);
        return SMFIS_DISCARD;
    }
    text = decide_autosubmit_text(reason);
    return ctx_refuse(ctx, conn, msg, "headers", DECIDE_AUTO_RCODE, DECIDE_AUTO_XCODE, text,
                      msg->first_ours, NULL, DECISION_REJECT_AUTO_SUBMITTED);
}

/* eoh_rate_key - rate_limit_per_key for a key found after the headers; a
 * 450 only when every recipient is such a dedicated one (a tempfail now
 * would defer the others too) */
static sfsistat
eoh_rate_key(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const ReplyKey *key)
{
    guint64 limit = msg->snap->config->rate_limit_per_key;
    g_autofree char *name = NULL;
    g_autofree char *text = NULL;
    RateCharge charge;

    if (limit == 0 || msg->n_foreign > 0 || msg->dedicated->len < msg_n_ours(msg))
        return SMFIS_CONTINUE;
    name = g_strdup_printf("%s-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, key->kind, key->target,
                           key->user);
    charge = (RateCharge){RATE_KEY, name, limit};
    if (ratelimit_charge(ctx_limiter(), &charge, 1, g_get_monotonic_time() / G_USEC_PER_SEC) < 0)
        return SMFIS_CONTINUE;
    text = decide_rate_text(FALSE, msg->first_ours, msg->sender, limit);
    return ctx_refuse(ctx, conn, msg, "headers", DECIDE_RATE_RCODE, DECIDE_RATE_XCODE, text,
                      msg->first_ours, key, DECISION_DEFER_RATE_KEY);
}

/* eoh_dedicated - the bare dedicated address: look its key up once */
static sfsistat
eoh_dedicated(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const HeaderField *fields, gsize n)
{
    ReplyKey key;
    guint64 n_headers;
    guint64 n_bytes;
    g_autofree char *id = NULL;
    g_autofree char *text = NULL;

    if (msg->dedicated->len == 0)
        return SMFIS_CONTINUE;
    switch (decide_dedicated(msg->snap->config, msg->snap->ring, fields, n,
                             headerbook_truncated(msg->book), &key)) {
    case DEDICATED_KEY:
        return eoh_rate_key(ctx, conn, msg, &key);
    case DEDICATED_UNDECIDED:
        /* The caps left headers out: the agent, which reads them all, decides. */
        headerbook_counts(msg->book, &n_headers, &n_bytes);
        id = ctx_queue_id(ctx);
        maillog_warning("%s: %" G_GUINT64_FORMAT " headers (%" G_GUINT64_FORMAT
                        " bytes): no reply key among the %u kept for the key lookup; the "
                        "delivery agent decides",
                        id, n_headers, n_bytes, (guint)HEADERS_KEEP_MAX);
        return SMFIS_CONTINUE;
    case DEDICATED_NONE:
    default:
        break;
    }
    if (msg->dedicated->len + msg->noreply->len < msg_n_ours(msg) || msg->n_foreign > 0 ||
        msg->noreply->len > 0) {
        /* Others remain: drop these at the end of the message. */
        for (guint i = 0; i < msg->dedicated->len; i++)
            g_ptr_array_add(msg->keyless, g_ptr_array_index(msg->dedicated, i));
        return SMFIS_CONTINUE;
    }
    text = decide_keyless_text(g_ptr_array_index(msg->dedicated, 0));
    return ctx_refuse(ctx, conn, msg, "headers", DECIDE_KEYLESS_RCODE, DECIDE_KEYLESS_XCODE, text,
                      g_ptr_array_index(msg->dedicated, 0), NULL, DECISION_REJECT_KEYLESS);
}

/* finish_eoh - refuse or discard auto-submitted mail to us, and keyless mail
 * to the dedicated address */
sfsistat
finish_eoh(SMFICTX *ctx)
{
    ConnCtx *conn = smfi_getpriv(ctx);
    MsgCtx *msg = conn != NULL ? conn->msg : NULL;
    g_autofree char *reason = NULL;
    const HeaderField *fields;
    gsize n;
    AutoAction action;

    if (msg == NULL || conn->failed) {
        counters_add(DECISION_TEMPFAIL);
        return SMFIS_TEMPFAIL;
    }
    if (msg_n_ours(msg) == 0)
        return SMFIS_ACCEPT; /* nothing of ours: never touched */
    if (msg->non_smtp)
        return SMFIS_CONTINUE; /* nothing may be refused: the agent judges it */
    fields = headerbook_fields(msg->book, &n);
    action = decide_autosubmit(msg->snap->config, fields, n, msg->sender, &reason);
    if (action != AUTO_NONE)
        return eoh_autosubmit(ctx, conn, msg, action, reason);
    return eoh_dedicated(ctx, conn, msg, fields, n);
}

/* delete_rcpts - smfi_delrcpt each recipient of list: a log line, a counter
 * and (when xcode is given) a refusal row each */
static gboolean
delete_rcpts(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const char *id, GPtrArray *list,
             const char *text, const char *xcode, Decision decision)
{
    for (guint i = 0; i < list->len; i++) {
        char *rcpt = g_ptr_array_index(list, i);

        if (smfi_delrcpt(ctx, rcpt) != MI_SUCCESS)
            return FALSE;
        ctx_log(conn, msg, id, "discard", "END-OF-MESSAGE", text, rcpt);
        counters_add(decision);
        if (xcode != NULL)
            ctx_record(ctx, conn, msg, "message", 550, xcode, text, rcpt, NULL);
    }
    return TRUE;
}

/* drop_noreply - remove no-reply recipients and dedicated ones without a key;
 * TRUE when the whole message goes */
static gboolean
drop_noreply(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const char *id, gboolean *failed)
{
    *failed = FALSE;
    if (msg->noreply->len == 0 && msg->keyless->len == 0)
        return FALSE;
    if (msg->n_foreign == 0 && msg->noreply->len + msg->keyless->len >= msg_n_ours(msg)) {
        /* Keyless recipients alone never get here: the end of headers refused them. */
        ctx_log(conn, msg, id, "discard", "END-OF-MESSAGE",
                msg->keyless->len == 0
                    ? "message to the no-reply address discarded"
                    : "message to the no-reply address and to the dedicated address "
                      "without a reply key discarded",
                g_ptr_array_index(msg->noreply->len > 0 ? msg->noreply : msg->keyless, 0));
        counters_add(DECISION_DISCARD_NOREPLY);
        return TRUE;
    }
    if (!delete_rcpts(ctx, conn, msg, id, msg->noreply, "no-reply recipient removed", NULL,
                      DECISION_REMOVE_NOREPLY) ||
        !delete_rcpts(ctx, conn, msg, id, msg->keyless,
                      "recipient removed: no reply key in the message", DECIDE_KEYLESS_XCODE,
                      DECISION_REMOVE_KEYLESS))
        *failed = TRUE;
    return FALSE;
}

/* strip_headers - delete every inbound X-Replygate-* header and every inbound
 * Authentication-Results header claiming our authserv-id */
static gboolean
strip_headers(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const char *id)
{
    guint n_ours = 0;
    guint n_auth = 0;
    g_autoptr(GArray) plan = headerbook_deletions(msg->book, &n_ours, &n_auth);
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < plan->len; i++) {
        HeaderDeletion *deletion = &g_array_index(plan, HeaderDeletion, i);

        if (smfi_chgheader(ctx, (char *)deletion->name, deletion->index, NULL) != MI_SUCCESS)
            return FALSE;
    }
    if (plan->len == 0)
        return TRUE;
    if (n_ours > 0)
        g_string_append_printf(text,
                               "%u inbound X-Replygate-* header(s) removed: only the milter "
                               "writes them",
                               n_ours);
    if (n_auth > 0)
        g_string_append_printf(text,
                               "%s%u inbound Authentication-Results header(s) claiming %s "
                               "removed: only our verifiers write them",
                               text->len > 0 ? "; " : "", n_auth, msg->snap->config->authserv_id);
    ctx_log(conn, msg, id, "strip", "END-OF-MESSAGE", text->str, msg->first_ours);
    counters_add(DECISION_STRIP_HEADERS);
    return TRUE;
}

/* trace_value - the signed X-Replygate-TLS value (trace.h) for this queue id,
 * or NULL without TLS. Without the queue id {i} the agent could not verify the
 * header, so none is added and a warning is logged: the reply is stored
 * without TLS data rather than with a header that any sender could forge. */
static char *
trace_value(const MsgCtx *msg, const char *qid, const char *version, const char *cipher,
            const char *bits, const char *log_id)
{
    guint64 n = 0;
    char *value;

    if (version == NULL || *version == '\0')
        return NULL;
    if (bits == NULL || !g_ascii_string_to_unsigned(bits, 10, 0, 65536, &n, NULL))
        n = 0;
    value = trace_header_value(msg->snap->ring, qid, version, cipher, (int)n);
    if (value == NULL)
        maillog_warning("%s: no usable queue id macro {i} at end of message: adding no %s header",
                        log_id, TRACE_HEADER);
    return value;
}

/* add_trace - the signed X-Replygate-TLS header, when the session used TLS */
static gboolean
add_trace(SMFICTX *ctx, const MsgCtx *msg, const char *id)
{
    const char *version = ctx_symval(ctx, "{tls_version}");
    g_autofree char *tls = NULL;

    if (version != NULL)
        tls = trace_value(msg, ctx_symval(ctx, "i"), version, ctx_symval(ctx, "{cipher}"),
                          ctx_symval(ctx, "{cipher_bits}"), id);
    else
        tls = trace_value(msg, ctx_symval(ctx, "i"), msg->tls_version, msg->cipher,
                          msg->cipher_bits, id);
    /* Without TLS (require_tls = no) nothing is added: absence means no TLS. */
    return tls == NULL || smfi_addheader(ctx, (char *)TRACE_HEADER, tls) == MI_SUCCESS;
}

/* finish_eom - remove recipients, strip forged headers, add the TLS trace header */
sfsistat
finish_eom(SMFICTX *ctx)
{
    ConnCtx *conn = smfi_getpriv(ctx);
    MsgCtx *msg = conn != NULL ? conn->msg : NULL;
    g_autofree char *id = NULL;
    gboolean failed = FALSE;
    sfsistat status = SMFIS_CONTINUE;

    if (msg == NULL || conn->failed) {
        counters_add(DECISION_TEMPFAIL);
        return SMFIS_TEMPFAIL;
    }
    if (msg_n_ours(msg) == 0)
        return SMFIS_CONTINUE;
    id = ctx_queue_id(ctx);
    if (msg->remove_reason != NULL) {
        /* Others are delivered; ours are gone, so nothing else of ours to do. */
        if (!delete_rcpts(ctx, conn, msg, id, msg->ours, msg->remove_reason, msg->remove_xcode,
                          msg->remove_as))
            status = SMFIS_TEMPFAIL;
    } else if (msg->non_smtp) {
        ctx_log(conn, msg, id, "pass", "END-OF-MESSAGE",
                "non-SMTP submission: nothing may be refused here, the delivery agent judges it",
                msg->first_ours);
        if (!strip_headers(ctx, conn, msg, id))
            status = SMFIS_TEMPFAIL;
    } else if (drop_noreply(ctx, conn, msg, id, &failed)) {
        status = SMFIS_DISCARD;
    } else if (failed || !strip_headers(ctx, conn, msg, id) || !add_trace(ctx, msg, id)) {
        status = SMFIS_TEMPFAIL;
    }
    if (status == SMFIS_TEMPFAIL)
        counters_add(DECISION_TEMPFAIL);
    g_clear_pointer(&conn->msg, msg_free);
    return status;
}
