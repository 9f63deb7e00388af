/*
 * config.c - read replygate.conf (SPEC section 7).
 *
 * The format is Postfix's main.cf: "name = value", '#' comments, blank lines
 * ignored, and a line that starts with white space continues the previous
 * one. Every name is in one table with its kind and default, so the parser,
 * the defaults and the manual's list of names cannot drift apart.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "domain.h"
#include "rg-error.h"
#include "rg-limits.h"

typedef enum {
    KIND_STRING, /* any non-empty text, at offset (char *); a row whose default
                  * is "" may also be set empty, which leaves NULL there */
    KIND_PATH,   /* an absolute path, at offset (char *) */
    KIND_BOOL,   /* yes/no, at offset (gboolean) */
    KIND_TLS,
    KIND_DOMAINS,
    KIND_CHOICE, /* one word of the row's choices "a|b|c", its index at offset (int) */
    KIND_ADDRESS,
    KIND_STATIC,
    KIND_SIZE,     /* a positive number of bytes, at offset (guint64) */
    KIND_COUNT,    /* a number, 0 allowed, at offset (guint64) */
    KIND_DURATION, /* a number and a unit s, m, h, d or w (none: s); seconds at offset (guint64) */
    KIND_SOCKET,   /* unix:/path or inet:port@host, at offset (char *) */
    KIND_WORD,     /* address_prefix: letters, digits, dot, dash, underscore */
    KIND_SEP,      /* address_separator: one punctuation character */
    KIND_KINDS,    /* a list of reply-address kinds ([a-z]{1,16}), at offset (char **) */
} ValueKind;

typedef struct {
    const char *name;
    ValueKind kind;
    const char *default_value; /* NULL: required */
    gssize offset;             /* of the field the kind fills (see ValueKind), else -1 */
    const char *choices;       /* KIND_CHOICE: "a|b|c", the index is the value; else NULL */
} ConfigName;

#define FIELD(field) G_STRUCT_OFFSET(Config, field)

