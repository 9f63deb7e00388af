/*
 * store.c - one reply into PostgreSQL, in one transaction.
 *
 * Usually one statement in one transaction, sent as one pipeline with its
 * BEGIN, SET LOCAL limits and COMMIT (db_exec_transaction), one round trip;
 * for a reply with attachments:
 *   WITH m AS (SELECT replygate.store_reply(the row's 40 values) AS id),
 *        a1 AS (INSERT attachment 1 ... FROM m WHERE m.id IS NOT NULL), ...
 *   SELECT id FROM m WHERE id IS NOT NULL
 * or, for a reply without attachments, the call alone (SELECT
 * replygate.store_reply(...)), which the server plans without a CTE: 0.05 to
 * 0.14 ms less of its time per reply (pgbench, 3,000 calls each way).
 * store_reply() (sql/0004_store.sql) inserts the row ON CONFLICT (the unique
 * key) DO NOTHING, its recipient and the NOTIFY; being a PL/pgSQL function,
 * its statements are planned once per server session, while this statement,
 * sent unnamed for PgBouncer's sake, is parsed and planned for every reply.
 * Attachment bytes travel as binary bytea parameters. A message with more
 * than STORE_INLINE_ATTACHMENTS attachments takes the long way instead:
 * BEGIN, store_reply(), one INSERT per attachment, COMMIT.
 * When store_reply() returns NULL, the same reply is stored already (another
 * recipient, another MX host, a retry) or has a tombstone: one more
 * statement records this recipient beside the row, or finds the tombstone.
 *
 * The row's recipient column stays NULL: recipients live in
 * replygate.reply_recipients, and the NULL keeps the previous version's
 * unique (message_id, recipient) from refusing a different message that
 * reuses a Message-ID (see sql/0002_application.sql).
 */
#include <string.h>

#include "db.h"
#include "fromcheck.h"
#include "rawmail.h"
#include "rg-autoptr.h"
#include "rg-error.h"
#include "store.h"

/* Up to this many attachments go in the one statement (9 parameters each). */
#define STORE_INLINE_ATTACHMENTS 32
#define STORE_MESSAGE_PARAMS 40
#define STORE_ATTACHMENT_PARAMS 9

/* The row, its recipient ($3) and its NOTIFY: the new id, or NULL when the
 * key is stored already (sql/0004_store.sql has the parameters' meaning). */
static const char store_reply_sql[] =
    "SELECT replygate.store_reply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
    " $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30,"
    " $31, $32, $33, $34, $35, $36, $37, $38, $39, $40)";

/* The one statement's end: the new id, no row for a reply stored already. */
static const char select_new_id_sql[] = " SELECT id FROM m WHERE id IS NOT NULL";

/* A reply that did not go in: the row that has its key, with this recipient
 * recorded beside it, or its tombstone. */
static const char existing_sql[] =
    "WITH e AS (SELECT id FROM replygate.messages WHERE message_id = $1 AND key_kind = $2"
    "   AND key_target = $3 AND key_user = $4 AND fingerprint = $5),"
    " r AS (INSERT INTO replygate.reply_recipients (reply_id, recipient, queue_id,"
    "   client_address) SELECT id, $6, $7, $8 FROM e ON CONFLICT DO NOTHING)"
    " SELECT (SELECT id FROM e), EXISTS (SELECT 1 FROM replygate.tombstones t"
    "   WHERE t.message_id = $1 AND t.key_kind = $2 AND t.key_target = $3"
    "   AND t.key_user = $4 AND (t.fingerprint = $5 OR t.raw_sha256 = $9))";

/* Before parsing: this message already stored for this recipient. */
static const char seen_sql[] =
    "SELECT m.id FROM replygate.messages m"
    " JOIN replygate.reply_recipients r ON r.reply_id = m.id AND r.recipient = $3"
    " WHERE m.message_id = $1 AND (m.fingerprint = $2 OR m.raw_sha256 = $4) LIMIT 1";

static const char insert_attachment_sql[] =
    "INSERT INTO replygate.attachments (reply_id, position, filename, content_type,"
    " content_id, size, sha256, inline, data)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/* One attachment inside the single statement; %d are its parameter numbers. */
