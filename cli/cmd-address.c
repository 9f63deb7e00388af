/*
 * cmd-address.c - `replygate address`, `replygate message-id` and `replygate
 * verify`: make a signed reply address, make a notification's unique
 * Message-ID of the same key (SPEC section 3 item 9), and say what an
 * address stands for (SPEC section 2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sysexits.h>

#include "commands.h"
#include "json.h"
#include "rg-error.h"

/* parse_id - a decimal target or user from the command line */
static gboolean
parse_id(const char *text, const char *what, guint64 *out)
{
    g_autoptr(GError) error = NULL;

    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, out, &error) ||
        (text[0] == '0' && text[1] != '\0')) {
        fprintf(stderr, "replygate: %s \"%s\" must be a decimal number without leading zeros\n",
                what, text);
        return FALSE;
    }
    return TRUE;
}

/* cmd_address - print the signed reply address for KIND TARGET USER */
int
cmd_address(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *address = NULL;
    guint64 target, user;

    if (!cli_parse_options("KIND TARGET USER",
                           "Print the reply address signed with the first secret, for example\n"
                           "  replygate address i 1 5",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 4) {
        fprintf(stderr, "usage: replygate address [--config FILE] KIND TARGET USER\n");
        return EX_USAGE;
    }
    if (!parse_id(argv[2], "target", &target) || !parse_id(argv[3], "user", &user))
        return EX_USAGE;
    if (!cli_load(config_path, &config, &ring, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    address = address_sign(config, ring, argv[1], target, user, &error);
    if (address == NULL) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_USAGE;
    }
    printf("%s\n", address);
    return EX_OK;
}

/* unique_suffix - "<UTC time>.<16 random hex digits>", for example
 * 20261206T120000Z.8f3a0c1d2e4b5a69: the time keeps ids readable and
 * ordered, the 64 random bits keep two made in one second apart */
static gboolean
unique_suffix(char out[40], GError **error)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
    guint8 random[8];
    gsize got = 0;

    while (got < sizeof random) {
        ssize_t n = getrandom(random + got, sizeof random - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "getrandom: %s", g_strerror(errno));
            return FALSE;
        }
        got += (gsize)n;
    }
    g_snprintf(out, 40, "%s.%02x%02x%02x%02x%02x%02x%02x%02x", stamp, random[0], random[1],
               random[2], random[3], random[4], random[5], random[6], random[7]);
    return TRUE;
}

/* cmd_message_id - print a fresh unique Message-ID for KIND TARGET USER */
int
cmd_message_id(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *suffix = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"suffix", 's', 0, G_OPTION_ARG_STRING, &suffix,
         "the unique suffix (1 to 64 of A-Z a-z 0-9 . _ -) instead of a fresh one", "SUFFIX"},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *id = NULL;
    char fresh[40];
    guint64 target, user;

    if (!cli_parse_options(
            "KIND TARGET USER",
            "Print a unique Message-ID for a notification about KIND TARGET USER, for example\n"
            "  replygate message-id i 1 5\n"
            "  <reply+i-1-<mac>-5.20261206T120000Z.8f3a0c1d2e4b5a69@reply.example.com>\n"
            "It is the signed reply address's local part, '.', a unique suffix (the UTC time\n"
            "and 64 random bits), '@' the first reply domain, in angle brackets: a reply\n"
            "that only names it in In-Reply-To or References still finds its key.",
            entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 4) {
        fprintf(stderr, "usage: replygate message-id [--config FILE] [--suffix SUFFIX] KIND "
                        "TARGET USER\n");
        return EX_USAGE;
    }
    if (!parse_id(argv[2], "target", &target) || !parse_id(argv[3], "user", &user))
        return EX_USAGE;
    if (suffix == NULL) {
        if (!unique_suffix(fresh, &error)) {
            fprintf(stderr, "replygate: %s\n", error->message);
            return EX_OSERR;
        }
    }
    if (!cli_load(config_path, &config, &ring, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    id = address_message_id(config, ring, argv[1], target, user, suffix ? suffix : fresh, &error);
    if (id == NULL) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_USAGE;
    }
    printf("<%s>\n", id);
    return EX_OK;
}

/* cmd_verify - check a reply address; exit 0 when it is valid, 1 when not */
int
cmd_verify(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {NULL},
    };
    g_autoptr(Config) config = NULL;
    g_autoptr(KeyRing) ring = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) out = g_string_new("{");
    const char *reason = NULL;
    ReplyKey key;
    AddressClass klass;
    gboolean first = TRUE;
    gboolean valid;

    if (!cli_parse_options("ADDRESS",
                           "Say whether ADDRESS is a valid reply address, as JSON:\n"
                           "  {\"valid\": true, \"kind\": \"i\", \"target\": 1, \"user\": 5}\n"
                           "Exits 0 when it is valid, 1 when it is not.",
                           entries, &argc, &argv))
        return EX_USAGE;
    if (argc != 2) {
        fprintf(stderr, "usage: replygate verify [--config FILE] ADDRESS\n");
        return EX_USAGE;
    }
    if (!cli_load(config_path, &config, &ring, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return EX_CONFIG;
    }
    klass = address_classify(config, ring, argv[1], &key, &reason);
    valid = klass == ADDRESS_KEY || klass == ADDRESS_STATIC;
    json_append_member(out, "valid", &first);
    g_string_append(out, valid ? "true" : "false");
    if (valid) {
        json_append_member(out, "kind", &first);
        json_append_string(out, key.kind);
        json_append_member(out, "target", &first);
        g_string_append_printf(out, "%" G_GUINT64_FORMAT, key.target);
        json_append_member(out, "user", &first);
        g_string_append_printf(out, "%" G_GUINT64_FORMAT, key.user);
        if (klass == ADDRESS_STATIC) {
            json_append_member(out, "static", &first);
            g_string_append(out, "true");
        }
    } else {
        json_append_member(out, "reason", &first);
        json_append_string(out, reason ? reason : address_class_name(klass));
    }
    g_string_append(out, "}");
    printf("%s\n", out->str);
    return valid ? 0 : 1;
}
