/*
 * finish.h - the callbacks at the end of headers and at the end of message.
 *
 * finish.c decides once per message what the headers say (auto-submitted,
 * the key of the bare dedicated address), and at the end of the message
 * removes recipients, deletes forged headers and adds the trace header.
 */
#ifndef RG_MILTER_FINISH_H
#define RG_MILTER_FINISH_H

#include <libmilter/mfapi.h>

/* finish_eoh - xxfi_eoh */
sfsistat finish_eoh(SMFICTX *ctx);

/* finish_eom - xxfi_eom */
sfsistat finish_eom(SMFICTX *ctx);

#endif
