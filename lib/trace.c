/*
 * trace.c - sign and verify the X-Replygate-TLS trace header (see trace.h).
 *
 * The mac covers a canonical encoding with NUL separators, which no field can
 * contain, so no two different headers share a signed message. Parsing is
 * strict: the five parameters in their order, each once, tokens of a fixed
 * character set, bits without leading zeros, 40 hex digits of mac. Folding
 * white space around ';' is allowed, since a relay may fold a long header.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "trace.h"

/* trace_token_char - may c appear in a version or cipher? */
static gboolean
trace_token_char(char c)
{
    return g_ascii_isalnum(c) || (c != '\0' && strchr("._-+/", c) != NULL);
}

/* trace_sanitize - value reduced to token characters (new string) */
static char *
trace_sanitize(const char *value)
{
    char *copy = g_strdup(value != NULL ? value : "");

    for (char *p = copy; *p != '\0'; p++)
        if (!trace_token_char(*p))
            *p = '_';
    return copy;
}

/* trace_valid_queue_id - 1 to TRACE_TOKEN_MAX letters and digits */
static gboolean
trace_valid_queue_id(const char *queue_id)
{
    gsize n = 0;

    if (queue_id == NULL || *queue_id == '\0')
        return FALSE;
    for (const char *p = queue_id; *p != '\0'; p++, n++)
        if (!g_ascii_isalnum(*p) || n >= TRACE_TOKEN_MAX)
            return FALSE;
    return TRUE;
}

/* trace_mac - the mac of the canonical encoding with one secret */
static void
trace_mac(GBytes *secret, const char *queue_id, const char *version, const char *cipher, int bits,
          char out[TRACE_MAC_HEX + 1])
{
    g_autoptr(GString) message = g_string_new(TRACE_HEADER);

    g_string_append_c(message, '\0');
    g_string_append(message, queue_id);
    g_string_append_c(message, '\0');
    g_string_append(message, version);
    g_string_append_c(message, '\0');
    g_string_append(message, cipher);
    g_string_append_c(message, '\0');
    g_string_append_printf(message, "%d", bits);
    address_hmac_hex(secret, message->str, message->len, out, TRACE_MAC_HEX);
}

/* trace_header_value - see trace.h */
char *
trace_header_value(const KeyRing *ring, const char *queue_id, const char *version,
                   const char *cipher, int bits)
{
    g_autofree char *v = NULL;
    g_autofree char *c = NULL;
    char mac[TRACE_MAC_HEX + 1];

    if (ring == NULL || ring->secrets->len == 0 || version == NULL || *version == '\0' ||
        !trace_valid_queue_id(queue_id))
        return NULL;
    v = trace_sanitize(version);
    c = trace_sanitize(cipher);
    if (strlen(v) > TRACE_TOKEN_MAX || strlen(c) > TRACE_TOKEN_MAX)
        return NULL;
    if (bits < 0)
        bits = 0;
    trace_mac(g_ptr_array_index(ring->secrets, 0), queue_id, v, c, bits, mac);
    return g_strdup_printf("version=%s; cipher=%s; bits=%d; queue=%s; mac=%s", v, c, bits, queue_id,
                           mac);
}

/* trace_param - the value of "<name>=<value>" in item, or NULL when the name differs */
static const char *
trace_param(const char *item, const char *name)
{
    gsize n = strlen(name);

    if (g_ascii_strncasecmp(item, name, n) != 0 || item[n] != '=')
        return NULL;
    return item + n + 1;
}

/* trace_valid_token - 0 (when empty_ok) to TRACE_TOKEN_MAX token characters */
static gboolean
trace_valid_token(const char *value, gboolean empty_ok)
{
    gsize n = strlen(value);

    if (n == 0)
        return empty_ok;
    if (n > TRACE_TOKEN_MAX)
        return FALSE;
    for (const char *p = value; *p != '\0'; p++)
        if (!trace_token_char(*p))
            return FALSE;
    return TRUE;
}

/* trace_parse_bits - 0 to 65536 in decimal, no sign, no leading zero */
static gboolean
trace_parse_bits(const char *value, int *bits)
{
    guint64 n = 0;

    if (value[0] == '0' && value[1] != '\0')
        return FALSE;
    for (const char *p = value; *p != '\0'; p++)
        if (!g_ascii_isdigit(*p))
            return FALSE;
    if (!g_ascii_string_to_unsigned(value, 10, 0, 65536, &n, NULL))
        return FALSE;
    *bits = (int)n;
    return TRUE;
}

/* trace_header_verify - see trace.h */
gboolean
trace_header_verify(const KeyRing *ring, const char *value, const char *queue_id, char **version,
                    char **cipher, int *bits, const char **reason)
{
    static const char *const names[] = {"version", "cipher", "bits", "queue", "mac"};
    const char *vals[G_N_ELEMENTS(names)];
    g_auto(GStrv) items = NULL;
    g_autofree char *mac_lower = NULL;
    const char *why = NULL;
    gboolean ok = FALSE;
    int n_bits = 0;

    if (value == NULL) {
        why = "no header";
        goto out;
    }
    if (!trace_valid_queue_id(queue_id)) {
        why = "no queue id to check against";
        goto out;
    }
    items = g_strsplit(value, ";", G_N_ELEMENTS(names) + 1);
    if (g_strv_length(items) != G_N_ELEMENTS(names)) {
        why = "not five parameters";
        goto out;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        vals[i] = trace_param(g_strstrip(items[i]), names[i]);
        if (vals[i] == NULL) {
            why = "malformed parameters";
            goto out;
        }
    }
    if (!trace_valid_token(vals[0], FALSE) || !trace_valid_token(vals[1], TRUE)) {
        why = "malformed version or cipher";
        goto out;
    }
    if (!trace_parse_bits(vals[2], &n_bits)) {
        why = "malformed bits";
        goto out;
    }
    if (!trace_valid_queue_id(vals[3])) {
        why = "malformed queue id";
        goto out;
    }
    if (strlen(vals[4]) != TRACE_MAC_HEX ||
        strspn(vals[4], "0123456789abcdefABCDEF") != TRACE_MAC_HEX) {
        why = "malformed mac";
        goto out;
    }
    if (strcmp(vals[3], queue_id) != 0) {
        why = "queue id differs";
        goto out;
    }
    mac_lower = g_ascii_strdown(vals[4], -1);
    for (guint i = 0; ring != NULL && i < ring->secrets->len && !ok; i++) {
        char want[TRACE_MAC_HEX + 1];

        trace_mac(g_ptr_array_index(ring->secrets, i), queue_id, vals[0], vals[1], n_bits, want);
        ok = CRYPTO_memcmp(want, mac_lower, TRACE_MAC_HEX) == 0;
    }
    if (!ok) {
        why = "mac does not verify";
        goto out;
    }
    if (version != NULL)
        *version = g_strdup(vals[0]);
    if (cipher != NULL)
        *cipher = *vals[1] != '\0' ? g_strdup(vals[1]) : NULL;
    if (bits != NULL)
        *bits = n_bits;
out:
    if (reason != NULL)
        *reason = why;
    return ok;
}
