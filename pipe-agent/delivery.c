/*
 * delivery.c - the delivery core: spool, evaluate, store, move, log, outcome.
 *
 * The steps, for one message and one recipient:
 *   1. write the bytes into tmp/, then fsync, rename into new/ and fsync
 *      the folder: at once, or with ctx->spool_behind by a worker thread
 *      while steps 2 and 3 run. The bytes are always written first, so a
 *      full spool defers before anything is stored, as in the pipe door.
 *      Every outcome waits for the rest, so a 250 still means the copy is
 *      on disk; a copy that fails there defers the message even when its
 *      row is committed (the retry finds the row: stored once);
 *   2. evaluate_message_full(): parse, auto-submitted, key, sender_policy,
 *      empty reply; then for a reply to store under from_check = require,
 *      the from-address lookup (fromcheck.c), which may refuse it (under
 *      record the insert does the lookup itself);
 *   3. a reply to store: one transaction (store.c), then the copy moves to
 *      success/; a permanent refusal: the copy moves to failure/ beside a
 *      NAME.reason file; a temporary failure: the copy is removed, because
 *      Postfix keeps the message and retries;
 *   4. the mail.log line of SPEC section 6 and the processor-log lines;
 *   5. the outcome as data (SPEC section 5's tables), for the door to answer.
 *      A resident door may answer a stored reply earlier, through
 *      ctx->answer: once its row has committed and its copy is on disk,
 *      before the move to success/ (step 3) and step 4, which cannot change
 *      the answer.
 *
 * A message too big is refused after max_message_size bytes, and only those
 * are kept in failure/. When no copy can be kept in failure/ the refusal
 * becomes a deferral: a message must never bounce without a copy. A file
 * left in new/ means a delivery was killed half-way; Postfix retries it and
 * the database's unique key keeps the reply stored once.
 *
 * Every permanent refusal is also written to replygate.refusals (stage
 * "delivery", with NOTIFY replygate_refusal). after_queue_refusal = keep
 * answers success instead of the refusal, so that no bounce goes to a
 * sender who may be forged; the copy stays in failure/ and the refusal row
 * is then required (a deferral without it). A big message is first looked
 * up by its fingerprint (store_seen): a redelivery of it to the same
 * recipient, such as the thousand ORCPT variants Postfix's duplicate filter
 * lets through, costs a query instead of a parse. A duplicate keeps no
 * spool copy (the reply is in the database), nor does any stored reply with
 * spool_keep_success = 0.
 *
 * No globals, no exit(): see delivery.h.
 */
#include <string.h>
#include <sysexits.h>

#include "db.h"
#include "delivery.h"
#include "evaluate.h"
#include "fromcheck.h"
#include "maillog.h"
#include "rg-autoptr.h"
#include "rg-error.h"
#include "seen.h"
#include "spool.h"
#include "store.h"

/* One row of SPEC section 5's tables: the class for an exit status (and,
 * for 65, an enhanced code), with each door's answer. */
typedef struct {
    int exit_status;
    const char *enhanced; /* NULL: any code of the right class */
    DeliveryClass klass;
    int smtp_code;
    const char *default_enhanced;
} OutcomeRow;

static const OutcomeRow outcome_table[] = {
    {EX_OK, NULL, DELIVERY_STORED, 250, "2.0.0"},
    {EX_TEMPFAIL, NULL, DELIVERY_TEMPFAIL, 451, "4.3.0"},
    {EX_NOUSER, NULL, DELIVERY_NOUSER, 550, "5.1.1"},
    {EX_NOPERM, NULL, DELIVERY_NOPERM, 550, "5.7.1"},
    {EX_DATAERR, "5.3.4", DELIVERY_TOOBIG, 552, "5.3.4"},
    {EX_DATAERR, NULL, DELIVERY_DATAERR, 554, "5.6.0"},
};

/* Everything one delivery carries from step to step; lives on the stack of
 * delivery_run(). */
typedef struct {
    const DeliveryContext *ctx;
    const DeliveryEnvelope *env;
    const char *queue_id; /* for log lines: the queue id or "NOQUEUE" */
    DbLimits limits;      /* SET LOCAL in each transaction */
    StoreEnvelope store;  /* the envelope as store.c wants it */
    GError *no_conn;      /* why the door had no connection, once it failed */
} Delivery;

