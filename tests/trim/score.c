/*
 * score.c - the reply-extraction scorer: runs trim_reply() (and
 * html_to_text() for HTML bodies) over the corpus in tests/trim/corpus and
 * over generated pathological bodies, and speaks TAP.
 *
 * A corpus item is NAME.txt or NAME.html with NAME.want, the reply that
 * must come out; NAME is CLIENT-LANG-WHAT. The scorer prints one TAP case
 * per item, the accuracy per client and per language, "N passed, N
 * failed" and the worst extraction time, wall clock and CPU (measured,
 * never asserted). It
 * fails below 100%, and also when any item whose body has text comes out
 * with an empty reply (the never-empty rule of issue 19), whatever its
 * .want says: a body has text when a line holds a letter or digit and is
 * neither quoted ('>') nor an attribution (a paragraph ending with ':' and
 * followed by '>' lines), which this file judges on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trim.h"

typedef struct {
    guint pass;
    guint total;
} Score;

typedef struct {
    guint tap;
    guint passed;
    guint failed;
    guint empty_with_text; /* items whose body has text and whose reply is empty */
    gint64 worst_us;
    gint64 worst_cpu_us; /* the thread's CPU time: steadier on a shared machine */
    char *worst_cpu_name;
    char *worst_name;
    GHashTable *clients; /* name -> Score */
    GHashTable *langs;   /* name -> Score */
    GHashTable *kinds;   /* "text" or "html" -> Score */
    GHashTable *forms;   /* "client/text" and "client/html" -> count */
} Run;

static const char *const want_clients[] = {
    "gmail", "outlook", "owa", "applemail", "iosmail", "thunderbird",
    "yahoo", "proton",  "k9",  "zimbra",    NULL,
};
static const char *const want_langs[] = {
    "en", "de", "fr", "es", "pt", "it", "nl", "sv", "no",
    "da", "pl", "ru", "uk", "zh", "ja", "ko", NULL,
};

/* cpu_us - this thread's CPU time in microseconds */
static gint64
cpu_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* strip_end - drop trailing white space in place. */
static void
strip_end(char *s)
{
    gsize n = strlen(s);

    while (n > 0 && g_ascii_isspace(s[n - 1]))
        s[--n] = '\0';
}

/* score_add - count one result under key. */
static void
score_add(GHashTable *table, const char *key, gboolean ok)
{
    Score *s = g_hash_table_lookup(table, key);

    if (s == NULL) {
        s = g_new0(Score, 1);
        g_hash_table_insert(table, g_strdup(key), s);
    }
    s->total++;
    s->pass += ok ? 1 : 0;
}

/* line_has_text - does s[a, b) hold a letter or a digit (any non-ASCII
 * byte counts: the letters of other scripts)? */
static gboolean
line_has_text(const char *s, gsize a, gsize b)
{
    for (; a < b; a++)
        if (g_ascii_isalnum(s[a]) || (guchar)s[a] >= 0x80)
            return TRUE;
    return FALSE;
}

/* line_quoted - does s[a, b) start with '>' after spaces? */
static gboolean
line_quoted(const char *s, gsize a, gsize b)
{
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    return a < b && s[a] == '>';
}

/* line_blank - is s[a, b) only white space? */
static gboolean
line_blank(const char *s, gsize a, gsize b)
{
    for (; a < b; a++)
        if (!g_ascii_isspace(s[a]))
            return FALSE;
    return TRUE;
}

/* body_has_text - the scorer's own, simple view of "the body has text": a
 * paragraph (unquoted lines with no blank line between) with a letter or
 * digit that is not an attribution, that is, one whose last line does not
 * end with ':' before '>' lines or the end. One pass, deciding a paragraph
 * when the next non-blank line is seen. */
