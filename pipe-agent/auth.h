/*
 * auth.h - who sent a reply: our verifiers' Authentication-Results, the From
 * domain's alignment, and the sender_policy and from_check decisions.
 *
 * OpenDKIM and OpenDMARC (or rspamd) run as milters before the message
 * reaches the agent and write Authentication-Results headers with the host's
 * authserv-id. By then every inbound copy claiming that id has been removed
 * (by replygate-milter, or by OpenDKIM's RemoveARFrom), so the headers left
 * with our id are our verifiers'. auth_results_read() reads only those.
 *
 * Pure: no I/O. The from check's database lookup is fromcheck.c's.
 */
#ifndef RG_AUTH_H
#define RG_AUTH_H

#include <glib.h>

#include "autosubmit.h"
#include "config.h"

typedef struct {
    char *authserv_id;  /* the configured id; NULL: authserv_id unset, nothing checked */
    char *spf;          /* our verifier's result ("pass", "fail", ...), or NULL: none recorded */
    char *spf_domain;   /* the domain of smtp.mailfrom, or NULL */
    char *dkim;         /* "pass" when a signature passed, else the first result, or NULL */
    char *dkim_domain;  /* the d= of the signature that passed (one aligned with From first) */
    char *dmarc;        /* the DMARC result for the From domain (see auth.c), or NULL */
    char *dmarc_domain; /* the header.from that result is for */
    char *from_domain;  /* the message's From domain, lower case, or NULL */
    int aligned;        /* 1: an aligned pass (DMARC's, or computed), 0: none, -1: not checked */
    guint headers_read; /* headers of ours that were read */
    char *ignored;      /* why a header claiming our id was not read (the first), or NULL */
} AuthResults;

/* auth_results_read - our verifiers' results about the message (never NULL) */
AuthResults *auth_results_read(const Config *config, const HeaderField *headers, gsize n_headers,
                               const char *from_address);

/* auth_policy_refusal - the "5.7.1 ..." text when sender_policy refuses, else NULL */
char *auth_policy_refusal(const Config *config, const AuthResults *auth);

/* auth_from_refusal - the "5.7.1 ..." text when from_check refuses a From
 * that is not the key's user's, or no From (from_verified 0), else NULL;
 * from_verified -1 (not checked: user 0, the static addresses) never refuses */
char *auth_from_refusal(const Config *config, int from_verified, const char *from_address,
                        guint64 user);

/* auth_org_domain - the organizational domain (RFC 7489 3.2) by Debian's
 * public suffix list: example.org for mail.example.org (new string) */
char *auth_org_domain(const char *domain);

/* auth_results_free - release (NULL-safe) */
void auth_results_free(AuthResults *auth);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AuthResults, auth_results_free)

#endif
