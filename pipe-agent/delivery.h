/*
 * delivery.h - the delivery core both doors share (SPEC section 5).
 *
 * Everything that follows reading a message: spool it in new/ with fsync,
 * evaluate it, store it in one transaction, move the spool copy to success/
 * or failure/ (with its reason), write the mail.log and processor-log lines,
 * and hand back the outcome as data (a resident door may be given a stored
 * reply's outcome earlier, through DeliveryContext.answer). The pipe(8) door (deliver.c) turns the
 * outcome into an exit status and a first line; the LMTP door (lmtp-*.c)
 * turns it into a reply. Neither door decides anything else, so the two
 * cannot drift apart.
 *
 * The core keeps no process-global state and never exits: the configuration,
 * key ring, processor log and database connection come in through a
 * DeliveryContext, everything one delivery allocates is freed before
 * delivery_run() returns, and only the outcome survives it. Several threads
 * may run deliveries at once, each with its own context and connection.
 */
#ifndef RG_DELIVERY_H
#define RG_DELIVERY_H

#include <glib.h>
#include <libpq-fe.h>

#include "address.h"
#include "config.h"
#include "proclog.h"

/* Where the message came from, as the door learned it from Postfix. */
typedef struct {
    const char *queue_id;           /* Postfix's queue id, or NULL ("NOQUEUE" in logs) */
    const char *sender;             /* MAIL FROM / -f, "" for the null sender */
    const char *recipient;          /* RCPT TO / -r: the one the key is looked up for */
    const char *original_recipient; /* DSN ORCPT, decoded: logged, never trusted; or NULL */
    const char *client_address;     /* XFORWARD ADDR / -c, or NULL */
    const char *client_name;        /* XFORWARD NAME, or NULL */
} DeliveryEnvelope;

/* delivery_connect_fn - the database connection for this delivery, asked for
 * only when a row is to be written (a refused message never waits for one);
 * NULL with an RG_ERROR_TEMPFAIL or RG_ERROR_CONFIG error when there is none.
 * The door owns the connection: it lends it, and takes it back afterwards. */
typedef PGconn *(*DeliveryConnectFn)(gpointer data, GError **error);

/* delivery_spool_fn - told the path of the spool copy in new/ while it may be
 * removed on an abort, and NULL once the row is stored (the pipe door's abort
 * handler uses it) */
typedef void (*DeliverySpoolFn)(gpointer data, const char *path);

typedef struct DeliveryOutcome DeliveryOutcome; /* below */

/* What one delivery runs with. The door keeps these alive during the call. */
typedef struct {
    const Config *config;
    const KeyRing *ring;
    ProcLog *proclog; /* may be NULL: the log could not be opened */
    DeliveryConnectFn connect;
    gpointer connect_data;
    DeliverySpoolFn spool_guard; /* may be NULL */
    gpointer spool_guard_data;
    /* A resident door's per-message processor-time budget, asked once the
     * message has been evaluated (NULL: none; the pipe door has a process
     * limit instead). TRUE refuses the message with 5.3.4 into failure/. */
    gboolean (*over_budget)(gpointer data);
    gpointer over_budget_data;
    /* TRUE: the spool copy's bytes are written at once, its fsyncs and its
     * move into new/ are done by a worker thread while the message is
     * evaluated and stored, and every outcome waits for them (a resident
     * door, without spool_guard). FALSE: the copy is on disk before
     * evaluation starts, as the pipe door's abort handlers need. */
    gboolean spool_behind;
    /* A resident door's early answer (NULL: none). Called once, with the
     * outcome of a reply just stored, as soon as its row has committed and
     * its copy is on disk: before the bookkeeping that changes nothing the
     * sender is told (the copy's move to success/, the log lines), so the
     * client is not kept waiting for it. delivery_run() then returns the
     * same outcome with answered TRUE. Every other outcome is answered by the
     * door when delivery_run() returns. */
    void (*answer)(const DeliveryOutcome *outcome, gpointer data);
    gpointer answer_data;
} DeliveryContext;

/* The outcome classes of SPEC section 5's tables. */
typedef enum {
    DELIVERY_STORED,   /* stored, or already stored */
    DELIVERY_TEMPFAIL, /* defer: 75, 451 */
    DELIVERY_NOUSER,   /* no valid reply key: 67, 550 5.1.1 */
    DELIVERY_NOPERM,   /* auto-submitted or refused by policy: 77, 550 5.7.1 */
    DELIVERY_DATAERR,  /* unparsable, empty: 65, 554 5.6.0 */
    DELIVERY_TOOBIG,   /* over max_message_size or a structural limit: 65, 552 5.3.4 */
} DeliveryClass;

/* The outcome of one delivery, as data. */
struct DeliveryOutcome {
    DeliveryClass klass;
    int exit_status;  /* the pipe door's sysexits status: 0, 75, 67, 77, 65 */
    int smtp_code;    /* the LMTP door's reply code: 250, 451, 550, 554, 552 */
    char enhanced[8]; /* "2.0.0", "4.3.0", "5.1.1", ... */
    char *text;       /* what follows the enhanced code, one line of printable text */
    char *detail;     /* a deferral's own status with its details ("4.3.0 database
                       * unreachable: ..."), for logs and counters, never sent; or NULL */
    gint64 reply_id;  /* the stored row (new or existing), 0 when none */
    gboolean duplicate;
    gboolean answered; /* given to the context's answer() already */
};

/* delivery_run - deliver raw (already read; too_big: more than
 * max_message_size bytes were offered and raw holds the first ones) for one
 * recipient; never NULL */
DeliveryOutcome *delivery_run(const DeliveryContext *ctx, const DeliveryEnvelope *env, GBytes *raw,
                              gboolean too_big);

/* delivery_defer - the outcome of a delivery deferred before the core could
 * run (a broken configuration, a read error); logs it as delivery_run() does.
 * status is "4.3.0 ..." or "4.3.5 ..."; proclog may be NULL. Like every
 * deferral, the outcome's text is delivery_public_status(status): the
 * details (paths, database errors, file modes) stay in the logs. */
DeliveryOutcome *delivery_defer(ProcLog *proclog, const char *queue_id, const char *status);

/* delivery_public_status - the DSN or LMTP text a remote sender may see for a
 * deferral with this status: its class (4.3.5 configuration, 4.3.1 the LMTP
 * service's memory budget, else 4.3.0 resources) and a generic sentence,
 * never the details (issue 13 item 7) */
const char *delivery_public_status(const char *status);

/* delivery_outcome_new - the outcome for a DSN status "X.Y.Z text" and the
 * exit status evaluate_message() chose (pure, for tests and the doors) */
DeliveryOutcome *delivery_outcome_new(const char *status, int exit_status);

/* delivery_outcome_status - "X.Y.Z text" (new string) */
char *delivery_outcome_status(const DeliveryOutcome *outcome);

/* delivery_tempfail_status - "4.3.5 ..." for configuration errors, "4.3.0 ..."
 * for resources (new string) */
char *delivery_tempfail_status(const GError *error);

/* delivery_outcome_free - release an outcome (NULL-safe) */
void delivery_outcome_free(DeliveryOutcome *outcome);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DeliveryOutcome, delivery_outcome_free)

#endif
