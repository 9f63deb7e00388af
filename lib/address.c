/*
 * address.c - sign, parse and verify reply addresses (SPEC section 2).
 *
 * <prefix><sep><kind>-<target>-<mac>-<user>@<reply_domain>. The mac is the
 * first 40 hex digits of HMAC-SHA256(secret, "<kind>-<target>-<user>"). The
 * first secret in the key ring signs and every secret verifies, so secrets can
 * be rotated. Parsing is strict and comparison constant-time: relays may fold
 * the case of a local part, so the whole address is matched in lower case.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "address.h"
#include "domain.h"
#include "rg-error.h"

/* keyring_free - release a key ring (NULL-safe) */
void
keyring_free(KeyRing *ring)
{
    if (ring == NULL)
        return;
    g_clear_pointer(&ring->secrets, g_ptr_array_unref);
    g_free(ring);
}

/* keyring_alloc - an empty key ring */
static KeyRing *
keyring_alloc(void)
{
    KeyRing *ring = g_new0(KeyRing, 1);

    ring->secrets = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    return ring;
}

/* keyring_new - a key ring from NUL-terminated secrets, each >= 32 bytes */
KeyRing *
keyring_new(const char *const *secrets, GError **error)
{
    g_autoptr(KeyRing) ring = keyring_alloc();

    for (guint i = 0; secrets != NULL && secrets[i] != NULL; i++) {
        gsize len = strlen(secrets[i]);
        if (len < ADDRESS_SECRET_MIN) {
            g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                        "secret %u is %zu bytes long; at least %d are needed", i + 1, len,
                        ADDRESS_SECRET_MIN);
            return NULL;
        }
        g_ptr_array_add(ring->secrets, g_bytes_new(secrets[i], len));
    }
    if (ring->secrets->len == 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "no secrets given");
        return NULL;
    }
    return g_steal_pointer(&ring);
}

/* keyring_load - read a secrets file, refusing one that "other" may read or write */
KeyRing *
keyring_load(const char *path, GError **error)
{
    struct stat st;
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    g_autoptr(KeyRing) ring = NULL;
    guint lineno = 0;
    const char *p;
    const char *end;

    if (stat(path, &st) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "secrets file %s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                    "secrets file %s has mode %04o: it must not be readable or writable by "
                    "others (chmod o-rw %s)",
                    path, (unsigned)(st.st_mode & 07777), path);
        return NULL;
    }
    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "secrets file %s: %s", path, local->message);
        return NULL;
    }
    ring = keyring_alloc();
    p = text;
    end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        const char *line_end = nl ? nl : end;
        gsize n = line_end - p;

        lineno++;
        /* A CRLF file written on another system still means the same secret. */
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > 0 && p[0] != '#') {
            if (n < ADDRESS_SECRET_MIN) {
                g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                            "secrets file %s:%u: secret is %zu bytes long; at least %d are "
                            "needed",
                            path, lineno, n, ADDRESS_SECRET_MIN);
                return NULL;
            }
            g_ptr_array_add(ring->secrets, g_bytes_new(p, n));
        }
        p = line_end + (nl ? 1 : 0);
    }
    if (ring->secrets->len == 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "secrets file %s holds no secret", path);
        return NULL;
    }
    return g_steal_pointer(&ring);
}

/*
 * hmac_template - an HMAC-SHA256 context without a key, made once per process
 *
 * OpenSSL 3's HMAC() fetches the HMAC implementation and SHA-256 on every
 * call; the template is fetched once (g_once: the milter signs and verifies
 * from many threads) and each mac starts from a copy of it. The first call
 * also tells OpenSSL not to tear itself down at exit (OPENSSL_INIT_NO_ATEXIT):
 * a thread still verifying while main() returns would otherwise use freed
 * tables, and a short-lived process like the agent saves the teardown. The
 * system's openssl.cnf is still loaded and every legacy name still added:
 * libpq's TLS (and its channel binding's EVP_get_digestbynid) in the same
 * process needs both, so those cheaper flags are not used.
 */
