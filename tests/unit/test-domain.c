/*
 * test-domain.c - domains folded as Postfix folds them under SMTPUTF8
 * (lib/domain.c), and reply domains and addresses judged on that form.
 */
#include <string.h>

#include "address.h"
#include "config.h"
#include "domain.h"
#include "testutil.h"

/* test_fold - domain_fold() on ASCII, case folding, IDNA and junk */
static void
test_fold(void)
{
    static const struct {
        const char *label;
        const char *in;
        const char *want;
    } cases[] = {
        {"ASCII lower case stays", "reply.slack.com", "reply.slack.com"},
        {"ASCII upper case folds", "REPLY.Slack.COM", "reply.slack.com"},
        {"long s (U+017F) folds to s", "reply.\xc5\xbflack.com", "reply.slack.com"},
        {"Kelvin sign (U+212A) folds to k", "reply.slac\xe2\x84\xaa.com", "reply.slack.com"},
        {"capital long s and Kelvin together", "REPLY.\xc5\xbfLAC\xe2\x84\xaa.COM",
         "reply.slack.com"},
        {"U-label becomes its A-label",
         "b\xc3\xbc"
         "cher.example",
         "xn--bcher-kva.example"},
        {"upper-case U-label too",
         "B\xc3\x9c"
         "CHER.example",
         "xn--bcher-kva.example"},
        {"A-label stays", "XN--BCHER-KVA.example", "xn--bcher-kva.example"},
        {"empty", "", ""},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = domain_fold(cases[i].in);

        if (strcmp(got, cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label, got, cases[i].want);
    }
    {
        /* Invalid UTF-8 must neither crash nor match anything ASCII. */
        g_autofree char *got = domain_fold("reply.\xff\xfe.com");
        if (strcmp(got, "reply.slack.com") == 0 || strcmp(got, "reply..com") == 0)
            test_failf("invalid UTF-8 folded to \"%s\"", got);
    }
}

/* test_reply_domain - config_is_reply_domain() and address_classify() agree with Postfix */
static void
test_reply_domain(void)
{
    const char *text = "reply_domain = reply.slack.com, xn--bcher-kva.example\n"
                       "noreply_address = noreply@reply.slack.com\n";
    const char *secrets[] = {"domain-test-secret-0123456789abcdef0123", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(Config) config = config_parse(text, strlen(text), "t.conf", &error);
    g_autoptr(KeyRing) ring = keyring_new(secrets, &error);
    static const struct {
        const char *label;
        const char *address;
        AddressClass want;
    } cases[] = {
        {"dedicated, ASCII", "reply@reply.slack.com", ADDRESS_DEDICATED},
        {"dedicated, long s", "reply@reply.\xc5\xbflack.com", ADDRESS_DEDICATED},
        {"dedicated, Kelvin sign", "reply@reply.slac\xe2\x84\xaa.com", ADDRESS_DEDICATED},
        {"bad key, long s: refused, not foreign", "reply+i-1-0000-5@reply.\xc5\xbflack.com",
         ADDRESS_MALFORMED},
        {"no-reply, Kelvin sign", "noreply@reply.slac\xe2\x84\xaa.com", ADDRESS_NOREPLY},
        {"U-label of a configured A-label",
         "reply@b\xc3\xbc"
         "cher.example",
         ADDRESS_DEDICATED},
        {"another domain stays foreign",
         "reply@reply.sl\xc3\xa4"
         "ck.com",
         ADDRESS_FOREIGN},
        {"ASCII foreign", "bob@example.org", ADDRESS_FOREIGN},
    };

    g_assert_no_error(error);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        AddressClass got = address_classify(config, ring, cases[i].address, NULL, NULL);

        if (got != cases[i].want)
            test_failf("%s: got %s, want %s", cases[i].label, address_class_name(got),
                       address_class_name(cases[i].want));
    }
    if (!config_is_reply_domain(config, "REPLY.\xc5\xbfLACK.COM"))
        test_failf("config_is_reply_domain: REPLY.<long s>LACK.COM is not a reply domain");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain/fold", test_fold);
    g_test_add_func("/domain/reply-domain", test_reply_domain);
    return g_test_run();
}
