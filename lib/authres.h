/*
 * authres.h - read an Authentication-Results header field (RFC 8601).
 *
 *   Authentication-Results: mx.example.com;
 *       dkim=pass (2048-bit key) header.d=example.org header.i=@example.org;
 *       spf=pass smtp.mailfrom=bob@example.org;
 *       dmarc=pass (p=reject dis=none) header.from=example.org
 *
 * authres_parse() turns one header value into the authserv-id and a list of
 * results, each a method, a result and the properties replygate reads
 * (smtp.mailfrom, header.d, header.i, header.from). Comments are skipped
 * wherever CFWS may stand, quoted strings are unquoted, a method version
 * ("dkim/1") and a header version ("mx.example.com 1") are read, and "none"
 * means no results. Unknown methods and properties are kept or skipped, never
 * an error. A header that does not follow the grammar is refused whole, with
 * a reason: the caller then counts nothing from it.
 *
 * Pure: no I/O, no global state. Which headers to believe (only those whose
 * authserv-id is ours) is the caller's decision.
 */
#ifndef RG_AUTHRES_H
#define RG_AUTHRES_H

#include <glib.h>

/* A header value longer than this is refused (a verifier writes a few hundred bytes). */
#define AUTHRES_MAX_VALUE 16384
/* More results than this in one header are refused. */
#define AUTHRES_MAX_RESULTS 64

typedef struct {
    char *method;        /* lower case: "spf", "dkim", "dmarc", "arc", ... */
    char *result;        /* lower case: "pass", "fail", "none", ... */
    char *reason;        /* reason=, or NULL */
    char *smtp_mailfrom; /* smtp.mailfrom, as written, or NULL */
    char *header_d;      /* header.d, or NULL */
    char *header_i;      /* header.i, or NULL */
    char *header_from;   /* header.from, or NULL */
} AuthresResult;

typedef struct {
    char *authserv_id;  /* as written, unquoted */
    GPtrArray *results; /* AuthresResult *, in order; empty for "none" */
} AuthresHeader;

/* authres_parse - parse one header value; NULL with *why set (a static string)
 * when it does not follow RFC 8601 or passes the limits above */
AuthresHeader *authres_parse(const char *value, const char **why);

/* authres_authserv_id - only the authserv-id at the start of a value (new
 * string), or NULL; it names a header's author even when the rest is broken */
char *authres_authserv_id(const char *value);

/* authres_header_free - release a parsed header (NULL-safe) */
void authres_header_free(AuthresHeader *header);

/* authres_domain - the domain of a property value: after the last '@' of
 * "user@example.org" or "@example.org", else the whole value; lower case,
 * without a trailing dot; NULL when empty (new string) */
char *authres_domain(const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AuthresHeader, authres_header_free)

#endif
