/*
 * purge-spool.c - the spool part of `replygate purge`.
 *
 * Each file in success/ and failure/ is judged on its own: by its age
 * (mtime: when the agent wrote it), its Message-ID and its key, read from
 * its header block as the agent reads them (rawmail.c, keyfind.c, the
 * envelope recipient from pipe(8)'s X-Original-To or Delivered-To). So a
 * spool that a purge finds half-moved (a file without a row, a row without
 * a file) is no obstacle: rows and files go by the same rule, each where it
 * is. A file that cannot be read is counted as an error and left alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfind.h"
#include "purge.h"
#include "rawmail.h"

/* Enough of a file to hold any sane header block. */
#define PURGE_HEAD_MAX (256 * 1024)

/* purge_parse_key - "KIND-TARGET-USER" */
gboolean
purge_parse_key(const char *text, ReplyKey *key)
{
    g_auto(GStrv) parts = g_strsplit(text, "-", -1);
    guint64 target, user;

    if (g_strv_length(parts) != 3 || strlen(parts[0]) < 1 || strlen(parts[0]) > ADDRESS_KIND_MAX ||
        !g_ascii_string_to_unsigned(parts[1], 10, 0, G_MAXUINT64, &target, NULL) ||
        !g_ascii_string_to_unsigned(parts[2], 10, 0, G_MAXUINT64, &user, NULL))
        return FALSE;
    for (const char *p = parts[0]; *p; p++) {
        if (!g_ascii_islower(*p))
            return FALSE;
    }
    g_strlcpy(key->kind, parts[0], sizeof key->kind);
    key->target = target;
    key->user = user;
    return TRUE;
}

/* purge_head - the first PURGE_HEAD_MAX bytes of a regular file in dir,
 * opened without following a link; NULL when it is none or cannot be read */
