/*
 * test-keyfind.c - the key lookup order of SPEC section 3, and the verdict.
 *
 * Table-driven: each case has a label, an envelope recipient and a block of
 * header fields, and wants a key and the source that matched (or none).
 * Addresses are written as templates: {i-1-5} is the signed address for kind
 * i, target 1, user 5; {i-1-5:bad} has a mac that does not verify;
 * {i-1-5@example.org} is the same local part in a foreign domain; {i-1-5^}
 * is the signed address in upper case, as a relay may fold it; {i-1-5.SUFFIX}
 * is the unique Message-ID form of a notification (SPEC section 3 item 9).
 * The second half checks evaluate_message_full() and verdict_to_json() on small
 * messages: exit status, first line, the signed TLS header (@TLS@ is one signed
 * for the queue id QID1), hostile nesting.
 */
#include <pwd.h>
#include <string.h>

#include "evaluate.h"
#include "keyfind.h"
#include "trace.h"
#include "../unit/testutil.h"

#define TEST_QUEUE_ID "QID1"
#define SECRET "keyfind-test-secret-0123456789abcdefghijklmnop"

static Config *test_config;
static KeyRing *test_ring;

/* expand - replace every {kind-target-user[:bad|@domain]} with an address */
static char *
expand(const char *text)
{
    GString *out = g_string_new(NULL);
    const char *p = text;

    while (*p != '\0') {
        const char *open = strchr(p, '{');
        const char *close;
        g_autofree char *spec = NULL;
        g_auto(GStrv) parts = NULL;
        char mac[ADDRESS_MAC_HEX + 1];
        const char *domain = "reply.example.com";
        gboolean bad = FALSE, upper = FALSE;
        char *at;
        g_autofree char *address = NULL;

        if (open == NULL || (close = strchr(open, '}')) == NULL) {
            g_string_append(out, p);
            break;
        }
        g_string_append_len(out, p, open - p);
        spec = g_strndup(open + 1, close - open - 1);
        if ((at = strchr(spec, '@')) != NULL) {
            *at = '\0';
            domain = at + 1;
        }
        if (g_str_has_suffix(spec, "^")) {
            spec[strlen(spec) - 1] = '\0';
            upper = TRUE;
        }
        if (g_str_has_suffix(spec, ":bad")) {
            spec[strlen(spec) - 4] = '\0';
            bad = TRUE;
        }
        parts = g_strsplit(spec, "-", 3);
        g_assert_cmpuint(g_strv_length(parts), ==, 3);
        address_mac(g_ptr_array_index(test_ring->secrets, 0), parts[0],
                    g_ascii_strtoull(parts[1], NULL, 10), g_ascii_strtoull(parts[2], NULL, 10),
                    mac);
        if (bad)
            mac[0] = mac[0] == 'a' ? 'b' : 'a';
        address =
            g_strdup_printf("reply+%s-%s-%s-%s@%s", parts[0], parts[1], mac, parts[2], domain);
        if (upper) {
            g_autofree char *folded = g_ascii_strup(address, -1);

            g_string_append(out, folded);
        } else {
            g_string_append(out, address);
        }
        p = close + 1;
    }
    return g_string_free(out, FALSE);
}

typedef struct {
    const char *label;
    const char *recipient; /* template, or NULL */
    const char *headers;   /* "Name: value\n" lines, templates */
    const char *want;      /* "kind-target-user source", or NULL for none */
} KeyCase;

