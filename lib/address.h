/*
 * address.h - signed reply addresses and the key ring (SPEC section 2).
 *
 * <prefix><sep><kind>-<target>-<mac>-<user>@<reply_domain>, where mac is the
 * first 40 hex digits of HMAC-SHA256(secret, "<kind>-<target>-<user>"). The
 * first secret signs, every secret verifies, comparison is constant time.
 * These functions are pure apart from keyring_load(): tests call them directly.
 */
#ifndef RG_ADDRESS_H
#define RG_ADDRESS_H

#include <glib.h>
#include "config.h"

#define ADDRESS_MAC_HEX 40
#define ADDRESS_KIND_MAX 16
#define ADDRESS_SECRET_MIN 32
/* Longest unique suffix of the Message-ID form <local>.<suffix>@<domain>. */
#define ADDRESS_SUFFIX_MAX 64

typedef struct {
    GPtrArray *secrets; /* GBytes *, the first one signs */
} KeyRing;

typedef struct {
    char kind[ADDRESS_KIND_MAX + 1];
    guint64 target;
    guint64 user;
} ReplyKey;

/* What an envelope or header address is, for the milter and the agent. */
typedef enum {
    ADDRESS_FOREIGN,   /* not in a reply domain (and not the noreply address): leave alone */
    ADDRESS_KEY,       /* a signed key that verifies: key is filled in */
    ADDRESS_BAD_KEY,   /* key form, but the mac does not verify with any secret */
    ADDRESS_MALFORMED, /* in a reply domain, prefix and separator, but not a well-formed key */
    ADDRESS_DEDICATED, /* the bare <prefix>@<reply_domain>: the key may be in References */
    ADDRESS_STATIC,    /* a static_address: key is filled in with user 0 */
    ADDRESS_NOREPLY,   /* the noreply_address */
    ADDRESS_UNKNOWN,   /* some other local part in a reply domain */
} AddressClass;

/* keyring_load - read a secrets file, refusing one that "other" may read or write */
KeyRing *keyring_load(const char *path, GError **error);

/* keyring_load_with_config - the configuration at path and the secrets file it
 * names, the pair every program starts from; sets *config on success */
KeyRing *keyring_load_with_config(const char *path, Config **config, GError **error);

/* keyring_new - a key ring from NUL-terminated secrets (tests), each >= 32 bytes */
KeyRing *keyring_new(const char *const *secrets, GError **error);

/* keyring_free - release a key ring (NULL-safe) */
void keyring_free(KeyRing *ring);

/* address_hmac_hex - the first hex_len (even, <= 64) lower-case hex digits of
 * HMAC-SHA256(secret, data) into out (hex_len + 1 bytes); shared by the
 * addresses and the trace header (trace.h) */
void address_hmac_hex(GBytes *secret, const void *data, gsize len, char *out, gsize hex_len);

/* address_mac - the 40 lower-case hex digits for kind, target and user with one secret */
void address_mac(GBytes *secret, const char *kind, guint64 target, guint64 user,
                 char out[ADDRESS_MAC_HEX + 1]);

/* address_sign - the full signed address, in lower case, in the first reply domain */
char *address_sign(const Config *config, const KeyRing *ring, const char *kind, guint64 target,
                   guint64 user, GError **error);

/* address_message_id - a notification's unique Message-ID without its angle
 * brackets: the signed address's local part, '.', suffix (1 to 64 of
 * [A-Za-z0-9._-]), '@' the first reply domain (SPEC section 3 item 9) */
char *address_message_id(const Config *config, const KeyRing *ring, const char *kind,
                         guint64 target, guint64 user, const char *suffix, GError **error);

/* address_classify - what an address is; accepts "<addr>" or "addr", any case.
 * A key may carry a unique suffix, "<local>.<suffix>@<domain>" (1 to 64 of
 * [A-Za-z0-9._-]), the form of a notification's Message-ID: it is the same key.
 * key may be NULL; reason (may be NULL) gets a static string saying why a
 * key was refused. */
AddressClass address_classify(const Config *config, const KeyRing *ring, const char *address,
                              ReplyKey *key, const char **reason);

/* address_class_name - a word for a class, for logs and JSON */
const char *address_class_name(AddressClass klass);

/* address_strip - a new string: the address without angle brackets and white space */
char *address_strip(const char *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KeyRing, keyring_free)

#endif