/* One row per name: the parser, the defaults and config_names() all read it. */
#define CONFIG_NAMES(X)                                                                            \
    X(reply_domain, KIND_DOMAINS, NULL, -1, NULL)                                                  \
    X(address_prefix, KIND_WORD, "reply", -1, NULL)                                                \
    X(address_separator, KIND_SEP, "+", -1, NULL)                                                  \
    X(secrets_file, KIND_PATH, REPLYGATE_SYSCONFDIR "/secrets", FIELD(secrets_file), NULL)         \
    X(database, KIND_STRING, "postgresql:///replygate", FIELD(database), NULL)                     \
    X(spool_directory, KIND_PATH, "/var/spool/replygate", FIELD(spool_directory), NULL)            \
    X(processor_log, KIND_PATH, "/var/log/mail-replies/replygate.log", FIELD(processor_log), NULL) \
    X(require_tls, KIND_BOOL, "yes", FIELD(require_tls), NULL)                                     \
    X(tls_min_version, KIND_TLS, "TLSv1.2", -1, NULL)                                              \
    X(auto_submitted_action, KIND_CHOICE, "reject", FIELD(auto_submitted_action),                  \
      "reject|discard")                                                                            \
    X(noreply_address, KIND_ADDRESS, "", -1, NULL)                                                 \
    X(static_address, KIND_STATIC, "", -1, NULL)                                                   \
    X(max_message_size, KIND_SIZE, "26214400", FIELD(max_message_size), NULL)                      \
    X(milter_socket, KIND_SOCKET, "unix:/var/spool/postfix/replygate/milter.sock",                 \
      FIELD(milter_socket), NULL)                                                                  \
    X(syslog_socket, KIND_PATH, "/dev/log", FIELD(syslog_socket), NULL)                            \
    X(authserv_id, KIND_STRING, "", FIELD(authserv_id), NULL)                                      \
    X(rate_limit_per_key, KIND_COUNT, "0", FIELD(rate_limit_per_key), NULL)                        \
    X(rate_limit_per_sender, KIND_COUNT, "0", FIELD(rate_limit_per_sender), NULL)                  \
    X(milter_socket_group, KIND_STRING, "postfix", FIELD(milter_socket_group), NULL)               \
    X(milter_remove_authentication_results, KIND_BOOL, "yes",                                      \
      FIELD(milter_remove_authentication_results), NULL)                                           \
    X(metrics_textfile, KIND_PATH, "/var/lib/prometheus/node-exporter/replygate.prom",             \
      FIELD(metrics_textfile), NULL)                                                               \
    X(sender_policy, KIND_CHOICE, "record", FIELD(sender_policy), "record|require-dmarc-pass")     \
    X(from_check, KIND_CHOICE, "record", FIELD(from_check), "record|require")                      \
    X(action_kinds, KIND_KINDS, "", FIELD(action_kinds), NULL)                                     \
    X(lmtp_socket, KIND_SOCKET, "unix:/var/spool/postfix/replygate/lmtp.sock", FIELD(lmtp_socket), \
      NULL)                                                                                        \
    X(lmtp_pool_size, KIND_SIZE, "4", FIELD(lmtp_pool_size), NULL)                                 \
    X(lmtp_pool_wait, KIND_DURATION, "10s", FIELD(lmtp_pool_wait), NULL)                           \
    X(lmtp_max_sessions, KIND_SIZE, "100", FIELD(lmtp_max_sessions), NULL)                         \
    X(lmtp_idle_timeout, KIND_DURATION, "5m", FIELD(lmtp_idle_timeout), NULL)                      \
    X(lmtp_command_timeout, KIND_DURATION, "10m", FIELD(lmtp_command_timeout), NULL)               \
    X(lmtp_recipient_limit, KIND_SIZE, "100", FIELD(lmtp_recipient_limit), NULL)                   \
    X(lmtp_memory_budget, KIND_SIZE, "1073741824", FIELD(lmtp_memory_budget), NULL)                \
    X(lmtp_message_cpu_budget, KIND_DURATION, "30s", FIELD(lmtp_message_cpu_budget), NULL)         \
    X(delivery_memory_limit, KIND_COUNT, "1073741824", FIELD(delivery_memory_limit), NULL)         \
    X(delivery_cpu_limit, KIND_DURATION, "60", FIELD(delivery_cpu_limit), NULL)                    \
    X(database_lock_timeout, KIND_DURATION, "10s", FIELD(database_lock_timeout), NULL)             \
    X(database_statement_timeout, KIND_DURATION, "1m", FIELD(database_statement_timeout), NULL)    \
    X(after_queue_refusal, KIND_CHOICE, "bounce", FIELD(after_queue_refusal), "bounce|keep")       \
    X(spool_keep_success, KIND_DURATION, "7d", FIELD(spool_keep_success), NULL)                    \
    X(spool_keep_failure, KIND_DURATION, "30d", FIELD(spool_keep_failure), NULL)                   \
    X(database_keep, KIND_DURATION, "365d", FIELD(database_keep), NULL)                            \
    X(refusals_keep, KIND_DURATION, "90d", FIELD(refusals_keep), NULL)                             \
    X(tombstones_keep, KIND_DURATION, "90d", FIELD(tombstones_keep), NULL)

#define CONFIG_ROW(name, kind, def, offset, choices) {#name, kind, def, offset, choices},
#define CONFIG_NAME(name, kind, def, offset, choices) #name,

static const ConfigName config_table[] = {CONFIG_NAMES(CONFIG_ROW)};
static const char *const config_name_list[] = {CONFIG_NAMES(CONFIG_NAME) NULL};

#define CONFIG_N_NAMES G_N_ELEMENTS(config_table)

/* config_names - the NULL-terminated list of every configuration name */
const char *const *
config_names(void)
{
    return config_name_list;
}

/* config_resolve_path - --config, then $REPLYGATE_CONFIG, then the default */
const char *
config_resolve_path(const char *cli_path)
{
    const char *env;

    if (cli_path != NULL && *cli_path != '\0')
        return cli_path;
    env = g_getenv("REPLYGATE_CONFIG");
    if (env != NULL && *env != '\0')
        return env;
    return CONFIG_DEFAULT_PATH;
}

/* config_unix_socket_path - the file of a unix: or local: socket, else NULL */
const char *
config_unix_socket_path(const char *socket)
{
    if (g_str_has_prefix(socket, "unix:"))
        return socket + 5;
    if (g_str_has_prefix(socket, "local:"))
        return socket + 6;
    if (socket[0] == '/')
        return socket;
    return NULL;
}

