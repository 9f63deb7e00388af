/*
 * icu-lazy.c - ICU loaded on first use, for the pipe agent only.
 *
 * lib/domain.c folds and converts domains outside ASCII with ICU, as
 * Postfix does under SMTPUTF8, and most domains never reach it. Yet linking
 * libicuuc brings libicudata, libstdc++ and libgcc_s into every
 * replygate-deliver process: about 4,700 symbol relocations, a third of what
 * the dynamic loader does for a --dry-run. The agent is therefore linked with
 * this file instead of -licuuc, like lib/pq-lazy.c for libpq: each ICU
 * function domain.c calls is defined here with ICU's own signature (and its
 * versioned name, from unicode/urename.h) and calls the real one, found with
 * dlsym() in the libicuuc of the ICU the program was built against, which is
 * dlopen()ed the first time a domain outside ASCII is seen. The milter, the
 * LMTP service and the CLI link ICU and never this file.
 *
 * A library that cannot be loaded is a fault of the installation, not of the
 * message: mail.log says why and the agent aborts, which its SIGABRT handler
 * (deliver.c) turns into a deferral (4.3.0) with the spool copy removed, so
 * the reply is never judged by an unfolded domain and never lost.
 */
#include <stdlib.h>
#include <unicode/ucasemap.h>
#include <unicode/uidna.h>

#include <glib.h>

#include "lazy-load.h"

#define ICU_LAZY_LIBRARY "libicuuc.so." G_STRINGIFY(U_ICU_VERSION_MAJOR_NUM)

/* The real functions, filled once (g_once) by icu_lazy(). */
typedef struct {
    UCaseMap *(*casemap_open)(const char *, uint32_t, UErrorCode *);
    void (*casemap_close)(UCaseMap *);
    int32_t (*fold_case)(const UCaseMap *, char *, int32_t, const char *, int32_t, UErrorCode *);
    UIDNA *(*idna_open)(uint32_t, UErrorCode *);
    void (*idna_close)(UIDNA *);
    int32_t (*name_to_ascii)(const UIDNA *, const char *, int32_t, char *, int32_t, UIDNAInfo *,
                             UErrorCode *);
} IcuLazy;

/* The functions of IcuLazy, by their versioned names (G_STRINGIFY expands
 * the macro first: "ucasemap_open_72"). */
static const LazySymbol icu_symbols[] = {
    LAZY_SYMBOL(IcuLazy, casemap_open, G_STRINGIFY(ucasemap_open)),
    LAZY_SYMBOL(IcuLazy, casemap_close, G_STRINGIFY(ucasemap_close)),
    LAZY_SYMBOL(IcuLazy, fold_case, G_STRINGIFY(ucasemap_utf8FoldCase)),
    LAZY_SYMBOL(IcuLazy, idna_open, G_STRINGIFY(uidna_openUTS46)),
    LAZY_SYMBOL(IcuLazy, idna_close, G_STRINGIFY(uidna_close)),
    LAZY_SYMBOL(IcuLazy, name_to_ascii, G_STRINGIFY(uidna_nameToASCII_UTF8)),
};

/* icu_lazy - the real functions, loading ICU the first time; aborts (a
 * deferral) when it cannot */
static const IcuLazy *
icu_lazy(void)
{
    static IcuLazy icu;
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        if (!lazy_load(ICU_LAZY_LIBRARY, &icu, icu_symbols, G_N_ELEMENTS(icu_symbols)))
            abort();
        g_once_init_leave(&done, 1);
    }
    return &icu;
}

U_CAPI UCaseMap *U_EXPORT2
ucasemap_open(const char *locale, uint32_t options, UErrorCode *pErrorCode)
{
    return icu_lazy()->casemap_open(locale, options, pErrorCode);
}

U_CAPI void U_EXPORT2
ucasemap_close(UCaseMap *csm)
{
    if (csm != NULL)
        icu_lazy()->casemap_close(csm);
}

U_CAPI int32_t U_EXPORT2
ucasemap_utf8FoldCase(const UCaseMap *csm, char *dest, int32_t destCapacity, const char *src,
                      int32_t srcLength, UErrorCode *pErrorCode)
{
    return icu_lazy()->fold_case(csm, dest, destCapacity, src, srcLength, pErrorCode);
}

U_CAPI UIDNA *U_EXPORT2
uidna_openUTS46(uint32_t options, UErrorCode *pErrorCode)
{
    return icu_lazy()->idna_open(options, pErrorCode);
}

U_CAPI void U_EXPORT2
uidna_close(UIDNA *idna)
{
    if (idna != NULL)
        icu_lazy()->idna_close(idna);
}

U_CAPI int32_t U_EXPORT2
uidna_nameToASCII_UTF8(const UIDNA *idna, const char *name, int32_t length, char *dest,
                       int32_t capacity, UIDNAInfo *pInfo, UErrorCode *pErrorCode)
{
    return icu_lazy()->name_to_ascii(idna, name, length, dest, capacity, pInfo, pErrorCode);
}
