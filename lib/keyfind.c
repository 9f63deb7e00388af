/*
 * keyfind.c - find the reply key in the envelope and the headers (SPEC section 3).
 *
 * Each source yields candidate addresses in order; address_classify() from the
 * shared library judges each one, so the agent and the milter agree on what a
 * key is. ADDRESS_KEY and ADDRESS_STATIC end the search; everything else (a
 * foreign domain, a bad mac, the dedicated address) means keep looking.
 * It lives in the shared library because both programs ask it: the agent to
 * file the reply, the milter to refuse mail to the bare dedicated address
 * that carries no key before a bounce could be owed.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "keyfind.h"
#include "rg-autoptr.h"
#include "rg-limits.h"

/* Which header a source reads and how its value holds addresses. */
typedef enum {
    SOURCE_ADDRESS_LIST, /* To, Cc, Delivered-To, ...: RFC 5322 address lists */
    SOURCE_RECEIVED,     /* the "for <address>" clauses */
    SOURCE_MESSAGE_IDS,  /* In-Reply-To, References: message ids */
} SourceShape;

typedef struct {
    const char *header;
    const char *source;
    SourceShape shape;
} HeaderSource;

/* In SPEC order, after the envelope recipient. In-Reply-To names the message
 * replied to, so it is looked at before the older ids of References. */
static const HeaderSource header_sources[] = {
    {"To", "to", SOURCE_ADDRESS_LIST},
    {"Delivered-To", "delivered-to", SOURCE_ADDRESS_LIST},
    {"X-Delivered-To", "x-delivered-to", SOURCE_ADDRESS_LIST},
    {"Envelope-To", "envelope-to", SOURCE_ADDRESS_LIST},
    {"X-Envelope-To", "x-envelope-to", SOURCE_ADDRESS_LIST},
    {"X-Original-To", "x-original-to", SOURCE_ADDRESS_LIST},
    {"X-Forwarded-To", "x-forwarded-to", SOURCE_ADDRESS_LIST},
    {"Received", "received", SOURCE_RECEIVED},
    {"Cc", "cc", SOURCE_ADDRESS_LIST},
    {"In-Reply-To", "references", SOURCE_MESSAGE_IDS},
    {"References", "references", SOURCE_MESSAGE_IDS},
};

/* keyfind_gmime_init - GMime's address parser needs g_mime_init() first */
static void
keyfind_gmime_init(void)
{
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        g_mime_init();
        g_once_init_leave(&done, 1);
    }
}

/* keyfind_try - classify one candidate; TRUE when it is a key or static address */
static gboolean
keyfind_try(const Config *config, const KeyRing *ring, const char *address, ReplyKey *key)
{
    AddressClass klass;

    if (address == NULL || *address == '\0')
        return FALSE;
    klass = address_classify(config, ring, address, key, NULL);
    return klass == ADDRESS_KEY || klass == ADDRESS_STATIC;
}

/* keyfind_list_collect - append every mailbox address of a list, groups flattened */
static void
keyfind_list_collect(InternetAddressList *list, GPtrArray *out, int depth)
{
    int n = internet_address_list_length(list);

    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);

        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));

            if (addr != NULL && *addr != '\0')
                g_ptr_array_add(out, g_strdup(addr));
        } else if (INTERNET_ADDRESS_IS_GROUP(ia) && depth < 2) {
            InternetAddressList *members =
                internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));

            if (members != NULL)
                keyfind_list_collect(members, out, depth + 1);
        }
    }
}

/* keyfind_quoted_addresses - the addresses written inside quoted strings
 * of a value: some clients and forwarders write a whole list as one quoted
 * string ("<a@x>,<b@y>"), which an RFC 5322 parser reads as a display name */
