/*
 * lazy-load.c - a library's functions found on first use (lazy-load.h).
 */
#include <dlfcn.h>

#include "lazy-load.h"
#include "maillog.h"

/* lazy_load - see lazy-load.h */
gboolean
lazy_load(const char *library, gpointer table, const LazySymbol *symbols, gsize n)
{
    void *lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    const char *why;
    gsize i = 0;

    while (lib != NULL && i < n) {
        void *sym = dlsym(lib, symbols[i].name);

        if (sym == NULL)
            break;
        *(void **)((char *)table + symbols[i].offset) = sym;
        i++;
    }
    if (lib != NULL && i == n)
        return TRUE;
    why = dlerror();
    maillog_error("cannot load %s: %s", library, why ? why : "a symbol is missing");
    return FALSE;
}
