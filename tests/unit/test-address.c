/*
 * test-address.c - reply addresses: sign, verify, refuse (SPEC section 2).
 *
 * Table-driven: each case has a label, an input and what is wanted; a failure
 * prints what it got and what it wanted.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "address.h"
#include "rg-error.h"
#include "testutil.h"

#define SECRET1 "0123456789abcdef0123456789abcdef-first"
#define SECRET2 "fedcba9876543210fedcba9876543210-second"

static Config *
test_config(void)
{
    static const char text[] = "reply_domain = reply.example.com, reply.example.net\n"
                               "noreply_address = noreply@reply.example.com\n"
                               "static_address = support@reply.example.com s 7\n";
    g_autoptr(GError) error = NULL;
    Config *config = config_parse(text, strlen(text), "test.conf", &error);

    g_assert_no_error(error);
    return config;
}

static KeyRing *
test_ring(const char *first, const char *second)
{
    const char *secrets[] = {first, second, NULL};
    g_autoptr(GError) error = NULL;
    KeyRing *ring = keyring_new(secrets, &error);

    g_assert_no_error(error);
    return ring;
}

static char *
sign(const Config *config, const KeyRing *ring, const char *kind, guint64 t, guint64 u)
{
    g_autoptr(GError) error = NULL;
    char *address = address_sign(config, ring, kind, t, u, &error);

    g_assert_no_error(error);
    return address;
}

/* A signed address verifies, in any case, and says what it stands for. */
static void
test_sign_verify(void)
{
    g_autoptr(Config) config = test_config();
    g_autoptr(KeyRing) ring = test_ring(SECRET1, NULL);
    struct {
        const char *label, *kind;
        guint64 target, user;
    } cases[] = {
        {"issue", "i", 1, 5},
        {"pull request, user 0", "p", 42, 0},
        {"longest kind, largest ids", "abcdefghijklmnop", G_MAXUINT64, G_MAXUINT64},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *address =
            sign(config, ring, cases[i].kind, cases[i].target, cases[i].user);
        g_autofree char *upper = g_ascii_strup(address, -1);
        g_autofree char *bracketed = g_strdup_printf("<%s>", address);
        const char *forms[] = {address, upper, bracketed};
        for (guint f = 0; f < G_N_ELEMENTS(forms); f++) {
            ReplyKey key;
            const char *reason = NULL;
            AddressClass got = address_classify(config, ring, forms[f], &key, &reason);
            if (got != ADDRESS_KEY) {
                test_failf("%s (%s): got %s (%s), want key", cases[i].label, forms[f],
                           address_class_name(got), reason);
                continue;
            }
            g_assert_cmpstr(key.kind, ==, cases[i].kind);
            g_assert_cmpuint(key.target, ==, cases[i].target);
            g_assert_cmpuint(key.user, ==, cases[i].user);
        }
    }
}

/* Every one-character change of a valid address is refused. */
static void
test_one_char_changes(void)
{
    g_autoptr(Config) config = test_config();
    g_autoptr(KeyRing) ring = test_ring(SECRET1, NULL);
    g_autofree char *address = sign(config, ring, "i", 1, 5);
    const char *alphabet = "0123456789abcdefghijklmnopqrstuvwxyz-+@._";
    gsize len = strlen(address);
    guint tried = 0;

    for (gsize pos = 0; pos < len; pos++) {
        for (const char *c = alphabet; *c; c++) {
            g_autofree char *changed = g_strdup(address);
            AddressClass got;
            if (g_ascii_tolower(address[pos]) == *c)
                continue;
            changed[pos] = *c;
            got = address_classify(config, ring, changed, NULL, NULL);
            if (got == ADDRESS_KEY || got == ADDRESS_STATIC)
                test_failf("changed position %zu to '%c': got %s for %s, want refused", pos, *c,
                           address_class_name(got), changed);
            tried++;
        }
        {
            /* Deleting the character is a one-character change too. */
            g_autofree char *shorter = g_strdup(address);
            memmove(shorter + pos, shorter + pos + 1, len - pos);
            g_assert_cmpint(address_classify(config, ring, shorter, NULL, NULL), !=, ADDRESS_KEY);
        }
    }
    g_assert_cmpuint(tried, >, 1000);
}

