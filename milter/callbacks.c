/*
 * callbacks.c - the libmilter callbacks of replygate-milter.
 *
 * libmilter calls these from many threads at once, so nothing here keeps
 * state outside the two contexts hung on each SMFICTX (OpenDKIM's model):
 * - the connection context, made at negotiate or connect, holds the client's
 *   host and address and lives until close;
 * - the message context, made afresh at MAIL FROM, holds the sender, the
 *   recipients of ours, the headers and a reference to the configuration
 *   snapshot; it ends at end of message, abort or close.
 * Every failure of our own answers SMFIS_TEMPFAIL, never an accept. Each
 * reject or discard writes one mail.log line in Postfix's shape.
 *
 * Mail to the bare dedicated address is looked up after the headers with the
 * agent's own keyfind_lookup(): without a key the agent would refuse it and
 * Postfix would bounce that to a sender who may be forged, so the milter
 * refuses it first (every recipient keyless) or drops those recipients.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "decide.h"
#include "maillog.h"
#include "rg-error.h"
#include "snapshot.h"
#include "trace.h"

/* The macros the decisions need, asked for at each stage (smfi_setsymlist). */
#define TLS_MACROS "{tls_version} {cipher} {cipher_bits}"

typedef struct {
    Snapshot *snap;       /* one reference, taken at MAIL FROM */
    char *sender;         /* as MAIL FROM gave it: "<bob@example.org>" or "<>" */
    GPtrArray *noreply;   /* char *: no-reply recipients exactly as RCPT TO gave them */
    GPtrArray *dedicated; /* char *: bare dedicated recipients, as RCPT TO gave them */
    GPtrArray *keyless;   /* char *: those of them the headers give no key, dropped at EOM */
    char *first_ours;     /* the first accepted recipient of ours, for log lines */
    guint n_rcpts;        /* accepted recipients, ours and foreign */
    guint n_ours;         /* accepted recipients of ours (key, dedicated, static, no-reply) */
    GPtrArray *names;     /* char *: header names in message order */
    GPtrArray *values;    /* char *: their values */
    char *tls_version;    /* TLS macros as seen at RCPT, for end of message */
    char *cipher;
    char *cipher_bits;
} MsgCtx;

typedef struct {
    char *host;            /* escaped for logs */
    char *addr;            /* printable address */
    unsigned long noreply; /* the SMFIP_NR_* steps negotiated: their callbacks do not answer */
    gboolean failed;       /* an internal error no answer could carry yet */
    MsgCtx *msg;
} ConnCtx;

/* msg_free - release a message context (NULL-safe) */
static void
msg_free(MsgCtx *msg)
{
    if (msg == NULL)
        return;
    snapshot_unref(msg->snap);
    g_free(msg->sender);
    g_ptr_array_unref(msg->noreply);
    g_ptr_array_unref(msg->dedicated);
    g_ptr_array_unref(msg->keyless);
    g_free(msg->first_ours);
    g_ptr_array_unref(msg->names);
    g_ptr_array_unref(msg->values);
    g_free(msg->tls_version);
    g_free(msg->cipher);
    g_free(msg->cipher_bits);
    g_free(msg);
}

/* msg_new - a message context holding a reference to snap */
static MsgCtx *
msg_new(Snapshot *snap, const char *sender)
{
    MsgCtx *msg = g_new0(MsgCtx, 1);

    msg->snap = snap; /* the caller's reference moves here */
    msg->sender = g_strdup(sender);
    msg->noreply = g_ptr_array_new_with_free_func(g_free);
    msg->dedicated = g_ptr_array_new_with_free_func(g_free);
    msg->keyless = g_ptr_array_new_with_free_func(g_free);
    msg->names = g_ptr_array_new_with_free_func(g_free);
    msg->values = g_ptr_array_new_with_free_func(g_free);
    return msg;
}

