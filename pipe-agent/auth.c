/*
 * auth.c - who sent a reply: our verifiers' results, alignment, and the
 * sender_policy and from_check decisions (auth.h).
 *
 * Which result counts, when our verifiers wrote several:
 *   spf    the first spf result;
 *   dkim   "pass" when any signature passed, with the d= of a passing
 *          signature aligned with the From domain if there is one, else of
 *          the first passing one; otherwise the first dkim result, no domain;
 *   dmarc  the results whose header.from is the From domain; of those, any
 *          that is not a pass wins over a pass, so two verdicts that disagree
 *          never add up to a pass. A DMARC result about another domain (a
 *          message with two From fields, say) is recorded, never a pass for
 *          this From.
 * Alignment (RFC 7489 3.1): a DMARC pass for the From domain is aligned, and
 * a DMARC fail is not, since the verifier knew the domain's policy. Without
 * a DMARC verdict (no policy published, no DMARC verifier), a passing DKIM
 * d= or SPF domain aligns when its organizational domain is the From
 * domain's, by Debian's public suffix list (libpsl), the relaxed mode.
 */
#include <libpsl.h>
#include <string.h>

#include "auth.h"
#include "authres.h"

/* The longest piece of message text quoted in a refusal. */
#define AUTH_QUOTE_MAX 100

/* auth_psl - the public suffix list, loaded once (Debian's publicsuffix
 * file when present, else libpsl's built-in copy); NULL when neither is */
static const psl_ctx_t *
auth_psl(void)
{
    static gsize once;
    static const psl_ctx_t *psl;

    if (g_once_init_enter(&once)) {
        psl = psl_latest(NULL);
        if (psl == NULL)
            psl = psl_builtin();
        g_once_init_leave(&once, 1);
    }
    return psl;
}

/* auth_org_domain - see auth.h */
char *
auth_org_domain(const char *domain)
{
    const psl_ctx_t *psl = auth_psl();
    const char *org;

    if (domain == NULL)
        return NULL;
    org = psl != NULL ? psl_registrable_domain(psl, domain) : NULL;
    return g_strdup(org != NULL ? org : domain);
}

/* auth_aligned - do two domains share their organizational domain? */
static gboolean
auth_aligned(const char *a, const char *b)
{
    g_autofree char *org_a = NULL;
    g_autofree char *org_b = NULL;

    if (a == NULL || b == NULL)
        return FALSE;
    if (g_ascii_strcasecmp(a, b) == 0)
        return TRUE;
    org_a = auth_org_domain(a);
    org_b = auth_org_domain(b);
    return g_ascii_strcasecmp(org_a, org_b) == 0;
}

/* auth_quote - message text fit for a DSN line and a log: control
 * characters made '?', cut at AUTH_QUOTE_MAX bytes (new string) */
static char *
auth_quote(const char *text)
{
    g_autofree char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
    GString *out = g_string_new(NULL);

    for (const char *p = valid; *p != '\0' && out->len < AUTH_QUOTE_MAX; p = g_utf8_next_char(p)) {
        gunichar ch = g_utf8_get_char(p);

        if (ch < 0x20 || ch == 0x7f)
            g_string_append_c(out, '?');
        else
            g_string_append_unichar(out, ch);
    }
    return g_string_free(out, FALSE);
}

/* auth_dkim_domain - the signing domain of a dkim result: header.d, else
 * the domain of header.i (new string or NULL) */
static char *
auth_dkim_domain(const AuthresResult *r)
{
    if (r->header_d != NULL)
        return authres_domain(r->header_d);
    return authres_domain(r->header_i);
}

/* auth_take_spf - the first spf result */
static void
auth_take_spf(AuthResults *auth, const AuthresResult *r)
{
    if (auth->spf != NULL)
        return;
    auth->spf = g_strdup(r->result);
    auth->spf_domain = authres_domain(r->smtp_mailfrom);
}

/* auth_take_dkim - a passing signature, an aligned one first */
static void
auth_take_dkim(AuthResults *auth, const AuthresResult *r)
{
    g_autofree char *domain = NULL;

    if (strcmp(r->result, "pass") != 0) {
        if (auth->dkim == NULL)
            auth->dkim = g_strdup(r->result);
        return;
    }
    domain = auth_dkim_domain(r);
    if (domain == NULL)
        return; /* a pass that names no domain proves nothing */
    if (g_strcmp0(auth->dkim, "pass") == 0 && (auth_aligned(auth->dkim_domain, auth->from_domain) ||
                                               !auth_aligned(domain, auth->from_domain)))
        return;
    g_free(auth->dkim);
    g_free(auth->dkim_domain);
    auth->dkim = g_strdup("pass");
    auth->dkim_domain = g_steal_pointer(&domain);
}

/* auth_take_dmarc - the DMARC verdict for the From domain, the worst first */
static void
auth_take_dmarc(AuthResults *auth, const AuthresResult *r)
{
    g_autofree char *domain = authres_domain(r->header_from);
    gboolean ours = domain != NULL && g_strcmp0(domain, auth->from_domain) == 0;
    gboolean had_ours =
        auth->dmarc != NULL && g_strcmp0(auth->dmarc_domain, auth->from_domain) == 0;

    if (had_ours && (!ours || strcmp(auth->dmarc, "pass") != 0))
        return;
    if (!had_ours && auth->dmarc != NULL && !ours)
        return;
    g_free(auth->dmarc);
    g_free(auth->dmarc_domain);
    auth->dmarc = g_strdup(r->result);
    auth->dmarc_domain = g_steal_pointer(&domain);
}