static const KeyCase key_cases[] = {
    {"envelope", "{i-1-5}", "To: x@example.org\n", "i-1-5 envelope"},
    {"envelope in brackets", "<{i-1-5}>", "", "i-1-5 envelope"},
    {"to", "reply@reply.example.com", "To: Tracker <{i-2-5}>\n", "i-2-5 to"},
    {"to, second address", "reply@reply.example.com",
     "To: bob@example.org, \"Tracker, the\" <{i-2-6}>\n", "i-2-6 to"},
    {"to, group", NULL, "To: team: bob@example.org, {i-2-7};\n", "i-2-7 to"},
    {"delivered-to", NULL, "To: a@example.org\nDelivered-To: {i-3-5}\n", "i-3-5 delivered-to"},
    {"envelope-to", NULL, "Envelope-To: {i-4-5}\n", "i-4-5 envelope-to"},
    {"x-envelope-to", NULL, "X-Envelope-To: <{i-5-5}>\n", "i-5-5 x-envelope-to"},
    {"x-original-to", NULL, "X-Original-To: {i-6-5}\n", "i-6-5 x-original-to"},
    {"received for", NULL,
     "Received: from a.example.org by mx.reply.example.com with ESMTPS id ABC\n"
     "\tfor <{i-7-5}>; Sat, 21 Nov 2026 15:13:00 +0100\n",
     "i-7-5 received"},
    {"received, bare for", NULL, "Received: by mx with LMTP id Q for {i-7-6}; Sat\n",
     "i-7-6 received"},
    {"received, top header first", NULL,
     "Received: by mx id A for <{i-8-1}>; Sat\nReceived: by relay id B for <{i-8-2}>; Sat\n",
     "i-8-1 received"},
    {"received, form not a word", NULL, "Received: from x by y; comment before<{i-8-3}>\n", NULL},
    {"cc", NULL, "To: a@example.org\nCc: b@example.org, {i-9-5}\n", "i-9-5 cc"},
    {"in-reply-to", NULL, "In-Reply-To: <{c-10-5}>\n", "c-10-5 references"},
    {"references", NULL, "References: <a@example.org> <{i-11-5}>\n <b@example.org>\n",
     "i-11-5 references"},
    {"references, newest first", NULL, "References: <{i-12-1}> <{i-12-2}>\n", "i-12-2 references"},
    {"in-reply-to before references", NULL, "References: <{i-13-1}>\nIn-Reply-To: <{i-13-2}>\n",
     "i-13-2 references"},
    {"static address", "support@reply.example.com", "", "s-7-0 envelope"},
    {"static address in to", NULL, "To: Support <SUPPORT@reply.example.com>\n", "s-7-0 to"},
    {"upper case", NULL, "To: <{i-14-5^}>\n", "i-14-5 to"},
    {"upper case envelope", "{p-14-6^}", "", "p-14-6 envelope"},
    {"upper case without a mac", NULL, "To: <REPLY+I-14-5@REPLY.EXAMPLE.COM>\n", NULL},
    {"envelope before to", "{i-15-1}", "To: {i-15-2}\n", "i-15-1 envelope"},
    {"to before delivered-to", NULL, "Delivered-To: {i-16-2}\nTo: {i-16-1}\n", "i-16-1 to"},
    {"delivered-to before received", NULL,
     "Received: by mx for <{i-17-2}>; Sat\nDelivered-To: {i-17-1}\n", "i-17-1 delivered-to"},
    {"received before cc", NULL, "Cc: {i-18-2}\nReceived: by mx for <{i-18-1}>; Sat\n",
     "i-18-1 received"},
    {"cc before references", NULL, "References: <{i-19-2}>\nCc: {i-19-1}\n", "i-19-1 cc"},
    {"bad mac skipped", "{i-20-1:bad}", "To: {i-20-2:bad}\nCc: {i-20-3}\n", "i-20-3 cc"},
    {"foreign domain skipped", "{i-21-1@example.org}", "To: {i-21-2@example.org}\nCc: {i-21-3}\n",
     "i-21-3 cc"},
    {"dedicated keeps looking", "reply@reply.example.com",
     "To: reply@reply.example.com\n"
     "References: <{i-22-1}>\n",
     "i-22-1 references"},
    {"noreply is no key", "noreply@reply.example.com", "To: noreply@reply.example.com\n", NULL},
    {"noreply envelope ends the search", "noreply@reply.example.com",
     "To: {i-25-1}\nReferences: <{i-25-2}>\n", NULL},
    {"noreply in to keeps looking", "reply@reply.example.com",
     "To: noreply@reply.example.com\nCc: {i-25-3}\n", "i-25-3 cc"},
    {"second reply domain", "{i-23-1@reply.example.net}", "", "i-23-1 envelope"},
    {"nothing", "reply@reply.example.com", "To: bob@example.org\nReferences: <x@example.org>\n",
     NULL},
    {"everything bad", "{i-24-1:bad}",
     "To: {i-24-1:bad}\nDelivered-To: {i-24-1:bad}\nReceived: by x for <{i-24-1:bad}>;\n"
     "Cc: {i-24-1@other.example}\nReferences: <{i-24-1:bad}>\n",
     NULL},
    {"garbage values", "", "To: <<<>>>,,,\"\nReceived: for\nReferences: <<\nCc:\n", NULL},
    /* SPEC section 3: X-Delivered-To beside Delivered-To (3), X-Forwarded-To
     * beside X-Original-To (6), as forwarding setups write them. */
    {"x-delivered-to", NULL, "To: a@example.org\nX-Delivered-To: {i-26-5}\n",
     "i-26-5 x-delivered-to"},
    {"x-delivered-to in brackets", NULL, "X-Delivered-To: <{i-26-6}>\n", "i-26-6 x-delivered-to"},
    {"x-forwarded-to", NULL, "To: a@example.org\nX-Forwarded-To: {i-27-5}\n",
     "i-27-5 x-forwarded-to"},
    {"x-forwarded-to, a list", NULL, "X-Forwarded-To: bob@example.org, {i-27-6}\n",
     "i-27-6 x-forwarded-to"},
    {"delivered-to before x-delivered-to", NULL,
     "X-Delivered-To: {i-28-2}\nDelivered-To: {i-28-1}\n", "i-28-1 delivered-to"},
    {"x-delivered-to before envelope-to", NULL, "Envelope-To: {i-28-4}\nX-Delivered-To: {i-28-3}\n",
     "i-28-3 x-delivered-to"},
    {"x-original-to before x-forwarded-to", NULL,
     "X-Forwarded-To: {i-29-2}\nX-Original-To: {i-29-1}\n", "i-29-1 x-original-to"},
    {"x-envelope-to before x-forwarded-to", NULL,
     "X-Forwarded-To: {i-29-4}\nX-Envelope-To: {i-29-3}\n", "i-29-3 x-envelope-to"},
    {"x-forwarded-to before received", NULL,
     "Received: by mx for <{i-29-6}>; Sat\nX-Forwarded-To: {i-29-5}\n", "i-29-5 x-forwarded-to"},
    {"x-forwarded-to with a bad mac skipped", NULL, "X-Forwarded-To: {i-29-7:bad}\nCc: {i-29-8}\n",
     "i-29-8 cc"},
    /* SPEC section 3 item 9: the unique Message-ID form of a notification. */
    {"unique form in in-reply-to", "reply@reply.example.com",
     "In-Reply-To: <{i-30-5.20261206T120000Z.8f3a}>\n", "i-30-5 references"},
    {"unique form in references", NULL,
     "References: <a@example.org>\n <{i-30-6.1733450000}>\n <b@example.org>\n",
     "i-30-6 references"},
    {"unique form upper-cased", NULL, "References: <{i-30-7.abc_-.x^}>\n", "i-30-7 references"},
    {"unique form, bad mac", NULL, "In-Reply-To: <{i-30-8.x:bad}>\n", NULL},
    {"unique form, suffix of 65", NULL,
     "In-Reply-To: "
     "<{i-30-9.0123456789012345678901234567890123456789012345678901234567890123x}>\n",
     NULL},
    {"unique form, bad character in suffix", NULL, "In-Reply-To: <{i-30-10.a+b}>\n", NULL},
    {"unique form as the envelope recipient", "{i-30-11.x}", "", "i-30-11 envelope"},
    /* A header value that is one quoted string or a comma list is a list. */
    {"references as one quoted string", NULL,
     "References: \"<a@example.org>,<{i-31-1}>,<b@example.org>\"\n", "i-31-1 references"},
    {"references as one quoted string, newest first", NULL,
     "References: \"<{i-31-2}>,<{i-31-3}>\"\n", "i-31-3 references"},
    {"references, comma list, key not first", NULL,
     "References: <a@example.org>,<{i-31-4}>,<b@example.org>\n", "i-31-4 references"},
    {"references, comma list with spaces", NULL,
     "References: <a@example.org>, <{i-31-5}> ,<b@example.org>\n", "i-31-5 references"},
    {"references, quoted and folded", NULL, "References: \"<a@example.org>,\n <{i-31-6}>\"\n",
     "i-31-6 references"},
    {"to as one quoted string", "reply@reply.example.com",
     "To: \"<bob@example.org>,<{i-32-1}>\"\n", "i-32-1 to"},
    {"x-forwarded-to as one quoted string", NULL,
     "X-Forwarded-To: \"bob@example.org, {i-32-2}\"\n", "i-32-2 x-forwarded-to"},
    {"in-reply-to as a quoted string", NULL, "In-Reply-To: \"<{i-31-7}>\"\n", "i-31-7 references"},
    {"in-reply-to without brackets", NULL, "In-Reply-To: {i-31-8}\n", "i-31-8 references"},
    {"in-reply-to with a comment", NULL,
     "In-Reply-To: <{i-31-9}> (Tracker's message of \"Sat, 21 Nov 2026 15:12:00\")\n",
     "i-31-9 references"},
    {"a key only inside a comment is no id", NULL, "References: <a@example.org> (<{i-31-10}>)\n",
     NULL},
};

