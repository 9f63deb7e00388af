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
    gboolean lmtp_door; /* Postfix delivers through lmtp(8): check replygate-lmtpd */
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

/* check_postfix - transport, relay domain, pipe service, milter, tempfail */
void check_postfix(Check *check, const Config *config);

/* check_lmtp - replygate-lmtpd: its socket, a live LHLO with the pinned
 * capabilities, and its pool's room in PostgreSQL (check-lmtp.c) */
void check_lmtp(Check *check, const Config *config);

/* check_tls - smtpd's certificate and key: readable, a pair, valid today and
 * for 14 days more (CHECK_CERT_DAYS), naming myhostname */
void check_tls(Check *check);

#endif
