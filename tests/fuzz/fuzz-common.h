/*
 * fuzz-common.h - what every libFuzzer target shares: one configuration and
 * key ring built once per process from fixed test text, the same shape as
 * the hostile corpus's (reply.example.com, a 40-byte test secret, a static
 * address and a noreply address).
 */
#ifndef RG_FUZZ_COMMON_H
#define RG_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config.h"

#define FUZZ_SECRET "fuzz-test-secret-never-use-in-production-0123"

static const char fuzz_config_text[] =
    "reply_domain = reply.example.com, reply.example.net\n"
    "secrets_file = /nonexistent/secrets\n"
    "static_address = support@reply.example.com s 7\n"
    "noreply_address = noreply@reply.example.com\n";

static Config *fuzz_config;
static KeyRing *fuzz_ring;

/* fuzz_setup - the configuration and key ring, made on the first call */
static void
fuzz_setup(void)
{
    static const char *const secrets[] = {FUZZ_SECRET, NULL};
    GError *error = NULL;

    if (fuzz_config != NULL)
        return;
    fuzz_config = config_parse(fuzz_config_text, strlen(fuzz_config_text), "fuzz.conf", &error);
    if (fuzz_config != NULL)
        fuzz_ring = keyring_new(secrets, &error);
    if (fuzz_ring == NULL)
        abort(); /* the harness itself is broken */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
