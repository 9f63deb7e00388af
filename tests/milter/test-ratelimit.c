/*
 * test-ratelimit.c - the rate-limit tables (milter/ratelimit.c) on a clock the
 * test drives: the limit, the window, both tables at once, expiry, and the
 * hard cap on names.
 */
#include "ratelimit.h"
#include "../unit/testutil.h"

/* charge_one - one message against one name */
static int
charge_one(RateLimiter *rl, RateTable table, const char *name, guint64 limit, gint64 now)
{
    RateCharge charge = {table, name, limit};

    return ratelimit_charge(rl, &charge, 1, now);
}

/* test_limit - ten messages to one key in ten seconds with a limit of five */
static void
test_limit(void)
{
    g_autoptr(RateLimiter) rl = ratelimit_new(100, 3600);
    g_autoptr(GString) got = g_string_new(NULL);

    for (int i = 0; i < 10; i++)
        g_string_append_c(got, charge_one(rl, RATE_KEY, "i-1-5", 5, 1000 + i) < 0 ? 'p' : 'd');
    if (g_strcmp0(got->str, "pppppddddd") != 0)
        test_failf("ten in ten seconds, limit 5: got %s, want pppppddddd", got->str);
    if (charge_one(rl, RATE_KEY, "i-2-5", 5, 1010) >= 0)
        test_failf("another key is limited too");
    if (charge_one(rl, RATE_KEY, "i-1-5", 5, 1000 + 3599) < 0)
        test_failf("passed before the window ended");
    if (charge_one(rl, RATE_KEY, "i-1-5", 5, 1000 + 3600) >= 0)
        test_failf("still limited when the window ended");
    if (charge_one(rl, RATE_KEY, "i-1-5", 0, 1000 + 3601) >= 0)
        test_failf("limit 0 is not off");
}

/* test_both - a message charged to a sender and a key counts for neither when
 * one of them is over */
static void
test_both(void)
{
    g_autoptr(RateLimiter) rl = ratelimit_new(100, 3600);
    RateCharge both[] = {{RATE_SENDER, "bob@example.org", 2}, {RATE_KEY, "i-1-5", 3}};
    RateCharge key_only[] = {{RATE_KEY, "i-1-5", 3}};
    int over;

    if (ratelimit_charge(rl, both, 2, 10) >= 0 || ratelimit_charge(rl, both, 2, 11) >= 0)
        test_failf("the first two did not pass");
    over = ratelimit_charge(rl, both, 2, 12);
    if (over != 0)
        test_failf("third: got index %d, want 0 (the sender)", over);
    /* The key was counted twice, not three times: one more passes. */
    if (ratelimit_charge(rl, key_only, 1, 13) >= 0)
        test_failf("the key was counted for a message refused by the sender limit");
    if (ratelimit_charge(rl, key_only, 1, 14) != 0)
        test_failf("the key passed past its limit");
    if (charge_one(rl, RATE_SENDER, "i-1-5", 2, 15) >= 0)
        test_failf("the tables share names");
}

/* test_bounded - names expire with their window; a full table lets new names
 * pass untracked */
static void
test_bounded(void)
{
    g_autoptr(RateLimiter) rl = ratelimit_new(1000, 3600);

    for (int i = 0; i < 1500; i++) {
        char name[32];

        g_snprintf(name, sizeof name, "sender-%d@example.org", i);
        if (charge_one(rl, RATE_SENDER, name, 1, 100) >= 0)
            test_failf("%s refused on its first message", name);
    }
    if (ratelimit_size(rl, RATE_SENDER, 100) != 1000)
        test_failf("size %u, want the cap 1000", ratelimit_size(rl, RATE_SENDER, 100));
    if (ratelimit_untracked(rl) != 500)
        test_failf("untracked %" G_GUINT64_FORMAT ", want 500", ratelimit_untracked(rl));
    if (charge_one(rl, RATE_SENDER, "sender-1@example.org", 1, 200) != 0)
        test_failf("a tracked sender passed its limit");
    if (ratelimit_size(rl, RATE_SENDER, 100 + 3600) != 0)
        test_failf("%u names left after their window", ratelimit_size(rl, RATE_SENDER, 3700));
    if (charge_one(rl, RATE_SENDER, "sender-1@example.org", 1, 3700) >= 0)
        test_failf("refused after the window");
}

/* main - the g_test table of tests */
int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ratelimit/limit", test_limit);
    g_test_add_func("/ratelimit/both", test_both);
    g_test_add_func("/ratelimit/bounded", test_bounded);
    return g_test_run();
}
