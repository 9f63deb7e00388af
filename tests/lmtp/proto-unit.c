/*
 * proto-unit.c - table-driven tests of the LMTP door's pure protocol parts
 * (pipe-agent/lmtp-proto.c) and of lib/watch.c: verbs, MAIL and RCPT paths
 * and parameters, xtext and the utf-8 ORCPT, XFORWARD, the DATA reader fed
 * in every split, and reply lines. Each case is a label, an input and what
 * is wanted; failures print both.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "lmtp-proto.h"
#include "watch.h"

typedef struct {
    const char *line;
    LmtpVerb want;
    const char *want_arg;
} VerbCase;

static const VerbCase verb_cases[] = {
    {"LHLO mx.example.com", LMTP_CMD_LHLO, "mx.example.com"},
    {"lhlo  mx", LMTP_CMD_LHLO, "mx"},
    {"EHLO x", LMTP_CMD_HELO, "x"},
    {"HELO x", LMTP_CMD_HELO, "x"},
    {"MAIL FROM:<a@b>", LMTP_CMD_MAIL, "<a@b>"},
    {"mail from: <a@b> SIZE=1", LMTP_CMD_MAIL, "<a@b> SIZE=1"},
    {"MAIL TO:<a@b>", LMTP_CMD_UNKNOWN, NULL},
    {"RCPT TO:<a@b>", LMTP_CMD_RCPT, "<a@b>"},
    {"RCPT FROM:<a@b>", LMTP_CMD_UNKNOWN, NULL},
    {"DATA", LMTP_CMD_DATA, ""},
    {"RSET", LMTP_CMD_RSET, ""},
    {"NOOP", LMTP_CMD_NOOP, ""},
    {"QUIT", LMTP_CMD_QUIT, ""},
    {"VRFY x", LMTP_CMD_VRFY, "x"},
    {"XFORWARD NAME=x", LMTP_CMD_XFORWARD, "NAME=x"},
    {"DATAX", LMTP_CMD_UNKNOWN, NULL},
    {"", LMTP_CMD_UNKNOWN, NULL},
    {"\x01\x02", LMTP_CMD_UNKNOWN, NULL},
};

/* test_verbs - every verb, and what is not one */
static void
test_verbs(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(verb_cases); i++) {
        const VerbCase *c = &verb_cases[i];
        const char *arg = NULL;
        LmtpVerb got = lmtp_parse_verb(c->line, &arg);

        if (got != c->want || (c->want_arg != NULL && strcmp(arg, c->want_arg) != 0))
            g_test_fail_printf("\"%s\": got %d \"%s\", want %d \"%s\"", c->line, got, arg, c->want,
                               c->want_arg ? c->want_arg : "");
    }
}

typedef struct {
    const char *label;
    const char *arg;
    gboolean is_rcpt;
    gboolean want_ok;
    const char *want_address; /* or the reply's first 9 bytes when !want_ok */
    const char *want_orcpt;
    guint64 want_size;
} PathCase;

