/*
 * crypto-lite.c - the few libcrypto calls the pipe agent makes, without
 * libcrypto, for replygate-deliver only.
 *
 * The agent needs SHA-256 (the HMAC of lib/address.c and lib/trace.c, the
 * raw message's and the attachments' digests), a constant-time comparison
 * and a memory wipe. Loading libcrypto for them costs every agent process
 * more than its whole message work: about 3.2 million instructions of
 * relocation and start-up (21,000 relocations and its CPU probing), a third
 * of a --dry-run. This file gives the agent the same functions over GLib's
 * SHA-256 instead; programs that link libcrypto (the milter, the LMTP
 * service, the CLI) never link it, and lib/ calls the same names either way,
 * so the HMAC and the comparison are one code path.
 *
 * SHA256_CTX keeps a GChecksum here (in its data words, which this file
 * alone reads), made by SHA256_Init() and freed by SHA256_Final(). GLib's
 * SHA-256 is portable C: about 2.3 ms per MB slower than OpenSSL's on this
 * machine, which only a multi-megabyte reply notices in the pipe door; the
 * LMTP door keeps OpenSSL's.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include <glib.h>

G_STATIC_ASSERT(sizeof(GChecksum *) <= sizeof(((SHA256_CTX *)NULL)->data));

/* crypto_lite_checksum - the GChecksum a context holds */
static GChecksum *
crypto_lite_checksum(const SHA256_CTX *c)
{
    GChecksum *sum;

    memcpy(&sum, c->data, sizeof sum);
    return sum;
}

int
SHA256_Init(SHA256_CTX *c)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);

    memset(c, 0, sizeof *c);
    memcpy(c->data, &sum, sizeof sum);
    return sum != NULL;
}

int
SHA256_Update(SHA256_CTX *c, const void *data, size_t len)
{
    GChecksum *sum = crypto_lite_checksum(c);
    const guchar *p = data;

    if (sum == NULL)
        return 0;
    /* g_checksum_update() takes a gssize: feed very large inputs in parts. */
    while (len > 0) {
        gsize part = MIN(len, (gsize)G_MAXINT32);

        g_checksum_update(sum, p, (gssize)part);
        p += part;
        len -= part;
    }
    return 1;
}

int
SHA256_Final(unsigned char *md, SHA256_CTX *c)
{
    GChecksum *sum = crypto_lite_checksum(c);
    gsize len = SHA256_DIGEST_LENGTH;

    if (sum == NULL)
        return 0;
    g_checksum_get_digest(sum, md, &len);
    g_checksum_free(sum);
    memset(c, 0, sizeof *c);
    return len == SHA256_DIGEST_LENGTH;
}

/* CRYPTO_memcmp - compare in time that depends on len only, never on where
 * the bytes differ (the mac comparisons of lib/address.c and lib/trace.c) */
int
CRYPTO_memcmp(const void *in_a, const void *in_b, size_t len)
{
    const volatile unsigned char *a = in_a;
    const volatile unsigned char *b = in_b;
    unsigned char x = 0;

    for (size_t i = 0; i < len; i++)
        x |= a[i] ^ b[i];
    return x;
}

/* OPENSSL_cleanse - wipe memory in a way the compiler may not drop */
void
OPENSSL_cleanse(void *ptr, size_t len)
{
    explicit_bzero(ptr, len);
}