/* The first secret signs; every secret verifies, so secrets can rotate. */
static void
test_rotation(void)
{
    g_autoptr(Config) config = test_config();
    g_autoptr(KeyRing) old_ring = test_ring(SECRET2, NULL);
    g_autoptr(KeyRing) rotated = test_ring(SECRET1, SECRET2);
    g_autoptr(KeyRing) new_only = test_ring(SECRET1, NULL);
    g_autofree char *old_address = sign(config, old_ring, "i", 9, 3);
    g_autofree char *new_address = sign(config, rotated, "i", 9, 3);
    g_autofree char *new_only_address = sign(config, new_only, "i", 9, 3);

    g_assert_cmpint(address_classify(config, rotated, old_address, NULL, NULL), ==, ADDRESS_KEY);
    g_assert_cmpstr(new_address, ==, new_only_address);
    g_assert_cmpstr(new_address, !=, old_address);
    g_assert_cmpint(address_classify(config, new_only, old_address, NULL, NULL), ==,
                    ADDRESS_BAD_KEY);
}

/* A known answer from the openssl command line: HMAC-SHA256 of "i-1-5". */
static void
test_known_answer(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *cmd = g_strdup_printf(
        "sh -c \"printf %%s i-1-5 | openssl dgst -sha256 -hmac '%s' | sed 's/.*= //'\"", SECRET1);
    g_autoptr(Config) config = test_config();
    g_autoptr(KeyRing) ring = test_ring(SECRET1, NULL);
    g_autofree char *address = sign(config, ring, "i", 1, 5);
    g_autofree char *want = NULL;
    char mac[ADDRESS_MAC_HEX + 1];
    int status = 0;

    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_cmpint(status, ==, 0);
    g_strstrip(out);
    g_assert_cmpuint(strlen(out), ==, 64);
    out[ADDRESS_MAC_HEX] = '\0';
    address_mac(g_ptr_array_index(ring->secrets, 0), "i", 1, 5, mac);
    g_assert_cmpstr(mac, ==, out);
    want = g_strdup_printf("reply+i-1-%s-5@reply.example.com", out);
    g_assert_cmpstr(address, ==, want);
}

