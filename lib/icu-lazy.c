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
#include <dlfcn.h>
#include <stdlib.h>
#include <unicode/ucasemap.h>
#include <unicode/uidna.h>

#include <glib.h>

#include "maillog.h"

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

/* icu_lazy - the real functions, loading ICU the first time; aborts (a
 * deferral) when it cannot */
static const IcuLazy *
icu_lazy(void)
{
    static IcuLazy icu;
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        void *lib = dlopen(ICU_LAZY_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        gboolean ok = lib != NULL;

        /* G_STRINGIFY expands the name first: "ucasemap_open_72". */
#define ICU_LOAD(field, name)                                                                      \
    ok = ok && (*(void **)&icu.field = dlsym(lib, G_STRINGIFY(name))) != NULL
        ICU_LOAD(casemap_open, ucasemap_open);
        ICU_LOAD(casemap_close, ucasemap_close);
        ICU_LOAD(fold_case, ucasemap_utf8FoldCase);
        ICU_LOAD(idna_open, uidna_openUTS46);
        ICU_LOAD(idna_close, uidna_close);
        ICU_LOAD(name_to_ascii, uidna_nameToASCII_UTF8);
#undef ICU_LOAD
        if (!ok) {
            const char *why = dlerror();
            maillog_error("cannot load %s: %s", ICU_LAZY_LIBRARY,
                          why ? why : "a symbol is missing");
            abort();
        }
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