static gboolean
body_has_text(const char *s)
{
    gsize n = strlen(s);
    gsize i = 0;
    gboolean open = FALSE;   /* a paragraph not yet decided */
    gboolean text = FALSE;   /* it holds a letter or digit */
    gboolean colon = FALSE;  /* its last line ends with ':' */
    gboolean closed = FALSE; /* a blank line came after it */

    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        gsize end = nl != NULL ? (gsize)(nl - s) : n;
        gsize e = end;

        while (e > i && g_ascii_isspace(s[e - 1]))
            e--;
        if (line_blank(s, i, end)) {
            closed = open;
        } else if (line_quoted(s, i, end)) {
            /* An attribution before its quote is no text; other text is. */
            if (open && text && !colon)
                return TRUE;
            open = FALSE;
        } else {
            if (open && closed && text)
                return TRUE; /* an unquoted paragraph follows: it was text */
            if (!open || closed) {
                open = TRUE;
                text = FALSE;
                closed = FALSE;
            }
            text = text || line_has_text(s, i, end);
            colon = e > i &&
                    (s[e - 1] == ':' || (e - i >= 3 && memcmp(s + e - 3, "\xEF\xBC\x9A", 3) == 0));
        }
        i = end + 1;
    }
    return open && text && !colon;
}

/* print_diag - print text as TAP comment lines, shortened when huge. */
static void
print_diag(const char *label, const char *text)
{
    g_auto(GStrv) lines = NULL;
    gsize len = strlen(text);
    g_autofree char *shown = g_strndup(text, MIN(len, 2000));
    guint i;

    lines = g_strsplit(shown, "\n", 40);
    printf("#   %s (%zu bytes):\n", label, len);
    for (i = 0; lines[i] != NULL; i++)
        printf("#     |%s\n", lines[i]);
}

/* run_item - extract one body, compare with the wanted reply, print TAP. */
static void
run_item(Run *run, const char *name, const char *body, gsize len, gboolean is_html,
         const char *want)
{
    g_autofree char *reply = NULL;
    g_autofree char *quoted = NULL;
    g_autofree char *text = NULL;
    g_autofree char *want_copy = g_strdup(want);
    g_auto(GStrv) parts = g_strsplit(name, "-", 3);
    gint64 t0 = g_get_monotonic_time();
    gint64 c0 = cpu_us();
    gint64 took;
    gint64 cpu;
    gboolean ok;

    if (is_html) {
        trim_html_reply(body, len, &text, &reply, &quoted);
    } else {
        trim_reply(body, &reply, &quoted);
    }
    took = g_get_monotonic_time() - t0;
    cpu = cpu_us() - c0;
    if (cpu > run->worst_cpu_us) {
        run->worst_cpu_us = cpu;
        g_free(run->worst_cpu_name);
        run->worst_cpu_name = g_strdup(name);
    }
    if (took > run->worst_us) {
        run->worst_us = took;
        g_free(run->worst_name);
        run->worst_name = g_strdup(name);
    }
    strip_end(reply);
    strip_end(want_copy);
    ok = strcmp(reply, want_copy) == 0;
    if (*reply == '\0' && body_has_text(is_html ? text : body)) {
        /* Never empty when the body has text, whatever the .want says. */
        run->empty_with_text++;
        ok = FALSE;
    }
    run->tap++;
    printf("%s %u - %s (%.3f ms, cpu %.3f ms)\n", ok ? "ok" : "not ok", run->tap, name,
           took / 1000.0, cpu / 1000.0);
    if (!ok && *reply == '\0' && strcmp(reply, want_copy) == 0)
        printf("#   the body has text, and the reply is empty\n");
    if (!ok) {
        print_diag("got", reply);
        print_diag("want", want_copy);
        if (text != NULL)
            print_diag("html as text", text);
    }
    if (ok)
        run->passed++;
    else
        run->failed++;
    if (parts[0] != NULL && parts[1] != NULL) {
        g_autofree char *form = g_strdup_printf("%s/%s", parts[0], is_html ? "html" : "text");

        score_add(run->clients, parts[0], ok);
        score_add(run->langs, parts[1], ok);
        score_add(run->kinds, is_html ? "html" : "text", ok);
        g_hash_table_insert(run->forms, g_steal_pointer(&form), GINT_TO_POINTER(1));
    }
}

