/*
 * test-auth.c - who sent a reply (pipe-agent/auth.c) and what the agent
 * decides with it (evaluate.c): which of several Authentication-Results
 * count, the DMARC and DKIM choices, alignment by the public suffix list,
 * sender_policy and from_check refusals, action kinds, and the --dry-run
 * keys auth, from_verified and action.
 *
 * Table-driven: a case is a label, a block of header lines ("Name: value",
 * one a line) and a From address, and wants the results rendered as one line.
 */
#include <string.h>

#include "auth.h"
#include "evaluate.h"
#include "../unit/testutil.h"

#define SECRET "auth-test-secret-0123456789abcdefghijklmnopqrstuv"

static Config *
test_config(const char *extra)
{
    g_autofree char *text = g_strdup_printf("reply_domain = reply.example.com\n"
                                            "secrets_file = /nonexistent/secrets\n%s",
                                            extra);
    g_autoptr(GError) error = NULL;
    Config *config = config_parse(text, strlen(text), "test.conf", &error);

    if (config == NULL)
        g_error("test configuration: %s", error->message);
    return config;
}

/* headers_of - "Name: value" lines into HeaderFields pointing into lines */
static GArray *
headers_of(char **lines)
{
    GArray *headers = g_array_new(FALSE, FALSE, sizeof(HeaderField));

    for (guint i = 0; lines[i] != NULL; i++) {
        char *colon = strchr(lines[i], ':');
        HeaderField field;

        if (colon == NULL)
            continue;
        *colon = '\0';
        field.name = lines[i];
        field.value = colon + 1;
        g_array_append_val(headers, field);
    }
    return headers;
}

/* render - the results as one line */
static char *
render(const AuthResults *a)
{
    return g_strdup_printf("spf=%s/%s dkim=%s/%s dmarc=%s/%s from=%s aligned=%d",
                           a->spf ? a->spf : "-", a->spf_domain ? a->spf_domain : "-",
                           a->dkim ? a->dkim : "-", a->dkim_domain ? a->dkim_domain : "-",
                           a->dmarc ? a->dmarc : "-", a->dmarc_domain ? a->dmarc_domain : "-",
                           a->from_domain ? a->from_domain : "-", a->aligned);
}

#define OUR "Authentication-Results: mx.example.com; "

