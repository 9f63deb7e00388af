/*
 * check-milter.c - the milter's part of `replygate check`: which smtpd
 * services ask it and in which form, whether local submissions are sent to
 * it, whether relay_recipient_maps lets reply addresses in at all, and
 * whether its socket answers a milter negotiation as the user smtpd
 * connects as. Each case that breaks replies, or fences them less than the
 * administrator thinks, is a FAIL or a WARN, never an OK:
 *   - a `postconf -P` override (-o smtpd_milters=...) that drops the milter
 *     from an smtpd that takes mail on port 25;
 *   - the milter in the plain form (it then follows the global
 *     milter_default_action and timeouts), or with default_action=tempfail
 *     on the shared smtpd (a dead milter answers 4xx for every domain);
 *   - the milter in non_smtpd_milters;
 *   - relay_recipient_maps without an entry for the reply addresses (smtpd
 *     answers "550 5.1.1 User unknown in relay recipient table");
 *   - a socket that user postfix may not open (root always could).
 */
#include <string.h>
#include <unistd.h>

#include "as-user.h"
#include "check.h"

/* check_milter_item - the socket of a milter item, and its default_action */
char *
check_milter_item(const char *item, char **default_action)
{
    g_autofree char *inner = NULL;
    g_auto(GStrv) parts = NULL;
    char *socket;

    if (default_action)
        *default_action = NULL;
    if (item == NULL || item[0] != '{')
        return g_strdup(item ? item : "");
    inner = g_strndup(item + 1, strlen(item + 1) - (g_str_has_suffix(item, "}") ? 1 : 0));
    parts = g_strsplit_set(inner, ",", -1);
    socket = g_strdup(g_strstrip(parts[0]));
    for (guint i = 1; parts[i]; i++) {
        char *p = g_strstrip(parts[i]);
        if (default_action && g_str_has_prefix(p, "default_action")) {
            char *eq = strchr(p, '=');
            if (eq) {
                g_free(*default_action);
                *default_action = g_strdup(g_strstrip(eq + 1));
            }
        }
    }
    return socket;
}

/* Service - one smtpd of master.cf and the milters it asks */
typedef struct {
    char *name;        /* "smtp/inet" */
    gboolean port25;   /* takes mail from the Internet on port 25 */
    char *milters;     /* effective smtpd_milters */
    gboolean override; /* from a -o smtpd_milters */
} Service;

static void
service_free(gpointer p)
{
    Service *s = p;
    g_free(s->name);
    g_free(s->milters);
    g_free(s);
}

/* is_port25 - an inet service name that listens on port 25 (smtp, 25,
 * ADDR:smtp, ADDR:25); postscreen's smtpd "pass" service counts too */
static gboolean
is_port25(const char *service, const char *type)
{
    const char *port = strrchr(service, ':');

    if (strcmp(type, "pass") == 0)
        return TRUE;
    port = port ? port + 1 : service;
    return strcmp(type, "inet") == 0 && (strcmp(port, "smtp") == 0 || strcmp(port, "25") == 0);
}

/* smtpd_services - the smtpd services of master.cf with their effective
 * smtpd_milters (a -o override, expanded, or main.cf's) */
static GPtrArray *
smtpd_services(const Check *check, const char *main_milters)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(service_free);
    g_autofree char *master = check_postconf(check, "-M", NULL, NULL);
    g_autofree char *overrides = check_postconf(check, "-Px", NULL, NULL);
    g_auto(GStrv) lines = g_strsplit(master ? master : "", "\n", -1);
    g_auto(GStrv) olines = g_strsplit(overrides ? overrides : "", "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        g_autoptr(GPtrArray) fields = g_ptr_array_new();
        Service *s;
        g_autofree char *prefix = NULL;

        for (guint j = 0; f[j]; j++)
            if (*f[j])
                g_ptr_array_add(fields, f[j]);
        if (fields->len < 8 || strcmp(g_ptr_array_index(fields, 7), "smtpd") != 0)
            continue;
        if (strcmp(g_ptr_array_index(fields, 1), "inet") != 0 &&
            strcmp(g_ptr_array_index(fields, 1), "pass") != 0)
            continue;
        s = g_new0(Service, 1);
        s->name = g_strdup_printf("%s/%s", (char *)g_ptr_array_index(fields, 0),
                                  (char *)g_ptr_array_index(fields, 1));
        s->port25 = is_port25(g_ptr_array_index(fields, 0), g_ptr_array_index(fields, 1));
        prefix = g_strdup_printf("%s/smtpd_milters = ", s->name);
        for (guint j = 0; olines[j]; j++) {
            if (g_str_has_prefix(olines[j], prefix)) {
                s->milters = g_strdup(olines[j] + strlen(prefix));
                s->override = TRUE;
            }
        }
        if (!s->override)
            s->milters = g_strdup(main_milters ? main_milters : "");
        g_ptr_array_add(out, s);
    }
    return out;
}