/* compare_names - order a GPtrArray of strings. */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* run_corpus - every NAME.txt / NAME.html with a NAME.want in dir. */
static void
run_corpus(Run *run, const char *dir)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *entry;
    guint i;

    if (d == NULL) {
        printf("not ok %u - open corpus %s: %s\n", ++run->tap, dir, error->message);
        run->failed++;
        return;
    }
    while ((entry = g_dir_read_name(d)) != NULL)
        if (g_str_has_suffix(entry, ".txt") || g_str_has_suffix(entry, ".html"))
            g_ptr_array_add(names, g_strdup(entry));
    g_ptr_array_sort(names, compare_names);
    for (i = 0; i < names->len; i++) {
        const char *file = g_ptr_array_index(names, i);
        gboolean is_html = g_str_has_suffix(file, ".html");
        g_autofree char *stem = g_strndup(file, strlen(file) - (is_html ? 5 : 4));
        g_autofree char *path = g_build_filename(dir, file, NULL);
        g_autofree char *want_path = g_strconcat(dir, "/", stem, ".want", NULL);
        g_autofree char *body = NULL;
        g_autofree char *want = NULL;
        gsize len = 0;

        if (!g_file_get_contents(path, &body, &len, NULL) ||
            !g_file_get_contents(want_path, &want, NULL, NULL)) {
            printf("not ok %u - %s: missing %s.want\n", ++run->tap, stem, stem);
            run->failed++;
            continue;
        }
        run_item(run, stem, body, len, is_html, want);
    }
}

/* repeat - s repeated n times. */
static char *
repeat(const char *s, guint n)
{
    GString *out = g_string_sized_new(strlen(s) * n);
    guint i;

    for (i = 0; i < n; i++)
        g_string_append(out, s);
    return g_string_free(out, FALSE);
}

