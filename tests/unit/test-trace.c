/*
 * test-trace.c - the signed X-Replygate-TLS trace header (lib/trace.h).
 *
 * Table-driven: each case has a label, a header value (or a way to make one)
 * and what verification must say. Covered: sign then verify, a known answer
 * from `openssl dgst -sha256 -hmac` over the NUL-separated canonical form,
 * every one-character change of the value refused, a wrong queue id, rotated
 * secrets (the second verifies while the first signs), and malformed values.
 */
#include <string.h>

#include "trace.h"
#include "testutil.h"

#define SECRET1 "trace-test-secret-one-0123456789abcdefghij"
#define SECRET2 "trace-test-secret-two-0123456789abcdefghij"
#define QID "4F2A21041E3"
#define VERSION "TLSv1.3"
#define CIPHER "TLS_AES_256_GCM_SHA384"

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

/* test_roundtrip - what is signed verifies, with its fields back */
static void
test_roundtrip(void)
{
    g_autoptr(KeyRing) ring = ring_of(SECRET1, NULL);
    const struct {
        const char *label, *version, *cipher;
        int bits;
        const char *want_version, *want_cipher;
        int want_bits;
    } cases[] = {
        {"full", VERSION, CIPHER, 256, VERSION, CIPHER, 256},
        {"no cipher", "TLSv1.2", NULL, 0, "TLSv1.2", NULL, 0},
        {"hostile macro text reduced", "TLSv1.3;x=1", "A B\r\n", 128, "TLSv1.3_x_1", "A_B__", 128},
        {"negative bits as 0", VERSION, CIPHER, -5, VERSION, CIPHER, 0},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *value =
            trace_header_value(ring, QID, cases[i].version, cases[i].cipher, cases[i].bits);
        g_autofree char *version = NULL;
        g_autofree char *cipher = NULL;
        int bits = -1;
        const char *reason = NULL;

        if (value == NULL) {
            test_failf("%s: trace_header_value got NULL, want a value", cases[i].label);
            continue;
        }
        if (!trace_header_verify(ring, value, QID, &version, &cipher, &bits, &reason)) {
            test_failf("%s: \"%s\" refused (%s), want it verified", cases[i].label, value, reason);
            continue;
        }
        if (g_strcmp0(version, cases[i].want_version) != 0 ||
            g_strcmp0(cipher, cases[i].want_cipher) != 0 || bits != cases[i].want_bits)
            test_failf("%s: got %s/%s/%d, want %s/%s/%d", cases[i].label, version, cipher, bits,
                       cases[i].want_version, cases[i].want_cipher, cases[i].want_bits);
    }
}

/* test_no_value - nothing to sign without a version or a usable queue id */
static void
test_no_value(void)
{
    g_autoptr(KeyRing) ring = ring_of(SECRET1, NULL);
    const struct {
        const char *label, *queue_id, *version;
    } cases[] = {
        {"no version", QID, NULL},
        {"empty version", QID, ""},
        {"no queue id", NULL, VERSION},
        {"empty queue id", "", VERSION},
        {"queue id with a ';'", "4F2;queue=X", VERSION},
        {"queue id with a space", "4F2 A", VERSION},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *value =
            trace_header_value(ring, cases[i].queue_id, cases[i].version, CIPHER, 256);

        if (value != NULL)
            test_failf("%s: got \"%s\", want NULL", cases[i].label, value);
    }
}

/* test_known_answer - the mac is HMAC-SHA256 over the NUL-separated form, per openssl */
static void
test_known_answer(void)
{
    g_autoptr(KeyRing) ring = ring_of(SECRET1, NULL);
    g_autofree char *value = trace_header_value(ring, QID, VERSION, CIPHER, 256);
    g_autofree char *cmd = g_strdup_printf(
        "sh -c \"printf 'X-Replygate-TLS\\\\0%%s\\\\0%%s\\\\0%%s\\\\0%%s' %s %s %s %d | "
        "openssl dgst -sha256 -hmac '%s' | sed 's/.*= //' | cut -c1-40\"",
        QID, VERSION, CIPHER, 256, SECRET1);
    g_autofree char *out = NULL;
    g_autofree char *want = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, &error));
    g_assert_no_error(error);
    g_strstrip(out);
    if (strlen(out) != TRACE_MAC_HEX)
        test_failf("openssl printed \"%s\", want 40 hex digits", out);
    want = g_strdup_printf("version=%s; cipher=%s; bits=256; queue=%s; mac=%s", VERSION, CIPHER,
                           QID, out);
    if (g_strcmp0(value, want) != 0)
        test_failf("known answer: got \"%s\", want \"%s\"", value, want);
}

