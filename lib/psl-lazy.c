/*
 * psl-lazy.c - libpsl loaded on first use, for the pipe agent only.
 *
 * pipe-agent/auth.c asks the public suffix list for an organizational
 * domain only when a reply carries an authentication verdict without a DMARC
 * result, yet linking libpsl loads and relocates it in every
 * replygate-deliver process (libidn2 and libunistring, which it needs, GMime
 * loads anyway). The agent is therefore linked with
 * this file instead of -lpsl, like lib/pq-lazy.c and lib/icu-lazy.c: the
 * three libpsl functions auth.c calls are defined here with libpsl's own
 * signatures and call the real ones, found with dlsym() in libpsl.so.5,
 * which is dlopen()ed the first time one of them is called. The LMTP
 * service links libpsl and never this file.
 *
 * A library that cannot be loaded is a fault of the installation: mail.log
 * says why and the agent aborts, which its SIGABRT handler (deliver.c) turns
 * into a deferral (4.3.0), so alignment is never judged without the list.
 */
#include <libpsl.h>
#include <stdlib.h>

#include <glib.h>

#include "lazy-load.h"

#define PSL_LAZY_LIBRARY "libpsl.so.5"

/* The real functions, filled once (g_once) by psl_lazy(). */
typedef struct {
    const psl_ctx_t *(*builtin)(void);
    psl_ctx_t *(*latest)(const char *);
    const char *(*registrable_domain)(const psl_ctx_t *, const char *);
} PslLazy;

/* The functions of PslLazy, as libpsl names them. */
static const LazySymbol psl_symbols[] = {
    LAZY_SYMBOL(PslLazy, builtin, "psl_builtin"),
    LAZY_SYMBOL(PslLazy, latest, "psl_latest"),
    LAZY_SYMBOL(PslLazy, registrable_domain, "psl_registrable_domain"),
};

/* psl_lazy - the real functions, loading libpsl the first time; aborts (a
 * deferral) when it cannot */
static const PslLazy *
psl_lazy(void)
{
    static PslLazy psl;
    static gsize done = 0;

    if (g_once_init_enter(&done)) {
        if (!lazy_load(PSL_LAZY_LIBRARY, &psl, psl_symbols, G_N_ELEMENTS(psl_symbols)))
            abort();
        g_once_init_leave(&done, 1);
    }
    return &psl;
}

const psl_ctx_t *
psl_builtin(void)
{
    return psl_lazy()->builtin();
}

psl_ctx_t *
psl_latest(const char *fname)
{
    return psl_lazy()->latest(fname);
}

const char *
psl_registrable_domain(const psl_ctx_t *psl, const char *domain)
{
    return psl_lazy()->registrable_domain(psl, domain);
}
