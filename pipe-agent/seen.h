/*
 * seen.h - the duplicate filter that Postfix's own misses (issue 13 item 2).
 *
 * Postfix removes a repeated RCPT, but its key includes the DSN ORCPT: the
 * same recipient given a thousand times with a thousand ORCPT values is
 * delivered a thousand times, and each delivery would pay for parsing the
 * whole message (and keep a copy of a refused one in failure/, and bounce
 * it). So before parsing, the delivery core asks here whether this exact
 * message (its bytes' SHA-256) was already finished for this recipient out
 * of this queue file (its queue id): then it answers success and does
 * nothing. The marker is a file in <spool>/seen/YYYYMMDD/, locked with
 * flock() while its delivery runs: a second delivery that finds it locked
 * is deferred (4.3.0) and, retried, finds it finished. A delivery that is
 * deferred removes its marker: only stored and refused messages leave one.
 * Markers live for a day and the day before; older folders are removed.
 */
#ifndef RG_SEEN_H
#define RG_SEEN_H

#include <glib.h>

typedef enum {
    SEEN_NEW,  /* first time: go on, then seen_finish() or seen_abandon() */
    SEEN_DONE, /* finished before: a duplicate, nothing to do */
    SEEN_BUSY, /* another delivery of it runs right now: defer */
    SEEN_OFF,  /* no marker (no queue id, a replay, or the spool refused one): go on */
} SeenState;

typedef struct Seen Seen;

/* seen_open - look the delivery up and, when it is new, lock its marker;
 * queue_id NULL or "REPLAY" gives SEEN_OFF */
Seen *seen_open(const char *spool_dir, const char *queue_id, const char *recipient, GBytes *raw,
                SeenState *state);

/* seen_finish - the delivery reached its final outcome: mark it, unlock */
void seen_finish(Seen *seen);

/* seen_abandon - the delivery was deferred: remove the marker, unlock */
void seen_abandon(Seen *seen);

/* seen_free - unlock and free (NULL-safe); a marker neither finished nor
 * abandoned is abandoned */
void seen_free(Seen *seen);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Seen, seen_free)

#endif