/* find_ours - our item in a milter list, or NULL */
static char *
find_ours(const char *list, const char *queue_dir, const Config *config)
{
    g_autoptr(GPtrArray) items = check_split_list(list);

    for (guint i = 0; i < items->len; i++)
        if (check_same_milter(g_ptr_array_index(items, i), queue_dir, config->milter_socket))
            return g_strdup(g_ptr_array_index(items, i));
    return NULL;
}

/* report_form - the per-milter form of our item on one service */
static void
report_form(Check *check, const Service *s, const char *item, gboolean shared)
{
    g_autofree char *action = NULL;
    g_autofree char *socket = check_milter_item(item, &action);
    g_autofree char *global = check_postconf(check, "-xh", "milter_default_action", NULL);
    g_autofree char *fix = g_strdup_printf(
        "write it in the per-milter form: { %s, default_action=%s, connect_timeout=5s, "
        "command_timeout=10s, content_timeout=30s } (replygate postfix-setup)",
        socket, shared ? "accept" : "tempfail");

    if (item[0] != '{' || action == NULL) {
        check_report(check, "WARN", fix,
                     "Postfix %s asks the milter %s in the plain form: it follows the global "
                     "milter_default_action (%s) and timeouts%s",
                     s->name, socket, global ? global : "?",
                     shared && g_strcmp0(global, "accept") != 0
                         ? ", so a stopped or hung milter answers 4xx for every domain there"
                         : "");
    } else if (shared && strcmp(action, "accept") != 0) {
        check_report(check, "WARN",
                     "default_action=accept on the shared smtpd (the agent enforces every rule "
                     "after the queue), or a dedicated listener (postfix-setup --listener)",
                     "Postfix %s asks the milter with default_action=%s: while it is down or "
                     "hung, mail for every domain there is answered 4xx",
                     s->name, action);
    } else {
        check_report(check, "OK", NULL, "Postfix %s asks the milter in the per-milter form, %s",
                     s->name,
                     shared ? "default_action=accept (a dead milter delays no other domain)"
                            : "on an smtpd that takes reply mail only");
    }
}

/* other_domains - does this Postfix take mail for any domain that is not a
 * reply domain (mydestination, relay_domains, virtual_*_domains)? A second
 * instance (postmulti) for the reply domains alone takes none: its smtpd
 * is as dedicated as a listener of its own. */
static gboolean
other_domains(const Check *check, const Config *config)
{
    static const char *const params[] = {"mydestination", "relay_domains", "virtual_alias_domains",
                                         "virtual_mailbox_domains"};

    for (gsize p = 0; p < G_N_ELEMENTS(params); p++) {
        g_autofree char *value = check_postconf(check, "-xh", params[p], NULL);
        g_autoptr(GPtrArray) items = check_split_list(value);

        for (guint i = 0; i < items->len; i++)
            if (!config_is_reply_domain(config, g_ptr_array_index(items, i)))
                return TRUE;
    }
    return FALSE;
}

/* check_milter_reach - which smtpd services ask the milter, and how */
void
check_milter_reach(Check *check, const Config *config, const char *queue_dir,
                   const char *main_milters)
{
    g_autoptr(GPtrArray) services = smtpd_services(check, main_milters);
    g_autofree char *in_main = find_ours(main_milters, queue_dir, config);
    gboolean shared = other_domains(check, config);
    guint asking = 0;

    for (guint i = 0; i < services->len; i++) {
        const Service *s = g_ptr_array_index(services, i);
        g_autofree char *ours = find_ours(s->milters, queue_dir, config);

        if (ours) {
            asking++;
            report_form(check, s, ours, shared && !s->override);
        } else if (in_main && s->override && s->port25) {
            check_report(check, "FAIL",
                         "remove that -o smtpd_milters from master.cf, or add the milter to it",
                         "Postfix %s overrides smtpd_milters (postconf -P: %s) without the "
                         "replygate milter: reply mail arriving there skips the SMTP-time checks",
                         s->name, *s->milters ? s->milters : "empty");
        } else if (in_main && s->override) {
            check_report(check, "WARN",
                         "add the milter to that -o smtpd_milters if it takes reply mail",
                         "Postfix %s overrides smtpd_milters (postconf -P) without the replygate "
                         "milter",
                         s->name);
        }
    }
    if (asking == 0)
        check_report(check, "FAIL", "replygate postfix-setup (or --listener ADDR:PORT)",
                     "no Postfix smtpd service asks the milter %s (smtpd_milters: %s; and no "
                     "postconf -P override names it)",
                     config->milter_socket, main_milters && *main_milters ? main_milters : "empty");
}