/* conn_free - release a connection context and its message (NULL-safe) */
static void
conn_free(ConnCtx *conn)
{
    if (conn == NULL)
        return;
    msg_free(conn->msg);
    g_free(conn->host);
    g_free(conn->addr);
    g_free(conn);
}

/* conn_get - the connection context of ctx, made on first use; NULL on failure */
static ConnCtx *
conn_get(SMFICTX *ctx)
{
    ConnCtx *conn = smfi_getpriv(ctx);

    if (conn != NULL)
        return conn;
    conn = g_new0(ConnCtx, 1);
    conn->host = g_strdup("unknown");
    conn->addr = g_strdup("unknown");
    if (smfi_setpriv(ctx, conn) != MI_SUCCESS) {
        conn_free(conn);
        return NULL;
    }
    return conn;
}

/* conn_msg - the current message context, or NULL outside a transaction */
static MsgCtx *
conn_msg(SMFICTX *ctx)
{
    ConnCtx *conn = smfi_getpriv(ctx);

    return conn != NULL ? conn->msg : NULL;
}

/* symval - a macro's value, or NULL */
static const char *
symval(SMFICTX *ctx, const char *name)
{
    const char *value = smfi_getsymval(ctx, (char *)name);

    return value != NULL && *value != '\0' ? value : NULL;
}

/* queue_id - the queue id for log lines, "NOQUEUE" before the MTA has one */
static char *
queue_id(SMFICTX *ctx)
{
    const char *id = symval(ctx, "i");

    return maillog_escape(id != NULL ? id : "NOQUEUE");
}

/* log_address - an envelope address without brackets, escaped for logs */
static char *
log_address(const char *address)
{
    g_autofree char *bare = address_strip(address != NULL ? address : "");

    return maillog_escape(bare);
}

/* log_decision - "QUEUEID: action: STAGE from host[addr]: text; from=<..> to=<..>" */
static void
log_decision(const ConnCtx *conn, const MsgCtx *msg, const char *id, const char *action,
             const char *stage, const char *text, const char *rcpt)
{
    g_autofree char *from = log_address(msg->sender);
    g_autofree char *to = log_address(rcpt);
    g_autofree char *safe = maillog_escape(text);

    maillog_info("%s: %s: %s from %s[%s]: %s; from=<%s> to=<%s>", id, action, stage, conn->host,
                 conn->addr, safe, from, to);
}

/* set_reply - smfi_setreply with text made safe for it */
static gboolean
set_reply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
    g_autofree char *safe = decide_reply_text(text);

    return smfi_setreply(ctx, (char *)rcode, (char *)xcode, safe) == MI_SUCCESS;
}

/* remember_tls - keep the TLS macros seen at RCPT for the trace header */
static void
remember_tls(SMFICTX *ctx, MsgCtx *msg)
{
    const char *version = symval(ctx, "{tls_version}");

    if (version == NULL || msg->tls_version != NULL)
        return;
    msg->tls_version = g_strdup(version);
    msg->cipher = g_strdup(symval(ctx, "{cipher}"));
    msg->cipher_bits = g_strdup(symval(ctx, "{cipher_bits}"));
}

/* set_symlist - ask for the macros of one stage (libmilter's prototype lacks const) */
static gboolean
set_symlist(SMFICTX *ctx, int stage, const char *macros)
{
    return smfi_setsymlist(ctx, stage, (char *)macros) == MI_SUCCESS;
}

/* answer - what a callback that has nothing to refuse returns at a stage
 * whose SMFIP_NR_* bit may have been negotiated (libmilter turns any other
 * answer there into none, and logs that the milter "lied") */
