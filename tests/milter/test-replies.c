/*
 * test-replies.c - every reply text the milter can send to a remote client,
 * made from representative inputs: each must say what happened in words and
 * carry nothing about this host (configuration or secrets paths, file modes,
 * database errors). Details of internal failures go to mail.log only; an
 * internal failure itself answers a bare tempfail, whose text is the MTA's.
 */
#include <string.h>

#include "decide.h"
#include "../unit/testutil.h"

/* What a reply must never contain (case-insensitive). */
static const char *const forbidden[] = {
    "/etc",     "/var",     "/run", "/tmp",  ".conf",      "secret", "mode 0", "sqlstate",
    "database", "postgres", "psql", "errno", "permission", "\r",     "\n",
};

/* check_text - one reply text */
static void
check_text(const char *label, const char *text)
{
    g_autofree char *safe = decide_reply_text(text);
    g_autofree char *lower = g_ascii_strdown(safe, -1);

    if (*safe == '\0')
        test_failf("%s: empty", label);
    for (guint i = 0; i < G_N_ELEMENTS(forbidden); i++) {
        if (strstr(lower, forbidden[i]) != NULL)
            test_failf("%s: \"%s\" holds \"%s\"", label, safe, forbidden[i]);
    }
}

/* test_replies - each text the milter sends */
static void
test_replies(void)
{
    const char *rcpt = "<reply+i-1-0123456789012345678901234567890123456789-5@reply.example.com>";
    const char *sender = "<bob@example.org>";
    HeaderField robot[] = {{"Auto-Submitted", "auto-replied; /etc/replygate/secrets mode 0644"}};
    g_autofree char *reason = autosubmit_reason(robot, 1, sender);
    g_autofree char *unknown = decide_unknown_text(rcpt);
    g_autofree char *keyless = decide_keyless_text("<reply@reply.example.com>");
    g_autofree char *autosub = decide_autosubmit_text(reason);
    g_autofree char *rate_key = decide_rate_text(FALSE, rcpt, sender, 5);
    g_autofree char *rate_sender = decide_rate_text(TRUE, rcpt, sender, 8);

    check_text("530 5.7.0", DECIDE_TLS_TEXT);
    check_text("550 5.1.1 at RCPT", unknown);
    check_text("550 5.1.1 after the headers", keyless);
    check_text("550 5.7.1 (the header value is cut to a safe token)", autosub);
    check_text("452 4.5.3", DECIDE_TOO_MANY_TEXT);
    check_text("450 4.7.1 per key", rate_key);
    check_text("450 4.7.1 per sender", rate_sender);
}

/* main - the g_test table of tests */
int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/replies/texts", test_replies);
    return g_test_run();
}
