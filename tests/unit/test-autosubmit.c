/*
 * test-autosubmit.c - every auto-submitted rule of SPEC section 4 and its
 * negatives, and the escaping of log and JSON text.
 */
#include <string.h>

#include "autosubmit.h"
#include "json.h"
#include "maillog.h"
#include "testutil.h"

static void
test_rules(void)
{
    struct {
        const char *label;
        const char *name, *value; /* one header, or NULL */
        const char *sender;
        const char *want; /* reason, or NULL for a person's message */
    } cases[] = {
        {"plain reply", "Subject", "Re: hello", "bob@example.org", NULL},
        {"auto-replied", "Auto-Submitted", "auto-replied", "bob@example.org",
         "Auto-Submitted: auto-replied"},
        {"auto-generated", "Auto-Submitted", "auto-generated", "bob@example.org",
         "Auto-Submitted: auto-generated"},
        {"name and value any case", "auto-submitted", "AUTO-REPLIED", "bob@example.org",
         "Auto-Submitted: AUTO-REPLIED"},
        {"with parameters", "Auto-Submitted", "auto-replied; owner-email=\"a@b\"", "bob@example.org",
         "Auto-Submitted: auto-replied"},
        {"empty value", "Auto-Submitted", "", "bob@example.org", "Auto-Submitted: (empty)"},
        {"Auto-Submitted: no", "Auto-Submitted", "no", "bob@example.org", NULL},
        {"Auto-Submitted: No (by hand)", "Auto-Submitted", "No (by hand)", "bob@example.org",
         NULL},
        {"Auto-Submitted: no; param", "Auto-Submitted", " no ; x=y", "bob@example.org", NULL},
        {"folded value", "Auto-Submitted", "\r\n auto-replied", "bob@example.org",
         "Auto-Submitted: auto-replied"},
        {"X-Autoreply yes", "X-Autoreply", "yes", "bob@example.org", "X-Autoreply: yes"},
        {"X-Autoreply YES", "x-autoreply", "YES", "bob@example.org", "X-Autoreply: yes"},
        {"X-Autoreply no", "X-Autoreply", "no", "bob@example.org", NULL},
        {"X-Autorespond present", "X-Autorespond", "anything", "bob@example.org",
         "X-Autorespond: anything"},
        {"X-FC-Machinegenerated true", "X-FC-Machinegenerated", "True", "bob@example.org",
         "X-FC-Machinegenerated: true"},
        {"X-FC-Machinegenerated false", "X-FC-Machinegenerated", "false", "bob@example.org",
         NULL},
        {"Precedence bulk", "Precedence", "bulk", "bob@example.org", "Precedence: bulk"},
        {"Precedence junk", "Precedence", "Junk", "bob@example.org", "Precedence: junk"},
        {"Precedence list", "precedence", "list", "bob@example.org", "Precedence: list"},
        {"Precedence auto_reply", "Precedence", "auto_reply", "bob@example.org",
         "Precedence: auto_reply"},
        {"X-Precedence bulk", "X-Precedence", "bulk", "bob@example.org", "X-Precedence: bulk"},
        {"Precedence first-class", "Precedence", "first-class", "bob@example.org", NULL},
        {"Precedence normal", "Precedence", "normal", "bob@example.org", NULL},
        {"null sender", NULL, NULL, "", "null envelope sender (a bounce or DSN)"},
        {"null sender in brackets", NULL, NULL, "<>", "null envelope sender (a bounce or DSN)"},
        {"MAILER-DAEMON", NULL, NULL, "<MAILER-DAEMON@mx.example.org>",
         "envelope sender is MAILER-DAEMON"},
        {"postmaster", NULL, NULL, "postmaster@example.org", "envelope sender is postmaster"},
        {"postmaster without domain", NULL, NULL, "Postmaster", "envelope sender is Postmaster"},
        {"postmasters is a person", NULL, NULL, "postmasters@example.org", NULL},
        {"unknown sender not judged", NULL, NULL, NULL, NULL},
        {"hostile value made safe", "Auto-Submitted", "a\r\nX-Evil: 1\x01<script>",
         "bob@example.org", "Auto-Submitted: a  X-Evil? 1??script?"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        HeaderField headers[3] = {
            {"From", "Bob <bob@example.org>"},
            {cases[i].name, cases[i].value},
            {"Subject", "Re: [issue 1]"},
        };
        g_autofree char *got = autosubmit_reason(headers, cases[i].name ? 3 : 1, cases[i].sender);

        if (g_strcmp0(got, cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label, got, cases[i].want);
    }
}

/* The first Auto-Submitted header decides; rules are checked in SPEC order. */
static void
test_order(void)
{
    HeaderField headers[] = {
        {"Precedence", "bulk"},
        {"Auto-Submitted", "auto-replied"},
    };
    g_autofree char *got = autosubmit_reason(headers, 2, "<>");

    g_assert_cmpstr(got, ==, "Auto-Submitted: auto-replied");
}

static void
test_escape(void)
{
    struct {
        const char *label, *input, *want;
    } cases[] = {
        {"plain", "hello <abc@example.org>", "hello <abc@example.org>"},
        {"CR LF", "a\r\nfake: line", "a\\r\\nfake: line"},
        {"tab and backslash", "a\tb\\c", "a\\tb\\\\c"},
        {"control and DEL", "a\x01\x7f", "a\\x01\\x7F"},
        {"UTF-8 kept", "안녕 ü", "안녕 ü"},
        {"invalid UTF-8", "a\xff\xfe", "a\\xFF\\xFE"},
        {"C1 control", "a\xc2\x85z", "a\\u0085z"},
        {"NULL", NULL, ""},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = maillog_escape(cases[i].input);
        if (strcmp(got, cases[i].want) != 0)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label, got, cases[i].want);
    }
    {
        g_autofree char *got = maillog_escape_len("a\0b", 3);
        g_assert_cmpstr(got, ==, "a\\x00b");
    }
}

static void
test_json(void)
{
    struct {
        const char *label, *input, *want;
    } cases[] = {
        {"plain", "abc", "\"abc\""},
        {"quotes and backslash", "a\"b\\c", "\"a\\\"b\\\\c\""},
        {"newlines", "a\nb\r\t", "\"a\\nb\\r\\t\""},
        {"control", "\x01", "\"\\u0001\""},
        {"UTF-8", "日本", "\"日本\""},
        {"invalid UTF-8", "a\xff", "\"a\\ufffd\""},
        {"NULL", NULL, "null"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) out = g_string_new(NULL);
        json_append_string(out, cases[i].input);
        if (strcmp(out->str, cases[i].want) != 0)
            test_failf("%s: got %s, want %s", cases[i].label, out->str, cases[i].want);
    }
    {
        g_autoptr(GString) out = g_string_new("{");
        gboolean first = TRUE;
        json_append_member(out, "a", &first);
        g_string_append(out, "1");
        json_append_member(out, "b", &first);
        json_append_string_len(out, "x\0y", 3);
        g_string_append_c(out, '}');
        g_assert_cmpstr(out->str, ==, "{\"a\": 1, \"b\": \"x\\u0000y\"}");
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/autosubmit/rules", test_rules);
    g_test_add_func("/autosubmit/order", test_order);
    g_test_add_func("/maillog/escape", test_escape);
    g_test_add_func("/json/strings", test_json);
    return g_test_run();
}
