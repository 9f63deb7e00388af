/*
 * callbacks.c - the libmilter callbacks of replygate-milter, up to the headers.
 *
 * Negotiation, connect, HELO, MAIL FROM, RCPT TO and each header; the end of
 * headers and of the message are in finish.c, the contexts in context.c.
 * Every failure of our own answers SMFIS_TEMPFAIL, never an accept. Each
 * reject or discard writes one mail.log line in Postfix's shape.
 *
 * At RCPT a recipient in a reply domain is judged at once: TLS, then the key
 * (a key that does not verify makes the configuration and secrets files be
 * looked at first: an address signed with a secret added a moment ago must
 * not be refused), then the per-key and per-sender rate limits, then the
 * number of distinct recipients of ours. A transaction without the macros
 * {rcpt_mailer} and {rcpt_host}, which only smtpd(8) sends, is a non-SMTP
 * submission (sendmail(1) through non_smtpd_milters): Postfix cannot refuse
 * a recipient there, so it is passed on untouched but for the inbound
 * headers we delete, and the delivery agent judges it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "callbacks.h"
#include "context.h"
#include "finish.h"
#include "maillog.h"
#include "rg-error.h"

/* The macros the decisions need, asked for at each stage (smfi_setsymlist). */
#define TLS_MACROS "{tls_version} {cipher} {cipher_bits}"
/* Only smtpd(8) sends these two: their absence means a non-SMTP submission. */
#define ROUTE_MACROS "{rcpt_mailer} {rcpt_host}"