/* check_non_smtpd_milters - local submissions need no replygate milter */
void
check_non_smtpd_milters(Check *check, const Config *config, const char *queue_dir)
{
    g_autofree char *list = check_postconf(check, "-xh", "non_smtpd_milters", NULL);
    g_autofree char *ours = find_ours(list, queue_dir, config);

    if (ours)
        check_report(check, "WARN",
                     "give non_smtpd_milters only the milters meant for local mail, for example "
                     "non_smtpd_milters = inet:localhost:8891 for OpenDKIM, not $smtpd_milters",
                     "Postfix non_smtpd_milters (%s) includes the replygate milter: it cannot "
                     "refuse a recipient of mail submitted with sendmail(1), so it has nothing to "
                     "check there (the agent checks that mail)",
                     list);
    else
        check_report(check, "OK", NULL, "Postfix non_smtpd_milters does not ask the milter");
}

/* check_relay_recipients - relay_recipient_maps lets reply addresses in */
void
check_relay_recipients(Check *check, const Config *config)
{
    g_autofree char *maps = check_postconf(check, "-xh", "relay_recipient_maps", NULL);
    g_autofree char *delim = check_postconf(check, "-xh", "recipient_delimiter", NULL);
    g_autoptr(GPtrArray) tables = check_split_list(maps);

    if (tables->len == 0) {
        check_report(check, "OK", NULL,
                     "Postfix relay_recipient_maps is empty: any address in the reply domains is "
                     "accepted");
        return;
    }
    for (guint d = 0; d < config->reply_domains->len; d++) {
        const char *domain = g_ptr_array_index(config->reply_domains, d);
        /* An address of the right shape: the table does not check the mac. */
        g_autofree char *full =
            g_strdup_printf("%s%si-1-0123456789abcdef0123456789abcdef01234567-1@%s",
                            config->address_prefix, config->address_separator, domain);
        g_autofree char *bare = g_strdup_printf("%s@%s", config->address_prefix, domain);
        g_autofree char *catchall = g_strdup_printf("@%s", domain);
        const char *keys[] = {full, NULL, catchall};
        g_autofree char *fix = g_strdup_printf(
            "add \"@%s OK\" to the table of relay_recipient_maps (or list every address)", domain);
        gboolean found = FALSE;

        /* smtpd also tries the address without its extension. */
        if (delim && *delim && strchr(delim, config->address_separator[0]))
            keys[1] = bare;
        for (guint t = 0; t < tables->len && !found; t++)
            for (guint k = 0; k < G_N_ELEMENTS(keys) && !found; k++) {
                g_autofree char *v =
                    keys[k] ? check_postmap_query(check, g_ptr_array_index(tables, t), keys[k])
                            : NULL;
                found = v != NULL && g_ascii_strncasecmp(v, "REJECT", 6) != 0;
            }
        if (found)
            check_report(check, "OK", NULL,
                         "Postfix relay_recipient_maps accepts reply addresses of %s", domain);
        else
            check_report(
                check, "FAIL", fix,
                "Postfix relay_recipient_maps (%s) has no entry for reply addresses of %s: "
                "smtpd refuses them with 550 5.1.1 User unknown in relay recipient table",
                maps, domain);
    }
}

/* check_milter_socket - the milter negotiates as mail_owner */
void
check_milter_socket(Check *check, const Config *config)
{
    g_autofree char *owner = check_postconf(check, "-xh", "mail_owner", NULL);
    g_autofree char *queue_dir = check_postconf(check, "-xh", "queue_directory", NULL);
    g_autoptr(GError) error = NULL;
    const char *user = owner && *owner ? owner : "postfix";
    gboolean root = geteuid() == 0;
    gboolean ok;

    if (root)
        ok = milter_ping_as(user, config->milter_socket, queue_dir ? queue_dir : "/", 5, &error);
    else
        ok = milter_ping(config->milter_socket, queue_dir ? queue_dir : "/", 5, &error);
    if (ok && root)
        check_report(check, "OK", NULL, "milter socket %s answers a milter negotiation as user %s",
                     config->milter_socket, user);
    else if (ok)
        check_report(check, "WARN", "run replygate check as root",
                     "milter socket %s answers, but only as this user was tried, not as %s",
                     config->milter_socket, user);
    else
        check_report(check, "FAIL",
                     "start replygate-milter (systemctl start replygate-milter); its socket must "
                     "be group postfix with mode 0660 in a folder postfix may enter",
                     "milter socket %s does not answer as user %s: %s", config->milter_socket,
                     root ? user : g_get_user_name(), error->message);
}
