/*
 * fuzz-address.c - libFuzzer target: the reply address parser.
 *
 * The input is one address. address_classify() must never crash, and it
 * must never call an address a verified key unless signing that key gives
 * back the same address (up to case and angle brackets): a fuzzer that
 * forges a mac is a failure too.
 */
#include <glib.h>

#include "fuzz-common.h"

/* LLVMFuzzerTestOneInput - one address */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *address = g_strndup((const char *)data, size);
    g_autofree char *stripped = NULL;
    ReplyKey key;
    const char *reason = NULL;
    AddressClass klass;

    fuzz_setup();
    memset(&key, 0, sizeof key);
    klass = address_classify(fuzz_config, fuzz_ring, address, &key, &reason);
    if (address_class_name(klass) == NULL)
        abort();
    stripped = address_strip(address);
    if (klass == ADDRESS_KEY) {
        g_autofree char *signed_address = address_sign(fuzz_config, fuzz_ring, key.kind,
                                                       key.target, key.user, NULL);
        g_autofree char *lower = g_ascii_strdown(stripped, -1);
        g_autofree char *local = g_strndup(lower, strcspn(lower, "@"));

        /* The domain may be any reply domain; the local part must be what we sign. */
        if (signed_address == NULL || strncmp(signed_address, local, strlen(local)) != 0 ||
            signed_address[strlen(local)] != '@')
            abort();
    }
    return 0;
}