/* delivery_connect - the door's connection for this delivery. A delivery
 * may ask up to three times (a big message's duplicate check, the from
 * check, the insert or the refusal's row): once the door could not give
 * one, the same error at once, so a database that never answers costs one
 * connect time-out, not one per ask. */
static PGconn *
delivery_connect(Delivery *d, GError **error)
{
    PGconn *conn = NULL;

    if (d->no_conn == NULL) {
        conn = d->ctx->connect(d->ctx->connect_data, &d->no_conn);
        if (conn != NULL)
            return conn;
    }
    g_propagate_error(error, g_error_copy(d->no_conn));
    return NULL;
}

/* The spool copy of one delivery (step 1), written at once, and fsync'd
 * and moved into new/ at once or by a worker thread (ctx->spool_behind);
 * copy_wait() is its only way out. It is
 * shared with the worker's job, hence on the heap and counted: a job that
 * GLib queued although it could not start a thread for it may run after
 * the delivery is over, and then finds the copy claimed and only lets go. */
typedef struct {
    gint refs;
    gint claimed;    /* one run of spool_file_finish(), whoever comes first */
    SpoolFile *file; /* NULL: it could not even be made (error says why) */
    GMutex lock;
    GCond cond;
    gboolean done;
    gboolean ok;
    gboolean matched; /* the processor log's "Matched" line is written */
    GError *error;
} Copy;

/* copy_unref - let go of a copy; the last one frees it (the file stays
 * where it is, unless it never left tmp/) */
static void
copy_unref(Copy *copy)
{
    if (!g_atomic_int_dec_and_test(&copy->refs))
        return;
    spool_file_free(copy->file);
    g_clear_error(&copy->error);
    g_cond_clear(&copy->cond);
    g_mutex_clear(&copy->lock);
    g_free(copy);
}

/* copy_work - fsync, rename, fsync, if nobody did; then let go of the
 * caller's reference */
static void
copy_work(gpointer data, gpointer unused)
{
    Copy *copy = data;
    GError *error = NULL;
    gboolean ok;

    (void)unused;
    if (g_atomic_int_compare_and_exchange(&copy->claimed, 0, 1)) {
        ok = spool_file_finish(copy->file, &error);
        g_mutex_lock(&copy->lock);
        copy->ok = ok;
        copy->error = error;
        copy->done = TRUE;
        g_cond_signal(&copy->cond);
        g_mutex_unlock(&copy->lock);
    }
    copy_unref(copy);
}

/* copy_pool - the workers, shared by every session of a resident door */
static GThreadPool *
copy_pool(void)
{
    static gsize once;
    static GThreadPool *pool;

    if (g_once_init_enter(&once)) {
        /* As many as the sessions that feed it (lmtp_max_sessions bounds them). */
        pool = g_thread_pool_new(copy_work, NULL, -1, FALSE, NULL);
        g_once_init_leave(&once, 1);
    }
    return pool;
}

/* copy_start - write the file into tmp/ (a full spool fails here, before
 * anything is stored), then have it fsync'd and moved into new/: now, or
 * with ctx->spool_behind by a worker */
static Copy *
copy_start(Delivery *d, GBytes *raw)
{
    Copy *copy = g_new0(Copy, 1);
    GThreadPool *pool;

    copy->refs = 1;
    g_mutex_init(&copy->lock);
    g_cond_init(&copy->cond);
    copy->file = spool_file_create(d->ctx->config->spool_directory, raw, &copy->error);
    if (copy->file == NULL) {
        copy->done = TRUE;
        return copy;
    }
    pool = d->ctx->spool_behind ? copy_pool() : NULL;
    g_atomic_int_inc(&copy->refs); /* the run's, below */
    if (pool != NULL && g_thread_pool_push(pool, copy, NULL))
        return copy;
    /* No thread to be had (GLib may still have queued the job, which then
     * finds the copy claimed): at once. */
    if (pool != NULL)
        g_atomic_int_inc(&copy->refs);
    copy_work(copy, NULL);
    return copy;
}

/* copy_wait - the copy's path in new/ once it is on disk; NULL with the
 * reason when it could not be written (nothing of it is left then) */
static const char *
copy_wait(Copy *copy, GError **error)
{
    g_mutex_lock(&copy->lock);
    while (!copy->done)
        g_cond_wait(&copy->cond, &copy->lock);
    g_mutex_unlock(&copy->lock);
    if (copy->file == NULL || !copy->ok) {
        if (error != NULL)
            *error = g_error_copy(copy->error);
        return NULL;
    }
    return spool_file_path(copy->file);
}

