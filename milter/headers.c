/*
 * headers.c - the bounded header book of one message (headers.h).
 *
 * Each header costs O(1) work beyond copying what is kept: a few fixed-name
 * comparisons, one hash lookup for an X-Replygate-* name (case-insensitive
 * hash, so no copy is made to look it up) and a short parse of an
 * Authentication-Results value. Memory grows with what is kept (capped), the
 * distinct X-Replygate-* names and the forged Authentication-Results
 * positions; the last two are bounded by the message size Postfix accepts,
 * and are exactly what must be deleted.
 */
#include <string.h>

#include "headers.h"
#include "keyfind.h"

/* How many names the auto-submitted rules read (autosubmit.c). */
#define AUTO_NAMES_MAX 8

/* One distinct X-Replygate-* name and how often it came. */
typedef struct {
    char *name; /* as first seen */
    guint count;
} OursName;

struct HeaderBook {
    char *authserv_id;               /* NULL: delete no Authentication-Results */
    GArray *kept;                    /* HeaderField, owned strings, message order */
    guint kept_lookup;               /* kept headers that count against the caps */
    gsize kept_bytes;                /* their bytes */
    gboolean truncated;              /* a header the key lookup reads was left out */
    char *auto_seen[AUTO_NAMES_MAX]; /* names of the first auto-submitted headers kept */
    guint n_auto_seen;
    char *from;       /* the first From, cut */
    char *message_id; /* the first Message-ID, cut */
    guint64 n_headers;
    guint64 n_bytes;
    GHashTable *ours_index; /* name (any case) -> OursName *, keys borrowed */
    GPtrArray *ours;        /* OursName *, in order of first appearance */
    guint n_ours;           /* X-Replygate-* headers in all */
    guint auth_seen;        /* Authentication-Results headers seen */
    GArray *auth_forged;    /* guint: 1-based positions of those claiming authserv_id */
};

/* casefold_hash - g_str_hash of the ASCII lower-case form, without a copy */
static guint
casefold_hash(gconstpointer key)
{
    guint h = 5381;

    for (const unsigned char *p = key; *p != '\0'; p++)
        h = (h << 5) + h + (guint)g_ascii_tolower(*p);
    return h;
}

/* casefold_equal - equal in ASCII case-insensitive comparison */
static gboolean
casefold_equal(gconstpointer a, gconstpointer b)
{
    return g_ascii_strcasecmp(a, b) == 0;
}

/* ours_name_free - release one OursName */
static void
ours_name_free(gpointer data)
{
    OursName *entry = data;

    g_free(entry->name);
    g_free(entry);
}

/* field_clear - release the strings of one kept HeaderField */
static void
field_clear(gpointer data)
{
    HeaderField *field = data;

    g_free((char *)field->name);
    g_free((char *)field->value);
}

/* headerbook_new - an empty book */
HeaderBook *
headerbook_new(const char *authserv_id)
{
    HeaderBook *book = g_new0(HeaderBook, 1);

    book->authserv_id = authserv_id != NULL && *authserv_id != '\0' ? g_strdup(authserv_id) : NULL;
    book->kept = g_array_new(TRUE, TRUE, sizeof(HeaderField));
    g_array_set_clear_func(book->kept, field_clear);
    book->ours_index = g_hash_table_new(casefold_hash, casefold_equal);
    book->ours = g_ptr_array_new_with_free_func(ours_name_free);
    book->auth_forged = g_array_new(FALSE, FALSE, sizeof(guint));
    return book;
}

/* headerbook_free - release a book (NULL-safe) */
void
headerbook_free(HeaderBook *book)
{
    if (book == NULL)
        return;
    g_free(book->authserv_id);
    g_array_unref(book->kept);
    for (guint i = 0; i < book->n_auto_seen; i++)
        g_free(book->auto_seen[i]);
    g_free(book->from);
    g_free(book->message_id);
    g_hash_table_unref(book->ours_index);
    g_ptr_array_unref(book->ours);
    g_array_unref(book->auth_forged);
    g_free(book);
}

/* headers_is_ours - an X-Replygate-* name? */
gboolean
headers_is_ours(const char *name)
{
    gsize len = strlen(HEADERS_OURS_PREFIX);

    return name != NULL && g_ascii_strncasecmp(name, HEADERS_OURS_PREFIX, len) == 0 &&
           name[len] != '\0';
}

/* skip_cfws - past white space, folding and (nested) comments */
static const char *
skip_cfws(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p != '(')
            return p;
        for (int depth = 0; *p != '\0'; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0) {
                p++;
                break;
            }
        }
    }
}

/* headers_authserv_id - the authserv-id an Authentication-Results value claims */
char *
headers_authserv_id(const char *value)
{
    GString *id = g_string_new(NULL);
    const char *p = skip_cfws(value != NULL ? value : "");

    if (*p == '"') {
        for (p++; *p != '\0' && *p != '"'; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            g_string_append_c(id, *p);
        }
    } else {
        for (; *p != '\0' && strchr(" \t\r\n;(", *p) == NULL; p++)
            g_string_append_c(id, *p);
    }
    if (id->len == 0) {
        g_string_free(id, TRUE);
        return NULL;
    }
    return g_string_free(id, FALSE);
}

/* claims_ours - does an Authentication-Results value claim id? A trailing dot
 * on either side does not matter: such a copy goes too. */
static gboolean
claims_ours(const char *value, const char *id)
{
    g_autofree char *claimed = headers_authserv_id(value);
    gsize a;
    gsize b;

    if (claimed == NULL)
        return FALSE;
    a = strlen(claimed);
    b = strlen(id);
    if (a > 0 && claimed[a - 1] == '.')
        a--;
    if (b > 0 && id[b - 1] == '.')
        b--;
    return a == b && g_ascii_strncasecmp(claimed, id, a) == 0;
}

