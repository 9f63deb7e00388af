/*
 * fuzz-authres.c - libFuzzer target: the Authentication-Results reader.
 *
 * The input is one header value (cut at its first NUL, as a header would
 * be). authres_parse() must not crash, and what it accepts must keep its
 * promises: a non-empty authserv-id, at most AUTHRES_MAX_RESULTS results,
 * and methods and results that are lower-case keywords, so no text from a
 * comment or a quoted string can ever stand where a method or result is.
 */
#include <glib.h>

#include "authres.h"
#include "fuzz-common.h"

/* fuzz_is_keyword - lower-case letters, digits, '-' and '_', not empty */
static gboolean
fuzz_is_keyword(const char *text)
{
    if (text == NULL || *text == '\0')
        return FALSE;
    for (const char *p = text; *p != '\0'; p++)
        if (!(g_ascii_islower(*p) || g_ascii_isdigit(*p) || *p == '-' || *p == '_'))
            return FALSE;
    return TRUE;
}

/* LLVMFuzzerTestOneInput - one header value */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *value = g_strndup((const char *)data, size);
    const char *why = NULL;
    g_autoptr(AuthresHeader) header = authres_parse(value, &why);

    if (header == NULL) {
        if (why == NULL)
            abort(); /* a refusal always says why */
        return 0;
    }
    if (header->authserv_id == NULL || *header->authserv_id == '\0' ||
        header->results->len > AUTHRES_MAX_RESULTS)
        abort();
    for (guint i = 0; i < header->results->len; i++) {
        const AuthresResult *r = g_ptr_array_index(header->results, i);
        g_autofree char *domain = authres_domain(r->header_d);

        if (!fuzz_is_keyword(r->method) || !fuzz_is_keyword(r->result))
            abort();
        if (domain != NULL && *domain == '\0')
            abort();
    }
    return 0;
}