/* Malformed and foreign addresses are refused with the right class. */
static void
test_malformed(void)
{
    g_autoptr(Config) config = test_config();
    g_autoptr(KeyRing) ring = test_ring(SECRET1, NULL);
    char mac[ADDRESS_MAC_HEX + 1];
    struct {
        const char *label;
        const char *format; /* MAC stands for the valid mac of i-1-5 */
        AddressClass want;
    } cases[] = {
        {"valid", "reply+i-1-MAC-5@reply.example.com", ADDRESS_KEY},
        {"second domain", "reply+i-1-MAC-5@reply.example.net", ADDRESS_KEY},
        {"missing user", "reply+i-1-MAC@reply.example.com", ADDRESS_MALFORMED},
        {"missing user after dash", "reply+i-1-MAC-@reply.example.com", ADDRESS_MALFORMED},
        {"missing target", "reply+i--MAC-5@reply.example.com", ADDRESS_MALFORMED},
        {"missing kind", "reply+-1-MAC-5@reply.example.com", ADDRESS_MALFORMED},
        {"digit in kind", "reply+i2-1-MAC-5@reply.example.com", ADDRESS_MALFORMED},
        {"kind of 17 letters", "reply+abcdefghijklmnopq-1-MAC-5@reply.example.com",
         ADDRESS_MALFORMED},
        {"leading zero target", "reply+i-01-MAC-5@reply.example.com", ADDRESS_MALFORMED},
        {"target zero", "reply+i-0-MAC-5@reply.example.com", ADDRESS_MALFORMED},
        {"leading zero user", "reply+i-1-MAC-05@reply.example.com", ADDRESS_MALFORMED},
        {"21-digit target", "reply+i-100000000000000000000-MAC-5@reply.example.com",
         ADDRESS_MALFORMED},
        {"20 digits over 2^64", "reply+i-99999999999999999999-MAC-5@reply.example.com",
         ADDRESS_MALFORMED},
        {"21-digit user", "reply+i-1-MAC-100000000000000000000@reply.example.com",
         ADDRESS_MALFORMED},
        {"trailing text", "reply+i-1-MAC-5x@reply.example.com", ADDRESS_MALFORMED},
        /* SPEC section 3 item 9: a notification's unique Message-ID form. */
        {"unique suffix", "reply+i-1-MAC-5.20261206T120000Z.8f3a@reply.example.com", ADDRESS_KEY},
        {"unique suffix, one character", "reply+i-1-MAC-5.x@reply.example.com", ADDRESS_KEY},
        {"unique suffix, 64 characters",
         "reply+i-1-MAC-5.0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab_-.z"
         "@reply.example.com",
         ADDRESS_KEY},
        {"unique suffix, upper case", "REPLY+I-1-MAC-5.20261206T120000Z.8F3A@reply.example.com",
         ADDRESS_KEY},
        {"unique suffix, bracketed", "<reply+i-1-MAC-5.a-b_c.d@reply.example.com>", ADDRESS_KEY},
        {"unique suffix, 65 characters",
         "reply+i-1-MAC-5.0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab_-.zz"
         "@reply.example.com",
         ADDRESS_MALFORMED},
        {"unique suffix, empty", "reply+i-1-MAC-5.@reply.example.com", ADDRESS_MALFORMED},
        {"unique suffix, plus", "reply+i-1-MAC-5.a+b@reply.example.com", ADDRESS_MALFORMED},
        {"unique suffix, slash", "reply+i-1-MAC-5.a/b@reply.example.com", ADDRESS_MALFORMED},
        {"unique suffix, no dot", "reply+i-1-MAC-5-x@reply.example.com", ADDRESS_MALFORMED},
        {"unique suffix on a foreign domain", "reply+i-1-MAC-5.x@example.com", ADDRESS_FOREIGN},
        {"unique suffix on the dedicated address", "reply.x@reply.example.com", ADDRESS_UNKNOWN},
        {"doubled separator", "reply++i-1-MAC-5@reply.example.com", ADDRESS_MALFORMED},
        {"foreign domain", "reply+i-1-MAC-5@example.com", ADDRESS_FOREIGN},
        {"subdomain of reply domain", "reply+i-1-MAC-5@x.reply.example.com", ADDRESS_FOREIGN},
        {"wrong prefix", "answer+i-1-MAC-5@reply.example.com", ADDRESS_UNKNOWN},
        {"other separator", "reply-i-1-MAC-5@reply.example.com", ADDRESS_UNKNOWN},
        {"no domain", "reply+i-1-MAC-5", ADDRESS_FOREIGN},
        /* Postfix drops one trailing dot of a domain when it routes. */
        {"trailing dot", "reply+i-1-MAC-5@reply.example.com.", ADDRESS_KEY},
        {"trailing dot, bracketed", "<REPLY+I-1-MAC-5@REPLY.EXAMPLE.COM.>", ADDRESS_KEY},
        {"two trailing dots", "reply+i-1-MAC-5@reply.example.com..", ADDRESS_FOREIGN},
        /* Postfix turns these into reply+...@reply.example.com when mx.example.org
         * is one of its own domains: never foreign, never a key. */
        {"percent hack", "reply+i-1-MAC-5%reply.example.com@mx.example.org", ADDRESS_MALFORMED},
        {"percent hack, trailing dot", "reply+i-1-MAC-5%REPLY.example.com.@mx.example.org",
         ADDRESS_MALFORMED},
        {"bang path", "reply.example.com!reply+i-1-MAC-5@mx.example.org", ADDRESS_MALFORMED},
        {"bang path without domain", "reply.example.com!reply+i-1-MAC-5", ADDRESS_MALFORMED},
        {"quoted @", "\"reply+i-1-MAC-5@reply.example.com\"@mx.example.org", ADDRESS_MALFORMED},
        {"bare @ in local part", "reply+i-1-MAC-5@reply.example.com@mx.example.org",
         ADDRESS_MALFORMED},
        {"percent hack to a foreign domain", "bob%example.net@mx.example.org", ADDRESS_FOREIGN},
        {"percent in a foreign address", "50%off@example.com", ADDRESS_FOREIGN},
        /* Postfix's parser drops comments and white space and undoes quotes
         * and backslashes before it routes: these reach the reply domain, so
         * they are never foreign, and never a key either (strict form). */
        {"comment after the domain", "<reply+i-1-MAC-5@reply.example.com(c)>", ADDRESS_MALFORMED},
        {"comment before the domain", "<reply+i-1-MAC-5@(c (nested)) reply.example.com>",
         ADDRESS_MALFORMED},
        {"white space inside the brackets", "< reply+i-1-MAC-5@reply.example.com >",
         ADDRESS_MALFORMED},
        {"backslash in the domain", "reply+i-1-MAC-5@reply\\.example.com", ADDRESS_MALFORMED},
        {"quoted local part", "\"reply+i-1-MAC-5\"@reply.example.com", ADDRESS_MALFORMED},
        {"comment and trailing dot", "reply+i-1-MAC-5@reply.example.com.(c)", ADDRESS_MALFORMED},
        {"comment in a foreign address", "bob@example.com(reply.example.com)", ADDRESS_FOREIGN},
        {"white space around the brackets", " <reply+i-1-MAC-5@reply.example.com> ", ADDRESS_KEY},
    };
    const struct {
        const char *label, *address;
        AddressClass want;
    } plain[] = {
        {"short mac", "reply+i-1-1801beb4df676a79250d1e61e54ab763822c207-5@reply.example.com",
         ADDRESS_MALFORMED},
        {"non-hex mac", "reply+i-1-1801beb4df676a79250d1e61e54ab763822c207g-5@reply.example.com",
         ADDRESS_MALFORMED},
        {"long mac", "reply+i-1-1801beb4df676a79250d1e61e54ab763822c207d0-5@reply.example.com",
         ADDRESS_MALFORMED},
        {"wrong mac", "reply+i-1-0000000000000000000000000000000000000000-5@reply.example.com",
         ADDRESS_BAD_KEY},
        {"wrong mac, unique suffix",
         "reply+i-1-0000000000000000000000000000000000000000-5.20261206T120000Z@reply.example.com",
         ADDRESS_BAD_KEY},
        {"wrong mac, trailing dot",
         "reply+i-1-0000000000000000000000000000000000000000-5@reply.example.com.",
         ADDRESS_BAD_KEY},
        {"dedicated, trailing dot", "reply@reply.example.com.", ADDRESS_DEDICATED},
        {"static, trailing dot", "support@reply.example.com.", ADDRESS_STATIC},
        {"noreply, trailing dot", "noreply@reply.example.com.", ADDRESS_NOREPLY},
        {"domain is a dot", "reply@.", ADDRESS_FOREIGN},
        {"wrong mac, comment after the domain",
         "<reply+i-1-0000000000000000000000000000000000000000-5@reply.example.com(x)>",
         ADDRESS_MALFORMED},
        {"no-reply, trailing space", "<noreply@reply.example.com >", ADDRESS_MALFORMED},
        {"dedicated", "reply@reply.example.com", ADDRESS_DEDICATED},
        {"dedicated upper", "<REPLY@Reply.Example.COM>", ADDRESS_DEDICATED},
        {"static", "Support@reply.example.com", ADDRESS_STATIC},
        {"noreply", "noreply@REPLY.example.com", ADDRESS_NOREPLY},
        {"postmaster", "postmaster@reply.example.com", ADDRESS_UNKNOWN},
        {"empty", "", ADDRESS_FOREIGN},
        {"null sender", "<>", ADDRESS_FOREIGN},
    };

    address_mac(g_ptr_array_index(ring->secrets, 0), "i", 1, 5, mac);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) text = g_string_new(cases[i].format);
        const char *address = (g_string_replace(text, "MAC", mac, 1), text->str);
        AddressClass got = address_classify(config, ring, address, NULL, NULL);
        if (got != cases[i].want)
            test_failf("%s: %s: got %s, want %s", cases[i].label, address, address_class_name(got),
                       address_class_name(cases[i].want));
    }
    for (guint i = 0; i < G_N_ELEMENTS(plain); i++) {
        AddressClass got = address_classify(config, ring, plain[i].address, NULL, NULL);
        if (got != plain[i].want)
            test_failf("%s: %s: got %s, want %s", plain[i].label, plain[i].address,
                       address_class_name(got), address_class_name(plain[i].want));
    }
}