static const char inline_attachment_sql[] =
    ", a%u AS (INSERT INTO replygate.attachments (reply_id, position, filename, content_type,"
    " content_id, size, sha256, inline, data)"
    " SELECT m.id, $%d::integer, $%d::text, $%d::text, $%d::text, $%d::bigint, $%d::text,"
    " $%d::boolean, $%d::bytea FROM m WHERE m.id IS NOT NULL)";

/* Strings kept alive until the statements are sent. */
typedef struct {
    GPtrArray *owned;
} Params;

/* text_param - text fit for a text parameter: valid UTF-8 (invalid bytes
 * replaced), or NULL; copies are kept in params */
static const char *
text_param(Params *params, const char *text)
{
    char *copy;

    if (text == NULL || g_utf8_validate(text, -1, NULL))
        return text;
    copy = g_utf8_make_valid(text, -1);
    g_ptr_array_add(params->owned, copy);
    return copy;
}

/* own - keep an allocated string in params and return it */
static const char *
own(Params *params, char *text)
{
    if (text)
        g_ptr_array_add(params->owned, text);
    return text;
}

/* array_literal - a PostgreSQL text[] literal for a list of strings */
static char *
array_literal(GPtrArray *items)
{
    GString *out = g_string_new("{");

    for (guint i = 0; items && i < items->len; i++) {
        const char *item = g_ptr_array_index(items, i);
        g_autofree char *valid = g_utf8_make_valid(item, -1);

        if (i > 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, '"');
        for (const char *p = valid; *p; p++) {
            if (*p == '"' || *p == '\\')
                g_string_append_c(out, '\\');
            g_string_append_c(out, *p);
        }
        g_string_append_c(out, '"');
    }
    g_string_append_c(out, '}');
    return g_string_free(out, FALSE);
}

/* A Message-ID longer than this does not key the row: PostgreSQL refuses a
 * unique index entry over 2704 bytes (SQLSTATE 54000), and a statement that
 * fails for this message on every retry would defer it until Postfix gives
 * up. RFC 5322 lines end at 998 bytes; such a message is keyed like one
 * without a Message-ID, by the SHA-256 of its bytes, which a retry repeats. */
#define STORE_MESSAGE_ID_MAX 998

/* store_keyed_by_id - does the Message-ID itself key the row? */
static gboolean
store_keyed_by_id(const Message *message)
{
    return message->message_id != NULL && *message->message_id != '\0' &&
           strlen(message->message_id) <= STORE_MESSAGE_ID_MAX;
}

/* store_dedup_id - the Message-ID, or "sha256:<fingerprint>" without a usable one */
char *
store_dedup_id(const Message *message)
{
    char fingerprint[RAWMAIL_FINGERPRINT_HEX + 1];

    if (store_keyed_by_id(message))
        return g_strdup(message->message_id);
    rawmail_fingerprint(g_bytes_get_data(message->raw, NULL), g_bytes_get_size(message->raw),
                        fingerprint);
    return g_strconcat("sha256:", fingerprint, NULL);
}

/* store_dedup_id_raw - the same from the raw bytes, with the Message-ID as
 * rawmail reads it (GMime may read an odd one otherwise: then no match) */
char *
store_dedup_id_raw(GBytes *raw)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(raw, &len);
    g_autofree char *id = rawmail_message_id(data, len);
    char fingerprint[RAWMAIL_FINGERPRINT_HEX + 1];

    if (id != NULL && *id != '\0' && strlen(id) <= STORE_MESSAGE_ID_MAX &&
        g_utf8_validate(id, -1, NULL))
        return g_steal_pointer(&id);
    rawmail_fingerprint(data, len, fingerprint);
    return g_strconcat("sha256:", fingerprint, NULL);
}

/* store_recipient - the recipient as the unique key holds it: lower case,
 * and without the one trailing dot Postfix ignores when it routes, since
 * user@domain. and user@domain are the same recipient (new string) */
static char *
store_recipient(const char *recipient)
{
    char *key = g_ascii_strdown(recipient != NULL ? recipient : "", -1);
    gsize n = strlen(key);

    if (strchr(key, '@') != NULL && n >= 2 && key[n - 1] == '.' && key[n - 2] != '.' &&
        key[n - 2] != '@')
        key[n - 1] = '\0';
    return key;
}

/* attachment_values - the 9 parameters of attachment i (reply_id, position,
 * filename, content_type, content_id, size, sha256, inline, data) */
