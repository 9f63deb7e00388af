/*
 * test-rawmail.c - the fingerprint of SPEC section 8 and the raw header
 * reader (lib/rawmail.h).
 *
 * The known answers were computed outside this code: by `printf ... |
 * sha256sum` over the NUL-separated form SPEC spells out (the "plain" case,
 * and the empty message's four NULs), and by a 30-line Python reading of
 * SPEC's text for the others. Trace headers, CRLF, folding, case and white
 * space must not move the fingerprint; a change of one byte of the body, of
 * From, Date, Subject or Message-ID must.
 */
#include <string.h>

#include "autosubmit.h"
#include "rawmail.h"
#include "testutil.h"

#define PLAIN                                                                                      \
    "From: Bob <bob@example.org>\nSubject: Hi\nDate: Sat, 21 Nov 2026 15:13:00 +0000\n"            \
    "Message-ID: <m1@example.org>\n\nHello\n"
#define PLAIN_FP "006864727e250758d50c6b7356a15b93bd7b63276f86e72533e1b5828864d09b"

/* test_known_answers - fingerprints computed outside this code */
static void
test_known_answers(void)
{
    static const struct {
        const char *label, *raw, *want;
    } cases[] = {
        {"plain (printf | sha256sum)", PLAIN, PLAIN_FP},
        {"CRLF, Received and Delivered-To added by hops",
         "Received: from x\r\n\tby y; Sat\r\nDelivered-To: a@b\r\n"
         "From: Bob <bob@example.org>\r\nSubject: Hi\r\n"
         "Date: Sat, 21 Nov 2026 15:13:00 +0000\r\nMessage-ID: <m1@example.org>\r\n\r\nHello\r\n",
         PLAIN_FP},
        {"folded, odd case, space before the colon, a second Subject ignored",
         "from:   Bob\r\n  <bob@example.org>  \nSUBJECT :\tHi\nDate: Sat, 21 Nov 2026\n"
         " 15:13:00 +0000\nMessage-Id: <m1@example.org>\nSubject: second\n\nHello\n",
         PLAIN_FP},
        {"X-Replygate-*, Authentication-Results, ARC, Return-Path ignored",
         "Return-Path: <bob@example.org>\nX-Original-To: reply@r\nX-Replygate-TLS: version=x\n"
         "Authentication-Results: mx; spf=pass\nARC-Seal: i=1\n" PLAIN,
         PLAIN_FP},
        {"empty message: four NULs (printf | sha256sum)", "",
         "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119"},
        {"no empty line: no body (printf | sha256sum)", "Subject: x\n",
         "883fd21d0235cf8f1761d2f9941a8346f5df6c6eea03b396b9bc92b41fbf978e"},
        {"a lone CR in the body stays", "Subject: a\r\n\r\nx\ry\r\n\r\n",
         "b266526e1939b1e1046ad2c7b64b205249de33c4ce1596c34fd9406a60e9b532"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char got[RAWMAIL_FINGERPRINT_HEX + 1];

        rawmail_fingerprint(cases[i].raw, strlen(cases[i].raw), got);
        if (strcmp(got, cases[i].want) != 0)
            test_failf("%s: got %s, want %s", cases[i].label, got, cases[i].want);
    }
}

/* test_changes - one changed byte of what counts moves the fingerprint */
static void
test_changes(void)
{
    static const struct {
        const char *label, *from, *to;
    } cases[] = {
        {"body", "Hello\n", "Hellp\n"},
        {"From", "bob@example.org>\nSubject", "bob@example.net>\nSubject"},
        {"Date", "15:13:00", "15:13:01"},
        {"Subject", "Subject: Hi", "Subject: Ho"},
        {"Message-ID", "<m1@", "<m2@"},
        {"a trailing empty line of the body", "Hello\n", "Hello\n\n"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) raw = g_string_new(PLAIN);
        char got[RAWMAIL_FINGERPRINT_HEX + 1];

        g_string_replace(raw, cases[i].from, cases[i].to, 1);
        rawmail_fingerprint(raw->str, raw->len, got);
        if (strcmp(got, PLAIN_FP) == 0)
            test_failf("%s changed: the fingerprint stayed %s", cases[i].label, got);
    }
}

/* test_headers - single values, the Message-ID, the body offset */
static void
test_headers(void)
{
    static const char raw[] = "From mbox line\nX-A: one\r\n two\r\nMessage-ID:  <a@b>  (c)\n"
                              "Subject:\n\nbody\n";
    g_autofree char *a = rawmail_header(raw, sizeof raw - 1, "x-a");
    g_autofree char *subject = rawmail_header(raw, sizeof raw - 1, "Subject");
    g_autofree char *missing = rawmail_header(raw, sizeof raw - 1, "To");
    g_autofree char *mid = rawmail_message_id(raw, sizeof raw - 1);
    g_autofree char *bare = rawmail_message_id("Message-ID: a@b\n\n", 17);
    GArray *headers = rawmail_headers(raw, sizeof raw - 1, 65536);
    gsize body = rawmail_body_offset(raw, sizeof raw - 1);

    if (g_strcmp0(a, "one two") != 0)
        test_failf("folded value: got \"%s\", want \"one two\"", a);
    if (g_strcmp0(subject, "") != 0)
        test_failf("empty value: got \"%s\", want \"\"", subject);
    if (missing != NULL)
        test_failf("absent header: got \"%s\", want NULL", missing);
    if (g_strcmp0(mid, "a@b") != 0)
        test_failf("Message-ID: got \"%s\", want \"a@b\"", mid);
    if (g_strcmp0(bare, "a@b") != 0)
        test_failf("Message-ID without brackets: got \"%s\", want \"a@b\"", bare);
    if (strcmp(raw + body, "body\n") != 0)
        test_failf("body offset: got \"%s\", want \"body\\n\"", raw + body);
    if (headers->len != 3)
        test_failf("fields: got %u, want 3 (the mbox line is no field)", headers->len);
    else if (strcmp(g_array_index(headers, HeaderField, 0).value, "one two") != 0)
        test_failf("unfolded field: got \"%s\", want \"one two\"",
                   g_array_index(headers, HeaderField, 0).value);
    rawmail_headers_free(headers);
}

/* test_linear - a million folded lines are read, not rescanned */
static void
test_linear(void)
{
    g_autoptr(GString) raw = g_string_new("Subject: a\n");
    char got[RAWMAIL_FINGERPRINT_HEX + 1];

    for (int i = 0; i < 1000000; i++)
        g_string_append(raw, " b\n");
    g_string_append(raw, "\nbody\n");
    rawmail_fingerprint(raw->str, raw->len, got);
    if (strlen(got) != RAWMAIL_FINGERPRINT_HEX)
        test_failf("a long folded header: got \"%s\"", got);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rawmail/known-answers", test_known_answers);
    g_test_add_func("/rawmail/changes", test_changes);
    g_test_add_func("/rawmail/headers", test_headers);
    g_test_add_func("/rawmail/linear", test_linear);
    return g_test_run();
}
