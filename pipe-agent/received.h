/*
 * received.h - read the Received header Postfix itself added, for the TLS
 * rule when the milter's trace header is missing (issue 14).
 *
 * With smtpd_tls_received_header = yes, Postfix's smtpd writes
 *
 *   Received: from HELO (NAME [ADDR])
 *           (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
 *            key-exchange X25519 server-signature RSA-PSS (2048 bits) ...)
 *           (No client certificate requested)
 *           by HOST (Postfix) with ESMTPS id QUEUEID
 *           for <RCPT>; DATE
 *
 * and pickup (sendmail(1), and postsuper -r requeueing) writes
 *
 *   Received: by HOST (Postfix, from userid UID)
 *           id QUEUEID; DATE
 *
 * Postfix puts its own header on top of the message, so the topmost one is
 * always Postfix's for mail it delivers; a header a sender wrote can only be
 * below it. The parse is strict: exactly these shapes, one token where the
 * format has one, balanced parentheses. Pure functions: tests call them.
 */
#ifndef RG_RECEIVED_H
#define RG_RECEIVED_H

#include <glib.h>

#define RECEIVED_TOKEN_MAX 255

typedef enum {
    RECEIVED_OTHER,  /* not a header of Postfix's own shapes */
    RECEIVED_SMTPD,  /* from ... by HOST (Postfix) with PROTO id QUEUEID */
    RECEIVED_PICKUP, /* by HOST (Postfix, from userid UID) id QUEUEID */
} ReceivedKind;

typedef struct {
    ReceivedKind kind;
    char by[RECEIVED_TOKEN_MAX + 1];       /* HOST (Postfix's myhostname) */
    char queue_id[RECEIVED_TOKEN_MAX + 1]; /* QUEUEID */
    char proto[RECEIVED_TOKEN_MAX + 1];    /* SMTPD: ESMTPS, ESMTPSA, ESMTP, ... */
    char client[RECEIVED_TOKEN_MAX + 1];   /* SMTPD: ADDR, the client's address */
    long uid;                              /* PICKUP: the submitting user's uid */
    gboolean tls;                          /* SMTPD: the protocol says TLS (...S, ...SA) */
    char version[RECEIVED_TOKEN_MAX + 1];  /* SMTPD with "(using ...)": TLSv1.3, or "" */
    char cipher[RECEIVED_TOKEN_MAX + 1];   /* likewise: TLS_AES_256_GCM_SHA384, or "" */
    int bits;                              /* likewise: the used bits, or 0 */
} ReceivedInfo;

/* received_parse - parse one Received header value (unfolded or not) into
 * info; FALSE (and kind RECEIVED_OTHER) when it is not one of Postfix's */
gboolean received_parse(const char *value, ReceivedInfo *info);

#endif
