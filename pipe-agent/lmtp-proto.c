/*
 * lmtp-proto.c - the LMTP door's protocol text, without any I/O.
 *
 * Follows RFC 2033 (LMTP), RFC 5321 (paths), RFC 1870 (SIZE), RFC 6152
 * (8BITMIME), RFC 6531 (SMTPUTF8), RFC 3461 (DSN: RET, ENVID, NOTIFY,
 * ORCPT in xtext), RFC 6533 (utf-8 ORCPT) and Postfix's XFORWARD_README.
 * Every function here is a pure decision over a string, so that the unit
 * tests can feed it hostile text directly.
 */
#include <string.h>

#include "lmtp-proto.h"

/* Where the DATA reader is within a line. */
enum {
    DATA_LINE_START, /* at the start of a line */
    DATA_IN_LINE,    /* inside a line */
    DATA_CR,         /* a CR inside a line, not yet known to end it */
    DATA_DOT,        /* a line that starts with a dot */
    DATA_DOT_CR,     /* a line that is a dot and a CR so far */
};

static const struct {
    const char *name;
    LmtpVerb verb;
} verbs[] = {
    {"LHLO", LMTP_CMD_LHLO}, {"HELO", LMTP_CMD_HELO},         {"EHLO", LMTP_CMD_HELO},
    {"MAIL", LMTP_CMD_MAIL}, {"RCPT", LMTP_CMD_RCPT},         {"DATA", LMTP_CMD_DATA},
    {"RSET", LMTP_CMD_RSET}, {"NOOP", LMTP_CMD_NOOP},         {"QUIT", LMTP_CMD_QUIT},
    {"VRFY", LMTP_CMD_VRFY}, {"XFORWARD", LMTP_CMD_XFORWARD},
};

/* lmtp_parse_verb - see lmtp-proto.h */
LmtpVerb
lmtp_parse_verb(const char *line, const char **arg)
{
    gsize n = strcspn(line, " \t");
    const char *rest = line + n;

    while (*rest == ' ' || *rest == '\t')
        rest++;
    *arg = rest;
    for (guint i = 0; i < G_N_ELEMENTS(verbs); i++) {
        if (strlen(verbs[i].name) != n || g_ascii_strncasecmp(line, verbs[i].name, n) != 0)
            continue;
        if (verbs[i].verb == LMTP_CMD_MAIL || verbs[i].verb == LMTP_CMD_RCPT) {
            const char *word = verbs[i].verb == LMTP_CMD_MAIL ? "FROM:" : "TO:";

            if (g_ascii_strncasecmp(rest, word, strlen(word)) != 0)
                return LMTP_CMD_UNKNOWN;
            rest += strlen(word);
            while (*rest == ' ') /* some clients write "MAIL FROM: <a>" */
                rest++;
            *arg = rest;
        }
        return verbs[i].verb;
    }
    return LMTP_CMD_UNKNOWN;
}

/* lmtp_xtext_decode - see lmtp-proto.h */
char *
lmtp_xtext_decode(const char *text)
{
    GString *out = g_string_new(NULL);

    for (const char *p = text; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '+') {
            int hi = g_ascii_xdigit_value(p[1]);
            int lo = hi >= 0 ? g_ascii_xdigit_value(p[2]) : -1;

            /* RFC 3461 asks for upper-case hex; accept either, refuse NUL. */
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                g_string_free(out, TRUE);
                return NULL;
            }
            g_string_append_c(out, (char)(hi * 16 + lo));
            p += 2;
        } else if (c < 0x21 || c == '=' || c == 0x7f) {
            g_string_free(out, TRUE);
            return NULL;
        } else {
            g_string_append_c(out, (char)c);
        }
    }
    return g_string_free(out, FALSE);
}

