/*
 * domain.h - compare domain names the way Postfix routes them.
 *
 * With smtputf8_enable = yes, Postfix folds the keys of its table lookups
 * with Unicode case folding (ICU, util/casefold.c), so reply.\u017Flack.com
 * (LATIN SMALL LETTER LONG S) and reply.slac\u212A.com (KELVIN SIGN) reach
 * the transport of reply.slack.com. domain_fold() gives the form in which
 * replygate compares a domain with its reply domains: ASCII lower case for an
 * ASCII name; for any other, ICU's full case folding, and when that still
 * leaves non-ASCII letters, the A-labels of UTS #46 (IDNA, as Postfix's
 * midna_domain_to_ascii()), so a U-label matches its configured xn-- form.
 */
#ifndef RG_DOMAIN_H
#define RG_DOMAIN_H

#include <glib.h>

/* domain_fold - the folded form of a domain (new string; never NULL) */
char *domain_fold(const char *domain);

/* domain_equal - do two domains name the same thing once folded? b must
 * already be ASCII lower case (a configured reply domain) */
gboolean domain_equal(const char *a, const char *b);

#endif