static void
keyfind_quoted_addresses(const char *value, GPtrArray *out)
{
    const char *p = value;

    while ((p = strchr(p, '"')) != NULL) {
        const char *start = ++p;

        while (*p != '\0' && *p != '"') {
            if (*p == '\\' && p[1] != '\0')
                p++;
            p++;
        }
        if (memchr(start, '@', (gsize)(p - start)) != NULL) {
            const char *q = start;

            while (q < p) {
                const char *t;

                while (q < p && (g_ascii_isspace(*q) || strchr(",;<>", *q) != NULL))
                    q++;
                for (t = q; t < p && !g_ascii_isspace(*t) && strchr(",;<>", *t) == NULL; t++)
                    ;
                if (t > q && memchr(q, '@', (gsize)(t - q)) != NULL)
                    g_ptr_array_add(out, g_strndup(q, (gsize)(t - q)));
                q = t;
            }
        }
        if (*p == '"')
            p++;
    }
}

/* keyfind_address_list - the addresses of one address-list header value */
static GPtrArray *
keyfind_address_list(const char *value)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(InternetAddressList) list = NULL;
    GMimeParserOptions *options = g_mime_parser_options_get_default();

    /* GMime parses a group inside a group recursively: a header of nested
     * groups would overflow the stack of whichever program asks (issue 13). */
    if (limits_address_groups(value, strlen(value)) > LIMIT_ADDRESS_GROUPS)
        return out;
    list = internet_address_list_parse(options, value);
    if (list != NULL)
        keyfind_list_collect(list, out, 0);
    if (strchr(value, '"') != NULL)
        keyfind_quoted_addresses(value, out);
    if (out->len == 0) {
        /* Delivered-To and friends are sometimes written bare or oddly;
         * let address_classify() judge the stripped value itself. */
        g_autofree char *bare = address_strip(value);

        if (bare != NULL && *bare != '\0' && strchr(bare, '@') != NULL)
            g_ptr_array_add(out, g_steal_pointer(&bare));
    }
    return out;
}

/* keyfind_add_id - append s[0, len) as a message id when it holds '@', with
 * white space and quotes (left by folding or a quoted list) dropped */
static void
keyfind_add_id(GPtrArray *out, const char *s, gsize len)
{
    GString *id;

    if (len == 0 || memchr(s, '@', len) == NULL)
        return;
    id = g_string_sized_new(len);
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isspace(s[i]) && s[i] != '"')
            g_string_append_c(id, s[i]);
    if (id->len > 0 && strchr(id->str, '@') != NULL)
        g_ptr_array_add(out, g_string_free(id, FALSE));
    else
        g_string_free(id, TRUE);
}

/* keyfind_message_ids - see keyfind.h; one linear scan: every "<...>" that
 * holds '@', and bare left@right words outside them, wherever commas,
 * quotes or comments put them */
GPtrArray *
keyfind_message_ids(const char *value)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const char *p = value;

    if (value == NULL)
        return out;
    while (*p != '\0') {
        if (*p == '<') {
            const char *start = ++p;

            /* A '<' before the '>' means the first one was never closed. */
            while (*p != '\0' && *p != '>' && *p != '<')
                p++;
            if (*p == '>') {
                keyfind_add_id(out, start, (gsize)(p - start));
                p++;
            }
        } else if (*p == '(') {
            int depth = 0;

            /* A comment, nested ones included, holds no id. */
            for (; *p != '\0'; p++) {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                else if (*p == '(')
                    depth++;
                else if (*p == ')' && --depth == 0) {
                    p++;
                    break;
                }
            }
        } else if (g_ascii_isspace(*p) || strchr(",\";>)", *p) != NULL) {
            /* Separators, and closers without an opener: every character
             * the bare-id branch below stops at must advance here. */
            p++;
        } else {
            const char *start = p;

            /* A bare id, as some clients write In-Reply-To: a@x */
            while (*p != '\0' && !g_ascii_isspace(*p) && strchr(",\";<>()", *p) == NULL)
                p++;
            keyfind_add_id(out, start, (gsize)(p - start));
        }
    }
    return out;
}

