/*
 * cli-common.c - what every subcommand of `replygate` shares: option parsing
 * with --help, and loading the configuration and the secrets.
 */
#include <stdio.h>

#include "commands.h"

/* cli_parse_options - run a GOptionContext for a subcommand */
gboolean
cli_parse_options(const char *usage, const char *summary, GOptionEntry *entries, int *argc,
                  char ***argv)
{
    g_autoptr(GOptionContext) context = g_option_context_new(usage);
    g_autoptr(GError) error = NULL;

    g_option_context_set_summary(context, summary);
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, argc, argv, &error)) {
        fprintf(stderr, "replygate: %s\n", error->message);
        return FALSE;
    }
    return TRUE;
}

/* cli_load - load the configuration and, when asked, the secrets */
gboolean
cli_load(const char *config_path, Config **config, KeyRing **ring, GError **error)
{
    const char *path = config_resolve_path(config_path);

    if (ring != NULL)
        return (*ring = keyring_load_with_config(path, config, error)) != NULL;
    return (*config = config_load(path, error)) != NULL;
}