static GBytes *
purge_head(int dir, const char *name)
{
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    g_autofree char *buf = NULL;
    struct stat st;
    gsize got = 0;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    buf = g_malloc(PURGE_HEAD_MAX);
    while (got < PURGE_HEAD_MAX) {
        ssize_t n = read(fd, buf + got, PURGE_HEAD_MAX - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (gsize)n;
    }
    close(fd);
    return g_bytes_new_take(g_steal_pointer(&buf), got);
}

/* purge_file_key - the key the agent finds in a spooled file */
static gboolean
purge_file_key(const PurgeSpec *spec, GBytes *head, ReplyKey *key)
{
    gsize len = 0;
    const char *raw = g_bytes_get_data(head, &len);
    GArray *headers = rawmail_headers(raw, len, PURGE_HEAD_MAX);
    g_autofree char *to = rawmail_header(raw, len, "X-Original-To");
    g_autofree char *recipient = NULL;
    const char *source = NULL;
    gboolean found;

    if (to == NULL)
        to = rawmail_header(raw, len, "Delivered-To");
    recipient = to ? address_strip(to) : NULL;
    found = keyfind_lookup(spec->config, spec->ring, recipient,
                           (const HeaderField *)(void *)headers->data, headers->len, key, &source);
    rawmail_headers_free(headers);
    return found;
}

/* purge_file_matches - does the selection name this file? */
static gboolean
purge_file_matches(const PurgeSpec *spec, int dir, const char *name, const struct stat *st,
                   guint64 keep, gboolean *unreadable)
{
    gint64 age = g_get_real_time() / G_USEC_PER_SEC - (gint64)st->st_mtime;
    g_autoptr(GBytes) head = NULL;

    *unreadable = FALSE;
    if (spec->expired)
        return keep == 0 || age >= (gint64)keep;
    if (spec->have_age && age < (gint64)spec->older_than)
        return FALSE;
    if (spec->message_id == NULL && !spec->have_user && !spec->have_key)
        return TRUE;
    head = purge_head(dir, name);
    if (head == NULL) {
        *unreadable = TRUE;
        return FALSE;
    }
    if (spec->message_id != NULL) {
        g_autofree char *mid =
            rawmail_message_id(g_bytes_get_data(head, NULL), g_bytes_get_size(head));
        if (g_strcmp0(mid, spec->message_id) != 0)
            return FALSE;
    }
    if (spec->have_user || spec->have_key) {
        ReplyKey key;

        if (!purge_file_key(spec, head, &key))
            return FALSE;
        if (spec->have_user && key.user != spec->user)
            return FALSE;
        if (spec->have_key && (strcmp(key.kind, spec->key.kind) != 0 ||
                               key.target != spec->key.target || key.user != spec->key.user))
            return FALSE;
    }
    return TRUE;
}

/* purge_remove - unlink name in dir (the link itself if it is one) */
static gboolean
purge_remove(const PurgeSpec *spec, int dir, const char *folder, const char *name,
             PurgeCounts *counts)
{
    if (spec->dry_run) {
        printf("would remove %s/%s\n", folder, name);
        return TRUE;
    }
    if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
        return TRUE;
    fprintf(stderr, "replygate: purge: cannot remove %s/%s: %s\n", folder, name, g_strerror(errno));
    counts->errors++;
    return FALSE;
}

/* purge_folder - one of success/ and failure/ */
static void
purge_folder(const PurgeSpec *spec, const char *folder, guint64 keep, guint64 *removed,
             PurgeCounts *counts)
{
    g_autofree char *path = g_build_filename(spec->config->spool_directory, folder, NULL);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int dir;
    DIR *d;
    struct dirent *e;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

    if (fd < 0) {
        if (errno != ENOENT) {
            fprintf(stderr, "replygate: purge: cannot open %s: %s\n", path, g_strerror(errno));
            counts->errors++;
        }
        return;
    }
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        counts->errors++;
        return;
    }
    dir = dirfd(d);
    /* The names first: removing while reading a folder may skip entries. */
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            g_ptr_array_add(names, g_strdup(e->d_name));
    }
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *reason = NULL;
        gboolean unreadable;
        struct stat st;

        if (g_str_has_suffix(name, ".reason"))
            continue;
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue; /* gone meanwhile, or not ours to judge */
        if (!purge_file_matches(spec, dir, name, &st, keep, &unreadable)) {
            if (unreadable) {
                fprintf(stderr, "replygate: purge: cannot read %s/%s\n", folder, name);
                counts->errors++;
            }
            continue;
        }
        if (!purge_remove(spec, dir, folder, name, counts))
            continue;
        (*removed)++;
        reason = g_strconcat(name, ".reason", NULL);
        if (fstatat(dir, reason, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            purge_remove(spec, dir, folder, reason, counts))
            counts->reason_files++;
    }
    /* A .reason file whose message is gone goes by age: it names no key. */
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *message = NULL;
        gboolean unreadable;
        struct stat st;

        if (!g_str_has_suffix(name, ".reason") || spec->message_id != NULL || spec->have_user ||
            spec->have_key)
            continue;
        message = g_strndup(name, strlen(name) - strlen(".reason"));
        if (fstatat(dir, message, &st, AT_SYMLINK_NOFOLLOW) == 0)
            continue; /* its message is there: it stays (or went, or would go, with it) */
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (purge_file_matches(spec, dir, name, &st, keep, &unreadable) &&
            purge_remove(spec, dir, folder, name, counts))
            counts->reason_files++;
    }
    closedir(d);
}

/* purge_spool - see purge.h */
void
purge_spool(const PurgeSpec *spec, PurgeCounts *counts)
{
    const Config *config = spec->config;

    purge_folder(spec, "success", spec->expired ? config->spool_keep_success : 0,
                 &counts->success_files, counts);
    /* spool_keep_failure = 0 keeps failure/ until a replay or a purge by hand. */
    if (!spec->expired || config->spool_keep_failure > 0)
        purge_folder(spec, "failure", spec->expired ? config->spool_keep_failure : 0,
                     &counts->failure_files, counts);
}
