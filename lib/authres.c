/*
 * authres.c - read an Authentication-Results header field (RFC 8601).
 *
 * A recursive-descent reader over the header value with one cursor. The
 * grammar, with CFWS (white space, folding and comments) allowed between
 * every two items:
 *
 *   authserv-id [version] ( ";" "none" / *( ";" method[/version] "=" result
 *       [reason "=" value] *( ptype "." property "=" pvalue ) ) )
 *
 * Leniencies, each for a form real verifiers write: a trailing ";", no
 * result at all, a bare "name=value" after a result (Microsoft's
 * "action=none"), pvalues holding '/', '=' or '+' unquoted (header.b), and
 * '_' in keywords. Everything else that breaks the grammar refuses the whole
 * header: a reader that guessed would let text hidden in a comment or a
 * quoted string be read as a result.
 */
#include <string.h>

#include "authres.h"

typedef struct {
    const char *p;   /* the next unread byte */
    const char *why; /* set on the first error */
} Cursor;

/* authres_fail - note the first error; always FALSE */
static gboolean
authres_fail(Cursor *c, const char *why)
{
    if (c->why == NULL)
        c->why = why;
    return FALSE;
}

/* authres_skip_cfws - skip white space, line folding and (nested) comments */
static gboolean
authres_skip_cfws(Cursor *c)
{
    for (;;) {
        guint depth = 0;

        while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')
            c->p++;
        if (*c->p != '(')
            return TRUE;
        /* A comment: ctext, quoted pairs and comments inside, to its ")". */
        do {
            switch (*c->p) {
            case '\0':
                return authres_fail(c, "a comment is not closed");
            case '\\':
                if (c->p[1] == '\0')
                    return authres_fail(c, "a comment is not closed");
                c->p++;
                break;
            case '(':
                depth++;
                break;
            case ')':
                depth--;
                break;
            default:
                break;
            }
            c->p++;
        } while (depth > 0);
    }
}

/* authres_is_keyword_char - letters, digits, '-' and '_' */
static gboolean
authres_is_keyword_char(char ch)
{
    return g_ascii_isalnum(ch) || ch == '-' || ch == '_';
}

/* authres_keyword - a method, result, ptype or property name, lower case
 * (new string), or NULL when none starts here */
static char *
authres_keyword(Cursor *c)
{
    const char *start = c->p;

    if (!g_ascii_isalnum(*c->p))
        return NULL;
    while (authres_is_keyword_char(*c->p))
        c->p++;
    return g_ascii_strdown(start, c->p - start);
}

/* authres_quoted - a quoted string, unquoted (new string); c->p is at '"' */
static char *
authres_quoted(Cursor *c)
{
    GString *out = g_string_new(NULL);

    c->p++;
    while (*c->p != '"') {
        if (*c->p == '\0' || (*c->p == '\\' && c->p[1] == '\0')) {
            authres_fail(c, "a quoted string is not closed");
            g_string_free(out, TRUE);
            return NULL;
        }
        if (*c->p == '\\')
            c->p++;
        g_string_append_c(out, *c->p);
        c->p++;
    }
    c->p++;
    return g_string_free(out, FALSE);
}

/* authres_is_token_char - RFC 2045 token: no space, control or tspecial;
 * bytes of UTF-8 (RFC 6532) are allowed */
static gboolean
authres_is_token_char(char ch)
{
    unsigned char u = (unsigned char)ch;

    if (u >= 0x80)
        return TRUE;
    return u > 0x20 && u < 0x7f && strchr("()<>@,;:\\\"/[]?=", ch) == NULL;
}

/* authres_value - a token or a quoted string (new string), or NULL */
static char *
authres_value(Cursor *c)
{
    const char *start = c->p;

    if (*c->p == '"')
        return authres_quoted(c);
    while (authres_is_token_char(*c->p))
        c->p++;
    if (c->p == start) {
        authres_fail(c, "a value is missing");
        return NULL;
    }
    return g_strndup(start, c->p - start);
}

/* authres_is_pvalue_char - what an unquoted property value may hold: any
 * printable byte but white space, '(', ';' and '"' */
static gboolean
authres_is_pvalue_char(char ch)
{
    unsigned char u = (unsigned char)ch;

    if (u >= 0x80)
        return TRUE;
    return u > 0x20 && u < 0x7f && ch != '(' && ch != ';' && ch != '"';
}

/* authres_pvalue - a property value: a quoted string, optionally followed by
 * "@domain" (a quoted local part), or a run of pvalue characters (new string) */
