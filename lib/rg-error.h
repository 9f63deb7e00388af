/*
 * rg-error.h - the error domain shared by every replygate module.
 *
 * Library code reports failures through GError with one of these codes; only
 * main() turns a code into a sysexits status (see rg_error_exit_status()).
 */
#ifndef RG_ERROR_H
#define RG_ERROR_H

#include <glib.h>

#define RG_ERROR (rg_error_quark())

typedef enum {
    RG_ERROR_CONFIG,    /* unreadable or broken configuration or secrets: defer */
    RG_ERROR_TEMPFAIL,  /* a resource failed (database, disk, memory): defer */
    RG_ERROR_NOUSER,    /* no valid reply key: 5.1.1 */
    RG_ERROR_NOPERM,    /* auto-submitted: 5.7.1 */
    RG_ERROR_DATAERR,   /* unparsable, empty reply: 5.6.0 */
    RG_ERROR_TOOBIG,    /* over max_message_size: 5.3.4 */
    RG_ERROR_DUPLICATE, /* already stored: success for the caller */
    RG_ERROR_INVALID,   /* a bad argument or value (addresses, options) */
} RgErrorCode;

/* rg_error_quark - the GQuark of RG_ERROR */
GQuark rg_error_quark(void);

/* rg_error_exit_status - the sysexits status main() uses for an error */
int rg_error_exit_status(const GError *error);

#endif
