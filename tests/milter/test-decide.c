/*
 * test-decide.c - the milter's pure decisions (milter/decide.c), table-driven:
 * the answer to each kind of recipient with and without TLS, the dedicated
 * address without a key, the header deletion plan, the trace header, and
 * reply text made safe for libmilter.
 */
#include <string.h>

#include "decide.h"
#include "../unit/testutil.h"

#define SECRET "decide-test-secret-0123456789abcdef0123"
/* 60 bytes; five of them and "@x" make an address longer than 256 bytes */
#define LONG_LOCAL "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz01234567"
/* what is left of the fifth after 256 - 3 bytes */
#define LONG_LOCAL_CUT "abcdefghijklm"

/* test_config - a configuration like the milter suite's */
static Config *
test_config(const char *extra)
{
    g_autofree char *text = g_strdup_printf("reply_domain = reply.example.com\n"
                                            "noreply_address = noreply@reply.example.com\n"
                                            "static_address = support@reply.example.com s 7\n"
                                            "%s",
                                            extra);
    g_autoptr(GError) error = NULL;
    Config *config = config_parse(text, strlen(text), "test.conf", &error);

    g_assert_no_error(error);
    return config;
}

/* signed_address - reply+<kind>-<target>-<mac>-<user>@reply.example.com */
static char *
signed_address(const KeyRing *ring, const char *kind, guint64 target, guint64 user)
{
    char mac[ADDRESS_MAC_HEX + 1];

    address_mac(g_ptr_array_index(ring->secrets, 0), kind, target, user, mac);
    return g_strdup_printf("reply+%s-%" G_GUINT64_FORMAT "-%s-%" G_GUINT64_FORMAT
                           "@reply.example.com",
                           kind, target, mac, user);
}

/* action_name - a word for an RcptAction, for failure messages */
static const char *
action_name(RcptAction action)
{
    static const char *const names[] = {"foreign", "accept", "noreply", "need-tls", "unknown"};

    return names[action];
}

