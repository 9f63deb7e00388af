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
#include "rg-error.h"

typedef enum {
    KIND_STRING,   /* any non-empty text */
    KIND_PATH,     /* an absolute path */
    KIND_BOOL,
    KIND_TLS,
    KIND_DOMAINS,
    KIND_ACTION,
    KIND_ADDRESS,
    KIND_STATIC,
    KIND_SIZE,
    KIND_SOCKET,
    KIND_WORD, /* address_prefix: letters, digits, dot, dash, underscore */
    KIND_SEP,  /* address_separator: one punctuation character */
} ValueKind;

typedef struct {
    const char *name;
    ValueKind kind;
    const char *default_value; /* NULL: required */
    gssize offset;             /* of the char * field for plain strings, else -1 */
} ConfigName;

#define TEXT_FIELD(field) G_STRUCT_OFFSET(Config, field)

/* One row per name: the parser, the defaults and config_names() all read it. */
#define CONFIG_NAMES(X)                                                                   \
    X(reply_domain, KIND_DOMAINS, NULL, -1)                                               \
    X(address_prefix, KIND_WORD, "reply", -1)                                             \
    X(address_separator, KIND_SEP, "+", -1)                                               \
    X(secrets_file, KIND_PATH, REPLYGATE_SYSCONFDIR "/secrets", TEXT_FIELD(secrets_file)) \
    X(database, KIND_STRING, "postgresql:///replygate", TEXT_FIELD(database))             \
    X(spool_directory, KIND_PATH, "/var/spool/replygate", TEXT_FIELD(spool_directory))    \
    X(processor_log, KIND_PATH, "/var/log/mail-replies/replygate.log",                    \
      TEXT_FIELD(processor_log))                                                          \
    X(require_tls, KIND_BOOL, "yes", -1)                                                  \
    X(tls_min_version, KIND_TLS, "TLSv1.2", -1)                                           \
    X(auto_submitted_action, KIND_ACTION, "reject", -1)                                   \
    X(noreply_address, KIND_ADDRESS, "", -1)                                              \
    X(static_address, KIND_STATIC, "", -1)                                                \
    X(max_message_size, KIND_SIZE, "26214400", -1)                                        \
    X(milter_socket, KIND_SOCKET, "unix:/var/spool/postfix/replygate/milter.sock",        \
      TEXT_FIELD(milter_socket))

#define CONFIG_ROW(name, kind, def, offset) {#name, kind, def, offset},
#define CONFIG_NAME(name, kind, def, offset) #name,

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
    g_free(config);
}

/* config_is_reply_domain - is domain (any case) one of the reply domains? */
gboolean
config_is_reply_domain(const Config *config, const char *domain)
{
    if (config == NULL || domain == NULL)
        return FALSE;
    for (guint i = 0; i < config->reply_domains->len; i++) {
        if (g_ascii_strcasecmp(g_ptr_array_index(config->reply_domains, i), domain) == 0)
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

/* set_value - check one value and store it; FALSE with a reason if bad */
static gboolean
set_value(Config *config, const ConfigName *name, const char *value, const char **why)
{
    switch (name->kind) {
    case KIND_STRING:
    case KIND_PATH:
        if (*value == '\0') {
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
        config->require_tls = b;
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
    case KIND_ACTION:
        if (g_ascii_strcasecmp(value, "reject") == 0)
            config->auto_submitted_action = AUTO_SUBMITTED_REJECT;
        else if (g_ascii_strcasecmp(value, "discard") == 0)
            config->auto_submitted_action = AUTO_SUBMITTED_DISCARD;
        else {
            *why = "must be reject or discard";
            return FALSE;
        }
        return TRUE;
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
    case KIND_SIZE: {
        guint64 n;
        if (!parse_u64(value, &n) || n == 0) {
            *why = "must be a positive number of bytes";
            return FALSE;
        }
        config->max_message_size = n;
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
    case KIND_SEP:
        if (strlen(value) != 1 || strchr("+-_=.", value[0]) == NULL) {
            *why = "must be one of + - _ = .";
            return FALSE;
        }
        g_free(config->address_separator);
        config->address_separator = g_strdup(value);
        return TRUE;
    }

    /* The plain strings live at the offset the table gives. */
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
                            "%s:%u: continuation line without a name before it", filename,
                            lineno);
                return NULL;
            }
            g_string_append_c(logical, ' ');
            g_string_append(logical, first);
        } else {
            if (logical->len > 0 && !apply_line(config, filename, logical_lineno, logical->str,
                                                &seen_domain, error))
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
    return g_steal_pointer(&config);
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