/* tls_version_rank - order TLS version names; -1 if unknown */
int
tls_version_rank(const char *version)
{
    static const char *const names[] = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

    if (version == NULL)
        return -1;
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (g_ascii_strcasecmp(version, names[i]) == 0)
            return (int)i;
    }
    return -1;
}

/* static_address_free - release one static_address entry */
static void
static_address_free(gpointer data)
{
    StaticAddress *entry = data;

    g_free(entry->address);
    g_free(entry->kind);
    g_free(entry);
}

/* config_free - release a configuration (NULL-safe) */
void
config_free(Config *config)
{
    if (config == NULL)
        return;
    g_free(config->path);
    g_clear_pointer(&config->reply_domains, g_ptr_array_unref);
    g_free(config->address_prefix);
    g_free(config->address_separator);
    g_free(config->secrets_file);
    g_free(config->database);
    g_free(config->spool_directory);
    g_free(config->processor_log);
    g_free(config->tls_min_version);
    g_free(config->noreply_address);
    g_clear_pointer(&config->static_addresses, g_ptr_array_unref);
    g_free(config->milter_socket);
    g_free(config->syslog_socket);
    g_free(config->authserv_id);
    g_free(config->milter_socket_group);
    g_free(config->metrics_textfile);
    g_strfreev(config->action_kinds);
    g_free(config->lmtp_socket);
    g_free(config);
}

/* config_is_reply_domain - is domain (any case, folded as Postfix folds it
 * with smtputf8_enable = yes: see domain.h) one of the reply domains? */
gboolean
config_is_reply_domain(const Config *config, const char *domain)
{
    g_autofree char *folded = NULL;

    if (config == NULL || domain == NULL)
        return FALSE;
    folded = domain_fold(domain);
    for (guint i = 0; i < config->reply_domains->len; i++) {
        if (strcmp(g_ptr_array_index(config->reply_domains, i), folded) == 0)
            return TRUE;
    }
    return FALSE;
}

/* config_is_action_kind - is kind (any case) one of action_kinds? */
gboolean
config_is_action_kind(const Config *config, const char *kind)
{
    if (config == NULL || kind == NULL || config->action_kinds == NULL)
        return FALSE;
    for (char **k = config->action_kinds; *k != NULL; k++) {
        if (g_ascii_strcasecmp(*k, kind) == 0)
            return TRUE;
    }
    return FALSE;
}

/* valid_domain - letters, digits, hyphens and dots, labels not empty */
static gboolean
valid_domain(const char *domain)
{
    gsize label = 0;

    if (*domain == '\0' || strlen(domain) > 253)
        return FALSE;
    for (const char *p = domain; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return FALSE;
            label = 0;
        } else if (g_ascii_isalnum(*p) || *p == '-') {
            if (++label > 63)
                return FALSE;
        } else {
            return FALSE;
        }
    }
    return label > 0;
}

/* valid_address - a plain local@domain with a sane local part */
static gboolean
valid_address(const char *address)
{
    const char *at = strrchr(address, '@');

    if (at == NULL || at == address)
        return FALSE;
    for (const char *p = address; p < at; p++) {
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '@' || *p == ',' ||
            *p == '"' || (unsigned char)*p >= 0x7f)
            return FALSE;
    }
    return valid_domain(at + 1);
}

/* parse_u64 - a decimal number without sign or leading zero */
static gboolean
parse_u64(const char *text, guint64 *out)
{
    guint64 value = 0;

    if (*text == '\0' || (text[0] == '0' && text[1] != '\0') || strlen(text) > 20)
        return FALSE;
    for (const char *p = text; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
        if (value > (G_MAXUINT64 - (guint64)(*p - '0')) / 10)
            return FALSE;
        value = value * 10 + (guint64)(*p - '0');
    }
    *out = value;
    return TRUE;
}

/* parse_bool - yes/no and their usual synonyms */
static gboolean
parse_bool(const char *text, gboolean *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(text, yes[i]) == 0) {
            *out = TRUE;
            return TRUE;
        }
        if (g_ascii_strcasecmp(text, no[i]) == 0) {
            *out = FALSE;
            return TRUE;
        }
    }
    return FALSE;
}

