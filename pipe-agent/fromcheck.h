/*
 * fromcheck.h - may this address speak for the key's user? (from_check)
 *
 * The application keeps the addresses each user may reply from in
 * replygate.user_addresses (sql/0003_auth.sql). fromcheck_lookup() asks it
 * about the message's From and the envelope sender in one query, and fills
 * the verdict's from_verified and sender_verified; auth_from_refusal()
 * (auth.h) then decides under from_check = require.
 */
#ifndef RG_FROMCHECK_H
#define RG_FROMCHECK_H

#include <glib.h>
#include <libpq-fe.h>

#include "evaluate.h"

/* fromcheck_needed - does this verdict call for a lookup? (a key of a user
 * other than 0: the static addresses have no user) */
gboolean fromcheck_needed(const Verdict *verdict);

/* fromcheck_address - an address fit for the lookup: valid UTF-8 with an
 * '@', or NULL (new string) */
char *fromcheck_address(const char *address);


/* fromcheck_lookup - set verdict->from_verified (0 without a From) and
 * sender_verified (-1 for the null sender) from the database; errors are
 * classified as in db.h */
gboolean fromcheck_lookup(PGconn *conn, Verdict *verdict, const char *sender, GError **error);

/* fromcheck_apply - for a verdict about to be stored: connect (conn may be
 * one started by db_connect_start()), look up, and under from_check =
 * require turn it into the 77 "5.7.1 ..." refusal of auth_from_refusal();
 * FALSE with a classified error when the database cannot answer, which the
 * caller turns into a deferral */
gboolean fromcheck_apply(PGconn *conn, const Config *config, Verdict *verdict, const char *sender,
                         GError **error);

#endif