static void
test_results(void)
{
    struct {
        const char *label;
        const char *headers; /* lines */
        const char *from;
        const char *want;
        const char *refusal; /* a piece of auth_policy_refusal() under
                              * require-dmarc-pass, or NULL for none */
    } cases[] = {
        {"OpenDKIM and OpenDMARC, all pass",
         OUR "dkim=pass (2048-bit key) header.d=example.org header.i=@example.org\n" OUR
             "spf=pass smtp.mailfrom=bob@example.org\n" OUR
             "dmarc=pass (p=reject dis=none) header.from=example.org",
         "bob@example.org",
         "spf=pass/example.org dkim=pass/example.org dmarc=pass/example.org from=example.org "
         "aligned=1",
         NULL},
        {"nothing of ours", "Received: from x\nSubject: hi", "bob@example.org",
         "spf=-/- dkim=-/- dmarc=-/- from=example.org aligned=0",
         "mx.example.com recorded no DMARC result for example.org"},
        {"another host's header never counts",
         "Authentication-Results: evil.example; dmarc=pass header.from=example.org; dkim=pass "
         "header.d=example.org",
         "bob@example.org", "spf=-/- dkim=-/- dmarc=-/- from=example.org aligned=0",
         "recorded no DMARC result"},
        {"our id inside another's comment never counts",
         "Authentication-Results: evil.example (mx.example.com); dmarc=pass "
         "header.from=example.org",
         "bob@example.org", "spf=-/- dkim=-/- dmarc=-/- from=example.org aligned=0",
         "recorded no DMARC result"},
        {"our id in any case",
         "Authentication-Results: MX.Example.COM; dmarc=pass header.from=Example.ORG",
         "bob@example.org", "spf=-/- dkim=-/- dmarc=pass/example.org from=example.org aligned=1",
         NULL},
        {"DMARC fail", OUR "dmarc=fail (p=reject dis=reject) header.from=example.org",
         "bob@example.org", "spf=-/- dkim=-/- dmarc=fail/example.org from=example.org aligned=0",
         "found dmarc=fail for example.org"},
        {"a pass and a fail for the From domain add up to fail",
         OUR "dmarc=pass header.from=example.org\n" OUR "dmarc=fail header.from=example.org",
         "bob@example.org", "spf=-/- dkim=-/- dmarc=fail/example.org from=example.org aligned=0",
         "dmarc=fail"},
        {"a fail then a pass: still fail",
         OUR "dmarc=fail header.from=example.org; dmarc=pass header.from=example.org",
         "bob@example.org", "spf=-/- dkim=-/- dmarc=fail/example.org from=example.org aligned=0",
         "dmarc=fail"},
        {"a DMARC pass for another domain is not this From's",
         OUR "dmarc=pass header.from=evil.example", "bob@example.org",
         "spf=-/- dkim=-/- dmarc=pass/evil.example from=example.org aligned=0",
         "the DMARC result is for evil.example, not for the From domain example.org"},
        {"another domain's pass, then this From's fail",
         OUR "dmarc=pass header.from=evil.example; dmarc=fail header.from=example.org",
         "bob@example.org", "spf=-/- dkim=-/- dmarc=fail/example.org from=example.org aligned=0",
         "dmarc=fail"},
        {"a DMARC pass without header.from is not this From's", OUR "dmarc=pass", "bob@example.org",
         "spf=-/- dkim=-/- dmarc=pass/- from=example.org aligned=0", "is for no domain"},
        {"no DMARC policy, DKIM of a subdomain aligns (relaxed)",
         OUR "dkim=pass header.d=mail.example.org; dmarc=none header.from=example.org",
         "bob@example.org",
         "spf=-/- dkim=pass/mail.example.org dmarc=none/example.org from=example.org aligned=1",
         "found dmarc=none"},
        {"under a public suffix of two labels, a subdomain aligns",
         OUR "dkim=pass header.d=mail.example.co.uk", "bob@example.co.uk",
         "spf=-/- dkim=pass/mail.example.co.uk dmarc=-/- from=example.co.uk aligned=1",
         "recorded no DMARC result"},
        {"a neighbour under the same public suffix does not align",
         OUR "dkim=pass header.d=other.co.uk", "bob@example.co.uk",
         "spf=-/- dkim=pass/other.co.uk dmarc=-/- from=example.co.uk aligned=0",
         "recorded no DMARC result"},
        {"the aligned signature is named, not the first that passed",
         OUR "dkim=fail header.d=example.org; dkim=pass header.d=esp.example; dkim=pass "
             "header.d=example.org; dkim=pass header.d=other.example",
         "bob@example.org", "spf=-/- dkim=pass/example.org dmarc=-/- from=example.org aligned=1",
         "recorded no DMARC result"},
        {"a third party's signature alone does not align", OUR "dkim=pass header.d=esp.example",
         "bob@example.org", "spf=-/- dkim=pass/esp.example dmarc=-/- from=example.org aligned=0",
         "no DMARC"},
        {"DKIM domain from header.i", OUR "dkim=pass header.i=@Example.ORG", "bob@example.org",
         "spf=-/- dkim=pass/example.org dmarc=-/- from=example.org aligned=1", "no DMARC"},
        {"a DKIM pass that names no domain proves nothing", OUR "dkim=pass", "bob@example.org",
         "spf=-/- dkim=-/- dmarc=-/- from=example.org aligned=0", "no DMARC"},
        {"SPF of a bounce subdomain aligns",
         OUR "spf=pass smtp.mailfrom=bounce-1@bounces.example.org", "bob@example.org",
         "spf=pass/bounces.example.org dkim=-/- dmarc=-/- from=example.org aligned=1", "no DMARC"},
        {"SPF softfail does not align", OUR "spf=softfail smtp.mailfrom=example.org",
         "bob@example.org",
         "spf=softfail/example.org dkim=-/- dmarc=-/- from=example.org aligned=0", "no DMARC"},
        {"a DMARC fail outweighs a computed alignment",
         OUR "dkim=pass header.d=example.org; dmarc=fail header.from=example.org",
         "bob@example.org",
         "spf=-/- dkim=pass/example.org dmarc=fail/example.org from=example.org aligned=0",
         "dmarc=fail"},
        {"a header of ours that does not parse counts nothing",
         OUR "dmarc=pass header.from=example.org (not closed", "bob@example.org",
         "spf=-/- dkim=-/- dmarc=-/- from=example.org aligned=0", "no DMARC"},
        {"no From", OUR "dmarc=pass header.from=example.org", NULL,
         "spf=-/- dkim=-/- dmarc=pass/example.org from=- aligned=0", "has no From address"},
        {"a DMARC pass for the domain of a From written oddly",
         OUR "dmarc=pass header.from=example.org", "Bob@Example.ORG.",
         "spf=-/- dkim=-/- dmarc=pass/example.org from=example.org aligned=1", NULL},
        {"control characters are not quoted into the refusal",
         OUR "dmarc=fail\x01 header.from=example.org", "bob@example.org",
         "spf=-/- dkim=-/- dmarc=-/- from=example.org aligned=0", "no DMARC"},
    };
    g_autoptr(Config) config = test_config("authserv_id = mx.example.com\n"
                                           "sender_policy = require-dmarc-pass\n");

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(GStrv) lines = g_strsplit(cases[i].headers, "\n", -1);
        g_autoptr(GArray) headers = headers_of(lines);
        g_autoptr(AuthResults) auth = auth_results_read(
            config, (const HeaderField *)(void *)headers->data, headers->len, cases[i].from);
        g_autofree char *got = render(auth);
        g_autofree char *refusal = auth_policy_refusal(config, auth);

        if (strcmp(got, cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label, got, cases[i].want);
        if (cases[i].refusal == NULL && refusal != NULL)
            test_failf("%s: refused (%s), want accepted", cases[i].label, refusal);
        else if (cases[i].refusal != NULL &&
                 (refusal == NULL || !g_str_has_prefix(refusal, "5.7.1 ") ||
                  strstr(refusal, cases[i].refusal) == NULL))
            test_failf("%s: refusal \"%s\", want 5.7.1 with \"%s\"", cases[i].label, refusal,
                       cases[i].refusal);
        if (refusal != NULL)
            for (const char *p = refusal; *p != '\0'; p++)
                if ((unsigned char)*p < 0x20)
                    test_failf("%s: a control character in the refusal", cases[i].label);
    }
}