/* copy_ready - copy_wait(), and the processor log's "Matched" line once
 * the copy is in new/ */
static const char *
copy_ready(Delivery *d, Copy *copy, GError **error)
{
    const char *path = copy_wait(copy, error);

    if (path != NULL && !copy->matched) {
        copy->matched = TRUE;
        proclog_debug(d->ctx->proclog, "Matched %s", path);
    }
    return path;
}

/* copy_clear - wait for the worker, then let go of the copy */
static void
copy_clear(Copy *copy)
{
    copy_wait(copy, NULL);
    copy_unref(copy);
}

/* copy_remove - the copy is not needed (a deferral): wait, then remove it */
static void
copy_remove(Copy *copy)
{
    const char *path = copy_wait(copy, NULL);

    if (path != NULL)
        spool_remove(path, NULL);
}

/* delivery_enhanced_len - the length of a leading "D.DDD.DDD" code, or 0 */
static gsize
delivery_enhanced_len(const char *status)
{
    const char *p = status;
    int digits;

    if (p == NULL || (*p != '2' && *p != '4' && *p != '5') || p[1] != '.')
        return 0;
    p += 2;
    for (int part = 0; part < 2; part++) {
        for (digits = 0; g_ascii_isdigit(*p) && digits < 3; digits++)
            p++;
        if (digits == 0 || (part == 0 && *p != '.'))
            return 0;
        if (part == 0)
            p++;
    }
    if (*p != '\0' && *p != ' ')
        return 0;
    return (gsize)(p - status);
}

/* delivery_outcome_new - see delivery.h */
DeliveryOutcome *
delivery_outcome_new(const char *status, int exit_status)
{
    DeliveryOutcome *outcome = g_new0(DeliveryOutcome, 1);
    const OutcomeRow *row = &outcome_table[1]; /* an unknown status defers */
    gsize code_len = delivery_enhanced_len(status);
    g_autofree char *ascii = NULL;
    const char *text;

    for (guint i = 0; i < G_N_ELEMENTS(outcome_table); i++) {
        const OutcomeRow *r = &outcome_table[i];

        if (r->exit_status != exit_status)
            continue;
        if (r->enhanced != NULL &&
            (code_len != strlen(r->enhanced) || strncmp(status, r->enhanced, code_len) != 0))
            continue;
        row = r;
        break;
    }
    outcome->klass = row->klass;
    outcome->exit_status = row->exit_status;
    outcome->smtp_code = row->smtp_code;
    /* The status's own code when it has the row's class ("4.3.5", "5.3.4"). */
    if (code_len > 0 && code_len < sizeof outcome->enhanced &&
        status[0] == row->default_enhanced[0])
        g_strlcpy(outcome->enhanced, status, code_len + 1);
    else
        g_strlcpy(outcome->enhanced, row->default_enhanced, sizeof outcome->enhanced);
    text = status != NULL ? status + code_len : "";
    while (*text == ' ')
        text++;
    /* DSN and LMTP texts are printable ASCII (GLib's curly quotes become plain ones). */
    ascii = g_str_to_ascii(*text != '\0' ? text : "no details", "C");
    for (char *p = ascii; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = '\0';
            break;
        }
        if (!g_ascii_isprint(*p))
            *p = '?';
    }
    outcome->text = g_steal_pointer(&ascii);
    return outcome;
}

/* delivery_outcome_status - see delivery.h */
char *
delivery_outcome_status(const DeliveryOutcome *outcome)
{
    return g_strdup_printf("%s %s", outcome->enhanced, outcome->text);
}

/* delivery_outcome_free - see delivery.h */
void
delivery_outcome_free(DeliveryOutcome *outcome)
{
    if (outcome == NULL)
        return;
    g_free(outcome->text);
    g_free(outcome->detail);
    g_free(outcome);
}

/* delivery_tempfail_status - see delivery.h */
char *
delivery_tempfail_status(const GError *error)
{
    if (error && error->domain == RG_ERROR && error->code == RG_ERROR_CONFIG)
        return g_strdup_printf("4.3.5 %s", error->message);
    return g_strdup_printf("4.3.0 %s", error ? error->message : "temporary failure");
}

