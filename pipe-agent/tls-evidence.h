/*
 * tls-evidence.h - did this reply arrive over TLS? (issue 14: the agent
 * enforces what the milter enforces)
 *
 * In order of trust:
 *   1. the milter's X-Replygate-TLS trace header, verified for the agent's
 *      own queue id (-q) (trace.h);
 *   2. the same header verified for the queue id that the Received header
 *      of this Postfix names, after postsuper -r requeued the message under
 *      a new queue id (pickup then adds a header of the postfix user on top);
 *   3. that Received header itself (received.h): smtpd's protocol (ESMTPS,
 *      ESMTPSA: TLS) and its "(using ...)" clause (smtpd_tls_received_header
 *      = yes) give TLS, version, cipher and bits.
 * Without 1 or 2 the milter did not see the message: a postconf -P override
 * of smtpd_milters, a milter that did not answer (default_action=accept),
 * or pickup (sendmail(1) on the host). With require_tls = yes such a reply
 * fails unless 3 shows TLS of at least tls_min_version; a message whose
 * topmost Received is not this Postfix's was not delivered by it (the agent
 * run by hand) and no rule applies. No I/O but getpwnam("postfix").
 */
#ifndef RG_TLS_EVIDENCE_H
#define RG_TLS_EVIDENCE_H

#include <glib.h>

#include "address.h"
#include "config.h"
#include "message.h"

typedef struct {
    gboolean trace;      /* 1 or 2 above: the milter saw the message */
    char *version;       /* TLS version, or NULL (none, or not logged) */
    char *cipher;        /* or NULL */
    int bits;            /* or 0 */
    const char *refused; /* why an X-Replygate-TLS header was ignored (static), or NULL */
    const char *note;    /* TLS from the Received header: why there was no trace (static) */
    const char *missing; /* require_tls = yes and no TLS shown: the cause (static), or NULL */
} TlsEvidence;

/* tls_evidence - judge message; queue_id may be NULL (no trace header then
 * verifies for it). Fills evidence; free its strings with tls_evidence_clear(). */
void tls_evidence(const Config *config, const KeyRing *ring, const Message *message,
                  const char *queue_id, TlsEvidence *evidence);

/* tls_evidence_clear - free the strings of an evidence */
void tls_evidence_clear(TlsEvidence *evidence);

#endif
