/*
 * autosubmit.c - the auto-submitted rules of SPEC section 4.
 *
 * Pure: a header list and an envelope sender in, a reason in words out. The
 * milter calls it at end of headers and the agent on the parsed message, so
 * both refuse exactly the same mail. The reason may be sent in an SMTP reply,
 * so the header value it quotes is reduced to a short, safe token.
 */
#include <string.h>

#include "autosubmit.h"

#define TOKEN_MAX 64

/* Every header name the rules below read; autosubmit_reads_header() answers
 * from it, so keep it in step with autosubmit_reason(). */
static const char *const autosubmit_names[] = {
    "Auto-Submitted",        "X-Autoreply", "X-Autorespond",
    "X-FC-Machinegenerated", "Precedence",  "X-Precedence",
};

/* autosubmit_reads_header - see autosubmit.h */
gboolean
autosubmit_reads_header(const char *name)
{
    if (name == NULL)
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(autosubmit_names); i++) {
        if (g_ascii_strcasecmp(name, autosubmit_names[i]) == 0)
            return TRUE;
    }
    return FALSE;
}

/* header_token - the value before any ';' or comment, unfolded and trimmed */
static char *
header_token(const char *value)
{
    GString *out = g_string_new(NULL);

    for (const char *p = value ? value : ""; *p && *p != ';' && *p != '('; p++) {
        char c = *p;
        if (c == '\r' || c == '\n' || c == '\t')
            c = ' ';
        g_string_append_c(out, c);
    }
    return g_strstrip(g_string_free(out, FALSE));
}

/* safe_token - a copy fit for an SMTP reply and a log line */
static char *
safe_token(const char *token)
{
    GString *out = g_string_new(NULL);

    for (const char *p = token; *p && out->len < TOKEN_MAX; p++) {
        if (g_ascii_isalnum(*p) || strchr("._-+ ", *p) != NULL)
            g_string_append_c(out, *p);
        else
            g_string_append_c(out, '?');
    }
    return g_string_free(out, FALSE);
}

/* find_token - the token of the first header named name, or NULL */
static char *
find_token(const HeaderField *headers, gsize n, const char *name)
{
    for (gsize i = 0; i < n; i++) {
        if (headers[i].name != NULL && g_ascii_strcasecmp(headers[i].name, name) == 0)
            return header_token(headers[i].value);
    }
    return NULL;
}

/* sender_reason - a reason when the envelope sender is null or a daemon */
static char *
sender_reason(const char *sender)
{
    g_autofree char *bare = NULL;
    const char *start = sender;
    gsize len;
    const char *at;
    g_autofree char *local = NULL;

    if (sender == NULL)
        return NULL;
    while (g_ascii_isspace(*start))
        start++;
    len = strlen(start);
    while (len > 0 && g_ascii_isspace(start[len - 1]))
        len--;
    if (len >= 2 && start[0] == '<' && start[len - 1] == '>') {
        start++;
        len -= 2;
    }
    bare = g_strndup(start, len);
    if (*bare == '\0')
        return g_strdup("null envelope sender (a bounce or DSN)");
    at = strrchr(bare, '@');
    local = g_strndup(bare, at ? (gsize)(at - bare) : strlen(bare));
    if (g_ascii_strcasecmp(local, "mailer-daemon") == 0 ||
        g_ascii_strcasecmp(local, "postmaster") == 0) {
        g_autofree char *safe = safe_token(local);
        return g_strdup_printf("envelope sender is %s", safe);
    }
    return NULL;
}

/* autosubmit_reason - the reason in words, or NULL for a person's message */
char *
autosubmit_reason(const HeaderField *headers, gsize n_headers, const char *envelope_sender)
{
    static const char *const precedence_names[] = {"Precedence", "X-Precedence"};
    static const char *const precedence_bad[] = {"bulk", "junk", "list", "auto_reply"};
    char *token;

    token = find_token(headers, n_headers, "Auto-Submitted");
    if (token != NULL) {
        if (g_ascii_strcasecmp(token, "no") != 0) {
            g_autofree char *safe = safe_token(token);
            g_free(token);
            return g_strdup_printf("Auto-Submitted: %s", *safe ? safe : "(empty)");
        }
        g_free(token);
    }
    token = find_token(headers, n_headers, "X-Autoreply");
    if (token != NULL) {
        gboolean yes = g_ascii_strcasecmp(token, "yes") == 0;
        g_free(token);
        if (yes)
            return g_strdup("X-Autoreply: yes");
    }
    token = find_token(headers, n_headers, "X-Autorespond");
    if (token != NULL) {
        g_autofree char *safe = safe_token(token);
        g_free(token);
        return g_strdup_printf("X-Autorespond: %s", *safe ? safe : "(empty)");
    }
    token = find_token(headers, n_headers, "X-FC-Machinegenerated");
    if (token != NULL) {
        gboolean yes = g_ascii_strcasecmp(token, "true") == 0;
        g_free(token);
        if (yes)
            return g_strdup("X-FC-Machinegenerated: true");
    }
    for (guint i = 0; i < G_N_ELEMENTS(precedence_names); i++) {
        token = find_token(headers, n_headers, precedence_names[i]);
        if (token == NULL)
            continue;
        for (guint j = 0; j < G_N_ELEMENTS(precedence_bad); j++) {
            if (g_ascii_strcasecmp(token, precedence_bad[j]) == 0) {
                g_free(token);
                return g_strdup_printf("%s: %s", precedence_names[i], precedence_bad[j]);
            }
        }
        g_free(token);
    }
    return sender_reason(envelope_sender);
}