/* delivery_guard - tell the door which spool copy an abort should remove */
static void
delivery_guard(Delivery *d, const char *path)
{
    if (d->ctx->spool_guard != NULL)
        d->ctx->spool_guard(d->ctx->spool_guard_data, path);
}

/* delivery_log_defer - the mail.log and processor-log lines of a deferral */
static void
delivery_log_defer(ProcLog *proclog, const char *queue_id, const char *status,
                   const char *message_id)
{
    g_autofree char *esc = maillog_escape(status);
    g_autofree char *mid = maillog_escape(message_id);

    if (message_id)
        maillog_info("%s: message-id=<%s>, status=deferred (%s)", queue_id, mid, esc);
    else
        maillog_info("%s: status=deferred (%s)", queue_id, esc);
    proclog_error(proclog, "replygate: deferred: %s", esc);
}

/* delivery_public_status - see delivery.h */
const char *
delivery_public_status(const char *status)
{
    if (status != NULL && g_str_has_prefix(status, "4.3.5"))
        return "4.3.5 configuration problem at the receiving site, delivery deferred";
    if (status != NULL && g_str_has_prefix(status, "4.3.1"))
        return "4.3.1 insufficient system resources at the receiving site, delivery deferred";
    return "4.3.0 temporary problem at the receiving site, delivery deferred";
}

/* delivery_defer - see delivery.h */
DeliveryOutcome *
delivery_defer(ProcLog *proclog, const char *queue_id, const char *status)
{
    DeliveryOutcome *outcome;

    delivery_log_defer(proclog, queue_id ? queue_id : "NOQUEUE", status, NULL);
    outcome = delivery_outcome_new(delivery_public_status(status), EX_TEMPFAIL);
    outcome->detail = g_strdup(status);
    return outcome;
}

/* defer - a temporary failure during the delivery: log it with its details,
 * outcome 75 with the generic text (the sender sees it in a delay notice) */
static DeliveryOutcome *
defer(Delivery *d, const char *status, const char *message_id)
{
    DeliveryOutcome *outcome;

    delivery_log_defer(d->ctx->proclog, d->queue_id, status, message_id);
    outcome = delivery_outcome_new(delivery_public_status(status), EX_TEMPFAIL);
    outcome->detail = g_strdup(status);
    return outcome;
}

/* log_outcome - the mail.log line of SPEC section 6 */
static void
log_outcome(Delivery *d, const Verdict *v, const char *dedup_id, gint64 reply_id,
            const char *status_word, const char *reason)
{
    g_autoptr(GString) line = g_string_new(d->queue_id);
    g_autofree char *mid = maillog_escape(dedup_id);

    g_string_append_c(line, ':');
    if (dedup_id != NULL)
        g_string_append_printf(line, " message-id=<%s>,", mid);
    if (d->env->original_recipient != NULL &&
        g_ascii_strcasecmp(d->env->original_recipient, d->env->recipient) != 0) {
        /* Logged for the administrator when it differs (lmtp(8) always
         * sends one); the key comes from the recipient. */
        g_autofree char *orcpt = maillog_escape(d->env->original_recipient);
        g_string_append_printf(line, " orcpt=<%s>,", orcpt);
    }
    if (v != NULL && v->have_key) {
        g_autofree char *kind = maillog_escape(v->key.kind);
        g_string_append_printf(line, " key=%s-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT ",", kind,
                               v->key.target, v->key.user);
        if (v->key_source)
            g_string_append_printf(line, " source=%s,", v->key_source);
    }
    if (reply_id > 0)
        g_string_append_printf(line, " reply=%" G_GINT64_FORMAT ",", reply_id);
    if (v != NULL && v->message)
        g_string_append_printf(line, " attachments=%u,", v->message->attachments->len);
    g_string_append_printf(line, " status=%s", status_word);
    if (reason) {
        g_autofree char *esc = maillog_escape(reason);
        g_string_append_printf(line, " (%s)", esc);
    }
    maillog_info("%s", line->str);
}

/* keep_in_failure - write NAME.reason and move NAME into failure/; on any
 * error remove both and return FALSE (the caller defers instead) */
