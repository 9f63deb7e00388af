/*
 * config-names.c - print the parser's configuration names with their
 * defaults, "name<TAB>default" one a line, in the order of config_names().
 * tests/ops/man.sh compares them with what replygate.conf(5) documents, so
 * neither the list nor a default can change without the manual.
 *
 * The defaults are read back from a configuration that sets only the one
 * required name, so they are the parser's real defaults, not a copy.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

/* default_of - the default of one name as the manual writes it */
static const char *
default_of(const Config *c, const char *name)
{
    if (strcmp(name, "reply_domain") == 0)
        return "required";
    if (strcmp(name, "address_prefix") == 0)
        return c->address_prefix;
    if (strcmp(name, "address_separator") == 0)
        return c->address_separator;
    if (strcmp(name, "secrets_file") == 0)
        return c->secrets_file;
    if (strcmp(name, "database") == 0)
        return c->database;
    if (strcmp(name, "spool_directory") == 0)
        return c->spool_directory;
    if (strcmp(name, "processor_log") == 0)
        return c->processor_log;
    if (strcmp(name, "require_tls") == 0)
        return c->require_tls ? "yes" : "no";
    if (strcmp(name, "tls_min_version") == 0)
        return c->tls_min_version;
    if (strcmp(name, "auto_submitted_action") == 0)
        return c->auto_submitted_action == AUTO_SUBMITTED_REJECT ? "reject" : "discard";
    if (strcmp(name, "noreply_address") == 0)
        return c->noreply_address ? c->noreply_address : "none";
    if (strcmp(name, "static_address") == 0)
        return c->static_addresses->len ? "?" : "none";
    if (strcmp(name, "milter_socket") == 0)
        return c->milter_socket;
    /* A new name: this program and the manual must learn it. */
    return "?";
}

int
main(void)
{
    static const char text[] = "reply_domain = reply.example.com\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(Config) config = config_parse(text, sizeof text - 1, "defaults", &error);

    if (config == NULL) {
        fprintf(stderr, "config-names: %s\n", error->message);
        return 1;
    }
    for (const char *const *name = config_names(); *name != NULL; name++) {
        if (strcmp(*name, "max_message_size") == 0)
            printf("%s\t%" G_GUINT64_FORMAT "\n", *name, config->max_message_size);
        else
            printf("%s\t%s\n", *name, default_of(config, *name));
    }
    return 0;
}