/* parse_static - "address kind target" into a new entry, or NULL */
static StaticAddress *
parse_static(const char *value)
{
    g_auto(GStrv) words = g_strsplit_set(value, " \t", -1);
    const char *parts[3];
    guint n = 0;
    guint64 target;
    StaticAddress *entry;

    for (guint i = 0; words[i] != NULL; i++) {
        if (*words[i] == '\0')
            continue;
        if (n == 3)
            return NULL;
        parts[n++] = words[i];
    }
    if (n != 3 || !valid_address(parts[0]) || !parse_u64(parts[2], &target))
        return NULL;
    if (strlen(parts[1]) < 1 || strlen(parts[1]) > 16)
        return NULL;
    for (const char *p = parts[1]; *p; p++) {
        if (!g_ascii_islower(*p))
            return NULL;
    }
    entry = g_new0(StaticAddress, 1);
    entry->address = g_ascii_strdown(parts[0], -1);
    entry->kind = g_strdup(parts[1]);
    entry->target = target;
    return entry;
}

/* valid_socket - unix:/path, local:/path or inet:port@host */
static gboolean
valid_socket(const char *value)
{
    if (g_str_has_prefix(value, "unix:") || g_str_has_prefix(value, "local:"))
        return strchr(value, ':')[1] == '/';
    if (g_str_has_prefix(value, "inet:") || g_str_has_prefix(value, "inet6:")) {
        const char *port = strchr(value, ':') + 1;
        guint64 n;
        g_autofree char *digits = g_strndup(port, strcspn(port, "@"));
        return parse_u64(digits, &n) && n > 0 && n < 65536;
    }
    return FALSE;
}

/* choice_index - the index of value (any case) in "a|b|c", or -1 */
static int
choice_index(const char *choices, const char *value)
{
    g_auto(GStrv) words = g_strsplit(choices, "|", -1);

    for (int i = 0; words[i] != NULL; i++) {
        if (g_ascii_strcasecmp(words[i], value) == 0)
            return i;
    }
    return -1;
}

/* choice_why - "must be a, b or c" for a row's choices (a static string per
 * distinct choices list: the messages are few and live as long as the program) */
static const char *
choice_why(const char *choices)
{
    static GHashTable *whys; /* choices -> message; filled under the lock */
    static GMutex lock;
    const char *why;

    g_mutex_lock(&lock);
    if (whys == NULL)
        whys = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    why = g_hash_table_lookup(whys, choices);
    if (why == NULL) {
        g_auto(GStrv) words = g_strsplit(choices, "|", -1);
        guint n = g_strv_length(words);
        GString *text = g_string_new("must be ");

        for (guint i = 0; i < n; i++) {
            if (i > 0)
                g_string_append(text, i + 1 == n ? " or " : ", ");
            g_string_append(text, words[i]);
        }
        why = g_string_free(text, FALSE);
        g_hash_table_insert(whys, (gpointer)choices, (gpointer)why);
    }
    g_mutex_unlock(&lock);
    return why;
}