/* test_rcpt - every kind of recipient, with and without TLS */
static void
test_rcpt(void)
{
    const char *secrets[] = {SECRET, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(KeyRing) ring = keyring_new(secrets, &error);
    g_autoptr(Config) config = test_config("");
    g_autoptr(Config) relaxed = test_config("require_tls = no\n");
    g_autofree char *key = signed_address(ring, "i", 1, 5);
    g_autofree char *upper = g_ascii_strup(key, -1);
    g_autofree char *bracketed = g_strdup_printf("<%s>", key);
    g_autofree char *tampered = g_strdup(key);
    /* SPEC section 3 item 9: the unique Message-ID form of a notification. */
    g_autofree char *unique =
        address_message_id(config, ring, "i", 1, 5, "20261206T120000Z.8f3a", NULL);
    g_autofree char *unique_upper = g_ascii_strup(unique, -1);
    g_autofree char *unique_bad =
        g_strdup_printf("%.*s.a+b@reply.example.com", (int)(strchr(key, '@') - key), key);
    struct {
        const char *label;
        const Config *config;
        const char *rcpt;
        const char *tls;
        RcptAction want;
    } cases[] = {
        {"key over TLSv1.3", config, key, "TLSv1.3", RCPT_ACCEPT},
        {"key over TLSv1.2 (the minimum)", config, key, "TLSv1.2", RCPT_ACCEPT},
        {"key in angle brackets", config, bracketed, "TLSv1.3", RCPT_ACCEPT},
        {"key upper-cased", config, upper, "TLSv1.3", RCPT_ACCEPT},
        {"key without TLS", config, key, NULL, RCPT_NEED_TLS},
        {"key with empty tls_version", config, key, "", RCPT_NEED_TLS},
        {"key over TLSv1", config, key, "TLSv1", RCPT_NEED_TLS},
        {"key over TLSv1.1", config, key, "TLSv1.1", RCPT_NEED_TLS},
        {"key over an unknown version", config, key, "TLSv9", RCPT_NEED_TLS},
        {"tampered key over TLS", config, tampered, "TLSv1.3", RCPT_UNKNOWN},
        {"unique Message-ID form over TLS", config, unique, "TLSv1.3", RCPT_ACCEPT},
        {"unique Message-ID form upper-cased", config, unique_upper, "TLSv1.3", RCPT_ACCEPT},
        {"unique Message-ID form without TLS", config, unique, NULL, RCPT_NEED_TLS},
        {"unique form with a bad suffix", config, unique_bad, "TLSv1.3", RCPT_UNKNOWN},
        {"tampered key without TLS: TLS first", config, tampered, NULL, RCPT_NEED_TLS},
        /* Postfix routes user@domain. to domain: not foreign, judged as usual. */
        {"tampered key, trailing dot", config,
         "<reply+i-1-0000000000000000000000000000000000000000-5@reply.example.com.>", "TLSv1.3",
         RCPT_UNKNOWN},
        {"dedicated, trailing dot, without TLS", config, "<reply@reply.example.com.>", NULL,
         RCPT_NEED_TLS},
        /* Postfix resolves these into the reply domain when the host is its own. */
        {"percent hack into a reply domain", config, "<reply+x%reply.example.com@mx.example.org>",
         "TLSv1.3", RCPT_UNKNOWN},
        {"bang path into a reply domain, without TLS", config,
         "<reply.example.com!reply+x@mx.example.org>", NULL, RCPT_NEED_TLS},
        {"quoted @ into a reply domain", config, "<\"reply+x@reply.example.com\"@mx.example.org>",
         "TLSv1.3", RCPT_UNKNOWN},
        {"tampered key, comment after the domain", config,
         "<reply+i-1-0000000000000000000000000000000000000000-5@reply.example.com(c)>", "TLSv1.3",
         RCPT_UNKNOWN},
        {"key form, white space before '>', without TLS", config, "<reply+x@reply.example.com >",
         NULL, RCPT_NEED_TLS},
        {"malformed key", config, "reply+i-01-abc-5@reply.example.com", "TLSv1.3", RCPT_UNKNOWN},
        {"other local part", config, "someone@reply.example.com", "TLSv1.3", RCPT_UNKNOWN},
        {"dedicated", config, "reply@reply.example.com", "TLSv1.3", RCPT_ACCEPT},
        {"dedicated upper-cased", config, "REPLY@REPLY.EXAMPLE.COM", "TLSv1.3", RCPT_ACCEPT},
        {"static", config, "support@reply.example.com", "TLSv1.3", RCPT_ACCEPT},
        {"no-reply", config, "noreply@reply.example.com", "TLSv1.3", RCPT_NOREPLY},
        {"no-reply without TLS", config, "noreply@reply.example.com", NULL, RCPT_NEED_TLS},
        {"foreign without TLS", config, "alice@example.net", NULL, RCPT_FOREIGN},
        {"foreign key form", config, "reply+i-1-5@example.com", NULL, RCPT_FOREIGN},
        {"require_tls = no: key in plain text", relaxed, key, NULL, RCPT_ACCEPT},
        {"require_tls = no: tampered in plain text", relaxed, tampered, NULL, RCPT_UNKNOWN},
    };

    g_assert_no_error(error);
    /* The mac's first digit changed. */
    {
        char *mac = strchr(tampered, '-') + 1;
        mac = strchr(mac, '-') + 1;
        *mac = *mac == '0' ? '1' : '0';
    }
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        RcptDecision got = decide_rcpt(cases[i].config, ring, cases[i].rcpt, cases[i].tls);
        if (got.action != cases[i].want)
            test_failf("%s: %s: got %s, want %s", cases[i].label, cases[i].rcpt,
                       action_name(got.action), action_name(cases[i].want));
    }
}