/* cut - a copy of at most HEADERS_VALUE_MAX bytes, not splitting a UTF-8 sequence */
static char *
cut(const char *value)
{
    gsize n = strlen(value);

    if (n <= HEADERS_VALUE_MAX)
        return g_strdup(value);
    n = HEADERS_VALUE_MAX;
    while (n > 0 && ((unsigned char)value[n] & 0xc0) == 0x80)
        n--;
    return g_strndup(value, n);
}

/* keep - append one header to the kept list */
static void
keep(HeaderBook *book, const char *name, char *value)
{
    HeaderField field = {g_strdup(name), value};

    g_array_append_val(book->kept, field);
}

/* note_ours - count one X-Replygate-* header under its name */
static void
note_ours(HeaderBook *book, const char *name)
{
    OursName *entry = g_hash_table_lookup(book->ours_index, name);

    if (entry == NULL) {
        entry = g_new0(OursName, 1);
        entry->name = g_strdup(name);
        g_ptr_array_add(book->ours, entry);
        g_hash_table_insert(book->ours_index, entry->name, entry);
    }
    entry->count++;
    book->n_ours++;
}

/* note_auto - keep the first header of a name the auto-submitted rules read */
static void
note_auto(HeaderBook *book, const char *name, const char *value)
{
    for (guint i = 0; i < book->n_auto_seen; i++) {
        if (g_ascii_strcasecmp(book->auto_seen[i], name) == 0)
            return; /* only the first one counts (autosubmit.c) */
    }
    if (book->n_auto_seen == AUTO_NAMES_MAX)
        return;
    book->auto_seen[book->n_auto_seen++] = g_strdup(name);
    keep(book, name, cut(value));
}

/* note_lookup - keep a header the key lookup reads, within the caps */
static void
note_lookup(HeaderBook *book, const char *name, const char *value, gsize len)
{
    if (book->kept_lookup >= HEADERS_KEEP_MAX || book->kept_bytes + len > HEADERS_KEEP_BYTES) {
        book->truncated = TRUE;
        return;
    }
    book->kept_lookup++;
    book->kept_bytes += len;
    keep(book, name, g_strdup(value));
}

/* headerbook_add - one header as the MTA sent it */
void
headerbook_add(HeaderBook *book, const char *name, const char *value)
{
    gsize name_len;
    gsize value_len;

    if (name == NULL)
        return;
    if (value == NULL)
        value = "";
    name_len = strlen(name);
    value_len = strlen(value);
    book->n_headers++;
    book->n_bytes += name_len + value_len;
    if (headers_is_ours(name)) {
        note_ours(book, name);
        return; /* never read: only the milter writes them, and it deletes these */
    }
    if (g_ascii_strcasecmp(name, HEADERS_AUTH_RESULTS) == 0) {
        book->auth_seen++;
        if (book->authserv_id != NULL && claims_ours(value, book->authserv_id))
            g_array_append_val(book->auth_forged, book->auth_seen);
        return;
    }
    if (g_ascii_strcasecmp(name, "From") == 0) {
        if (book->from == NULL)
            book->from = cut(value);
        return;
    }
    if (g_ascii_strcasecmp(name, "Message-ID") == 0) {
        if (book->message_id == NULL)
            book->message_id = cut(value);
        return;
    }
    if (autosubmit_reads_header(name))
        note_auto(book, name, value);
    else if (keyfind_reads_header(name))
        note_lookup(book, name, value, name_len + value_len);
}

/* headerbook_fields - the kept headers, in message order */
const HeaderField *
headerbook_fields(HeaderBook *book, gsize *n)
{
    *n = book->kept->len;
    return (const HeaderField *)(void *)book->kept->data;
}

/* headerbook_truncated - was a header the key lookup reads left out? */
gboolean
headerbook_truncated(const HeaderBook *book)
{
    return book->truncated;
}

/* headerbook_first - the first value of From or Message-ID, or NULL */
const char *
headerbook_first(const HeaderBook *book, const char *name)
{
    if (g_ascii_strcasecmp(name, "From") == 0)
        return book->from;
    if (g_ascii_strcasecmp(name, "Message-ID") == 0)
        return book->message_id;
    return NULL;
}

/* headerbook_counts - every header seen, and their bytes */
void
headerbook_counts(const HeaderBook *book, guint64 *n_headers, guint64 *n_bytes)
{
    *n_headers = book->n_headers;
    *n_bytes = book->n_bytes;
}

/* headerbook_deletions - see headers.h */
GArray *
headerbook_deletions(const HeaderBook *book, guint *n_ours, guint *n_auth)
{
    GArray *plan = g_array_sized_new(FALSE, FALSE, sizeof(HeaderDeletion),
                                     book->n_ours + book->auth_forged->len);

    /*
     * From the last occurrence down to the first: Sendmail keeps the
     * numbering after a deletion and Postfix skips deleted headers, and
     * deleting backwards removes the right ones under both rules.
     */
    for (guint i = 0; i < book->ours->len; i++) {
        const OursName *entry = g_ptr_array_index(book->ours, i);

        for (guint index = entry->count; index >= 1; index--) {
            HeaderDeletion deletion = {entry->name, (int)index};
            g_array_append_val(plan, deletion);
        }
    }
    for (guint i = book->auth_forged->len; i > 0; i--) {
        HeaderDeletion deletion = {HEADERS_AUTH_RESULTS,
                                   (int)g_array_index(book->auth_forged, guint, i - 1)};
        g_array_append_val(plan, deletion);
    }
    if (n_ours != NULL)
        *n_ours = book->n_ours;
    if (n_auth != NULL)
        *n_auth = book->auth_forged->len;
    return plan;
}