/* test_tampered - every one-character change of a signed value is refused */
static void
test_tampered(void)
{
    g_autoptr(KeyRing) ring = ring_of(SECRET1, NULL);
    g_autofree char *value = trace_header_value(ring, QID, VERSION, CIPHER, 256);
    gsize len = strlen(value);
    guint refused = 0;

    for (gsize i = 0; i < len; i++) {
        const char repl[] = {'0', '1', 'a', 'Z', ';', ' ', '='};

        for (gsize r = 0; r < G_N_ELEMENTS(repl); r++) {
            g_autofree char *bad = g_strdup(value);
            g_autofree char *version = NULL;

            if (g_ascii_tolower(bad[i]) == g_ascii_tolower(repl[r]))
                continue;
            /* white space next to ';' is folding, not a change of content */
            if (repl[r] == ' ' && (bad[i] == ' ' || (i > 0 && bad[i - 1] == ';') ||
                                   bad[i + 1] == ';' || bad[i + 1] == ' '))
                continue;
            bad[i] = repl[r];
            if (trace_header_verify(ring, bad, QID, &version, NULL, NULL, NULL))
                test_failf("changed at %zu to '%c': \"%s\" verified, want refused", i, repl[r],
                           bad);
            else
                refused++;
        }
    }
    if (refused < len)
        test_failf("only %u changes tried over %zu characters", refused, len);
}