static EVP_MAC_CTX *
hmac_template(void)
{
    static EVP_MAC_CTX *template;

    if (g_once_init_enter(&template)) {
        EVP_MAC *mac;
        EVP_MAC_CTX *ctx = NULL;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
            OSSL_PARAM_construct_end(),
        };

        OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (mac != NULL)
            ctx = EVP_MAC_CTX_new(mac);
        /* the context holds its own reference to the fetched mac */
        EVP_MAC_free(mac);
        if (ctx == NULL || !EVP_MAC_CTX_set_params(ctx, params))
            g_error("OpenSSL has no HMAC-SHA256");
        g_once_init_leave(&template, ctx);
    }
    return template;
}

/* address_hmac_hex - the first hex_len lower-case hex digits of HMAC-SHA256(secret, data) */
void
address_hmac_hex(GBytes *secret, const void *data, gsize len, char *out, gsize hex_len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    size_t digest_len = 0;
    gsize key_len = 0;
    const void *key = g_bytes_get_data(secret, &key_len);
    EVP_MAC_CTX *ctx;
    gboolean ok;

    g_assert(hex_len % 2 == 0 && hex_len <= 64);
    ctx = EVP_MAC_CTX_dup(hmac_template());
    ok = ctx != NULL && EVP_MAC_init(ctx, key, key_len, NULL) &&
         EVP_MAC_update(ctx, (const unsigned char *)data, len) &&
         EVP_MAC_final(ctx, digest, &digest_len, sizeof digest) && digest_len >= hex_len / 2;
    EVP_MAC_CTX_free(ctx);
    if (!ok)
        g_error("HMAC-SHA256 failed");
    for (gsize i = 0; i < hex_len / 2; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[hex_len] = '\0';
}

/* keyring_load_with_config - the configuration at path and its secrets */
KeyRing *
keyring_load_with_config(const char *path, Config **config, GError **error)
{
    g_autoptr(Config) loaded = config_load(path, error);
    KeyRing *ring;

    if (loaded == NULL)
        return NULL;
    ring = keyring_load(loaded->secrets_file, error);
    if (ring != NULL)
        *config = g_steal_pointer(&loaded);
    return ring;
}

/* address_mac - the 40 lower-case hex digits for kind, target and user */
void
address_mac(GBytes *secret, const char *kind, guint64 target, guint64 user,
            char out[ADDRESS_MAC_HEX + 1])
{
    char message[ADDRESS_KIND_MAX + 2 * 21 + 3];
    int n;

    n = g_snprintf(message, sizeof message, "%s-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, kind,
                   target, user);
    g_assert(n > 0 && (gsize)n < sizeof message);
    address_hmac_hex(secret, message, (gsize)n, out, ADDRESS_MAC_HEX);
}

/* valid_kind - 1 to 16 lower-case letters */
static gboolean
valid_kind(const char *kind)
{
    gsize n = strlen(kind);

    if (n < 1 || n > ADDRESS_KIND_MAX)
        return FALSE;
    for (const char *p = kind; *p; p++) {
        if (*p < 'a' || *p > 'z')
            return FALSE;
    }
    return TRUE;
}

/* address_sign - the full signed address, in the first reply domain */
char *
address_sign(const Config *config, const KeyRing *ring, const char *kind, guint64 target,
             guint64 user, GError **error)
{
    char mac[ADDRESS_MAC_HEX + 1];

    if (!valid_kind(kind)) {
        g_set_error(error, RG_ERROR, RG_ERROR_INVALID,
                    "kind \"%s\" must be 1 to 16 lower-case letters", kind);
        return NULL;
    }
    if (target == 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_INVALID, "target must not be 0");
        return NULL;
    }
    address_mac(g_ptr_array_index(ring->secrets, 0), kind, target, user, mac);
    return g_strdup_printf("%s%s%s-%" G_GUINT64_FORMAT "-%s-%" G_GUINT64_FORMAT "@%s",
                           config->address_prefix, config->address_separator, kind, target, mac,
                           user, (const char *)g_ptr_array_index(config->reply_domains, 0));
}