/* config_parse_duration - "30", "30s", "5m", "2h", "7d", "1w" into seconds */
gboolean
config_parse_duration(const char *text, guint64 *seconds)
{
    static const struct {
        char unit;
        guint64 factor;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    gsize len = strlen(text);
    g_autofree char *digits = NULL;
    guint64 factor = 1;
    guint64 n;

    if (len == 0)
        return FALSE;
    if (g_ascii_isalpha(text[len - 1])) {
        guint i;
        for (i = 0; i < G_N_ELEMENTS(units); i++) {
            if (g_ascii_tolower(text[len - 1]) == units[i].unit)
                break;
        }
        if (i == G_N_ELEMENTS(units))
            return FALSE;
        factor = units[i].factor;
        len--;
    }
    digits = g_strndup(text, len);
    if (!parse_u64(digits, &n) || n > G_MAXUINT64 / factor)
        return FALSE;
    *seconds = n * factor;
    return TRUE;
}

/* config_format_duration - seconds as the largest exact unit of d, h, m, s ("7d", "90s", "0") */
char *
config_format_duration(guint64 seconds)
{
    if (seconds == 0)
        return g_strdup("0");
    if (seconds % 86400 == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT "d", seconds / 86400);
    if (seconds % 3600 == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT "h", seconds / 3600);
    if (seconds % 60 == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT "m", seconds / 60);
    return g_strdup_printf("%" G_GUINT64_FORMAT "s", seconds);
}

/* set_value - check one value and store it; FALSE with a reason if bad */
static gboolean
set_value(Config *config, const ConfigName *name, const char *value, const char **why)
{
    switch (name->kind) {
    case KIND_STRING:
    case KIND_PATH:
        /* A name whose default is empty may be set empty again ("none"). */
        if (*value == '\0' && !(name->default_value != NULL && *name->default_value == '\0')) {
            *why = "must not be empty";
            return FALSE;
        }
        if (name->kind == KIND_PATH && value[0] != '/') {
            *why = "must be an absolute path";
            return FALSE;
        }
        break;
    case KIND_BOOL: {
        gboolean b;
        if (!parse_bool(value, &b)) {
            *why = "must be yes or no";
            return FALSE;
        }
        *(gboolean *)G_STRUCT_MEMBER_P(config, name->offset) = b;
        return TRUE;
    }
    case KIND_TLS:
        if (tls_version_rank(value) < 1) {
            *why = "must be TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3";
            return FALSE;
        }
        g_free(config->tls_min_version);
        config->tls_min_version = g_strdup(value);
        config->tls_min_rank = tls_version_rank(value);
        return TRUE;
    case KIND_DOMAINS: {
        g_auto(GStrv) words = g_strsplit_set(value, ", \t", -1);
        g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; words[i] != NULL; i++) {
            if (*words[i] == '\0')
                continue;
            if (!valid_domain(words[i])) {
                *why = "is not a domain name";
                return FALSE;
            }
            g_ptr_array_add(domains, g_ascii_strdown(words[i], -1));
        }
        if (domains->len == 0) {
            *why = "must name at least one domain";
            return FALSE;
        }
        g_clear_pointer(&config->reply_domains, g_ptr_array_unref);
        config->reply_domains = g_steal_pointer(&domains);
        return TRUE;
    }
    case KIND_CHOICE: {
        int index = choice_index(name->choices, value);
        if (index < 0) {
            *why = choice_why(name->choices);
            return FALSE;
        }
        *(int *)G_STRUCT_MEMBER_P(config, name->offset) = index;
        return TRUE;
    }
    case KIND_ADDRESS:
        g_clear_pointer(&config->noreply_address, g_free);
        if (*value == '\0')
            return TRUE;
        if (!valid_address(value)) {
            *why = "is not an address (local@domain)";
            return FALSE;
        }
        config->noreply_address = g_ascii_strdown(value, -1);
        return TRUE;
    case KIND_STATIC: {
        StaticAddress *entry;
        if (*value == '\0')
            return TRUE;
        entry = parse_static(value);
        if (entry == NULL) {
            *why = "must be \"address kind target\"";
            return FALSE;
        }
        g_ptr_array_add(config->static_addresses, entry);
        return TRUE;
    }
    case KIND_SIZE:
    case KIND_COUNT: {
        guint64 n;
        if (!parse_u64(value, &n) || (name->kind == KIND_SIZE && n == 0)) {
            *why = name->kind == KIND_SIZE ? "must be a positive number of bytes"
                                           : "must be a number (0 or more)";
            return FALSE;
        }
        /* The agent reads a message into one buffer (issue 13). */
        if (name->offset == FIELD(max_message_size) && n > LIMIT_MESSAGE_SIZE_MAX) {
            *why = "must be at most 1073741824 bytes (1 GiB)";
            return FALSE;
        }
        *(guint64 *)G_STRUCT_MEMBER_P(config, name->offset) = n;
        return TRUE;
    }
    case KIND_DURATION: {
        guint64 seconds;
        if (!config_parse_duration(value, &seconds)) {
            *why = "must be a time: a number and one of the units s, m, h, d or w";
            return FALSE;
        }
        /* Sent to PostgreSQL in milliseconds, whose limit is 2^31 - 1 ms: past
         * it SET LOCAL fails, and every reply would be refused as bad data. */
        if ((name->offset == FIELD(database_lock_timeout) ||
             name->offset == FIELD(database_statement_timeout)) &&
            seconds > 2147483) {
            *why = "must be at most 2147483 seconds (24 days), PostgreSQL's limit";
            return FALSE;
        }
        *(guint64 *)G_STRUCT_MEMBER_P(config, name->offset) = seconds;
        return TRUE;
    }
    case KIND_SOCKET:
        if (!valid_socket(value)) {
            *why = "must be unix:/path or inet:port@host";
            return FALSE;
        }
        break;
    case KIND_WORD:
        if (*value == '\0') {
            *why = "must not be empty";
            return FALSE;
        }
        for (const char *p = value; *p; p++) {
            if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_') {
                *why = "may hold only letters, digits, '.', '-' and '_'";
                return FALSE;
            }
        }
        g_free(config->address_prefix);
        config->address_prefix = g_ascii_strdown(value, -1);
        return TRUE;
    case KIND_KINDS: {
        g_auto(GStrv) words = g_strsplit_set(value, ", \t", -1);
        g_autoptr(GStrvBuilder) kinds = g_strv_builder_new();
        for (guint i = 0; words[i] != NULL; i++) {
            gsize n = strlen(words[i]);
            if (n == 0)
                continue;
            if (n > 16 || strspn(words[i], "abcdefghijklmnopqrstuvwxyz") != n) {
                *why = "must be kinds of reply addresses: 1 to 16 letters a-z each";
                return FALSE;
            }
            g_strv_builder_add(kinds, words[i]);
        }
        g_strfreev(*(char ***)G_STRUCT_MEMBER_P(config, name->offset));
        *(char ***)G_STRUCT_MEMBER_P(config, name->offset) = g_strv_builder_end(kinds);
        return TRUE;
    }
    case KIND_SEP:
        if (strlen(value) != 1 || strchr("+-_=.", value[0]) == NULL) {
            *why = "must be one of + - _ = .";
            return FALSE;
        }
        g_free(config->address_separator);
        config->address_separator = g_strdup(value);
        return TRUE;
    }

    /* The plain strings (STRING, PATH, SOCKET) live at the offset the table gives. */
    {
        char **slot = G_STRUCT_MEMBER_P(config, name->offset);
        g_assert(name->offset >= 0);
        g_free(*slot);
        *slot = g_strdup(value);
    }
    return TRUE;
}