/* run_pathological - generated 1 MB bodies that must stay linear. */
static void
run_pathological(Run *run)
{
    static const char header[] = "On Sat, Nov 21, 2026 at 3:12 PM Jane <jane@example.com> wrote:\n";
    g_autofree char *quotes = repeat("> >\n", 250000);
    g_autofree char *bq = repeat("bq\n", 350000);
    g_autofree char *xs = repeat("x", 1000000);
    g_autofree char *on_lines =
        repeat("On and on it goes at 3:12 in 2026 and nobody wrote\n", 20000);
    g_autofree char *headers =
        repeat("On Sat, Nov 21, 2026 at 3:12 PM Jane <jane@example.com> wrote:\n> q\n", 15000);
    g_autofree char *colons = repeat("On 2026-11-21 at 3:12 we met:\n", 35000);
    g_autofree char *fences = repeat("```\n", 250000);
    g_autofree char *sigs = repeat("-- \n", 250000);
    g_autofree char *from_lines = repeat("From: a\nTo: b\n", 70000);
    g_autofree char *divs = repeat("<div>", 200000);
    g_autofree char *bqs = repeat("<blockquote type=\"cite\">", 40000);
    g_autofree char *bqs_end = repeat("</blockquote>", 40000);
    g_autofree char *bolds = repeat("<b>x", 200000);
    g_autofree char *amps = repeat("&amp;", 200000);
    g_autofree char *amp_text = repeat("&", 200000);
    g_autofree char *lis = repeat("<ul>", 60000);
    g_autofree char *links = repeat("<a href=\"https://example.com/\">", 60000);
    g_autofree char *body = NULL;
    g_autofree char *want = NULL;

    body = g_strconcat("Reply on top.\n\n", header, quotes, NULL);
    run_item(run, "patho-en-quote-markers", body, strlen(body), FALSE, "Reply on top.");
    g_clear_pointer(&body, g_free);
    want = g_strndup(bq, strlen(bq) - 1);
    run_item(run, "patho-en-bq-lines", bq, strlen(bq), FALSE, want);
    g_clear_pointer(&want, g_free);
    body = g_strconcat(xs, "\n\n", header, "> q\n", NULL);
    run_item(run, "patho-en-long-line", body, strlen(body), FALSE, xs);
    g_clear_pointer(&body, g_free);
    body = g_strconcat(on_lines, "\n", header, "> q\n", NULL);
    want = g_strndup(on_lines, strlen(on_lines) - 1);
    run_item(run, "patho-en-on-lines", body, strlen(body), FALSE, want);
    g_clear_pointer(&body, g_free);
    g_clear_pointer(&want, g_free);
    run_item(run, "patho-en-many-headers", headers, strlen(headers), FALSE, "");
    want = g_strndup(colons, strlen(colons) - 1);
    run_item(run, "patho-en-colon-lines", colons, strlen(colons), FALSE, want);
    g_clear_pointer(&want, g_free);
    want = g_strndup(fences, strlen(fences) - 1);
    run_item(run, "patho-en-fences", fences, strlen(fences), FALSE, want);
    g_clear_pointer(&want, g_free);
    run_item(run, "patho-en-signatures", sigs, strlen(sigs), FALSE, "");
    want = g_strndup(from_lines, strlen(from_lines) - 1);
    run_item(run, "patho-en-header-keys", from_lines, strlen(from_lines), FALSE, want);
    g_clear_pointer(&want, g_free);
    body = g_strconcat(divs, "hello", NULL);
    run_item(run, "patho-en-html-nesting", body, strlen(body), TRUE, "hello");
    g_clear_pointer(&body, g_free);
    body = g_strconcat("<div class=\"", xs, "\">hi</div><a href=\"", xs, NULL);
    run_item(run, "patho-en-html-attribute", body, strlen(body), TRUE, "hi");
    g_clear_pointer(&body, g_free);
    body = g_strconcat("reply<br>", bqs, "q", bqs_end, NULL);
    run_item(run, "patho-en-html-blockquotes", body, strlen(body), TRUE, "reply");
    g_clear_pointer(&body, g_free);
    want = repeat("x", 200000);
    run_item(run, "patho-en-html-unclosed", bolds, strlen(bolds), TRUE, want);
    g_clear_pointer(&want, g_free);
    run_item(run, "patho-en-html-entities", amps, strlen(amps), TRUE, amp_text);
    body = g_strconcat(links, "x", NULL);
    {
        g_autofree char *urls = repeat(" <https://example.com/>", 60000);

        want = g_strconcat("x", urls, NULL);
    }
    run_item(run, "patho-en-html-nested-links", body, strlen(body), TRUE, want);
    g_clear_pointer(&body, g_free);
    g_clear_pointer(&want, g_free);
    body = g_strconcat(lis, "<li>item", NULL);
    run_item(run, "patho-en-html-lists", body, strlen(body), TRUE, "                - item");
    g_clear_pointer(&body, g_free);

    /* Issue 19's rules: delimiter lines, delimiters over text, lines that
     * may end a wrapped header, '>' lines that close an address, device
     * signatures (all kept by the never-empty rule), unmarked blockquotes. */
    {
        g_autofree char *delims = repeat("-----\n", 200000);
        g_autofree char *delim_text = repeat("-----\nx\n", 120000);
        g_autofree char *angles = repeat("<jane@example.com>\n", 55000);
        g_autofree char *closes = repeat("Jane <jane@example.com\n>:\n", 40000);
        g_autofree char *devices = repeat("Sent from my iPhone\n", 50000);
        g_autofree char *bq_html = repeat("<blockquote>x</blockquote>", 40000);
        g_autofree char *bq_want = repeat("> x\n", 40000);

        run_item(run, "patho-en-delimiters", delims, strlen(delims), FALSE, "");
        want = g_strndup(delim_text, strlen(delim_text) - 1);
        run_item(run, "patho-en-delimiters-over-text", delim_text, strlen(delim_text), FALSE, want);
        g_clear_pointer(&want, g_free);
        want = g_strndup(angles, strlen(angles) - 1);
        run_item(run, "patho-en-angle-lines", angles, strlen(angles), FALSE, want);
        g_clear_pointer(&want, g_free);
        want = g_strndup(closes, strlen(closes) - 1);
        run_item(run, "patho-en-wrapped-closes", closes, strlen(closes), FALSE, want);
        g_clear_pointer(&want, g_free);
        want = g_strndup(devices, strlen(devices) - 1);
        run_item(run, "patho-en-device-signatures", devices, strlen(devices), FALSE, want);
        g_clear_pointer(&want, g_free);
        run_item(run, "patho-en-html-unmarked-blockquotes", bq_html, strlen(bq_html), TRUE,
                 bq_want);
    }
}