/* test_unconfigured - without authserv_id nothing is read, and record refuses nothing */
static void
test_unconfigured(void)
{
    g_autoptr(Config) config = test_config("");
    g_auto(GStrv) lines = g_strsplit(
        "Authentication-Results: mx.example.com; dmarc=pass header.from=a.org", "\n", -1);
    g_autoptr(GArray) headers = NULL;
    g_autoptr(AuthResults) auth = NULL;
    g_autofree char *got = NULL;

    headers = headers_of(lines);
    auth = auth_results_read(config, (const HeaderField *)(void *)headers->data, headers->len,
                             "bob@a.org");
    got = render(auth);
    g_assert_null(auth->authserv_id);
    g_assert_cmpstr(got, ==, "spf=-/- dkim=-/- dmarc=-/- from=a.org aligned=-1");
    g_assert_null(auth_policy_refusal(config, auth));
}

/* test_from_refusal - from_check's texts */
static void
test_from_refusal(void)
{
    g_autoptr(Config) record = test_config("");
    g_autoptr(Config) require = test_config("from_check = require\n");
    g_autofree char *no = auth_from_refusal(require, 0, "carol@other.example", 5);
    g_autofree char *none = auth_from_refusal(require, 0, NULL, 5);
    g_autofree char *ctrl = auth_from_refusal(require, 0, "a\r\nb@x", 5);

    g_assert_null(auth_from_refusal(record, 0, "carol@other.example", 5));
    g_assert_null(auth_from_refusal(require, 1, "alice@example.org", 5));
    g_assert_null(auth_from_refusal(require, -1, "anyone@example.org", 0));
    g_assert_cmpstr(no, ==,
                    "5.7.1 from check: carol@other.example is not an address of user 5 of this "
                    "reply address; reply from your own address");
    g_assert_true(g_str_has_prefix(none, "5.7.1 from check: the message has no From address"));
    g_assert_null(strpbrk(ctrl, "\r\n"));
}

/* sign - a signed reply address */
static char *
sign(const Config *config, const KeyRing *ring, const char *kind, guint64 target, guint64 user)
{
    g_autoptr(GError) error = NULL;
    char *address = address_sign(config, ring, kind, target, user, &error);

    if (address == NULL)
        g_error("address_sign: %s", error->message);
    return address;
}