/* lookup_name - the table row for a name, or NULL */
static const ConfigName *
lookup_name(const char *name)
{
    for (guint i = 0; i < CONFIG_N_NAMES; i++) {
        if (strcmp(config_table[i].name, name) == 0)
            return &config_table[i];
    }
    return NULL;
}

/* config_new_defaults - a configuration holding every default */
static Config *
config_new_defaults(const char *filename)
{
    Config *config = g_new0(Config, 1);
    const char *why = NULL;

    config->path = g_strdup(filename);
    config->static_addresses = g_ptr_array_new_with_free_func(static_address_free);
    for (guint i = 0; i < CONFIG_N_NAMES; i++) {
        if (config_table[i].default_value == NULL)
            continue;
        if (!set_value(config, &config_table[i], config_table[i].default_value, &why))
            g_error("bad default for %s: %s", config_table[i].name, why);
    }
    return config;
}

/* apply_line - one logical "name = value" line */
static gboolean
apply_line(Config *config, const char *filename, guint lineno, const char *line,
           gboolean *seen_domain, GError **error)
{
    const char *eq = strchr(line, '=');
    g_autofree char *name = NULL;
    g_autofree char *value = NULL;
    const ConfigName *row;
    const char *why = NULL;

    if (eq == NULL) {
        g_autofree char *word = g_strndup(line, strcspn(line, " \t"));
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "%s:%u: missing \"=\" after name \"%s\"",
                    filename, lineno, word);
        return FALSE;
    }
    name = g_strstrip(g_strndup(line, eq - line));
    value = g_strstrip(g_strdup(eq + 1));
    row = lookup_name(name);
    if (row == NULL) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "%s:%u: unknown name \"%s\"", filename,
                    lineno, name);
        return FALSE;
    }
    if (!set_value(config, row, value, &why)) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "%s:%u: bad value for \"%s\": \"%s\" %s",
                    filename, lineno, name, value, why);
        return FALSE;
    }
    if (row->kind == KIND_DOMAINS)
        *seen_domain = TRUE;
    return TRUE;
}