static const PathCase path_cases[] = {
    {"plain sender", "<bob@example.org>", FALSE, TRUE, "bob@example.org", NULL, 0},
    {"null sender", "<>", FALSE, TRUE, "", NULL, 0},
    {"null recipient", "<>", TRUE, FALSE, "501 5.1.3", NULL, 0},
    {"no brackets", "bob@example.org", FALSE, FALSE, "501 5.1.7", NULL, 0},
    {"unclosed", "<bob@example.org", TRUE, FALSE, "501 5.1.3", NULL, 0},
    {"source route", "<@a.example,@b.example:bob@example.org>", TRUE, TRUE, "bob@example.org", NULL,
     0},
    {"quoted local part with > and space", "<\"a> b\"@example.org>", TRUE, TRUE,
     "\"a> b\"@example.org", NULL, 0},
    {"SIZE", "<a@b> SIZE=12345", FALSE, TRUE, "a@b", NULL, 12345},
    {"bad SIZE", "<a@b> SIZE=12x", FALSE, FALSE, "501 5.5.4", NULL, 0},
    {"empty SIZE", "<a@b> SIZE=", FALSE, FALSE, "501 5.5.4", NULL, 0},
    {"BODY and SMTPUTF8", "<a@b> BODY=8BITMIME SMTPUTF8", FALSE, TRUE, "a@b", NULL, 0},
    {"bad BODY", "<a@b> BODY=BINARYMIME", FALSE, FALSE, "501 5.5.4", NULL, 0},
    {"RET and ENVID", "<a@b> RET=FULL ENVID=abc+2Bdef", FALSE, TRUE, "a@b", NULL, 0},
    {"bad ENVID xtext", "<a@b> ENVID=abc+2", FALSE, FALSE, "501 5.5.4", NULL, 0},
    {"SIZE on RCPT", "<a@b> SIZE=1", TRUE, FALSE, "555 5.5.4", NULL, 0},
    {"unknown parameter", "<a@b> FOO=bar", FALSE, FALSE, "555 5.5.4", NULL, 0},
    {"NOTIFY", "<a@b> NOTIFY=SUCCESS,DELAY", TRUE, TRUE, "a@b", NULL, 0},
    {"NOTIFY=NEVER alone", "<a@b> NOTIFY=NEVER", TRUE, TRUE, "a@b", NULL, 0},
    {"NOTIFY=NEVER with more", "<a@b> NOTIFY=NEVER,FAILURE", TRUE, FALSE, "501 5.5.4", NULL, 0},
    {"ORCPT rfc822 xtext", "<a@b> ORCPT=rfc822;reply+2Bi-1@x", TRUE, TRUE, "a@b", "reply+i-1@x", 0},
    {"ORCPT utf-8", "<a@b> ORCPT=utf-8;j\\x{F6}rg@x", TRUE, TRUE, "a@b", "j\xc3\xb6rg@x", 0},
    {"ORCPT without type", "<a@b> ORCPT=a@b", TRUE, FALSE, "501 5.5.4", NULL, 0},
    {"ORCPT with NUL", "<a@b> ORCPT=rfc822;a+00b", TRUE, FALSE, "501 5.5.4", NULL, 0},
    {"ORCPT utf-8 surrogate", "<a@b> ORCPT=utf-8;\\x{D800}@x", TRUE, FALSE, "501 5.5.4", NULL, 0},
    {"ORCPT on MAIL", "<a@b> ORCPT=rfc822;a@b", FALSE, FALSE, "555 5.5.4", NULL, 0},
    {"junk after the path", "<a@b>junk", TRUE, FALSE, "501 5.5.4", NULL, 0},
};

/* test_paths - MAIL and RCPT arguments */
static void
test_paths(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(path_cases); i++) {
        const PathCase *c = &path_cases[i];
        LmtpPath path;
        const char *reply = NULL;
        gboolean got = lmtp_parse_path(c->arg, c->is_rcpt, &path, &reply);

        if (got != c->want_ok) {
            g_test_fail_printf("%s: got %s (%s), want %s", c->label, got ? "ok" : "refused",
                               reply ? reply : "", c->want_ok ? "ok" : "refused");
        } else if (!got && strncmp(reply, c->want_address, 9) != 0) {
            g_test_fail_printf("%s: got \"%s\", want \"%s\"", c->label, reply, c->want_address);
        } else if (got &&
                   (strcmp(path.address, c->want_address) != 0 ||
                    g_strcmp0(path.orcpt, c->want_orcpt) != 0 || path.size != c->want_size)) {
            g_test_fail_printf("%s: got <%s> orcpt=%s size=%" G_GUINT64_FORMAT
                               ", want <%s> orcpt=%s size=%" G_GUINT64_FORMAT,
                               c->label, path.address, path.orcpt, path.size, c->want_address,
                               c->want_orcpt, c->want_size);
        }
        if (got)
            lmtp_path_clear(&path);
    }
}

typedef struct {
    const char *in;
    const char *want; /* NULL: malformed */
} XtextCase;

static const XtextCase xtext_cases[] = {
    {"abc", "abc"}, {"a+2Bb", "a+b"}, {"a+2bb", "a+b"},         {"+3D", "="},
    {"a+", NULL},   {"a+2", NULL},    {"a+G0", NULL},           {"a b", NULL},
    {"a=b", NULL},  {"+00", NULL},    {"\xc3\xa9", "\xc3\xa9"},
};