static void
attachment_values(Params *params, const char *reply_id, const Message *m, guint i,
                  const char **values, int *lengths, int *formats)
{
    const Attachment *a = g_ptr_array_index(m->attachments, i);
    gsize size = 0;
    const char *data = a->data ? g_bytes_get_data(a->data, &size) : NULL;

    values[0] = reply_id;
    values[1] = own(params, g_strdup_printf("%u", i + 1));
    values[2] = text_param(params, a->filename);
    values[3] = text_param(params, a->content_type ? a->content_type : "application/octet-stream");
    values[4] = text_param(params, a->content_id);
    values[5] = own(params, g_strdup_printf("%" G_GSIZE_FORMAT, size));
    values[6] = a->sha256;
    values[7] = a->is_inline ? "true" : "false";
    values[8] = data ? data : "";
    for (int k = 0; k < STORE_ATTACHMENT_PARAMS; k++) {
        lengths[k] = 0;
        formats[k] = 0;
    }
    lengths[8] = (int)size;
    formats[8] = 1; /* the bytes as they are: no escaping, no hex */
}

/* insert_attachments - one row per attachment (the long way) */
static gboolean
insert_attachments(PGconn *conn, Params *params, const char *reply_id, const Message *m,
                   GError **error)
{
    for (guint i = 0; i < m->attachments->len; i++) {
        const char *values[STORE_ATTACHMENT_PARAMS];
        int lengths[STORE_ATTACHMENT_PARAMS];
        int formats[STORE_ATTACHMENT_PARAMS];
        PGresult *res;

        attachment_values(params, reply_id, m, i, values, lengths, formats);
        res = db_exec(conn, insert_attachment_sql, STORE_ATTACHMENT_PARAMS, values, lengths,
                      formats, error);
        if (res == NULL)
            return FALSE;
        PQclear(res);
    }
    return TRUE;
}

/* tristate - 1, 0, -1 as a boolean parameter: true, false, NULL */
static const char *
tristate(int value)
{
    return value > 0 ? "true" : value == 0 ? "false" : NULL;
}

/* auth_values - parameters 28 to 37: who sent it (auth.h, sql/0003_auth.sql) */
static void
auth_values(Params *params, const Verdict *v, const char **values)
{
    const AuthResults *a = v->auth;

    values[0] = a != NULL ? text_param(params, a->authserv_id) : NULL;
    values[1] = a != NULL ? text_param(params, a->spf) : NULL;
    values[2] = a != NULL ? text_param(params, a->dkim) : NULL;
    values[3] = a != NULL ? text_param(params, a->dkim_domain) : NULL;
    values[4] = a != NULL ? text_param(params, a->dmarc) : NULL;
    values[5] = a != NULL ? text_param(params, a->from_domain) : NULL;
    values[6] = a != NULL ? tristate(a->aligned) : NULL;
    values[7] = tristate(v->from_verified);
    values[8] = tristate(v->sender_verified);
    values[9] = v->action ? "true" : "false";
}

/* store_date - the Date in UTC as PostgreSQL reads it, or NULL when it has
 * none or it cannot be told in UTC (a year past 9999 after the offset): an
 * offset such as +2359 is valid mail but out of PostgreSQL's range, so the
 * value never carries one */
