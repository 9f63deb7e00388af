/*
 * test-authres.c - the Authentication-Results reader (lib/authres.c) against
 * what real verifiers write (OpenDKIM, OpenDMARC, Gmail, Microsoft, rspamd)
 * and against hostile values: text hidden in comments and quoted strings,
 * unterminated ones, broken grammar, versions, limits.
 */
#include <string.h>

#include "authres.h"
#include "testutil.h"

/* render - a parsed header as one canonical line, for comparing */
static char *
render(const AuthresHeader *h)
{
    GString *out = g_string_new(h->authserv_id);

    for (guint i = 0; i < h->results->len; i++) {
        const AuthresResult *r = g_ptr_array_index(h->results, i);

        g_string_append_printf(out, "; %s=%s", r->method, r->result);
        if (r->reason != NULL)
            g_string_append_printf(out, " reason=%s", r->reason);
        if (r->smtp_mailfrom != NULL)
            g_string_append_printf(out, " smtp.mailfrom=%s", r->smtp_mailfrom);
        if (r->header_d != NULL)
            g_string_append_printf(out, " header.d=%s", r->header_d);
        if (r->header_i != NULL)
            g_string_append_printf(out, " header.i=%s", r->header_i);
        if (r->header_from != NULL)
            g_string_append_printf(out, " header.from=%s", r->header_from);
    }
    return g_string_free(out, FALSE);
}

