/*
 * test-ops-util.c - the pure helpers of the operator subcommands
 * (cli/ops-util.c), table-driven: password redaction for the support bundle,
 * the header reader replay takes the envelope from, and reading the end of a
 * log backwards across block boundaries.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ops-util.h"

typedef struct {
    const char *label;
    const char *input;
    const char *want;
} RedactCase;

static const RedactCase redact_cases[] = {
    {"conninfo", "host=/tmp dbname=rg password=secret user=x",
     "host=/tmp dbname=rg password=REDACTED user=x"},
    {"conninfo, spaces around =", "password = secret", "password = REDACTED"},
    {"conninfo, quoted with an escaped quote", "password='se cr\\'et' user=x",
     "password=REDACTED user=x"},
    {"conninfo, ampersand inside", "password=pa&ss host=x", "password=REDACTED host=x"},
    {"conninfo, upper case", "PASSWORD=secret", "PASSWORD=REDACTED"},
    {"configuration line", "database = host=db password=s3cr3t",
     "database = host=db password=REDACTED"},
    {"URI user information", "postgresql://rg:s3cr3t@db.example.com/rg",
     "postgresql://rg:REDACTED@db.example.com/rg"},
    {"URI, postgres scheme", "postgres://rg:p%40ss@db/rg", "postgres://rg:REDACTED@db/rg"},
    {"URI query", "postgresql://rg@db/rg?password=s3cr3t&sslmode=require",
     "postgresql://rg@db/rg?password=REDACTED&sslmode=require"},
    {"URI without password", "postgresql:///replygate", "postgresql:///replygate"},
    {"URI user without password", "postgresql://rg@db/rg", "postgresql://rg@db/rg"},
    {"no password", "host=/tmp dbname=rg", "host=/tmp dbname=rg"},
    {"several lines", "a password=x\nb postgresql://u:y@h/d\n",
     "a password=REDACTED\nb postgresql://u:REDACTED@h/d\n"},
};

/* test_redact - each case's output */
static void
test_redact(gconstpointer data)
{
    const RedactCase *c = data;
    g_autofree char *got = ops_redact_passwords(c->input);

    if (g_strcmp0(got, c->want) != 0)
        g_test_fail_printf("%s:\n got:  %s\n want: %s", c->label, got, c->want);
}

typedef struct {
    const char *label;
    const char *raw;
    const char *name;
    const char *want; /* NULL: not found */
} HeaderCase;

static const HeaderCase header_cases[] = {
    {"first header", "Return-Path: <a@b>\nX: y\n\nbody\n", "Return-Path", "<a@b>"},
    {"any case", "return-path: <a@b>\n\n", "Return-Path", "<a@b>"},
    {"folded", "X: 1\nDelivered-To:\n  a@b\n\n", "Delivered-To", "a@b"},
    {"CRLF", "Return-Path: <a@b>\r\n\r\nbody", "Return-Path", "<a@b>"},
    {"the first of two", "Delivered-To: one@b\nDelivered-To: two@b\n\n", "Delivered-To", "one@b"},
    {"not in the body", "X: y\n\nReturn-Path: <no@b>\n", "Return-Path", NULL},
    {"a longer name is another header", "Return-Paths: x\n\n", "Return-Path", NULL},
    {"missing", "X: y\n\n", "X-Original-To", NULL},
    {"empty value", "Return-Path: <>\n\n", "Return-Path", "<>"},
};

/* test_header - each case's value */
static void
test_header(gconstpointer data)
{
    const HeaderCase *c = data;
    g_autofree char *got = ops_header_value(c->raw, strlen(c->raw), c->name);

    if (g_strcmp0(got, c->want) != 0)
        g_test_fail_printf("%s:\n got:  %s\n want: %s", c->label, got ? got : "(null)",
                           c->want ? c->want : "(null)");
}

typedef struct {
    const char *label;
    guint n_lines;    /* lines in the file */
    gboolean last_nl; /* does the file end with a newline? */
    guint max;        /* lines asked for */
    const char *filter;
} TailCase;

