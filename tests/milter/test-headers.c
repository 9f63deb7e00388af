/*
 * test-headers.c - the milter's bounded header book (milter/headers.c),
 * table-driven: what is kept for the key lookup and the auto-submitted
 * rules, the caps, the authserv-id an Authentication-Results header claims,
 * and the deletion plan, which no cap may shorten.
 */
#include <string.h>

#include "headers.h"
#include "../unit/testutil.h"

/* plan_text - "name:index ..." of a deletion plan */
static char *
plan_text(GArray *plan)
{
    GString *got = g_string_new(NULL);

    for (guint j = 0; j < plan->len; j++) {
        HeaderDeletion *d = &g_array_index(plan, HeaderDeletion, j);
        g_string_append_printf(got, "%s%s:%d", j ? " " : "", d->name, d->index);
    }
    return g_string_free(got, FALSE);
}

/* kept_text - "Name=value|..." of the kept headers */
static char *
kept_text(HeaderBook *book)
{
    GString *got = g_string_new(NULL);
    gsize n = 0;
    const HeaderField *fields = headerbook_fields(book, &n);

    for (gsize j = 0; j < n; j++)
        g_string_append_printf(got, "%s%s=%s", j ? "|" : "", fields[j].name, fields[j].value);
    return g_string_free(got, FALSE);
}

/* test_authserv_id - the authserv-id an Authentication-Results value claims */
static void
test_authserv_id(void)
{
    static const struct {
        const char *label;
        const char *value;
        const char *want; /* NULL: none */
    } cases[] = {
        {"plain", "mx.example.com; dkim=pass header.d=example.org", "mx.example.com"},
        {"leading space and folding", " \r\n\tmx.example.com;\r\n dmarc=pass", "mx.example.com"},
        {"version after the id", "mx.example.com 1; spf=pass", "mx.example.com"},
        {"comment before", "(forged by nobody) mx.example.com; dkim=pass", "mx.example.com"},
        {"nested comment with escapes", "(a (b \\) c) d) mx.example.com; none", "mx.example.com"},
        {"quoted string", "\"mx.example.com\"; dkim=pass", "mx.example.com"},
        {"quoted with escapes", "\"mx\\.example.com\"; none", "mx.example.com"},
        {"comment right after", "mx.example.com(c); none", "mx.example.com"},
        {"no result", "mx.example.com; none", "mx.example.com"},
        {"empty", "", NULL},
        {"only a comment", "(nothing)", NULL},
        {"semicolon first", "; dkim=pass", NULL},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = headers_authserv_id(cases[i].value);

        if (g_strcmp0(got, cases[i].want) != 0)
            test_failf("%s: got %s, want %s", cases[i].label, got ? got : "(none)",
                       cases[i].want ? cases[i].want : "(none)");
    }
}