/* parse_headers - "Name: value" lines into HeaderField, continuation lines joined */
static GArray *
parse_headers(const char *text)
{
    GArray *fields = g_array_new(FALSE, FALSE, sizeof(HeaderField));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (int i = 0; lines[i] != NULL; i++) {
        char *colon;
        HeaderField field;

        if (lines[i][0] == '\0')
            continue;
        if ((lines[i][0] == ' ' || lines[i][0] == '\t') && fields->len > 0) {
            HeaderField *last = &g_array_index(fields, HeaderField, fields->len - 1);
            char *joined = g_strconcat(last->value, lines[i], NULL);

            g_free((char *)last->value);
            last->value = joined;
            continue;
        }
        colon = strchr(lines[i], ':');
        g_assert_nonnull(colon);
        field.name = g_strndup(lines[i], colon - lines[i]);
        field.value = g_strdup(g_strstrip(colon + 1));
        g_array_append_val(fields, field);
    }
    return fields;
}

/* free_headers - release parse_headers()'s result */
static void
free_headers(GArray *fields)
{
    for (guint i = 0; i < fields->len; i++) {
        g_free((char *)g_array_index(fields, HeaderField, i).name);
        g_free((char *)g_array_index(fields, HeaderField, i).value);
    }
    g_array_free(fields, TRUE);
}