/* keyfind_is_space - white space inside a header value, folding included */
static gboolean
keyfind_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* keyfind_received_for - see keyfind.h; one linear scan, no regular expression */
GPtrArray *
keyfind_received_for(const char *received)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const char *p = received;

    if (received == NULL)
        return out;
    while ((p = strpbrk(p, "fF")) != NULL) {
        const char *start, *end;

        if (g_ascii_strncasecmp(p, "for", 3) != 0 || (p > received && !keyfind_is_space(p[-1])) ||
            !keyfind_is_space(p[3])) {
            p++;
            continue;
        }
        p += 3;
        while (keyfind_is_space(*p))
            p++;
        if (*p == '<') {
            start = ++p;
            end = strchr(start, '>');
            if (end == NULL)
                break;
        } else {
            start = p;
            end = start;
            while (*end != '\0' && !keyfind_is_space(*end) && *end != ';' && *end != ',')
                end++;
        }
        if (end > start && memchr(start, '@', (gsize)(end - start)) != NULL)
            g_ptr_array_add(out, g_strndup(start, (gsize)(end - start)));
        p = end;
    }
    return out;
}

/* keyfind_candidates - the candidate addresses of one header value */
static GPtrArray *
keyfind_candidates(SourceShape shape, const char *value)
{
    switch (shape) {
    case SOURCE_ADDRESS_LIST:
        return keyfind_address_list(value);
    case SOURCE_RECEIVED:
        return keyfind_received_for(value);
    case SOURCE_MESSAGE_IDS:
        return keyfind_message_ids(value);
    }
    return g_ptr_array_new();
}

/* keyfind_header_source - try every field named like the source, top first */
static gboolean
keyfind_header_source(const Config *config, const KeyRing *ring, const HeaderSource *hs,
                      const HeaderField *headers, gsize n_headers, ReplyKey *key)
{
    for (gsize i = 0; i < n_headers; i++) {
        g_autoptr(GPtrArray) candidates = NULL;

        if (headers[i].name == NULL || headers[i].value == NULL ||
            g_ascii_strcasecmp(headers[i].name, hs->header) != 0)
            continue;
        candidates = keyfind_candidates(hs->shape, headers[i].value);
        if (hs->shape == SOURCE_MESSAGE_IDS && g_ascii_strcasecmp(hs->header, "References") == 0) {
            /* The newest id is last; the message replied to matters most. */
            for (guint j = candidates->len; j > 0; j--)
                if (keyfind_try(config, ring, g_ptr_array_index(candidates, j - 1), key))
                    return TRUE;
            continue;
        }
        for (guint j = 0; j < candidates->len; j++)
            if (keyfind_try(config, ring, g_ptr_array_index(candidates, j), key))
                return TRUE;
    }
    return FALSE;
}

/* keyfind_reads_header - see keyfind.h */
gboolean
keyfind_reads_header(const char *name)
{
    if (name == NULL)
        return FALSE;
    for (gsize s = 0; s < G_N_ELEMENTS(header_sources); s++) {
        if (g_ascii_strcasecmp(name, header_sources[s].header) == 0)
            return TRUE;
    }
    return FALSE;
}

/* keyfind_lookup - see keyfind.h */
gboolean
keyfind_lookup(const Config *config, const KeyRing *ring, const char *recipient,
               const HeaderField *headers, gsize n_headers, ReplyKey *key, const char **source)
{
    ReplyKey found;

    memset(&found, 0, sizeof found);
    keyfind_gmime_init();
    if (keyfind_try(config, ring, recipient, &found)) {
        *key = found;
        *source = "envelope";
        return TRUE;
    }
    /* Mail to the no-reply address is never a reply, whatever its headers
     * say (the milter discards it; this keeps the agent from storing it). */
    if (recipient != NULL && *recipient != '\0' &&
        address_classify(config, ring, recipient, NULL, NULL) == ADDRESS_NOREPLY)
        return FALSE;
    for (gsize s = 0; s < G_N_ELEMENTS(header_sources); s++) {
        if (keyfind_header_source(config, ring, &header_sources[s], headers, n_headers, &found)) {
            *key = found;
            *source = header_sources[s].source;
            return TRUE;
        }
    }
    return FALSE;
}