/* test_plan - deletions of X-Replygate-* and of forged Authentication-Results */
static void
test_plan(void)
{
    struct {
        const char *label;
        const char *authserv_id;
        const char *headers[16]; /* name, value, ..., NULL */
        const char *want;        /* "name:index ..." in the order to apply */
    } cases[] = {
        {"nothing to delete", "mx.example.com", {"From", "a@b", "Subject", "hi", NULL}, ""},
        {"X-Replygate-* of two names, any case",
         NULL,
         {"X-Replygate-TLS", "a", "x-replygate-tls", "b", "X-Replygate-Key", "c", NULL},
         "X-Replygate-TLS:2 X-Replygate-TLS:1 X-Replygate-Key:1"},
        {"forged Authentication-Results among others, highest first",
         "mx.example.com",
         {"Authentication-Results", "other.example; dkim=pass", "Authentication-Results",
          "mx.example.com; dmarc=pass", "authentication-results", "MX.EXAMPLE.COM; spf=pass",
          "Authentication-Results", "(c) \"mx.example.com\" 1; none", NULL},
         "Authentication-Results:4 Authentication-Results:3 Authentication-Results:2"},
        {"a trailing dot does not save a forged one",
         "mx.example.com",
         {"Authentication-Results", "mx.example.com.; dkim=pass", NULL},
         "Authentication-Results:1"},
        {"another host's id stays",
         "mx.example.com",
         {"Authentication-Results", "mx.example.com.evil; dkim=pass", "Authentication-Results",
          "evil-mx.example.com; dkim=pass", NULL},
         ""},
        {"no authserv_id: none deleted",
         NULL,
         {"Authentication-Results", "mx.example.com; dkim=pass", NULL},
         ""},
        {"both kinds",
         "mx.example.com",
         {"X-Replygate-TLS", "x", "Authentication-Results", "mx.example.com; dkim=pass", NULL},
         "X-Replygate-TLS:1 Authentication-Results:1"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(HeaderBook) book = headerbook_new(cases[i].authserv_id);
        g_autoptr(GArray) plan = NULL;
        g_autofree char *got = NULL;

        for (guint j = 0; cases[i].headers[j] != NULL; j += 2)
            headerbook_add(book, cases[i].headers[j], cases[i].headers[j + 1]);
        plan = headerbook_deletions(book, NULL, NULL);
        got = plan_text(plan);
        if (strcmp(got, cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label, got, cases[i].want);
    }
}

/* test_kept - what the book keeps, and only that */
static void
test_kept(void)
{
    g_autoptr(HeaderBook) book = headerbook_new(NULL);
    g_autofree char *got = NULL;
    const char *want = "To=a@x|Auto-Submitted=auto-replied|Received=from a for <b@x>|"
                       "Precedence=bulk|References=<r@x>";

    headerbook_add(book, "From", "Bob <bob@example.org>");
    headerbook_add(book, "To", "a@x");
    headerbook_add(book, "Subject", "not kept");
    headerbook_add(book, "Auto-Submitted", "auto-replied");
    headerbook_add(book, "auto-submitted", "a second one: only the first counts");
    headerbook_add(book, "Received", "from a for <b@x>");
    headerbook_add(book, "Precedence", "bulk");
    headerbook_add(book, "X-Replygate-TLS", "deleted, not kept");
    headerbook_add(book, "Message-ID", "<m1@example.org>");
    headerbook_add(book, "Message-ID", "<m2@example.org>");
    headerbook_add(book, "References", "<r@x>");
    got = kept_text(book);
    if (strcmp(got, want) != 0)
        test_failf("kept: got \"%s\", want \"%s\"", got, want);
    if (g_strcmp0(headerbook_first(book, "From"), "Bob <bob@example.org>") != 0)
        test_failf("From: got %s", headerbook_first(book, "From"));
    if (g_strcmp0(headerbook_first(book, "message-id"), "<m1@example.org>") != 0)
        test_failf("Message-ID: got %s", headerbook_first(book, "Message-ID"));
    if (headerbook_truncated(book))
        test_failf("truncated with 3 headers for the key lookup");
}

/* test_caps - the caps bound what is kept, never what is deleted */
static void
test_caps(void)
{
    g_autoptr(HeaderBook) count = headerbook_new("mx.example.com");
    g_autoptr(HeaderBook) bytes = headerbook_new(NULL);
    g_autoptr(GArray) plan = NULL;
    g_autofree char *big = g_strnfill(HEADERS_KEEP_BYTES / 2, 'x');
    gsize n = 0;
    guint n_ours = 0;
    guint n_auth = 0;
    guint64 seen = 0;
    guint64 seen_bytes = 0;

    for (guint i = 0; i < HEADERS_KEEP_MAX + 10; i++)
        headerbook_add(count, "Received", "from a by b");
    /* Padding first, then the forged ones: the caps must not hide them. */
    for (guint i = 0; i < 1000; i++)
        headerbook_add(count, "Cc", "c@example.org");
    headerbook_add(count, "Auto-Submitted", "auto-replied");
    headerbook_add(count, "X-Replygate-TLS", "forged");
    headerbook_add(count, "Authentication-Results", "mx.example.com; dmarc=pass");
    headerbook_fields(count, &n);
    if (n != HEADERS_KEEP_MAX + 1)
        test_failf("count cap: %zu kept, want %d + the Auto-Submitted", n, HEADERS_KEEP_MAX);
    if (!headerbook_truncated(count))
        test_failf("count cap: not marked truncated");
    plan = headerbook_deletions(count, &n_ours, &n_auth);
    if (plan->len != 2 || n_ours != 1 || n_auth != 1)
        test_failf("count cap: %u deletions (%u ours, %u auth), want 2 (1, 1)", plan->len, n_ours,
                   n_auth);
    headerbook_counts(count, &seen, &seen_bytes);
    if (seen != HEADERS_KEEP_MAX + 10 + 1000 + 3)
        test_failf("count cap: %" G_GUINT64_FORMAT " headers counted", seen);

    headerbook_add(bytes, "To", big);
    headerbook_add(bytes, "Cc", big); /* over the byte cap with the name */
    headerbook_add(bytes, "Cc", "small@example.org");
    headerbook_fields(bytes, &n);
    if (n != 2 || !headerbook_truncated(bytes))
        test_failf("byte cap: %zu kept (truncated %d), want 2 and truncated", n,
                   headerbook_truncated(bytes));
}

/* test_many_names - 80,000 distinct X-Replygate-* names: one deletion each
 * (the plan is linear; the miltertest suite prints the time it takes) */
static void
test_many_names(void)
{
    g_autoptr(HeaderBook) book = headerbook_new(NULL);
    g_autoptr(GArray) plan = NULL;
    guint n_ours = 0;
    gboolean ordered = TRUE;

    for (guint i = 0; i < 80000; i++) {
        char name[64];

        g_snprintf(name, sizeof name, "X-Replygate-%u", i);
        headerbook_add(book, name, "v");
        if (i % 2 == 0)
            headerbook_add(book, name, "again"); /* every other name twice */
    }
    plan = headerbook_deletions(book, &n_ours, NULL);
    if (plan->len != 120000 || n_ours != 120000)
        test_failf("got %u deletions (%u counted), want 120000", plan->len, n_ours);
    for (guint i = 0; i + 1 < plan->len && ordered; i++) {
        HeaderDeletion *a = &g_array_index(plan, HeaderDeletion, i);
        HeaderDeletion *b = &g_array_index(plan, HeaderDeletion, i + 1);
        if (strcmp(a->name, b->name) == 0 && a->index <= b->index)
            ordered = FALSE;
    }
    if (!ordered)
        test_failf("a name's deletions are not highest index first");
}

/* main - the g_test table of tests */
int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/headers/authserv-id", test_authserv_id);
    g_test_add_func("/headers/plan", test_plan);
    g_test_add_func("/headers/kept", test_kept);
    g_test_add_func("/headers/caps", test_caps);
    g_test_add_func("/headers/many-names", test_many_names);
    return g_test_run();
}