/* test_keyfind_order - every case of key_cases */
static void
test_keyfind_order(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(key_cases); i++) {
        const KeyCase *c = &key_cases[i];
        g_autofree char *recipient = c->recipient != NULL ? expand(c->recipient) : NULL;
        g_autofree char *headers = expand(c->headers);
        GArray *fields = parse_headers(headers);
        ReplyKey key;
        const char *source = NULL;
        g_autofree char *got = NULL;

        memset(&key, 0, sizeof key);
        if (keyfind_lookup(test_config, test_ring, recipient, (HeaderField *)(void *)fields->data,
                           fields->len, &key, &source))
            got = g_strdup_printf("%s-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " %s", key.kind,
                                  key.target, key.user, source);
        if (g_strcmp0(got, c->want) != 0)
            test_failf("%s: got %s, want %s", c->label, got ? got : "(none)",
                       c->want ? c->want : "(none)");
        free_headers(fields);
    }
}

typedef struct {
    const char *label;
    const char *received;
    const char *want; /* addresses joined by spaces */
} ForCase;

static const ForCase for_cases[] = {
    {"one", "from a by b id C for <x@y.example>; Sat", "x@y.example"},
    {"two clauses", "by b for <x@y.example> via c for z@w.example; Sat", "x@y.example z@w.example"},
    {"upper case FOR", "by b FOR <x@y.example>;", "x@y.example"},
    {"folded", "by b\r\n\tfor\r\n <x@y.example>;", "x@y.example"},
    {"not a word", "from before<x@y.example> fortune <a@b.example>", ""},
    {"no address", "by b for ; Sat", ""},
    {"unclosed", "by b for <x@y.example", ""},
    {"empty", "", ""},
};

/* test_keyfind_deep_groups - a To: of groups nested 50,000 deep (as the
 * milter may see it: within Postfix's header_size_limit) is passed over,
 * not parsed into a stack overflow; the key in Cc is still found */
static void
test_keyfind_deep_groups(void)
{
    g_autoptr(GString) deep = g_string_new(NULL);
    g_autofree char *cc = expand("{i-30-5}");
    HeaderField headers[2];
    ReplyKey key;
    const char *source = NULL;

    for (int i = 0; i < 50000; i++)
        g_string_append(deep, "g:");
    for (int i = 0; i < 50000; i++)
        g_string_append_c(deep, ';');
    headers[0].name = "To";
    headers[0].value = deep->str;
    headers[1].name = "Cc";
    headers[1].value = cc;
    if (!keyfind_lookup(test_config, test_ring, "reply@reply.example.com", headers, 2, &key,
                        &source) ||
        g_strcmp0(source, "cc") != 0 || key.target != 30)
        test_failf("deep groups: got %s, want the key i-30-5 from cc", source ? source : "none");
}

/* test_received_for - the "for" clause scanner */
static void
test_received_for(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(for_cases); i++) {
        g_autoptr(GPtrArray) got = keyfind_received_for(for_cases[i].received);
        g_autoptr(GString) joined = g_string_new(NULL);

        for (guint j = 0; j < got->len; j++)
            g_string_append_printf(joined, "%s%s", j ? " " : "", (char *)got->pdata[j]);
        if (strcmp(joined->str, for_cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", for_cases[i].label, joined->str,
                       for_cases[i].want);
    }
}

