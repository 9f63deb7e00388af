/*
 * check-postfix.c - the Postfix part of `replygate check`: asks postconf(1)
 * and postmap(1), from --postfix-config DIR or postconf's default, whether
 * every reply domain is relayed to the replygate pipe(8) service, that the
 * service runs replygate-deliver one recipient at a time, and that the
 * milter is asked by every smtpd that takes reply mail, in the per-milter
 * form (check-milter.c).
 */
#include <string.h>

#include "check.h"
#include "rg-error.h"

/* check_postconf - one parameter's expanded value, or NULL when postconf fails */
char *
check_postconf(const Check *check, const char *flag, const char *name, GError **error)
{
    const char *argv[6];
    int n = 0, status = 0;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    argv[n++] = "postconf";
    if (check->postfix_dir) {
        argv[n++] = "-c";
        argv[n++] = check->postfix_dir;
    }
    argv[n++] = flag;
    argv[n++] = name;
    argv[n] = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, error))
        return NULL;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, RG_ERROR, RG_ERROR_CONFIG, "postconf %s %s: %s", flag, name,
                    g_strstrip(err));
        return NULL;
    }
    return g_strdup(g_strstrip(out));
}

/* check_postmap_query - the value a Postfix table gives for key, or NULL */
char *
check_postmap_query(const Check *check, const char *table, const char *key)
{
    const char *argv[7];
    int n = 0, status = 0;
    g_autofree char *out = NULL;

    argv[n++] = "postmap";
    if (check->postfix_dir) {
        argv[n++] = "-c";
        argv[n++] = check->postfix_dir;
    }
    argv[n++] = "-q";
    argv[n++] = key;
    argv[n++] = table;
    argv[n] = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return NULL;
    return g_strdup(g_strstrip(out));
}

/* check_split_list - a Postfix list (white space and commas) into items; {braces}
 * keep what they enclose together, as in inline:{a=b, c=d} */
GPtrArray *
check_split_list(const char *text)
{
    GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
    GString *item = g_string_new(NULL);
    int depth = 0;

    for (const char *p = text ? text : "";; p++) {
        if (*p == '{')
            depth++;
        else if (*p == '}' && depth > 0)
            depth--;
        if (*p == '\0' || (depth == 0 && (g_ascii_isspace(*p) || *p == ','))) {
            if (item->len > 0)
                g_ptr_array_add(items, g_strdup(item->str));
            g_string_truncate(item, 0);
            if (*p == '\0')
                break;
        } else {
            g_string_append_c(item, *p);
        }
    }
    g_string_free(item, TRUE);
    return items;
}

/* check_same_milter - does a Postfix smtpd_milters item name the configured socket?
 * Postfix writes unix:path (relative to its queue directory) and
 * inet:host:port; libmilter writes unix:/path and inet:port@host. */
gboolean
check_same_milter(const char *postfix_item, const char *queue_dir, const char *milter_socket)
{
    g_autofree char *item = check_milter_item(postfix_item, NULL);
    const char *mine = config_unix_socket_path(milter_socket);
    const char *theirs = config_unix_socket_path(item);

    if (mine && theirs) {
        g_autofree char *full =
            theirs[0] == '/' ? g_strdup(theirs) : g_build_filename(queue_dir, theirs, NULL);
        g_autofree char *a = g_canonicalize_filename(full, NULL);
        g_autofree char *b = g_canonicalize_filename(mine, NULL);
        return strcmp(a, b) == 0;
    }
    if (g_str_has_prefix(milter_socket, "inet:") && g_str_has_prefix(item, "inet:")) {
        const char *at = strchr(milter_socket, '@');
        g_autofree char *port =
            at ? g_strndup(milter_socket + 5, at - milter_socket - 5) : g_strdup(milter_socket + 5);
        g_autofree char *host_port = g_strdup_printf("%s:%s", at ? at + 1 : "localhost", port);
        return g_ascii_strcasecmp(item + 5, host_port) == 0;
    }
    return g_strcmp0(item, milter_socket) == 0;
}

