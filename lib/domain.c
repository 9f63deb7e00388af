/*
 * domain.c - Unicode case folding and IDNA for domain comparisons (domain.h).
 *
 * ICU is what Postfix itself links for SMTPUTF8, so the folding here is the
 * very same function (ucasemap_utf8FoldCase with U_FOLD_CASE_DEFAULT) that
 * decides where Postfix routes a recipient. Most domains are ASCII and never
 * reach ICU.
 */
#include <string.h>

#include <unicode/ucasemap.h>
#include <unicode/uidna.h>

#include "domain.h"

/* is_ascii - only 7-bit bytes? */
static gboolean
is_ascii(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p >= 0x80)
            return FALSE;
    }
    return TRUE;
}

/* case_fold - ICU full case folding of UTF-8 text (new string), NULL on error */
static char *
case_fold(const char *text)
{
    UErrorCode status = U_ZERO_ERROR;
    UCaseMap *map = ucasemap_open(NULL, U_FOLD_CASE_DEFAULT, &status);
    int32_t len = (int32_t)strlen(text);
    /* Full folding grows a string by at most three times (U+0390 and kin). */
    int32_t cap = 3 * len + 1;
    char *out = g_malloc(cap);
    int32_t n;

    if (U_FAILURE(status)) {
        g_free(out);
        return NULL;
    }
    n = ucasemap_utf8FoldCase(map, out, cap, text, len, &status);
    ucasemap_close(map);
    if (U_FAILURE(status) || n >= cap) {
        g_free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

/* to_ascii - the UTS #46 (nontransitional) A-label form, lower case, or NULL */
static char *
to_ascii(const char *text)
{
    UErrorCode status = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    UIDNA *idna =
        uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_NONTRANSITIONAL_TO_UNICODE, &status);
    char out[256];
    int32_t n;

    if (U_FAILURE(status))
        return NULL;
    n = uidna_nameToASCII_UTF8(idna, text, (int32_t)strlen(text), out, sizeof out, &info, &status);
    uidna_close(idna);
    if (U_FAILURE(status) || info.errors != 0 || n <= 0 || n >= (int32_t)sizeof out)
        return NULL;
    out[n] = '\0';
    return g_ascii_strdown(out, -1);
}

/* domain_fold - the folded form of a domain (new string; never NULL) */
char *
domain_fold(const char *domain)
{
    g_autofree char *folded = NULL;
    char *ascii;

    if (domain == NULL)
        return g_strdup("");
    if (is_ascii(domain))
        return g_ascii_strdown(domain, -1);
    folded = case_fold(domain);
    if (folded == NULL)
        return g_strdup(domain); /* not UTF-8: compares equal to nothing configured */
    if (is_ascii(folded))
        return g_steal_pointer(&folded);
    ascii = to_ascii(folded);
    return ascii != NULL ? ascii : g_steal_pointer(&folded);
}

/* domain_equal - do two domains name the same thing once folded? */
gboolean
domain_equal(const char *a, const char *b)
{
    g_autofree char *folded = NULL;

    if (a == NULL || b == NULL)
        return FALSE;
    if (is_ascii(a))
        return g_ascii_strcasecmp(a, b) == 0;
    folded = domain_fold(a);
    return strcmp(folded, b) == 0;
}