static gboolean
keep_in_failure(Delivery *d, const char *spool_path, const char *reason, GError **error)
{
    const char *spool_dir = d->ctx->config->spool_directory;
    g_autofree char *moved = NULL;

    if (spool_write_reason(spool_dir, spool_path, reason, error) &&
        (moved = spool_move(spool_dir, spool_path, "failure", error)) != NULL) {
        proclog_debug(d->ctx->proclog, "Moving %s => %s/failure", spool_path, spool_dir);
        return TRUE;
    } else {
        g_autofree char *base = g_path_get_basename(spool_path);
        g_autofree char *reason_name = g_strconcat(base, ".reason", NULL);
        g_autofree char *reason_path = g_build_filename(spool_dir, "failure", reason_name, NULL);

        spool_remove(reason_path, NULL);
        spool_remove(spool_path, NULL);
        return FALSE;
    }
}

/* unkeep - take a copy kept by keep_in_failure() out of failure/ again */
static void
unkeep(Delivery *d, const char *spool_path)
{
    g_autofree char *base = g_path_get_basename(spool_path);
    g_autofree char *reason_name = g_strconcat(base, ".reason", NULL);
    const char *spool_dir = d->ctx->config->spool_directory;
    g_autofree char *copy = g_build_filename(spool_dir, "failure", base, NULL);
    g_autofree char *reason = g_build_filename(spool_dir, "failure", reason_name, NULL);

    spool_remove(copy, NULL);
    spool_remove(reason, NULL);
}

/* record_refusal - the refusal's row in replygate.refusals */
static gboolean
record_refusal(Delivery *d, const Verdict *v, const DeliveryOutcome *refused, GError **error)
{
    const Message *m = v != NULL ? v->message : NULL;
    g_autofree char *text = delivery_outcome_status(refused);
    StoreRefusal refusal = {
        .smtp_code = refused->smtp_code,
        .enhanced_code = refused->enhanced,
        .reason = refused->text,
        .from_address = m ? m->from_address : NULL,
        .key = v != NULL && v->have_key ? &v->key : NULL,
        .message_id = m ? m->message_id : NULL,
        .client_name = d->env->client_name,
    };
    gint64 id = 0;
    PGconn *conn = delivery_connect(d, error);

    if (conn == NULL || !store_refusal(conn, &d->store, &refusal, &id, error))
        return FALSE;
    proclog_debug(d->ctx->proclog, "Refusal %" G_GINT64_FORMAT ": %s", id, text);
    return TRUE;
}

/* refuse - a permanent refusal after the queue: the copy kept in failure/
 * with reason (the details; status is what the sender may read), a row in
 * replygate.refusals, and the answer after_queue_refusal asks for; mail.log
 * gets log_reason. v may be NULL (a message too big was never parsed). */
static DeliveryOutcome *
refuse(Delivery *d, const Verdict *v, const char *spool_path, const char *dedup_id,
       const char *status, int exit_status, const char *reason, const char *log_reason)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(DeliveryOutcome) refused = delivery_outcome_new(status, exit_status);
    g_autofree char *esc = maillog_escape(reason);
    gboolean keep = d->ctx->config->after_queue_refusal == AFTER_QUEUE_KEEP;
    DeliveryOutcome *outcome;

    proclog_info(d->ctx->proclog, "replygate: rejected: %s", esc);
    if (!keep_in_failure(d, spool_path, reason, &error)) {
        /* Without a copy in failure/ the message must not bounce: retry later. */
        g_autofree char *tempfail = delivery_tempfail_status(error);
        return defer(d, tempfail, dedup_id);
    }
    if (!record_refusal(d, v, refused, &error)) {
        g_autofree char *why = maillog_escape(error->message);

        if (keep) {
            /* Nobody would hear of it: the sender gets no bounce, the
             * application no row. Postfix keeps it and tries again. */
            g_autofree char *tempfail = delivery_tempfail_status(error);
            unkeep(d, spool_path);
            return defer(d, tempfail, dedup_id);
        }
        maillog_warning("%s: the refusal is not in the database: %s", d->queue_id, why);
    }
    if (!keep) {
        log_outcome(d, v, dedup_id, 0, "rejected", log_reason);
        return g_steal_pointer(&refused);
    }
    log_outcome(d, v, dedup_id, 0, "kept", log_reason);
    {
        g_autofree char *kept = g_strdup_printf(
            "2.0.0 refused, kept for the application (after_queue_refusal = keep): %s %s",
            refused->enhanced, refused->text);
        outcome = delivery_outcome_new(kept, EX_OK);
    }
    return outcome;
}