static char *
authres_pvalue(Cursor *c)
{
    const char *start;
    g_autofree char *quoted = NULL;

    if (*c->p == '"') {
        quoted = authres_quoted(c);
        if (quoted == NULL)
            return NULL;
        if (*c->p != '@')
            return g_steal_pointer(&quoted);
    }
    start = c->p;
    while (authres_is_pvalue_char(*c->p))
        c->p++;
    if (c->p == start && quoted == NULL) {
        authres_fail(c, "a property value is missing");
        return NULL;
    }
    return g_strdup_printf("%s%.*s", quoted != NULL ? quoted : "", (int)(c->p - start), start);
}

/* authres_expect - skip CFWS, then demand the character ch */
static gboolean
authres_expect(Cursor *c, char ch, const char *why)
{
    if (!authres_skip_cfws(c))
        return FALSE;
    if (*c->p != ch)
        return authres_fail(c, why);
    c->p++;
    return authres_skip_cfws(c);
}

/* authres_result_free - release one result */
static void
authres_result_free(gpointer data)
{
    AuthresResult *r = data;

    g_free(r->method);
    g_free(r->result);
    g_free(r->reason);
    g_free(r->smtp_mailfrom);
    g_free(r->header_d);
    g_free(r->header_i);
    g_free(r->header_from);
    g_free(r);
}

/* authres_property_slot - where ptype.property is kept, or NULL when it is
 * one replygate does not read */
static char **
authres_property_slot(AuthresResult *r, const char *ptype, const char *property)
{
    if (strcmp(ptype, "smtp") == 0 && strcmp(property, "mailfrom") == 0)
        return &r->smtp_mailfrom;
    if (strcmp(ptype, "header") != 0)
        return NULL;
    if (strcmp(property, "d") == 0)
        return &r->header_d;
    if (strcmp(property, "i") == 0)
        return &r->header_i;
    if (strcmp(property, "from") == 0)
        return &r->header_from;
    return NULL;
}

/* authres_properties - reason and properties after "method=result", up to
 * the next ";" or the end */
static gboolean
authres_properties(Cursor *c, AuthresResult *r)
{
    for (;;) {
        g_autofree char *name = NULL;
        g_autofree char *property = NULL;
        g_autofree char *value = NULL;
        char **slot;

        if (!authres_skip_cfws(c))
            return FALSE;
        if (*c->p == '\0' || *c->p == ';')
            return TRUE;
        name = authres_keyword(c);
        if (name == NULL)
            return authres_fail(c, "a property name is missing");
        if (!authres_skip_cfws(c))
            return FALSE;
        if (*c->p == '=') {
            /* reason=value, or a bare name=value some verifiers write */
            c->p++;
            if (!authres_skip_cfws(c))
                return FALSE;
            if (strcmp(name, "reason") == 0) {
                value = authres_value(c);
                if (value == NULL)
                    return FALSE;
                if (r->reason == NULL)
                    r->reason = g_steal_pointer(&value);
            } else if ((value = authres_pvalue(c)) == NULL) {
                return FALSE;
            }
            continue;
        }
        if (*c->p != '.')
            return authres_fail(c, "a property is not written ptype.property=value");
        c->p++;
        if (!authres_skip_cfws(c))
            return FALSE;
        property = authres_keyword(c);
        if (property == NULL)
            return authres_fail(c, "a property name is missing after its type");
        if (!authres_expect(c, '=', "a property has no \"=\""))
            return FALSE;
        value = authres_pvalue(c);
        if (value == NULL)
            return FALSE;
        slot = authres_property_slot(r, name, property);
        if (slot == NULL)
            continue;
        if (*slot != NULL)
            return authres_fail(c, "a property is given twice in one result");
        *slot = g_steal_pointer(&value);
    }
}

/* authres_version - an optional version number; TRUE when absent or "1",
 * *other set when another number stands there */
static gboolean
authres_version(Cursor *c, gboolean *other)
{
    const char *start = c->p;

    *other = FALSE;
    while (g_ascii_isdigit(*c->p))
        c->p++;
    if (c->p == start)
        return TRUE;
    if (c->p - start != 1 || *start != '1')
        *other = TRUE;
    return authres_skip_cfws(c);
}

/* authres_resinfo - one "method=result ..." after a ";"; *out is NULL for a
 * result that does not count (the no-result "none", an unknown version) */
