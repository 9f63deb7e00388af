/*
 * refusals.h - the milter's refusals as rows for the application.
 *
 * Every refusal the milter makes (530 and 550 at RCPT, 550 after the headers,
 * a recipient of ours removed at end of message) becomes a row of
 * replygate.refusals through replygate.record_refusal(...) (SPEC section 8;
 * the function the database migration defines, which also sends NOTIFY
 * replygate_refusal). No database round trip sits on the SMTP path:
 * refusals_record() copies the row into a bounded queue in memory and
 * returns at once; a writer thread with its own connection takes the rows in
 * batches, one transaction per batch. A full queue, or a database that is
 * down or slow, drops rows: they are counted and logged now and then, and no
 * refusal ever waits for the database. Losing such a row loses no mail: the
 * refusal went to the sender, and mail.log has its line.
 */
#ifndef RG_MILTER_REFUSALS_H
#define RG_MILTER_REFUSALS_H

#include <glib.h>

#define REFUSALS_QUEUE_MAX 1024 /* rows waiting for the writer */
#define REFUSALS_BATCH 64       /* rows per transaction */
#define REFUSALS_RETRY 10       /* seconds between connection attempts */
#define REFUSALS_LOG_EVERY 60   /* seconds between two reports of dropped rows */

/* One refusal; every string is borrowed (refusals_record() copies) and may be NULL. */
typedef struct {
    const char *stage; /* "rcpt", "headers" or "message" */
    int smtp_code;     /* 530, 550 */
    const char *enhanced_code;
    const char *reason;    /* the reply text */
    const char *sender;    /* envelope sender, with or without <> */
    const char *recipient; /* with or without <> */
    const char *from;      /* the From header's value: the address is taken from it */
    gboolean has_key;
    const char *key_kind;
    guint64 key_target;
    guint64 key_user;
    const char *message_id; /* the Message-ID header's value */
    const char *client_address;
    const char *client_name;
    const char *queue_id; /* NULL before the MTA has one */
} RefusalRow;

/* refusals_start - start the writer thread; conninfo() is asked for the
 * database to use before each connection attempt (new string, or NULL) */
gboolean refusals_start(char *(*conninfo)(void), GError **error);

/* refusals_record - queue one row without waiting; dropped (and counted) when full */
void refusals_record(const RefusalRow *row);

/* refusals_stop - let the writer finish what it holds, waiting at most
 * timeout_ms, and report what was dropped */
void refusals_stop(int timeout_ms);

/* refusals_stats - rows written and dropped since the start (either may be NULL) */
void refusals_stats(guint64 *written, guint64 *dropped);

/* refusals_address - the bare address of a From value ("Bob <bob@x>" ->
 * "bob@x"), or NULL (new string; exposed for the tests) */
char *refusals_address(const char *value);

#endif
