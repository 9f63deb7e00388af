/*
 * tls-evidence.c - did this reply arrive over TLS? (see tls-evidence.h)
 */
#include <pwd.h>
#include <string.h>

#include "received.h"
#include "tls-evidence.h"
#include "trace.h"

/* postfix_uid - the uid of user postfix (Postfix's mail_owner), whose
 * pickup header marks a requeue by postsuper -r; -1 when there is none */
static long
postfix_uid(void)
{
    static gsize done = 0;
    static long uid = -1;

    if (g_once_init_enter(&done)) {
        struct passwd pw, *found = NULL;
        char buf[4096];

        if (getpwnam_r("postfix", &pw, buf, sizeof buf, &found) == 0 && found != NULL)
            uid = (long)found->pw_uid;
        g_once_init_leave(&done, 1);
    }
    return uid;
}

/* printable - a copy with control characters made spaces */
static char *
printable(const char *text)
{
    char *copy = g_utf8_make_valid(text != NULL ? text : "", -1);

    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return copy;
}

/* trace_for - a trace header verified for queue_id into evidence; the first
 * reason a header failed in *refused (when not NULL) */
static gboolean
trace_for(TlsEvidence *evidence, const KeyRing *ring, const Message *message, const char *queue_id,
          const char **refused)
{
    for (guint i = 0; i < message->headers->len; i++) {
        const HeaderField *field = &g_array_index(message->headers, HeaderField, i);
        const char *reason = NULL;
        g_autofree char *version = NULL;
        g_autofree char *cipher = NULL;
        int bits = 0;

        if (g_ascii_strcasecmp(field->name, TRACE_HEADER) != 0)
            continue;
        if (trace_header_verify(ring, field->value, queue_id, &version, &cipher, &bits, &reason)) {
            evidence->trace = TRUE;
            evidence->version = printable(version);
            evidence->cipher = cipher != NULL ? printable(cipher) : NULL;
            evidence->bits = bits;
            return TRUE;
        }
        if (refused != NULL && *refused == NULL)
            *refused = reason;
    }
    return FALSE;
}

/* received_ours - the Received header this Postfix put on top; after a
 * requeue (a pickup header of user postfix on top) the smtpd header below it
 * from the same host. kind RECEIVED_OTHER when the top one is not Postfix's. */
static void
received_ours(const Message *message, ReceivedInfo *ours)
{
    guint seen = 0;

    memset(ours, 0, sizeof *ours);
    for (guint i = 0; i < message->headers->len && seen < 2; i++) {
        const HeaderField *field = &g_array_index(message->headers, HeaderField, i);
        ReceivedInfo info;

        if (g_ascii_strcasecmp(field->name, "Received") != 0)
            continue;
        received_parse(field->value, &info);
        if (seen++ == 0) {
            *ours = info;
            if (info.kind != RECEIVED_PICKUP || info.uid != postfix_uid() || postfix_uid() < 0)
                return;
            continue; /* requeued: the header below tells how it first came */
        }
        if (info.kind == RECEIVED_SMTPD && strcmp(info.by, ours->by) == 0)
            *ours = info;
    }
}

/* tls_evidence - see tls-evidence.h */
void
tls_evidence(const Config *config, const KeyRing *ring, const Message *message,
             const char *queue_id, TlsEvidence *evidence)
{
    ReceivedInfo ours;

    memset(evidence, 0, sizeof *evidence);
    if (trace_for(evidence, ring, message, queue_id, &evidence->refused)) {
        evidence->refused = NULL;
        return;
    }
    received_ours(message, &ours);
    if (ours.kind == RECEIVED_SMTPD && queue_id != NULL && strcmp(ours.queue_id, queue_id) != 0 &&
        trace_for(evidence, ring, message, ours.queue_id, NULL)) {
        evidence->refused = NULL; /* signed for the queue id it first had: requeued */
        return;
    }
    if (ours.kind == RECEIVED_SMTPD && ours.tls) {
        evidence->version = ours.version[0] != '\0' ? printable(ours.version) : NULL;
        evidence->cipher = ours.cipher[0] != '\0' ? printable(ours.cipher) : NULL;
        evidence->bits = ours.bits;
        evidence->note = "no X-Replygate-TLS header verifies: the milter did not see this message "
                         "(a postconf -P override of smtpd_milters, or the milter did not answer "
                         "and default_action=accept let it pass); TLS taken from the Received "
                         "header";
        if (config->require_tls && ours.version[0] != '\0' &&
            tls_version_rank(ours.version) < config->tls_min_rank)
            evidence->missing = "TLS below tls_min_version, and no X-Replygate-TLS header: the "
                                "milter did not see this message";
        return;
    }
    if (!config->require_tls)
        return;
    if (ours.kind == RECEIVED_PICKUP)
        evidence->missing = "submitted on this host (pickup, sendmail(1)), which no smtpd_milters "
                            "and no TLS ever see";
    else if (ours.kind == RECEIVED_SMTPD)
        evidence->missing =
            "received by smtpd without TLS and without the milter's X-Replygate-TLS "
            "header: a postconf -P override of smtpd_milters, or the milter did "
            "not answer and default_action=accept let it pass";
}

/* tls_evidence_clear - see tls-evidence.h */
void
tls_evidence_clear(TlsEvidence *evidence)
{
    g_clear_pointer(&evidence->version, g_free);
    g_clear_pointer(&evidence->cipher, g_free);
}