/* test_xtext - RFC 3461 decoding */
static void
test_xtext(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(xtext_cases); i++) {
        g_autofree char *got = lmtp_xtext_decode(xtext_cases[i].in);

        if (g_strcmp0(got, xtext_cases[i].want) != 0)
            g_test_fail_printf("\"%s\": got \"%s\", want \"%s\"", xtext_cases[i].in, got,
                               xtext_cases[i].want);
    }
}

/* test_xforward - attributes set, cleared by [UNAVAILABLE], refused */
static void
test_xforward(void)
{
    LmtpXforward xf = {0};
    const char *reply = NULL;

    if (!lmtp_xforward_parse("NAME=mail.example.org ADDR=IPV6:2001+3Adb8+3A+3A1 IDENT=ABC123 "
                             "PORT=25 PROTO=ESMTP HELO=[192.0.2.1] SOURCE=REMOTE",
                             &xf, &reply))
        g_test_fail_printf("all attributes: refused: %s", reply);
    if (g_strcmp0(xf.name, "mail.example.org") != 0 || g_strcmp0(xf.addr, "2001:db8::1") != 0 ||
        g_strcmp0(xf.ident, "ABC123") != 0 || g_strcmp0(xf.helo, "[192.0.2.1]") != 0)
        g_test_fail_printf("got name=%s addr=%s ident=%s helo=%s", xf.name, xf.addr, xf.ident,
                           xf.helo);
    if (!lmtp_xforward_parse("name=[UNAVAILABLE]", &xf, &reply) || xf.name != NULL)
        g_test_fail_printf("[UNAVAILABLE] must clear NAME, got %s", xf.name);
    if (lmtp_xforward_parse("FOO=1", &xf, &reply) || strncmp(reply, "501 5.5.4", 9) != 0)
        g_test_fail_printf("unknown attribute must be refused");
    if (lmtp_xforward_parse("IDENT=a+zz", &xf, &reply))
        g_test_fail_printf("bad xtext must be refused");
    if (lmtp_xforward_parse("", &xf, &reply))
        g_test_fail_printf("no attribute must be refused");
    lmtp_xforward_clear(&xf);
}

typedef struct {
    const char *label;
    const char *in; /* the bytes after 354 */
    guint64 limit;
    const char *want; /* the kept message */
    gboolean want_over;
    gsize want_used; /* bytes consumed up to and including the end mark */
} DataCase;

static const DataCase data_cases[] = {
    {"CRLF", "a\r\nb\r\n.\r\nNEXT", 100, "a\nb\n", FALSE, 9},
    {"bare LF", "a\nb\n.\nNEXT", 100, "a\nb\n", FALSE, 6},
    {"stuffed dot", "..\r\n..x\r\n.y\r\n.\r\n", 100, ".\n.x\ny\n", FALSE, 16},
    {"bare CR kept", "a\rb\r\n.\r\n", 100, "a\rb\n", FALSE, 8},
    {"CR before the dot line's LF only", ".\rx\r\n.\r\n", 100, "\rx\n", FALSE, 8},
    {"empty message", ".\r\n", 100, "", FALSE, 3},
    {"over the limit", "abcdef\r\n.\r\n", 4, "abcd", TRUE, 11},
    {"exactly the limit", "abc\r\n.\r\n", 4, "abc\n", FALSE, 8},
    {"dot inside a line is data", "a.\r\n.\r\n", 100, "a.\n", FALSE, 7},
    {"over the limit inside a later line", "ab\r\ncdefgh\r\nij\r\n.\r\n", 5, "ab\ncd", TRUE, 19},
    {"long lines, CR in them", "hello world\rand more\r\nsecond line\n.\r\n", 100,
     "hello world\rand more\nsecond line\n", FALSE, 37},
};

/* test_data - the DATA reader, fed whole, one byte at a time and in pieces of
 * three bytes (runs of a line that cross the pieces) */