/* config_parse - check configuration text; filename is used in messages only */
Config *
config_parse(const char *text, gsize len, const char *filename, GError **error)
{
    g_autoptr(Config) config = config_new_defaults(filename);
    g_autoptr(GString) logical = g_string_new(NULL);
    guint logical_lineno = 0;
    guint lineno = 0;
    gboolean seen_domain = FALSE;
    const char *p = text;
    const char *end = text + len;

    if (memchr(text, '\0', len) != NULL) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "%s: holds a NUL byte", filename);
        return NULL;
    }
    while (p <= end) {
        const char *nl = memchr(p, '\n', end - p);
        const char *line_end = nl ? nl : end;
        g_autofree char *line = g_strndup(p, line_end - p);
        gsize n = strlen(line);
        const char *first = line;

        lineno++;
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        while (*first == ' ' || *first == '\t')
            first++;
        if (*first == '\0' || *first == '#') {
            /* Blank and comment lines neither start nor end a logical line. */
        } else if (first != line) {
            if (logical->len == 0) {
                g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                            "%s:%u: continuation line without a name before it", filename, lineno);
                return NULL;
            }
            g_string_append_c(logical, ' ');
            g_string_append(logical, first);
        } else {
            if (logical->len > 0 &&
                !apply_line(config, filename, logical_lineno, logical->str, &seen_domain, error))
                return NULL;
            g_string_assign(logical, line);
            logical_lineno = lineno;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    if (logical->len > 0 &&
        !apply_line(config, filename, logical_lineno, logical->str, &seen_domain, error))
        return NULL;
    if (!seen_domain) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "%s: missing required name \"reply_domain\"",
                    filename);
        return NULL;
    }
    if (config->sender_policy == SENDER_POLICY_REQUIRE_DMARC_PASS &&
        (config->authserv_id == NULL || *config->authserv_id == '\0')) {
        /* Without it no verdict can be trusted, so every reply would be refused. */
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG,
                    "%s: \"sender_policy = require-dmarc-pass\" needs \"authserv_id\", the id "
                    "your DMARC verifier writes",
                    filename);
        return NULL;
    }
    return g_steal_pointer(&config);
}

/* config_value_text - the value of a name as replygate.conf(5) writes it
 * ("yes", "7d", "none", ...), or NULL for an unknown name (new string) */
char *
config_value_text(const Config *config, const char *name)
{
    const ConfigName *row = lookup_name(name);

    if (row == NULL)
        return NULL;
    switch (row->kind) {
    case KIND_DOMAINS: {
        g_autoptr(GString) text = g_string_new(NULL);
        for (guint i = 0; config->reply_domains && i < config->reply_domains->len; i++)
            g_string_append_printf(text, "%s%s", i ? " " : "",
                                   (char *)g_ptr_array_index(config->reply_domains, i));
        return g_strdup(text->str);
    }
    case KIND_WORD:
        return g_strdup(config->address_prefix);
    case KIND_SEP:
        return g_strdup(config->address_separator);
    case KIND_TLS:
        return g_strdup(config->tls_min_version);
    case KIND_ADDRESS:
        return g_strdup(config->noreply_address ? config->noreply_address : "none");
    case KIND_STATIC:
        return g_strdup(config->static_addresses->len ? "(list)" : "none");
    case KIND_BOOL:
        return g_strdup(*(const gboolean *)G_STRUCT_MEMBER_P(config, row->offset) ? "yes" : "no");
    case KIND_CHOICE: {
        g_auto(GStrv) words = g_strsplit(row->choices, "|", -1);
        int index = *(const int *)G_STRUCT_MEMBER_P(config, row->offset);
        return g_strdup(index >= 0 && (guint)index < g_strv_length(words) ? words[index] : "?");
    }
    case KIND_SIZE:
    case KIND_COUNT:
        return g_strdup_printf("%" G_GUINT64_FORMAT,
                               *(const guint64 *)G_STRUCT_MEMBER_P(config, row->offset));
    case KIND_DURATION:
        return config_format_duration(*(const guint64 *)G_STRUCT_MEMBER_P(config, row->offset));
    case KIND_KINDS: {
        char *const *kinds = *(char **const *)G_STRUCT_MEMBER_P(config, row->offset);
        if (kinds == NULL || kinds[0] == NULL)
            return g_strdup("none");
        return g_strjoinv(" ", (char **)kinds);
    }
    case KIND_STRING:
    case KIND_PATH:
    case KIND_SOCKET: {
        const char *text = *(char *const *)G_STRUCT_MEMBER_P(config, row->offset);
        return g_strdup(text && *text ? text : "none");
    }
    }
    return NULL;
}

/* config_load - read and check a configuration file */
Config *
config_load(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "cannot read configuration: %s",
                    local->message);
        return NULL;
    }
    return config_parse(text, len, path, error);
}