static sfsistat
answer(const ConnCtx *conn, unsigned long nr_bit)
{
    return conn != NULL && (conn->noreply & nr_bit) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* rg_negotiate - take the actions we need, skip what we never read, ask for macros */
static sfsistat
rg_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
             unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    const unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT;
    /*
     * No body, no unknown commands, no DATA. No answer to connect, HELO, MAIL
     * and each header: those callbacks never refuse anything, so the MTA need
     * not wait for them (one round trip less each). An internal error there
     * (no context, no configuration) leaves no message context or sets
     * conn->failed, and RCPT or the end of headers answers it with a tempfail.
     */
    const unsigned long steps = SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HDR |
                                SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL;
    ConnCtx *conn = conn_get(ctx);

    if (conn == NULL)
        return SMFIS_TEMPFAIL;
    if ((f0 & actions) != actions) {
        /* Without these the trace header could be forged: refuse to filter at all. */
        maillog_error("the MTA offers milter actions 0x%lx, without 0x%lx that replygate needs", f0,
                      actions);
        return SMFIS_REJECT;
    }
    *pf0 = actions | (f0 & SMFIF_SETSYMLIST);
    *pf1 = steps & f1;
    *pf2 = 0;
    *pf3 = 0;
    conn->noreply = *pf1 & (SMFIP_NR_HDR | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL);
    if (f0 & SMFIF_SETSYMLIST) {
        /* Postfix evaluates each list when the command arrives, so TLS is current. */
        if (!set_symlist(ctx, SMFIM_HELO, TLS_MACROS) ||
            !set_symlist(ctx, SMFIM_ENVFROM, "i " TLS_MACROS) ||
            !set_symlist(ctx, SMFIM_ENVRCPT, "i " TLS_MACROS) ||
            !set_symlist(ctx, SMFIM_EOH, "i") || !set_symlist(ctx, SMFIM_EOM, "i " TLS_MACROS))
            return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

/* rg_connect - remember the client's host and address */
static sfsistat
rg_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    ConnCtx *conn = conn_get(ctx);
    char buf[INET6_ADDRSTRLEN] = "unknown";

    /* negotiate made the context; without one MAIL FROM tries again and
     * RCPT tempfails if that fails too */
    if (conn == NULL)
        return SMFIS_TEMPFAIL;
    if (hostaddr != NULL && hostaddr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)hostaddr)->sin_addr, buf, sizeof buf);
    else if (hostaddr != NULL && hostaddr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)hostaddr)->sin6_addr, buf, sizeof buf);
    g_free(conn->host);
    /* Without a verified name the MTA sends "[addr]"; Postfix logs that as "unknown". */
    if (hostname == NULL || hostname[0] == '[' || hostname[0] == '\0')
        hostname = (char *)"unknown";
    conn->host = maillog_escape(hostname);
    g_free(conn->addr);
    conn->addr = g_strdup(buf);
    return answer(conn, SMFIP_NR_CONN);
}

/* rg_helo - nothing to decide; registered only so that HELO needs no answer */
static sfsistat
rg_helo(SMFICTX *ctx, char *helohost)
{
    (void)helohost;
    return answer(smfi_getpriv(ctx), SMFIP_NR_HELO);
}

/* rg_envfrom - a new message: fresh context, current snapshot, the sender.
 * On failure the message has no context, so every RCPT of it tempfails:
 * with SMFIP_NR_MAIL the answer at MAIL FROM would not reach the MTA. */
static sfsistat
rg_envfrom(SMFICTX *ctx, char **argv)
{
    ConnCtx *conn = conn_get(ctx);
    Snapshot *snap;

    if (conn == NULL)
        return SMFIS_TEMPFAIL; /* libmilter drops it under SMFIP_NR_MAIL; RCPT tempfails */
    g_clear_pointer(&conn->msg, msg_free);
    conn->failed = FALSE;
    snap = snapshot_current();
    if (snap == NULL || argv == NULL || argv[0] == NULL) {
        snapshot_unref(snap);
        return (conn->noreply & SMFIP_NR_MAIL) != 0 ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
    }
    conn->msg = msg_new(snap, argv[0]);
    return answer(conn, SMFIP_NR_MAIL);
}

