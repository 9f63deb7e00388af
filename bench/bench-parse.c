/*
 * bench-parse.c - the agent's in-process cost per message, without process
 * start-up, configuration, database or spool: message_parse() (GMime parse,
 * MIME walk, charset decoding, attachments with SHA-256, and the quote cut
 * it calls) and trim_reply() alone on the resulting body text.
 *
 *   bench-parse [-n ITERATIONS] [-t SECONDS] MESSAGE...
 *
 * Links agent_core, the same code replygate-deliver runs. Each iteration is
 * timed with g_get_monotonic_time(); after two warm-up iterations it runs
 * ITERATIONS times or until SECONDS have passed (at least 5 times), and
 * reports the median. One line per message:
 *   result file=NAME size=BYTES iterations=.. parse_trim_us=.. trim_us=..
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "message.h"
#include "trim.h"

/* cmp_i64 - qsort comparison */
static int
cmp_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return (x > y) - (x < y);
}

/* median_us - median of v[n], sorted in place */
static double
median_us(gint64 *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* bench_file - time message_parse and trim_reply over one file */
static gboolean
bench_file(const char *path, int iterations, double seconds)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) raw = NULL;
    g_autofree gint64 *parse = g_new0(gint64, iterations);
    g_autofree gint64 *trim = g_new0(gint64, iterations);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *body = NULL;
    char *contents;
    gsize len;
    gint64 deadline;
    int n = 0;

    if (!g_file_get_contents(path, &contents, &len, &error)) {
        fprintf(stderr, "bench-parse: %s\n", error->message);
        return FALSE;
    }
    raw = g_bytes_new_take(contents, len); /* raw owns contents now */
    for (int w = 0; w < 2; w++) {
        g_autoptr(Message) m = message_parse(raw, &error);
        if (m == NULL) {
            fprintf(stderr, "bench-parse: %s: %s\n", path, error->message);
            return FALSE;
        }
        if (body == NULL)
            body = g_strdup(m->body_text ? m->body_text : "");
    }
    deadline = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
    while (n < iterations && (n < 5 || g_get_monotonic_time() < deadline)) {
        gint64 t0 = g_get_monotonic_time();
        Message *m = message_parse(raw, NULL);
        gint64 t1 = g_get_monotonic_time();
        message_free(m);
        parse[n++] = t1 - t0;
    }
    for (int i = 0; i < n; i++) {
        char *reply = NULL, *quoted = NULL;
        gint64 t0 = g_get_monotonic_time();
        trim_reply(body, &reply, &quoted);
        trim[i] = g_get_monotonic_time() - t0;
        g_free(reply);
        g_free(quoted);
    }
    printf("result file=%s size=%zu iterations=%d parse_trim_us=%.1f trim_us=%.1f\n", base, len, n,
           median_us(parse, n), median_us(trim, n));
    return TRUE;
}

int
main(int argc, char **argv)
{
    int iterations = 2000, opt;
    double seconds = 3.0;
    gboolean ok = TRUE;

    while ((opt = getopt(argc, argv, "n:t:")) != -1) {
        switch (opt) {
        case 'n':
            iterations = atoi(optarg);
            break;
        case 't':
            seconds = g_ascii_strtod(optarg, NULL);
            break;
        default:
            fputs("usage: bench-parse [-n ITERATIONS] [-t SECONDS] MESSAGE...\n", stderr);
            return 2;
        }
    }
    if (optind >= argc || iterations < 5) {
        fputs("usage: bench-parse [-n ITERATIONS] [-t SECONDS] MESSAGE...\n", stderr);
        return 2;
    }
    for (int i = optind; i < argc; i++)
        ok = bench_file(argv[i], iterations, seconds) && ok;
    return ok ? 0 : 1;
}
