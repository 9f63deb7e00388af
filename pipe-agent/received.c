/*
 * received.c - parse the Received header Postfix itself added (received.h).
 *
 * A small cursor over the value: white space (folding included) separates
 * tokens, parenthesised comments are read with their nesting, and every
 * word of the format must be where Postfix writes it. Anything else, or
 * anything longer than RECEIVED_TOKEN_MAX, is RECEIVED_OTHER.
 */
#include <string.h>

#include "received.h"

typedef struct {
    const char *p;
} Cursor;

/* skip_space - past white space, folding included */
static void
skip_space(Cursor *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')
        c->p++;
}

/* word - is the next token exactly w (a following space or end required)? */
static gboolean
word(Cursor *c, const char *w)
{
    gsize n = strlen(w);

    skip_space(c);
    if (strncmp(c->p, w, n) != 0 || (c->p[n] != '\0' && !g_ascii_isspace(c->p[n])))
        return FALSE;
    c->p += n;
    return TRUE;
}

/* token - the next run of characters up to white space or one of stop */
static gboolean
token(Cursor *c, const char *stop, char out[RECEIVED_TOKEN_MAX + 1])
{
    gsize n = 0;

    skip_space(c);
    while (*c->p != '\0' && !g_ascii_isspace(*c->p) && strchr(stop, *c->p) == NULL) {
        if (n >= RECEIVED_TOKEN_MAX)
            return FALSE;
        out[n++] = *c->p++;
    }
    out[n] = '\0';
    return n > 0;
}

/* comment - a balanced "( ... )" at the cursor; its inside in [*start, *end) */
static gboolean
comment(Cursor *c, const char **start, const char **end)
{
    guint depth = 0;

    skip_space(c);
    if (*c->p != '(')
        return FALSE;
    *start = c->p + 1;
    for (; *c->p != '\0'; c->p++) {
        if (*c->p == '(')
            depth++;
        else if (*c->p == ')' && --depth == 0) {
            *end = c->p;
            c->p++;
            return TRUE;
        }
    }
    return FALSE;
}

/* using_clause - "using VERSION with cipher CIPHER (USED/ALG bits)" and
 * whatever Postfix adds after it (key-exchange ...), into info */
static gboolean
using_clause(const char *start, const char *end, ReceivedInfo *info)
{
    g_autofree char *inside = g_strndup(start, (gsize)(end - start));
    Cursor c = {inside};
    char bits[RECEIVED_TOKEN_MAX + 1];
    guint64 used = 0;

    if (!word(&c, "using") || !token(&c, "()", info->version) || !word(&c, "with") ||
        !word(&c, "cipher") || !token(&c, "()", info->cipher))
        return FALSE;
    skip_space(&c);
    if (*c.p != '(')
        return FALSE;
    c.p++;
    if (!token(&c, "/", bits) || !g_ascii_string_to_unsigned(bits, 10, 0, 65536, &used, NULL))
        return FALSE;
    info->bits = (int)used;
    return TRUE;
}

/* by_postfix - "by HOST (Postfix) with PROTO id QUEUEID" (smtpd) or
 * "by HOST (Postfix, from userid UID) id QUEUEID" (pickup) */
static gboolean
by_postfix(Cursor *c, ReceivedInfo *info)
{
    const char *start, *end;
    char uid[RECEIVED_TOKEN_MAX + 1];
    guint64 n;

    if (!word(c, "by") || !token(c, "()", info->by) || !comment(c, &start, &end))
        return FALSE;
    if (end - start == 7 && memcmp(start, "Postfix", 7) == 0) {
        if (info->kind != RECEIVED_SMTPD || !word(c, "with") || !token(c, ";", info->proto))
            return FALSE;
    } else {
        Cursor inner;
        g_autofree char *text = g_strndup(start, (gsize)(end - start));

        inner.p = text;
        if (info->kind != RECEIVED_PICKUP || !word(&inner, "Postfix,") || !word(&inner, "from") ||
            !word(&inner, "userid") || !token(&inner, "", uid) ||
            !g_ascii_string_to_unsigned(uid, 10, 0, G_MAXINT32, &n, NULL))
            return FALSE;
        skip_space(&inner);
        if (*inner.p != '\0')
            return FALSE;
        info->uid = (long)n;
    }
    if (!word(c, "id") || !token(c, ";", info->queue_id))
        return FALSE;
    skip_space(c);
    /* "for <RCPT>" (smtpd), then the date after ';' */
    if (*c->p != ';' && !(info->kind == RECEIVED_SMTPD && word(c, "for")))
        return FALSE;
    return strchr(c->p, ';') != NULL;
}

/* tls_protocol - does smtpd's protocol name say TLS (ESMTPS, ESMTPSA,
 * UTF8SMTPS, UTF8SMTPSA, LMTPS, ...)? */
static gboolean
tls_protocol(const char *proto)
{
    const char *s = strstr(proto, "SMTP");

    if (s == NULL)
        s = strstr(proto, "LMTP");
    if (s == NULL)
        return FALSE;
    s += 4;
    return strcmp(s, "S") == 0 || strcmp(s, "SA") == 0;
}

/* received_parse - see received.h */
gboolean
received_parse(const char *value, ReceivedInfo *info)
{
    Cursor c = {value != NULL ? value : ""};
    char name[RECEIVED_TOKEN_MAX + 1];
    char addr[RECEIVED_TOKEN_MAX + 1];

    memset(info, 0, sizeof *info);
    if (word(&c, "by")) {
        c.p = value;
        info->kind = RECEIVED_PICKUP;
        if (by_postfix(&c, info))
            return TRUE;
        memset(info, 0, sizeof *info);
        return FALSE;
    }
    info->kind = RECEIVED_SMTPD;
    /* from HELO (NAME [ADDR]) */
    if (!word(&c, "from") || !token(&c, "(", name))
        goto other;
    skip_space(&c);
    if (*c.p != '(')
        goto other;
    c.p++;
    if (!token(&c, "[", name))
        goto other;
    skip_space(&c);
    if (*c.p != '[')
        goto other;
    c.p++;
    if (!token(&c, "]", addr) || *c.p != ']')
        goto other;
    c.p++;
    if (*c.p == ':') /* smtpd_client_port_logging */
        while (g_ascii_isdigit(*++c.p))
            ;
    if (*c.p != ')')
        goto other;
    c.p++;
    g_strlcpy(info->client, addr, sizeof info->client);
    /* (using ...), (No client certificate requested), (Authenticated ...) */
    for (;;) {
        const char *start, *end;

        skip_space(&c);
        if (*c.p != '(')
            break;
        if (!comment(&c, &start, &end))
            goto other;
        /* One using clause, Postfix's own first one: a second could only be
         * text a client put into a certificate name. */
        if (end - start > 6 && strncmp(start, "using ", 6) == 0 &&
            (info->version[0] != '\0' || !using_clause(start, end, info)))
            goto other;
    }
    if (!by_postfix(&c, info))
        goto other;
    info->tls = tls_protocol(info->proto);
    if (!info->tls && info->version[0] != '\0')
        goto other; /* a using clause without a TLS protocol: not Postfix's */
    return TRUE;
other:
    memset(info, 0, sizeof *info);
    return FALSE;
}