static const TailCase tail_cases[] = {
    {"small file, all lines", 5, TRUE, 100, NULL},
    {"small file, last 2", 5, TRUE, 2, NULL},
    {"no newline at the end", 5, FALSE, 3, NULL},
    {"one line without newline", 1, FALSE, 10, NULL},
    {"empty file", 0, FALSE, 10, NULL},
    {"many blocks, last 2000", 20000, TRUE, 2000, NULL},
    {"many blocks, filtered", 20000, TRUE, 2000, "replygate/"},
    {"many blocks, filtered, fewer than asked", 3000, TRUE, 2000, " line 1[0-9]*7 "},
    {"many blocks, all", 6000, TRUE, 100000, NULL},
};

/* tail_line - line i of a test log: lengths vary so lines cross blocks */
static char *
tail_line(guint i)
{
    g_autofree char *pad = g_strnfill(i * 7 % 61, 'x');

    return g_strdup_printf("Nov 22 13:05:%02u mx %s[%u]: line %u %s", i % 60,
                           i % 3 ? "postfix/smtpd" : "replygate/deliver", i, i, pad);
}

/* test_tail - the same lines a forward read keeps */
static void
test_tail(gconstpointer data)
{
    const TailCase *c = data;
    g_autofree char *path = NULL;
    g_autoptr(GString) text = g_string_new(NULL);
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) got = NULL;
    g_autoptr(GRegex) filter = c->filter ? g_regex_new(c->filter, 0, 0, NULL) : NULL;
    g_autoptr(GError) error = NULL;
    int fd = g_file_open_tmp("ops-tail.XXXXXX", &path, NULL);
    guint first;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    for (guint i = 0; i < c->n_lines; i++) {
        g_autofree char *line = tail_line(i);
        g_string_append(text, line);
        if (i + 1 < c->n_lines || c->last_nl)
            g_string_append_c(text, '\n');
        if (filter == NULL || g_regex_match(filter, line, 0, NULL))
            g_ptr_array_add(want, g_steal_pointer(&line));
    }
    g_assert_true(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
    got = ops_tail_lines(path, c->max, filter, &error);
    g_unlink(path);
    g_assert_no_error(error);
    first = want->len > c->max ? want->len - c->max : 0;
    if (got->len != want->len - first) {
        g_test_fail_printf("%s: got %u lines, want %u", c->label, got->len, want->len - first);
        return;
    }
    for (guint i = 0; i < got->len; i++) {
        const char *g = g_ptr_array_index(got, i);
        const char *w = g_ptr_array_index(want, first + i);
        if (strcmp(g, w) != 0) {
            g_test_fail_printf("%s: line %u\n got:  %s\n want: %s", c->label, i, g, w);
            return;
        }
    }
}

/* test_tail_missing - a missing file is an error naming it */
static void
test_tail_missing(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) got = ops_tail_lines("/nonexistent/mail.log", 10, NULL, &error);

    g_assert_null(got);
    g_assert_nonnull(error);
    if (strstr(error->message, "/nonexistent/mail.log") == NULL)
        g_test_fail_printf("got: %s\nwant: the path in the message", error->message);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(redact_cases); i++) {
        g_autofree char *name = g_strdup_printf("/redact/%s", redact_cases[i].label);
        g_test_add_data_func(name, &redact_cases[i], test_redact);
    }
    for (guint i = 0; i < G_N_ELEMENTS(header_cases); i++) {
        g_autofree char *name = g_strdup_printf("/header/%s", header_cases[i].label);
        g_test_add_data_func(name, &header_cases[i], test_header);
    }
    for (guint i = 0; i < G_N_ELEMENTS(tail_cases); i++) {
        g_autofree char *name = g_strdup_printf("/tail/%s", tail_cases[i].label);
        g_test_add_data_func(name, &tail_cases[i], test_tail);
    }
    g_test_add_func("/tail/missing file", test_tail_missing);
    return g_test_run();
}