static void
test_parse(void)
{
    struct {
        const char *label;
        const char *value;
        const char *want; /* render(), or NULL: refused */
    } cases[] = {
        /* What verifiers write. */
        {"OpenDKIM",
         "mx.example.com;\n\tdkim=pass (2048-bit key; unprotected) header.d=example.org "
         "header.i=@example.org header.a=rsa-sha256 header.s=sel header.b=AbC+/dE=",
         "mx.example.com; dkim=pass header.d=example.org header.i=@example.org"},
        {"OpenDKIM, two signatures and ATPS",
         "mx.example.com; dkim=fail reason=\"signature verification failed\" (1024-bit key) "
         "header.d=evil.example header.i=@evil.example; dkim=pass (2048-bit key) "
         "header.d=example.org; dkim-atps=neutral",
         "mx.example.com; dkim=fail reason=signature verification failed header.d=evil.example "
         "header.i=@evil.example; dkim=pass header.d=example.org; dkim-atps=neutral"},
        {"OpenDMARC", "mx.example.com; dmarc=pass (p=reject dis=none) header.from=example.org",
         "mx.example.com; dmarc=pass header.from=example.org"},
        {"OpenDMARC's SPF", "mx.example.com; spf=pass smtp.mailfrom=example.org",
         "mx.example.com; spf=pass smtp.mailfrom=example.org"},
        {"Gmail",
         "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20161025 "
         "header.b=Xq1Lx0Sb;\r\n       spf=pass (google.com: domain of bob@example.com "
         "designates 192.0.2.1 as permitted sender) smtp.mailfrom=bob@example.com;\r\n       "
         "dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com",
         "mx.google.com; dkim=pass header.i=@example.com; spf=pass "
         "smtp.mailfrom=bob@example.com; dmarc=pass header.from=example.com"},
        {"Microsoft's bare action= and compauth",
         "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=none (message not "
         "signed) header.d=none;dmarc=none action=none header.from=example.com;compauth=pass "
         "reason=100",
         NULL /* no authserv-id: "spf=pass (...)" is not one */},
        {"Microsoft with its id",
         "mx.microsoft.com 1; spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; "
         "dkim=none (message not signed) header.d=none;dmarc=none action=none "
         "header.from=example.com;compauth=pass reason=100",
         "mx.microsoft.com; spf=pass smtp.mailfrom=example.com; dkim=none header.d=none; "
         "dmarc=none header.from=example.com; compauth=pass reason=100"},
        {"rspamd",
         "mx.example.com; dkim=pass header.d=example.org header.s=dkim header.b=abc; "
         "dmarc=pass (policy=reject) header.from=example.org; spf=pass (mx.example.com: domain "
         "of a@example.org designates 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.org",
         "mx.example.com; dkim=pass header.d=example.org; dmarc=pass header.from=example.org; "
         "spf=pass smtp.mailfrom=a@example.org"},
        /* The grammar's corners. */
        {"none", "mx.example.com; none", "mx.example.com"},
        {"none with comments", "mx.example.com (x) ; (y) none (z)", "mx.example.com"},
        {"only the id", "mx.example.com", "mx.example.com"},
        {"trailing semicolon", "mx.example.com; dkim=pass header.d=x.org;",
         "mx.example.com; dkim=pass header.d=x.org"},
        {"version 1", "mx.example.com 1; dkim=pass header.d=a.org",
         "mx.example.com; dkim=pass header.d=a.org"},
        {"version 2 is not ours", "mx.example.com 2; dmarc=pass header.from=a.org", NULL},
        {"method version 1", "mx; dkim/1=pass header.d=a.org", "mx; dkim=pass header.d=a.org"},
        {"method version with CFWS", "mx; dkim (c) / (d) 1 = pass", "mx; dkim=pass"},
        {"method version 2 is ignored", "mx; dmarc/2=pass header.from=a.org; spf=fail",
         "mx; spf=fail"},
        {"method version not a number", "mx; dkim/x=pass", NULL},
        {"quoted authserv-id", "\"mx.example.com\"; spf=pass smtp.mailfrom=a@b.org",
         "mx.example.com; spf=pass smtp.mailfrom=a@b.org"},
        {"comments around the id", "(comment) mx.example.com (more) ; dkim=pass",
         "mx.example.com; dkim=pass"},
        {"white space around = and .", "mx; dkim = pass header . d = x.org",
         "mx; dkim=pass header.d=x.org"},
        {"names in any case, values as written", "MX.Example.COM; DKIM=Pass Header.D=Example.ORG",
         "MX.Example.COM; dkim=pass header.d=Example.ORG"},
        {"folded with CRLF",
         "mx.example.com;\r\n\tdkim=pass header.d=x.org;\r\n\tspf=fail "
         "smtp.mailfrom=y.org",
         "mx.example.com; dkim=pass header.d=x.org; spf=fail smtp.mailfrom=y.org"},
        {"unknown methods and properties kept or skipped",
         "mx; x-foo=bar; auth=pass smtp.auth=alice; iprev=pass policy.iprev=192.0.2.1",
         "mx; x-foo=bar; auth=pass; iprev=pass"},
        {"bare name=value after a result", "mx; dkim=pass d=x.org", "mx; dkim=pass"},
        {"quoted local part", "mx; spf=pass smtp.mailfrom=\"john doe\"@example.org",
         "mx; spf=pass smtp.mailfrom=john doe@example.org"},
        {"quoted property value", "mx; dkim=pass header.d=\"x.org\"",
         "mx; dkim=pass header.d=x.org"},
        {"UTF-8 in the id", "mx.ex\xc3\xa4mple.com; dkim=pass", "mx.ex\xc3\xa4mple.com; dkim=pass"},
        /* Hostile: text that must never be read as a result. */
        {"dmarc=pass inside a comment", "mx; dkim=pass (a (b; dmarc=pass) c) header.d=x.org",
         "mx; dkim=pass header.d=x.org"},
        {"escaped parenthesis inside a comment",
         "mx; dkim=fail (a \\) dmarc=pass header.from=evil.org) header.d=x.org",
         "mx; dkim=fail header.d=x.org"},
        {"dmarc=pass inside a quoted reason",
         "mx; dkim=pass reason=\"ok; dmarc=pass\" header.d=x.org",
         "mx; dkim=pass reason=ok; dmarc=pass header.d=x.org"},
        {"our id inside a comment after another id",
         "evil.example (mx.example.com); dmarc=pass header.from=a.org",
         "evil.example; dmarc=pass header.from=a.org"},
        {"unterminated comment", "mx; dkim=pass (header.d=x.org", NULL},
        {"unterminated comment, escaped end", "mx; dkim=pass (x\\", NULL},
        {"unterminated quoted string", "mx; dkim=pass reason=\"x; dmarc=pass", NULL},
        {"quoted string ends in a backslash", "mx; dkim=pass reason=\"x\\", NULL},
        {"no = after the method", "mx; dkim pass", NULL},
        {"no result", "mx; dkim=", NULL},
        {"no result before the properties", "mx; dkim= header.d=x.org", NULL},
        {"empty resinfo", "mx;;dkim=pass", NULL},
        {"no authserv-id", "; dmarc=pass header.from=a.org", NULL},
        {"empty value", "", NULL},
        {"white space only", " \t\r\n ", NULL},
        {"empty quoted authserv-id", "\"\"; dmarc=pass", NULL},
        {"a word after the properties", "mx; dkim=pass header.d=x.org garbage", NULL},
        {"a property without =", "mx; dkim=pass header.d", NULL},
        {"a property without a value", "mx; dkim=pass header.d=", NULL},
        {"a property without a name", "mx; dkim=pass header.=x.org", NULL},
        {"the same property twice", "mx; dmarc=pass header.from=a.org header.from=b.org", NULL},
        {"control character in a value", "mx; dkim=pass header.d=x\x01.org", NULL},
        {"two ids", "mx.example.com mx.example.net; dkim=pass", NULL},
        {"no ; between results: the second is not read as one",
         "mx; dkim=pass header.d=x.org dmarc=pass", "mx; dkim=pass header.d=x.org"},
        {"@ in an unquoted id", "bob@mx.example.com; dkim=pass", NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *why = NULL;
        g_autoptr(AuthresHeader) h = authres_parse(cases[i].value, &why);
        g_autofree char *got = h != NULL ? render(h) : NULL;

        if (g_strcmp0(got, cases[i].want) != 0)
            test_failf("%s: got \"%s\" (%s), want \"%s\"", cases[i].label,
                       got != NULL ? got : "(refused)", why != NULL ? why : "-",
                       cases[i].want != NULL ? cases[i].want : "(refused)");
        else if (h == NULL && why == NULL)
            test_failf("%s: refused without a reason", cases[i].label);
    }
}

/* test_limits - the size, result-count and nesting limits */
static void
test_limits(void)
{
    g_autoptr(GString) many = g_string_new("mx.example.com");
    g_autoptr(GString) nested = g_string_new("mx.example.com; dkim=pass ");
    g_autofree char *huge = NULL;
    const char *why = NULL;
    AuthresHeader *h;

    for (guint i = 0; i < AUTHRES_MAX_RESULTS; i++)
        g_string_append(many, "; dkim=fail header.d=x.org");
    h = authres_parse(many->str, &why);
    if (h == NULL || h->results->len != AUTHRES_MAX_RESULTS)
        test_failf("%u results: got %s, want all", AUTHRES_MAX_RESULTS, why);
    authres_header_free(h);
    g_string_append(many, "; dmarc=pass header.from=x.org");
    h = authres_parse(many->str, &why);
    if (h != NULL || g_strcmp0(why, "too many results") != 0)
        test_failf("%u results: got %s, want refused (too many results)", AUTHRES_MAX_RESULTS + 1,
                   h != NULL ? "accepted" : why);
    authres_header_free(h);

    for (guint i = 0; i < 5000; i++)
        g_string_append_c(nested, '(');
    for (guint i = 0; i < 5000; i++)
        g_string_append_c(nested, ')');
    g_string_append(nested, " header.d=x.org");
    h = authres_parse(nested->str, &why);
    if (h == NULL || h->results->len != 1)
        test_failf("5000 nested comments: got %s, want one result", why);
    authres_header_free(h);
    g_string_truncate(nested, nested->len - strlen(" header.d=x.org") - 1);
    h = authres_parse(nested->str, &why);
    if (h != NULL)
        test_failf("5000 nested comments, one not closed: accepted, want refused");
    authres_header_free(h);

    huge = g_strnfill(AUTHRES_MAX_VALUE + 1, 'a');
    h = authres_parse(huge, &why);
    if (h != NULL || g_strcmp0(why, "the value is too long") != 0)
        test_failf("a value over the limit: got %s, want refused", h != NULL ? "accepted" : why);
    authres_header_free(h);
    h = authres_parse(NULL, &why);
    if (h != NULL)
        test_failf("NULL: accepted, want refused");
}

static void
test_domain(void)
{
    struct {
        const char *value, *want;
    } cases[] = {
        {"bob@Example.ORG.", "example.org"},
        {"@x.org", "x.org"},
        {"X.org", "x.org"},
        {"\"a@b\"@c.org", "c.org"},
        {"", NULL},
        {"bob@", NULL},
        {".", NULL},
        {NULL, NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = authres_domain(cases[i].value);

        if (g_strcmp0(got, cases[i].want) != 0)
            test_failf("authres_domain(%s): got %s, want %s", cases[i].value, got, cases[i].want);
    }
}

/* test_authserv_id - the id alone, also of a value that is broken later on */
static void
test_authserv_id(void)
{
    struct {
        const char *value, *want;
    } cases[] = {
        {"mx.example.com; dkim=pass", "mx.example.com"},
        {" (c) \"mx.example.com\" 1; dkim=pass", "mx.example.com"},
        {"mx.example.com; dkim=pass (not closed", "mx.example.com"},
        {"; dkim=pass", NULL},
        {"(not closed mx.example.com", NULL},
        {"\"\"; x", NULL},
        {"", NULL},
        {NULL, NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = authres_authserv_id(cases[i].value);

        if (g_strcmp0(got, cases[i].want) != 0)
            test_failf("authres_authserv_id(%s): got %s, want %s", cases[i].value, got,
                       cases[i].want);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/authres/parse", test_parse);
    g_test_add_func("/authres/limits", test_limits);
    g_test_add_func("/authres/domain", test_domain);
    g_test_add_func("/authres/authserv-id", test_authserv_id);
    return g_test_run();
}