static char *
store_date(const Message *m)
{
    g_autoptr(GDateTime) utc = m->date ? g_date_time_to_utc(m->date) : NULL;

    return utc ? g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

/* message_values - the 40 parameters of store_reply() */
static void
message_values(Params *params, const Verdict *v, const StoreEnvelope *env, const char *dedup,
               const char *recipient, const char *fingerprint, const char *raw_sha256,
               const char **values)
{
    const Message *m = v->message;
    gsize raw_size = m->raw ? g_bytes_get_size(m->raw) : 0;

    values[0] = text_param(params, dedup);
    values[1] = store_keyed_by_id(m) ? "false" : "true";
    values[2] = text_param(params, recipient);
    values[3] = text_param(params, env->queue_id);
    values[4] = text_param(params, env->client_address);
    values[5] = text_param(params, env->sender ? env->sender : "");
    values[6] = text_param(params, v->key.kind);
    values[7] = own(params, g_strdup_printf("%" G_GUINT64_FORMAT, v->key.target));
    values[8] = own(params, g_strdup_printf("%" G_GUINT64_FORMAT, v->key.user));
    values[9] = v->key_source;
    values[10] = text_param(params, m->subject);
    values[11] = text_param(params, m->from_name);
    values[12] = text_param(params, m->from_address);
    values[13] = own(params, store_date(m));
    values[14] = text_param(params, m->in_reply_to);
    values[15] = own(params, array_literal(m->references));
    values[16] = text_param(params, m->body_text ? m->body_text : "");
    values[17] = text_param(params, m->reply_text ? m->reply_text : "");
    values[18] = text_param(params, m->quoted_text ? m->quoted_text : "");
    values[19] = text_param(params, m->body_html);
    values[20] = text_param(params, v->tls_version);
    values[21] = text_param(params, v->tls_cipher);
    values[22] = v->tls_bits > 0 ? own(params, g_strdup_printf("%d", v->tls_bits)) : NULL;
    values[23] = own(params, g_strdup_printf("%" G_GSIZE_FORMAT, raw_size));
    values[24] = raw_sha256;
    values[25] = fingerprint;
    values[26] = v->is_test ? "true" : "false";
    auth_values(params, v, values + 27);
    values[37] = env->check_addresses ? "true" : "false";
    if (env->check_addresses) {
        /* Looked up by store_reply() itself, which then ignores $35, $36. */
        values[38] = own(params, fromcheck_address(m->from_address));
        values[39] = own(params, fromcheck_address(env->sender));
    } else {
        values[38] = values[39] = NULL;
    }
}

/* find_existing - after an insert that stored nothing: the row with the
 * same key, this recipient recorded beside it; or its tombstone */
static gboolean
find_existing(PGconn *conn, const StoreEnvelope *env, const char *const *values,
              StoreOutcome *outcome, GError **error)
{
    /* message_id, kind, target, user, fingerprint, recipient, queue id,
     * client address, raw SHA-256: as the insert had them */
    const char *key[9] = {values[0], values[6], values[7], values[8], values[25],
                          values[2], values[3], values[4], values[24]};
    g_autoptr(PGresult) res =
        db_exec_transaction(conn, env->limits, existing_sql, 9, key, NULL, NULL, error);

    if (res == NULL)
        return FALSE;
    outcome->duplicate = TRUE;
    outcome->purged = FALSE;
    outcome->reply_id = 0;
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
        outcome->reply_id = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        return TRUE;
    }
    if (PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        outcome->purged = TRUE;
        return TRUE;
    }
    /* Neither: the row that stopped the insert went away since (forgotten,
     * purged, rolled back). Postfix retries and the retry decides. */
    g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL,
                "database: the stored reply this one duplicates disappeared meanwhile");
    return FALSE;
}

/* store_hashes - the fingerprint and the raw SHA-256 of the message */
static void
store_hashes(const Message *m, char fingerprint[RAWMAIL_FINGERPRINT_HEX + 1], char **raw_sha256)
{
    gsize len = 0;
    const char *raw = m->raw ? g_bytes_get_data(m->raw, &len) : "";

    rawmail_fingerprint(raw, len, fingerprint);
    *raw_sha256 = message_sha256_hex(raw, len);
}

/* store_one_statement - the message, its recipient, its attachments and the
 * NOTIFY in one statement of one transaction */
