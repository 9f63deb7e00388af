/*
 * bench-resident.c - what one reply would cost a resident agent: the same
 * steps replygate-deliver takes for a stored reply, with the same
 * durability, but in one long-running process with one kept PostgreSQL
 * connection (the shape of an LMTP delivery agent). A what-if figure for
 * bench/RESULTS.md, not a program anyone runs in production.
 *
 *   bench-resident -C CONFIG -r RECIPIENT [-n N] MESSAGE
 *
 * Per message, as deliver.c does: spool_write_new() (fsync before the
 * rename), evaluate_message() (parse, key, auto-submitted, cut),
 * store_message() (one transaction, synchronous commit, NOTIFY), then
 * spool_move() to success/. Configuration, key ring and connection are made
 * once. "@@ID@@" in MESSAGE becomes a unique id per message. Prints
 *   result n=.. wall_ms=.. cpu_ms=..   (medians per message)
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "db.h"
#include "evaluate.h"
#include "rg-error.h"
#include "spool.h"
#include "store.h"

/* cpu_ms - this process's CPU time so far, in ms */
static double
cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* cmp_double - qsort comparison */
static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median - of v[n], sorted in place */
static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* deliver_one - the stored path of deliver.c for one message; FALSE on failure */
static gboolean
deliver_one(const Config *config, const KeyRing *ring, PGconn *conn, GBytes *raw,
            const char *recipient, GError **error)
{
    StoreEnvelope envelope = {.queue_id = "BENCH",
                              .sender = "alice@bench.example",
                              .recipient = recipient,
                              .client_address = "127.0.0.1"};
    StoreOutcome outcome = {0};
    g_autofree char *path = spool_write_new(config->spool_directory, raw, error);
    g_autoptr(Verdict) verdict = NULL;
    g_autofree char *moved = NULL;

    if (path == NULL)
        return FALSE;
    verdict = evaluate_message(config, ring, raw, envelope.sender, recipient);
    if (verdict->exit_status != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_DATAERR, "not stored: %s", verdict->status);
        return FALSE;
    }
    if (!store_message(conn, verdict, &envelope, &outcome, error))
        return FALSE;
    moved = spool_move(config->spool_directory, path, "success", error);
    return moved != NULL;
}

int
main(int argc, char **argv)
{
    const char *config_path = NULL, *recipient = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autofree char *msg = NULL;
    g_autofree double *wall = NULL, *cpu = NULL;
    PGconn *conn;
    const char *mark;
    gsize len;
    int n = 200, opt;

    while ((opt = getopt(argc, argv, "C:r:n:")) != -1) {
        switch (opt) {
        case 'C':
            config_path = optarg;
            break;
        case 'r':
            recipient = optarg;
            break;
        case 'n':
            n = atoi(optarg);
            break;
        default:
            goto usage;
        }
    }
    if (config_path == NULL || recipient == NULL || optind >= argc || n <= 0)
        goto usage;
    if (!g_file_get_contents(argv[optind], &msg, &len, &error) ||
        (config = config_load(config_path, &error)) == NULL ||
        (ring = keyring_load(config->secrets_file, &error)) == NULL ||
        (conn = db_connect(config->database, "bench-resident", 0, &error)) == NULL) {
        fprintf(stderr, "bench-resident: %s\n", error->message);
        return 2;
    }
    mark = strstr(msg, "@@ID@@");
    if (mark == NULL) {
        fprintf(stderr, "bench-resident: no @@ID@@ in %s\n", argv[optind]);
        return 2;
    }
    wall = g_new0(double, n);
    cpu = g_new0(double, n);
    for (int i = -3; i < n; i++) { /* three warm-up messages */
        g_autofree char *id = g_strdup_printf("resident-%d-%d-%" G_GINT64_FORMAT, (int)getpid(),
                                              i + 3, g_get_real_time());
        g_autoptr(GString) text = g_string_new_len(msg, mark - msg);
        g_autoptr(GBytes) raw = NULL;
        gint64 t0;
        double c0;

        g_string_append(text, id);
        g_string_append(text, mark + 6);
        raw = g_string_free_to_bytes(g_steal_pointer(&text));
        t0 = g_get_monotonic_time();
        c0 = cpu_ms();
        if (!deliver_one(config, ring, conn, raw, recipient, &error)) {
            fprintf(stderr, "bench-resident: message %d: %s\n", i, error->message);
            return 1;
        }
        if (i >= 0) {
            wall[i] = (g_get_monotonic_time() - t0) / 1000.0;
            cpu[i] = cpu_ms() - c0;
        }
    }
    PQfinish(conn);
    printf("result n=%d wall_ms=%.2f cpu_ms=%.2f\n", n, median(wall, n), median(cpu, n));
    return 0;
usage:
    fputs("usage: bench-resident -C CONFIG -r RECIPIENT [-n N] MESSAGE\n", stderr);
    return 2;
}
