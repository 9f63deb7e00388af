/*
 * replygate.c - the operator's command: dispatch to a subcommand.
 *
 * `replygate SUBCOMMAND [options]`; every subcommand takes --config FILE and
 * --help. New subcommands add one row to the table below.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct {
    const char *name;
    CommandFunc func;
    const char *summary;
} Command;

static const Command commands[] = {
    {"address", cmd_address, "print the signed reply address for KIND TARGET USER"},
    {"message-id", cmd_message_id, "print a unique notification Message-ID for KIND TARGET USER"},
    {"verify", cmd_verify, "check a reply address and print what it stands for"},
    {"migrate", cmd_migrate, "apply the database schema files not applied yet"},
    {"replay", cmd_replay, "deliver messages from the spool's failure/ folder again"},
    {"test-email", cmd_test_email,
     "send a signed test reply over STARTTLS and follow it to its row"},
    {"bundle", cmd_bundle, "write a support bundle (.tar.gz) without secrets"},
    {"replies", cmd_replies, "list processed replies; --follow prints new ones as they are stored"},
    {"purge", cmd_purge, "remove replies, refusals and spool copies; leave tombstones"},
    {"check", cmd_check, "check configuration, secrets, database, spool, Postfix, TLS, milter, MX"},
    {"postfix-setup", cmd_postfix_setup, "add replygate's settings to Postfix (or --remove them)"},
    {"metrics", cmd_metrics, "print the counters in Prometheus' text format (--write: the textfile)"},
    {NULL, NULL, NULL},
};

/* usage - list the subcommands */
static void
usage(FILE *out)
{
    fprintf(out, "usage: replygate SUBCOMMAND [--config FILE] [options]\n\nsubcommands:\n");
    for (const Command *c = commands; c->name != NULL; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\n`replygate SUBCOMMAND --help` describes each one.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 64;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("replygate %s\n", REPLYGATE_VERSION);
        return 0;
    }
    for (const Command *c = commands; c->name != NULL; c++) {
        if (strcmp(argv[1], c->name) == 0)
            return c->func(argc - 1, argv + 1);
    }
    fprintf(stderr, "replygate: unknown subcommand \"%s\"\n", argv[1]);
    usage(stderr);
    return 64;
}