/* lmtp_unitext_decode - see lmtp-proto.h */
char *
lmtp_unitext_decode(const char *text)
{
    g_autofree char *xtext = lmtp_xtext_decode(text);
    GString *out;

    if (xtext == NULL)
        return NULL;
    out = g_string_new(NULL);
    for (const char *p = xtext; *p != '\0'; p++) {
        if (p[0] == '\\' && p[1] == 'x' && p[2] == '{') {
            const char *close = strchr(p + 3, '}');
            gsize digits = close != NULL ? (gsize)(close - p - 3) : 0;
            guint64 cp = 0;

            if (digits < 1 || digits > 6) {
                g_string_free(out, TRUE);
                return NULL;
            }
            for (gsize i = 0; i < digits; i++) {
                int v = g_ascii_xdigit_value(p[3 + i]);
                if (v < 0) {
                    g_string_free(out, TRUE);
                    return NULL;
                }
                cp = cp * 16 + (guint64)v;
            }
            if (cp == 0 || !g_unichar_validate((gunichar)cp)) {
                g_string_free(out, TRUE);
                return NULL;
            }
            g_string_append_unichar(out, (gunichar)cp);
            p = close;
        } else {
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}

/* lmtp_take_address - the address between < and >, quoted parts respected;
 * *end points after '>'; NULL when there is no well-formed path */
static char *
lmtp_take_address(const char *arg, const char **end)
{
    const char *p = arg;
    const char *start;
    gboolean quoted = FALSE;

    if (*p != '<')
        return NULL;
    start = ++p;
    for (; *p != '\0'; p++) {
        if (quoted && *p == '\\' && p[1] != '\0') {
            p++;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == '>')
            break;
        else if (!quoted && (*p == '<' || *p == ' ' || *p == '\t'))
            return NULL;
    }
    if (*p != '>')
        return NULL;
    *end = p + 1;
    /* A source route ("@a,@b:user@host") is ignored, as RFC 5321 says. */
    if (*start == '@') {
        const char *colon = memchr(start, ':', (gsize)(p - start));
        if (colon == NULL)
            return NULL;
        start = colon + 1;
    }
    return g_strndup(start, (gsize)(p - start));
}

/* lmtp_parse_orcpt - ORCPT=type;xtext into path; FALSE when malformed */
static gboolean
lmtp_parse_orcpt(const char *value, LmtpPath *path)
{
    const char *semi = strchr(value, ';');
    g_autofree char *type = NULL;
    char *decoded;

    if (semi == NULL || semi == value)
        return FALSE;
    type = g_ascii_strdown(value, semi - value);
    if (strcmp(type, "utf-8") == 0)
        decoded = lmtp_unitext_decode(semi + 1);
    else
        decoded = lmtp_xtext_decode(semi + 1);
    if (decoded == NULL)
        return FALSE;
    g_free(path->orcpt);
    g_free(path->orcpt_type);
    path->orcpt = decoded;
    path->orcpt_type = g_steal_pointer(&type);
    return TRUE;
}

/* lmtp_parse_param - one ESMTP parameter; FALSE with *reply when refused */
static gboolean
lmtp_parse_param(const char *param, gboolean is_rcpt, LmtpPath *path, const char **reply)
{
    const char *eq = strchr(param, '=');
    gsize klen = eq != NULL ? (gsize)(eq - param) : strlen(param);
    const char *value = eq != NULL ? eq + 1 : NULL;

#define IS(name) (klen == strlen(name) && g_ascii_strncasecmp(param, name, klen) == 0)
    if (!is_rcpt && IS("SIZE") && value != NULL) {
        char *end = NULL;
        guint64 n = g_ascii_strtoull(value, &end, 10);

        if (*value == '\0' || end == NULL || *end != '\0' || !g_ascii_isdigit(*value))
            goto syntax;
        path->size = n;
        return TRUE;
    }
    if (!is_rcpt && IS("BODY") && value != NULL) {
        if (g_ascii_strcasecmp(value, "7BIT") == 0 || g_ascii_strcasecmp(value, "8BITMIME") == 0)
            return TRUE;
        goto syntax;
    }
    if (!is_rcpt && IS("SMTPUTF8") && value == NULL) {
        path->smtputf8 = TRUE;
        return TRUE;
    }
    if (!is_rcpt && IS("RET") && value != NULL) {
        if (g_ascii_strcasecmp(value, "FULL") == 0 || g_ascii_strcasecmp(value, "HDRS") == 0)
            return TRUE;
        goto syntax;
    }
    if (!is_rcpt && IS("ENVID") && value != NULL) {
        g_autofree char *envid = lmtp_xtext_decode(value);
        if (envid == NULL)
            goto syntax;
        return TRUE;
    }
    if (is_rcpt && IS("NOTIFY") && value != NULL) {
        g_auto(GStrv) words = g_strsplit(value, ",", -1);
        gboolean never = FALSE;
        guint n = 0;

        for (; words[n] != NULL; n++) {
            if (g_ascii_strcasecmp(words[n], "NEVER") == 0)
                never = TRUE;
            else if (g_ascii_strcasecmp(words[n], "SUCCESS") != 0 &&
                     g_ascii_strcasecmp(words[n], "FAILURE") != 0 &&
                     g_ascii_strcasecmp(words[n], "DELAY") != 0)
                goto syntax;
        }
        if (n == 0 || (never && n > 1))
            goto syntax;
        return TRUE;
    }
    if (is_rcpt && IS("ORCPT") && value != NULL) {
        if (!lmtp_parse_orcpt(value, path))
            goto syntax;
        return TRUE;
    }
#undef IS
    *reply = "555 5.5.4 Unsupported option";
    return FALSE;
syntax:
    *reply = "501 5.5.4 Bad parameter value";
    return FALSE;
}

/* lmtp_parse_path - see lmtp-proto.h */
gboolean
lmtp_parse_path(const char *arg, gboolean is_rcpt, LmtpPath *path, const char **reply)
{
    const char *end = NULL;
    g_auto(GStrv) params = NULL;

    memset(path, 0, sizeof *path);
    path->address = lmtp_take_address(arg, &end);
    if (path->address == NULL) {
        *reply = is_rcpt ? "501 5.1.3 Bad recipient address syntax"
                         : "501 5.1.7 Bad sender address syntax";
        return FALSE;
    }
    if (is_rcpt && path->address[0] == '\0') {
        *reply = "501 5.1.3 Bad recipient address syntax";
        lmtp_path_clear(path);
        return FALSE;
    }
    if (*end != '\0' && *end != ' ') {
        *reply = "501 5.5.4 Bad command syntax";
        lmtp_path_clear(path);
        return FALSE;
    }
    params = g_strsplit(end, " ", -1);
    for (guint i = 0; params[i] != NULL; i++) {
        if (params[i][0] == '\0')
            continue;
        if (!lmtp_parse_param(params[i], is_rcpt, path, reply)) {
            lmtp_path_clear(path);
            return FALSE;
        }
    }
    return TRUE;
}

/* lmtp_path_clear - see lmtp-proto.h */
void
lmtp_path_clear(LmtpPath *path)
{
    g_clear_pointer(&path->address, g_free);
    g_clear_pointer(&path->orcpt, g_free);
    g_clear_pointer(&path->orcpt_type, g_free);
}

/* lmtp_xforward_parse - see lmtp-proto.h */
gboolean
lmtp_xforward_parse(const char *arg, LmtpXforward *xf, const char **reply)
{
    static const char *const names[] = {"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"};
    char **fields[] = {&xf->name, &xf->addr,  &xf->port,  &xf->proto,
                       &xf->helo, &xf->ident, &xf->source};
    g_auto(GStrv) items = g_strsplit(arg, " ", -1);
    guint n = 0;

    for (guint i = 0; items[i] != NULL; i++) {
        const char *item = items[i];
        const char *eq = strchr(item, '=');
        char **field = NULL;
        char *value;

        if (*item == '\0')
            continue;
        for (guint k = 0; eq != NULL && k < G_N_ELEMENTS(names); k++)
            if (strlen(names[k]) == (gsize)(eq - item) &&
                g_ascii_strncasecmp(item, names[k], (gsize)(eq - item)) == 0)
                field = fields[k];
        if (field == NULL) {
            *reply = "501 5.5.4 Bad XFORWARD attribute name";
            return FALSE;
        }
        value = lmtp_xtext_decode(eq + 1);
        if (value == NULL || *value == '\0') {
            g_free(value);
            *reply = "501 5.5.4 Bad XFORWARD attribute value";
            return FALSE;
        }
        g_free(*field);
        if (strcmp(value, "[UNAVAILABLE]") == 0 || strcmp(value, "[TEMPUNAVAIL]") == 0) {
            g_free(value);
            value = NULL;
        } else if (field == &xf->addr && g_ascii_strncasecmp(value, "IPV6:", 5) == 0) {
            char *plain = g_strdup(value + 5);
            g_free(value);
            value = plain;
        }
        *field = value;
        n++;
    }
    if (n == 0) {
        *reply = "501 5.5.4 Syntax: XFORWARD attribute=value...";
        return FALSE;
    }
    return TRUE;
}

/* lmtp_xforward_clear - see lmtp-proto.h */
void
lmtp_xforward_clear(LmtpXforward *xf)
{
    g_clear_pointer(&xf->name, g_free);
    g_clear_pointer(&xf->addr, g_free);
    g_clear_pointer(&xf->port, g_free);
    g_clear_pointer(&xf->proto, g_free);
    g_clear_pointer(&xf->helo, g_free);
    g_clear_pointer(&xf->ident, g_free);
    g_clear_pointer(&xf->source, g_free);
}

/* lmtp_data_init - see lmtp-proto.h */
void
lmtp_data_init(LmtpDataReader *reader, guint64 limit)
{
    memset(reader, 0, sizeof *reader);
    reader->out = g_byte_array_sized_new(8192);
    reader->limit = limit;
    reader->state = DATA_LINE_START;
}

/* lmtp_data_put - keep one byte of the message, or count it past the limit */
static inline void
lmtp_data_put(LmtpDataReader *reader, guint8 c)
{
    reader->total++;
    if (reader->total > reader->limit) {
        reader->over = TRUE;
        return;
    }
    g_byte_array_append(reader->out, &c, 1);
}

/* lmtp_data_put_run - keep n bytes that hold no CR or LF, as n calls of
 * lmtp_data_put() would, with one append */
static inline void
lmtp_data_put_run(LmtpDataReader *reader, const guint8 *p, gsize n)
{
    guint64 room = reader->total < reader->limit ? reader->limit - reader->total : 0;

    reader->total += n;
    if (reader->total > reader->limit)
        reader->over = TRUE;
    if (room > 0)
        g_byte_array_append(reader->out, p, (guint)MIN((guint64)n, room));
}

/* lmtp_data_feed - see lmtp-proto.h. A line ends at LF, CRLF made LF; a
 * bare CR inside a line is kept. The end is a line that is only a dot,
 * ended by CRLF or a bare LF; a leading dot of any other line is removed. */
gsize
lmtp_data_feed(LmtpDataReader *reader, const char *buf, gsize len, gboolean *done)
{
    *done = FALSE;
    for (gsize i = 0; i < len; i++) {
        guint8 c = (guint8)buf[i];

        switch (reader->state) {
        case DATA_LINE_START:
            if (c == '.') {
                reader->state = DATA_DOT;
                continue;
            }
            break;
        case DATA_DOT:
            if (c == '\r') {
                reader->state = DATA_DOT_CR;
                continue;
            }
            if (c == '\n') {
                *done = TRUE;
                return i + 1;
            }
            break; /* a stuffed dot: the rest of the line as it is */
        case DATA_DOT_CR:
            if (c == '\n') {
                *done = TRUE;
                return i + 1;
            }
            lmtp_data_put(reader, '\r');
            break;
        case DATA_CR:
            if (c == '\n') {
                lmtp_data_put(reader, '\n');
                reader->state = DATA_LINE_START;
                continue;
            }
            lmtp_data_put(reader, '\r');
            break;
        default:
            break;
        }
        /* Inside a line: the bytes up to the next CR or LF go in at once. */
        if (c == '\r') {
            reader->state = DATA_CR;
        } else if (c == '\n') {
            lmtp_data_put(reader, '\n');
            reader->state = DATA_LINE_START;
        } else {
            gsize run = 1;

            while (i + run < len && buf[i + run] != '\r' && buf[i + run] != '\n')
                run++;
            lmtp_data_put_run(reader, (const guint8 *)buf + i, run);
            reader->state = DATA_IN_LINE;
            i += run - 1;
        }
    }
    return len;
}

/* lmtp_data_clear - see lmtp-proto.h */
void
lmtp_data_clear(LmtpDataReader *reader)
{
    g_clear_pointer(&reader->out, g_byte_array_unref);
}

/* lmtp_reply_text - see lmtp-proto.h */
char *
lmtp_reply_text(int code, const char *enhanced, const char *text)
{
    g_autofree char *ascii = g_str_to_ascii(text != NULL ? text : "", "C");
    GString *out = g_string_new(NULL);

    g_string_append_printf(out, "%03d %s ", code, enhanced);
    for (const char *p = ascii; *p != '\0' && out->len < 510; p++)
        g_string_append_c(out, g_ascii_isprint(*p) ? *p : '?');
    while (out->len > 0 && out->str[out->len - 1] == ' ')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}