/* test_texts - reply texts, the trace header, text made safe for libmilter */
static void
test_texts(void)
{
    struct {
        const char *label;
        char *got;
        const char *want;
    } cases[] = {
        {"unknown", decide_unknown_text("<reply+i-1-x-5@reply.example.com>"),
         "<reply+i-1-x-5@reply.example.com>: Recipient address rejected: unknown or expired "
         "reply address"},
        {"unknown, long address cut to 256 bytes",
         decide_unknown_text("<" LONG_LOCAL LONG_LOCAL LONG_LOCAL LONG_LOCAL LONG_LOCAL "@x>"),
         "<" LONG_LOCAL LONG_LOCAL LONG_LOCAL LONG_LOCAL LONG_LOCAL_CUT
         "...>: Recipient address rejected: unknown or expired reply address"},
        {"keyless", decide_keyless_text("<reply@reply.example.com>"),
         "<reply@reply.example.com>: Recipient address rejected: no reply key in the message"},
        {"auto-submitted", decide_autosubmit_text("Auto-Submitted: auto-replied"),
         "Auto-submitted message refused (Auto-Submitted: auto-replied)"},
        {"reply text: percent doubled", decide_reply_text("<a%b@x>: rejected"),
         "<a%%b@x>: rejected"},
        {"reply text: CR LF and 8-bit replaced", decide_reply_text("a\r\nb\xc3\xa9"), "a??b??"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        if (g_strcmp0(cases[i].got, cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label,
                       cases[i].got ? cases[i].got : "(null)",
                       cases[i].want ? cases[i].want : "(null)");
        g_free(cases[i].got);
    }
}

/* test_deletions - the X-Replygate-* deletion plan */
static void
test_deletions(void)
{
    struct {
        const char *label;
        const char *names[8];
        const char *want; /* "name:index ..." in the order to apply */
    } cases[] = {
        {"none", {"From", "Subject", NULL}, ""},
        {"one", {"From", "X-Replygate-TLS", NULL}, "X-Replygate-TLS:1"},
        {"three of one name, any case, highest first",
         {"X-Replygate-TLS", "Received", "x-replygate-tls", "X-REPLYGATE-TLS", NULL},
         "X-Replygate-TLS:3 X-Replygate-TLS:2 X-Replygate-TLS:1"},
        {"two names",
         {"X-Replygate-Key", "X-Replygate-TLS", "X-Replygate-Key", NULL},
         "X-Replygate-Key:2 X-Replygate-Key:1 X-Replygate-TLS:1"},
        {"the bare prefix and look-alikes are not ours",
         {"X-Replygate-", "X-Replygate", "X-Replygater", "X-Reply-Gate-TLS", NULL},
         ""},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gsize n = 0;
        g_autoptr(GArray) plan = NULL;
        g_autoptr(GString) got = g_string_new(NULL);

        while (cases[i].names[n] != NULL)
            n++;
        plan = decide_header_deletions(cases[i].names, n);
        for (guint j = 0; j < plan->len; j++) {
            HeaderDeletion *d = &g_array_index(plan, HeaderDeletion, j);
            g_string_append_printf(got, "%s%s:%d", j ? " " : "", d->name, d->index);
        }
        if (strcmp(got->str, cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label, got->str, cases[i].want);
    }
}

/* keyless_name - a word for a KeylessAction, for failure messages */
static const char *
keyless_name(KeylessAction action)
{
    static const char *const names[] = {"none", "drop", "reject"};

    return names[action];
}

/* test_keyless - the bare dedicated address: the agent's key lookup over the
 * headers decides between going on, dropping it and refusing the message */
static void
test_keyless(void)
{
    const char *secrets[] = {SECRET, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(KeyRing) ring = keyring_new(secrets, &error);
    g_autoptr(Config) config = test_config("");
    g_autofree char *key = signed_address(ring, "i", 1, 5);
    g_autofree char *key_id = g_strdup_printf("<thread-1@example.com> <%s>", key);
    g_autofree char *received =
        g_strdup_printf("from a.example.org by mx.example.org for <%s>; Sun, 22 Nov 2026", key);
    g_autofree char *tampered = g_strdup(key);
    /* SPEC section 3 item 9: the unique Message-ID form of a notification. */
    g_autofree char *unique =
        address_message_id(config, ring, "i", 1, 5, "20261206T120000Z.8f3a", NULL);
    g_autofree char *unique_upper = g_ascii_strup(unique, -1);
    g_autofree char *unique_bad =
        g_strdup_printf("%.*s.a+b@reply.example.com", (int)(strchr(key, '@') - key), key);
    g_autofree char *unique_refs = g_strdup_printf("<thread-1@example.com>\r\n <%s>", unique);
    g_autofree char *unique_upper_id = g_strdup_printf("<%s>", unique_upper);
    g_autofree char *unique_bad_id = g_strdup_printf("<%s>", unique_bad);
    g_autofree char *quoted_refs =
        g_strdup_printf("\"<thread-1@example.com>,<%s>,<x@y.example>\"", unique);
    g_autofree char *tampered_id = NULL;
    const char *ded = "<reply@reply.example.com>";
    const char *ded_upper = "<REPLY@REPLY.EXAMPLE.COM>";
    struct {
        const char *label;
        const char *dedicated[3]; /* NULL-terminated */
        guint n_rcpts;
        const char *headers[8]; /* name, value, ..., NULL */
        KeylessAction want;
        const char *want_keyless; /* space-separated */
    } cases[] = {
        {"key in References",
         {ded},
         1,
         {"To", ded + 1, "References", key_id, NULL},
         KEYLESS_NONE,
         ""},
        {"key in In-Reply-To",
         {ded},
         1,
         {"To", ded + 1, "In-Reply-To", key_id + 23, NULL},
         KEYLESS_NONE,
         ""},
        {"unique Message-ID form in References",
         {ded},
         1,
         {"To", ded + 1, "References", unique_refs, NULL},
         KEYLESS_NONE,
         ""},
        {"unique Message-ID form upper-cased in In-Reply-To",
         {ded},
         1,
         {"To", ded + 1, "In-Reply-To", unique_upper_id, NULL},
         KEYLESS_NONE,
         ""},
        {"References as one quoted string (Exchange, iOS)",
         {ded},
         1,
         {"To", ded + 1, "References", quoted_refs, NULL},
         KEYLESS_NONE,
         ""},
        {"unique form with a bad suffix: refused",
         {ded},
         1,
         {"To", ded + 1, "In-Reply-To", unique_bad_id, NULL},
         KEYLESS_REJECT,
         ded},
        {"key in X-Forwarded-To", {ded}, 1, {"X-Forwarded-To", key, NULL}, KEYLESS_NONE, ""},
        {"key in To beside the dedicated address",
         {ded},
         1,
         {"To", key, "Cc", ded + 1, NULL},
         KEYLESS_NONE,
         ""},
        {"key in a Received for clause", {ded}, 1, {"Received", received, NULL}, KEYLESS_NONE, ""},
        {"static address in Cc",
         {ded},
         1,
         {"To", ded + 1, "Cc", "support@reply.example.com", NULL},
         KEYLESS_NONE,
         ""},
        {"no dedicated recipient", {NULL}, 1, {"To", key, NULL}, KEYLESS_NONE, ""},
        {"no key anywhere: refused",
         {ded},
         1,
         {"To", ded + 1, "References", "<thread-1@example.com>", NULL},
         KEYLESS_REJECT,
         ded},
        {"no headers at all: refused", {ded}, 1, {NULL}, KEYLESS_REJECT, ded},
        {"tampered key in References: refused",
         {ded},
         1,
         {"To", ded + 1, "References", "(set below)", NULL},
         KEYLESS_REJECT,
         ded},
        {"the no-reply address in References is no key",
         {ded},
         1,
         {"References", "<noreply@reply.example.com>", NULL},
         KEYLESS_REJECT,
         ded},
        {"key form of a foreign domain: refused",
         {ded},
         1,
         {"References", "<reply+i-1-5@example.com>", NULL},
         KEYLESS_REJECT,
         ded},
        {"twice, any case, nothing else: refused",
         {ded, ded_upper},
         2,
         {"To", ded + 1, NULL},
         KEYLESS_REJECT,
         "<reply@reply.example.com> <REPLY@REPLY.EXAMPLE.COM>"},
        {"beside a key recipient: dropped", {ded}, 2, {"To", ded + 1, NULL}, KEYLESS_DROP, ded},
        {"beside a foreign recipient: dropped",
         {ded},
         2,
         {"To", "alice@example.net", NULL},
         KEYLESS_DROP,
         ded},
        {"beside a no-reply recipient: dropped (the no-reply rule discards)",
         {ded},
         2,
         {"To", ded + 1, NULL},
         KEYLESS_DROP,
         ded},
    };

    g_assert_no_error(error);
    /* The mac's first digit changed, as a message id in References. */
    {
        char *mac = strchr(tampered, '-') + 1;
        mac = strchr(mac, '-') + 1;
        *mac = *mac == '0' ? '1' : '0';
        tampered_id = g_strdup_printf("<%s>", tampered);
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
            for (gsize j = 0; cases[i].headers[j] != NULL; j++)
                if (strcmp(cases[i].headers[j], "(set below)") == 0)
                    cases[i].headers[j] = tampered_id;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        HeaderField fields[4];
        gsize n_fields = 0, n_dedicated = 0;
        g_autoptr(GPtrArray) keyless = g_ptr_array_new();
        g_autoptr(GString) got = g_string_new(NULL);
        KeylessAction action;

        while (cases[i].headers[2 * n_fields] != NULL) {
            fields[n_fields].name = cases[i].headers[2 * n_fields];
            fields[n_fields].value = cases[i].headers[2 * n_fields + 1];
            n_fields++;
        }
        while (cases[i].dedicated[n_dedicated] != NULL)
            n_dedicated++;
        action = decide_keyless(config, ring, cases[i].dedicated, n_dedicated, cases[i].n_rcpts,
                                fields, n_fields, keyless);
        for (guint j = 0; j < keyless->len; j++)
            g_string_append_printf(got, "%s%s", j ? " " : "",
                                   (const char *)g_ptr_array_index(keyless, j));
        if (action != cases[i].want || strcmp(got->str, cases[i].want_keyless) != 0)
            test_failf("%s: got %s [%s], want %s [%s]", cases[i].label, keyless_name(action),
                       got->str, keyless_name(cases[i].want), cases[i].want_keyless);
    }
}

/* test_autosubmit - reject or discard by auto_submitted_action, with the reason */
static void
test_autosubmit(void)
{
    g_autoptr(Config) reject = test_config("");
    g_autoptr(Config) discard = test_config("auto_submitted_action = discard\n");
    HeaderField robot[] = {{"From", "x@example.org"}, {"Auto-Submitted", "auto-replied"}};
    HeaderField person[] = {{"From", "x@example.org"}, {"Auto-Submitted", "no"}};
    struct {
        const char *label;
        const Config *config;
        const HeaderField *headers;
        const char *sender;
        AutoAction want;
        const char *want_reason;
    } cases[] = {
        {"auto-replied, reject", reject, robot, "<x@example.org>", AUTO_REJECT,
         "Auto-Submitted: auto-replied"},
        {"auto-replied, discard", discard, robot, "<x@example.org>", AUTO_DISCARD,
         "Auto-Submitted: auto-replied"},
        {"a person", reject, person, "<x@example.org>", AUTO_NONE, NULL},
        {"null sender", reject, person, "<>", AUTO_REJECT,
         "null envelope sender (a bounce or DSN)"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *reason = NULL;
        AutoAction got =
            decide_autosubmit(cases[i].config, cases[i].headers, 2, cases[i].sender, &reason);
        if (got != cases[i].want || g_strcmp0(reason, cases[i].want_reason) != 0)
            test_failf("%s: got %d (%s), want %d (%s)", cases[i].label, got,
                       reason ? reason : "null", cases[i].want,
                       cases[i].want_reason ? cases[i].want_reason : "null");
    }
}

/* main - the g_test table of tests */
int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/decide/rcpt", test_rcpt);
    g_test_add_func("/decide/texts", test_texts);
    g_test_add_func("/decide/header-deletions", test_deletions);
    g_test_add_func("/decide/autosubmit", test_autosubmit);
    g_test_add_func("/decide/keyless", test_keyless);
    return g_test_run();
}
