/*
 * ratelimit.h - messages per hour per reply key and per envelope sender.
 *
 * rate_limit_per_key and rate_limit_per_sender (replygate.conf(5)) count, in
 * the milter's memory, the messages accepted for each key and from each
 * sender in a window of one hour that starts with the first of them. Past
 * the limit the milter answers 450 4.7.1, so a mail loop or a flood stops at
 * SMTP and the sender retries later; nothing bounces.
 *
 * Memory is bounded: an entry lives one window and is dropped when it
 * expires (the entries expire in the order they were made, so this costs
 * O(1) per charge), and each table holds at most RATELIMIT_MAX_ENTRIES. When
 * a table is full of live entries a new name is not tracked (fail open: a
 * flood of distinct senders must not defer everybody else), which is counted
 * and logged. The counters are per host and start afresh with the process.
 * Thread-safe (one mutex); the clock is passed in, so tests drive it.
 */
#ifndef RG_MILTER_RATELIMIT_H
#define RG_MILTER_RATELIMIT_H

#include <glib.h>

#define RATELIMIT_WINDOW 3600
#define RATELIMIT_MAX_ENTRIES 100000

typedef enum {
    RATE_KEY,    /* "kind-target-user" */
    RATE_SENDER, /* the envelope sender, lower case */
    RATE_N_TABLES,
} RateTable;

/* One message to count against one name's limit. */
typedef struct {
    RateTable table;
    const char *name;
    guint64 limit; /* messages per window; 0: no limit, nothing counted */
} RateCharge;

typedef struct RateLimiter RateLimiter;

/* ratelimit_new - empty tables of at most max_entries names each, windows of window_s */
RateLimiter *ratelimit_new(guint max_entries, guint window_s);

/* ratelimit_free - release the tables (NULL-safe) */
void ratelimit_free(RateLimiter *rl);

/* ratelimit_charge - count one message against every charge, unless one of
 * them has already reached its limit in its current window: then count none
 * and return that charge's index. -1 when the message may pass. now is in
 * seconds on a monotonic clock. */
int ratelimit_charge(RateLimiter *rl, const RateCharge *charges, guint n, gint64 now);

/* ratelimit_size - live names in a table (after expiring old ones at now) */
guint ratelimit_size(RateLimiter *rl, RateTable table, gint64 now);

/* ratelimit_untracked - how many charges found their table full, since the start */
guint64 ratelimit_untracked(RateLimiter *rl);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RateLimiter, ratelimit_free)

#endif