/* test_evaluate - action kinds, the policy refusal and the JSON keys */
static void
test_evaluate(void)
{
    static const char *const secrets[] = {SECRET, NULL};
    g_autoptr(Config) config = test_config("authserv_id = mx.example.com\naction_kinds = u\n");
    g_autoptr(Config) strict = test_config("authserv_id = mx.example.com\naction_kinds = u\n"
                                           "sender_policy = require-dmarc-pass\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(KeyRing) ring = keyring_new(secrets, &error);
    g_autofree char *unsubscribe = sign(config, ring, "u", 7, 5);
    g_autofree char *issue = sign(config, ring, "i", 1, 5);
    struct {
        const char *label;
        const Config *config;
        const char *to;
        const char *extra_headers;
        const char *body;
        int want_exit;
        const char *want_status; /* prefix */
        const char *want_json;   /* a piece of the JSON */
    } cases[] = {
        {"an action kind with an empty body is stored as an action", config, unsubscribe, "", "", 0,
         "2.0.0 ", "\"action\": true"},
        {"an action kind with only white space", config, unsubscribe, "", "\r\n \r\n", 0, "2.0.0 ",
         "\"action\": true"},
        {"another kind with an empty body is refused", config, issue, "", "", 65,
         "5.6.0 the reply is empty", "\"action\": false"},
        {"a reply of another kind is no action", config, issue, "", "Sounds good.", 0, "2.0.0 ",
         "\"action\": false"},
        {"the auth object of the dry run", config, issue,
         "Authentication-Results: mx.example.com; dkim=pass header.d=example.org; "
         "dmarc=pass header.from=example.org\r\n",
         "Sounds good.", 0, "2.0.0 ",
         "\"auth\": {\"authserv_id\": \"mx.example.com\", \"spf\": null, \"spf_domain\": null, "
         "\"dkim\": \"pass\", \"dkim_domain\": \"example.org\", \"dmarc\": \"pass\", "
         "\"dmarc_domain\": \"example.org\", \"from_domain\": \"example.org\", \"aligned\": "
         "true, \"ignored\": null}, \"from_verified\": null"},
        {"require-dmarc-pass: a pass is stored", strict, issue,
         "Authentication-Results: mx.example.com; dmarc=pass header.from=example.org\r\n",
         "Sounds good.", 0, "2.0.0 ", "\"dmarc\": \"pass\""},
        {"require-dmarc-pass: a forged pass of another id is refused", strict, issue,
         "Authentication-Results: mx.example.net; dmarc=pass header.from=example.org\r\n",
         "Sounds good.", 77,
         "5.7.1 sender policy: a DMARC pass is required, and mx.example.com recorded no DMARC "
         "result for example.org",
         "\"dmarc\": null"},
        {"require-dmarc-pass: a fail is refused, an action too", strict, unsubscribe,
         "Authentication-Results: mx.example.com; dmarc=fail header.from=example.org\r\n", "", 77,
         "5.7.1 sender policy: a DMARC pass is required, and mx.example.com found dmarc=fail",
         "\"action\": true"},
        {"auto-submitted comes first", strict, issue, "Auto-Submitted: auto-replied\r\n", "Away.",
         77, "5.7.1 auto-submitted", "\"auth\": {"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text =
            g_strdup_printf("From: Bob <bob@example.org>\r\nTo: %s\r\nSubject: Re: x\r\n"
                            "Message-ID: <t%u@example.org>\r\n%s\r\n%s",
                            cases[i].to, i, cases[i].extra_headers, cases[i].body);
        g_autoptr(GBytes) raw = g_bytes_new(text, strlen(text));
        g_autoptr(Verdict) v =
            evaluate_message(cases[i].config, ring, raw, "bob@example.org", cases[i].to);
        g_autofree char *json = verdict_to_json(v);

        if (v->exit_status != cases[i].want_exit ||
            !g_str_has_prefix(v->status, cases[i].want_status))
            test_failf("%s: got %d \"%s\", want %d \"%s...\"", cases[i].label, v->exit_status,
                       v->status, cases[i].want_exit, cases[i].want_status);
        if (strstr(json, cases[i].want_json) == NULL)
            test_failf("%s: the JSON lacks %s: %s", cases[i].label, cases[i].want_json, json);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/auth/results", test_results);
    g_test_add_func("/auth/unconfigured", test_unconfigured);
    g_test_add_func("/auth/from-refusal", test_from_refusal);
    g_test_add_func("/auth/evaluate", test_evaluate);
    return g_test_run();
}