static const ForCase id_cases[] = {
    {"one", "<a@x.example>", "a@x.example"},
    {"two, space", "<a@x.example> <b@y.example>", "a@x.example b@y.example"},
    {"folded", "<a@x.example>\r\n\t<b@y.example>", "a@x.example b@y.example"},
    {"comma list", "<a@x.example>,<b@y.example>,<c@z.example>",
     "a@x.example b@y.example c@z.example"},
    {"one quoted string", "\"<a@x.example>,<b@y.example>,<c@z.example>\"",
     "a@x.example b@y.example c@z.example"},
    {"quoted, spaces", "\" <a@x.example> , <b@y.example> \"", "a@x.example b@y.example"},
    {"bare", "a@x.example", "a@x.example"},
    {"bare list", "a@x.example, b@y.example", "a@x.example b@y.example"},
    {"comment skipped", "<a@x.example> (see <c@z.example> (nested)) <b@y.example>",
     "a@x.example b@y.example"},
    {"no at sign", "<nothing-here> <x>", ""},
    {"unclosed then closed", "<a@x.example <b@y.example>", "b@y.example"},
    {"unclosed at the end", "<a@x.example> <b@y", "a@x.example"},
    {"empty", "", ""},
    {"stray closers", ">>>,,,\"\"", ""},
    /* A ')' outside any comment stopped the scan forever (fuzz-message found it). */
    {"stray comment closer", "a@x.example) <b@y.example> ) c@z.example",
     "a@x.example b@y.example c@z.example"},
    {"only a comment closer", ")", ""},
};

/* test_message_ids - the In-Reply-To and References reader */
static void
test_message_ids(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(id_cases); i++) {
        g_autoptr(GPtrArray) got = keyfind_message_ids(id_cases[i].received);
        g_autoptr(GString) joined = g_string_new(NULL);

        for (guint j = 0; j < got->len; j++)
            g_string_append_printf(joined, "%s%s", j ? " " : "", (char *)got->pdata[j]);
        if (strcmp(joined->str, id_cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", id_cases[i].label, joined->str,
                       id_cases[i].want);
    }
}

typedef struct {
    const char *label;
    const char *sender;
    const char *recipient; /* template */
    const char *message;   /* template; \n line ends */
    int want_exit;
    const char *want_status; /* prefix */
    const char *want_json;   /* a substring of the JSON, or NULL */
} VerdictCase;

