/*
 * commands.h - the subcommands of the operator's `replygate` command.
 *
 * Each subcommand is one file, cmd-NAME.c, with one entry point that parses
 * its own options (every one takes --config FILE and --help) and returns the
 * exit status. replygate.c only dispatches.
 */
#ifndef RG_COMMANDS_H
#define RG_COMMANDS_H

#include <glib.h>
#include "address.h"
#include "config.h"

typedef int (*CommandFunc)(int argc, char **argv);

int cmd_address(int argc, char **argv);
int cmd_message_id(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_test_email(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_replies(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_postfix_setup(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_purge(int argc, char **argv);

/* cli_load - load the configuration (and, when ring is not NULL, the secrets)
 * named by --config, $REPLYGATE_CONFIG or the default */
gboolean cli_load(const char *config_path, Config **config, KeyRing **ring, GError **error);

/* cli_parse_options - run a GOptionContext for a subcommand; prints the error
 * and returns FALSE on a usage error */
gboolean cli_parse_options(const char *usage, const char *summary, GOptionEntry *entries, int *argc,
                           char ***argv);

#endif