/* address_strip - the address without angle brackets and white space */
char *
address_strip(const char *address)
{
    const char *start = address;
    const char *end;

    if (address == NULL)
        return g_strdup("");
    while (g_ascii_isspace(*start))
        start++;
    end = start + strlen(start);
    while (end > start && g_ascii_isspace(end[-1]))
        end--;
    if (end - start >= 2 && *start == '<' && end[-1] == '>') {
        start++;
        end--;
    }
    return g_strndup(start, end - start);
}

/* scan_number - 1 to 20 digits, no leading zero unless zero_ok and "0" */
static const char *
scan_number(const char *p, gboolean zero_ok, guint64 *out)
{
    guint64 value = 0;
    const char *start = p;

    while (g_ascii_isdigit(*p)) {
        guint digit = (guint)(*p - '0');
        if (p - start >= 20 || value > (G_MAXUINT64 - digit) / 10)
            return NULL;
        value = value * 10 + digit;
        p++;
    }
    if (p == start || (start[0] == '0' && (p - start > 1 || !zero_ok)))
        return NULL;
    *out = value;
    return p;
}

/* scan_unique_suffix - is text (after the '.') a unique suffix: 1 to 64
 * characters from [A-Za-z0-9._-] and nothing after them (SPEC section 3
 * item 9)? A notification's Message-ID is the reply address's local part,
 * '.', such a suffix, '@' a reply domain, so that no two notifications
 * share one; the mac covers only kind, target and user, so the suffix is
 * free text the application chooses. */
static gboolean
scan_unique_suffix(const char *text)
{
    gsize n = 0;

    while (text[n] != '\0') {
        char c = text[n];

        if (!g_ascii_isalnum(c) && c != '.' && c != '_' && c != '-')
            return FALSE;
        if (++n > ADDRESS_SUFFIX_MAX)
            return FALSE;
    }
    return n >= 1;
}

/* address_message_id - the signed local part, '.', suffix, '@' the first
 * reply domain: a Message-ID unique to one notification that still names
 * its key (SPEC section 3 item 9) */
char *
address_message_id(const Config *config, const KeyRing *ring, const char *kind, guint64 target,
                   guint64 user, const char *suffix, GError **error)
{
    g_autofree char *address = NULL;
    const char *at;

    if (suffix == NULL || !scan_unique_suffix(suffix)) {
        g_set_error(error, RG_ERROR, RG_ERROR_INVALID,
                    "the unique suffix must be 1 to %d characters from [A-Za-z0-9._-]",
                    ADDRESS_SUFFIX_MAX);
        return NULL;
    }
    address = address_sign(config, ring, kind, target, user, error);
    if (address == NULL)
        return NULL;
    at = strrchr(address, '@');
    return g_strdup_printf("%.*s.%s%s", (int)(at - address), address, suffix, at);
}

/* parse_key - "<kind>-<target>-<mac>-<user>[.<suffix>]" into key and mac; a
 * reason on failure */
static gboolean
parse_key(const char *text, ReplyKey *key, char mac[ADDRESS_MAC_HEX + 1], const char **reason)
{
    const char *p = text;
    gsize n = 0;

    while (*p >= 'a' && *p <= 'z' && n <= ADDRESS_KIND_MAX) {
        p++;
        n++;
    }
    if (n < 1 || n > ADDRESS_KIND_MAX || *p != '-') {
        *reason = "malformed kind";
        return FALSE;
    }
    memcpy(key->kind, text, n);
    key->kind[n] = '\0';
    p = scan_number(p + 1, FALSE, &key->target);
    if (p == NULL || *p != '-') {
        *reason = "malformed target";
        return FALSE;
    }
    p++;
    for (n = 0; n < ADDRESS_MAC_HEX; n++) {
        if (!g_ascii_isxdigit(p[n])) {
            *reason = "malformed mac";
            return FALSE;
        }
        mac[n] = p[n];
    }
    mac[n] = '\0';
    p += ADDRESS_MAC_HEX;
    if (*p != '-') {
        *reason = "malformed mac";
        return FALSE;
    }
    p = scan_number(p + 1, TRUE, &key->user);
    if (p == NULL) {
        *reason = "malformed user";
        return FALSE;
    }
    if (*p == '.' && !scan_unique_suffix(p + 1)) {
        *reason = "malformed unique suffix after the user";
        return FALSE;
    }
    if (*p != '\0' && *p != '.') {
        *reason = "trailing characters after the user";
        return FALSE;
    }
    return TRUE;
}

