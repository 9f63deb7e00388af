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
    {"Envelope-To", "envelope-to", SOURCE_ADDRESS_LIST},
    {"X-Envelope-To", "x-envelope-to", SOURCE_ADDRESS_LIST},
    {"X-Original-To", "x-original-to", SOURCE_ADDRESS_LIST},
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
    if (out->len == 0) {
        /* Delivered-To and friends are sometimes written bare or oddly;
         * let address_classify() judge the stripped value itself. */
        g_autofree char *bare = address_strip(value);

        if (bare != NULL && *bare != '\0' && strchr(bare, '@') != NULL)
            g_ptr_array_add(out, g_steal_pointer(&bare));
    }
    return out;
}

/* keyfind_message_ids - the left@right of every message id in a value */
static GPtrArray *
keyfind_message_ids(const char *value)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GMimeReferences *refs = g_mime_references_parse(NULL, value);

    if (refs != NULL) {
        int n = g_mime_references_length(refs);

        for (int i = 0; i < n; i++) {
            const char *id = g_mime_references_get_message_id(refs, i);

            if (id != NULL && strchr(id, '@') != NULL)
                g_ptr_array_add(out, g_strdup(id));
        }
        g_mime_references_free(refs);
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
