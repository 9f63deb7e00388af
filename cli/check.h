/*
 * check.h - what the parts of `replygate check` share: the run's state and
 * the one-line report, and the Postfix and TLS checks that live in their own
 * files (check-postfix.c, check-tls.c). Private to the replygate program.
 */
#ifndef RG_CHECK_H
#define RG_CHECK_H

#include <glib.h>

#include "config.h"

typedef struct {
    const char *postfix_dir; /* or NULL for postconf's default */
    const char *agent_user;
    const char *sql_dir;
    int failures;
    int warnings;
} Check;

/* check_report - print one line: OK, WARN or FAIL, the finding, and for the
 * last two the fix; counts failures and warnings in check */
void check_report(Check *check, const char *status, const char *fix, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/* check_postconf - one Postfix parameter's value as postconf(1) prints it
 * with flag (-xh, -Mf), or NULL with error set when postconf fails */
char *check_postconf(const Check *check, const char *flag, const char *name, GError **error);

/* check_postfix - transport, relay domain, pipe service, the milter's reach */
void check_postfix(Check *check, const Config *config);

/* check_split_list - a Postfix list (white space and commas) into items;
 * {braces} keep what they enclose together */
GPtrArray *check_split_list(const char *text);

/* check_same_milter - does a Postfix milter item (unix:path relative to
 * queue_dir, inet:host:port) name the configured milter_socket? */
gboolean check_same_milter(const char *postfix_item, const char *queue_dir,
                           const char *milter_socket);

/* check_milter_item - the socket of a milter list item, plain
 * ("unix:x") or in the per-milter form ("{ unix:x, default_action=accept,
 * ... }"); *default_action gets the item's default_action= (NULL when it has
 * none) when not NULL */
char *check_milter_item(const char *item, char **default_action);

/* check_postmap_query - the value a Postfix table gives for key, or NULL */
char *check_postmap_query(const Check *check, const char *table, const char *key);

/* check_milter_reach - which smtpd services (main.cf and postconf -P
 * overrides) ask the milter, and in which form (check-milter.c) */
void check_milter_reach(Check *check, const Config *config, const char *queue_dir,
                        const char *main_milters);

/* check_non_smtpd_milters - the milter has no place in non_smtpd_milters */
void check_non_smtpd_milters(Check *check, const Config *config, const char *queue_dir);

/* check_relay_recipients - relay_recipient_maps accepts reply addresses */
void check_relay_recipients(Check *check, const Config *config);

/* check_milter_socket - the milter negotiates on its socket as Postfix's
 * mail_owner (the identity smtpd connects with) */
void check_milter_socket(Check *check, const Config *config);

/* check_tls - smtpd's certificate and key: readable, a pair, valid today and
 * for 14 days more (CHECK_CERT_DAYS), naming myhostname */
void check_tls(Check *check);

#endif
