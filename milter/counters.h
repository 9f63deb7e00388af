/*
 * counters.h - the milter's decisions, counted for `replygate metrics`.
 *
 * Each decision the milter makes adds one to its result's counter, kept in
 * memory with atomic adds (callbacks run in many threads). The main thread
 * writes them, at most every COUNTERS_INTERVAL seconds and at exit, to
 * <spool_directory>/metrics/milter.prom in Prometheus' text format:
 *
 *   replygate_milter_decisions_total{result="reject_tls"} 3
 *
 * through a temporary file and a rename, mode 0644 (the pinned "Counters"
 * interface). The counters start at zero with the process; Prometheus reads
 * that as a counter reset.
 */
#ifndef RG_MILTER_COUNTERS_H
#define RG_MILTER_COUNTERS_H

#include <glib.h>

#define COUNTERS_INTERVAL 5
#define COUNTERS_METRIC "replygate_milter_decisions_total"

/* One result each; the names are in counters.c, in this order. */
typedef enum {
    DECISION_ACCEPT,                 /* a recipient of ours accepted at RCPT */
    DECISION_FOLD,                   /* a repeated recipient of ours, accepted and not kept */
    DECISION_NON_SMTP,               /* a recipient of ours in a non-SMTP submission, passed on */
    DECISION_REJECT_TLS,             /* 530 5.7.0 at RCPT */
    DECISION_REJECT_KEY,             /* 550 5.1.1 at RCPT */
    DECISION_DEFER_RECIPIENTS,       /* 452 4.5.3 at RCPT: too many recipients of ours */
    DECISION_DEFER_RATE_KEY,         /* 450 4.7.1: rate_limit_per_key */
    DECISION_DEFER_RATE_SENDER,      /* 450 4.7.1 at RCPT: rate_limit_per_sender */
    DECISION_REJECT_AUTO_SUBMITTED,  /* 550 5.7.1 after the headers */
    DECISION_DISCARD_AUTO_SUBMITTED, /* discarded after the headers */
    DECISION_REMOVE_AUTO_SUBMITTED,  /* a recipient of ours removed, others delivered */
    DECISION_REJECT_KEYLESS,         /* 550 5.1.1 after the headers */
    DECISION_REMOVE_KEYLESS,         /* a keyless dedicated recipient removed */
    DECISION_DISCARD_NOREPLY,        /* a message to the no-reply address discarded */
    DECISION_REMOVE_NOREPLY,         /* a no-reply recipient removed */
    DECISION_STRIP_HEADERS,          /* a message whose inbound headers were deleted */
    DECISION_TEMPFAIL,               /* an internal error answered 4xx */
    DECISION_N,
} Decision;

/* counters_add - one more decision of this result */
void counters_add(Decision decision);

/* counters_get - the count of one result */
guint64 counters_get(Decision decision);

/* counters_name - the result label of a decision ("reject_tls") */
const char *counters_name(Decision decision);

/* counters_text - every counter in Prometheus' text format (new string) */
char *counters_text(void);

/* counters_write - counters_text() into spool_directory/metrics/milter.prom
 * (the folder made if missing), through a temporary file and a rename */
gboolean counters_write(const char *spool_directory, GError **error);

#endif
