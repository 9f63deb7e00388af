/*
 * rg-error.c - the RG_ERROR domain and its mapping to sysexits statuses.
 */
#include <sysexits.h>

#include "rg-error.h"

G_DEFINE_QUARK(replygate - error - quark, rg_error)

/* rg_error_exit_status - the sysexits status main() uses for an error */
int
rg_error_exit_status(const GError *error)
{
    if (error == NULL || error->domain != RG_ERROR)
        return EX_TEMPFAIL;
    switch ((RgErrorCode)error->code) {
    case RG_ERROR_NOUSER:
        return EX_NOUSER;
    case RG_ERROR_NOPERM:
        return EX_NOPERM;
    case RG_ERROR_DATAERR:
    case RG_ERROR_TOOBIG:
        return EX_DATAERR;
    case RG_ERROR_DUPLICATE:
        return EX_OK;
    case RG_ERROR_INVALID:
        return EX_USAGE;
    case RG_ERROR_CONFIG:
    case RG_ERROR_TEMPFAIL:
    default:
        /* A configuration mistake must defer mail, never bounce it. */
        return EX_TEMPFAIL;
    }
}
