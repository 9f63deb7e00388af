/*
 * hmac-glib-shim.c - an experiment for bench/RESULTS.md, not part of any
 * program: answers OpenSSL's HMAC() (SHA-256 only) with GLib's GHmac, so
 * that the agent can be measured without OpenSSL 3's provider start-up and
 * without changing lib/address.c.
 *
 *   cc -O2 -shared -fPIC -o hmac-glib-shim.so bench/hmac-glib-shim.c \
 *       $(pkg-config --cflags --libs glib-2.0)
 *   LD_PRELOAD=$PWD/hmac-glib-shim.so build-bench/bench/bench-exec -n 150 -i MSG -- \
 *       replygate-deliver --dry-run ...
 */
#include <glib.h>

typedef struct evp_md_st EVP_MD;

unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len, const unsigned char *data,
                    size_t data_len, unsigned char *out, unsigned int *out_len);

/* HMAC - HMAC-SHA256 of data with key into out (32 bytes); md is ignored */
unsigned char *
HMAC(const EVP_MD *md, const void *key, int key_len, const unsigned char *data, size_t data_len,
     unsigned char *out, unsigned int *out_len)
{
    GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, key, (gsize)key_len);
    gsize len = 32;

    (void)md;
    g_hmac_update(hmac, data, (gssize)data_len);
    g_hmac_get_digest(hmac, out, &len);
    g_hmac_unref(hmac);
    if (out_len != NULL)
        *out_len = (unsigned int)len;
    return out;
}
