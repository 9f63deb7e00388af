/*
 * rg-limits.h - the bounds on the work one message may cause (issue 13).
 *
 * A message within max_message_size can still make a MIME parser build far
 * more than its own size: GMime keeps about a kilobyte per part, per header
 * field, per address and per parameter, and parses nested address groups
 * recursively. The caps below stop that before GMime builds anything: a
 * message over one is refused permanently (5.3.4, kept in failure/), since
 * it would fail the same way on every retry. They are far above anything a
 * mail client writes.
 *
 * The pipe agent also runs under RLIMIT_AS and RLIMIT_CPU from the
 * configuration (delivery_memory_limit, delivery_cpu_limit); a resident
 * program (the LMTP service) uses the same caps per message and its own
 * budgets instead, because process limits add up over its life.
 */
#ifndef RG_LIMITS_H
#define RG_LIMITS_H

#include <glib.h>

/* MIME objects in one message: leaves, multiparts, embedded messages. */
#define LIMIT_MIME_PARTS 10000
/* Nesting of multiparts and embedded messages (the top level is 0). */
#define LIMIT_MIME_DEPTH 64
/* Header fields in all the header blocks of one message. */
#define LIMIT_HEADER_FIELDS 50000
/* Addresses, parameters and message ids in all header values together,
 * counted by their separators (an upper bound of what a parser makes). */
#define LIMIT_HEADER_ITEMS 50000
/* Address groups ("name: ... ;") opened in one address header field;
 * GMime parses a group inside a group recursively. */
#define LIMIT_ADDRESS_GROUPS 100
/* The largest max_message_size the configuration accepts: the agent reads a
 * message into one buffer, and a reply of a gigabyte is not a reply. */
#define LIMIT_MESSAGE_SIZE_MAX G_GUINT64_CONSTANT(1073741824)
/* Seconds between the soft RLIMIT_CPU (SIGXCPU, a refusal) and the hard one
 * (SIGKILL), so that the handler always runs first. */
#define LIMIT_CPU_GRACE 10

/* What kind of header value a field name holds, for limits_header_items(). */
typedef enum {
    LIMIT_FIELD_OTHER,
    LIMIT_FIELD_ADDRESSES,  /* From, To, Cc, Bcc, Sender, Reply-To, *-To, *-From, ... */
    LIMIT_FIELD_PARAMETERS, /* Content-Type, Content-Disposition */
    LIMIT_FIELD_IDS,        /* Message-ID, In-Reply-To, References */
} LimitFieldKind;

/* limits_field_kind - the kind of a header field name (name_len bytes, any case) */
LimitFieldKind limits_field_kind(const char *name, gsize name_len);

/* LimitValueScan - the running count over one header value, which may come
 * in pieces (folded lines); start with all zeros. */
typedef struct {
    guint64 items;  /* separators seen: addresses, parameters, ids */
    guint64 groups; /* ':' outside quotes, comments, <...> and [...] */
    guint8 quote, escape, angle, literal;
    guint comment;
} LimitValueScan;

/* limits_value_scan - count one piece of a header value of the given kind */
void limits_value_scan(LimitValueScan *scan, LimitFieldKind kind, const char *value, gsize len);

/* limits_address_groups - the groups opened in one address-list value: more
 * than LIMIT_ADDRESS_GROUPS and a recursive parser must not see it */
guint64 limits_address_groups(const char *value, gsize len);

/* limits_apply_process - set RLIMIT_AS to memory bytes and the soft
 * RLIMIT_CPU to cpu seconds (the hard one LIMIT_CPU_GRACE later); 0 leaves
 * a limit as it is. A build with AddressSanitizer never sets RLIMIT_AS (its
 * shadow memory needs terabytes of address space): *skipped says so. */
gboolean limits_apply_process(guint64 memory, guint64 cpu, gboolean *skipped, GError **error);

#endif
