/*
 * testmark.c - mint and verify the Message-ID of a test message (testmark.h).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "testmark.h"

/* The stem ("<seconds>.<random>") and the host are short in any real id. */
#define TESTMARK_PART_MAX 255

/* testmark_mac - the mac of stem and host with one secret */
static void
testmark_mac(GBytes *secret, const char *stem, gsize stem_len, const char *host, gsize host_len,
             char out[TESTMARK_MAC_HEX + 1])
{
    g_autoptr(GString) text = g_string_new("replygate-test");

    g_string_append_c(text, '\0');
    g_string_append_len(text, stem, (gssize)stem_len);
    g_string_append_c(text, '\0');
    g_string_append_len(text, host, (gssize)host_len);
    address_hmac_hex(secret, text->str, text->len, out, TESTMARK_MAC_HEX);
}

/* testmark_message_id - a marked Message-ID for host */
char *
testmark_message_id(const KeyRing *ring, const char *host, gint64 seconds, guint32 random)
{
    g_autofree char *stem = g_strdup_printf("%" G_GINT64_FORMAT ".%08x", seconds, random);
    char mac[TESTMARK_MAC_HEX + 1];

    if (ring == NULL || ring->secrets->len == 0 || host == NULL || *host == '\0')
        return NULL;
    testmark_mac(g_ptr_array_index(ring->secrets, 0), stem, strlen(stem), host, strlen(host), mac);
    return g_strdup_printf(TESTMARK_PREFIX "%s.%s@%s", stem, mac, host);
}

/* testmark_verify - a mark one of the secrets made? */
gboolean
testmark_verify(const KeyRing *ring, const char *message_id)
{
    const char *stem, *at, *mac;
    char want[TESTMARK_MAC_HEX + 1];
    gboolean ok = FALSE;

    if (ring == NULL || message_id == NULL || !g_str_has_prefix(message_id, TESTMARK_PREFIX))
        return FALSE;
    stem = message_id + strlen(TESTMARK_PREFIX);
    at = strrchr(stem, '@');
    if (at == NULL || at[1] == '\0' || strlen(at + 1) > TESTMARK_PART_MAX ||
        at - stem < TESTMARK_MAC_HEX + 2)
        return FALSE;
    mac = at - TESTMARK_MAC_HEX;
    if (mac[-1] != '.' || mac - 1 - stem > TESTMARK_PART_MAX)
        return FALSE;
    for (const char *p = mac; p < at; p++) {
        if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
            return FALSE;
    }
    for (guint i = 0; i < ring->secrets->len; i++) {
        testmark_mac(g_ptr_array_index(ring->secrets, i), stem, (gsize)(mac - 1 - stem), at + 1,
                     strlen(at + 1), want);
        ok |= CRYPTO_memcmp(want, mac, TESTMARK_MAC_HEX) == 0;
    }
    return ok;
}