/* reject - a permanent failure the verdict decided */
static DeliveryOutcome *
reject(Delivery *d, const Verdict *v, const char *spool_path, const char *dedup_id)
{
    return refuse(d, v, spool_path, dedup_id, v->status, v->exit_status, v->status, v->status);
}

/* too_big - keep the part that was read in failure/, then refuse with 5.3.4;
 * defer instead when no copy can be kept there, as reject() does */
static DeliveryOutcome *
too_big(Delivery *d, GBytes *head)
{
    static const char status[] = "5.3.4 message too big";
    g_autoptr(GError) error = NULL;
    const Config *config = d->ctx->config;
    g_autofree char *path = spool_write_new(config->spool_directory, head, &error);
    g_autofree char *reason =
        g_strdup_printf("%s (over max_message_size = %" G_GUINT64_FORMAT
                        "; only the first %" G_GUINT64_FORMAT " bytes are kept)",
                        status, config->max_message_size, config->max_message_size);

    if (path == NULL) {
        g_autofree char *tempfail = delivery_tempfail_status(error);
        return defer(d, tempfail, NULL);
    }
    return refuse(d, NULL, path, NULL, status, EX_DATAERR, reason, status);
}

/* seen_before - a big message already stored for this recipient, found by
 * its fingerprint before it is spooled or parsed; NULL when it was not (or
 * the database cannot tell now: the full way decides then) */
static DeliveryOutcome *
seen_before(Delivery *d, GBytes *raw)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dedup_id = NULL;
    g_autofree char *mid = NULL;
    DeliveryOutcome *outcome;
    gint64 reply_id = 0;
    PGconn *conn;

    if (g_bytes_get_size(raw) < STORE_SEEN_MIN_SIZE)
        return NULL;
    conn = delivery_connect(d, &error);
    if (conn == NULL || !store_seen(conn, &d->store, raw, &reply_id, &error) || reply_id <= 0)
        return NULL;
    dedup_id = store_dedup_id_raw(raw);
    mid = maillog_escape(dedup_id);
    maillog_info("%s: message-id=<%s>, reply=%" G_GINT64_FORMAT
                 ", status=duplicate (found before parsing)",
                 d->queue_id, mid, reply_id);
    proclog_info(d->ctx->proclog, "replygate: duplicate of reply %" G_GINT64_FORMAT " <%s>",
                 reply_id, mid);
    outcome = delivery_outcome_new("2.0.0 already stored", EX_OK);
    outcome->reply_id = reply_id;
    outcome->duplicate = TRUE;
    return outcome;
}

/* accept_message - store the message, then move the spool copy to success/
 * (or remove it: a duplicate, or spool_keep_success = 0); the copy may
 * still be on its way to disk (ctx->spool_behind): the answer waits for it */
static DeliveryOutcome *
accept_message(Delivery *d, const Verdict *v, Copy *copy, const char *dedup_id)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) spool_error = NULL;
    g_autofree char *moved = NULL;
    const char *spool_dir = d->ctx->config->spool_directory;
    const char *spool_path;
    StoreOutcome stored = {0};
    DeliveryOutcome *outcome;
    PGconn *conn = delivery_connect(d, &error);
    gboolean ok = conn != NULL && store_message(conn, v, &d->store, &stored, &error);

    spool_path = copy_ready(d, copy, &spool_error);
    if (!ok && error->domain == RG_ERROR && error->code == RG_ERROR_DATAERR && spool_path) {
        /* SQLSTATE class 22 or 54: these values can never be stored. The
         * sender reads a generic text; the details stay here. */
        g_autofree char *reason =
            g_strdup_printf("5.6.0 the database cannot store this message: %s", error->message);
        return refuse(d, v, spool_path, dedup_id, "5.6.0 the message cannot be stored", EX_DATAERR,
                      reason, reason);
    }
    if (!ok) {
        /* Postfix keeps the message and retries: no second copy here. A
         * refusal without a copy for failure/ is a deferral too. */
        gboolean no_copy =
            spool_path == NULL && error->domain == RG_ERROR && error->code == RG_ERROR_DATAERR;
        g_autofree char *status = delivery_tempfail_status(no_copy ? spool_error : error);

        if (spool_path != NULL)
            spool_remove(spool_path, NULL);
        return defer(d, status, dedup_id);
    }
    if (spool_path == NULL) {
        /* Stored, but no copy on disk, as the pipe door never answers
         * (its copy comes first): defer. Postfix retries, and the retry
         * finds the row once the spool takes copies again. */
        g_autofree char *status = delivery_tempfail_status(spool_error);
        g_autofree char *both =
            g_strconcat(status, " (the reply is stored: the retry finds it)", NULL);
        return defer(d, both, dedup_id);
    }
    delivery_guard(d, NULL); /* stored: from here on an abort must not lose the copy */
    outcome = delivery_outcome_new(v->status, EX_OK);
    outcome->reply_id = stored.reply_id;
    outcome->duplicate = stored.duplicate;
    if (d->ctx->answer != NULL) {
        /* Committed, and the copy is on disk: what follows cannot change
         * the answer (a move that fails is only logged). */
        d->ctx->answer(outcome, d->ctx->answer_data);
        outcome->answered = TRUE;
    }
    if (stored.duplicate || d->ctx->config->spool_keep_success == 0) {
        if (spool_remove(spool_path, &error))
            proclog_debug(d->ctx->proclog, "Removed %s (%s)", spool_path,
                          stored.duplicate ? "a duplicate" : "spool_keep_success = 0");
        else
            maillog_warning("%s: stored, but %s", d->queue_id, error->message);
    } else {
        moved = spool_move(spool_dir, spool_path, "success", &error);
        if (moved)
            proclog_debug(d->ctx->proclog, "Moving %s => %s/success", spool_path, spool_dir);
        else
            maillog_warning("%s: stored, but %s", d->queue_id, error->message);
    }
    log_outcome(d, v, dedup_id, stored.reply_id, stored.duplicate ? "duplicate" : "stored",
                stored.purged ? "deleted before: a tombstone" : NULL);
    return outcome;
}