/* A static address stands for its kind and target with user 0. */
static void
test_static(void)
{
    g_autoptr(Config) config = test_config();
    g_autoptr(KeyRing) ring = test_ring(SECRET1, NULL);
    ReplyKey key;

    g_assert_cmpint(address_classify(config, ring, "support@reply.example.com", &key, NULL), ==,
                    ADDRESS_STATIC);
    g_assert_cmpstr(key.kind, ==, "s");
    g_assert_cmpuint(key.target, ==, 7);
    g_assert_cmpuint(key.user, ==, 0);
}

/* write_secrets - a secrets file with a mode, in a fresh temporary directory */
static char *
write_secrets(const char *text, int mode)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("rg-test-XXXXXX", &error);
    char *path;

    g_assert_no_error(error);
    path = g_build_filename(dir, "secrets", NULL);
    g_assert_true(g_file_set_contents(path, text, -1, &error));
    g_assert_cmpint(g_chmod(path, mode), ==, 0);
    return path;
}

/* The secrets file: format, length and permission checks. */
static void
test_secrets_file(void)
{
    struct {
        const char *label, *text;
        int mode;
        const char *want_error; /* substring, or NULL for success */
        guint want_count;
    } cases[] = {
        {"one secret", SECRET1 "\n", 0600, NULL, 1},
        {"two secrets, comments, blank lines", "# rotated 2026-11\n\n" SECRET1 "\n" SECRET2, 0640,
         NULL, 2},
        {"CRLF lines", SECRET1 "\r\n" SECRET2 "\r\n", 0600, NULL, 2},
        {"readable by others", SECRET1 "\n", 0644, "has mode 0644", 0},
        {"writable by others", SECRET1 "\n", 0602, "has mode 0602", 0},
        {"short secret", "tooshort\n", 0600, "at least 32", 0},
        {"31 bytes", "0123456789012345678901234567890\n", 0600, "at least 32", 0},
        {"only comments", "# nothing\n\n", 0600, "holds no secret", 0},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = write_secrets(cases[i].text, cases[i].mode);
        g_autoptr(GError) error = NULL;
        g_autoptr(KeyRing) ring = keyring_load(path, &error);
        g_autofree char *dir = g_path_get_dirname(path);

        if (cases[i].want_error == NULL) {
            if (ring == NULL)
                test_failf("%s: got error %s, want success", cases[i].label, error->message);
            else if (ring->secrets->len != cases[i].want_count)
                test_failf("%s: got %u secrets, want %u", cases[i].label, ring->secrets->len,
                           cases[i].want_count);
        } else {
            if (ring != NULL)
                test_failf("%s: got success, want error with \"%s\"", cases[i].label,
                           cases[i].want_error);
            else if (strstr(error->message, cases[i].want_error) == NULL ||
                     strstr(error->message, path) == NULL)
                test_failf("%s: got \"%s\", want \"%s\" and the file name", cases[i].label,
                           error->message, cases[i].want_error);
            else if (!g_error_matches(error, RG_ERROR, RG_ERROR_CONFIG))
                test_failf("%s: wrong error code %d", cases[i].label, error->code);
        }
        g_unlink(path);
        g_rmdir(dir);
    }
}

