/*
 * ratelimit.c - fixed windows per name, expired in creation order (ratelimit.h).
 *
 * Each table is a hash of name -> entry plus a FIFO of the same entries in
 * the order they were made. A window starts when its entry is made, so the
 * head of the FIFO always expires first: expiring is popping the head while
 * it is old. An entry whose window has passed when its name comes again is
 * dropped and made afresh at the tail, which keeps the order.
 */
#include <pthread.h>
#include <string.h>

#include "ratelimit.h"

typedef struct {
    char *name;
    gint64 start;  /* when the window began */
    guint64 count; /* messages counted in it */
} RateEntry;

typedef struct {
    GHashTable *by_name; /* name -> RateEntry *, keys borrowed from the entries */
    GQueue fifo;         /* RateEntry *, oldest first; owns the entries */
} RateTableData;

struct RateLimiter {
    pthread_mutex_t lock;
    guint max_entries;
    gint64 window;
    guint64 untracked;
    RateTableData tables[RATE_N_TABLES];
};

/* entry_free - release one entry */
static void
entry_free(RateEntry *entry)
{
    g_free(entry->name);
    g_free(entry);
}

/* ratelimit_new - empty tables */
RateLimiter *
ratelimit_new(guint max_entries, guint window_s)
{
    RateLimiter *rl = g_new0(RateLimiter, 1);

    pthread_mutex_init(&rl->lock, NULL);
    rl->max_entries = max_entries;
    rl->window = window_s;
    for (guint t = 0; t < RATE_N_TABLES; t++) {
        rl->tables[t].by_name = g_hash_table_new(g_str_hash, g_str_equal);
        g_queue_init(&rl->tables[t].fifo);
    }
    return rl;
}

/* ratelimit_free - release the tables (NULL-safe) */
void
ratelimit_free(RateLimiter *rl)
{
    if (rl == NULL)
        return;
    for (guint t = 0; t < RATE_N_TABLES; t++) {
        g_hash_table_unref(rl->tables[t].by_name);
        g_queue_clear_full(&rl->tables[t].fifo, (GDestroyNotify)entry_free);
    }
    pthread_mutex_destroy(&rl->lock);
    g_free(rl);
}

/* expire - drop the entries whose window has passed (under the lock) */
static void
expire(RateLimiter *rl, RateTableData *table, gint64 now)
{
    RateEntry *head;

    while ((head = g_queue_peek_head(&table->fifo)) != NULL && head->start + rl->window <= now) {
        g_queue_pop_head(&table->fifo);
        g_hash_table_remove(table->by_name, head->name);
        entry_free(head);
    }
}

/* live_entry - the name's entry in its current window, or NULL (under the lock) */
static RateEntry *
live_entry(RateLimiter *rl, RateTableData *table, const char *name, gint64 now)
{
    RateEntry *entry = g_hash_table_lookup(table->by_name, name);

    if (entry != NULL && entry->start + rl->window <= now) {
        /* Not reached after expire(), but cheap to be sure of. */
        g_queue_remove(&table->fifo, entry);
        g_hash_table_remove(table->by_name, entry->name);
        entry_free(entry);
        entry = NULL;
    }
    return entry;
}

/* ratelimit_charge - count one message against every charge, or none */
int
ratelimit_charge(RateLimiter *rl, const RateCharge *charges, guint n, gint64 now)
{
    int over = -1;

    pthread_mutex_lock(&rl->lock);
    for (guint i = 0; i < n && over < 0; i++) {
        RateTableData *table = &rl->tables[charges[i].table];
        RateEntry *entry;

        if (charges[i].limit == 0)
            continue;
        expire(rl, table, now);
        entry = live_entry(rl, table, charges[i].name, now);
        if (entry != NULL && entry->count >= charges[i].limit)
            over = (int)i;
    }
    for (guint i = 0; i < n && over < 0; i++) {
        RateTableData *table = &rl->tables[charges[i].table];
        RateEntry *entry;

        if (charges[i].limit == 0)
            continue;
        entry = g_hash_table_lookup(table->by_name, charges[i].name);
        if (entry == NULL) {
            if (g_hash_table_size(table->by_name) >= rl->max_entries) {
                rl->untracked++; /* full of live names: let this one pass */
                continue;
            }
            entry = g_new0(RateEntry, 1);
            entry->name = g_strdup(charges[i].name);
            entry->start = now;
            g_queue_push_tail(&table->fifo, entry);
            g_hash_table_insert(table->by_name, entry->name, entry);
        }
        entry->count++;
    }
    pthread_mutex_unlock(&rl->lock);
    return over;
}

/* ratelimit_size - live names in a table */
guint
ratelimit_size(RateLimiter *rl, RateTable table, gint64 now)
{
    guint n;

    pthread_mutex_lock(&rl->lock);
    expire(rl, &rl->tables[table], now);
    n = g_hash_table_size(rl->tables[table].by_name);
    pthread_mutex_unlock(&rl->lock);
    return n;
}

/* ratelimit_untracked - charges that found their table full */
guint64
ratelimit_untracked(RateLimiter *rl)
{
    guint64 n;

    pthread_mutex_lock(&rl->lock);
    n = rl->untracked;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
