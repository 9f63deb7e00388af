/*
 * decide.c - the milter's decisions, pure and free of libmilter.
 *
 * Every answer the milter gives is chosen here from plain facts, with the
 * shared library's address_classify(), keyfind_lookup() and
 * autosubmit_reason(), so the milter and the delivery agent can never
 * disagree about what a reply address, a message's key or an auto-submitted
 * message is. The callbacks only gather facts and carry out
 * what these functions say.
 */
#include <string.h>

#include "decide.h"

/* decide_tls_sufficient - does the session's TLS version satisfy the configuration? */
gboolean
decide_tls_sufficient(const Config *config, const char *tls_version)
{
    if (!config->require_tls)
        return TRUE;
    if (tls_version == NULL || *tls_version == '\0')
        return FALSE;
    /* An unknown version name ranks -1, below every minimum: refused. */
    return tls_version_rank(tls_version) >= config->tls_min_rank;
}

/* decide_rcpt - what to answer to RCPT TO:<rcpt> with this TLS version (NULL: none) */
RcptDecision
decide_rcpt(const Config *config, const KeyRing *ring, const char *rcpt, const char *tls_version)
{
    RcptDecision decision;

    memset(&decision, 0, sizeof decision);
    decision.action = RCPT_UNKNOWN;
    decision.klass = address_classify(config, ring, rcpt, &decision.key, &decision.why);
    if (decision.klass == ADDRESS_FOREIGN) {
        decision.action = RCPT_FOREIGN;
        return decision;
    }
    /* TLS comes first: over plain text, say nothing about whether a key is good. */
    if (!decide_tls_sufficient(config, tls_version)) {
        decision.action = RCPT_NEED_TLS;
        decision.why = tls_version ? "TLS version older than tls_min_version" : "no STARTTLS";
        return decision;
    }
    switch (decision.klass) {
    case ADDRESS_KEY:
    case ADDRESS_DEDICATED:
    case ADDRESS_STATIC:
        decision.action = RCPT_ACCEPT;
        break;
    case ADDRESS_NOREPLY:
        decision.action = RCPT_NOREPLY;
        break;
    case ADDRESS_FOREIGN: /* handled above */
    case ADDRESS_BAD_KEY:
    case ADDRESS_MALFORMED:
    case ADDRESS_UNKNOWN:
    default:
        decision.action = RCPT_UNKNOWN;
        break;
    }
    return decision;
}

/* rejected_text - "<addr>: Recipient address rejected: <why>" for a 550 5.1.1 */
static char *
rejected_text(const char *rcpt, const char *why)
{
    g_autofree char *bare = address_strip(rcpt ? rcpt : "");

    /* libmilter refuses a reply text near 1000 bytes: a long address is cut. */
    if (strlen(bare) > DECIDE_REPLY_ADDRESS_MAX)
        strcpy(bare + DECIDE_REPLY_ADDRESS_MAX - 3, "...");
    return g_strdup_printf("<%s>: Recipient address rejected: %s", bare, why);
}

/* decide_unknown_text - "<addr>: Recipient address rejected: ..." for a 550 5.1.1 */
char *
decide_unknown_text(const char *rcpt)
{
    return rejected_text(rcpt, "unknown or expired reply address");
}

/* decide_keyless_text - "<addr>: Recipient address rejected: no reply key in the message" */
char *
decide_keyless_text(const char *rcpt)
{
    return rejected_text(rcpt, "no reply key in the message");
}

/* decide_dedicated - the key of a message to the bare dedicated address, looked up once */
DedicatedLookup
decide_dedicated(const Config *config, const KeyRing *ring, const HeaderField *headers,
                 gsize n_headers, gboolean truncated, ReplyKey *key)
{
    const char *source = NULL;

    /* The agent's own lookup, in SPEC section 3 order: what it would find. */
    if (keyfind_lookup(config, ring, NULL, headers, n_headers, key, &source))
        return DEDICATED_KEY;
    return truncated ? DEDICATED_UNDECIDED : DEDICATED_NONE;
}