/* from_check - from_check's lookup for a reply about to be stored, in the
 * connection the row will use; under from_check = require it may turn the
 * verdict into a 77 5.7.1 refusal, and runs first. Under record it cannot,
 * and the insert does the lookup (check_addresses). FALSE when the database
 * cannot answer: the caller defers. */
static gboolean
from_check(Delivery *d, Verdict *v, GError **error)
{
    PGconn *conn;

    if (!fromcheck_needed(v))
        return TRUE;
    if (d->ctx->config->from_check != FROM_CHECK_REQUIRE) {
        d->store.check_addresses = TRUE;
        return TRUE;
    }
    conn = delivery_connect(d, error);
    return conn != NULL && fromcheck_apply(conn, d->ctx->config, v, d->env->sender, error);
}

static DeliveryOutcome *delivery_judge(Delivery *d, GBytes *raw, gboolean over);

/* delivery_run - see delivery.h */
DeliveryOutcome *
delivery_run(const DeliveryContext *ctx, const DeliveryEnvelope *env, GBytes *raw, gboolean over)
{
    Delivery d = {
        .ctx = ctx,
        .env = env,
        .queue_id = env->queue_id != NULL ? env->queue_id : "NOQUEUE",
        .limits = {ctx->config->database_lock_timeout * 1000,
                   ctx->config->database_statement_timeout * 1000},
        .store = {.queue_id = env->queue_id,
                  .sender = env->sender,
                  .recipient = env->recipient,
                  .client_address = env->client_address},
    };
    g_autoptr(Seen) seen = NULL;
    SeenState seen_state;
    DeliveryOutcome *outcome;

    d.store.limits = &d.limits;
    /* Before any parsing, and before a copy is kept: a repeated delivery of
     * the same bytes to the same recipient out of the same queue file. */
    seen = seen_open(ctx->config->spool_directory, env->queue_id, env->recipient, raw, &seen_state);
    if (seen_state == SEEN_DONE) {
        g_autofree char *dedup_id = store_dedup_id_raw(raw);
        g_autofree char *mid = maillog_escape(dedup_id);

        maillog_info("%s: message-id=<%s>, status=duplicate (found before parsing: delivered to "
                     "this recipient from this queue file before, with another ORCPT, which "
                     "Postfix's duplicate filter keeps apart)",
                     d.queue_id, mid);
        outcome = delivery_outcome_new("2.0.0 delivered before", EX_OK);
        outcome->duplicate = TRUE; /* counted as one, as store_seen()'s are */
        return outcome;
    }
    if (seen_state == SEEN_BUSY)
        return defer(&d, "4.3.0 the same message is being delivered to this recipient right now",
                     NULL);
    outcome = delivery_judge(&d, raw, over);
    g_clear_error(&d.no_conn);
    if (outcome->klass == DELIVERY_TEMPFAIL)
        seen_abandon(seen);
    else
        seen_finish(seen);
    return outcome;
}