static const VerdictCase verdict_cases[] = {
    {"stored", "bob@example.org", "{i-1-5}",
     "From: Bob <bob@example.org>\nTo: {i-1-5}\nSubject: Re: x\nMessage-ID: <m1@example.org>\n"
     "Date: Sat, 21 Nov 2026 16:13:00 +0100\n\nThanks!\n",
     0, "2.0.0", "\"date\": \"2026-11-21T15:13:00Z\""},
    {"message id without brackets", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nMessage-ID: <m2@example.org>\n\nok\n", 0, "2.0.0",
     "\"message_id\": \"m2@example.org\""},
    {"key in json", "bob@example.org", "{i-1-5}", "From: bob@example.org\n\nok\n", 0, "2.0.0",
     "\"key\": {\"kind\": \"i\", \"target\": 1, \"user\": 5, \"source\": \"envelope\"}"},
    {"tls header signed for this queue id", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nX-Replygate-TLS: @TLS@\n\nok\n", 0, "2.0.0",
     "\"tls\": {\"version\": \"TLSv1.3\", \"cipher\": \"TLS_AES_256_GCM_SHA384\", \"bits\": 256}"},
    {"tls header unsigned (forged): ignored", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nX-Replygate-TLS: version=TLSv1.3; cipher=TLS_AES_256_GCM_SHA384; "
     "bits=256\n\nok\n",
     0, "2.0.0", "\"tls\": null"},
    {"tls header signed for another queue id: ignored", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nX-Replygate-TLS: @TLS-OTHER@\n\nok\n", 0, "2.0.0", "\"tls\": null"},
    {"forged tls header before the signed one: the signed one counts", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nX-Replygate-TLS: version=TLSv9.9; cipher=FORGED; bits=1; "
     "queue=QID1; mac=0000000000000000000000000000000000000000\nX-Replygate-TLS: @TLS@\n\nok\n",
     0, "2.0.0",
     "\"tls\": {\"version\": \"TLSv1.3\", \"cipher\": \"TLS_AES_256_GCM_SHA384\", \"bits\": 256}"},
    {"no tls header", "bob@example.org", "{i-1-5}", "From: bob@example.org\n\nok\n", 0, "2.0.0",
     "\"tls\": null"},
    {"auto-submitted", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nAuto-Submitted: auto-replied\n\nI am away.\n", 77,
     "5.7.1 auto-submitted", "\"auto_submitted\": \"Auto-Submitted: auto-replied\""},
    {"auto-submitted before no key", "", "reply@reply.example.com", "From: bob@example.org\n\nx\n",
     77, "5.7.1", "\"key\": null"},
    /* Configuration mistakes defer (issue 13 item 5). */
    {"recipient in no reply domain: deferred", "bob@example.org", "bob@example.org",
     "From: bob@example.org\nTo: {i-1-5}\n\nx\n", 75, "4.3.5 configuration error", NULL},
    {"recipient in no reply domain, auto-submitted: still deferred", "", "bob@example.org",
     "From: bob@example.org\n\nx\n", 75, "4.3.5 configuration error", NULL},
    {"recipient of a reply domain that is not configured: deferred", "bob@example.org",
     "reply+i-1-0123456789012345678901234567890123456789-5@reply.example.org",
     "From: bob@example.org\n\nx\n", 75, "4.3.5", NULL},
    {"milter accepted it (signed trace header), key does not verify: deferred", "bob@example.org",
     "{i-1-5:bad}", "From: bob@example.org\nX-Replygate-TLS: @TLS@\n\nx\n", 75,
     "4.3.5 configuration error: the milter accepted this recipient", NULL},
    {"milter accepted the dedicated address, no key found here: deferred", "bob@example.org",
     "reply@reply.example.com", "From: bob@example.org\nX-Replygate-TLS: @TLS@\n\nx\n", 75, "4.3.5",
     NULL},
    {"bad key without a trace header: 5.1.1", "bob@example.org", "{i-1-5:bad}",
     "From: bob@example.org\n\nx\n", 67, "5.1.1", NULL},
    {"bad key, trace header for another queue id: 5.1.1", "bob@example.org", "{i-1-5:bad}",
     "From: bob@example.org\nX-Replygate-TLS: @TLS-OTHER@\n\nx\n", 67, "5.1.1", NULL},
    /* The agent enforces what the milter enforces (issue 14): without the
     * trace header, the Received header this Postfix put on top. */
    {"smtpd with TLS, no trace header: TLS from the Received header", "bob@example.org", "{i-1-5}",
     "Received: from h (h [192.0.2.1])\n\t(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 "
     "(128/128 bits))\n\tby mx (Postfix) with ESMTPS id QID1\n\tfor <x@y>; Sat, 21 Nov 2026\n"
     "From: bob@example.org\n\nok\n",
     0, "2.0.0",
     "\"tls\": {\"version\": \"TLSv1.2\", \"cipher\": \"ECDHE-RSA-AES128-GCM-SHA256\", "
     "\"bits\": 128}"},
    {"smtpd without TLS, no trace header (milter down or -P): 5.7.0", "bob@example.org", "{i-1-5}",
     "Received: from h (h [192.0.2.1]) by mx (Postfix) with ESMTP id QID1 for <x@y>; Sat\n"
     "From: bob@example.org\n\nok\n",
     77, "5.7.0", "\"tls\": null"},
    {"pickup (sendmail on the host): 5.7.0", "bob@example.org", "{i-1-5}",
     "Received: by mx (Postfix, from userid 1000) id QID1; Sat\nFrom: bob@example.org\n\nok\n", 77,
     "5.7.0", NULL},
    {"pickup with a forged trace header: 5.7.0", "bob@example.org", "{i-1-5}",
     "Received: by mx (Postfix, from userid 1000) id QID1; Sat\nFrom: bob@example.org\n"
     "X-Replygate-TLS: version=TLSv1.3; cipher=X; bits=256; queue=QID1; "
     "mac=0000000000000000000000000000000000000000\n\nok\n",
     77, "5.7.0", NULL},
    {"plain smtpd on top, a forged TLS one below it: 5.7.0", "bob@example.org", "{i-1-5}",
     "Received: from evil (evil [203.0.113.9]) by mx (Postfix) with ESMTP id QID1; Sat\n"
     "Received: from h (h [192.0.2.1]) (using TLSv1.3 with cipher X (256/256 bits)) by mx "
     "(Postfix) with ESMTPS id QID0; Sat\nFrom: bob@example.org\n\nok\n",
     77, "5.7.0", NULL},
    {"TLS below tls_min_version in the Received header: 5.7.0", "bob@example.org", "{i-1-5}",
     "Received: from h (h [192.0.2.1]) (using TLSv1 with cipher X (256/256 bits)) by mx "
     "(Postfix) with ESMTPS id QID1; Sat\nFrom: bob@example.org\n\nok\n",
     77, "5.7.0", NULL},
    {"a verified trace header wins over a plain Received", "bob@example.org", "{i-1-5}",
     "Received: from h (h [192.0.2.1]) by mx (Postfix) with ESMTP id QID1; Sat\n"
     "From: bob@example.org\nX-Replygate-TLS: @TLS@\n\nok\n",
     0, "2.0.0", "\"version\": \"TLSv1.3\""},
    {"requeued (postsuper -r): trace header signed for the first queue id", "bob@example.org",
     "{i-1-5}",
     "Received: by mx (Postfix, from userid @POSTFIX-UID@) id QID1; Sat\n"
     "Received: from h (h [192.0.2.1]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 "
     "bits)) by mx (Postfix) with ESMTPS id QID2; Sat\n"
     "From: bob@example.org\nX-Replygate-TLS: @TLS-OTHER@\n\nok\n",
     0, "2.0.0", "\"version\": \"TLSv1.3\""},
    {"requeued plain smtpd: 5.7.0", "bob@example.org", "{i-1-5}",
     "Received: by mx (Postfix, from userid @POSTFIX-UID@) id QID1; Sat\n"
     "Received: from h (h [192.0.2.1]) by mx (Postfix) with ESMTP id QID2; Sat\n"
     "From: bob@example.org\n\nok\n",
     77, "5.7.0", NULL},
    {"no Received of a Postfix on top (the agent run by hand): no rule", "bob@example.org",
     "{i-1-5}",
     "Received: from a.example by b.example with SMTP id 1; Sat\nFrom: bob@example.org\n\nok\n", 0,
     "2.0.0", "\"tls\": null"},
    {"TLS only from the Received header does not say the milter accepted: 5.1.1", "bob@example.org",
     "{i-1-5:bad}",
     "Received: from h (h [192.0.2.1]) (using TLSv1.3 with cipher X (256/256 bits)) by mx "
     "(Postfix) with ESMTPS id QID1; Sat\nFrom: bob@example.org\n\nok\n",
     67, "5.1.1", NULL},
    {"no key", "bob@example.org", "reply@reply.example.com", "From: bob@example.org\n\nx\n", 67,
     "5.1.1", NULL},
    {"empty reply", "bob@example.org", "{i-1-5}", "From: bob@example.org\n\n\n   \n", 65,
     "5.6.0 the reply is empty: write above the quoted text", NULL},
    {"only an attachment", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
     "Content-Type: text/plain\n\n\n--b\nContent-Type: image/png\nContent-Disposition: "
     "attachment; filename=a.png\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n--b--\n",
     0, "2.0.0",
     "\"sha256\": \"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\""},
    {"rfc 2231 file name", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
     "Content-Type: text/plain\n\nsee file\n--b\nContent-Type: application/pdf\n"
     "Content-Disposition: attachment; filename*0*=utf-8''r%C3%A9sum; filename*1*=%C3%A9.pdf\n"
     "\nPDF\n--b--\n",
     0, "2.0.0", "\"filename\": \"résumé.pdf\""},
    {"unparsable", "bob@example.org", "{i-1-5}", "", 65, "5.6.0", NULL},
    {"unknown charset", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nContent-Type: text/plain; charset=x-no-such\n\ncaf\xe9\n", 0, "2.0.0",
     "\"body_text\": \"café\\n\""},
    {"invalid euc-kr bytes replaced", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nContent-Type: text/plain; charset=euc-kr\n\n\xb0\xa1\xff!\n", 0,
     "2.0.0", "\"body_text\": \"가\xef\xbf\xbd!\\n\""},
    {"empty text part beside html", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nContent-Type: multipart/alternative; boundary=b\n\n--b\n"
     "Content-Type: text/plain\n\n \n--b\nContent-Type: text/html\n\n<p>From the HTML</p>\n--b--\n",
     0, "2.0.0", "\"reply_text\": \"From the HTML"},
    {"format flowed", "bob@example.org", "{i-1-5}",
     "From: bob@example.org\nContent-Type: text/plain; format=flowed; delsp=no\n\n"
     "one two \nthree\n> quoted \n> on\n",
     0, "2.0.0", "\"body_text\": \"one two three\\n> quoted on\\n\""},
};