static gboolean
store_one_statement(PGconn *conn, const Verdict *v, const StoreEnvelope *env, StoreOutcome *outcome,
                    GError **error)
{
    const Message *m = v->message;
    guint n_att = m->attachments->len;
    int n_params = STORE_MESSAGE_PARAMS + (int)n_att * (STORE_ATTACHMENT_PARAMS - 1);
    Params params = {.owned = g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(GPtrArray) owned = params.owned;
    g_autoptr(GString) sql = g_string_new("WITH m AS (");
    g_autoptr(PGresult) res = NULL;
    g_autofree char *dedup = store_dedup_id(m);
    g_autofree char *recipient = store_recipient(env->recipient);
    g_autofree char *raw_sha256 = NULL;
    g_autofree const char **values = g_new0(const char *, n_params);
    g_autofree int *lengths = g_new0(int, n_params);
    g_autofree int *formats = g_new0(int, n_params);
    char fingerprint[RAWMAIL_FINGERPRINT_HEX + 1];

    store_hashes(m, fingerprint, &raw_sha256);
    /* Without attachments the call alone: the server then plans no CTE. */
    if (n_att == 0)
        g_string_assign(sql, store_reply_sql);
    else {
        g_string_append(sql, store_reply_sql);
        g_string_append(sql, " AS id)");
    }
    message_values(&params, v, env, dedup, recipient, fingerprint, raw_sha256, values);
    for (guint i = 0; i < n_att; i++) {
        /* reply_id comes from m, so each attachment has 8 parameters here. */
        const char *av[STORE_ATTACHMENT_PARAMS];
        int al[STORE_ATTACHMENT_PARAMS];
        int af[STORE_ATTACHMENT_PARAMS];
        int first = STORE_MESSAGE_PARAMS + (int)i * (STORE_ATTACHMENT_PARAMS - 1);

        attachment_values(&params, NULL, m, i, av, al, af);
        for (int k = 1; k < STORE_ATTACHMENT_PARAMS; k++) {
            values[first + k - 1] = av[k];
            lengths[first + k - 1] = al[k];
            formats[first + k - 1] = af[k];
        }
        g_string_append_printf(sql, inline_attachment_sql, i + 1, first + 1, first + 2, first + 3,
                               first + 4, first + 5, first + 6, first + 7, first + 8);
    }
    if (n_att > 0)
        g_string_append(sql, select_new_id_sql);

    res =
        db_exec_transaction(conn, env->limits, sql->str, n_params, values, lengths, formats, error);
    if (res == NULL)
        return FALSE;
    /* No row (the CTE's form) or NULL (the call's): stored already. The
     * values are as stored: text made valid UTF-8. */
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        return find_existing(conn, env, values, outcome, error);
    outcome->reply_id = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    outcome->duplicate = FALSE;
    outcome->purged = FALSE;
    return TRUE;
}

/* store_in_transaction - the statements between BEGIN and COMMIT (the long
 * way); *inserted says whether the row went in */
static gboolean
store_in_transaction(PGconn *conn, const Verdict *v, Params *params, const char **values,
                     StoreOutcome *outcome, gboolean *inserted, GError **error)
{
    g_autoptr(PGresult) res = NULL;
    const char *reply_id;

    res = db_exec(conn, store_reply_sql, STORE_MESSAGE_PARAMS, values, NULL, NULL, error);
    if (res == NULL)
        return FALSE;
    *inserted = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0);
    if (!*inserted)
        return TRUE;
    reply_id = own(params, g_strdup(PQgetvalue(res, 0, 0)));
    outcome->reply_id = g_ascii_strtoll(reply_id, NULL, 10);
    outcome->duplicate = FALSE;
    outcome->purged = FALSE;
    /* The NOTIFY went with the row; it reaches listeners at COMMIT. */
    return insert_attachments(conn, params, reply_id, v->message, error);
}

