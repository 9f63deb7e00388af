/*
 * callbacks.h - the libmilter callbacks of replygate-milter.
 *
 * callbacks.c gathers the facts of each SMTP transaction into a connection
 * context and a message context, asks decide.c what to do, carries it out
 * with libmilter and writes one mail.log line per decision.
 */
#ifndef RG_MILTER_CALLBACKS_H
#define RG_MILTER_CALLBACKS_H

#include <glib.h>

/* callbacks_register - hand the callbacks to libmilter (smfi_register) */
gboolean callbacks_register(GError **error);

#endif
