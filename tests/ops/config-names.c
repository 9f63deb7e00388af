/*
 * config-names.c - print the parser's configuration names with their
 * defaults, "name<TAB>default" one a line, in the order of config_names().
 * tests/ops/man.sh compares them with what replygate.conf(5) documents, so
 * neither the list nor a default can change without the manual.
 *
 * The defaults are read back (config_value_text()) from a configuration that
 * sets only the one required name, so they are the parser's real defaults,
 * not a copy.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

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
        g_autofree char *value = config_value_text(config, *name);

        /* The one required name has no default: the manual says "required". */
        printf("%s\t%s\n", *name, strcmp(*name, "reply_domain") == 0 ? "required" : value);
    }
    return 0;
}
