/*
 * test-mutations.c - 10,000 random changes of valid reply addresses, every
 * one refused by address_classify() (SPEC section 2).
 *
 * Each case signs an address for a random kind, target and user, checks that
 * the address itself verifies, then changes it at random: one to three edits,
 * each a substituted, inserted, deleted or swapped character, or a change of
 * case combined with another edit. A changed address may only be accepted
 * when it is the same address after all (the edits undid each other, or only
 * the case changed, which SPEC section 2 allows); anything else accepted as
 * a key is a forgery and fails the case with the address it accepted. The
 * generator's seed is fixed, so a failure can be repeated.
 */
#include <string.h>

#include "address.h"
#include "config.h"

#define N_MUTATIONS 10000
#define SEED 20261122

static const char config_text[] = "reply_domain = reply.example.com, reply.example.net\n"
                                  "secrets_file = /nonexistent/secrets\n"
                                  "static_address = support@reply.example.com s 7\n"
                                  "noreply_address = noreply@reply.example.com\n";

/* Characters an edit may put in: those of the address's own alphabet first,
 * so that many changes still look like well-formed keys. */
static const char alphabet[] = "0123456789abcdefABCDEFxyz+-@.reply<> \t\"\\;:,_=%\x01\x7f\xc3\xa9";

/* random_kind - 1 to 4 lower-case letters */
static void
random_kind(GRand *rand, char *out)
{
    int n = g_rand_int_range(rand, 1, 5);

    for (int i = 0; i < n; i++)
        out[i] = (char)('a' + g_rand_int_range(rand, 0, 26));
    out[n] = '\0';
}

/* random_number - 0 to 20 digits' worth, biased towards small numbers */
static guint64
random_number(GRand *rand)
{
    switch (g_rand_int_range(rand, 0, 3)) {
    case 0:
        return (guint64)g_rand_int_range(rand, 1, 100);
    case 1:
        return (guint64)g_rand_int(rand);
    default:
        return ((guint64)g_rand_int(rand) << 32) | g_rand_int(rand);
    }
}

/* mutate - apply one random edit to address in place */
static void
mutate(GRand *rand, GString *address)
{
    gsize pos = address->len > 0 ? (gsize)g_rand_int_range(rand, 0, (gint32)address->len) : 0;
    char c = alphabet[g_rand_int_range(rand, 0, (gint32)sizeof alphabet - 1)];

    switch (g_rand_int_range(rand, 0, 5)) {
    case 0: /* substitute */
        if (address->len > 0)
            address->str[pos] = c;
        break;
    case 1: /* insert */
        g_string_insert_c(address, (gssize)pos, c);
        break;
    case 2: /* delete */
        if (address->len > 0)
            g_string_erase(address, (gssize)pos, 1);
        break;
    case 3: /* swap with the next */
        if (pos + 1 < address->len) {
            char t = address->str[pos];
            address->str[pos] = address->str[pos + 1];
            address->str[pos + 1] = t;
        }
        break;
    default: /* flip the case of one letter, then edit again */
        address->str[pos] = g_ascii_isupper(address->str[pos])
                                ? g_ascii_tolower(address->str[pos])
                                : g_ascii_toupper(address->str[pos]);
        mutate(rand, address);
        break;
    }
}

/* test_mutations - every changed address is refused unless it is the same address */
static void
test_mutations(void)
{
    static const char *const secrets[] = {"mutation-test-secret-never-use-in-production-01", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(Config) config = config_parse(config_text, strlen(config_text), "test.conf", &error);
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GRand) rand = g_rand_new_with_seed(SEED);
    guint accepted_same = 0, refused = 0, failures = 0;

    g_assert_no_error(error);
    ring = keyring_new(secrets, &error);
    g_assert_no_error(error);

    for (guint i = 0; i < N_MUTATIONS; i++) {
        char kind[8];
        guint64 target = random_number(rand), user = random_number(rand);
        g_autofree char *original = NULL;
        g_autoptr(GString) changed = NULL;
        g_autofree char *stripped = NULL;
        ReplyKey key;
        AddressClass klass;
        int edits = g_rand_int_range(rand, 1, 4);

        random_kind(rand, kind);
        original = address_sign(config, ring, kind, target, user, &error);
        g_assert_no_error(error);
        klass = address_classify(config, ring, original, &key, NULL);
        if (klass != ADDRESS_KEY) {
            g_test_message("case %u: the signed address %s is not accepted (%s)", i, original,
                           address_class_name(klass));
            failures++;
            continue;
        }
        changed = g_string_new(original);
        for (int e = 0; e < edits; e++)
            mutate(rand, changed);
        klass = address_classify(config, ring, changed->str, &key, NULL);
        if (klass != ADDRESS_KEY) {
            refused++;
            continue;
        }
        /* Accepted: only right when it is the very same address. */
        stripped = address_strip(changed->str);
        if (stripped != NULL && g_ascii_strcasecmp(stripped, original) == 0) {
            accepted_same++;
            continue;
        }
        g_test_message("case %u: changed address accepted as %s-%" G_GUINT64_FORMAT
                       "-%" G_GUINT64_FORMAT "\n  got:  \"%s\" accepted\n  want: refused "
                       "(original \"%s\")",
                       i, key.kind, key.target, key.user, changed->str, original);
        failures++;
    }
    g_test_message("%u changes refused, %u were the same address in another case or form, "
                   "%u accepted wrongly",
                   refused, accepted_same, failures);
    g_assert_cmpuint(failures, ==, 0);
    g_assert_cmpuint(refused + accepted_same, ==, N_MUTATIONS);
    /* Most edits must change the address; a generator that never does tests nothing. */
    g_assert_cmpuint(refused, >, N_MUTATIONS * 9 / 10);
}

/* test_foreign_mac - a valid mac of one key on another key is refused */
static void
test_foreign_mac(void)
{
    static const char *const secrets[] = {"mutation-test-secret-never-use-in-production-01", NULL};
    static const char *const other[] = {"another-secret-never-use-in-production-0123456", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(Config) config = config_parse(config_text, strlen(config_text), "test.conf", &error);
    g_autoptr(KeyRing) ring = keyring_new(secrets, &error);
    g_autoptr(KeyRing) ring2 = keyring_new(other, &error);
    g_autofree char *a = address_sign(config, ring, "i", 1, 5, &error);
    g_autofree char *b = address_sign(config, ring, "i", 1, 6, &error);
    g_autofree char *c = address_sign(config, ring2, "i", 1, 5, &error);
    g_autofree char *mac_a = g_strndup(strchr(strchr(a, '-') + 1, '-') + 1, 40);
    g_autofree char *mac_b = g_strndup(strchr(strchr(b, '-') + 1, '-') + 1, 40);
    g_autoptr(GString) swapped = g_string_new(b);
    char *at = strstr(swapped->str, mac_b);

    g_assert_no_error(error);
    g_assert_nonnull(at);
    memcpy(at, mac_a, 40); /* key i-1-6 with the mac of i-1-5 */
    g_assert_cmpint(address_classify(config, ring, swapped->str, NULL, NULL), ==, ADDRESS_BAD_KEY);
    /* Signed with a secret that is not in the ring. */
    g_assert_cmpint(address_classify(config, ring, c, NULL, NULL), ==, ADDRESS_BAD_KEY);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/security/address/10000-random-changes-refused", test_mutations);
    g_test_add_func("/security/address/mac-of-another-key-refused", test_foreign_mac);
    return g_test_run();
}
