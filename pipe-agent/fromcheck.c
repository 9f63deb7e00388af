/*
 * fromcheck.c - may this address speak for the key's user? (fromcheck.h)
 *
 * One query, both addresses, through db_exec(); addresses are compared in
 * lower case, which the unique index on (user_id, lower(address)) serves.
 * Under from_check = record nothing waits for the answer, so the same
 * lookup runs inside the reply's insert instead, in replygate.store_reply()
 * (sql/0004_store.sql, with check true): one round trip fewer. Both say
 * the same of the same rows (tests/deliver/auth.sh asks both).
 */
#include <string.h>

#include "db.h"
#include "fromcheck.h"
#include "rg-autoptr.h"

/* One address of the lookup: NULL without one, else whether the user has it. */
static const char address_sql[] =
    "CASE WHEN $%d::text IS NULL THEN %s ELSE EXISTS (SELECT 1 FROM replygate.user_addresses"
    " WHERE user_id = $%d::numeric AND lower(address) = lower($%d::text)) END";

/* fromcheck_sql - the lookup of one address as an SQL expression: whether
 * user $user_param has address $address_param (text, compared in lower
 * case), or if_none ("NULL", "false") when that parameter is NULL */
static char *
fromcheck_sql(int user_param, int address_param, const char *if_none)
{
    return g_strdup_printf(address_sql, address_param, if_none, user_param, address_param);
}

/* fromcheck_needed - see fromcheck.h */
gboolean
fromcheck_needed(const Verdict *verdict)
{
    return verdict->message != NULL && verdict->have_key && verdict->key.user != 0;
}

/* fromcheck_value - "t", "f" or NULL (SQL NULL) as 1, 0, -1 */
static int
fromcheck_value(const PGresult *res, int column)
{
    if (PQgetisnull(res, 0, column))
        return -1;
    return strcmp(PQgetvalue(res, 0, column), "t") == 0 ? 1 : 0;
}

/* fromcheck_address - see fromcheck.h */
char *
fromcheck_address(const char *address)
{
    if (address == NULL || *address == '\0' || strchr(address, '@') == NULL)
        return NULL;
    return g_utf8_make_valid(address, -1);
}

/* fromcheck_lookup - see fromcheck.h */
gboolean
fromcheck_lookup(PGconn *conn, Verdict *verdict, const char *sender, GError **error)
{
    g_autofree char *user = NULL;
    g_autofree char *from = NULL;
    g_autofree char *envelope = NULL;
    g_autofree char *from_sql = fromcheck_sql(1, 2, "NULL");
    g_autofree char *sender_sql = fromcheck_sql(1, 3, "NULL");
    g_autofree char *sql = NULL;
    g_autoptr(PGresult) res = NULL;
    const char *values[3];

    verdict->from_verified = verdict->sender_verified = -1;
    if (!fromcheck_needed(verdict))
        return TRUE;
    sql = g_strconcat("SELECT ", from_sql, ", ", sender_sql, NULL);
    user = g_strdup_printf("%" G_GUINT64_FORMAT, verdict->key.user);
    from = fromcheck_address(verdict->message->from_address);
    envelope = fromcheck_address(sender);
    values[0] = user;
    values[1] = from;
    values[2] = envelope;
    res = db_exec(conn, sql, 3, values, NULL, NULL, error);
    if (res == NULL)
        return FALSE;
    verdict->from_verified = from != NULL ? fromcheck_value(res, 0) : 0;
    verdict->sender_verified = fromcheck_value(res, 1);
    return TRUE;
}

/* fromcheck_apply - see fromcheck.h */
gboolean
fromcheck_apply(PGconn *conn, const Config *config, Verdict *verdict, const char *sender,
                GError **error)
{
    char *refusal;

    if (!fromcheck_needed(verdict))
        return TRUE;
    if (!db_connect_finish(conn, 0, error) || !fromcheck_lookup(conn, verdict, sender, error))
        return FALSE;
    if (verdict->exit_status != 0)
        return TRUE;
    refusal = auth_from_refusal(config, verdict->from_verified, verdict->message->from_address,
                                verdict->key.user);
    if (refusal != NULL) {
        verdict->exit_status = 77;
        g_free(verdict->status);
        verdict->status = refusal;
    }
    return TRUE;
}