/* decide_keyless - refuse, drop or keep the dedicated recipients without a key */
KeylessAction
decide_keyless(const Config *config, const KeyRing *ring, const char *const *dedicated,
               gsize n_dedicated, guint n_rcpts, const HeaderField *headers, gsize n_headers,
               GPtrArray *keyless)
{
    ReplyKey key;

    if (n_dedicated == 0 ||
        decide_dedicated(config, ring, headers, n_headers, FALSE, &key) == DEDICATED_KEY)
        return KEYLESS_NONE;
    for (gsize i = 0; i < n_dedicated; i++)
        g_ptr_array_add(keyless, (gpointer)dedicated[i]);
    /* Nothing else would be delivered: refuse while the sender is connected. */
    if (n_dedicated >= n_rcpts)
        return KEYLESS_REJECT;
    return KEYLESS_DROP;
}

/* decide_autosubmit - refuse, discard or pass a message after its headers */
AutoAction
decide_autosubmit(const Config *config, const HeaderField *headers, gsize n_headers,
                  const char *sender, char **reason)
{
    char *why = autosubmit_reason(headers, n_headers, sender);

    *reason = NULL;
    if (why == NULL)
        return AUTO_NONE;
    *reason = why; /* ownership passes to the caller */
    return config->auto_submitted_action == AUTO_SUBMITTED_DISCARD ? AUTO_DISCARD : AUTO_REJECT;
}

/* decide_autosubmit_text - "Auto-submitted message refused (<reason>)" */
char *
decide_autosubmit_text(const char *reason)
{
    return g_strdup_printf("Auto-submitted message refused (%s)", reason);
}

/* decide_header_is_ours - is this an X-Replygate-* header? */
gboolean
decide_header_is_ours(const char *name)
{
    return headers_is_ours(name);
}

/* decide_header_deletions - delete every X-Replygate-* header, highest index first */
GArray *
decide_header_deletions(const char *const *names, gsize n_names)
{
    g_autoptr(HeaderBook) book = headerbook_new(NULL);
    g_autoptr(GArray) own = NULL;
    GArray *plan = g_array_new(FALSE, FALSE, sizeof(HeaderDeletion));
    g_autoptr(GHashTable) first = g_hash_table_new(g_str_hash, g_str_equal);

    for (gsize i = 0; i < n_names; i++) {
        if (!headers_is_ours(names[i]))
            continue;
        headerbook_add(book, names[i], "");
        /* The book keeps its own copy of each name's first spelling; the plan
         * returned borrows the caller's instead (first occurrence). */
        if (!g_hash_table_contains(first, names[i]))
            g_hash_table_insert(first, (gpointer)names[i], (gpointer)names[i]);
    }
    own = headerbook_deletions(book, NULL, NULL);
    for (guint i = 0; i < own->len; i++) {
        HeaderDeletion deletion = g_array_index(own, HeaderDeletion, i);
        deletion.name = g_hash_table_lookup(first, deletion.name);
        g_array_append_val(plan, deletion);
    }
    return plan;
}

/* decide_rate_text - the 450 4.7.1 text past a rate limit */
char *
decide_rate_text(gboolean by_sender, const char *rcpt, const char *sender, guint64 limit)
{
    g_autofree char *bare = address_strip(by_sender ? sender : rcpt);

    if (strlen(bare) > DECIDE_REPLY_ADDRESS_MAX)
        strcpy(bare + DECIDE_REPLY_ADDRESS_MAX - 3, "...");
    if (by_sender)
        return g_strdup_printf("<%s>: Sender address rejected: too many messages from this "
                               "sender (%" G_GUINT64_FORMAT " an hour), try again later",
                               bare, limit);
    return g_strdup_printf("<%s>: Recipient address rejected: too many messages for this reply "
                           "key (%" G_GUINT64_FORMAT " an hour), try again later",
                           bare, limit);
}

/* decide_reply_text - text made safe for smfi_setreply: printable ASCII, '%' doubled */
char *
decide_reply_text(const char *text)
{
    GString *safe = g_string_new(NULL);

    /* libmilter drops a reply whose text has a single '%' or a CR or LF. */
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '%')
            g_string_append(safe, "%%");
        else if (g_ascii_isprint(*p))
            g_string_append_c(safe, *p);
        else
            g_string_append_c(safe, '?');
    }
    return g_string_free(safe, FALSE);
}
