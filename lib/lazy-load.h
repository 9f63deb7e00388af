/*
 * lazy-load.h - a library's functions found on first use (dlopen, dlsym),
 * for the pipe agent's stand-ins: lib/pq-lazy.c, lib/icu-lazy.c and
 * lib/psl-lazy.c. Each keeps the real functions in a struct of its own and
 * names them in a table of LazySymbol; lazy_load() fills the struct.
 */
#ifndef RG_LAZY_LOAD_H
#define RG_LAZY_LOAD_H

#include <stddef.h>

#include <glib.h>

/* One function: its name in the library, its slot in the caller's struct. */
typedef struct {
    const char *name;
    size_t offset;
} LazySymbol;

/* LAZY_SYMBOL - the table entry for field of struct type, found as name */
#define LAZY_SYMBOL(type, field, name)                                                             \
    {                                                                                              \
        (name), offsetof(type, field)                                                              \
    }

/* lazy_load - dlopen() library and fill each symbol's slot in table; TRUE
 * when all were found, else mail.log says why ("cannot load ...") and the
 * slots are not to be used. Call it once (g_once). */
gboolean lazy_load(const char *library, gpointer table, const LazySymbol *symbols, gsize n);

#endif