/* The unique Message-ID form: signed like the address, with the suffix
 * after the user; it classifies as the same key; bad suffixes are refused. */
static void
test_message_id(void)
{
    g_autoptr(Config) config = test_config();
    g_autoptr(KeyRing) ring = test_ring(SECRET1, SECRET2);
    g_autoptr(GError) error = NULL;
    g_autofree char *address = sign(config, ring, "i", 18446744073709551615ULL, 5);
    g_autofree char *id = address_message_id(config, ring, "i", 18446744073709551615ULL, 5,
                                             "20261206T120000Z.8f3a", &error);
    g_autofree char *want = NULL;
    const char *bad[] = {
        "",    "a+b", "a b",
        "a@b", "<x>", "0123456789012345678901234567890123456789012345678901234567890123x"};
    ReplyKey key;

    g_assert_no_error(error);
    want = g_strdup_printf("%.*s.20261206T120000Z.8f3a@reply.example.com",
                           (int)(strchr(address, '@') - address), address);
    g_assert_cmpstr(id, ==, want);
    g_assert_cmpint(address_classify(config, ring, id, &key, NULL), ==, ADDRESS_KEY);
    g_assert_cmpstr(key.kind, ==, "i");
    g_assert_cmpuint(key.target, ==, G_MAXUINT64);
    g_assert_cmpuint(key.user, ==, 5);
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_autofree char *got = address_message_id(config, ring, "i", 1, 5, bad[i], &e);

        if (got != NULL || !g_error_matches(e, RG_ERROR, RG_ERROR_INVALID))
            test_failf("suffix \"%s\": got %s, want an error", bad[i], got ? got : "an error");
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/address/message-id", test_message_id);
    g_test_add_func("/address/sign-verify", test_sign_verify);
    g_test_add_func("/address/one-char-changes", test_one_char_changes);
    g_test_add_func("/address/rotation", test_rotation);
    g_test_add_func("/address/known-answer", test_known_answer);
    g_test_add_func("/address/malformed", test_malformed);
    g_test_add_func("/address/static", test_static);
    g_test_add_func("/address/secrets-file", test_secrets_file);
    return g_test_run();
}
