/*
 * countfile.c - durable counters of short-lived programs (see countfile.h).
 *
 * The update is the maildir habit applied to one small file: lock, read,
 * write a temporary file, rename over the old one. The lock is a separate
 * NAME.lock, because a rename replaces the inode a lock on NAME would hold.
 * Nothing here may delay or fail a delivery: every error is returned and
 * the caller carries on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "countfile.h"
#include "rg-error.h"

#define COUNTFILE_MAX 65536 /* a counts file is a few lines; more is not ours */

/* countfile_parse - "key count" lines into a table */
static void
countfile_parse(GHashTable *counts, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(g_strstrip(lines[i]), " ", 2);
        guint64 n;

        if (f[0] == NULL || f[1] == NULL || *f[0] == '\0' ||
            !g_ascii_string_to_unsigned(g_strstrip(f[1]), 10, 0, G_MAXUINT64, &n, NULL))
            continue;
        g_hash_table_insert(counts, g_strdup(f[0]), g_memdup2(&n, sizeof n));
    }
}

/* countfile_read - the counters of a file */
GHashTable *
countfile_read(const char *path, GError **error)
{
    GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char buf[COUNTFILE_MAX + 1];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0) {
        if (errno == ENOENT)
            return counts;
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot read %s: %s", path,
                    g_strerror(errno));
        g_hash_table_unref(counts);
        return NULL;
    }
    n = read(fd, buf, COUNTFILE_MAX);
    close(fd);
    if (n < 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot read %s: %s", path,
                    g_strerror(errno));
        g_hash_table_unref(counts);
        return NULL;
    }
    buf[n] = '\0';
    countfile_parse(counts, buf);
    return counts;
}

/* countfile_get - one counter */
guint64
countfile_get(GHashTable *counts, const char *key)
{
    guint64 *n = counts ? g_hash_table_lookup(counts, key) : NULL;

    return n ? *n : 0;
}

/* countfile_compare - keys in order, so the file reads the same each time */
static gint
countfile_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* countfile_add - add one under the lock, replace the file by rename */
gboolean
countfile_add(const char *spool_directory, const char *name, const char *key, GError **error)
{
    g_autofree char *dir = g_build_filename(spool_directory, "metrics", NULL);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *lock = g_strconcat(path, ".lock", NULL);
    g_autofree char *tmp = g_strdup_printf("%s.%ld.tmp", path, (long)getpid());
    g_autoptr(GHashTable) counts = NULL;
    g_autoptr(GString) text = g_string_new(NULL);
    g_autofree gpointer *keys = NULL;
    guint64 n;
    guint len;
    int lfd, fd;
    gboolean ok = FALSE;

    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot make %s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot lock %s: %s", lock,
                    g_strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return FALSE;
    }
    counts = countfile_read(path, error);
    if (counts == NULL)
        goto out;
    n = countfile_get(counts, key) + 1;
    g_hash_table_insert(counts, g_strdup(key), g_memdup2(&n, sizeof n));
    keys = g_hash_table_get_keys_as_array(counts, &len);
    qsort(keys, len, sizeof *keys, countfile_compare);
    for (guint i = 0; i < len; i++)
        g_string_append_printf(text, "%s %" G_GUINT64_FORMAT "\n", (char *)keys[i],
                               countfile_get(counts, keys[i]));
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || fchmod(fd, 0644) != 0 || write(fd, text->str, text->len) != (ssize_t)text->len) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot write %s: %s", tmp,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        g_set_error(error, RG_ERROR, RG_ERROR_TEMPFAIL, "cannot rename %s: %s", tmp,
                    g_strerror(errno));
        unlink(tmp);
        goto out;
    }
    ok = TRUE;
out:
    close(lfd); /* releases the lock */
    return ok;
}

/* The reasons, first match wins; the DSN texts come from the delivery
 * core, the database wrapper and the configuration loader. */
static const struct {
    const char *code; /* enhanced status code prefix, or NULL */
    const char *word; /* a word of the text (case-insensitive), or NULL */
    const char *reason;
} deferral_reasons[] = {
    {"4.3.5", NULL, "configuration"},
    {NULL, "too many clients", "database_busy"},
    {NULL, "too many connections", "database_busy"},
    {NULL, "lock", "database_busy"},
    {NULL, "serializ", "database_busy"},
    {NULL, "deadlock", "database_busy"},
    {NULL, "statement timeout", "database_busy"},
    {NULL, "database", "database"},
    {NULL, "postgres", "database"},
    {NULL, "connection", "database"},
    {NULL, "memory", "memory"},
    {NULL, "spool", "spool"},
    {NULL, "no space", "spool"},
    {NULL, "disk", "spool"},
};

/* countfile_deferral_reason - the reason label of a deferral's DSN text */
const char *
countfile_deferral_reason(const char *status)
{
    g_autofree char *lower = g_ascii_strdown(status ? status : "", -1);

    for (gsize i = 0; i < G_N_ELEMENTS(deferral_reasons); i++) {
        if (deferral_reasons[i].code && g_str_has_prefix(lower, deferral_reasons[i].code))
            return deferral_reasons[i].reason;
        if (deferral_reasons[i].word && strstr(lower, deferral_reasons[i].word))
            return deferral_reasons[i].reason;
    }
    return "other";
}

/* countfile_defer - count one deferral; failures are ignored */
void
countfile_defer(const char *spool_directory, const char *status)
{
    if (spool_directory != NULL)
        (void)countfile_add(spool_directory, "deferrals", countfile_deferral_reason(status), NULL);
}