static gboolean
authres_resinfo(Cursor *c, AuthresResult **out)
{
    g_autofree char *method = NULL;
    AuthresResult *r;
    gboolean other_version = FALSE;

    *out = NULL;
    method = authres_keyword(c);
    if (method == NULL)
        return authres_fail(c, "a method name is missing");
    if (!authres_skip_cfws(c))
        return FALSE;
    if (strcmp(method, "none") == 0 && (*c->p == '\0' || *c->p == ';'))
        return TRUE;
    if (*c->p == '/') {
        c->p++;
        if (!authres_skip_cfws(c))
            return FALSE;
        if (!g_ascii_isdigit(*c->p))
            return authres_fail(c, "a method version is not a number");
        if (!authres_version(c, &other_version))
            return FALSE;
    }
    if (!authres_expect(c, '=', "a method has no \"=result\""))
        return FALSE;
    r = g_new0(AuthresResult, 1);
    r->method = g_steal_pointer(&method);
    r->result = authres_keyword(c);
    if (r->result == NULL) {
        authres_result_free(r);
        return authres_fail(c, "a result is missing");
    }
    if (!authres_properties(c, r)) {
        authres_result_free(r);
        return FALSE;
    }
    if (other_version) {
        authres_result_free(r); /* RFC 8601 2.5: a version we do not know is ignored */
        return TRUE;
    }
    *out = r;
    return TRUE;
}

/* authres_header_free - see authres.h */
void
authres_header_free(AuthresHeader *header)
{
    if (header == NULL)
        return;
    g_free(header->authserv_id);
    g_clear_pointer(&header->results, g_ptr_array_unref);
    g_free(header);
}

/* authres_parse - see authres.h */
AuthresHeader *
authres_parse(const char *value, const char **why)
{
    g_autoptr(AuthresHeader) header = g_new0(AuthresHeader, 1);
    Cursor c = {.p = value, .why = NULL};
    gboolean other_version = FALSE;

    *why = NULL;
    header->results = g_ptr_array_new_with_free_func(authres_result_free);
    if (value == NULL || strlen(value) > AUTHRES_MAX_VALUE) {
        *why = value == NULL ? "no value" : "the value is too long";
        return NULL;
    }
    if (!authres_skip_cfws(&c))
        goto refused;
    if (*c.p == ';' || *c.p == '\0') {
        *why = "the authserv-id is missing";
        return NULL;
    }
    header->authserv_id = authres_value(&c);
    if (header->authserv_id == NULL || *header->authserv_id == '\0') {
        authres_fail(&c, "the authserv-id is missing");
        goto refused;
    }
    if (!authres_skip_cfws(&c) || !authres_version(&c, &other_version))
        goto refused;
    if (other_version) {
        *why = "an Authentication-Results version other than 1";
        return NULL;
    }
    for (;;) {
        AuthresResult *result = NULL;

        if (!authres_skip_cfws(&c))
            goto refused;
        if (*c.p == '\0')
            break;
        if (*c.p != ';') {
            authres_fail(&c, "results are not separated by \";\"");
            goto refused;
        }
        c.p++;
        if (!authres_skip_cfws(&c))
            goto refused;
        if (*c.p == '\0')
            break; /* a trailing ";" */
        if (!authres_resinfo(&c, &result))
            goto refused;
        if (result == NULL)
            continue;
        if (header->results->len == AUTHRES_MAX_RESULTS) {
            authres_result_free(result);
            authres_fail(&c, "too many results");
            goto refused;
        }
        g_ptr_array_add(header->results, result);
    }
    return g_steal_pointer(&header);

refused:
    *why = c.why != NULL ? c.why : "not an Authentication-Results value";
    return NULL;
}

/* authres_authserv_id - see authres.h */
char *
authres_authserv_id(const char *value)
{
    Cursor c = {.p = value, .why = NULL};
    char *id;

    if (value == NULL || !authres_skip_cfws(&c) || *c.p == ';' || *c.p == '\0')
        return NULL;
    id = authres_value(&c);
    if (id != NULL && *id == '\0')
        g_clear_pointer(&id, g_free);
    return id;
}

/* authres_domain - see authres.h */
char *
authres_domain(const char *value)
{
    const char *at;
    char *domain;
    gsize n;

    if (value == NULL)
        return NULL;
    at = strrchr(value, '@');
    domain = g_ascii_strdown(at != NULL ? at + 1 : value, -1);
    n = strlen(domain);
    if (n > 0 && domain[n - 1] == '.')
        domain[--n] = '\0';
    if (n == 0) {
        g_free(domain);
        return NULL;
    }
    return domain;
}
