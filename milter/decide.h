/*
 * decide.h - the milter's decisions, pure and free of libmilter.
 *
 * The callbacks gather facts (recipient, TLS macros, headers, sender) and
 * ask these functions what to do; the functions never touch the network or
 * libmilter, so they can be called directly. Reply texts are exactly the
 * ones of the milter issue and SPEC section 1.
 */
#ifndef RG_MILTER_DECIDE_H
#define RG_MILTER_DECIDE_H

#include <glib.h>

#include "address.h"
#include "autosubmit.h"
#include "config.h"
#include "headers.h"
#include "keyfind.h"

/* What to answer to one RCPT TO. */
typedef enum {
    RCPT_FOREIGN,  /* not ours: never touched */
    RCPT_ACCEPT,   /* a verified key, the dedicated address or a static address */
    RCPT_NOREPLY,  /* accept now, remove at end of message */
    RCPT_NEED_TLS, /* 530 5.7.0 */
    RCPT_UNKNOWN,  /* 550 5.1.1 */
} RcptAction;

typedef struct {
    RcptAction action;
    AddressClass klass;
    const char *why; /* static text for logs, or NULL */
    ReplyKey key;    /* ADDRESS_KEY, ADDRESS_STATIC: the key; else zeroed */
} RcptDecision;

/* What to do after the headers. */
typedef enum {
    AUTO_NONE,    /* a person's message: go on */
    AUTO_REJECT,  /* 550 5.7.1 */
    AUTO_DISCARD, /* auto_submitted_action = discard */
} AutoAction;

/* What to do, after the headers, with the recipients at the bare dedicated
 * address whose message carries no key (the agent would refuse them with
 * 5.1.1, and Postfix would bounce that to a sender who may be forged). */
typedef enum {
    KEYLESS_NONE,   /* every dedicated recipient finds its key: go on */
    KEYLESS_DROP,   /* remove the keyless ones at end of message, deliver the rest */
    KEYLESS_REJECT, /* every recipient is a keyless dedicated one: 550 5.1.1 */
} KeylessAction;

/* What the key lookup after the headers found for the bare dedicated address. */
typedef enum {
    DEDICATED_KEY,       /* a key (or static address) that verifies: *key filled */
    DEDICATED_NONE,      /* none among every header the lookup reads */
    DEDICATED_UNDECIDED, /* none among those kept, but the caps left some out */
} DedicatedLookup;

#define DECIDE_TLS_RCODE "530"
#define DECIDE_TLS_XCODE "5.7.0"
#define DECIDE_TLS_TEXT "Must issue a STARTTLS command first"
#define DECIDE_UNKNOWN_RCODE "550"
#define DECIDE_UNKNOWN_XCODE "5.1.1"
#define DECIDE_KEYLESS_RCODE "550"
#define DECIDE_KEYLESS_XCODE "5.1.1"
#define DECIDE_AUTO_RCODE "550"
#define DECIDE_AUTO_XCODE "5.7.1"
#define DECIDE_TOO_MANY_RCODE "452"
#define DECIDE_TOO_MANY_XCODE "4.5.3"
#define DECIDE_TOO_MANY_TEXT "Too many recipients in the reply domains for one message"
#define DECIDE_RATE_RCODE "450"
#define DECIDE_RATE_XCODE "4.7.1"
#define DECIDE_HEADER_PREFIX "X-Replygate-"
#define DECIDE_REPLY_ADDRESS_MAX 256 /* bytes of an address quoted in a reply */
#define DECIDE_TLS_HEADER "X-Replygate-TLS"

/* decide_tls_sufficient - does the session's TLS version satisfy the configuration? */
gboolean decide_tls_sufficient(const Config *config, const char *tls_version);

/* decide_rcpt - what to answer to RCPT TO:<rcpt> with this TLS version (NULL: none) */
RcptDecision decide_rcpt(const Config *config, const KeyRing *ring, const char *rcpt,
                         const char *tls_version);

/* decide_unknown_text - "<addr>: Recipient address rejected: ..." for a 550 5.1.1 */
char *decide_unknown_text(const char *rcpt);

/* decide_keyless_text - "<addr>: Recipient address rejected: no reply key in the message" */
char *decide_keyless_text(const char *rcpt);

/* decide_dedicated - the key of a message to the bare dedicated address, looked
 * up once as the agent will (keyfind_lookup over the headers; the envelope
 * recipient, being the dedicated address, never holds one, so the answer is
 * the same for every dedicated recipient). truncated: the header caps left
 * out a header the lookup reads, so "none" cannot be told for sure. */
DedicatedLookup decide_dedicated(const Config *config, const KeyRing *ring,
                                 const HeaderField *headers, gsize n_headers, gboolean truncated,
                                 ReplyKey *key);

/* decide_keyless - decide_dedicated() for a list of dedicated recipients;
 * append those without a key to keyless (borrowed pointers into dedicated).
 * n_rcpts counts every accepted recipient, ours and foreign: the message is
 * refused only when the keyless ones are all of them, else they are dropped. */
KeylessAction decide_keyless(const Config *config, const KeyRing *ring,
                             const char *const *dedicated, gsize n_dedicated, guint n_rcpts,
                             const HeaderField *headers, gsize n_headers, GPtrArray *keyless);

/* decide_autosubmit - refuse, discard or pass a message after its headers;
 * *reason gets the reason in words (g_free) when the answer is not AUTO_NONE */
AutoAction decide_autosubmit(const Config *config, const HeaderField *headers, gsize n_headers,
                             const char *sender, char **reason);

/* decide_autosubmit_text - "Auto-submitted message refused (<reason>)" */
char *decide_autosubmit_text(const char *reason);

/* decide_header_is_ours - is this an X-Replygate-* header, which only the milter may write? */
gboolean decide_header_is_ours(const char *name);

/* decide_header_deletions - the deletions that remove every X-Replygate-* header
 * of names (in message order), highest index first within each name, so the
 * plan holds whether the MTA renumbers after a deletion or not; linear in
 * n_names (HeaderDeletion names borrowed from names) */
GArray *decide_header_deletions(const char *const *names, gsize n_names);

/* decide_rate_text - the 450 4.7.1 text past rate_limit_per_sender (by_sender)
 * or rate_limit_per_key: "<addr>: Sender|Recipient address rejected: ..." */
char *decide_rate_text(gboolean by_sender, const char *rcpt, const char *sender, guint64 limit);

/* decide_reply_text - text made safe for smfi_setreply: printable ASCII, '%' doubled */
char *decide_reply_text(const char *text);

#endif
