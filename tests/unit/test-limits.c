/*
 * test-limits.c - the pure counting of lib/rg-limits.h (issue 13 item 2).
 *
 * Table-driven: which header fields hold addresses, parameters or message
 * ids; how many address groups a value opens (quotes, comments, <...> and
 * [...] hide a colon); how many items the separators allow; and that a value
 * counted in pieces (folded lines) counts as the whole.
 */
#include <string.h>

#include "rg-limits.h"
#include "testutil.h"

/* test_field_kind - header names to kinds */
static void
test_field_kind(void)
{
    const struct {
        const char *name;
        LimitFieldKind want;
    } cases[] = {
        {"To", LIMIT_FIELD_ADDRESSES},
        {"cc", LIMIT_FIELD_ADDRESSES},
        {"BCC", LIMIT_FIELD_ADDRESSES},
        {"From", LIMIT_FIELD_ADDRESSES},
        {"Sender", LIMIT_FIELD_ADDRESSES},
        {"Reply-To", LIMIT_FIELD_ADDRESSES},
        {"Resent-From", LIMIT_FIELD_ADDRESSES},
        {"X-Original-To", LIMIT_FIELD_ADDRESSES},
        {"Delivered-To", LIMIT_FIELD_ADDRESSES},
        {"Disposition-Notification-To", LIMIT_FIELD_ADDRESSES},
        {"In-Reply-To", LIMIT_FIELD_IDS},
        {"References", LIMIT_FIELD_IDS},
        {"Message-ID", LIMIT_FIELD_IDS},
        {"Resent-Message-ID", LIMIT_FIELD_IDS},
        {"Content-Type", LIMIT_FIELD_PARAMETERS},
        {"content-disposition", LIMIT_FIELD_PARAMETERS},
        {"Subject", LIMIT_FIELD_OTHER},
        {"Received", LIMIT_FIELD_OTHER},
        {"DKIM-Signature", LIMIT_FIELD_OTHER},
        {"Tox", LIMIT_FIELD_OTHER},
        {"To-", LIMIT_FIELD_OTHER},
        {"-to", LIMIT_FIELD_OTHER},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        LimitFieldKind got = limits_field_kind(cases[i].name, strlen(cases[i].name));

        if (got != cases[i].want)
            test_failf("%s: got kind %d, want %d", cases[i].name, got, cases[i].want);
    }
}

/* test_groups - address groups opened in one value */
static void
test_groups(void)
{
    const struct {
        const char *label, *value;
        guint64 want;
    } cases[] = {
        {"plain", "Jane <jane@example.com>, bob@example.org", 0},
        {"empty group", "undisclosed-recipients:;", 1},
        {"group with members", "team: a@example.com, b@example.com;", 1},
        {"colon in a quoted name", "\"Re: the plan\" <a@example.com>", 0},
        {"escaped quote stays quoted", "\"a \\\" b: c\" <a@example.com>", 0},
        {"colon in a comment", "(note: x) a@example.com", 0},
        {"colon in a nested comment", "((x:) y:) a@example.com", 0},
        {"source route in angle brackets", "<@relay.example:a@example.com>", 0},
        {"IPv6 literal", "a@[IPv6:2001:db8::1]", 0},
        {"comma ends an unclosed <", "<a@b, g: c@d;", 1},
        {"nested groups", "a: b: c: d@e;;;", 3},
        {"two groups", "a: x@y;, b: z@w;", 2},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        guint64 got = limits_address_groups(cases[i].value, strlen(cases[i].value));

        if (got != cases[i].want)
            test_failf("%s: got %" G_GUINT64_FORMAT " groups, want %" G_GUINT64_FORMAT,
                       cases[i].label, got, cases[i].want);
    }
}

/* test_items - separators counted per kind, and a value in pieces */
static void
test_items(void)
{
    const struct {
        const char *label;
        LimitFieldKind kind;
        const char *value;
        guint64 want;
    } cases[] = {
        {"one mailbox", LIMIT_FIELD_ADDRESSES, "Jane <jane@example.com>", 2},
        {"three bare ones", LIMIT_FIELD_ADDRESSES, "a,b,c", 2},
        {"parameters", LIMIT_FIELD_PARAMETERS, "text/plain; charset=utf-8; format=flowed", 4},
        {"ids", LIMIT_FIELD_IDS, "<a@b> <c@d>", 4},
        {"other counts nothing", LIMIT_FIELD_OTHER, "a,b;c=d<e@f>", 0},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        LimitValueScan scan = {0};

        limits_value_scan(&scan, cases[i].kind, cases[i].value, strlen(cases[i].value));
        if (scan.items != cases[i].want)
            test_failf("%s: got %" G_GUINT64_FORMAT " items, want %" G_GUINT64_FORMAT,
                       cases[i].label, scan.items, cases[i].want);
    }
    {
        /* A folded value: the quote opened on the first line holds on. */
        LimitValueScan scan = {0};
        const char *first = "\"Re:";
        const char *second = " the: plan\" <a@b>, g: ;";

        limits_value_scan(&scan, LIMIT_FIELD_ADDRESSES, first, strlen(first));
        limits_value_scan(&scan, LIMIT_FIELD_ADDRESSES, second, strlen(second));
        if (scan.groups != 1)
            test_failf("folded value: got %" G_GUINT64_FORMAT " groups, want 1", scan.groups);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/limits/field-kind", test_field_kind);
    g_test_add_func("/limits/groups", test_groups);
    g_test_add_func("/limits/items", test_items);
    return g_test_run();
}
