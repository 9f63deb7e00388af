/*
 * test-testmark.c - the mark of a `replygate test-email` message
 * (lib/testmark.h): a known answer computed with Python's hmac module, a
 * mark verifies, every one-character change of it does not, another
 * secret's mark does not, a rotated secret's still does, and ids that only
 * look like one are refused.
 */
#include <string.h>

#include "testmark.h"
#include "testutil.h"

#define SECRET1 "testmark-secret-one-0123456789abcdefghij"
#define SECRET2 "testmark-secret-two-0123456789abcdefghij"
/* hmac.new(SECRET1, b"replygate-test\0" b"1700000000.0000002a\0" b"mx.example.com",
 * sha256).hexdigest()[:40] */
#define KNOWN                                                                                      \
    "replygate-test.1700000000.0000002a.a1773f29f1d54c5a121b8d6d02c35dfc2219f834@mx.example.com"

/* ring_of - a key ring from one or two secrets */
static KeyRing *
ring_of(const char *first, const char *second)
{
    const char *secrets[] = {first, second, NULL};
    g_autoptr(GError) error = NULL;
    KeyRing *ring = keyring_new(secrets, &error);

    g_assert_no_error(error);
    return ring;
}

/* test_known - minting gives the known answer, and it verifies */
static void
test_known(void)
{
    g_autoptr(KeyRing) ring = ring_of(SECRET1, NULL);
    g_autofree char *id = testmark_message_id(ring, "mx.example.com", 1700000000, 42);

    if (g_strcmp0(id, KNOWN) != 0)
        test_failf("mint: got %s, want %s", id, KNOWN);
    if (!testmark_verify(ring, KNOWN))
        test_failf("verify: the known mark is refused");
}

/* test_changes - every one-character change is refused */
static void
test_changes(void)
{
    g_autoptr(KeyRing) ring = ring_of(SECRET1, NULL);
    gsize n = strlen(KNOWN);

    for (gsize i = strlen(TESTMARK_PREFIX); i < n; i++) {
        g_autofree char *changed = g_strdup(KNOWN);

        changed[i] = changed[i] == 'a' ? 'b' : 'a';
        if (testmark_verify(ring, changed))
            test_failf("a change at %" G_GSIZE_FORMAT " verifies: %s", i, changed);
    }
}

/* test_rings - other secrets, rotation, and ids that only look like marks */
static void
test_rings(void)
{
    g_autoptr(KeyRing) one = ring_of(SECRET1, NULL);
    g_autoptr(KeyRing) two = ring_of(SECRET2, NULL);
    g_autoptr(KeyRing) rotated = ring_of(SECRET2, SECRET1);
    static const char *const bogus[] = {
        "replygate-test.1.2@x",
        "replygate-test..a1773f29f1d54c5a121b8d6d02c35dfc2219f834@mx.example.com",
        "replygate-test.1700000000.0000002a.A1773F29F1D54C5A121B8D6D02C35DFC2219F834@mx.example."
        "com",
        "replygate-test.1700000000.0000002a.a1773f29f1d54c5a121b8d6d02c35dfc2219f834@",
        "replygate-test.1700000000.0000002a.a1773f29f1d54c5a121b8d6d02c35dfc2219f834",
        "abc@example.org",
        "",
    };

    if (testmark_verify(two, KNOWN))
        test_failf("another secret's mark verifies");
    if (!testmark_verify(rotated, KNOWN))
        test_failf("a mark of a secret rotated to second place is refused");
    for (gsize i = 0; i < G_N_ELEMENTS(bogus); i++) {
        if (testmark_verify(one, bogus[i]))
            test_failf("\"%s\" verifies", bogus[i]);
    }
    if (testmark_verify(one, NULL))
        test_failf("NULL verifies");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/testmark/known", test_known);
    g_test_add_func("/testmark/changes", test_changes);
    g_test_add_func("/testmark/rings", test_rings);
    return g_test_run();
}