/* sign_tls - text with @TLS@ replaced by an X-Replygate-TLS value signed for
 * TEST_QUEUE_ID, @TLS-OTHER@ by one signed for another queue id, and
 * @POSTFIX-UID@ by the uid of user postfix (new string) */
static char *
sign_tls(const char *text)
{
    g_autofree char *mine =
        trace_header_value(test_ring, TEST_QUEUE_ID, "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256);
    g_autofree char *other =
        trace_header_value(test_ring, "QID2", "TLSv1.3", "TLS_AES_256_GCM_SHA384", 256);
    g_auto(GStrv) parts = g_strsplit(text, "@TLS-OTHER@", -1);
    g_autofree char *step = g_strjoinv(other, parts);
    g_auto(GStrv) parts2 = g_strsplit(step, "@TLS@", -1);
    g_autofree char *signed_text = g_strjoinv(mine, parts2);
    struct passwd *pw = getpwnam("postfix");
    g_autofree char *uid = g_strdup_printf("%ld", pw != NULL ? (long)pw->pw_uid : -2L);
    g_auto(GStrv) parts3 = g_strsplit(signed_text, "@POSTFIX-UID@", -1);

    /* The requeue case needs the uid of user postfix (scripts/deps installs it). */
    return g_strjoinv(uid, parts3);
}

/* test_verdicts - evaluate_message() and verdict_to_json() on small messages */
static void
test_verdicts(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(verdict_cases); i++) {
        const VerdictCase *c = &verdict_cases[i];
        g_autofree char *recipient = expand(c->recipient);
        g_autofree char *expanded = expand(c->message);
        g_autofree char *text = sign_tls(expanded);
        g_autoptr(GBytes) raw = g_bytes_new(text, strlen(text));
        g_autoptr(Verdict) verdict =
            evaluate_message_full(test_config, test_ring, raw, c->sender, recipient, TEST_QUEUE_ID);
        g_autofree char *json = verdict_to_json(verdict);

        if (verdict->exit_status != c->want_exit)
            test_failf("%s: exit got %d, want %d", c->label, verdict->exit_status, c->want_exit);
        if (!g_str_has_prefix(verdict->status, c->want_status))
            test_failf("%s: status got \"%s\", want \"%s...\"", c->label, verdict->status,
                       c->want_status);
        if (c->want_json != NULL && strstr(json, c->want_json) == NULL)
            test_failf("%s: json got %s, want it to hold %s", c->label, json, c->want_json);
    }
}