/* auth_read_header - take the results of one header of ours */
static void
auth_read_header(AuthResults *auth, const char *value)
{
    const char *why = NULL;
    g_autoptr(AuthresHeader) header = authres_parse(value, &why);

    if (header == NULL || g_ascii_strcasecmp(header->authserv_id, auth->authserv_id) != 0) {
        if (auth->ignored == NULL)
            auth->ignored = g_strdup(why != NULL ? why : "its authserv-id is written oddly");
        return;
    }
    auth->headers_read++;
    for (guint i = 0; i < header->results->len; i++) {
        const AuthresResult *r = g_ptr_array_index(header->results, i);

        if (strcmp(r->method, "spf") == 0)
            auth_take_spf(auth, r);
        else if (strcmp(r->method, "dkim") == 0)
            auth_take_dkim(auth, r);
        else if (strcmp(r->method, "dmarc") == 0)
            auth_take_dmarc(auth, r);
    }
}

/* auth_alignment - see the comment at the top */
static int
auth_alignment(const AuthResults *auth)
{
    gboolean dmarc_ours = auth->dmarc != NULL && auth->from_domain != NULL &&
                          g_strcmp0(auth->dmarc_domain, auth->from_domain) == 0;

    if (auth->from_domain == NULL)
        return 0;
    if (dmarc_ours && strcmp(auth->dmarc, "pass") == 0)
        return 1;
    if (dmarc_ours && strcmp(auth->dmarc, "fail") == 0)
        return 0;
    if (g_strcmp0(auth->dkim, "pass") == 0 && auth_aligned(auth->dkim_domain, auth->from_domain))
        return 1;
    if (g_strcmp0(auth->spf, "pass") == 0 && auth_aligned(auth->spf_domain, auth->from_domain))
        return 1;
    return 0;
}

/* auth_results_read - see auth.h */
AuthResults *
auth_results_read(const Config *config, const HeaderField *headers, gsize n_headers,
                  const char *from_address)
{
    AuthResults *auth = g_new0(AuthResults, 1);

    auth->aligned = -1;
    if (from_address != NULL && strchr(from_address, '@') != NULL)
        auth->from_domain = authres_domain(from_address);
    if (config->authserv_id == NULL || *config->authserv_id == '\0')
        return auth; /* none configured ("" or NULL): nothing is read */
    auth->authserv_id = g_strdup(config->authserv_id);
    for (gsize i = 0; i < n_headers; i++) {
        g_autofree char *id = NULL;

        if (g_ascii_strcasecmp(headers[i].name, "Authentication-Results") != 0)
            continue;
        id = authres_authserv_id(headers[i].value);
        if (id == NULL || g_ascii_strcasecmp(id, config->authserv_id) != 0)
            continue; /* another host's: never counts */
        auth_read_header(auth, headers[i].value);
    }
    auth->aligned = auth_alignment(auth);
    return auth;
}

/* auth_policy_refusal - see auth.h */
char *
auth_policy_refusal(const Config *config, const AuthResults *auth)
{
    g_autofree char *from = NULL;
    g_autofree char *other = NULL;
    g_autofree char *id = NULL;

    if (config->sender_policy != SENDER_POLICY_REQUIRE_DMARC_PASS)
        return NULL;
    if (auth->authserv_id == NULL) /* config_parse() refuses this; never pass by default */
        return g_strdup("5.7.1 sender_policy requires a DMARC pass, and no authserv_id is set");
    id = auth_quote(auth->authserv_id);
    if (auth->from_domain == NULL)
        return g_strdup("5.7.1 sender policy: a DMARC pass is required, and the message has no "
                        "From address");
    from = auth_quote(auth->from_domain);
    if (auth->dmarc == NULL)
        return g_strdup_printf("5.7.1 sender policy: a DMARC pass is required, and %s recorded "
                               "no DMARC result for %s",
                               id, from);
    if (g_strcmp0(auth->dmarc_domain, auth->from_domain) != 0) {
        other = auth_quote(auth->dmarc_domain != NULL ? auth->dmarc_domain : "no domain");
        return g_strdup_printf("5.7.1 sender policy: a DMARC pass is required, and the DMARC "
                               "result is for %s, not for the From domain %s",
                               other, from);
    }
    if (strcmp(auth->dmarc, "pass") != 0) {
        g_autofree char *result = auth_quote(auth->dmarc);

        return g_strdup_printf("5.7.1 sender policy: a DMARC pass is required, and %s found "
                               "dmarc=%s for %s",
                               id, result, from);
    }
    return NULL;
}

/* auth_from_refusal - see auth.h */
char *
auth_from_refusal(const Config *config, int from_verified, const char *from_address, guint64 user)
{
    g_autofree char *from = NULL;

    if (config->from_check != FROM_CHECK_REQUIRE || from_verified != 0)
        return NULL;
    if (from_address == NULL)
        return g_strdup("5.7.1 from check: the message has no From address; reply from your "
                        "own address");
    from = auth_quote(from_address);
    return g_strdup_printf("5.7.1 from check: %s is not an address of user %" G_GUINT64_FORMAT
                           " of this reply address; reply from your own address",
                           from, user);
}

/* auth_results_free - see auth.h */
void
auth_results_free(AuthResults *auth)
{
    if (auth == NULL)
        return;
    g_free(auth->authserv_id);
    g_free(auth->spf);
    g_free(auth->spf_domain);
    g_free(auth->dkim);
    g_free(auth->dkim_domain);
    g_free(auth->dmarc);
    g_free(auth->dmarc_domain);
    g_free(auth->from_domain);
    g_free(auth->ignored);
    g_free(auth);
}