/* store_many_attachments - BEGIN, the row, one INSERT per attachment, COMMIT */
static gboolean
store_many_attachments(PGconn *conn, const Verdict *v, const StoreEnvelope *env,
                       StoreOutcome *outcome, GError **error)
{
    Params params = {.owned = g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(GPtrArray) owned = params.owned;
    g_autofree char *dedup = store_dedup_id(v->message);
    g_autofree char *recipient = store_recipient(env->recipient);
    g_autofree char *raw_sha256 = NULL;
    const char *values[STORE_MESSAGE_PARAMS];
    char fingerprint[RAWMAIL_FINGERPRINT_HEX + 1];
    gboolean inserted = FALSE;

    store_hashes(v->message, fingerprint, &raw_sha256);
    message_values(&params, v, env, dedup, recipient, fingerprint, raw_sha256, values);
    if (!db_begin(conn, env->limits, error))
        return FALSE;
    if (!store_in_transaction(conn, v, &params, values, outcome, &inserted, error)) {
        db_rollback(conn);
        return FALSE;
    }
    /* If the answer to COMMIT is lost, Postfix retries and the retry finds
     * the row: stored exactly once either way. */
    if (!db_command(conn, "COMMIT", 0, NULL, error))
        return FALSE;
    return inserted || find_existing(conn, env, values, outcome, error);
}

/* store_error - what a failed store means for the agent */
static void
store_error(GError *error, StoreOutcome *outcome, gboolean *purged)
{
    *purged = FALSE;
    if (error->domain != RG_ERROR)
        return;
    if (strstr(error->message, "(SQLSTATE RG001)") != NULL) {
        /* forget() or purge buried this reply while it was being stored:
         * it stays buried, and the retry would find the tombstone. */
        outcome->reply_id = 0;
        outcome->duplicate = TRUE;
        outcome->purged = TRUE;
        *purged = TRUE;
    } else if (error->code == RG_ERROR_DUPLICATE) {
        /* ON CONFLICT covers the unique key; a unique violation here is
         * another constraint: not this message's fault, defer (4.3.0). */
        error->code = RG_ERROR_TEMPFAIL;
    }
}

/* store_message - store the verdict's message in one transaction */
gboolean
store_message(PGconn *conn, const Verdict *verdict, const StoreEnvelope *envelope,
              StoreOutcome *outcome, GError **error)
{
    GError *local = NULL;
    gboolean purged;
    gboolean ok;

    g_return_val_if_fail(verdict->message != NULL && verdict->have_key, FALSE);
    if (verdict->message->attachments->len <= STORE_INLINE_ATTACHMENTS)
        ok = store_one_statement(conn, verdict, envelope, outcome, &local);
    else
        ok = store_many_attachments(conn, verdict, envelope, outcome, &local);
    if (ok)
        return TRUE;
    store_error(local, outcome, &purged);
    if (purged) {
        g_error_free(local);
        return TRUE;
    }
    g_propagate_error(error, local);
    return FALSE;
}

/* store_seen - this very message already stored for this recipient? */
gboolean
store_seen(PGconn *conn, const StoreEnvelope *envelope, GBytes *raw, gint64 *reply_id,
           GError **error)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(raw, &len);
    g_autofree char *dedup = store_dedup_id_raw(raw);
    g_autofree char *recipient = store_recipient(envelope->recipient);
    g_autofree char *valid_recipient = g_utf8_make_valid(recipient, -1);
    g_autofree char *raw_sha256 = message_sha256_hex(data, len);
    char fingerprint[RAWMAIL_FINGERPRINT_HEX + 1];
    const char *values[4];
    g_autoptr(PGresult) res = NULL;

    rawmail_fingerprint(data, len, fingerprint);
    values[0] = dedup;
    values[1] = fingerprint;
    values[2] = valid_recipient;
    values[3] = raw_sha256;
    res = db_exec_transaction(conn, envelope->limits, seen_sql, 4, values, NULL, NULL, error);
    if (res == NULL)
        return FALSE;
    *reply_id = PQntuples(res) > 0 ? g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    return TRUE;
}

/* store_refusal - one row of replygate.refusals through record_refusal() */
gboolean
store_refusal(PGconn *conn, const StoreEnvelope *envelope, const StoreRefusal *refusal,
              gint64 *refusal_id, GError **error)
{
    static const char sql[] = "SELECT replygate.record_refusal('delivery', $1, $2, $3, $4, $5,"
                              " $6, $7, $8, $9, $10, $11, $12, $13)";
    Params params = {.owned = g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(GPtrArray) owned = params.owned;
    g_autoptr(PGresult) res = NULL;
    const char *values[13];

    values[0] =
        refusal->smtp_code > 0 ? own(&params, g_strdup_printf("%d", refusal->smtp_code)) : NULL;
    values[1] = text_param(&params, refusal->enhanced_code);
    values[2] = text_param(&params, refusal->reason);
    values[3] = text_param(&params, envelope->sender);
    values[4] = envelope->recipient ? own(&params, store_recipient(envelope->recipient)) : NULL;
    values[4] = text_param(&params, values[4]);
    values[5] = text_param(&params, refusal->from_address);
    values[6] = refusal->key ? text_param(&params, refusal->key->kind) : NULL;
    values[7] = refusal->key
                    ? own(&params, g_strdup_printf("%" G_GUINT64_FORMAT, refusal->key->target))
                    : NULL;
    values[8] = refusal->key
                    ? own(&params, g_strdup_printf("%" G_GUINT64_FORMAT, refusal->key->user))
                    : NULL;
    values[9] = text_param(&params, refusal->message_id);
    values[10] = text_param(&params, envelope->client_address);
    values[11] = text_param(&params, refusal->client_name);
    values[12] = text_param(&params, envelope->queue_id);
    res = db_exec_transaction(conn, envelope->limits, sql, 13, values, NULL, NULL, error);
    if (res == NULL)
        return FALSE;
    *refusal_id = PQntuples(res) > 0 ? g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    return TRUE;
}