/* conn_free - release a connection context and its message (NULL-safe) */
static void
conn_free(ConnCtx *conn)
{
    if (conn == NULL)
        return;
    msg_free(conn->msg);
    g_free(conn->host);
    g_free(conn->addr);
    g_free(conn->raw_host);
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

/* remember_tls - keep the TLS macros seen at RCPT for the trace header */
static void
remember_tls(SMFICTX *ctx, MsgCtx *msg)
{
    const char *version = ctx_symval(ctx, "{tls_version}");

    if (version == NULL || msg->tls_version != NULL)
        return;
    msg->tls_version = g_strdup(version);
    msg->cipher = g_strdup(ctx_symval(ctx, "{cipher}"));
    msg->cipher_bits = g_strdup(ctx_symval(ctx, "{cipher_bits}"));
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
            !set_symlist(ctx, SMFIM_ENVRCPT, "i " TLS_MACROS " " ROUTE_MACROS) ||
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
    g_clear_pointer(&conn->raw_host, g_free);
    /* Without a verified name the MTA sends "[addr]"; Postfix logs that as "unknown". */
    if (hostname == NULL || hostname[0] == '[' || hostname[0] == '\0')
        hostname = (char *)"unknown";
    else
        conn->raw_host = g_strndup(hostname, 255);
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

/* decide_fresh - decide_rcpt(); a key that does not verify under the message's
 * snapshot is judged again under a newer one when the files changed */
static RcptDecision
decide_fresh(SMFICTX *ctx, MsgCtx *msg, const char *rcpt, ReplyKey *key)
{
    const char *tls = ctx_symval(ctx, "{tls_version}");
    RcptDecision decision = decide_rcpt(msg->snap->config, msg->snap->ring, rcpt, tls);
    Snapshot *now;

    if (decision.klass != ADDRESS_BAD_KEY)
        goto done;
    snapshot_refresh(TRUE);
    now = snapshot_current();
    if (now != NULL && now != msg->snap) {
        /* The rest of the message is judged with the new files too. */
        snapshot_unref(msg->snap);
        msg->snap = now;
        decision = decide_rcpt(msg->snap->config, msg->snap->ring, rcpt, tls);
    } else {
        snapshot_unref(now);
    }
done:
    *key = decision.key;
    return decision;
}

/* sender_name - the envelope sender as a rate-limit name (lower case, cut) */
static char *
sender_name(const char *sender)
{
    g_autofree char *bare = address_strip(sender);

    if (strlen(bare) > 320)
        bare[320] = '\0';
    return g_ascii_strdown(bare, -1);
}

/* key_name - "kind-target-user" */
static char *
key_name(const ReplyKey *key)
{
    return g_strdup_printf("%s-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, key->kind, key->target,
                           key->user);
}

/* key_counted - was this key counted for the message already? */
static gboolean
key_counted(const MsgCtx *msg, const char *name)
{
    for (guint i = 0; i < msg->keys->len; i++) {
        if (strcmp(g_ptr_array_index(msg->keys, i), name) == 0)
            return TRUE;
    }
    return FALSE;
}

/* charge_rcpt - count this recipient's message against the limits; -1 when it
 * may pass, else the table whose limit was reached (*limit set) */
static int
charge_rcpt(MsgCtx *msg, const RcptDecision *decision, const ReplyKey *key, guint64 *limit)
{
    const Config *config = msg->snap->config;
    g_autofree char *sender = NULL;
    g_autofree char *keyname = NULL;
    RateCharge charges[2];
    guint n = 0;
    int over;

    if (decision->action == RCPT_NOREPLY)
        return -1; /* discarded anyway */
    if (config->rate_limit_per_sender > 0 && !msg->sender_done) {
        sender = sender_name(msg->sender);
        if (*sender != '\0')
            charges[n++] = (RateCharge){RATE_SENDER, sender, config->rate_limit_per_sender};
    }
    if (config->rate_limit_per_key > 0 && key->kind[0] != '\0') {
        keyname = key_name(key);
        if (!key_counted(msg, keyname) && msg->keys->len < CONTEXT_KEYS_MAX)
            charges[n++] = (RateCharge){RATE_KEY, keyname, config->rate_limit_per_key};
    }
    if (n == 0)
        return -1;
    over = ratelimit_charge(ctx_limiter(), charges, n, g_get_monotonic_time() / G_USEC_PER_SEC);
    if (over >= 0) {
        *limit = charges[over].limit;
        return (int)charges[over].table;
    }
    for (guint i = 0; i < n; i++) {
        if (charges[i].table == RATE_SENDER)
            msg->sender_done = TRUE;
        else
            g_ptr_array_add(msg->keys, g_strdup(charges[i].name));
    }
    return -1;
}

/* accept_ours - record an accepted recipient of ours */
static void
accept_ours(SMFICTX *ctx, MsgCtx *msg, const char *rcpt, const char *bare,
            const RcptDecision *decision)
{
    char *kept = g_strdup(rcpt);

    g_hash_table_add(msg->seen, g_strdup(bare));
    g_ptr_array_add(msg->ours, kept);
    if (decision->action == RCPT_NOREPLY)
        g_ptr_array_add(msg->noreply, kept);
    else if (decision->klass == ADDRESS_DEDICATED)
        g_ptr_array_add(msg->dedicated, kept);
    if (msg->first_ours == NULL)
        msg->first_ours = g_strdup(rcpt);
    remember_tls(ctx, msg);
}

/* rg_envrcpt - accept, refuse or mark one recipient */
static sfsistat
rg_envrcpt(SMFICTX *ctx, char **argv)
{
    ConnCtx *conn = smfi_getpriv(ctx);
    MsgCtx *msg = conn_msg(ctx);
    const char *rcpt = argv != NULL ? argv[0] : NULL;
    g_autofree char *bare = NULL;
    g_autofree char *text = NULL;
    RcptDecision decision;
    ReplyKey key;
    guint64 limit = 0;
    int over;

    if (msg == NULL || rcpt == NULL) {
        counters_add(DECISION_TEMPFAIL);
        return SMFIS_TEMPFAIL;
    }
    decision = decide_fresh(ctx, msg, rcpt, &key);
    if (decision.action == RCPT_FOREIGN) {
        msg->n_foreign++;
        return SMFIS_CONTINUE;
    }
    bare = address_strip(rcpt);
    if (ctx_symval(ctx, "{rcpt_mailer}") == NULL && ctx_symval(ctx, "{rcpt_host}") == NULL) {
        /* Non-SMTP: cleanup(8) cannot refuse a recipient (it would loop in
         * maildrop); the agent applies every rule itself. */
        msg->non_smtp = TRUE;
        if (!g_hash_table_contains(msg->seen, bare) && msg_n_ours(msg) < CONTEXT_OURS_MAX)
            accept_ours(ctx, msg, rcpt, bare, &decision);
        counters_add(DECISION_NON_SMTP);
        return SMFIS_CONTINUE;
    }
    switch (decision.action) {
    case RCPT_NEED_TLS:
        return ctx_refuse(ctx, conn, msg, "rcpt", DECIDE_TLS_RCODE, DECIDE_TLS_XCODE,
                          DECIDE_TLS_TEXT, rcpt, NULL, DECISION_REJECT_TLS);
    case RCPT_UNKNOWN:
        text = decide_unknown_text(rcpt);
        return ctx_refuse(ctx, conn, msg, "rcpt", DECIDE_UNKNOWN_RCODE, DECIDE_UNKNOWN_XCODE, text,
                          rcpt, NULL, DECISION_REJECT_KEY);
    default:
        break;
    }
    /* A repeat of a recipient already accepted: Postfix delivers it once. */
    if (g_hash_table_contains(msg->seen, bare)) {
        counters_add(DECISION_FOLD);
        return SMFIS_CONTINUE;
    }
    if (msg_n_ours(msg) >= CONTEXT_OURS_MAX)
        return ctx_refuse(ctx, conn, msg, "rcpt", DECIDE_TOO_MANY_RCODE, DECIDE_TOO_MANY_XCODE,
                          DECIDE_TOO_MANY_TEXT, rcpt, NULL, DECISION_DEFER_RECIPIENTS);
    over = charge_rcpt(msg, &decision, &key, &limit);
    if (over >= 0) {
        text = decide_rate_text(over == RATE_SENDER, rcpt, msg->sender, limit);
        return ctx_refuse(
            ctx, conn, msg, "rcpt", DECIDE_RATE_RCODE, DECIDE_RATE_XCODE, text, rcpt, NULL,
            over == RATE_SENDER ? DECISION_DEFER_RATE_SENDER : DECISION_DEFER_RATE_KEY);
    }
    accept_ours(ctx, msg, rcpt, bare, &decision);
    counters_add(DECISION_ACCEPT);
    return SMFIS_CONTINUE;
}

/* rg_header - give each header of a message to us to its book */
static sfsistat
rg_header(SMFICTX *ctx, char *name, char *value)
{
    ConnCtx *conn = smfi_getpriv(ctx);
    MsgCtx *msg = conn_msg(ctx);

    if (conn == NULL)
        return SMFIS_TEMPFAIL;
    if (msg == NULL || name == NULL)
        conn->failed = TRUE; /* answered with a tempfail at end of headers */
    else if (msg_n_ours(msg) > 0)
        headerbook_add(msg->book, name, value);
    return answer(conn, SMFIP_NR_HDR);
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
        .xxfi_eoh = finish_eoh,
        .xxfi_eom = finish_eom,
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