/* rg_envrcpt - accept, refuse or mark one recipient */
static sfsistat
rg_envrcpt(SMFICTX *ctx, char **argv)
{
    ConnCtx *conn = smfi_getpriv(ctx);
    MsgCtx *msg = conn_msg(ctx);
    const char *rcpt = argv != NULL ? argv[0] : NULL;
    RcptDecision decision;
    g_autofree char *text = NULL;
    const char *rcode;
    const char *xcode;

    if (msg == NULL || rcpt == NULL)
        return SMFIS_TEMPFAIL;
    decision = decide_rcpt(msg->snap->config, msg->snap->ring, rcpt, symval(ctx, "{tls_version}"));
    switch (decision.action) {
    case RCPT_FOREIGN:
        msg->n_rcpts++;
        return SMFIS_CONTINUE;
    case RCPT_NOREPLY:
        g_ptr_array_add(msg->noreply, g_strdup(rcpt));
        /* fall through */
    case RCPT_ACCEPT:
        if (decision.klass == ADDRESS_DEDICATED)
            g_ptr_array_add(msg->dedicated, g_strdup(rcpt));
        msg->n_rcpts++;
        msg->n_ours++;
        if (msg->first_ours == NULL)
            msg->first_ours = g_strdup(rcpt);
        remember_tls(ctx, msg);
        return SMFIS_CONTINUE;
    case RCPT_NEED_TLS:
        rcode = DECIDE_TLS_RCODE;
        xcode = DECIDE_TLS_XCODE;
        text = g_strdup(DECIDE_TLS_TEXT);
        break;
    case RCPT_UNKNOWN:
    default:
        rcode = DECIDE_UNKNOWN_RCODE;
        xcode = DECIDE_UNKNOWN_XCODE;
        text = decide_unknown_text(rcpt);
        break;
    }
    if (!set_reply(ctx, rcode, xcode, text))
        return SMFIS_TEMPFAIL;
    {
        g_autofree char *line = g_strdup_printf("%s %s %s", rcode, xcode, text);
        /* The queue id is not known at RCPT time (SPEC section 6). */
        log_decision(conn, msg, "NOQUEUE", "reject", "RCPT", line, rcpt);
    }
    return SMFIS_REJECT;
}

/* rg_header - keep the headers of messages to us, for EOH and EOM */
static sfsistat
rg_header(SMFICTX *ctx, char *name, char *value)
{
    ConnCtx *conn = smfi_getpriv(ctx);
    MsgCtx *msg = conn_msg(ctx);

    if (conn == NULL)
        return SMFIS_TEMPFAIL;
    if (msg == NULL || name == NULL)
        conn->failed = TRUE; /* answered with a tempfail at end of headers */
    else if (msg->n_ours > 0) {
        g_ptr_array_add(msg->names, g_strdup(name));
        g_ptr_array_add(msg->values, g_strdup(value != NULL ? value : ""));
    }
    return answer(conn, SMFIP_NR_HDR);
}

/* refuse_keyless - after the headers: refuse mail whose every recipient is a bare
 * dedicated address without a key, or mark such recipients for end of message */
static sfsistat
refuse_keyless(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const HeaderField *fields, gsize n_fields)
{
    g_autoptr(GPtrArray) found = g_ptr_array_new();
    g_autofree char *id = NULL;
    g_autofree char *text = NULL;
    g_autofree char *line = NULL;
    const char *first;
    KeylessAction action;

    if (msg->dedicated->len == 0)
        return SMFIS_CONTINUE;
    action = decide_keyless(msg->snap->config, msg->snap->ring,
                            (const char *const *)msg->dedicated->pdata, msg->dedicated->len,
                            msg->n_rcpts, fields, n_fields, found);
    if (action == KEYLESS_NONE)
        return SMFIS_CONTINUE;
    if (action == KEYLESS_DROP) {
        for (guint i = 0; i < found->len; i++)
            g_ptr_array_add(msg->keyless, g_strdup(g_ptr_array_index(found, i)));
        return SMFIS_CONTINUE;
    }
    first = g_ptr_array_index(found, 0);
    text = decide_keyless_text(first);
    if (!set_reply(ctx, DECIDE_KEYLESS_RCODE, DECIDE_KEYLESS_XCODE, text))
        return SMFIS_TEMPFAIL;
    id = queue_id(ctx);
    line = g_strdup_printf("%s %s %s", DECIDE_KEYLESS_RCODE, DECIDE_KEYLESS_XCODE, text);
    log_decision(conn, msg, id, "reject", "END-OF-HEADERS", line, first);
    return SMFIS_REJECT;
}