/* test_refusal - verdict_new_refusal() prints the SPEC object with nulls */
static void
test_refusal(void)
{
    g_autoptr(Verdict) verdict = verdict_new_refusal(65, "5.3.4 message too big");
    g_autofree char *json = verdict_to_json(verdict);
    const char *want = "\"key\": null";

    if (strstr(json, want) == NULL || strstr(json, "\"exit\": 65") == NULL ||
        strstr(json, "\"status\": \"5.3.4 message too big\"") == NULL)
        test_failf("refusal: got %s", json);
}

/* test_hostile_nesting - multipart and message/rfc822 nesting: 60 deep is
 * parsed; 1000 deep neither crashes nor hangs, and is refused as over the
 * nesting cap (5.3.4, issue 13) rather than half parsed */
static void
test_hostile_nesting(void)
{
    const char *kinds[] = {"multipart", "rfc822"};
    const int depths[] = {60, 1000};

    for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (gsize d = 0; d < G_N_ELEMENTS(depths); d++) {
            g_autofree char *recipient = expand("{i-1-5}");
            g_autoptr(GString) text = g_string_new("From: bob@example.org\nSubject: deep\n");
            g_autoptr(GBytes) raw = NULL;
            g_autoptr(Verdict) verdict = NULL;

            for (int i = 0; i < depths[d]; i++) {
                if (k == 0)
                    g_string_append_printf(
                        text, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
                else
                    g_string_append_printf(
                        text, "Content-Type: message/rfc822\n\nFrom: x%d@example.org\n", i);
            }
            g_string_append(text, "Content-Type: text/plain\n\ndeep text\n");
            raw = g_bytes_new(text->str, text->len);
            verdict = evaluate_message(test_config, test_ring, raw, "bob@example.org", recipient);
            if (depths[d] < 64 && (verdict->message == NULL ||
                                   (verdict->exit_status != 0 && verdict->exit_status != 65)))
                test_failf("%s nesting %d: got exit %d \"%s\", want 0 or 65 with a parsed message",
                           kinds[k], depths[d], verdict->exit_status, verdict->status);
            if (depths[d] > 64 &&
                (verdict->exit_status != 65 || !g_str_has_prefix(verdict->status, "5.3.4")))
                test_failf("%s nesting %d: got exit %d \"%s\", want 65 5.3.4", kinds[k], depths[d],
                           verdict->exit_status, verdict->status);
        }
    }
}

int
main(int argc, char **argv)
{
    static const char conf[] = "reply_domain = reply.example.com reply.example.net\n"
                               "static_address = support@reply.example.com s 7\n"
                               "noreply_address = noreply@reply.example.com\n";
    const char *secrets[] = {SECRET, NULL};
    g_autoptr(GError) error = NULL;
    int status;

    g_test_init(&argc, &argv, NULL);
    test_config = config_parse(conf, strlen(conf), "test.conf", &error);
    g_assert_no_error(error);
    test_ring = keyring_new(secrets, &error);
    g_assert_no_error(error);

    g_test_add_func("/keyfind/order", test_keyfind_order);
    g_test_add_func("/keyfind/received-for", test_received_for);
    g_test_add_func("/keyfind/deep-groups", test_keyfind_deep_groups);
    g_test_add_func("/keyfind/message-ids", test_message_ids);
    g_test_add_func("/evaluate/verdicts", test_verdicts);
    g_test_add_func("/evaluate/refusal", test_refusal);
    g_test_add_func("/evaluate/hostile-nesting", test_hostile_nesting);
    status = g_test_run();
    keyring_free(test_ring);
    config_free(test_config);
    return status;
}