static void
test_data(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(data_cases); i++) {
        const DataCase *c = &data_cases[i];

        for (int split = 0; split < 3; split++) {
            LmtpDataReader r;
            gboolean done = FALSE;
            gsize used = 0, len = strlen(c->in);

            lmtp_data_init(&r, c->limit);
            if (split == 0) {
                used = lmtp_data_feed(&r, c->in, len, &done);
            } else {
                gsize step = split == 1 ? 1 : 3;

                for (gsize k = 0; k < len && !done; k += step)
                    used += lmtp_data_feed(&r, c->in + k, MIN(step, len - k), &done);
            }
            if (!done || used != c->want_used || r.over != c->want_over ||
                r.out->len != strlen(c->want) || memcmp(r.out->data, c->want, r.out->len) != 0)
                g_test_fail_printf("%s (%s): got done=%d used=%zu over=%d \"%.*s\", want "
                                   "used=%zu over=%d \"%s\"",
                                   c->label,
                                   split == 0   ? "whole"
                                   : split == 1 ? "byte by byte"
                                                : "by three",
                                   done, used, r.over, (int)r.out->len, (const char *)r.out->data,
                                   c->want_used, c->want_over, c->want);
            lmtp_data_clear(&r);
        }
    }
}

/* test_reply_text - one printable ASCII line, bounded */
static void
test_reply_text(void)
{
    g_autofree char *plain = lmtp_reply_text(250, "2.0.0", "reply accepted");
    g_autofree char *dirty = lmtp_reply_text(550, "5.7.1", "a\r\nb\x01 \xe2\x80\x9cq\xe2\x80\x9d");
    g_autofree char *longer = g_strnfill(2000, 'x');
    g_autofree char *cut = lmtp_reply_text(451, "4.3.0", longer);

    if (strcmp(plain, "250 2.0.0 reply accepted") != 0)
        g_test_fail_printf("plain: got \"%s\"", plain);
    if (strcmp(dirty, "550 5.7.1 a??b? \"q\"") != 0)
        g_test_fail_printf("control characters: got \"%s\"", dirty);
    if (strlen(cut) > 510)
        g_test_fail_printf("long text: %zu bytes", strlen(cut));
}

/* test_watch - a change, a replacement and a removal are each seen once */
static void
test_watch(void)
{
    g_autofree char *dir = g_dir_make_tmp("rg-watch.XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "secrets", NULL);
    g_autofree char *other = g_build_filename(dir, "secrets.new", NULL);
    const char *paths[] = {path, NULL};
    g_autoptr(Watch) watch = NULL;

    g_file_set_contents(path, "one\n", -1, NULL);
    watch = watch_new(paths);
    if (watch_changed(watch))
        g_test_fail_printf("unchanged file seen as changed");
    g_file_set_contents(other, "two two\n", -1, NULL);
    g_rename(other, path);
    if (!watch_changed(watch))
        g_test_fail_printf("a file replaced by rename is not seen");
    if (watch_changed(watch))
        g_test_fail_printf("a change is seen twice");
    g_unlink(path);
    if (!watch_changed(watch))
        g_test_fail_printf("a removed file is not seen");
    g_file_set_contents(path, "three\n", -1, NULL);
    if (!watch_changed(watch))
        g_test_fail_printf("a file created again is not seen");
    /* A log that grows is not a change; one rotated away is. */
    {
        g_autoptr(Watch) log = watch_new(NULL);
        FILE *f;

        watch_add_identity(log, path);
        f = fopen(path, "a"); /* in place, as a log grows */

        fputs("four four four\n", f);
        fclose(f);
        if (watch_changed(log))
            g_test_fail_printf("a log rewritten in place is seen as replaced");
        g_rename(path, other);
        g_file_set_contents(path, "", -1, NULL);
        if (!watch_changed(log))
            g_test_fail_printf("a rotated log is not seen");
        g_unlink(other);
    }
    g_unlink(path);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/lmtp/verbs", test_verbs);
    g_test_add_func("/lmtp/paths", test_paths);
    g_test_add_func("/lmtp/xtext", test_xtext);
    g_test_add_func("/lmtp/xforward", test_xforward);
    g_test_add_func("/lmtp/data", test_data);
    g_test_add_func("/lmtp/reply-text", test_reply_text);
    g_test_add_func("/watch/files", test_watch);
    return g_test_run();
}