/* rg_eoh - refuse or discard auto-submitted mail to us, and keyless mail to
 * the dedicated address */
static sfsistat
rg_eoh(SMFICTX *ctx)
{
    ConnCtx *conn = smfi_getpriv(ctx);
    MsgCtx *msg = conn_msg(ctx);
    g_autofree HeaderField *fields = NULL;
    g_autofree char *reason = NULL;
    g_autofree char *id = NULL;
    g_autofree char *text = NULL;
    AutoAction action;

    if (msg == NULL || conn->failed)
        return SMFIS_TEMPFAIL;
    if (msg->n_ours == 0)
        return SMFIS_ACCEPT; /* nothing of ours: never touched */
    fields = g_new0(HeaderField, msg->names->len + 1);
    for (guint i = 0; i < msg->names->len; i++) {
        fields[i].name = g_ptr_array_index(msg->names, i);
        fields[i].value = g_ptr_array_index(msg->values, i);
    }
    action = decide_autosubmit(msg->snap->config, fields, msg->names->len, msg->sender, &reason);
    if (action == AUTO_NONE)
        return refuse_keyless(ctx, conn, msg, fields, msg->names->len);
    id = queue_id(ctx);
    if (action == AUTO_DISCARD) {
        text = g_strdup_printf("Auto-submitted message discarded (%s)", reason);
        log_decision(conn, msg, id, "discard", "END-OF-HEADERS", text, msg->first_ours);
        return SMFIS_DISCARD;
    }
    text = decide_autosubmit_text(reason);
    if (!set_reply(ctx, DECIDE_AUTO_RCODE, DECIDE_AUTO_XCODE, text))
        return SMFIS_TEMPFAIL;
    {
        g_autofree char *line =
            g_strdup_printf("%s %s %s", DECIDE_AUTO_RCODE, DECIDE_AUTO_XCODE, text);
        log_decision(conn, msg, id, "reject", "END-OF-HEADERS", line, msg->first_ours);
    }
    return SMFIS_REJECT;
}