/* delivery_judge - spool, evaluate, store or refuse (delivery_run's body) */
static DeliveryOutcome *
delivery_judge(Delivery *d, GBytes *raw, gboolean over)
{
    const DeliveryContext *ctx = d->ctx;
    const DeliveryEnvelope *env = d->env;
    g_autoptr(GError) error = NULL;
    g_autoptr(Verdict) verdict = NULL;
    g_autofree char *dedup_id = NULL;
    g_autofree char *esc = NULL;
    const char *spool_path;
    DeliveryOutcome *outcome;
    Copy *copy;

    if (over)
        return too_big(d, raw);
    if ((outcome = seen_before(d, raw)) != NULL)
        return outcome;

    copy = copy_start(d, raw);
    if (copy->file == NULL || !ctx->spool_behind) {
        if (copy_wait(copy, &error) == NULL) {
            g_autofree char *status = delivery_tempfail_status(error);

            copy_clear(copy);
            return defer(d, status, NULL);
        }
        delivery_guard(d, spool_file_path(copy->file));
    }
    spool_path = spool_file_path(copy->file); /* there once copy_wait() says so */
    verdict = evaluate_message_full(ctx->config, ctx->ring, raw, env->sender, env->recipient,
                                    env->queue_id);
    if (ctx->over_budget != NULL && ctx->over_budget(ctx->over_budget_data)) {
        /* As the pipe door's processor-time limit refuses it. */
        Verdict *refusal = verdict_new_refusal(
            EX_DATAERR, "5.3.4 message too complex: it took too long to process");

        refusal->message = g_steal_pointer(&verdict->message);
        verdict_free(verdict);
        verdict = refusal;
    }
    if (verdict->tls_refused != NULL)
        maillog_warning("%s: ignored an X-Replygate-TLS header: %s; %s", d->queue_id,
                        verdict->tls_refused,
                        verdict->tls_version != NULL ? "TLS taken from the Received header"
                                                     : "storing no TLS data");
    if (verdict->tls_missing != NULL)
        maillog_warning("%s: require_tls = yes, but this reply shows no TLS: %s", d->queue_id,
                        verdict->tls_missing);
    else if (verdict->tls_note != NULL && ctx->config->require_tls)
        maillog_warning("%s: %s", d->queue_id, verdict->tls_note);
    if (verdict->auth != NULL && verdict->auth->ignored != NULL)
        maillog_warning("%s: ignored an Authentication-Results field of %s: %s", d->queue_id,
                        verdict->auth->authserv_id, verdict->auth->ignored);
    if (verdict->message != NULL && verdict->message->date_dropped)
        maillog_warning("%s: the Date header cannot be told in UTC (out of range); storing no "
                        "date",
                        d->queue_id);
    if (verdict->message)
        dedup_id = store_dedup_id(verdict->message);
    else
        dedup_id = g_strdup("unparsable");
    esc = maillog_escape(dedup_id);
    proclog_info(ctx->proclog, "replygate: processing <%s>", esc);
    if (!ctx->spool_behind)
        copy_ready(d, copy, NULL); /* on disk already: "Matched" */

    if (verdict->exit_status == EX_OK && !from_check(d, verdict, &error)) {
        g_autofree char *status = delivery_tempfail_status(error);

        copy_remove(copy);
        outcome = defer(d, status, dedup_id);
    } else if (verdict->exit_status == EX_OK && verdict->message) {
        outcome = accept_message(d, verdict, copy, dedup_id);
    } else if (verdict->exit_status == EX_TEMPFAIL || verdict->exit_status == EX_OK) {
        copy_remove(copy);
        outcome =
            defer(d, verdict->exit_status == EX_OK ? "4.3.0 no message to store" : verdict->status,
                  dedup_id);
    } else if (copy_ready(d, copy, &error) == NULL) {
        /* A refusal keeps a copy in failure/: without one, retry later. */
        g_autofree char *status = delivery_tempfail_status(error);

        outcome = defer(d, status, dedup_id);
    } else {
        outcome = reject(d, verdict, spool_path, dedup_id);
    }
    delivery_guard(d, NULL);
    copy_clear(copy);
    return outcome;
}