/* test_refused - wrong queue id, wrong secret, malformed values */
static void
test_refused(void)
{
    g_autoptr(KeyRing) ring = ring_of(SECRET1, NULL);
    g_autoptr(KeyRing) other = ring_of(SECRET2, NULL);
    g_autofree char *good = trace_header_value(ring, QID, VERSION, CIPHER, 256);
    g_autofree char *foreign = trace_header_value(other, QID, VERSION, CIPHER, 256);
    g_autofree char *mac = g_strdup(strstr(good, "mac=") + 4);
    g_autofree char *upper = g_ascii_strup(mac, -1);
    g_autofree char *no_queue =
        g_strdup_printf("version=%s; cipher=%s; bits=256; mac=%s", VERSION, CIPHER, mac);
    g_autofree char *extra = g_strdup_printf("%s; x=1", good);
    g_autofree char *trailing = g_strdup_printf("%s;", good);
    g_autofree char *reordered = g_strdup_printf(
        "cipher=%s; version=%s; bits=256; queue=%s; mac=%s", CIPHER, VERSION, QID, mac);
    g_autofree char *lead_zero = g_strdup_printf(
        "version=%s; cipher=%s; bits=0256; queue=%s; mac=%s", VERSION, CIPHER, QID, mac);
    g_autofree char *short_mac = g_strndup(good, strlen(good) - 1);
    g_autofree char *long_mac = g_strdup_printf("%s0", good);
    g_autofree char *space_in = g_strdup_printf(
        "version=%s; cipher=%s; bits=256; queue=%s; mac= %s", VERSION, CIPHER, QID, mac);
    g_autofree char *forged =
        g_strdup_printf("version=TLSv9.9; cipher=FORGED; bits=4096; queue=%s; mac=%s", QID, mac);
    g_autofree char *folded = g_strdup_printf(
        "version=%s;\r\n\tcipher=%s; bits=256;\r\n queue=%s; mac=%s", VERSION, CIPHER, QID, upper);
    const struct {
        const char *label, *value, *queue_id;
        gboolean want;
        const char *want_reason; /* a substring, or NULL */
    } cases[] = {
        {"good", good, QID, TRUE, NULL},
        {"good, upper-case mac",
         g_strdup_printf("version=%s; cipher=%s; bits=256; queue=%s; mac=%s", VERSION, CIPHER, QID,
                         upper),
         QID, TRUE, NULL},
        {"good, folded by a relay", folded, QID, TRUE, NULL},
        {"wrong queue id", good, "4F2A21041E4", FALSE, "queue id differs"},
        {"queue id a prefix", good, "4F2A21041E", FALSE, "queue id differs"},
        {"no queue id to check", good, NULL, FALSE, "no queue id"},
        {"signed with a secret not in the ring", foreign, QID, FALSE, "mac"},
        {"the old unsigned form", "version=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; bits=256", QID,
         FALSE, "parameters"},
        {"forged fields, mac of the real ones", forged, QID, FALSE, "mac does not verify"},
        {"no queue parameter", no_queue, QID, FALSE, "parameters"},
        {"extra parameter", extra, QID, FALSE, "parameters"},
        {"trailing ';'", trailing, QID, FALSE, "parameters"},
        {"reordered", reordered, QID, FALSE, "parameters"},
        {"bits with a leading zero", lead_zero, QID, FALSE, "bits"},
        {"mac one digit short", short_mac, QID, FALSE, "mac"},
        {"mac one digit long", long_mac, QID, FALSE, "mac"},
        {"space inside a parameter", space_in, QID, FALSE, NULL},
        {"empty", "", QID, FALSE, NULL},
        {"NULL", NULL, QID, FALSE, "no header"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *version = NULL;
        g_autofree char *cipher = NULL;
        int bits = 0;
        const char *reason = NULL;
        gboolean got = trace_header_verify(ring, cases[i].value, cases[i].queue_id, &version,
                                           &cipher, &bits, &reason);

        if (got != cases[i].want)
            test_failf("%s: \"%s\": got %s (%s), want %s", cases[i].label, cases[i].value,
                       got ? "verified" : "refused", reason != NULL ? reason : "-",
                       cases[i].want ? "verified" : "refused");
        else if (!got && (version != NULL || cipher != NULL))
            test_failf("%s: refused but fields were set", cases[i].label);
        else if (!got && cases[i].want_reason != NULL &&
                 (reason == NULL || strstr(reason, cases[i].want_reason) == NULL))
            test_failf("%s: reason got \"%s\", want it to hold \"%s\"", cases[i].label, reason,
                       cases[i].want_reason);
        else if (got && (g_strcmp0(version, VERSION) != 0 || g_strcmp0(cipher, CIPHER) != 0 ||
                         bits != 256))
            test_failf("%s: fields got %s/%s/%d", cases[i].label, version, cipher, bits);
    }
    g_free((char *)cases[1].value);
}

/* test_rotation - the first secret signs, every secret verifies */
static void
test_rotation(void)
{
    g_autoptr(KeyRing) old_ring = ring_of(SECRET1, NULL);
    g_autoptr(KeyRing) rotated = ring_of(SECRET2, SECRET1);
    g_autoptr(KeyRing) new_only = ring_of(SECRET2, NULL);
    g_autofree char *old_value = trace_header_value(old_ring, QID, VERSION, CIPHER, 256);
    g_autofree char *new_value = trace_header_value(rotated, QID, VERSION, CIPHER, 256);
    const struct {
        const char *label;
        const KeyRing *ring;
        const char *value;
        gboolean want;
    } cases[] = {
        {"old secret's header, rotated ring", rotated, old_value, TRUE},
        {"new secret's header, rotated ring", rotated, new_value, TRUE},
        {"new secret's header, old ring", old_ring, new_value, FALSE},
        {"old secret's header, old secret removed", new_only, old_value, FALSE},
        {"rotated ring signs with the new secret", new_only, new_value, TRUE},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gboolean got =
            trace_header_verify(cases[i].ring, cases[i].value, QID, NULL, NULL, NULL, NULL);

        if (got != cases[i].want)
            test_failf("%s: got %s, want %s", cases[i].label, got ? "verified" : "refused",
                       cases[i].want ? "verified" : "refused");
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/trace/roundtrip", test_roundtrip);
    g_test_add_func("/trace/no-value", test_no_value);
    g_test_add_func("/trace/known-answer", test_known_answer);
    g_test_add_func("/trace/tampered", test_tampered);
    g_test_add_func("/trace/refused", test_refused);
    g_test_add_func("/trace/rotation", test_rotation);
    return g_test_run();
}