/* address_normalize - the address as Postfix's parser reads it (new string):
 * comments and white space outside quotes dropped, quotes and backslash
 * escapes undone. Postfix routes <reply+X@reply.example.com(c)>,
 * <reply+X@reply.example.com > and <reply+X@reply\.example.com> to the reply
 * domain, so such a form must never pass as foreign. */
static char *
address_normalize(const char *address)
{
    GString *out = g_string_new(NULL);
    gboolean quoted = FALSE;
    int depth = 0; /* of nested comments */

    for (const char *p = address != NULL ? address : ""; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
            if (depth == 0)
                g_string_append_c(out, *p);
        } else if (depth > 0) {
            if (*p == '(')
                depth++;
            else if (*p == ')')
                depth--;
        } else if (quoted) {
            if (*p == '"')
                quoted = FALSE;
            else
                g_string_append_c(out, *p);
        } else if (*p == '"') {
            quoted = TRUE;
        } else if (*p == '(') {
            depth = 1;
        } else if (!g_ascii_isspace(*p)) {
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}

/* routes_into_reply_domain - does the local part name a reply domain behind
 * '%', '!' or '@'? Postfix resolves user%domain@host, domain!user@host and
 * "user@domain"@host into user@domain when host is one of its own domains
 * (mydestination holds $myhostname by default), so such a recipient reaches
 * the agent although its last domain is not a reply domain. */
static gboolean
routes_into_reply_domain(const Config *config, const char *address)
{
    const char *at = strrchr(address, '@');
    g_autofree char *local = g_strndup(address, at ? (gsize)(at - address) : strlen(address));
    g_auto(GStrv) parts = NULL;

    if (strpbrk(local, "%!@") == NULL)
        return FALSE;
    parts = g_strsplit_set(local, "%!@", -1);
    for (guint i = 0; parts[i] != NULL; i++) {
        GString *part = g_string_new(NULL);
        gboolean hit;

        for (const char *p = parts[i]; *p; p++) {
            if (*p != '"')
                g_string_append_c(part, *p);
        }
        if (part->len > 1 && part->str[part->len - 1] == '.')
            g_string_truncate(part, part->len - 1);
        hit = config_is_reply_domain(config, part->str);
        g_string_free(part, TRUE);
        if (hit)
            return TRUE;
    }
    return FALSE;
}

/* routed_to_reply_domain - would Postfix route this normalized, lower-case
 * address to a reply domain? */
static gboolean
routed_to_reply_domain(const Config *config, const char *address)
{
    const char *at = strrchr(address, '@');
    g_autofree char *domain = g_strdup(at != NULL ? at + 1 : "");
    gsize n = strlen(domain);

    if (n >= 2 && domain[n - 1] == '.' && domain[n - 2] != '.')
        domain[n - 1] = '\0';
    return config_is_reply_domain(config, domain) || routes_into_reply_domain(config, address);
}

/* address_classify - what an address is; accepts "<addr>" or "addr", any case */
AddressClass
address_classify(const Config *config, const KeyRing *ring, const char *address, ReplyKey *key,
                 const char **reason)
{
    g_autofree char *stripped = address_strip(address);
    g_autofree char *lower = g_ascii_strdown(stripped, -1);
    const char *why = NULL;
    char *at = strrchr(lower, '@');
    const char *local;
    gsize prefix_len;
    ReplyKey parsed;
    char mac[ADDRESS_MAC_HEX + 1];
    AddressClass klass = ADDRESS_UNKNOWN;

    if (reason == NULL)
        reason = &why;
    *reason = NULL;
    memset(&parsed, 0, sizeof parsed);

    {
        /* Comments, white space, quotes or backslashes: refused when Postfix
         * would route the address to a reply domain anyway. */
        g_autofree char *normalized = address_normalize(address);
        g_autofree char *routed = address_strip(normalized);

        if (strcmp(routed, stripped) != 0) {
            g_autofree char *routed_lower = g_ascii_strdown(routed, -1);

            if (routed_to_reply_domain(config, routed_lower)) {
                *reason = "comments, white space, quotes or backslashes in the address";
                return ADDRESS_MALFORMED;
            }
        }
    }

    /* Postfix resolves "user@domain." as "user@domain" (one trailing dot is
     * dropped, not ".." or "@."), so such a recipient still reaches the
     * agent: it must be judged as that address, or the milter would let it
     * pass as foreign, without STARTTLS and without a verified key. */
    if (at != NULL) {
        gsize n = strlen(lower);

        if (n >= 2 && lower[n - 1] == '.' && lower[n - 2] != '.' && lower[n - 2] != '@')
            lower[n - 1] = '\0';
    }
    /* A domain outside ASCII is folded as Postfix folds it under SMTPUTF8
     * (domain.h): reply.\u017Flack.com routes to reply.slack.com. */
    if (at != NULL && !g_str_is_ascii(at + 1)) {
        g_autofree char *folded = domain_fold(at + 1);
        char *refolded;

        *at = '\0';
        refolded = g_strconcat(lower, "@", folded, NULL);
        g_free(lower);
        lower = refolded;
        at = strrchr(lower, '@');
    }

    if (config->noreply_address != NULL && strcmp(lower, config->noreply_address) == 0) {
        *reason = "the no-reply address";
        return ADDRESS_NOREPLY;
    }
    for (guint i = 0; i < config->static_addresses->len; i++) {
        const StaticAddress *entry = g_ptr_array_index(config->static_addresses, i);
        if (strcmp(lower, entry->address) == 0) {
            g_strlcpy(parsed.kind, entry->kind, sizeof parsed.kind);
            parsed.target = entry->target;
            parsed.user = 0;
            if (key != NULL)
                *key = parsed;
            return ADDRESS_STATIC;
        }
    }
    if (at == NULL || !config_is_reply_domain(config, at + 1)) {
        if (routes_into_reply_domain(config, lower)) {
            *reason = "routed into a reply domain by '%', '!' or '@' in the local part";
            return ADDRESS_MALFORMED;
        }
        *reason = "not in a reply domain";
        return ADDRESS_FOREIGN;
    }
    *at = '\0';
    local = lower;
    prefix_len = strlen(config->address_prefix);
    if (strcmp(local, config->address_prefix) == 0) {
        *reason = "the dedicated address: the key may be in References";
        return ADDRESS_DEDICATED;
    }
    if (strncmp(local, config->address_prefix, prefix_len) != 0 ||
        local[prefix_len] != config->address_separator[0]) {
        *reason = "not a reply address";
        return ADDRESS_UNKNOWN;
    }
    if (!parse_key(local + prefix_len + 1, &parsed, mac, reason))
        return ADDRESS_MALFORMED;

    klass = ADDRESS_BAD_KEY;
    *reason = "the mac does not verify";
    for (guint i = 0; ring != NULL && i < ring->secrets->len; i++) {
        char want[ADDRESS_MAC_HEX + 1];
        address_mac(g_ptr_array_index(ring->secrets, i), parsed.kind, parsed.target, parsed.user,
                    want);
        /* Every secret is tried, whatever matched, so timing says nothing. */
        if (CRYPTO_memcmp(want, mac, ADDRESS_MAC_HEX) == 0)
            klass = ADDRESS_KEY;
    }
    if (klass == ADDRESS_KEY) {
        *reason = NULL;
        if (key != NULL)
            *key = parsed;
    }
    return klass;
}

/* address_class_name - a word for a class, for logs and JSON */
const char *
address_class_name(AddressClass klass)
{
    switch (klass) {
    case ADDRESS_FOREIGN:
        return "foreign";
    case ADDRESS_KEY:
        return "key";
    case ADDRESS_BAD_KEY:
        return "bad-key";
    case ADDRESS_MALFORMED:
        return "malformed";
    case ADDRESS_DEDICATED:
        return "dedicated";
    case ADDRESS_STATIC:
        return "static";
    case ADDRESS_NOREPLY:
        return "noreply";
    case ADDRESS_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}