/* print_scores - one comment line per key of the table. */
static void
print_scores(const char *what, GHashTable *table)
{
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(table), (GCompareFunc)strcmp);
    GList *l;

    for (l = keys; l != NULL; l = l->next) {
        Score *s = g_hash_table_lookup(table, l->data);

        printf("# %s %-12s %3u/%-3u %6.1f%%\n", what, (const char *)l->data, s->pass, s->total,
               100.0 * s->pass / s->total);
    }
}

/* check_coverage - every client in both forms, every language five times. */
static void
check_coverage(Run *run)
{
    GString *missing = g_string_new(NULL);
    guint i;

    for (i = 0; want_clients[i] != NULL; i++) {
        g_autofree char *t = g_strdup_printf("%s/text", want_clients[i]);
        g_autofree char *h = g_strdup_printf("%s/html", want_clients[i]);

        if (!g_hash_table_contains(run->forms, t))
            g_string_append_printf(missing, " %s", t);
        if (!g_hash_table_contains(run->forms, h))
            g_string_append_printf(missing, " %s", h);
    }
    for (i = 0; want_langs[i] != NULL; i++) {
        Score *s = g_hash_table_lookup(run->langs, want_langs[i]);

        if (s == NULL || s->total < 5)
            g_string_append_printf(missing, " %s(<5)", want_langs[i]);
    }
    if (run->passed + run->failed < 150)
        g_string_append_printf(missing, " items(%u<150)", run->passed + run->failed);
    run->tap++;
    if (missing->len == 0) {
        printf("ok %u - corpus covers every client, form and language\n", run->tap);
        run->passed++;
    } else {
        printf("not ok %u - corpus coverage, missing:%s\n", run->tap, missing->str);
        run->failed++;
    }
    g_string_free(missing, TRUE);
}

int
main(int argc, char **argv)
{
    Run run = {0};
    const char *dir = argc > 1 ? argv[1] : REPLYGATE_SOURCE_DIR "/tests/trim/corpus";
    guint total;

    run.clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    run.langs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    run.kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    run.forms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    run_corpus(&run, dir);
    run_pathological(&run);
    check_coverage(&run);
    printf("1..%u\n", run.tap);
    print_scores("client", run.clients);
    print_scores("language", run.langs);
    print_scores("form", run.kinds);
    total = run.passed + run.failed;
    printf("# accuracy %.1f%%\n", total > 0 ? 100.0 * run.passed / total : 0.0);
    printf("# %u passed, %u failed\n", run.passed, run.failed);
    printf("# empty replies for bodies with text: %u\n", run.empty_with_text);
    printf("# worst_ms=%.3f (%s)\n", run.worst_us / 1000.0, run.worst_name ? run.worst_name : "-");
    printf("# worst_cpu_ms=%.3f (%s)\n", run.worst_cpu_us / 1000.0,
           run.worst_cpu_name ? run.worst_cpu_name : "-");
    g_free(run.worst_cpu_name);
    g_free(run.worst_name);
    g_hash_table_destroy(run.clients);
    g_hash_table_destroy(run.langs);
    g_hash_table_destroy(run.kinds);
    g_hash_table_destroy(run.forms);
    return run.failed == 0 ? 0 : 1;
}
