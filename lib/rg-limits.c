/*
 * rg-limits.c - the bounds on the work one message may cause (see rg-limits.h).
 *
 * Pure counting over header values, so the agent, the LMTP service and the
 * milter share one definition, and the process limits of the pipe agent.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "rg-limits.h"
#include "rg-error.h"

#if defined(__SANITIZE_ADDRESS__)
#define LIMITS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIMITS_ASAN 1
#endif
#endif

/* limits_name_is - is name (len bytes) word, in any case? */
static gboolean
limits_name_is(const char *name, gsize len, const char *word)
{
    return strlen(word) == len && g_ascii_strncasecmp(name, word, len) == 0;
}

/* limits_name_ends - does name (len bytes) end with suffix, in any case? */
static gboolean
limits_name_ends(const char *name, gsize len, const char *suffix)
{
    gsize n = strlen(suffix);

    return len > n && g_ascii_strncasecmp(name + len - n, suffix, n) == 0;
}

/* limits_field_kind - see rg-limits.h */
LimitFieldKind
limits_field_kind(const char *name, gsize len)
{
    static const char *const addresses[] = {"from", "to", "cc", "bcc", "sender"};
    static const char *const suffixes[] = {"-from", "-to", "-cc", "-bcc", "-sender"};

    /* In-Reply-To ends like an address field: ids first. */
    if (limits_name_is(name, len, "message-id") || limits_name_is(name, len, "in-reply-to") ||
        limits_name_is(name, len, "references") || limits_name_ends(name, len, "-message-id"))
        return LIMIT_FIELD_IDS;
    if (limits_name_is(name, len, "content-type") ||
        limits_name_is(name, len, "content-disposition"))
        return LIMIT_FIELD_PARAMETERS;
    for (gsize i = 0; i < G_N_ELEMENTS(addresses); i++)
        if (limits_name_is(name, len, addresses[i]) || limits_name_ends(name, len, suffixes[i]))
            return LIMIT_FIELD_ADDRESSES;
    return LIMIT_FIELD_OTHER;
}

/* limits_address_char - one character of an address list: quoted strings,
 * comments, <...> and [...] hide ':' from the group count; ',' ends an
 * unclosed <, as a parser recovering from it does */
static void
limits_address_char(LimitValueScan *s, char c)
{
    if (s->escape) {
        s->escape = 0;
        return;
    }
    if (s->quote) {
        if (c == '\\')
            s->escape = 1;
        else if (c == '"')
            s->quote = 0;
        return;
    }
    if (s->comment > 0) {
        if (c == '\\')
            s->escape = 1;
        else if (c == '(')
            s->comment++;
        else if (c == ')')
            s->comment--;
        return;
    }
    if (s->literal) {
        if (c == '\\')
            s->escape = 1;
        else if (c == ']')
            s->literal = 0;
        return;
    }
    switch (c) {
    case '"':
        s->quote = 1;
        break;
    case '(':
        s->comment = 1;
        break;
    case '[':
        s->literal = 1;
        break;
    case '<':
        s->angle = 1;
        break;
    case '>':
    case ',':
        s->angle = 0;
        break;
    case ':':
        if (!s->angle)
            s->groups++;
        break;
    default:
        break;
    }
}

/* limits_value_scan - see rg-limits.h */
void
limits_value_scan(LimitValueScan *scan, LimitFieldKind kind, const char *value, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        char c = value[i];

        switch (kind) {
        case LIMIT_FIELD_ADDRESSES:
            if (c == ',' || c == ';' || c == ':' || c == '@' || c == '<')
                scan->items++;
            limits_address_char(scan, c);
            break;
        case LIMIT_FIELD_PARAMETERS:
            if (c == ';' || c == '=')
                scan->items++;
            break;
        case LIMIT_FIELD_IDS:
            if (c == '<' || c == '@')
                scan->items++;
            break;
        case LIMIT_FIELD_OTHER:
            return;
        }
    }
}

/* limits_address_groups - see rg-limits.h */
guint64
limits_address_groups(const char *value, gsize len)
{
    LimitValueScan scan = {0};

    limits_value_scan(&scan, LIMIT_FIELD_ADDRESSES, value, len);
    return scan.groups;
}

/* limits_set - lower one limit to value (soft) and hard, never above the
 * hard limit already in place (only root could raise it) */
static gboolean
limits_set(int resource, const char *name, rlim_t soft, rlim_t hard, GError **error)
{
    struct rlimit now;
    struct rlimit want;

    if (getrlimit(resource, &now) < 0) {
        int saved = errno;
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot read %s: %s", name,
                    g_strerror(saved));
        return FALSE;
    }
    want.rlim_max = now.rlim_max != RLIM_INFINITY && now.rlim_max < hard ? now.rlim_max : hard;
    want.rlim_cur = MIN(soft, want.rlim_max);
    if (setrlimit(resource, &want) < 0) {
        int saved = errno;
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot set %s: %s", name,
                    g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

/* limits_apply_process - see rg-limits.h */
gboolean
limits_apply_process(guint64 memory, guint64 cpu, gboolean *skipped, GError **error)
{
    *skipped = FALSE;
    if (memory > 0) {
#ifdef LIMITS_ASAN
        *skipped = TRUE;
#else
        if (!limits_set(RLIMIT_AS, "RLIMIT_AS", (rlim_t)memory, (rlim_t)memory, error))
            return FALSE;
#endif
    }
    if (cpu > 0) {
        struct rlimit now;
        rlim_t soft = (rlim_t)cpu;

        /* Under a lower hard limit already in place, the soft one stays
         * LIMIT_CPU_GRACE seconds below it, so SIGXCPU still comes first. */
        if (getrlimit(RLIMIT_CPU, &now) == 0 && now.rlim_max != RLIM_INFINITY &&
            now.rlim_max < soft + LIMIT_CPU_GRACE)
            soft = now.rlim_max > LIMIT_CPU_GRACE ? now.rlim_max - LIMIT_CPU_GRACE : 1;
        if (!limits_set(RLIMIT_CPU, "RLIMIT_CPU", soft, soft + LIMIT_CPU_GRACE, error))
            return FALSE;
    }
    return TRUE;
}