/* delete_rcpts - smfi_delrcpt each recipient of list, one log line each */
static gboolean
delete_rcpts(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const char *id, GPtrArray *list,
             const char *text)
{
    for (guint i = 0; i < list->len; i++) {
        char *rcpt = g_ptr_array_index(list, i);

        if (smfi_delrcpt(ctx, rcpt) != MI_SUCCESS)
            return FALSE;
        log_decision(conn, msg, id, "discard", "END-OF-MESSAGE", text, rcpt);
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
    if (msg->noreply->len + msg->keyless->len >= msg->n_rcpts) {
        /* Keyless recipients alone never get here: the end of headers refused them. */
        log_decision(conn, msg, id, "discard", "END-OF-MESSAGE",
                     msg->keyless->len == 0
                         ? "message to the no-reply address discarded"
                         : "message to the no-reply address and to the dedicated address "
                           "without a reply key discarded",
                     g_ptr_array_index(msg->noreply->len > 0 ? msg->noreply : msg->keyless, 0));
        return TRUE;
    }
    if (!delete_rcpts(ctx, conn, msg, id, msg->noreply, "no-reply recipient removed") ||
        !delete_rcpts(ctx, conn, msg, id, msg->keyless,
                      "recipient removed: no reply key in the message")) {
        *failed = TRUE;
        return FALSE;
    }
    return FALSE;
}

/* strip_headers - delete every inbound X-Replygate-* header, each occurrence */
static gboolean
strip_headers(SMFICTX *ctx, ConnCtx *conn, MsgCtx *msg, const char *id)
{
    g_autoptr(GArray) plan =
        decide_header_deletions((const char *const *)msg->names->pdata, msg->names->len);

    for (guint i = 0; i < plan->len; i++) {
        HeaderDeletion *deletion = &g_array_index(plan, HeaderDeletion, i);

        if (smfi_chgheader(ctx, (char *)deletion->name, deletion->index, NULL) != MI_SUCCESS)
            return FALSE;
    }
    if (plan->len > 0) {
        g_autofree char *text = g_strdup_printf(
            "%u inbound X-Replygate-* header(s) removed: only the milter writes them", plan->len);
        log_decision(conn, msg, id, "strip", "END-OF-MESSAGE", text, msg->first_ours);
    }
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

/* rg_eom - drop no-reply and keyless recipients, strip forged headers, add the TLS trace header */
static sfsistat
rg_eom(SMFICTX *ctx)
{
    ConnCtx *conn = smfi_getpriv(ctx);
    MsgCtx *msg = conn_msg(ctx);
    g_autofree char *id = NULL;
    g_autofree char *tls = NULL;
    gboolean failed = FALSE;
    sfsistat status = SMFIS_CONTINUE;
    const char *version;

    if (msg == NULL || conn->failed)
        return SMFIS_TEMPFAIL;
    if (msg->n_ours == 0)
        return SMFIS_CONTINUE;
    id = queue_id(ctx);
    if (drop_noreply(ctx, conn, msg, id, &failed))
        status = SMFIS_DISCARD;
    else if (failed || !strip_headers(ctx, conn, msg, id))
        status = SMFIS_TEMPFAIL;
    else {
        version = symval(ctx, "{tls_version}");
        if (version != NULL)
            tls = trace_value(msg, symval(ctx, "i"), version, symval(ctx, "{cipher}"),
                              symval(ctx, "{cipher_bits}"), id);
        else
            tls = trace_value(msg, symval(ctx, "i"), msg->tls_version, msg->cipher,
                              msg->cipher_bits, id);
        /* Without TLS (require_tls = no) nothing is added: absence means no TLS. */
        if (tls != NULL && smfi_addheader(ctx, (char *)TRACE_HEADER, tls) != MI_SUCCESS)
            status = SMFIS_TEMPFAIL;
    }
    g_clear_pointer(&conn->msg, msg_free);
    return status;
}

/* rg_abort - the message ended early: drop its context */
static sfsistat
rg_abort(SMFICTX *ctx)
{
    ConnCtx *conn = smfi_getpriv(ctx);

    if (conn != NULL)
        g_clear_pointer(&conn->msg, msg_free);
    return SMFIS_CONTINUE;
}

/* rg_close - the connection ended: drop both contexts */
static sfsistat
rg_close(SMFICTX *ctx)
{
    ConnCtx *conn = smfi_getpriv(ctx);

    conn_free(conn);
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

/* callbacks_register - hand the callbacks to libmilter (smfi_register) */
gboolean
callbacks_register(GError **error)
{
    struct smfiDesc desc = {
        .xxfi_name = (char *)"replygate-milter",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_DELRCPT | SMFIF_SETSYMLIST,
        .xxfi_connect = rg_connect,
        .xxfi_helo = rg_helo,
        .xxfi_envfrom = rg_envfrom,
        .xxfi_envrcpt = rg_envrcpt,
        .xxfi_header = rg_header,
        .xxfi_eoh = rg_eoh,
        .xxfi_eom = rg_eom,
        .xxfi_abort = rg_abort,
        .xxfi_close = rg_close,
        .xxfi_negotiate = rg_negotiate,
    };

    /* smfi_register copies the description. */
    if (smfi_register(desc) != MI_SUCCESS) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "smfi_register failed");
        return FALSE;
    }
    return TRUE;
}
