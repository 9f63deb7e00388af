/*
 * test-config.c - replygate.conf parsing (SPEC section 7), table-driven.
 */
#include <string.h>

#include "config.h"
#include "rg-error.h"
#include "testutil.h"

/* Good files: what each name ends up as. */
static void
test_good(void)
{
    struct {
        const char *label, *text;
        const char *name, *want; /* a field, as text */
    } cases[] = {
        {"defaults", "reply_domain = reply.example.com\n", "database", "postgresql:///replygate"},
        {"default prefix", "reply_domain = r.example.com", "address_prefix", "reply"},
        {"default separator", "reply_domain = r.example.com", "address_separator", "+"},
        {"default spool", "reply_domain = r.example.com", "spool_directory",
         "/var/spool/replygate"},
        {"default log", "reply_domain = r.example.com", "processor_log",
         "/var/log/mail-replies/replygate.log"},
        {"default tls", "reply_domain = r.example.com", "tls_min_version", "TLSv1.2"},
        {"default size", "reply_domain = r.example.com", "max_message_size", "26214400"},
        {"default require_tls", "reply_domain = r.example.com", "require_tls", "yes"},
        {"default action", "reply_domain = r.example.com", "auto_submitted_action", "reject"},
        {"default socket", "reply_domain = r.example.com", "milter_socket",
         "unix:/var/spool/postfix/replygate/milter.sock"},
        {"domains by comma and space", "reply_domain = A.example.com,b.example.com c.example.com",
         "reply_domain", "a.example.com b.example.com c.example.com"},
        {"continuation line", "reply_domain = a.example.com,\n    b.example.com\n", "reply_domain",
         "a.example.com b.example.com"},
        {"continuation with tab", "database = host=/tmp\n\tdbname=x\nreply_domain = r.example.com",
         "database", "host=/tmp dbname=x"},
        {"comments and blanks",
         "# a comment\n\n   # indented comment\nreply_domain = r.example.com\n", "reply_domain",
         "r.example.com"},
        {"comment inside continuation", "reply_domain = a.example.com\n# note\n  b.example.com",
         "reply_domain", "a.example.com b.example.com"},
        {"CRLF", "reply_domain = r.example.com\r\nrequire_tls = no\r\n", "require_tls", "no"},
        {"last one wins", "reply_domain = a.example.com\nreply_domain = b.example.com",
         "reply_domain", "b.example.com"},
        {"bool true", "reply_domain = r.example.com\nrequire_tls = TRUE", "require_tls", "yes"},
        {"discard", "reply_domain = r.example.com\nauto_submitted_action = discard",
         "auto_submitted_action", "discard"},
        {"tls 1.3", "reply_domain = r.example.com\ntls_min_version = TLSv1.3", "tls_min_version",
         "TLSv1.3"},
        {"noreply", "reply_domain = r.example.com\nnoreply_address = NoReply@r.example.com",
         "noreply_address", "noreply@r.example.com"},
        {"statics repeat",
         "reply_domain = r.example.com\nstatic_address = help@r.example.com s 1\n"
         "static_address = sales@r.example.com s 2",
         "static_address", "help@r.example.com s 1;sales@r.example.com s 2"},
        {"inet socket", "reply_domain = r.example.com\nmilter_socket = inet:8891@127.0.0.1",
         "milter_socket", "inet:8891@127.0.0.1"},
        {"no space around =", "reply_domain=r.example.com\nmax_message_size=1000",
         "max_message_size", "1000"},
        {"default syslog socket", "reply_domain = r.example.com", "syslog_socket", "/dev/log"},
        {"syslog socket", "reply_domain = r.example.com\nsyslog_socket = /tmp/x/log.sock",
         "syslog_socket", "/tmp/x/log.sock"},
        {"choice in any case", "reply_domain = r.example.com\nauto_submitted_action = DISCARD",
         "auto_submitted_action", "discard"},
        {"default authserv_id", "reply_domain = r.example.com", "authserv_id", "none"},
        {"authserv_id", "reply_domain = r.example.com\nauthserv_id = mx.example.com", "authserv_id",
         "mx.example.com"},
        {"authserv_id set empty again",
         "reply_domain = r.example.com\nauthserv_id = mx.example.com\nauthserv_id =", "authserv_id",
         "none"},
        {"default sender_policy", "reply_domain = r.example.com", "sender_policy", "record"},
        {"sender_policy",
         "reply_domain = r.example.com\nauthserv_id = mx.example.com\nsender_policy = "
         "require-dmarc-pass",
         "sender_policy", "require-dmarc-pass"},
        {"default from_check", "reply_domain = r.example.com", "from_check", "record"},
        {"from_check", "reply_domain = r.example.com\nfrom_check = require", "from_check",
         "require"},
        {"default action_kinds", "reply_domain = r.example.com", "action_kinds", "none"},
        {"action_kinds", "reply_domain = r.example.com\naction_kinds = u, unsub  x", "action_kinds",
         "u unsub x"},
        {"action_kinds set empty again",
         "reply_domain = r.example.com\naction_kinds = u\naction_kinds =", "action_kinds", "none"},
        {"default memory limit", "reply_domain = r.example.com", "delivery_memory_limit",
         "1073741824"},
        {"default cpu limit", "reply_domain = r.example.com", "delivery_cpu_limit", "1m"},
        {"no memory limit", "reply_domain = r.example.com\ndelivery_memory_limit = 0",
         "delivery_memory_limit", "0"},
        {"no cpu limit", "reply_domain = r.example.com\ndelivery_cpu_limit = 0",
         "delivery_cpu_limit", "0"},
        {"largest message size", "reply_domain = r.example.com\nmax_message_size = 1073741824",
         "max_message_size", "1073741824"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(Config) config =
            config_parse(cases[i].text, strlen(cases[i].text), "replygate.conf", &error);
        g_autofree char *got = NULL;
        const char *name = cases[i].name;

        if (config == NULL) {
            test_failf("%s: got error \"%s\", want success", cases[i].label, error->message);
            continue;
        }
        if (strcmp(name, "static_address") != 0) {
            got = config_value_text(config, name);
        } else {
            GString *s = g_string_new(NULL);
            for (guint j = 0; j < config->static_addresses->len; j++) {
                StaticAddress *a = g_ptr_array_index(config->static_addresses, j);
                g_string_append_printf(s, "%s%s %s %" G_GUINT64_FORMAT, j ? ";" : "", a->address,
                                       a->kind, a->target);
            }
            got = g_string_free(s, FALSE);
        }
        if (g_strcmp0(got, cases[i].want) != 0)
            test_failf("%s: %s: got \"%s\", want \"%s\"", cases[i].label, name, got, cases[i].want);
    }
}

/* Durations: Postfix's time units, and back to the largest exact unit. */
static void
test_durations(void)
{
    struct {
        const char *text;
        gboolean ok;
        guint64 seconds;
        const char *back;
    } cases[] = {
        {"0", TRUE, 0, "0"},        {"30", TRUE, 30, "30s"},
        {"30s", TRUE, 30, "30s"},   {"5m", TRUE, 300, "5m"},
        {"2h", TRUE, 7200, "2h"},   {"7d", TRUE, 604800, "7d"},
        {"1w", TRUE, 604800, "7d"}, {"365d", TRUE, 31536000, "365d"},
        {"90S", TRUE, 90, "90s"},   {"", FALSE, 0, NULL},
        {"s", FALSE, 0, NULL},      {"10x", FALSE, 0, NULL},
        {"-1s", FALSE, 0, NULL},    {"1.5h", FALSE, 0, NULL},
        {"010s", FALSE, 0, NULL},   {"99999999999999999999w", FALSE, 0, NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        guint64 got = 0;
        gboolean ok = config_parse_duration(cases[i].text, &got);
        g_autofree char *back = NULL;

        if (ok != cases[i].ok) {
            test_failf("duration \"%s\": got %s, want %s", cases[i].text, ok ? "ok" : "error",
                       cases[i].ok ? "ok" : "error");
            continue;
        }
        if (!ok)
            continue;
        back = config_format_duration(got);
        if (got != cases[i].seconds || strcmp(back, cases[i].back) != 0)
            test_failf("duration \"%s\": got %" G_GUINT64_FORMAT " (%s), want %" G_GUINT64_FORMAT
                       " (%s)",
                       cases[i].text, got, back, cases[i].seconds, cases[i].back);
    }
}

/* Bad files: the error names the file, the line and the name. */
static void
test_bad(void)
{
    struct {
        const char *label, *text, *want;
    } cases[] = {
        {"unknown name", "reply_domain = r.example.com\n\n# x\n\n\n\nreply_domian = x\n",
         "replygate.conf:7: unknown name \"reply_domian\""},
        {"missing required", "database = postgresql:///x\n",
         "replygate.conf: missing required name \"reply_domain\""},
        {"empty file", "", "missing required name \"reply_domain\""},
        {"bad boolean", "reply_domain = r.example.com\nrequire_tls = maybe\n",
         "replygate.conf:2: bad value for \"require_tls\": \"maybe\""},
        {"bad tls version", "reply_domain = r.example.com\ntls_min_version = TLSv2\n",
         "replygate.conf:2: bad value for \"tls_min_version\""},
        {"SSLv3 is not a minimum", "reply_domain = r.example.com\ntls_min_version = SSLv3\n",
         "bad value for \"tls_min_version\""},
        {"bad action", "reply_domain = r.example.com\nauto_submitted_action = bounce\n",
         "bad value for \"auto_submitted_action\""},
        {"bad domain", "reply_domain = reply..example.com\n", "bad value for \"reply_domain\""},
        {"bad sender_policy", "reply_domain = r.example.com\nsender_policy = require-aligned-pass",
         "bad value for \"sender_policy\": \"require-aligned-pass\" must be record or "
         "require-dmarc-pass"},
        {"require-dmarc-pass without authserv_id",
         "reply_domain = r.example.com\nsender_policy = require-dmarc-pass",
         "replygate.conf: \"sender_policy = require-dmarc-pass\" needs \"authserv_id\""},
        {"bad from_check", "reply_domain = r.example.com\nfrom_check = yes",
         "bad value for \"from_check\""},
        {"action kind with a capital", "reply_domain = r.example.com\naction_kinds = U",
         "bad value for \"action_kinds\""},
        {"action kind too long", "reply_domain = r.example.com\naction_kinds = abcdefghijklmnopq",
         "bad value for \"action_kinds\""},
        {"action kind with a digit", "reply_domain = r.example.com\naction_kinds = u1",
         "bad value for \"action_kinds\""},
        {"empty domain", "reply_domain =\n", "replygate.conf:1: bad value for \"reply_domain\""},
        {"bad size", "reply_domain = r.example.com\nmax_message_size = 10MB\n",
         "bad value for \"max_message_size\""},
        {"zero size", "reply_domain = r.example.com\nmax_message_size = 0\n",
         "bad value for \"max_message_size\""},
        /* A message is read into one buffer; past 4 GiB a 32-bit length wrapped. */
        {"size over 1 GiB", "reply_domain = r.example.com\nmax_message_size = 1073741825\n",
         "bad value for \"max_message_size\""},
        {"size of 5 GB", "reply_domain = r.example.com\nmax_message_size = 5000000000\n",
         "bad value for \"max_message_size\""},
        /* Sent in milliseconds by SET LOCAL, whose limit is 2^31 - 1 ms: 30d
         * made every transaction fail, and every reply bounce as bad data. */
        {"lock timeout of 30 days", "reply_domain = r.example.com\ndatabase_lock_timeout = 30d\n",
         "bad value for \"database_lock_timeout\": \"30d\" must be at most 2147483 seconds"},
        {"statement timeout of 4 weeks",
         "reply_domain = r.example.com\ndatabase_statement_timeout = 4w\n",
         "bad value for \"database_statement_timeout\""},
        {"bad cpu limit", "reply_domain = r.example.com\ndelivery_cpu_limit = soon\n",
         "bad value for \"delivery_cpu_limit\""},
        {"negative memory limit", "reply_domain = r.example.com\ndelivery_memory_limit = -1\n",
         "bad value for \"delivery_memory_limit\""},
        {"relative path", "reply_domain = r.example.com\nspool_directory = spool\n",
         "bad value for \"spool_directory\""},
        {"choice names its words", "reply_domain = r.example.com\nauto_submitted_action = x\n",
         "\"x\" must be reject or discard"},
        {"relative syslog socket", "reply_domain = r.example.com\nsyslog_socket = dev/log\n",
         "bad value for \"syslog_socket\""},
        {"bad static", "reply_domain = r.example.com\nstatic_address = help@r.example.com\n",
         "bad value for \"static_address\""},
        {"bad static kind", "reply_domain = r.example.com\nstatic_address = h@r.example.com S 1\n",
         "bad value for \"static_address\""},
        {"bad noreply", "reply_domain = r.example.com\nnoreply_address = nobody\n",
         "bad value for \"noreply_address\""},
        {"bad socket", "reply_domain = r.example.com\nmilter_socket = /tmp/sock\n",
         "bad value for \"milter_socket\""},
        {"bad separator", "reply_domain = r.example.com\naddress_separator = ++\n",
         "bad value for \"address_separator\""},
        {"bad prefix", "reply_domain = r.example.com\naddress_prefix = re ply\n",
         "bad value for \"address_prefix\""},
        {"no equals", "reply_domain = r.example.com\nrequire_tls yes\n",
         "replygate.conf:2: missing \"=\" after name \"require_tls\""},
        {"leading continuation", "  reply_domain = r.example.com\n",
         "replygate.conf:1: continuation line without a name"},
        {"error on continued line", "reply_domain = r.example.com\nrequire_tls =\n  perhaps\n",
         "replygate.conf:2: bad value for \"require_tls\": \"perhaps\""},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(Config) config =
            config_parse(cases[i].text, strlen(cases[i].text), "replygate.conf", &error);

        if (config != NULL) {
            test_failf("%s: got success, want \"%s\"", cases[i].label, cases[i].want);
            continue;
        }
        if (strstr(error->message, cases[i].want) == NULL)
            test_failf("%s: got \"%s\", want \"%s\"", cases[i].label, error->message,
                       cases[i].want);
        if (!g_error_matches(error, RG_ERROR, RG_ERROR_CONFIG))
            test_failf("%s: error code %d, want RG_ERROR_CONFIG", cases[i].label, error->code);
    }
}

/* config_load reports a missing file as a configuration error; the path order holds. */
static void
test_load_and_resolve(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(Config) config = config_load("/nonexistent/replygate.conf", &error);

    g_assert_null(config);
    g_assert_true(g_error_matches(error, RG_ERROR, RG_ERROR_CONFIG));
    g_assert_nonnull(strstr(error->message, "/nonexistent/replygate.conf"));

    g_unsetenv("REPLYGATE_CONFIG");
    g_assert_cmpstr(config_resolve_path(NULL), ==, CONFIG_DEFAULT_PATH);
    g_setenv("REPLYGATE_CONFIG", "/env/path.conf", TRUE);
    g_assert_cmpstr(config_resolve_path(NULL), ==, "/env/path.conf");
    g_assert_cmpstr(config_resolve_path("/cli/path.conf"), ==, "/cli/path.conf");
    g_unsetenv("REPLYGATE_CONFIG");
}

/* config_names starts with the names of SPEC section 7, in its order; the
 * names added later follow, each once (replygate.conf(5) lists them all, which
 * tests/ops/man.sh checks). */
static void
test_names(void)
{
    const char *want[] = {"reply_domain",          "address_prefix",  "address_separator",
                          "secrets_file",          "database",        "spool_directory",
                          "processor_log",         "require_tls",     "tls_min_version",
                          "auto_submitted_action", "noreply_address", "static_address",
                          "max_message_size",      "milter_socket",   NULL};
    const char *const *got = config_names();
    guint i;

    for (i = 0; want[i] != NULL; i++) {
        if (g_strcmp0(got[i], want[i]) != 0)
            test_failf("name %u: got %s, want %s", i, got[i], want[i]);
    }
    for (i = 0; got[i] != NULL; i++) {
        for (guint j = 0; j < i; j++) {
            if (strcmp(got[i], got[j]) == 0)
                test_failf("name %s is listed twice", got[i]);
        }
    }
}

/* tls_version_rank orders versions. */
static void
test_tls_rank(void)
{
    g_assert_cmpint(tls_version_rank("TLSv1"), <, tls_version_rank("TLSv1.1"));
    g_assert_cmpint(tls_version_rank("TLSv1.1"), <, tls_version_rank("TLSv1.2"));
    g_assert_cmpint(tls_version_rank("TLSv1.2"), <, tls_version_rank("TLSv1.3"));
    g_assert_cmpint(tls_version_rank("SSLv3"), <, tls_version_rank("TLSv1"));
    g_assert_cmpint(tls_version_rank("bogus"), ==, -1);
    g_assert_cmpint(tls_version_rank(NULL), ==, -1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/good", test_good);
    g_test_add_func("/config/bad", test_bad);
    g_test_add_func("/config/durations", test_durations);
    g_test_add_func("/config/load-and-resolve", test_load_and_resolve);
    g_test_add_func("/config/names", test_names);
    g_test_add_func("/config/tls-rank", test_tls_rank);
    return g_test_run();
}