/* check_postfix - transport, relay domain, pipe service, the milter's reach */
void
check_postfix(Check *check, const Config *config)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *transport_maps = check_postconf(check, "-xh", "transport_maps", &error);
    g_autofree char *relay_domains = NULL;
    g_autofree char *milters = NULL;
    g_autofree char *queue_dir = NULL;
    g_autoptr(GPtrArray) tables = NULL;
    g_autoptr(GPtrArray) relays = NULL;
    g_autofree char *transport = NULL;
    const char *where = check->postfix_dir ? check->postfix_dir : "the default Postfix config";

    if (transport_maps == NULL) {
        check_report(check, "FAIL", "install Postfix, or give --postfix-config DIR",
                     "cannot read Postfix's settings (%s): %s", where, error->message);
        return;
    }
    relay_domains = check_postconf(check, "-xh", "relay_domains", NULL);
    milters = check_postconf(check, "-xh", "smtpd_milters", NULL);
    queue_dir = check_postconf(check, "-xh", "queue_directory", NULL);
    tables = check_split_list(transport_maps);
    relays = check_split_list(relay_domains);

    /* Each reply domain: a relay domain, sent to one transport. */
    for (guint i = 0; i < config->reply_domains->len; i++) {
        const char *domain = g_ptr_array_index(config->reply_domains, i);
        g_autofree char *value = NULL;
        gboolean relayed = FALSE;

        for (guint t = 0; t < tables->len && value == NULL; t++)
            value = check_postmap_query(check, g_ptr_array_index(tables, t), domain);
        for (guint r = 0; r < relays->len; r++)
            relayed = relayed || g_ascii_strcasecmp(g_ptr_array_index(relays, r), domain) == 0;
        if (value == NULL || strchr(value, ':') == NULL)
            check_report(check, "FAIL", "apply postfix-conf/main.cf (scripts/install)",
                         "Postfix transport_maps does not send %s to the replygate transport",
                         domain);
        else if (!relayed)
            check_report(check, "FAIL", "apply postfix-conf/main.cf (scripts/install)",
                         "Postfix relay_domains does not list %s", domain);
        else {
            check_report(check, "OK", NULL, "Postfix sends %s to transport %s", domain, value);
            if (transport == NULL)
                transport = g_strndup(value, strchr(value, ':') - value);
        }
    }

    /* The pipe service that transport names. */
    if (transport != NULL) {
        g_autofree char *service = g_strdup_printf("%s/unix", transport);
        g_autofree char *entry = check_postconf(check, "-Mf", service, NULL);
        g_autofree char *limit_name = g_strdup_printf("%s_destination_recipient_limit", transport);
        g_autofree char *limit = check_postconf(check, "-xh", limit_name, NULL);

        if (entry == NULL || *entry == '\0')
            check_report(check, "FAIL", "apply postfix-conf/master.cf (scripts/install)",
                         "Postfix master.cf has no service %s", service);
        else if (strstr(entry, " pipe") == NULL || strstr(entry, "replygate-deliver") == NULL ||
                 strstr(entry, "user=") == NULL)
            check_report(check, "FAIL", "apply postfix-conf/master.cf (scripts/install)",
                         "Postfix service %s is not pipe(8) running replygate-deliver", service);
        else if (limit == NULL || strcmp(limit, "1") != 0)
            check_report(check, "FAIL", "postconf -e '%s = 1'",
                         "Postfix %s is %s, not 1: one recipient per delivery", limit_name,
                         limit ? limit : "unset");
        else
            check_report(check, "OK", NULL,
                         "Postfix service %s pipes to replygate-deliver, one recipient each",
                         service);
    }

    check_milter_reach(check, config, queue_dir ? queue_dir : "/var/spool/postfix", milters);
    check_non_smtpd_milters(check, config, queue_dir ? queue_dir : "/var/spool/postfix");
    check_relay_recipients(check, config);
}
